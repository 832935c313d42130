/*
 * Timekeeper operations, each the user-space analogue of a kernel path that
 * ends in update_vsyscall(): the tick, settimeofday (step), adjtimex
 * frequency and TAI, suspend, clocksource changes, hrtimer resolution; plus
 * the pages that are written outside the seqcount (tz, time namespace, rng)
 * and the manual counters. Each public function takes the timekeeper lock
 * once and works through helpers that assume it held.
 */
#include "tk_internal.h"
#include <errno.h>
#include <vdsokit/datapages_era.h>

int tk_accumulate(struct timekeeper *tk)
{
    tk_lock(tk);
    tk_forward_now(tk);
    tk_publish_all(tk);
    tk_unlock(tk);
    return 0;
}

uint64_t tk_counter_now(struct timekeeper *tk)
{
    tk_lock(tk);
    uint64_t now = tk_domain_counter(tk, tk->st.cs.kind, counter_rdtsc());
    tk_unlock(tk);
    return now;
}

/* xtime += d, keeping the shifted-ns form normalised. */
static void xtime_add(struct tk_state *st, struct timespec d)
{
    uint64_t unit = (uint64_t)NSEC_PER_SEC << st->cs.shift;

    st->xtime_sec += (uint64_t)d.tv_sec;
    st->xtime_nsec += (uint64_t)d.tv_nsec << st->cs.shift;
    if (st->xtime_nsec >= unit) {
        st->xtime_nsec -= unit;
        st->xtime_sec++;
    }
    st->coarse_nsec = st->xtime_nsec >> st->cs.shift;
}

