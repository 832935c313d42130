/*
 * The timekeeper's counter domains: which clock mode each one shows, the
 * counter value it gives for a TSC reading (from the record as programmed,
 * as the kernel reads its clocksource rather than the user-visible page),
 * and programming a domain: its pvclock or Hyper-V page and the clocksource
 * (mult/shift) it runs on. Manual domains keep the script's rates; host
 * ones are scaled from the TSC calibration, taken once and kept.
 */
#include "tk_internal.h"
#include <errno.h>
#include <math.h>

#define HV_NS_PER_UNIT 100 /* the Hyper-V reference counter counts 100 ns units */

bool tk_kind_is_manual(enum tk_counter_kind kind)
{
    return kind == TK_COUNTER_PVCLOCK_MANUAL || kind == TK_COUNTER_HVCLOCK_MANUAL;
}

static bool kind_is_pvclock(enum tk_counter_kind kind)
{
    return kind == TK_COUNTER_PVCLOCK_MANUAL || kind == TK_COUNTER_PVCLOCK_HOST;
}

static bool kind_is_hvclock(enum tk_counter_kind kind)
{
    return kind == TK_COUNTER_HVCLOCK_MANUAL || kind == TK_COUNTER_HVCLOCK_HOST;
}

int32_t tk_mode_for(enum tk_counter_kind kind)
{
    if (kind_is_pvclock(kind))
        return VDSO_CLOCKMODE_PVCLOCK;
    if (kind_is_hvclock(kind))
        return VDSO_CLOCKMODE_HVCLOCK;
    return VDSO_CLOCKMODE_TSC;
}

uint64_t tk_domain_counter(const struct timekeeper *tk, enum tk_counter_kind kind, uint64_t tsc)
{
    if (kind_is_pvclock(kind))
        return counter_pvclock_scale(&tk->st.pv, tsc) & COUNTER_MASK;
    if (kind_is_hvclock(kind))
        return counter_hvclock_scale(&tk->st.hv, tsc) & COUNTER_MASK;
    return tsc & COUNTER_MASK;
}

/* Lock-free: it reads the pages as a vDSO reader would. */
uint64_t tk_read_counter(struct timekeeper *tk)
{
    const struct vdso_time_data *td = datapages_time(tk->dp);
    int32_t mode =
        __atomic_load_n(&td->clock_data[VDSO_CS_HRES_COARSE].clock_mode, __ATOMIC_RELAXED);
    return counter_read_for_mode(mode, datapages_pvclock(tk->dp), datapages_hvclock(tk->dp));
}

int tk_ensure_rate(struct timekeeper *tk, unsigned ms)
{
    if (tk->have_rate)
        return 0;
    int err = tsc_calibrate(&tk->rate, ms ? ms : DEFAULT_CALIB_MS);
    if (!err)
        tk->have_rate = true;
    return err;
}

/* Raw nanoseconds now, as a start value for host-scaled counters. */
static uint64_t raw_ns(const struct timekeeper *tk)
{
    return tk->st.raw_sec * (uint64_t)NSEC_PER_SEC + (tk->st.raw_nsec >> tk->st.cs.shift);
}

/* pvclock mul/shift so that the record counts nanoseconds of the raw rate:
 * ns_per_cycle = mul * 2^tsc_shift / 2^32 with mul in [2^31, 2^32). */
static int program_pvclock_host(struct timekeeper *tk, uint64_t tsc)
{
    struct pvclock_vcpu_time_info *pv = &tk->st.pv;
    int exp;
    double frac = frexp(tk->rate.raw_ns_per_cycle, &exp);

    if (exp < -31 || exp > 31)
        return -ERANGE;
    pv->tsc_timestamp = tsc;
    pv->system_time = raw_ns(tk);
    pv->tsc_to_system_mul = (uint32_t)fmin(ldexp(frac, 32), (double)UINT32_MAX);
    pv->tsc_shift = (int8_t)exp;
    pv->flags = PVCLOCK_TSC_STABLE_BIT;
    return 0;
}

/* Hyper-V reference time counts 100 ns units: scale = units per cycle * 2^64. */
static int program_hvclock_host(struct timekeeper *tk, uint64_t tsc)
{
    struct ms_hyperv_tsc_page *hv = &tk->st.hv;
    double units_per_cycle = tk->rate.raw_ns_per_cycle / HV_NS_PER_UNIT;

    if (!(units_per_cycle < 1.0))
        return -ERANGE;
    hv->tsc_scale = (uint64_t)ldexp(units_per_cycle, 64);
    hv->tsc_offset = 0;
    uint64_t now_units = counter_hvclock_scale(hv, tsc);
    hv->tsc_offset = (int64_t)(raw_ns(tk) / HV_NS_PER_UNIT - now_units);
    return 0;
}

/* The record a domain's page shows, as the timekeeper's copy. */
static int program_record(struct timekeeper *tk, enum tk_counter_kind kind, uint64_t tsc,
                          uint64_t manual_value)
{
    switch (kind) {
    case TK_COUNTER_PVCLOCK_MANUAL:
        tk->st.pv = (struct pvclock_vcpu_time_info){.system_time = manual_value,
                                                    .flags = PVCLOCK_TSC_STABLE_BIT};
        return 0;
    case TK_COUNTER_HVCLOCK_MANUAL:
        tk->st.hv = (struct ms_hyperv_tsc_page){.tsc_offset = (int64_t)manual_value};
        return 0;
    case TK_COUNTER_PVCLOCK_HOST:
        return program_pvclock_host(tk, tsc);
    case TK_COUNTER_HVCLOCK_HOST:
        return program_hvclock_host(tk, tsc);
    case TK_COUNTER_TSC:
        break;
    }
    return 0;
}

/* Write the record to its page under that page's own seqlock. */
static void write_record(struct timekeeper *tk, enum tk_counter_kind kind)
{
    if (kind_is_pvclock(kind))
        tk_write_pvclock(tk);
    if (kind_is_hvclock(kind))
        tk_write_hvclock(tk);
}

uint64_t tk_counter_page_breaks(const struct timekeeper *tk)
{
    return __atomic_load_n(&tk->counter_page_breaks, __ATOMIC_SEQ_CST);
}

/* How many counter units one TSC cycle makes in a host-scaled domain. */
static double units_per_cycle(const struct timekeeper *tk, enum tk_counter_kind kind)
{
    if (kind == TK_COUNTER_PVCLOCK_HOST)
        return ldexp((double)tk->st.pv.tsc_to_system_mul, tk->st.pv.tsc_shift - 32);
    if (kind == TK_COUNTER_HVCLOCK_HOST)
        return ldexp((double)tk->st.hv.tsc_scale, -64);
    return 1.0;
}

/* Program the domain's page (if it has one) and choose its clocksource:
 * manual domains keep the script's rates, real ones use the calibration. */
int tk_program_domain(struct timekeeper *tk, enum tk_counter_kind kind, uint64_t tsc,
                      uint64_t manual_value)
{
    tk_assert_held(tk);
    int err = program_record(tk, kind, tsc, manual_value);
    if (err)
        return err;
    write_record(tk, kind);
    if (tk_kind_is_manual(kind)) {
        tk->st.cs = tk->st.manual_cs;
        tk->st.cs.kind = kind;
        return 0;
    }
    double k = units_per_cycle(tk, kind);
    return clocksource_from_rates(&tk->st.cs, kind, tk->rate.raw_ns_per_cycle / k,
                                  tk->rate.mono_ns_per_cycle / k);
}
