/*
 * Group `interleave`: the deterministic interleaving explorer
 * (vdsokit/explore.h) on an in-process target. For each clock mode (TSC,
 * pvclock, Hyper-V, a flip to NONE, reads through a namespace page) and
 * each call (the HRES, RAW and COARSE classes of clock_gettime,
 * gettimeofday, time, clock_getres), the call runs once unperturbed and
 * then under every schedule of one update (the quick tier) and of two
 * updates in order (the full tier); the first schedule whose result no
 * allowed state explains fails the test with the schedule, the access
 * trace and the command that replays it. `--explore-replay` runs one
 * schedule and prints its trace.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "inproc.h"
#include "oracle.h"
#include <vdsokit/explore.h>
#include <vdsokit/vgetrandom.h>

struct interleave_call {
    const char *name;
    struct explore_call call;
};

static const struct interleave_call calls[] = {
    {"monotonic", {EXPLORE_GETTIME, VDSO_CLOCK_MONOTONIC}},
    {"monotonic_raw", {EXPLORE_GETTIME, VDSO_CLOCK_MONOTONIC_RAW}},
    {"realtime_coarse", {EXPLORE_GETTIME, VDSO_CLOCK_REALTIME_COARSE}},
    {"gettimeofday", {EXPLORE_GETTIMEOFDAY, 0}},
    {"time", {EXPLORE_TIME, 0}},
    {"getres", {EXPLORE_GETRES, VDSO_CLOCK_MONOTONIC}},
};
#define NCALLS     (sizeof calls / sizeof calls[0])
#define TRACE_HEAD 28 /* loads of a failing trace printed from its start ... */
#define TRACE_TAIL 8  /* ... and from its end */

struct sweep {
    struct conf_ctx *ctx;
    struct explore *x;
    const struct explore_call *call;
    enum explore_mode mode;
    struct explore_outcome *o;
    unsigned runs, failed;
    char first[64]; /* the first failing schedule */
};

static const void *entry_of(const struct vdso_loaded *l, enum explore_entry e)
{
    return e == EXPLORE_GETTIME        ? (const void *)l->clock_gettime
           : e == EXPLORE_GETTIMEOFDAY ? (const void *)l->gettimeofday
           : e == EXPLORE_TIME         ? (const void *)l->time
                                       : (const void *)l->clock_getres;
}

/* The evidence of one failing run: verdict, schedule, trace, replay command. */
static void report(struct conf_ctx *ctx, const struct explore_call *c, enum explore_mode mode,
                   const struct explore_schedule *s, const struct explore_outcome *o)
{
    char sched[64];
    static char trace[EXPLORE_MAX_TRACE * 64];

    explore_schedule_format(s, sched, sizeof sched);
    explore_trace_format(o, trace, sizeof trace);
    conf_fail(ctx, "%s: %s", explore_verdict_name(o->verdict), o->why);
    conf_note(ctx,
              "schedule %s (LOAD.UPDATE.FROM-TO: before load LOAD apply stores [FROM, TO) of "
              "update UPDATE)",
              sched);
    if (c->entry != EXPLORE_GETRANDOM)
        conf_note(ctx, "replay: vdsoconf --target %s --explore-replay %s:%d:%s:%s",
                  ctx->target->name, explore_entry_name(c->entry), c->clk, explore_mode_name(mode),
                  sched);
    /* A livelock's trace is thousands of loads: its head and tail tell. */
    unsigned i = 0;
    for (char *line = strtok(trace, "\n"); line; line = strtok(NULL, "\n"), i++) {
        if (i < TRACE_HEAD || i + TRACE_TAIL >= o->ntrace)
            conf_note(ctx, "  %s", line);
        else if (i == TRACE_HEAD)
            conf_note(ctx, "  ... %u loads ...", o->ntrace - TRACE_HEAD - TRACE_TAIL);
    }
}