int tk_step_realtime(struct timekeeper *tk, int64_t ns)
{
    struct timespec d = ts_from_ns(ns);

    tk_lock(tk);
    tk_forward_now(tk);
    xtime_add(&tk->st, d);
    tk->st.wall_to_monotonic = ts_sub(tk->st.wall_to_monotonic, d);
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

int tk_slew_ppm(struct timekeeper *tk, int32_t ppm)
{
    if (ppm <= -PPM_PER_UNIT) /* the rate would be zero or negative */
        return -EINVAL;
    tk_lock(tk);
    tk_forward_now(tk); /* the old rate up to now, the new one from here */
    tk->st.ppm = ppm;
    tk_apply_slew(tk);
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

int tk_set_tai_offset(struct timekeeper *tk, int32_t tai)
{
    tk_lock(tk);
    tk->st.tai_offset = tai;
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

int tk_add_boot_offset(struct timekeeper *tk, int64_t ns)
{
    tk_lock(tk);
    tk_forward_now(tk);
    tk->st.offs_boot = ts_add(tk->st.offs_boot, ts_from_ns(ns));
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

/* Suspend: MONOTONIC stood still while wall time and BOOTTIME went on. */
int tk_inject_sleep(struct timekeeper *tk, int64_t ns)
{
    if (ns < 0)
        return -EINVAL;
    struct timespec d = ts_from_ns(ns);
    tk_lock(tk);
    tk_forward_now(tk);
    xtime_add(&tk->st, d);
    tk->st.wall_to_monotonic = ts_sub(tk->st.wall_to_monotonic, d);
    tk->st.offs_boot = ts_add(tk->st.offs_boot, d);
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

int tk_set_hrtimer_res(struct timekeeper *tk, uint32_t res)
{
    tk_lock(tk);
    tk->st.hrtimer_res = res;
    tk_publish(tk);
    tk_unlock(tk);
    return 0;
}

int tk_set_low_res_nsec(struct timekeeper *tk, uint32_t ns)
{
    if (ns == 0 || ns >= NSEC_PER_SEC)
        return -EINVAL;
    tk_lock(tk);
    tk->st.low_res_nsec = ns;
    tk_unlock(tk);
    return 0;
}

int tk_set_tz(struct timekeeper *tk, int32_t minuteswest, int32_t dsttime)
{
    struct vdso_time_data *page = datapages_time(tk->dp);

    tk_lock(tk);
    tk->st.shadow.tz_minuteswest = minuteswest;
    tk->st.shadow.tz_dsttime = dsttime;
    __atomic_store_n(&page->tz_minuteswest, minuteswest, __ATOMIC_RELAXED);
    __atomic_store_n(&page->tz_dsttime, dsttime, __ATOMIC_RELAXED);
    datapages_era_data(tk->dp); /* no seq around tz, as in the kernel */
    tk_unlock(tk);
    return 0;
}

/* v / 2^drop, rounded to nearest. */
static uint64_t round_shift(uint64_t v, uint32_t drop)
{
    return drop ? (v + (1ull << (drop - 1))) >> drop : v;
}

static int shift_drop_locked(struct timekeeper *tk, uint32_t drop)
{
    struct tk_state *st = &tk->st;

    if (st->shift_drop == 0)
        st->cs_native = st->cs;
    const struct tk_clocksource *n = &st->cs_native;
    uint64_t mult = round_shift(n->mult, drop), raw_mult = round_shift(n->raw_mult, drop);
    if (drop > n->shift || mult == 0 || raw_mult == 0)
        return -EINVAL;
    tk_forward_now(tk); /* the old rate up to now, the new one from here */
    uint32_t old_shift = st->cs.shift;
    st->cs = *n;
    st->cs.shift = n->shift - drop;
    st->cs.mult = (uint32_t)mult;
    st->cs.raw_mult = (uint32_t)raw_mult;
    st->cs.max_cycles = clocksource_max_cycles(st->cs.raw_mult, st->cs.mask);
    st->shift_drop = drop;
    tk_change_shift(tk, old_shift);
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        st->aux[i].mult = st->cs.raw_mult;
    tk_apply_slew(tk);
    tk_publish_all(tk);
    return 0;
}

int tk_set_shift_drop(struct timekeeper *tk, uint32_t drop)
{
    tk_lock(tk);
    int err = shift_drop_locked(tk, drop);
    tk_unlock(tk);
    return err;
}

int tk_set_clock_mode(struct timekeeper *tk, int32_t mode)
{
    tk_lock(tk);
    tk_forward_now(tk);
    tk->st.clock_mode = mode;
    tk_publish_all(tk);
    tk_unlock(tk);
    return 0;
}

/* Take the clocksource just programmed into tk->st.cs (old: the one it
 * replaced) with cycle_last at tsc; the clock values carry over. */
static void adopt_clocksource(struct timekeeper *tk, const struct tk_clocksource *old, uint64_t tsc)
{
    struct tk_state *st = &tk->st;

    st->shift_drop = 0; /* the new clocksource as programmed */
    tk_change_shift(tk, old->shift);
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        st->aux[i].mult = st->cs.raw_mult;
    tk_apply_slew(tk);
    st->cycle_last = tk_domain_counter(tk, st->cs.kind, tsc);
    st->clock_mode = tk_mode_for(st->cs.kind);
}

static int switch_counter_locked(struct timekeeper *tk, enum tk_counter_kind kind)
{
    int err = tk_kind_is_manual(kind) ? 0 : tk_ensure_rate(tk, 0);

    if (err)
        return err;
    uint64_t tsc = counter_rdtsc();
    tk_accumulate_to(tk, tk_domain_counter(tk, tk->st.cs.kind, tsc));
    struct tk_clocksource old = tk->st.cs;
    uint64_t manual = tk_domain_counter(tk, old.kind, tsc); /* continue from here */
    err = tk_program_domain(tk, kind, tsc, manual);
    if (err) {
        tk->st.cs = old;
        return err;
    }
    adopt_clocksource(tk, &old, tsc);
    tk_publish_all(tk);
    return 0;
}

int tk_switch_counter(struct timekeeper *tk, enum tk_counter_kind kind)
{
    if ((unsigned)kind > TK_COUNTER_HVCLOCK_HOST)
        return -EINVAL;
    tk_lock(tk);
    int err = switch_counter_locked(tk, kind);
    tk_unlock(tk);
    return err;
}

static int set_counter_locked(struct timekeeper *tk, uint64_t value)
{
    struct tk_state *st = &tk->st;

    if (st->cs.kind == TK_COUNTER_PVCLOCK_MANUAL) {
        st->pv.system_time = value;
        tk_write_pvclock(tk);
        return 0;
    }
    if (st->cs.kind == TK_COUNTER_HVCLOCK_MANUAL) {
        st->hv.tsc_offset = (int64_t)value;
        tk_write_hvclock(tk);
        return 0;
    }
    return -EINVAL;
}

int tk_set_counter(struct timekeeper *tk, uint64_t value)
{
    tk_lock(tk);
    int err = set_counter_locked(tk, value);
    tk_unlock(tk);
    return err;
}

int tk_advance_counter(struct timekeeper *tk, uint64_t delta)
{
    tk_lock(tk);
    /* A manual counter does not depend on the TSC: read it at TSC 0. */
    int err = set_counter_locked(tk, tk_domain_counter(tk, tk->st.cs.kind, 0) + delta);
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
    datapages_era_timens(tk->dp);
    tk_unlock(tk);
    return 0;
}

int tk_rng_bump(struct timekeeper *tk)
{
    struct vdso_rng_data *rng = datapages_rng(tk->dp);

    tk_lock(tk);
    uint64_t generation = __atomic_load_n(&rng->generation, __ATOMIC_RELAXED) + 1;
    __atomic_store_n(&rng->generation, generation, __ATOMIC_RELEASE);
    datapages_era_rng(tk->dp);
    tk_unlock(tk);
    return 0;
}

int tk_rng_set_ready(struct timekeeper *tk, bool ready)
{
    tk_lock(tk);
    __atomic_store_n(&datapages_rng(tk->dp)->is_ready, ready ? 1 : 0, __ATOMIC_RELEASE);
    datapages_era_rng(tk->dp);
    tk_unlock(tk);
    return 0;
}

int tk_aux_enable(struct timekeeper *tk, unsigned idx, struct timespec base)
{
    if (idx >= VDSO_MAX_AUX_CLOCKS || base.tv_sec < 0 || base.tv_nsec < 0 ||
        base.tv_nsec >= NSEC_PER_SEC)
        return -EINVAL;
    tk_lock(tk);
    tk_forward_now(tk);
    struct tk_aux *aux = &tk->st.aux[idx];
    aux->enabled = true;
    aux->mult = tk->st.cs.raw_mult;
    aux->sec = (uint64_t)base.tv_sec;
    aux->nsec = (uint64_t)base.tv_nsec << tk->st.cs.shift;
    tk_commit_aux(tk, idx);
    tk_unlock(tk);
    return 0;
}

int tk_aux_disable(struct timekeeper *tk, unsigned idx)
{
    if (idx >= VDSO_MAX_AUX_CLOCKS)
        return -EINVAL;
    tk_lock(tk);
    tk->st.aux[idx].enabled = false;
    tk_commit_aux(tk, idx);
    tk_unlock(tk);
    return 0;
}
