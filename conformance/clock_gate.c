/*
 * The clock-syscall gate (clock_gate.h): the one syscall instruction the
 * filter lets through, the filter that compares a clock syscall's
 * instruction pointer with it, and the SIGSYS handler that counts through
 * the user's hook and re-issues the trapped call from that instruction.
 */
#define _GNU_SOURCE
#include "clock_gate.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* The label after the instruction: seccomp_data's instruction pointer is the
 * address following the syscall instruction. */
extern const char clock_gate_syscall_ret[];
__asm__(".text\n"
        ".globl clock_gate_syscall\n"
        ".type clock_gate_syscall, @function\n"
        "clock_gate_syscall:\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  mov %rcx, %rdx\n"
        "  mov %r8, %r10\n"
        "  mov %r9, %r8\n"
        "  syscall\n"
        ".globl clock_gate_syscall_ret\n"
        "clock_gate_syscall_ret:\n"
        "  ret\n"
        ".size clock_gate_syscall, .-clock_gate_syscall\n");

static clock_gate_hook *gate_hook;

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
    (void)sig;
    greg_t *g = ((ucontext_t *)uc_)->uc_mcontext.gregs;

    if (gate_hook)
        gate_hook(si, g);
    g[REG_RAX] = clock_gate_syscall(si->si_syscall, g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10],
                                    g[REG_R8]);
}

int clock_gate_install(clock_gate_hook *hook, bool gate_getrandom)
{
    /* A number no syscall has where getrandom is not gated. */
    const unsigned rng_nr = gate_getrandom ? SYS_getrandom : ~0u;
    const uint64_t ip = (uint64_t)(uintptr_t)clock_gate_syscall_ret;
    const unsigned lo = (unsigned)ip, hi = (unsigned)(ip >> 32);
    const unsigned ip_at = offsetof(struct seccomp_data, instruction_pointer);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 6, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_time, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_getres, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getcpu, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, rng_nr, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* A clock syscall: through only from the gate's instruction. BPF
         * loads 32 bits at a time, so the 64-bit address in two halves. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip_at),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ip_at + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    };
    struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    /* A signal whose handler calls the vDSO must not trap inside this one. */
    sigfillset(&sa.sa_mask);
    gate_hook = hook;
    if (sigaction(SIGSYS, &sa, NULL) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        return -errno;
    return 0;
}