static int run_one(const struct explore_schedule *s, void *arg)
{
    struct sweep *w = arg;
    struct vdsokit_error err;

    w->runs++;
    if (explore_run(w->x, w->call, s, w->o, &err) != 0) {
        conf_fail(w->ctx, "%s", err.msg);
        return 1;
    }
    if (w->o->verdict == EXPLORE_PASS)
        return 0;
    if (!w->failed++)
        report(w->ctx, w->call, w->mode, s, w->o);
    return 1; /* one schedule is proof enough; the rest would cost time */
}

static void sweep_call(struct conf_ctx *ctx, struct explore *x, enum explore_mode mode,
                       const struct interleave_call *ic, struct explore_outcome *base,
                       struct explore_outcome *o)
{
    struct sweep w = {.ctx = ctx, .x = x, .call = &ic->call, .mode = mode, .o = base};
    int64_t t0 = mono_now_ns();
    struct vdsokit_error err;

    /*
     * An image built without a counter page's clocksource (a kernel without
     * Hyper-V support, say) makes the syscall in that mode unperturbed: a
     * property of its build that group 2 judges, not an interleaving.
     */
    if (explore_run(x, &ic->call, NULL, base, &err) != 0) {
        conf_fail(ctx, "%s", err.msg);
        return;
    }
    if (base->verdict == EXPLORE_BAD_TRAP && base->traps &&
        (mode == EXPLORE_PVCLOCK || mode == EXPLORE_HVCLOCK)) {
        conf_skip(ctx,
                  "the image does not read the %s page (its unperturbed call made the "
                  "syscall): not built for that clocksource",
                  explore_mode_name(mode));
        return;
    }
    if (run_one(NULL, &w))
        return;
    w.o = o;
    unsigned singles = 0;
    int rc = explore_each_single(x, base, run_one, &w);
    singles = w.runs - 1;
    if (!rc && ctx->tier != CONF_TIER_QUICK)
        explore_each_pair(x, base, run_one, &w);
    conf_metric(ctx, "schedules=%u single=%u pairs=%u loads=%u ms=%" PRId64, w.runs, singles,
                w.runs - 1 - singles, base->ntrace, (mono_now_ns() - t0) / 1000000);
    conf_note(ctx, "%u schedules (%u of one update) over %u loads", w.runs, singles, base->ntrace);
}

static void run_mode(struct conf_ctx *ctx, struct vdso_loaded *l, enum explore_mode mode,
                     struct explore_outcome *base, struct explore_outcome *o)
{
    const char *mn = explore_mode_name(mode);
    bool any = false;

    for (size_t i = 0; i < NCALLS; i++)
        any |= conf_test_selected(ctx, "interleave.%s.%s", mn, calls[i].name);
    if (!any)
        return;
    struct explore *x = NULL;
    struct vdsokit_error err;
    int rc = ctx->listing ? 0 : explore_open(&x, l, mode, &err);
    for (size_t i = 0; i < NCALLS; i++) {
        if (!conf_test_begin(ctx, "interleave.%s.%s", mn, calls[i].name))
            continue;
        if (rc)
            conf_skip(ctx, "%s", err.msg);
        else if (!entry_of(l, calls[i].call.entry))
            conf_skip(ctx, "%s is not exported", explore_entry_name(calls[i].call.entry));
        else
            sweep_call(ctx, x, mode, &calls[i], base, o);
        conf_test_end(ctx);
    }
    explore_close(x);
}

/*
 * getrandom: one rng run judged; the first failure reported with its
 * schedule and trace (no replay command: --explore-replay takes the time
 * entries only).
 */
struct rng_sweep {
    struct conf_ctx *ctx;
    struct explore *x;
    struct explore_rng_call call;
    const struct vgetrandom_state *start;
    struct explore_outcome *o;
    unsigned runs, failed;
};

static int rng_one(struct rng_sweep *w, const struct explore_schedule *s, unsigned reseeds)
{
    struct vdsokit_error err;

    w->runs++;
    memcpy(w->call.state, w->start, sizeof *w->start);
    if (explore_rng_run(w->x, &w->call, s, reseeds, w->o, &err) != 0) {
        conf_fail(w->ctx, "%s", err.msg);
        return 1;
    }
    if (w->o->verdict == EXPLORE_PASS)
        return 0;
    if (!w->failed++) {
        const struct explore_call c = {EXPLORE_GETRANDOM, 0};
        report(w->ctx, &c, EXPLORE_TSC, s, w->o);
        conf_note(w->ctx, "%zu bytes, %s state, %u reseed(s) during the trapped syscalls",
                  w->call.len, w->start->generation ? "a keyed" : "a fresh", reseeds);
    }
    return 1;
}

