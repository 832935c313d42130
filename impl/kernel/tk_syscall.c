/*
 * The emulated kernel's syscalls (tk_syscall.h). Values are the kernel's
 * timekeeping_get_ns() arithmetic on the snapshot: the counter delta since
 * cycle_last (a counter behind it is no motion, as clocksource_delta
 * decides), times mult plus the shifted base, shifted, carried into the
 * seconds; MONOTONIC adds wall_to_monotonic, BOOTTIME the boot offset,
 * TAI the TAI offset, the coarse clocks are the last tick's xtime. The
 * product is exact (128 bits): the kernel takes its 128-bit path exactly
 * where a 64-bit one would overflow.
 */
#define _GNU_SOURCE
#include "tk_internal.h"
#include <errno.h>
#include <vdsokit/tk_syscall.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef unsigned __int128 u128;

#define CLOCK_ID_AUX_FIRST 16 /* CLOCK_AUX (6.17+) */
#define CLOCK_ID_AUX_LAST  23

/* The snapshot and the counter read after it, in the clocksource's domain. */
static void now(struct timekeeper *tk, struct tk_sys_state *s, uint64_t *counter,
                struct tk_sys_trace *trace)
{
    tk_sys_load(tk, s);
    uint64_t tsc = counter_rdtsc();
    enum tk_counter_kind kind = (enum tk_counter_kind)s->kind;

    if (kind == TK_COUNTER_PVCLOCK_MANUAL || kind == TK_COUNTER_PVCLOCK_HOST)
        *counter = counter_pvclock_scale(&s->pv, tsc) & COUNTER_MASK;
    else if (kind == TK_COUNTER_HVCLOCK_MANUAL || kind == TK_COUNTER_HVCLOCK_HOST)
        *counter = counter_hvclock_scale(&s->hv, tsc) & COUNTER_MASK;
    else
        *counter = tsc & COUNTER_MASK;
    if (trace) {
        trace->generation = s->generation;
        trace->counter = *counter;
    }
}

static uint64_t delta(const struct tk_sys_state *s, uint64_t counter)
{
    uint64_t d = (counter - s->cycle_last) & s->mask;

    return (d & ~(s->mask >> 1)) ? 0 : d;
}

/* sec + (base + d * mult) >> shift, normalised. */
static struct timespec advance(uint64_t sec, uint64_t base, uint64_t d, uint64_t mult,
                               uint64_t shift)
{
    u128 ns = ((u128)d * mult + base) >> (shift & 127);
    struct timespec ts;

    ts.tv_sec = (time_t)(sec + (uint64_t)(ns / NSEC_PER_SEC));
    ts.tv_nsec = (long)(ns % NSEC_PER_SEC);
    return ts;
}

static struct timespec add(struct timespec a, int64_t sec, int64_t nsec)
{
    return ts_normalise((int64_t)a.tv_sec + sec, (int64_t)a.tv_nsec + nsec);
}

static struct timespec realtime(const struct tk_sys_state *s, uint64_t c)
{
    return advance(s->xtime_sec, s->xtime_nsec, delta(s, c), s->mult, s->shift);
}

static struct timespec monotonic(const struct tk_sys_state *s, uint64_t c)
{
    return add(realtime(s, c), s->wtm_sec, s->wtm_nsec);
}

static struct timespec boottime(const struct tk_sys_state *s, uint64_t c)
{
    return add(monotonic(s, c), s->boot_sec, s->boot_nsec);
}

/* The alarm clocks exist only with an RTC: the host kernel decides. */
static int host_accepts(clockid_t clk)
{
    return syscall(SYS_clock_getres, clk, NULL) == 0 ? 0 : -errno;
}

