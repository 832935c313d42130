/*
 * The emulated kernel's time syscalls: clock_gettime, clock_getres,
 * gettimeofday and time answered as Linux answers them from its own
 * timekeeper, here the emulated one, at its own counter now. They read the
 * timekeeper's internal state (never the data pages, which clock mode NONE
 * or an unstable pvclock leave stale for the vDSO while the kernel's
 * timekeeping goes on) through a seqcount-protected snapshot, lock-free, so
 * a SIGSYS handler may call them while image code on its thread runs. They
 * work on kernel-side buffers and return 0 or -errno; copying out to a
 * user pointer (and its -EFAULT) is the caller's part. Clocks the emulated
 * kernel does not own (the CPU-time clocks, other negative ids) are the
 * host's: the result is then TK_SYS_HOST and nothing is written.
 *
 * Aux clock ids (16..23): an enabled one is served; a disabled one is
 * -EINVAL for both calls, as this 6.18 host answers (no
 * CONFIG_POSIX_AUX_CLOCKS). A kernel built with aux clocks would answer
 * -ENODEV (gettime) and {0, 1 ns} (getres) instead; the shipped waivers
 * and their verdict tests name the -EINVAL answer.
 */
#ifndef VDSOKIT_TK_SYSCALL_H
#define VDSOKIT_TK_SYSCALL_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>
#include <vdsokit/timekeeper.h>

/* Not the emulated kernel's clock: ask the host's syscall. */
#define TK_SYS_HOST 1

/* What an answer was computed from, for evidence. */
struct tk_sys_trace {
    uint64_t generation; /* the newest committed state when the snapshot was taken */
    uint64_t counter;    /* the timekeeper's counter read for it */
};

/*
 * clock_gettime: REALTIME, MONOTONIC, MONOTONIC_RAW, BOOTTIME, TAI, the
 * coarse clocks and enabled aux clocks from the timekeeper; the alarm
 * clocks as REALTIME and BOOTTIME when the host kernel accepts them (it
 * has an RTC), else its errno; -EINVAL for ids Linux rejects and for aux
 * clocks that are not enabled. trace may be NULL.
 */
int tk_sys_clock_gettime(struct timekeeper *tk, clockid_t clk, struct timespec *ts,
                         struct tk_sys_trace *trace);
/* clock_getres: hrtimer_res (HRES, RAW, alarm), TICK_NSEC (coarse), 1 ns
 * (enabled aux clocks); the same errors as clock_gettime. */
int tk_sys_clock_getres(struct timekeeper *tk, clockid_t clk, struct timespec *res,
                        struct tk_sys_trace *trace);
/* gettimeofday: REALTIME in us and the kernel's timezone; never fails. */
int tk_sys_gettimeofday(struct timekeeper *tk, struct timeval *tv, struct timezone *tz,
                        struct tk_sys_trace *trace);
/* time: REALTIME's seconds (the kernel's xtime_sec). */
int64_t tk_sys_time(struct timekeeper *tk, struct tk_sys_trace *trace);

#endif /* VDSOKIT_TK_SYSCALL_H */