/* From one start state: unperturbed, a reseed or an unready page before
 * every load of the unperturbed trace, a reseed during one and two syscalls. */
static int rng_sweep_state(struct rng_sweep *w, struct explore_outcome *base)
{
    struct explore_outcome *o = w->o;

    w->o = base;
    int rc = rng_one(w, NULL, 0);
    w->o = o;
    for (unsigned k = 0; !rc && k < base->ntrace; k++)
        for (unsigned what = EXPLORE_RNG_BUMP; !rc && what <= EXPLORE_RNG_UNREADY; what++) {
            struct explore_schedule s = {1, {{k, (uint8_t)what, 0, 1}}};
            rc = rng_one(w, &s, 0);
        }
    for (unsigned r = 1; !rc && r <= 2; r++)
        rc = rng_one(w, NULL, r);
    return rc;
}

static void rng_test(struct conf_ctx *ctx, struct explore *x, size_t len,
                     struct explore_outcome *base, struct explore_outcome *o)
{
    static uint8_t buf[4096];
    static _Alignas(256) struct vgetrandom_state st;
    struct vgetrandom_state fresh, keyed;
    struct rng_sweep w = {.ctx = ctx, .x = x, .o = o, .start = &fresh};
    int64_t t0 = mono_now_ns();

    memset(&fresh, 0, sizeof fresh);
    /* A keyed state: a first call of 40 bytes leaves 56 buffered; len
     * 300 then drains them, makes whole blocks and refills. */
    w.call = (struct explore_rng_call){.buf = buf, .len = 40, .state = &st};
    if (rng_one(&w, NULL, 0))
        return;
    keyed = st;
    w.call.len = len;
    if (rng_sweep_state(&w, base))
        return;
    unsigned loads = base->ntrace;
    w.start = &keyed;
    if (rng_sweep_state(&w, base))
        return;
    conf_metric(ctx, "schedules=%u loads=%u+%u ms=%" PRId64, w.runs, loads, base->ntrace,
                (mono_now_ns() - t0) / 1000000);
    conf_note(ctx, "%u schedules over %u loads (fresh state) and %u (keyed)", w.runs, loads,
              base->ntrace);
}

/*
 * Whether the image reads the rng data from a page of its own. Before 6.15
 * it sits at byte 640 of the time page, which the emulated kernel mirrors
 * from its canonical rng page at publish time; the explorer's reseed
 * writes only the canonical page, so there the reader would not see it.
 */
static bool rng_has_own_page(const struct vdso_loaded *l)
{
    for (int i = 0; i < VDSO_DATA_PAGES; i++)
        if (l->profile->reader_root[i] == DATAPAGES_FILE_RNG)
            return true;
    return false;
}

static void run_rng(struct conf_ctx *ctx, struct vdso_loaded *l, struct explore_outcome *base,
                    struct explore_outcome *o)
{
    static const size_t lens[] = {16, 300, 4096};
    bool any = false;

    for (size_t i = 0; i < 3; i++)
        any |= conf_test_selected(ctx, "interleave.rng.getrandom%zu", lens[i]);
    if (!any)
        return;
    struct explore *x = NULL;
    struct vdsokit_error err;
    int rc = ctx->listing || !l->getrandom ? 0 : explore_open(&x, l, EXPLORE_TSC, &err);
    for (size_t i = 0; i < 3; i++) {
        if (!conf_test_begin(ctx, "interleave.rng.getrandom%zu", lens[i]))
            continue;
        if (!l->getrandom)
            conf_skip(ctx, "getrandom is not exported");
        else if (!rng_has_own_page(l))
            conf_skip(ctx,
                      "the %s layout keeps the rng data inside the time page, which the "
                      "explorer's reseed does not write (it has its own page from 6.15)",
                      l->profile->era);
        else if (rc)
            conf_skip(ctx, "%s", err.msg);
        else
            rng_test(ctx, x, lens[i], base, o);
        conf_test_end(ctx);
    }
    explore_close(x);
}

