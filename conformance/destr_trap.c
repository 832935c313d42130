/*
 * Seccomp accounting for the destructive tier (destr_trap.h): the clock
 * gate (clock_gate.h) traps every clock syscall but the suite's own, and
 * its hook here counts each trap on the trapping thread; the suite's own
 * calls go through the gate's syscall instruction.
 */
#define _GNU_SOURCE
#include "destr_trap.h"

#include "clock_gate.h"

#include <stdint.h>
#include <sys/syscall.h>

#include <vdsokit/timespec.h>

static _Thread_local unsigned thread_traps;

static void count_trap(const siginfo_t *si, const greg_t *g)
{
    (void)si;
    (void)g;
    thread_traps++;
}

int destr_trap_install(void)
{
    return clock_gate_install(count_trap, false);
}

unsigned destr_trap_count(void)
{
    return thread_traps;
}

int dt_clock_gettime(clockid_t clk, struct timespec *ts)
{
    return (int)clock_gate_syscall(SYS_clock_gettime, clk, (long)ts, 0, 0, 0);
}

int dt_gettimeofday(struct timeval *tv, struct timezone *tz)
{
    return (int)clock_gate_syscall(SYS_gettimeofday, (long)tv, (long)tz, 0, 0, 0);
}

int dt_clock_getres(clockid_t clk, struct timespec *res)
{
    return (int)clock_gate_syscall(SYS_clock_getres, clk, (long)res, 0, 0, 0);
}

int64_t dt_mono_ns(void)
{
    struct timespec ts;

    dt_clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_ns(&ts);
}
