/*
 * Timekeeper operations, each the user-space analogue of a kernel path that
 * ends in update_vsyscall(): settimeofday (step), adjtimex frequency and TAI,
 * suspend, clocksource changes, hrtimer resolution; plus the pages that are
 * written outside the seqcount (tz, time namespace, rng) and the raw levers
 * that tests and fuzzers need to reach states a kernel rarely shows.
 */
#include "tk_internal.h"
#include <errno.h>

static void forward_now(struct timekeeper *tk)
{
    tk_accumulate_to(tk, tk_domain_counter(tk, tk->cs.kind, counter_rdtsc()));
}

/* xtime += d, keeping the shifted-ns form normalised. */
static void xtime_add(struct timekeeper *tk, struct timespec d)
{
    uint64_t unit = 1000000000ull << tk->cs.shift;
    tk->xtime_sec += (uint64_t)d.tv_sec;
    tk->xtime_nsec += (uint64_t)d.tv_nsec << tk->cs.shift;
    if (tk->xtime_nsec >= unit) {
        tk->xtime_nsec -= unit;
        tk->xtime_sec++;
    }
    tk->coarse_nsec = tk->xtime_nsec >> tk->cs.shift;
}

int tk_step_realtime(struct timekeeper *tk, int64_t ns)
{
    struct timespec d = tk_ts_from_ns(ns);
    tk_lock(tk);
    forward_now(tk);
    xtime_add(tk, d);
    tk->wall_to_monotonic = tk_ts_sub(tk->wall_to_monotonic, d);
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

int tk_slew_ppm(struct timekeeper *tk, int32_t ppm)
{
    if (ppm <= -1000000)
        return -EINVAL;
    tk_lock(tk);
    forward_now(tk); /* the old rate up to now, the new one from here */
    tk->ppm = ppm;
    tk_apply_slew(tk);
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

int tk_set_tai_offset(struct timekeeper *tk, int32_t tai)
{
    tk_lock(tk);
    tk->tai_offset = tai;
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

int tk_add_boot_offset(struct timekeeper *tk, int64_t ns)
{
    tk_lock(tk);
    forward_now(tk);
    tk->offs_boot = tk_ts_add(tk->offs_boot, tk_ts_from_ns(ns));
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

/* Suspend: MONOTONIC stood still while wall time and BOOTTIME went on. */
int tk_inject_sleep(struct timekeeper *tk, int64_t ns)
{
    if (ns < 0)
        return -EINVAL;
    struct timespec d = tk_ts_from_ns(ns);
    tk_lock(tk);
    forward_now(tk);
    xtime_add(tk, d);
    tk->wall_to_monotonic = tk_ts_sub(tk->wall_to_monotonic, d);
    tk->offs_boot = tk_ts_add(tk->offs_boot, d);
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

int tk_set_hrtimer_res(struct timekeeper *tk, uint32_t res)
{
    tk_lock(tk);
    tk->hrtimer_res = res;
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

int tk_set_tz(struct timekeeper *tk, int32_t minuteswest, int32_t dsttime)
{
    struct vdso_time_data *page = datapages_time(tk->dp);
    tk_lock(tk);
    tk->shadow.tz_minuteswest = minuteswest;
    tk->shadow.tz_dsttime = dsttime;
    __atomic_store_n(&page->tz_minuteswest, minuteswest, __ATOMIC_RELAXED);
    __atomic_store_n(&page->tz_dsttime, dsttime, __ATOMIC_RELAXED);
    tk_unlock(tk);
    return 0;
}

static void publish_all(struct timekeeper *tk)
{
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        if (tk->aux[i].enabled)
            tk_publish_aux(tk, i);
    tk_publish(tk);
}

int tk_set_clock_mode(struct timekeeper *tk, int32_t mode)
{
    tk_lock(tk);
    forward_now(tk);
    tk->clock_mode = mode;
    publish_all(tk);
    tk_unlock(tk);
    return 0;
}

int tk_switch_counter(struct timekeeper *tk, enum tk_counter_kind kind)
{
    if ((unsigned)kind > TK_COUNTER_HVCLOCK_HOST)
        return -EINVAL;
    tk_lock(tk);
    int err = tk_kind_is_manual(kind) ? 0 : tk_ensure_rate(tk, 0);
    if (err)
        goto out;
    uint64_t tsc = counter_rdtsc();
    tk_accumulate_to(tk, tk_domain_counter(tk, tk->cs.kind, tsc));
    struct tk_clocksource old = tk->cs;
    uint64_t manual = tk_domain_counter(tk, tk->cs.kind, tsc); /* continue from here */
    err = tk_program_domain(tk, kind, tsc, manual);
    if (err) {
        tk->cs = old;
        goto out;
    }
    struct tk_clocksource fresh = tk->cs;
    tk->cs = old;
    tk_change_shift(tk, fresh.shift);
    tk->cs = fresh;
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        tk->aux[i].mult = fresh.raw_mult;
    tk_apply_slew(tk);
    tk->cycle_last = tk_domain_counter(tk, kind, tsc);
    tk->clock_mode = tk_mode_for(kind);
    publish_all(tk);
out:
    tk_unlock(tk);
    return err;
}

int tk_set_counter(struct timekeeper *tk, uint64_t value)
{
    int err = 0;
    tk_lock(tk);
    if (tk->cs.kind == TK_COUNTER_PVCLOCK_MANUAL) {
        tk->pv.system_time = value;
        counter_pvclock_write(datapages_pvclock(tk->dp), &tk->pv);
    } else if (tk->cs.kind == TK_COUNTER_HVCLOCK_MANUAL) {
        tk->hv.tsc_offset = (int64_t)value;
        counter_hvclock_write(datapages_hvclock(tk->dp), 0, tk->hv.tsc_offset);
    } else {
        err = -EINVAL;
    }
    tk_unlock(tk);
    return err;
}

int tk_advance_counter(struct timekeeper *tk, uint64_t delta)
{
    tk_lock(tk);
    int err = tk_set_counter(tk, tk_domain_counter(tk, tk->cs.kind, 0) + delta);
    tk_unlock(tk);
    return err;
}

static void fill_timens_clock(struct vdso_clock *c, struct timens_offset mono,
                              struct timens_offset boot)
{
    *c = (struct vdso_clock){.seq = 1, .clock_mode = VDSO_CLOCKMODE_TIMENS};
    c->offset[VDSO_CLOCK_MONOTONIC] = mono;
    c->offset[VDSO_CLOCK_MONOTONIC_RAW] = mono;
    c->offset[VDSO_CLOCK_MONOTONIC_COARSE] = mono;
    c->offset[VDSO_CLOCK_BOOTTIME] = boot;
    c->offset[VDSO_CLOCK_BOOTTIME_ALARM] = boot;
}

/* The namespace page is written once, before any task enters, so it needs
 * no seqcount; seq 1 is what sends readers to the namespace path. */
static void store_timens_clock(struct vdso_clock *page, struct timens_offset mono,
                               struct timens_offset boot)
{
    struct vdso_clock c;
    fill_timens_clock(&c, mono, boot);
    datapages_store_clock(page, &c);
    __atomic_store_n(&page->seq, c.seq, __ATOMIC_RELEASE);
}

int tk_timens_set(struct timekeeper *tk, struct timens_offset monotonic,
                  struct timens_offset boottime)
{
    struct vdso_time_data *ns = datapages_timens(tk->dp);
    tk_lock(tk);
    for (int i = 0; i < VDSO_CS_BASES; i++)
        store_timens_clock(&ns->clock_data[i], monotonic, boottime);
    for (int i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        store_timens_clock(&ns->aux_clock_data[i], monotonic, boottime);
    tk_unlock(tk);
    return 0;
}

int tk_rng_bump(struct timekeeper *tk)
{
    struct vdso_rng_data *rng = datapages_rng(tk->dp);
    tk_lock(tk);
    uint64_t generation = __atomic_load_n(&rng->generation, __ATOMIC_RELAXED) + 1;
    __atomic_store_n(&rng->generation, generation, __ATOMIC_RELEASE);
    tk_unlock(tk);
    return 0;
}

int tk_rng_set_ready(struct timekeeper *tk, bool ready)
{
    tk_lock(tk);
    __atomic_store_n(&datapages_rng(tk->dp)->is_ready, ready ? 1 : 0, __ATOMIC_RELEASE);
    tk_unlock(tk);
    return 0;
}

int tk_aux_enable(struct timekeeper *tk, unsigned idx, struct timespec base)
{
    if (idx >= VDSO_MAX_AUX_CLOCKS || base.tv_sec < 0 || base.tv_nsec < 0 ||
        base.tv_nsec >= 1000000000)
        return -EINVAL;
    tk_lock(tk);
    forward_now(tk);
    struct tk_aux *aux = &tk->aux[idx];
    aux->enabled = true;
    aux->mult = tk->cs.raw_mult;
    aux->sec = (uint64_t)base.tv_sec;
    aux->nsec = (uint64_t)base.tv_nsec << tk->cs.shift;
    tk_commit_aux(tk, idx);
    tk_unlock(tk);
    return 0;
}

int tk_aux_disable(struct timekeeper *tk, unsigned idx)
{
    if (idx >= VDSO_MAX_AUX_CLOCKS)
        return -EINVAL;
    tk_lock(tk);
    tk->aux[idx].enabled = false;
    tk_commit_aux(tk, idx);
    tk_unlock(tk);
    return 0;
}

int tk_set_seq(struct timekeeper *tk, uint32_t seq)
{
    struct vdso_time_data *page = datapages_time(tk->dp);
    tk_lock(tk);
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        tk->shadow.clock_data[i].seq = seq;
        __atomic_store_n(&page->clock_data[i].seq, seq, __ATOMIC_RELEASE);
    }
    tk_unlock(tk);
    return 0;
}

int tk_update_begin(struct timekeeper *tk)
{
    tk_lock(tk); /* held until tk_update_end */
    if (tk->hand_open) {
        tk_unlock(tk);
        return -EBUSY;
    }
    tk_write_begin(tk);
    tk->hand_open = true;
    return 0;
}

int tk_update_end(struct timekeeper *tk)
{
    tk_lock(tk);
    if (!tk->hand_open) {
        tk_unlock(tk);
        return -EINVAL;
    }
    tk->hand_open = false;
    tk_write_end(tk);
    tk_unlock(tk);
    tk_unlock(tk); /* the hold taken by tk_update_begin */
    return 0;
}

int tk_pvclock_set_version(struct timekeeper *tk, uint32_t version)
{
    tk_lock(tk);
    __atomic_store_n(&datapages_pvclock(tk->dp)->version, version, __ATOMIC_RELEASE);
    tk_unlock(tk);
    return 0;
}

int tk_pvclock_set_stable(struct timekeeper *tk, bool stable)
{
    tk_lock(tk);
    if (stable)
        tk->pv.flags |= PVCLOCK_TSC_STABLE_BIT;
    else
        tk->pv.flags &= (uint8_t)~PVCLOCK_TSC_STABLE_BIT;
    counter_pvclock_write(datapages_pvclock(tk->dp), &tk->pv);
    tk_unlock(tk);
    return 0;
}
