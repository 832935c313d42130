/*
 * Group 4, concurrent updates (defect classes C1, C2, C5, C6, C8, C9): the
 * timekeeper storms the data pages (back to back and at HZ, slews of up to
 * ±500 ppm, REALTIME steps both ways, boot-offset jumps and suspends, mode
 * flips TSC -> PVCLOCK -> unstable pvclock -> NONE -> TSC, seq wrapping
 * past 2^32, odd pvclock versions) while one reader pinned to each CPU
 * calls the target and checks every result against the model: exact for
 * one committed state, or a fallback exactly where a candidate state
 * cannot be served. Monotonic clocks are compared across all readers (a
 * reading may not be below one that was complete before the call began);
 * where the scenario changes the rate or the counter, a regression the
 * emulated kernel's own states explain (the model of both states at the
 * earlier reading's counter) is allowed and counted, any other fails.
 * getcpu is part of every reader's mix. A reader that never returns is a
 * livelock: the test fails naming the call. Only in-process targets have
 * pages this process can write; for live and libc each test is a SKIP
 * saying so.
 *
 * This file is the group's scenario table: the writer's operations after
 * each tick and what each scenario lets readers accept. The storm engine
 * (concurrent_storm.c) runs a scenario; the verifier (concurrent_verify.c)
 * judges each reading.
 */
#include <time.h>

#include "concurrent_storm.h"
#include "oracle.h"
#include <vdsokit/timekeeper_raw.h>

/* ---- the writer's operations after each tick (writer thread; arg: struct conc_writer) ---- */

static uint64_t writer_rand(void *arg)
{
    return conf_rand(&((struct conc_writer *)arg)->rng);
}

/* A step of 1 ns to 1 s. */
static int64_t random_step_ns(void *arg)
{
    return (int64_t)(writer_rand(arg) % NSEC_PER_SEC) + 1;
}

static void tick_slew(struct timekeeper *tk, uint64_t tick, void *arg)
{
    tk_slew_ppm(tk, (int32_t)(writer_rand(arg) % 1001) - 500);
}

static void tick_steps(struct timekeeper *tk, uint64_t tick, void *arg)
{
    int64_t ns = random_step_ns(arg);

    tk_step_realtime(tk, (tick & 1) ? -ns : ns);
}

static void tick_boot(struct timekeeper *tk, uint64_t tick, void *arg)
{
    int64_t ns = random_step_ns(arg);

    if (tick & 1)
        tk_add_boot_offset(tk, ns);
    else
        tk_inject_sleep(tk, ns);
}

static void tick_flips(struct timekeeper *tk, uint64_t tick, void *arg)
{
    switch (tick % 6) {
    case 0:
        tk_switch_counter(tk, TK_COUNTER_PVCLOCK_HOST);
        break;
    case 1:
        tk_pvclock_set_stable(tk, false);
        break;
    case 2:
        tk_pvclock_set_stable(tk, true);
        break;
    case 3:
    case 5:
        tk_set_clock_mode(tk, VDSO_CLOCKMODE_NONE);
        break;
    case 4:
        tk_switch_counter(tk, TK_COUNTER_TSC);
        break;
    }
}

#define WRAP_REARM 64 /* ticks, each at least one update */

static void tick_wrap(struct timekeeper *tk, uint64_t tick, void *arg)
{
    if (tick % WRAP_REARM == 0)
        tk_set_seq(tk, 0xfffffff0u); /* the next updates wrap past 2^32 */
}

#define VERSION_PULSES 8        /* per tick */
#define PULSE_REST_NS  10000ull /* asked for; a timer wakes the writer later */

static void spin_ns(int64_t ns)
{
    int64_t until = mono_now_ns() + ns;

    while (mono_now_ns() < until) {
    }
}

