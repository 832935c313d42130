/*
 * Start a timekeeper on the host's counter: calibrate the TSC against the
 * host's raw and NTP-steered clocks, then either follow the host (every base
 * - REALTIME, MONOTONIC, BOOTTIME, MONOTONIC_RAW - its value at one TSC
 * reading, each host reading moved to that instant with the calibrated
 * rate; TAI offset, hrtimer resolution, tick length and tz the host's too)
 * or start seeded: the same real counter and rates, every constant from
 * tk_constants (tk_seeded.c) and unlike the host's, the host's values read
 * only to make sure of that. The tick length is the host's in both; the
 * loader sets the image's own.
 */
#define _GNU_SOURCE
#include "tk_internal.h"
#include <errno.h>
#include <sys/time.h>
#include <sys/timex.h>

struct host_bases {
    struct timespec realtime, monotonic, boottime, raw;
};

static int sample_at(clockid_t clk, uint64_t tsc_at, double ns_per_cycle, struct timespec *ts)
{
    uint64_t tsc;
    int64_t ns;
    int err = host_sample(clk, &tsc, &ns);

    if (!err)
        *ts = ts_from_ns(host_value_at(ns, tsc, tsc_at, ns_per_cycle));
    return err;
}

static int host_bases_at(const struct tsc_rate *rate, uint64_t tsc_at, struct host_bases *b)
{
    int err = sample_at(CLOCK_REALTIME, tsc_at, rate->mono_ns_per_cycle, &b->realtime);

    if (!err)
        err = sample_at(CLOCK_MONOTONIC, tsc_at, rate->mono_ns_per_cycle, &b->monotonic);
    if (!err)
        err = sample_at(CLOCK_BOOTTIME, tsc_at, rate->mono_ns_per_cycle, &b->boottime);
    if (!err)
        err = sample_at(CLOCK_MONOTONIC_RAW, tsc_at, rate->raw_ns_per_cycle, &b->raw);
    return err;
}

/* The host's settings, into c's host_* fields. */
static void read_host_settings(struct tk_constants *c)
{
    struct timespec res;

    if (clock_getres(CLOCK_MONOTONIC, &res) == 0)
        c->host_hrtimer_res = (uint32_t)res.tv_nsec;
    struct timex tx = {0};
    if (adjtimex(&tx) >= 0)
        c->host_tai_offset = tx.tai;
    struct timeval tv;
    struct timezone tz;
    if (gettimeofday(&tv, &tz) == 0) {
        c->host_tz_minuteswest = tz.tz_minuteswest;
        c->host_tz_dsttime = tz.tz_dsttime;
    }
}

static void host_tick(struct timekeeper *tk)
{
    struct timespec res;

    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0)
        tk->st.low_res_nsec = (uint32_t)res.tv_nsec;
}

static void host_settings(struct timekeeper *tk)
{
    struct tk_constants host = {0};

    read_host_settings(&host);
    host_tick(tk);
    if (host.host_hrtimer_res)
        tk->st.hrtimer_res = host.host_hrtimer_res;
    tk->st.tai_offset = host.host_tai_offset;
    tk->st.shadow.tz_minuteswest = host.host_tz_minuteswest;
    tk->st.shadow.tz_dsttime = host.host_tz_dsttime;
}

/* Manual domains started later from a host timekeeper count nanoseconds. */
static int host_manual_clocksource(struct timekeeper *tk)
{
    double mono_per_raw = tk->rate.mono_ns_per_cycle / tk->rate.raw_ns_per_cycle;

    return clocksource_from_rates(&tk->st.manual_cs, TK_COUNTER_PVCLOCK_MANUAL, 1.0, mono_per_raw);
}

/* The calibration, the clocksource manual domains will use, and a
 * provisional TSC clocksource so that the real domain can be programmed. */
static int host_rates(struct timekeeper *tk, unsigned calib_ms)
{
    int err = tk_ensure_rate(tk, calib_ms);

    if (!err)
        err = host_manual_clocksource(tk);
    if (!err)
        err = clocksource_from_rates(&tk->st.cs, TK_COUNTER_TSC, tk->rate.raw_ns_per_cycle,
                                     tk->rate.mono_ns_per_cycle);
    return err;
}

/* Program the chosen domain and move the shifted values to its shift. */
static int host_domain(struct timekeeper *tk, enum tk_counter_kind kind, uint64_t tsc)
{
    uint32_t provisional_shift = tk->st.cs.shift;
    int err = tk_program_domain(tk, kind, tsc, 0);

    if (err)
        return err;
    tk_change_shift(tk, provisional_shift);
    tk->st.cycle_last = tk_domain_counter(tk, kind, tsc);
    tk->st.clock_mode = tk_mode_for(kind);
    return 0;
}

