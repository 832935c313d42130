/*
 * The destructive tier's syscall accounting: a seccomp filter traps the five
 * clock syscalls unless they come from the suite's own syscall instruction
 * (the clock gate, clock_gate.h); each trap is counted on the calling thread
 * and the gate performs the call itself, so the caller still gets the
 * kernel's answer. The suite's own oracle calls here never trap: every trap a
 * reader counts across one target call is that call falling back to the
 * syscall. Group 6 uses the same gate (group_syscall_free.c); this one differs
 * in counting per thread, as the tier's readers run on every CPU at once.
 */
#ifndef VDSOCONF_DESTR_TRAP_H
#define VDSOCONF_DESTR_TRAP_H

#include <stdint.h>
#include <time.h>
#include <sys/time.h>

/* Install the filter and the handler for this process; 0 or -errno. */
int destr_trap_install(void);

/* Traps taken by the calling thread since it started. */
unsigned destr_trap_count(void);

/* The kernel's answers, past the filter (0 or -errno, as oracle.h). */
int dt_clock_gettime(clockid_t clk, struct timespec *ts);
int dt_gettimeofday(struct timeval *tv, struct timezone *tz);
int dt_clock_getres(clockid_t clk, struct timespec *res);
int64_t dt_mono_ns(void);

#endif /* VDSOCONF_DESTR_TRAP_H */