/*
 * Odd versions make every pvclock reader wait, each until a new even one;
 * while one is odd the timekeeper commits a suspend of 1 us to 1 ms
 * (REALTIME, TAI and BOOTTIME jump forward). Between pulses the writer
 * sleeps, and each wakeup preempts a reader at some point of its call:
 * one caught between its seq check and its counter read (or waiting on
 * the odd version there) must retry; one that does not re-check the seq
 * after its counter read returns the old state's time past that state's
 * supersede point (group 4's time window per state). Eight wakeups per
 * tick catch such a reader in every quick run; one per tick did in about
 * half of them.
 */
static void tick_pvclock_version(struct timekeeper *tk, uint64_t tick, void *arg)
{
    struct conc_writer *w = arg;
    struct pvclock_vcpu_time_info *pv = datapages_pvclock(&w->l->dp);
    const struct timespec rest = {0, PULSE_REST_NS};

    for (int i = 0; i < VERSION_PULSES; i++) {
        uint32_t v = __atomic_load_n(&pv->version, __ATOMIC_RELAXED) | 1;
        tk_pvclock_set_version(tk, v);
        spin_ns(1000);
        tk_inject_sleep(tk, random_step_ns(arg) / 1000 + 1000);
        tk_pvclock_set_version(tk, v + 1);
        nanosleep(&rest, NULL);
    }
}

/* The state the writer just committed (the callback runs after the tick). */
static bool newest_state(struct timekeeper *tk, struct tk_log_entry *e)
{
    uint64_t g = tk_generation(tk);

    return tk_log_copy(tk, g, g, e, 1) == 1;
}

/* Base slots read with the counter (the COARSE slots are plain ns). */
static bool counter_slot(int clock_data, int slot)
{
    return clock_data == 1 || (slot != CLOCK_REALTIME_COARSE && slot != CLOCK_MONOTONIC_COARSE);
}

/*
 * C8 (counter behind cycle_last): after each tick, republish the state
 * with cycle_last moved a quarter tick ahead and the bases moved along the
 * same line, as a timekeeper on a CPU whose TSC leads would. Until the
 * counter catches up a correct vDSO clamps the delta to 0 (time stands at
 * the new base, never behind); an unclamped delta wraps to about 2^64.
 */
static void tick_counter_behind(struct timekeeper *tk, uint64_t tick, void *arg)
{
    struct conc_writer *w = arg;
    struct tk_log_entry e;

    if (!newest_state(tk, &e))
        return;
    struct vdso_clock cd[VDSO_CS_BASES];
    for (int c = 0; c < VDSO_CS_BASES; c++) {
        cd[c] = e.data.clock_data[c];
        /* A quarter of the tick period, in counter units, from the clock's own rate. */
        uint64_t lead = ((uint64_t)(NSEC_PER_SEC / 4 / w->hz) << cd[c].shift) / cd[c].mult;
        cd[c].cycle_last += lead;
        for (int i = 0; i < VDSO_BASES; i++)
            if (counter_slot(c, i))
                cd[c].basetime[i].nsec += lead * cd[c].mult;
    }
    tk_publish_raw(tk, cd);
}

/*
 * The same rate with mult and shift scaled up by one power of two, 2^k:
 * every reading stays the same to the bit (the shifted bases scale too,
 * and the extra shift drops exactly the bits the product gained), but the
 * stall that overflows 64 bits shrinks from 2^64 / mult to about 2^32
 * counter units, which even a machine booted seconds ago has counted. The
 * shift stays at most 32 so that a second in shifted ns leaves room in 64
 * bits, and max_cycles keeps the 64-bit product of any delta below it from
 * overflowing, as the kernel's does.
 */
#define WIDE_SHIFT_MAX 32

static void widen_mult(struct vdso_clock *vc, int clock_data)
{
    unsigned k = 0;

    while (((uint64_t)vc->mult << (k + 1)) <= UINT32_MAX && vc->shift + k + 1 <= WIDE_SHIFT_MAX)
        k++;
    vc->mult <<= k;
    vc->shift += k;
    for (int i = 0; i < VDSO_BASES; i++)
        if (counter_slot(clock_data, i))
            vc->basetime[i].nsec <<= k;
    uint64_t no_overflow = (UINT64_MAX - ((uint64_t)NSEC_PER_SEC << vc->shift)) / vc->mult;
    if (vc->max_cycles > no_overflow)
        vc->max_cycles = no_overflow;
}

