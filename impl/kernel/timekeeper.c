/*
 * The timekeeper's state: allocation, the scripted start, the counter
 * domains (reading and programming the pvclock and Hyper-V pages), and
 * accumulation, which advances the wall, raw and aux clocks to a counter
 * value exactly (in shifted nanoseconds, so no sub-ns is ever lost).
 */
#define _GNU_SOURCE
#include "tk_internal.h"
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define NSEC_PER_SEC       1000000000ll
#define DEFAULT_LOW_RES_NS 4000000u /* TICK_NSEC at HZ 250 */
#define DEFAULT_CALIB_MS   30u

typedef unsigned __int128 u128;

void tk_lock(struct timekeeper *tk)
{
    pthread_mutex_lock(&tk->lock);
}

void tk_unlock(struct timekeeper *tk)
{
    pthread_mutex_unlock(&tk->lock);
}

struct timespec tk_ts_from_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC};
    if (ts.tv_nsec < 0) {
        ts.tv_sec--;
        ts.tv_nsec += NSEC_PER_SEC;
    }
    return ts;
}

static struct timespec ts_normalise(int64_t sec, int64_t nsec)
{
    struct timespec ts = tk_ts_from_ns(nsec);
    ts.tv_sec += sec;
    return ts;
}

struct timespec tk_ts_add(struct timespec a, struct timespec b)
{
    return ts_normalise(a.tv_sec + b.tv_sec, a.tv_nsec + b.tv_nsec);
}

struct timespec tk_ts_sub(struct timespec a, struct timespec b)
{
    return ts_normalise(a.tv_sec - b.tv_sec, a.tv_nsec - b.tv_nsec);
}

