/*
 * Seccomp accounting for the destructive tier (destr_trap.h). The filter
 * lets every other syscall through, and a clock syscall only when it comes
 * from the suite's own syscall instruction (the stub below): a tag in an
 * argument register would not do, as a vDSO's fallback passes on whatever
 * its caller left in the registers it does not use, the tag of the suite's
 * last call included. The handler re-issues a trapped call through the stub.
 */
#define _GNU_SOURCE
#include "destr_trap.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include <vdsokit/timespec.h>

/* The raw syscall nr(a..e): the result or -errno, errno untouched. */
long destr_syscall(long nr, long a, long b, long c, long d, long e);
extern const char destr_syscall_ret[];
__asm__(".text\n"
        ".globl destr_syscall\n"
        ".type destr_syscall, @function\n"
        "destr_syscall:\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  mov %rcx, %rdx\n"
        "  mov %r8, %r10\n"
        "  mov %r9, %r8\n"
        "  syscall\n"
        ".globl destr_syscall_ret\n"
        "destr_syscall_ret:\n"
        "  ret\n"
        ".size destr_syscall, .-destr_syscall\n");

static _Thread_local unsigned thread_traps;

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
    (void)sig;
    greg_t *g = ((ucontext_t *)uc_)->uc_mcontext.gregs;

    thread_traps++;
    g[REG_RAX] =
        destr_syscall(si->si_syscall, g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8]);
}

int destr_trap_install(void)
{
    /* seccomp_data's instruction pointer is the address after the syscall. */
    const uint64_t ip = (uint64_t)(uintptr_t)destr_syscall_ret;
    const unsigned lo = (unsigned)ip, hi = (unsigned)(ip >> 32);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_time, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_getres, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getcpu, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    };
    struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSYS, &sa, NULL) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        return -errno;
    return 0;
}

unsigned destr_trap_count(void)
{
    return thread_traps;
}

int dt_clock_gettime(clockid_t clk, struct timespec *ts)
{
    return (int)destr_syscall(SYS_clock_gettime, clk, (long)ts, 0, 0, 0);
}

int dt_gettimeofday(struct timeval *tv, struct timezone *tz)
{
    return (int)destr_syscall(SYS_gettimeofday, (long)tv, (long)tz, 0, 0, 0);
}

int dt_clock_getres(clockid_t clk, struct timespec *res)
{
    return (int)destr_syscall(SYS_clock_getres, clk, (long)res, 0, 0, 0);
}

int64_t dt_mono_ns(void)
{
    struct timespec ts;

    dt_clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_ns(&ts);
}