/*
 * C9 (no 128-bit path): after each tick, republish the state as if the
 * last update were a long stall ago: cycle_last moved back by D counter
 * units with D * mult >= 2^64 (beyond max_cycles), the bases moved back
 * along the same line (whole seconds into sec, the rest into nsec), so
 * that every reading is the same time as before, computable only in 128
 * bits. time() reads the moved base seconds, as the kernel's would. mult
 * is widened first so that D stays below the counter of a freshly booted
 * machine; a counter still below D leaves the state as it is.
 */
static void stall_clock(struct vdso_clock *vc, int clock_data)
{
    if (vc->mult == 0)
        return;
    widen_mult(vc, clock_data);
    uint64_t d = (uint64_t)(((unsigned __int128)1 << 64) / vc->mult) * 17 / 16 + 1;
    if (vc->cycle_last < d)
        return;
    unsigned __int128 e = (unsigned __int128)d * vc->mult;
    unsigned __int128 unit = (unsigned __int128)NSEC_PER_SEC << (vc->shift & 63);
    uint64_t q = (uint64_t)(e / unit), r = (uint64_t)(e % unit);

    vc->cycle_last -= d;
    for (int i = 0; i < VDSO_BASES; i++) {
        if (!counter_slot(clock_data, i))
            continue;
        struct vdso_timestamp *b = &vc->basetime[i];
        if (b->nsec >= r) {
            b->nsec -= r;
            b->sec -= q;
        } else {
            b->nsec = (uint64_t)(b->nsec + unit - r);
            b->sec -= q + 1;
        }
    }
}

static void tick_long_stall(struct timekeeper *tk, uint64_t tick, void *arg)
{
    struct tk_log_entry e;

    if (!newest_state(tk, &e))
        return;
    struct vdso_clock cd[VDSO_CS_BASES];
    for (int c = 0; c < VDSO_CS_BASES; c++) {
        cd[c] = e.data.clock_data[c];
        stall_clock(&cd[c], c);
    }
    tk_publish_raw(tk, cd);
}

/*
 * C12 and C21: step REALTIME so that a second boundary falls 100 us after
 * each tick. Until the next tick the fine REALTIME needs a carry into the
 * seconds while the base seconds (time(), REALTIME_COARSE) stay behind.
 */
static void tick_second_boundary(struct timekeeper *tk, uint64_t tick, void *arg)
{
    struct tk_log_entry e;

    if (!newest_state(tk, &e))
        return;
    const struct vdso_clock *vc = &e.data.clock_data[0];
    int64_t frac = (int64_t)(vc->basetime[CLOCK_REALTIME].nsec >> (vc->shift & 63));
    int64_t step = NSEC_PER_SEC - 100000 - frac;
    if (step > NSEC_PER_SEC / 2)
        step -= NSEC_PER_SEC;
    tk_step_realtime(tk, step);
}

static void setup_wrap(struct timekeeper *tk)
{
    tk_set_seq(tk, 0xfffffff0u);
}

static void setup_pvclock(struct timekeeper *tk)
{
    tk_switch_counter(tk, TK_COUNTER_PVCLOCK_HOST);
}

#define ALL_MONO                                                                      \
    ((1u << CLOCK_MONOTONIC) | (1u << CLOCK_MONOTONIC_RAW) | (1u << CLOCK_BOOTTIME) | \
     (1u << CLOCK_MONOTONIC_COARSE) | (1u << CLOCK_REALTIME) | (1u << CLOCK_TAI) |    \
     (1u << CLOCK_REALTIME_COARSE))
#define UNSTEPPED                                                                     \
    ((1u << CLOCK_MONOTONIC) | (1u << CLOCK_MONOTONIC_RAW) | (1u << CLOCK_BOOTTIME) | \
     (1u << CLOCK_MONOTONIC_COARSE))

