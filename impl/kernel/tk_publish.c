/*
 * update_vsyscall(): turn the timekeeper's state into the vdso_clock records
 * (docs/abi.md §2.1 steps 2-7) and publish them under the seqcount: both seqs
 * odd, release fence, data, release fence, both seqs even. The commit also
 * logs the new state and advances the generation before the seq turns even,
 * so oracles never see a state they cannot find in the log.
 */
#include "tk_internal.h"
#include <vdsokit/datapages_era.h>

static void set_ts(struct vdso_timestamp *t, uint64_t sec, uint64_t nsec)
{
    t->sec = sec;
    t->nsec = nsec;
}

/* sec/nsec + off (nsec in [0, 1e9)) in units of 1 << shift, normalised by
 * subtraction like the kernel (at most one carry per addition). */
static void add_offset(struct vdso_timestamp *t, struct timespec off, uint32_t shift)
{
    uint64_t unit = (uint64_t)NSEC_PER_SEC << shift;

    t->sec += (uint64_t)off.tv_sec;
    t->nsec += (uint64_t)off.tv_nsec << shift;
    while (t->nsec >= unit) {
        t->nsec -= unit;
        t->sec++;
    }
}

static void fill_coarse(struct timekeeper *tk, struct vdso_clock *c0)
{
    struct vdso_timestamp *rt = &c0->basetime[VDSO_CLOCK_REALTIME_COARSE];
    struct vdso_timestamp *mono = &c0->basetime[VDSO_CLOCK_MONOTONIC_COARSE];

    set_ts(rt, tk->st.xtime_sec, tk->st.coarse_nsec);
    *mono = *rt;
    add_offset(mono, tk->st.wall_to_monotonic, 0);
}

static void fill_counter_based(struct timekeeper *tk, struct vdso_clock *c0, struct vdso_clock *c1)
{
    uint32_t shift = tk->st.cs.shift;

    for (int i = 0; i < VDSO_CS_BASES; i++) {
        struct vdso_clock *c = i ? c1 : c0;
        c->cycle_last = tk->st.cycle_last;
        c->max_cycles = tk->st.cs.max_cycles;
        c->mask = tk->st.cs.mask;
        c->shift = shift;
    }
    c0->mult = tk->st.mult;
    c1->mult = tk->st.cs.raw_mult;

    struct vdso_timestamp *mono = &c0->basetime[VDSO_CLOCK_MONOTONIC];
    set_ts(mono, tk->st.xtime_sec, tk->st.xtime_nsec);
    add_offset(mono, tk->st.wall_to_monotonic, shift);
    struct vdso_timestamp *boot = &c0->basetime[VDSO_CLOCK_BOOTTIME];
    *boot = *mono;
    add_offset(boot, tk->st.offs_boot, shift);
    set_ts(&c0->basetime[VDSO_CLOCK_TAI], tk->st.xtime_sec + (uint64_t)(int64_t)tk->st.tai_offset,
           tk->st.xtime_nsec);
    set_ts(&c1->basetime[VDSO_CLOCK_MONOTONIC_RAW], tk->st.raw_sec, tk->st.raw_nsec);
}

static void fill_shadow(struct timekeeper *tk)
{
    struct vdso_clock *c0 = &tk->st.shadow.clock_data[VDSO_CS_HRES_COARSE];
    struct vdso_clock *c1 = &tk->st.shadow.clock_data[VDSO_CS_RAW];

    c0->clock_mode = tk->st.clock_mode;
    c1->clock_mode = tk->st.clock_mode;
    set_ts(&c0->basetime[VDSO_CLOCK_REALTIME], tk->st.xtime_sec, tk->st.xtime_nsec);
    fill_coarse(tk, c0);
    tk->st.shadow.hrtimer_res = tk->st.hrtimer_res;
    /* Without a vDSO-capable clocksource the kernel leaves the rest stale. */
    if (tk->st.clock_mode != VDSO_CLOCKMODE_NONE)
        fill_counter_based(tk, c0, c1);
}

static void store_seq(struct vdso_clock *page_clock, uint32_t seq)
{
    __atomic_store_n(&page_clock->seq, seq, __ATOMIC_RELAXED);
}

/*
 * The odd seq ends the committed state's time window: the counter is read
 * once the odd seq is globally visible (in the era pages too) and logged as
 * the state's supersede point. A reader whose re-check still saw the old
 * even seq loaded it before this store became visible, and its counter read
 * precedes that re-check, so its counter is below the logged one up to the
 * cross-CPU skew (docs/abi.md §2.2, "the time window of a state").
 */
