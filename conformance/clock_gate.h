/*
 * The suite's seccomp gate for the five clock syscalls (and, on request,
 * getrandom), shared by group 6 (group_syscall_free.c), the getrandom
 * group and the destructive tier (destr_trap.c): a filter traps every
 * such syscall (clock_gettime, gettimeofday, time, clock_getres, getcpu)
 * unless its instruction pointer is the gate's own
 * syscall instruction (clock_gate_syscall below), and lets every other
 * syscall through. The SIGSYS handler hands each trap to the user's hook and
 * then performs the call itself through that instruction, so the trapped
 * caller still gets the kernel's answer. Gating by instruction pointer, not
 * by a tag in an argument register, matters: a vDSO's fallback passes on
 * whatever its caller left in the registers it does not use, a tag of the
 * suite's last call included, while no code but the gate's own executes the
 * gate's instruction.
 */
#ifndef VDSOCONF_CLOCK_GATE_H
#define VDSOCONF_CLOCK_GATE_H

#include <signal.h>
#include <stdbool.h>
#include <ucontext.h>

/* Called in the SIGSYS handler for each trap, before the call is re-issued;
 * `g` are the trapped thread's registers (async-signal-safe code only). */
typedef void clock_gate_hook(const siginfo_t *si, const greg_t *g);

/* Install the handler (with `hook`) and the filter for this process, for
 * good: 0 or -errno. gate_getrandom: getrandom is gated like the clock
 * syscalls (the getrandom group). */
int clock_gate_install(clock_gate_hook *hook, bool gate_getrandom);

/* The raw syscall nr(a..e) from the gate's own instruction, which the filter
 * lets through: the result or -errno, errno untouched. */
long clock_gate_syscall(long nr, long a, long b, long c, long d, long e);

#endif /* VDSOCONF_CLOCK_GATE_H */