/* Readings must be exact or a proven (trapped) fallback; unset fields are false, 0 or NULL. */
static const struct conc_scenario scenarios[] = {
    {.id = "concurrent.storm.back_to_back",
     .hz = 0,
     .mono_mask = ALL_MONO,
     .policy = CONC_MONO_STRICT,
     .min_fraction = 0.0},
    {.id = "concurrent.storm.hz",
     .hz = 1000,
     .mono_mask = ALL_MONO,
     .policy = CONC_MONO_STRICT,
     .min_fraction = 0.9},
    {.id = "concurrent.slew",
     .hz = 2000,
     .tick = tick_slew,
     .mono_mask = ALL_MONO,
     .policy = CONC_MONO_EXPLAIN,
     .min_fraction = 0.9},
    {.id = "concurrent.steps",
     .hz = 2000,
     .tick = tick_steps,
     .mono_mask = UNSTEPPED,
     .policy = CONC_MONO_STRICT,
     .min_fraction = 0.9},
    /* Only forward jumps: every clock must still be monotonic. */
    {.id = "concurrent.boot_jumps",
     .hz = 2000,
     .tick = tick_boot,
     .mono_mask = ALL_MONO,
     .policy = CONC_MONO_STRICT,
     .min_fraction = 0.9},
    {.id = "concurrent.mode_flips",
     .hz = 1000,
     .tick = tick_flips,
     .mono_mask = ALL_MONO,
     .policy = CONC_MONO_EXPLAIN,
     .need_fallback = true,
     .min_fraction = 0.9},
    {.id = "concurrent.seq_wrap",
     .hz = 0,
     .tick = tick_wrap,
     .mono_mask = ALL_MONO,
     .policy = CONC_MONO_STRICT,
     .min_fraction = 0.0,
     .setup = setup_wrap,
     .seq_repeats_after = WRAP_REARM},
    {.id = "concurrent.pvclock_version",
     .hz = 1000,
     .tick = tick_pvclock_version,
     .mono_mask = ALL_MONO,
     .policy = CONC_MONO_STRICT,
     .min_fraction = 0.9,
     .setup = setup_pvclock},
    {.id = "concurrent.getcpu",
     .hz = 0,
     .mono_mask = ALL_MONO,
     .policy = CONC_MONO_STRICT,
     .min_fraction = 0.0,
     .churn = true},
    {.id = "concurrent.counter_behind",
     .hz = 1000,
     .tick = tick_counter_behind,
     .mono_mask = ALL_MONO,
     .policy = CONC_MONO_EXPLAIN,
     .min_fraction = 0.9,
     .lead_ok = true},
    {.id = "concurrent.long_stall",
     .hz = 1000,
     .tick = tick_long_stall,
     .mono_mask = ALL_MONO,
     .policy = CONC_MONO_STRICT,
     .wraps_before_6_10 = true,
     .min_fraction = 0.9},
    {.id = "concurrent.second_boundary",
     .hz = 1000,
     .tick = tick_second_boundary,
     .mono_mask = UNSTEPPED,
     .policy = CONC_MONO_STRICT,
     .min_fraction = 0.9},
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

void group_concurrent(struct conf_ctx *ctx)
{
    struct vdso_loaded *l = conf_inproc(ctx->target);

    if (l && l->tk && !ctx->listing)
        tk_writer_stop(l->tk); /* the group's own writers replace the steady tick */
    for (unsigned i = 0; i < NSCENARIOS; i++) {
        if (!l || !l->tk) {
            conf_test_skip(ctx, scenarios[i].id,
                           "needs an in-process target (ref, image:PATH): the data pages of %s "
                           "belong to the kernel",
                           ctx->target->name);
            continue;
        }
        if (!conf_test_begin(ctx, "%s", scenarios[i].id))
            continue;
        if (conf_require(ctx, ctx->target->fn.clock_gettime, "clock_gettime"))
            conc_storm_run(ctx, l, &scenarios[i]);
        conf_test_end(ctx);
    }
}