/* ENTRY:ID:MODE:SCHEDULE */
static int parse_replay(const char *spec, struct explore_call *c, enum explore_mode *mode,
                        struct explore_schedule *s, struct vdsokit_error *err)
{
    char buf[256], *f[4], *save = NULL;

    snprintf(buf, sizeof buf, "%s", spec);
    f[0] = strtok_r(buf, ":", &save);
    for (int i = 1; i < 4; i++)
        f[i] = f[i - 1] ? strtok_r(NULL, i == 3 ? "" : ":", &save) : NULL;
    char *end = NULL;
    long id = f[1] ? strtol(f[1], &end, 10) : 0;
    if (!f[3] || explore_entry_parse(f[0], &c->entry) || !end || *end ||
        explore_mode_parse(f[2], mode))
        return vdsokit_fail(err,
                            "--explore-replay '%s': expected ENTRY:ID:MODE:SCHEDULE (ENTRY "
                            "clock_gettime|gettimeofday|time|clock_getres, ID a clock id, MODE "
                            "tsc|pvclock|hvclock|none|timens)",
                            spec);
    c->clk = (int32_t)id;
    return explore_schedule_parse(f[3], s, err);
}

static void replay(struct conf_ctx *ctx, struct vdso_loaded *l, struct explore_outcome *o)
{
    struct explore_call c;
    enum explore_mode mode;
    struct explore_schedule s;
    struct vdsokit_error err;
    struct explore *x = NULL;
    static char trace[EXPLORE_MAX_TRACE * 64];

    if (!conf_test_begin(ctx, "interleave.replay"))
        return;
    if (parse_replay(ctx->explore_replay, &c, &mode, &s, &err) || explore_open(&x, l, mode, &err) ||
        explore_run(x, &c, &s, o, &err)) {
        conf_fail(ctx, "%s", err.msg);
    } else {
        explore_trace_format(o, trace, sizeof trace);
        for (unsigned u = 0; u < explore_nupdates(x); u++)
            fprintf(stderr, "update %u: %u stores (seqs odd %u, data %u, seqs even %u)\n", u,
                    explore_update(x, u)->nstores, explore_update(x, u)->begin_end,
                    explore_update(x, u)->data_end - explore_update(x, u)->begin_end,
                    explore_update(x, u)->nstores - explore_update(x, u)->data_end);
        fprintf(stderr, "%s %s: returned %ld %" PRId64 ".%09" PRId64 " after %u loads%s%s\n%s",
                explore_verdict_name(o->verdict), ctx->explore_replay, o->ret, o->sec, o->frac,
                o->ntrace, o->why[0] ? ": " : "", o->why, trace);
        if (o->verdict != EXPLORE_PASS)
            report(ctx, &c, mode, &s, o);
    }
    explore_close(x);
    conf_test_end(ctx);
}

void group_interleave(struct conf_ctx *ctx)
{
    struct vdso_loaded *l = conf_inproc(ctx->target);

    if (!l) {
        conf_test_skip(ctx, ctx->explore_replay ? "interleave.replay" : "interleave.all",
                       "the explorer needs an in-process target (ref, image:PATH): the data "
                       "pages of %s belong to the kernel",
                       ctx->target->name);
        return;
    }
    struct explore_outcome *o = malloc(2 * sizeof *o);
    if (!o) {
        conf_test_skip(ctx, "interleave.all", "out of memory");
        return;
    }
    if (!ctx->listing && l->tk)
        tk_writer_stop(l->tk); /* the explorer is the only writer */
    if (ctx->explore_replay)
        replay(ctx, l, o);
    else {
        for (int m = 0; m < EXPLORE_NMODES; m++)
            run_mode(ctx, l, (enum explore_mode)m, &o[0], &o[1]);
        run_rng(ctx, l, &o[0], &o[1]);
    }
    free(o);
}
