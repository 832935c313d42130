/*
 * Group 2, exact values (in-process targets only): the emulated kernel's
 * counter is frozen (a pvclock page whose multiplier is 0, so the counter
 * is the value the test writes), which leaves every clock exactly one right
 * answer per committed state: the model's. At seeded counter values, after
 * a seeded slew and a seeded coarser shift (the bases keep non-zero
 * fractions below the nanosecond), each counter clock, each coarse clock,
 * gettimeofday and time must equal the model bit for bit (tolerance 0). A
 * rounding of the shifted sum that differs from the kernel's (C11: the
 * product and the base fraction shifted apart) fails here, where a bracket
 * of readings could never see one nanosecond. The steady writer stops for
 * the rest of the group (as in group 4): no state changes behind the test.
 */
#include <stdio.h>
#include <string.h>

#include "consistency.h"
#include "inproc.h"
#include "oracle.h"
#include <vdsokit/timekeeper.h>

#define EXACT_ITERS    64
#define ADVANCE_MAX    (1u << 20) /* counter units per step: well below max_cycles */
#define EXACT_SLEW_PPM 500

enum exact_op { EXACT_CLOCK, EXACT_GETTIMEOFDAY, EXACT_TIME };

static const struct {
    const char *name;
    enum exact_op op;
    clockid_t clk;
} exact_tests[] = {
    {"realtime", EXACT_CLOCK, CLOCK_REALTIME},
    {"monotonic", EXACT_CLOCK, CLOCK_MONOTONIC},
    {"boottime", EXACT_CLOCK, CLOCK_BOOTTIME},
    {"tai", EXACT_CLOCK, CLOCK_TAI},
    {"monotonic_raw", EXACT_CLOCK, CLOCK_MONOTONIC_RAW},
    {"realtime_coarse", EXACT_CLOCK, CLOCK_REALTIME_COARSE},
    {"monotonic_coarse", EXACT_CLOCK, CLOCK_MONOTONIC_COARSE},
    {"gettimeofday", EXACT_GETTIMEOFDAY, 0},
    {"time", EXACT_TIME, 0},
};
#define NEXACT (sizeof(exact_tests) / sizeof(exact_tests[0]))

/* One reading and the model's value, in ns (clocks), us (gettimeofday) or s (time). */
struct exact_pair {
    int ret;
    int64_t got, want;
    enum tk_model_outcome outcome;
};

static struct exact_pair read_pair(const struct conf_target *t, struct vdso_loaded *l, unsigned i,
                                   const struct conf_inproc_now *now)
{
    struct tk_model_view v = conf_inproc_view(l, &now->state, now->counter);
    struct exact_pair p = {0};

    if (exact_tests[i].op == EXACT_CLOCK) {
        struct timespec got = {0}, want = {0};
        p.ret = t->fn.clock_gettime(exact_tests[i].clk, &got);
        p.outcome = tk_model_clock_gettime(&v, exact_tests[i].clk, &want);
        p.got = ts_ns(&got);
        p.want = ts_ns(&want);
    } else if (exact_tests[i].op == EXACT_GETTIMEOFDAY) {
        struct timeval got = {0}, want = {0};
        p.ret = t->fn.gettimeofday(&got, NULL);
        p.outcome = tk_model_gettimeofday(&v, &want, NULL);
        p.got = tv_us(&got);
        p.want = tv_us(&want);
    } else {
        p.ret = 0;
        p.got = t->fn.time(NULL);
        p.outcome = tk_model_time(&v, &p.want);
    }
    return p;
}

/*
 * A new state (a seeded coarser shift and slew, committed at the frozen
 * counter), then the counter moved on without an update: the reading
 * needs delta * mult plus the base's fraction.
 */
static void vary(struct timekeeper *tk, uint64_t *rng)
{
    const struct tk_constants *c = tk_constants_of(tk);
    uint32_t drop = c ? c->shift_drop : 0;

    tk_set_shift_drop(tk, (uint32_t)(conf_rand(rng) % (drop + 1)));
    tk_slew_ppm(tk, (int32_t)(conf_rand(rng) % (2 * EXACT_SLEW_PPM + 1)) - EXACT_SLEW_PPM);
    tk_advance_counter(tk, 1 + conf_rand(rng) % ADVANCE_MAX);
}

static void compare(struct conf_ctx *ctx, struct vdso_loaded *l, unsigned i, uint64_t *rng)
{
    static const char *const units[] = {"ns", "us", "s"};
    unsigned iters = conf_budget_iters(ctx, EXACT_ITERS), served = 0;

    for (unsigned it = 0; it < iters; it++) {
        vary(l->tk, rng);
        struct conf_inproc_now now;
        if (!conf_inproc_snapshot(l, &now)) {
            conf_fail(ctx, "no snapshot of the emulated kernel (the writer is stopped)");
            return;
        }
        struct exact_pair p = read_pair(ctx->target, l, i, &now);
        if (p.outcome != TK_MODEL_OK)
            continue;
        served++;
        if (p.ret == 0 && p.got == p.want)
            continue;
        conf_fail(ctx,
                  "%s returned %d, value %lld %s; the model of state %llu at the frozen counter "
                  "%llu (mult %u, shift %u) gives exactly %lld %s (tolerance 0)",
                  exact_tests[i].name, p.ret, (long long)p.got, units[exact_tests[i].op],
                  (unsigned long long)now.state.generation, (unsigned long long)now.counter,
                  now.state.data.clock_data[0].mult, now.state.data.clock_data[0].shift,
                  (long long)p.want, units[exact_tests[i].op]);
        return;
    }
    conf_note(ctx, "%u of %u readings at a frozen counter compared exactly", served, iters);
}

static void exact_one(struct conf_ctx *ctx, struct vdso_loaded *l, unsigned i)
{
    uint64_t rng = ctx->seed ^ (0x6578616374ull + i);
    int err = tk_switch_counter(l->tk, TK_COUNTER_PVCLOCK_MANUAL);

    if (err) {
        conf_fail(ctx, "the emulated kernel cannot switch to a frozen pvclock: %s", strerror(-err));
        return;
    }
    compare(ctx, l, i, &rng);
    /* Back to the target's own counter; the shift as programmed. */
    tk_switch_counter(l->tk, conf_inproc_counter(ctx->target));
}

/* The entry point test i calls, and its name, for conf_require. */
static const void *entry(const struct conf_target *t, unsigned i, const char **name)
{
    if (exact_tests[i].op == EXACT_CLOCK) {
        *name = "clock_gettime";
        return t->fn.clock_gettime;
    }
    if (exact_tests[i].op == EXACT_GETTIMEOFDAY) {
        *name = "gettimeofday";
        return t->fn.gettimeofday;
    }
    *name = "time";
    return t->fn.time;
}

void consistency_exact(struct conf_ctx *ctx)
{
    struct vdso_loaded *l = conf_inproc(ctx->target);
    bool stopped = false;
    const char *name = NULL;

    for (unsigned i = 0; i < NEXACT; i++) {
        if (!conf_test_begin(ctx, "consistency.exact.%s", exact_tests[i].name))
            continue;
        if (!l || !l->tk) {
            conf_skip(ctx, "needs an in-process target: only the emulated kernel's counter can be "
                           "frozen");
        } else if (conf_require(ctx, entry(ctx->target, i, &name), name)) {
            if (!stopped)
                tk_writer_stop(l->tk); /* no state changes behind the test from here */
            stopped = true;
            exact_one(ctx, l, i);
        }
        conf_test_end(ctx);
    }
}