int tk_alloc(struct timekeeper **tkp, struct vdso_datapages *dp, unsigned log_entries)
{
    struct timekeeper *tk = calloc(1, sizeof(*tk));
    if (!tk)
        return -ENOMEM;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int err = pthread_mutex_init(&tk->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (err) {
        free(tk);
        return -err;
    }
    err = tk_log_init(&tk->log, log_entries);
    if (err) {
        pthread_mutex_destroy(&tk->lock);
        free(tk);
        return err;
    }
    tk->dp = dp;
    tk->hrtimer_res = 1;
    tk->low_res_nsec = DEFAULT_LOW_RES_NS;
    *tkp = tk;
    return 0;
}

void tk_destroy(struct timekeeper *tk)
{
    if (!tk)
        return;
    tk_writer_stop(tk);
    tk_log_fini(&tk->log);
    pthread_mutex_destroy(&tk->lock);
    free(tk);
}

struct vdso_datapages *tk_datapages(const struct timekeeper *tk)
{
    return tk->dp;
}

uint32_t tk_low_res_nsec(const struct timekeeper *tk)
{
    return tk->low_res_nsec;
}

bool tk_kind_is_manual(enum tk_counter_kind kind)
{
    return kind == TK_COUNTER_PVCLOCK_MANUAL || kind == TK_COUNTER_HVCLOCK_MANUAL;
}

int tk_mode_for(enum tk_counter_kind kind)
{
    switch (kind) {
    case TK_COUNTER_TSC:
        return VDSO_CLOCKMODE_TSC;
    case TK_COUNTER_PVCLOCK_MANUAL:
    case TK_COUNTER_PVCLOCK_HOST:
        return VDSO_CLOCKMODE_PVCLOCK;
    case TK_COUNTER_HVCLOCK_MANUAL:
    case TK_COUNTER_HVCLOCK_HOST:
        return VDSO_CLOCKMODE_HVCLOCK;
    }
    return -1;
}

/* The domain's counter for a given TSC value, from the programmed record
 * (the kernel side reads its clocksource, not the user-visible page). */
uint64_t tk_domain_counter(const struct timekeeper *tk, enum tk_counter_kind kind, uint64_t tsc)
{
    switch (kind) {
    case TK_COUNTER_TSC:
        return tsc & COUNTER_MASK;
    case TK_COUNTER_PVCLOCK_MANUAL:
    case TK_COUNTER_PVCLOCK_HOST:
        return counter_pvclock_scale(&tk->pv, tsc) & COUNTER_MASK;
    case TK_COUNTER_HVCLOCK_MANUAL:
    case TK_COUNTER_HVCLOCK_HOST:
        return counter_hvclock_scale(&tk->hv, tsc) & COUNTER_MASK;
    }
    return COUNTER_INVALID;
}

uint64_t tk_counter_now(struct timekeeper *tk)
{
    tk_lock(tk);
    uint64_t now = tk_domain_counter(tk, tk->cs.kind, counter_rdtsc());
    tk_unlock(tk);
    return now;
}

uint64_t tk_read_counter(struct timekeeper *tk)
{
    const struct vdso_time_data *td = datapages_time(tk->dp);
    int32_t mode = __atomic_load_n(&td->clock_data[0].clock_mode, __ATOMIC_RELAXED);
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
    return tk->raw_sec * (uint64_t)NSEC_PER_SEC + (tk->raw_nsec >> tk->cs.shift);
}

/* pvclock mul/shift so that the record counts nanoseconds of the raw rate:
 * ns_per_cycle = mul * 2^tsc_shift / 2^32 with mul in [2^31, 2^32). */
static int program_pvclock_host(struct timekeeper *tk, uint64_t tsc)
{
    int exp;
    double frac = frexp(tk->rate.raw_ns_per_cycle, &exp);
    if (exp < -31 || exp > 31)
        return -ERANGE;
    tk->pv.tsc_timestamp = tsc;
    tk->pv.system_time = raw_ns(tk);
    tk->pv.tsc_to_system_mul = (uint32_t)fmin(ldexp(frac, 32), (double)UINT32_MAX);
    tk->pv.tsc_shift = (int8_t)exp;
    tk->pv.flags = PVCLOCK_TSC_STABLE_BIT;
    return 0;
}

/* Hyper-V reference time counts 100 ns units: scale = units per cycle * 2^64. */
static int program_hvclock_host(struct timekeeper *tk, uint64_t tsc)
{
    double units_per_cycle = tk->rate.raw_ns_per_cycle / 100.0;
    if (!(units_per_cycle < 1.0))
        return -ERANGE;
    tk->hv.tsc_scale = (uint64_t)ldexp(units_per_cycle, 64);
    tk->hv.tsc_offset = 0;
    uint64_t now_units = counter_hvclock_scale(&tk->hv, tsc);
    tk->hv.tsc_offset = (int64_t)(raw_ns(tk) / 100 - now_units);
    return 0;
}

/* How many counter units one TSC cycle makes in a host-scaled domain. */
static double units_per_cycle(const struct timekeeper *tk, enum tk_counter_kind kind)
{
    if (kind == TK_COUNTER_PVCLOCK_HOST)
        return ldexp((double)tk->pv.tsc_to_system_mul, tk->pv.tsc_shift - 32);
    if (kind == TK_COUNTER_HVCLOCK_HOST)
        return ldexp((double)tk->hv.tsc_scale, -64);
    return 1.0;
}

/* Program the domain's page (if it has one) and choose its clocksource:
 * manual domains keep the script's rates, real ones use the calibration. */
int tk_program_domain(struct timekeeper *tk, enum tk_counter_kind kind, uint64_t tsc,
                      uint64_t manual_value)
{
    int err = 0;
    struct vdso_datapages *dp = tk->dp;
    switch (kind) {
    case TK_COUNTER_PVCLOCK_MANUAL:
        tk->pv = (struct pvclock_vcpu_time_info){.system_time = manual_value,
                                                 .flags = PVCLOCK_TSC_STABLE_BIT};
        break;
    case TK_COUNTER_HVCLOCK_MANUAL:
        tk->hv = (struct ms_hyperv_tsc_page){.tsc_offset = (int64_t)manual_value};
        break;
    case TK_COUNTER_PVCLOCK_HOST:
        err = program_pvclock_host(tk, tsc);
        break;
    case TK_COUNTER_HVCLOCK_HOST:
        err = program_hvclock_host(tk, tsc);
        break;
    case TK_COUNTER_TSC:
        break;
    }
    if (err)
        return err;
    if (kind == TK_COUNTER_PVCLOCK_MANUAL || kind == TK_COUNTER_PVCLOCK_HOST)
        counter_pvclock_write(datapages_pvclock(dp), &tk->pv);
    if (kind == TK_COUNTER_HVCLOCK_MANUAL || kind == TK_COUNTER_HVCLOCK_HOST)
        counter_hvclock_write(datapages_hvclock(dp), tk->hv.tsc_scale, tk->hv.tsc_offset);
    if (tk_kind_is_manual(kind)) {
        tk->cs = tk->manual_cs;
        tk->cs.kind = kind;
        return 0;
    }
    double k = units_per_cycle(tk, kind);
    return clocksource_from_rates(&tk->cs, kind, tk->rate.raw_ns_per_cycle / k,
                                  tk->rate.mono_ns_per_cycle / k);
}

void tk_apply_slew(struct timekeeper *tk)
{
    /* Rounded to the nearest mult unit: one unit is the slew's resolution. */
    int64_t scaled = (int64_t)tk->cs.mult * tk->ppm;
    int64_t adj = (scaled + (scaled < 0 ? -500000 : 500000)) / 1000000;
    int64_t mult = (int64_t)tk->cs.mult + adj;
    tk->mult = mult < 0 ? 0 : mult > UINT32_MAX ? UINT32_MAX : (uint32_t)mult;
}

/* sec/shifted-nsec += delta * mult, exactly. */
static void add_cycles(uint64_t *sec, uint64_t *nsec, uint64_t delta, uint32_t mult, uint32_t shift)
{
    u128 unit = (u128)NSEC_PER_SEC << shift;
    u128 total = (u128)*nsec + (u128)delta * mult;
    *sec += (uint64_t)(total / unit);
    *nsec = (uint64_t)(total % unit);
}

void tk_accumulate_to(struct timekeeper *tk, uint64_t now)
{
    uint64_t delta = (now - tk->cycle_last) & tk->cs.mask;
    /* A counter behind cycle_last is no motion, as the kernel's
     * clocksource_delta decides; cycle_last stays. */
    if (delta & ~(tk->cs.mask >> 1))
        return;
    tk->cycle_last = now;
    uint32_t shift = tk->cs.shift;
    add_cycles(&tk->xtime_sec, &tk->xtime_nsec, delta, tk->mult, shift);
    add_cycles(&tk->raw_sec, &tk->raw_nsec, delta, tk->cs.raw_mult, shift);
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        if (tk->aux[i].enabled)
            add_cycles(&tk->aux[i].sec, &tk->aux[i].nsec, delta, tk->aux[i].mult, shift);
    tk->coarse_nsec = tk->xtime_nsec >> shift;
}

/* A clocksource change with a different shift rescales the shifted ns. */
static uint64_t rescale(uint64_t nsec, uint32_t from, uint32_t to)
{
    return to >= from ? nsec << (to - from) : nsec >> (from - to);
}

void tk_change_shift(struct timekeeper *tk, uint32_t new_shift)
{
    uint32_t old = tk->cs.shift;
    tk->xtime_nsec = rescale(tk->xtime_nsec, old, new_shift);
    tk->raw_nsec = rescale(tk->raw_nsec, old, new_shift);
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        tk->aux[i].nsec = rescale(tk->aux[i].nsec, old, new_shift);
}

void tk_set_bases(struct timekeeper *tk, struct timespec realtime, struct timespec monotonic,
                  struct timespec boot_offset, struct timespec raw)
{
    uint32_t shift = tk->cs.shift;
    realtime = tk_ts_add(realtime, (struct timespec){0});
    raw = tk_ts_add(raw, (struct timespec){0});
    tk->xtime_sec = (uint64_t)realtime.tv_sec;
    tk->xtime_nsec = (uint64_t)realtime.tv_nsec << shift;
    tk->coarse_nsec = (uint64_t)realtime.tv_nsec;
    tk->wall_to_monotonic = tk_ts_sub(monotonic, realtime);
    tk->offs_boot = tk_ts_add(boot_offset, (struct timespec){0});
    tk->raw_sec = (uint64_t)raw.tv_sec;
    tk->raw_nsec = (uint64_t)raw.tv_nsec << shift;
}

static int check_script(const struct tk_script *s)
{
    if (s->shift > 32 || s->counter > TK_COUNTER_HVCLOCK_HOST)
        return -EINVAL;
    return 0;
}

static void script_clocksource(struct timekeeper *tk, const struct tk_script *s)
{
    struct tk_clocksource *cs = &tk->manual_cs;
    cs->kind = s->counter;
    cs->mult = s->mult;
    cs->raw_mult = s->raw_mult ? s->raw_mult : s->mult;
    cs->shift = s->shift;
    cs->mask = s->mask ? s->mask : UINT64_MAX;
    cs->max_cycles = s->max_cycles ? s->max_cycles : clocksource_max_cycles(cs->raw_mult, cs->mask);
}

/* The scripted start on a timekeeper whose scripted state is all zero. */
static int scripted_start(struct timekeeper *tk, const struct tk_script *s)
{
    int err = 0;
    script_clocksource(tk, s);
    /* Host-scaled pages need a rate to be programmed; the script's
     * mult/shift still define the conversion. */
    if (s->counter == TK_COUNTER_PVCLOCK_HOST || s->counter == TK_COUNTER_HVCLOCK_HOST)
        err = tk_ensure_rate(tk, 0);
    uint64_t tsc = counter_rdtsc();
    tk->cs = tk->manual_cs;
    tk_set_bases(tk, s->realtime, s->monotonic, s->boot_offset, s->raw);
    if (!err)
        err = tk_program_domain(tk, s->counter, tsc, s->counter_start);
    if (err)
        return err;
    tk->cs = tk->manual_cs; /* the script's rates hold for its first domain */
    tk->cycle_last = tk_domain_counter(tk, s->counter, tsc);
    tk->tai_offset = s->tai_offset;
    tk->hrtimer_res = s->hrtimer_res ? s->hrtimer_res : 1;
    tk->low_res_nsec = s->low_res_nsec ? s->low_res_nsec : DEFAULT_LOW_RES_NS;
    tk->clock_mode = tk_mode_for(s->counter);
    tk->shadow.tz_minuteswest = s->tz_minuteswest;
    tk->shadow.tz_dsttime = s->tz_dsttime;
    tk->shadow.clock_data[0].seq = s->seq_start;
    tk->shadow.clock_data[1].seq = s->seq_start;
    tk_apply_slew(tk);
    tk_publish_start(tk);
    return 0;
}

int tk_init_scripted(struct timekeeper **tkp, struct vdso_datapages *dp, const struct tk_script *s)
{
    int err = check_script(s);
    if (err)
        return err;
    struct timekeeper *tk;
    err = tk_alloc(&tk, dp, s->log_entries);
    if (err)
        return err;
    err = scripted_start(tk, s);
    if (err) {
        tk_destroy(tk);
        return err;
    }
    *tkp = tk;
    return 0;
}

/* The scripted state is one contiguous run of fields (tk_internal.h). */
#define SCRIPTED_STATE_START offsetof(struct timekeeper, cs)
#define SCRIPTED_STATE_END   offsetof(struct timekeeper, generation)
_Static_assert(offsetof(struct timekeeper, hand_open) < SCRIPTED_STATE_END &&
                   offsetof(struct timekeeper, shadow) > SCRIPTED_STATE_START,
               "scripted state between cs and generation");

int tk_reset_scripted(struct timekeeper *tk, const struct tk_script *s)
{
    int err = check_script(s);
    if (err)
        return err;
    tk_lock(tk);
    if (tk->writer.running || tk->hand_open) {
        tk_unlock(tk);
        return -EBUSY;
    }
    err = tk_log_reset(&tk->log, s->log_entries);
    if (!err) {
        /* A calibration is the host's, not the script's: keep it. */
        bool have_rate = tk->have_rate;
        struct tsc_rate rate = tk->rate;
        memset((char *)tk + SCRIPTED_STATE_START, 0, SCRIPTED_STATE_END - SCRIPTED_STATE_START);
        tk->have_rate = have_rate;
        tk->rate = rate;
        __atomic_store_n(&tk->generation, 0, __ATOMIC_RELEASE);
        err = scripted_start(tk, s);
    }
    tk_unlock(tk);
    return err;
}

int tk_accumulate(struct timekeeper *tk)
{
    tk_lock(tk);
    tk_accumulate_to(tk, tk_domain_counter(tk, tk->cs.kind, counter_rdtsc()));
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        if (tk->aux[i].enabled)
            tk_publish_aux(tk, i);
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}