void tk_write_begin(struct timekeeper *tk)
{
    struct vdso_time_data *page = datapages_time(tk->dp);

    for (int i = 0; i < VDSO_CS_BASES; i++)
        store_seq(&page->clock_data[i], ++tk->st.shadow.clock_data[i].seq);
    datapages_era_seqs(tk->dp);
    tk_log_supersede(&tk->log, counter_rdtsc_after_stores());
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* A committed state, logged under the next generation (before its seq turns even). */
static void log_commit(struct timekeeper *tk, uint32_t seq, const struct vdso_time_data *data)
{
    uint64_t generation = tk->generation + 1;

    tk_log_append(&tk->log, generation, seq, data);
    __atomic_store_n(&tk->generation, generation, __ATOMIC_RELEASE);
}

void tk_write_end(struct timekeeper *tk)
{
    struct vdso_time_data *page = datapages_time(tk->dp);

    for (int i = 0; i < VDSO_CS_BASES; i++)
        tk->st.shadow.clock_data[i].seq++;
    log_commit(tk, tk->st.shadow.clock_data[0].seq, &tk->st.shadow);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (int i = 0; i < VDSO_CS_BASES; i++)
        store_seq(&page->clock_data[i], tk->st.shadow.clock_data[i].seq);
    datapages_era_seqs(tk->dp);
}

static void store_shadow(struct timekeeper *tk)
{
    struct vdso_time_data *page = datapages_time(tk->dp);

    for (int i = 0; i < VDSO_CS_BASES; i++)
        datapages_store_clock(&page->clock_data[i], &tk->st.shadow.clock_data[i]);
    __atomic_store_n(&page->hrtimer_res, tk->st.shadow.hrtimer_res, __ATOMIC_RELAXED);
    datapages_era_data(tk->dp);
}

/* Inside a hand-made update (tk_update_begin) the seq stays odd. */
void tk_publish_shadow(struct timekeeper *tk)
{
    tk_assert_held(tk);
    if (!tk->hand_open)
        tk_write_begin(tk);
    store_shadow(tk);
    if (!tk->hand_open)
        tk_write_end(tk);
}

void tk_publish(struct timekeeper *tk)
{
    fill_shadow(tk);
    tk_publish_shadow(tk);
}

/*
 * Log aux clock idx's new state as a committed one. Inside an open
 * hand-made update the main clocks' committed state is the last logged
 * one, not the half-written shadow: the entry is that one with this aux
 * clock replaced.
 */
static void log_aux(struct timekeeper *tk, unsigned idx)
{
    struct tk_log_entry e;

    if (!tk->hand_open || tk_log_copy(tk, tk->generation, tk->generation, &e, 1) != 1) {
        e.seq = tk->st.shadow.clock_data[0].seq;
        e.data = tk->st.shadow;
    }
    e.data.aux_clock_data[idx] = tk->st.shadow.aux_clock_data[idx];
    log_commit(tk, e.seq, &e.data);
}

/*
 * One aux clock under its own seq. Its new state is logged before the aux
 * seq turns even (as tk_write_end() does for the main clocks) when it is an
 * update of its own (commit: enable, disable) or when a hand-made update
 * holds the main commit back; inside an accumulation the main commit that
 * follows logs it.
 */
static void publish_aux(struct timekeeper *tk, unsigned idx, bool commit)
{
    tk_assert_held(tk);
    struct vdso_clock *sh = &tk->st.shadow.aux_clock_data[idx];
    struct vdso_clock *page = &datapages_time(tk->dp)->aux_clock_data[idx];
    const struct tk_aux *aux = &tk->st.aux[idx];
    store_seq(page, ++sh->seq);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (aux->enabled) {
        sh->clock_mode = tk->st.clock_mode;
        sh->cycle_last = tk->st.cycle_last;
        sh->max_cycles = tk->st.cs.max_cycles;
        sh->mask = tk->st.cs.mask;
        sh->mult = aux->mult;
        sh->shift = tk->st.cs.shift;
        set_ts(&sh->basetime[VDSO_BASE_AUX], aux->sec, aux->nsec);
    } else {
        sh->clock_mode = VDSO_CLOCKMODE_NONE;
    }
    datapages_store_clock(page, sh);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    ++sh->seq;
    if (commit || tk->hand_open)
        log_aux(tk, idx);
    store_seq(page, sh->seq);
}

void tk_publish_aux(struct timekeeper *tk, unsigned idx)
{
    publish_aux(tk, idx, false);
}

void tk_commit_aux(struct timekeeper *tk, unsigned idx)
{
    publish_aux(tk, idx, true);
}

void tk_publish_all(struct timekeeper *tk)
{
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        if (tk->st.aux[i].enabled)
            tk_publish_aux(tk, i);
    tk_publish(tk);
}

/* The first update: seqs as scripted, tz, an initialised rng. */
void tk_publish_start(struct timekeeper *tk)
{
    struct vdso_datapages *dp = tk->dp;
    struct vdso_time_data *page = datapages_time(dp);

    for (int i = 0; i < VDSO_CS_BASES; i++)
        store_seq(&page->clock_data[i], tk->st.shadow.clock_data[i].seq);
    __atomic_store_n(&page->tz_minuteswest, tk->st.shadow.tz_minuteswest, __ATOMIC_RELAXED);
    __atomic_store_n(&page->tz_dsttime, tk->st.shadow.tz_dsttime, __ATOMIC_RELAXED);
    struct vdso_rng_data *rng = datapages_rng(dp);
    __atomic_store_n(&rng->generation, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&rng->is_ready, 1, __ATOMIC_RELEASE);
    datapages_era_seqs(dp);
    datapages_era_data(dp);
    datapages_era_rng(dp);
    tk_publish(tk);
}