/* The value of an emulated clock, or -errno / TK_SYS_HOST. */
static int clock_value(const struct tk_sys_state *s, uint64_t c, clockid_t clk, struct timespec *ts)
{
    if (clk < 0 || clk == CLOCK_PROCESS_CPUTIME_ID || clk == CLOCK_THREAD_CPUTIME_ID)
        return TK_SYS_HOST;
    switch (clk) {
    case CLOCK_REALTIME:
        *ts = realtime(s, c);
        return 0;
    case CLOCK_MONOTONIC:
        *ts = monotonic(s, c);
        return 0;
    case CLOCK_MONOTONIC_RAW:
        *ts = advance(s->raw_sec, s->raw_nsec, delta(s, c), s->raw_mult, s->shift);
        return 0;
    case CLOCK_REALTIME_COARSE:
        *ts = (struct timespec){(time_t)s->xtime_sec, (long)s->coarse_nsec};
        return 0;
    case CLOCK_MONOTONIC_COARSE:
        *ts = add((struct timespec){(time_t)s->xtime_sec, (long)s->coarse_nsec}, s->wtm_sec,
                  s->wtm_nsec);
        return 0;
    case CLOCK_BOOTTIME:
        *ts = boottime(s, c);
        return 0;
    case CLOCK_TAI:
        *ts = add(realtime(s, c), s->tai_offset, 0);
        return 0;
    }
    if (clk >= CLOCK_ID_AUX_FIRST && clk <= CLOCK_ID_AUX_LAST) {
        unsigned i = (unsigned)(clk - CLOCK_ID_AUX_FIRST);
        /* A disabled aux clock is an unknown id, as on a 6.18 kernel
         * without CONFIG_POSIX_AUX_CLOCKS (the shipped waivers' -EINVAL). */
        if (!s->aux_enabled[i])
            return -EINVAL;
        *ts = advance(s->aux_sec[i], s->aux_nsec[i], delta(s, c), s->aux_mult[i], s->shift);
        return 0;
    }
    return -EINVAL;
}

int tk_sys_clock_gettime(struct timekeeper *tk, clockid_t clk, struct timespec *ts,
                         struct tk_sys_trace *trace)
{
    struct tk_sys_state s;
    uint64_t c;

    if (clk == CLOCK_REALTIME_ALARM || clk == CLOCK_BOOTTIME_ALARM) {
        int err = host_accepts(clk);
        if (err)
            return err;
        clk = clk == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
    }
    now(tk, &s, &c, trace);
    return clock_value(&s, c, clk, ts);
}

int tk_sys_clock_getres(struct timekeeper *tk, clockid_t clk, struct timespec *res,
                        struct tk_sys_trace *trace)
{
    struct tk_sys_state s;
    uint64_t c;
    struct timespec ignored;

    if (clk == CLOCK_REALTIME_ALARM || clk == CLOCK_BOOTTIME_ALARM) {
        int err = host_accepts(clk);
        if (err)
            return err;
    }
    now(tk, &s, &c, trace);
    int r = clk == CLOCK_REALTIME_ALARM || clk == CLOCK_BOOTTIME_ALARM
                ? 0
                : clock_value(&s, c, clk, &ignored);
    if (r)
        return r;
    long ns = (long)s.hrtimer_res;
    if (clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE)
        ns = (long)s.low_res_nsec;
    else if (clk >= CLOCK_ID_AUX_FIRST && clk <= CLOCK_ID_AUX_LAST)
        ns = 1;
    *res = (struct timespec){0, ns};
    return 0;
}

int tk_sys_gettimeofday(struct timekeeper *tk, struct timeval *tv, struct timezone *tz,
                        struct tk_sys_trace *trace)
{
    struct tk_sys_state s;
    uint64_t c;

    now(tk, &s, &c, trace);
    struct timespec ts = realtime(&s, c);
    if (tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = (suseconds_t)(ts.tv_nsec / NSEC_PER_USEC);
    }
    if (tz) {
        tz->tz_minuteswest = (int)s.tz_minuteswest;
        tz->tz_dsttime = (int)s.tz_dsttime;
    }
    return 0;
}

int64_t tk_sys_time(struct timekeeper *tk, struct tk_sys_trace *trace)
{
    struct tk_sys_state s;
    uint64_t c;

    now(tk, &s, &c, trace);
    return (int64_t)s.xtime_sec;
}