static int host_start_locked(struct timekeeper *tk, enum tk_counter_kind kind, unsigned calib_ms)
{
    int err = host_rates(tk, calib_ms);
    uint64_t tsc = counter_rdtsc();
    struct host_bases b;

    if (!err)
        err = host_bases_at(&tk->rate, tsc, &b);
    if (!err) {
        tk_set_bases(tk, b.realtime, b.monotonic, ts_sub(b.boottime, b.monotonic), b.raw);
        err = host_domain(tk, kind, tsc);
    }
    if (err)
        return err;
    host_settings(tk);
    tk_apply_slew(tk);
    tk_publish_start(tk);
    return 0;
}

/* Shifted values from the constants' fraction (in 2^-32 ns), never 0 for a shift above 0. */
static uint64_t fraction_bits(uint32_t frac, uint32_t shift)
{
    return shift ? ((uint64_t)frac >> (32 - shift)) | 1 : 0;
}

/* The constants, moved off the host's values b (and its settings). */
static void seeded_constants(struct timekeeper *tk, const struct host_bases *b,
                             const struct tk_constants *c)
{
    struct tk_constants *k = &tk->constants;

    *k = *c;
    k->host_realtime = b->realtime;
    k->host_monotonic = b->monotonic;
    k->host_boot_offset = ts_sub(b->boottime, b->monotonic);
    read_host_settings(k);
    tk_constants_unlike_host(k);
}

/* After the domain is programmed (its shift final): the constants' settings. */
static void seeded_settings(struct timekeeper *tk)
{
    const struct tk_constants *k = &tk->constants;
    uint32_t shift = tk->st.cs.shift;

    /* The bases' fractions: a rounding of the shifted sum shows in every clock. */
    tk->st.xtime_nsec += fraction_bits(k->frac, shift);
    tk->st.coarse_nsec = tk->st.xtime_nsec >> shift;
    tk->st.raw_nsec += fraction_bits(k->frac * 0x9e3779b9u, shift);
    tk->st.tai_offset = k->tai_offset;
    tk->st.shadow.tz_minuteswest = k->tz_minuteswest;
    tk->st.shadow.tz_dsttime = k->tz_dsttime;
    tk->st.hrtimer_res = DEFAULT_HRTIMER_RES_NS;
    host_tick(tk);
    tk->seeded = true;
}

/* The host's counter, rates and tick; every other value from c. */
static int seeded_start_locked(struct timekeeper *tk, enum tk_counter_kind kind, unsigned calib_ms,
                               const struct tk_constants *c)
{
    int err = host_rates(tk, calib_ms);
    uint64_t tsc = counter_rdtsc();
    struct host_bases b;

    if (!err)
        err = host_bases_at(&tk->rate, tsc, &b);
    if (err)
        return err;
    seeded_constants(tk, &b, c);
    const struct tk_constants *k = &tk->constants;
    tk_set_bases(tk, k->realtime, k->monotonic, k->boot_offset, k->raw);
    err = host_domain(tk, kind, tsc);
    if (err)
        return err;
    seeded_settings(tk);
    tk_apply_slew(tk);
    tk_publish_start(tk);
    return 0;
}

static bool host_kind(enum tk_counter_kind kind)
{
    return kind == TK_COUNTER_TSC || kind == TK_COUNTER_PVCLOCK_HOST ||
           kind == TK_COUNTER_HVCLOCK_HOST;
}

/* Either start; c NULL follows the host. */
static int start(struct timekeeper **tkp, struct vdso_datapages *dp, enum tk_counter_kind kind,
                 unsigned calib_ms, const struct tk_constants *c)
{
    if (!host_kind(kind))
        return -EINVAL;
    struct timekeeper *tk;
    int err = tk_alloc(&tk, dp, 0);
    if (err)
        return err;
    tk_lock(tk);
    err = c ? seeded_start_locked(tk, kind, calib_ms, c) : host_start_locked(tk, kind, calib_ms);
    tk_unlock(tk);
    if (err) {
        tk_destroy(tk);
        return err;
    }
    *tkp = tk;
    return 0;
}

int tk_init_host(struct timekeeper **tkp, struct vdso_datapages *dp, enum tk_counter_kind kind,
                 unsigned calib_ms)
{
    return start(tkp, dp, kind, calib_ms, NULL);
}

int tk_init_seeded(struct timekeeper **tkp, struct vdso_datapages *dp, enum tk_counter_kind kind,
                   unsigned calib_ms, const struct tk_constants *c)
{
    return c ? start(tkp, dp, kind, calib_ms, c) : -EINVAL;
}
