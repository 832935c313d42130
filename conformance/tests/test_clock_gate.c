/*
 * The clock gate (clock_gate.h) traps a clock syscall by where it comes
 * from, not by what its registers hold. Group 6's former filter let a clock
 * syscall through when its sixth argument (r9) was the suite's tag, so a
 * fallback that inherited the tag in r9 escaped the count. Here, with that
 * very tag in r9: a raw syscall from an instruction of this test's own, and
 * the live vDSO's clock_gettime on a path that always falls back (a CPU-time
 * clock), must each trap exactly once and still answer; the gate's own call
 * must not trap. The hook records r9 at each trap, which shows that the
 * old filter would have let the first (and, where the vDSO leaves r9 alone,
 * the second) through uncounted.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>

#include "check.h"
#include "clock_gate.h"
#include "target.h"

/* The tag group 6 used to put in r9 of its own syscalls ("vdosconf"). */
#define OLD_TAG 0x76646f73636f6e66ull

static _Atomic unsigned traps;
static _Atomic unsigned long long trap_r9;

static void record(const siginfo_t *si, const greg_t *g)
{
    (void)si;
    atomic_store(&trap_r9, (unsigned long long)g[REG_R9]);
    atomic_fetch_add(&traps, 1);
}

/* nr(a, b) from an instruction of its own, with `r9` as the sixth argument. */
long foreign_syscall(long nr, long a, long b, unsigned long long r9);
__asm__(".text\n"
        ".globl foreign_syscall\n"
        ".type foreign_syscall, @function\n"
        "foreign_syscall:\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  mov %rcx, %r9\n"
        "  xor %r10d, %r10d\n"
        "  xor %r8d, %r8d\n"
        "  syscall\n"
        "  ret\n"
        ".size foreign_syscall, .-foreign_syscall\n");

/* fn(clk, ts) entered with `r9` already in r9, as a caller that just made a
 * tagged syscall would leave it (a tail jump: fn returns to our caller). */
int call_with_r9(int (*fn)(clockid_t, struct timespec *), clockid_t clk, struct timespec *ts,
                 unsigned long long r9);
__asm__(".text\n"
        ".globl call_with_r9\n"
        ".type call_with_r9, @function\n"
        "call_with_r9:\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  mov %rcx, %r9\n"
        "  jmp *%rax\n"
        ".size call_with_r9, .-call_with_r9\n");

static bool ts_sane(const struct timespec *ts)
{
    return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

static void test_own_call_passes(void)
{
    struct timespec ts = {-1, -1};
    unsigned t0 = atomic_load(&traps);
    long r = clock_gate_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0, 0, 0);
    unsigned n = atomic_load(&traps) - t0;

    CHECK(r == 0 && ts_sane(&ts), "the gate's own call answered %ld", r);
    CHECK(n == 0, "the gate's own call trapped %u times", n);
}

static void test_foreign_syscall_traps(void)
{
    struct timespec ts = {-1, -1};
    unsigned t0 = atomic_load(&traps);
    long r = foreign_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, OLD_TAG);
    unsigned n = atomic_load(&traps) - t0;
    unsigned long long r9 = atomic_load(&trap_r9);

    CHECK(n == 1, "a foreign syscall with the old tag in r9: %u traps", n);
    CHECK(r9 == OLD_TAG, "r9 at the trap %#llx: the tag did not reach the kernel", r9);
    CHECK(r == 0 && ts_sane(&ts), "the trapped call answered %ld {%lld, %ld}", r,
          (long long)ts.tv_sec, ts.tv_nsec);
}

static void test_vdso_fallback_traps(const struct conf_target *live)
{
    static const unsigned long long r9s[] = {OLD_TAG, 0, ~0ull};

    for (unsigned i = 0; i < sizeof(r9s) / sizeof(r9s[0]); i++) {
        struct timespec ts = {-1, -1};
        unsigned t0 = atomic_load(&traps);
        int r = call_with_r9(live->fn.clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts, r9s[i]);
        unsigned n = atomic_load(&traps) - t0;

        CHECK(n == 1, "r9=%#llx: %u traps for one fallback", r9s[i], n);
        CHECK(r == 0 && ts_sane(&ts), "r9=%#llx: the fallback answered %d", r9s[i], r);
        if (r9s[i] == OLD_TAG)
            printf("vDSO fallback: r9 at the syscall %#llx (%s)\n", atomic_load(&trap_r9),
                   atomic_load(&trap_r9) == OLD_TAG ? "the tag: the old filter let it through"
                                                    : "not the tag");
    }
}

int main(void)
{
    struct conf_target live;
    char err[256] = "";

    memset(&live, 0, sizeof(live));
    if (!getauxval(AT_SYSINFO_EHDR))
        SKIP("no vDSO in this process");
    if (conf_target_open_live(&live, err, sizeof(err)) != 0 || !live.fn.clock_gettime)
        SKIP("the live vDSO has no clock_gettime: %s", err);
    int r = clock_gate_install(record, false);
    CHECK(r == 0, "install: %s", strerror(-r));
    if (r != 0)
        return check_finish();
    test_own_call_passes();
    test_foreign_syscall_traps();
    test_vdso_fallback_traps(&live);
    return check_finish();
}
