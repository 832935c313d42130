/*
 * Clocksource parameters and TSC calibration. The rules for mult, shift and
 * max_cycles follow the kernel's clocksource conventions (docs/abi.md §2.4); the
 * calibration pairs host clock readings with TSC values taken in the
 * narrowest bracket, so a loaded VM costs samples, not accuracy.
 */
#define _GNU_SOURCE
#include "clocksource.h"
#include <errno.h>
#include <math.h>
#include <vdsokit/counter.h>
#include <vdsokit/timespec.h>

#define CALIB_MAX_SECONDS 600.0 /* conversion range the kernel asks for */
#define SAMPLE_TRIES      16

uint64_t clocksource_max_cycles(uint32_t raw_mult, uint64_t mask)
{
    uint64_t adj = (uint64_t)raw_mult * 11 / 100;
    uint64_t max = UINT64_MAX / ((uint64_t)raw_mult + adj + (raw_mult == 0));

    return max < mask ? max : mask;
}

int clocksource_from_rates(struct tk_clocksource *cs, enum tk_counter_kind kind,
                           double raw_ns_per_unit, double mono_ns_per_unit)
{
    if (!(raw_ns_per_unit > 0) || !(mono_ns_per_unit > 0))
        return -EINVAL;
    double units_in_range = CALIB_MAX_SECONDS * 1e9 / raw_ns_per_unit;
    for (int shift = 32; shift >= 0; shift--) {
        double mult = round(ldexp(raw_ns_per_unit, shift));
        if (mult > (double)UINT32_MAX || mult * units_in_range >= 0x1p64)
            continue;
        if (mult < 1)
            return -ERANGE;
        cs->kind = kind;
        cs->shift = (uint32_t)shift;
        cs->raw_mult = (uint32_t)mult;
        cs->mult = (uint32_t)fmin(round(ldexp(mono_ns_per_unit, shift)), (double)UINT32_MAX);
        cs->mask = UINT64_MAX;
        cs->max_cycles = clocksource_max_cycles(cs->raw_mult, cs->mask);
        return 0;
    }
    return -ERANGE;
}

int host_sample(clockid_t clk, uint64_t *tsc, int64_t *ns)
{
    uint64_t best_width = UINT64_MAX;

    for (int i = 0; i < SAMPLE_TRIES; i++) {
        struct timespec ts;
        uint64_t before = counter_rdtsc();
        if (clock_gettime(clk, &ts) != 0)
            return -errno;
        uint64_t after = counter_rdtsc();
        if (after - before < best_width) {
            best_width = after - before;
            *tsc = before + (after - before) / 2;
            *ns = ts_ns(&ts);
        }
    }
    return 0;
}

int64_t host_value_at(int64_t ns, uint64_t tsc_sample, uint64_t tsc_at, double ns_per_cycle)
{
    double cycles = (double)(int64_t)(tsc_at - tsc_sample);

    return ns + (int64_t)llround(cycles * ns_per_cycle);
}

static void nap_ms(unsigned ms)
{
    struct timespec nap = ts_from_ns((int64_t)ms * NSEC_PER_MSEC);

    while (nanosleep(&nap, &nap) != 0 && errno == EINTR)
        ;
}

/* Both rates over one interval: raw and monotonic samples at each end. */
int tsc_calibrate(struct tsc_rate *rate, unsigned ms)
{
    uint64_t raw_t[2], mono_t[2];
    int64_t raw_v[2], mono_v[2];

    for (int end = 0; end < 2; end++) {
        if (end)
            nap_ms(ms);
        int err = host_sample(CLOCK_MONOTONIC_RAW, &raw_t[end], &raw_v[end]);
        if (!err)
            err = host_sample(CLOCK_MONOTONIC, &mono_t[end], &mono_v[end]);
        if (err)
            return err;
    }
    if (raw_t[1] <= raw_t[0] || mono_t[1] <= mono_t[0] || raw_v[1] <= raw_v[0] ||
        mono_v[1] <= mono_v[0])
        return -EIO;
    rate->raw_ns_per_cycle = (double)(raw_v[1] - raw_v[0]) / (double)(raw_t[1] - raw_t[0]);
    rate->mono_ns_per_cycle = (double)(mono_v[1] - mono_v[0]) / (double)(mono_t[1] - mono_t[0]);
    return 0;
}
