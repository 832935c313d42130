/*
 * Group 2, relations between clocks and entry points: gettimeofday against
 * REALTIME (truncation, C19) and the oracle's timezone (C20), time()
 * against REALTIME_COARSE and the time syscall (C21), coarse against fine,
 * the offsets REALTIME - MONOTONIC, TAI - REALTIME and BOOTTIME -
 * MONOTONIC (C13, C14), the rate of each counter clock against its syscall
 * over at least half a second (C17), and every NULL-argument combination.
 * Every bound is a bracket of oracle readings or comes from calibration;
 * "the syscall" is the oracle: the kernel's for live and libc, the
 * emulated kernel's (whose tz, TAI and boot offsets are never the host's)
 * for in-process targets.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <x86intrin.h>

#include "consistency.h"
#include "inproc.h"
#include "oracle.h"

#define RATE_TOLERANCE 1e-4

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

static void gettimeofday_sandwich(struct conf_ctx *ctx)
{
    unsigned iters = conf_budget_iters(ctx, 200);

    for (unsigned i = 0; i < iters; i++) {
        struct timespec s1, s2;
        struct timeval tv = {0};
        ctx->target->oracle.clock_gettime(CLOCK_REALTIME, &s1);
        int r = ctx->target->fn.gettimeofday(&tv, NULL);
        ctx->target->oracle.clock_gettime(CLOCK_REALTIME, &s2);
        if (r != 0) {
            conf_fail(ctx, "gettimeofday(&tv, NULL) returned %d", r);
            return;
        }
        if (!conf_check_tv(ctx, &tv, "gettimeofday"))
            return;
        int64_t lo = floor_div(ts_ns(&s1), NSEC_PER_USEC);
        int64_t hi = floor_div(ts_ns(&s2), NSEC_PER_USEC);
        if (tv_us(&tv) < lo || tv_us(&tv) > hi) {
            conf_fail(ctx,
                      "floor(ns1/1000) <= usec <= floor(ns2/1000) fails: %lld <= %lld <= %lld "
                      "(REALTIME syscall bracket %lld ns; microseconds must be truncated)",
                      (long long)lo, (long long)tv_us(&tv), (long long)hi,
                      (long long)(ts_ns(&s2) - ts_ns(&s1)));
            return;
        }
    }
}

/* tz against the oracle's: the system's for live, the emulated kernel's (never {0, 0}) for
 * in-process. */
static void gettimeofday_tz_and_nulls(struct conf_ctx *ctx)
{
    conf_gettimeofday_fn fn = ctx->target->fn.gettimeofday;
    conf_gettimeofday_fn oracle = ctx->target->oracle.gettimeofday;
    struct timezone want = {-1, -1}, got = {-2, -2};
    struct timeval tv;
    int rs = oracle(NULL, &want);
    int rt = fn(&tv, &got);

    if (rt != rs || rt != 0)
        conf_fail(ctx, "gettimeofday(&tv, &tz) returned %d, the syscall (NULL, &tz) %d", rt, rs);
    else if (got.tz_minuteswest != want.tz_minuteswest || got.tz_dsttime != want.tz_dsttime)
        conf_fail(ctx, "tz {%d, %d}, the syscall's {%d, %d}", got.tz_minuteswest, got.tz_dsttime,
                  want.tz_minuteswest, want.tz_dsttime);
    got = (struct timezone){-2, -2};
    rt = fn(NULL, &got);
    if (rt != rs)
        conf_fail(ctx, "gettimeofday(NULL, &tz) returned %d, the syscall %d", rt, rs);
    else if (got.tz_minuteswest != want.tz_minuteswest || got.tz_dsttime != want.tz_dsttime)
        conf_fail(ctx, "gettimeofday(NULL, &tz): tz {%d, %d}, the syscall's {%d, %d}",
                  got.tz_minuteswest, got.tz_dsttime, want.tz_minuteswest, want.tz_dsttime);
    rs = oracle(NULL, NULL);
    rt = fn(NULL, NULL);
    if (rt != rs)
        conf_fail(ctx, "gettimeofday(NULL, NULL) returned %d, the syscall %d", rt, rs);
    rt = fn(&tv, NULL);
    if (rt != 0)
        conf_fail(ctx, "gettimeofday(&tv, NULL) returned %d", rt);
    conf_check_tv(ctx, &tv, "gettimeofday(&tv, NULL)");
    conf_note(ctx,
              "timezone {%d, %d} (the system's is compared as set; setting it would warp a "
              "local-time RTC clock)",
              want.tz_minuteswest, want.tz_dsttime);
}

static void time_sandwich(struct conf_ctx *ctx)
{
    conf_time_fn fn = ctx->target->fn.time;
    unsigned iters = conf_budget_iters(ctx, 200);

    for (unsigned i = 0; i < iters; i++) {
        struct timespec c1, c2;
        ctx->target->oracle.clock_gettime(CLOCK_REALTIME_COARSE, &c1);
        long t = fn(NULL);
        ctx->target->oracle.clock_gettime(CLOCK_REALTIME_COARSE, &c2);
        if (t < c1.tv_sec || t > c2.tv_sec) {
            conf_fail(ctx, "REALTIME_COARSE %lld <= time() %ld <= REALTIME_COARSE %lld fails",
                      (long long)c1.tv_sec, t, (long long)c2.tv_sec);
            return;
        }
        long s1 = ctx->target->oracle.time(NULL), s2;
        long stored = -1;
        t = fn(&stored);
        s2 = ctx->target->oracle.time(NULL);
        if (t != stored) {
            conf_fail(ctx, "time(&t) returned %ld but stored %ld", t, stored);
            return;
        }
        if (t < s1 || t > s2) {
            conf_fail(ctx, "time syscall %ld <= time(&t) %ld <= time syscall %ld fails", s1, t, s2);
            return;
        }
    }
}

/* The coarse clocks' tick as the oracle states it (the emulated kernel's for in-process targets).
 */
static int64_t target_tick_ns(const struct conf_ctx *ctx)
{
    struct timespec res;

    if (ctx->target->oracle.clock_getres(CLOCK_REALTIME_COARSE, &res) == 0 && ts_ns(&res) > 0)
        return ts_ns(&res);
    return ctx->calib->tick_ns;
}

/*
 * Coarse never ahead of fine, and behind it by at most one tick plus one
 * late tick plus the read spread. Rounds with a violation are repeated (a
 * VM can hold off the tick); only a violation in every round fails.
 */
static void coarse_vs_fine(struct conf_ctx *ctx, clockid_t coarse, clockid_t fine)
{
    conf_clock_gettime_fn fn = ctx->target->fn.clock_gettime;
    const int64_t tick = target_tick_ns(ctx);
    const int64_t slack = tick + 4 * ctx->calib->sys_lat_p99_ns;
    unsigned iters = conf_budget_iters(ctx, 2000);
    int64_t worst_lag = 0;

    for (int round = 0; round < 3; round++) {
        bool late = false;
        worst_lag = 0;
        for (unsigned i = 0; i < iters; i++) {
            struct timespec f0, c, f1;
            if (fn(fine, &f0) || fn(coarse, &c) || fn(fine, &f1)) {
                conf_fail(ctx, "a clock_gettime call failed");
                return;
            }
            if (!conf_check_ts(ctx, &c, "coarse") || !conf_check_ts(ctx, &f0, "fine") ||
                !conf_check_ts(ctx, &f1, "fine"))
                return;
            if (ts_ns(&c) > ts_ns(&f1)) {
                conf_fail(ctx,
                          "coarse %lld.%09ld is ahead of the fine reading taken after it, "
                          "%lld.%09ld",
                          (long long)c.tv_sec, c.tv_nsec, (long long)f1.tv_sec, f1.tv_nsec);
                return;
            }
            int64_t lag = ts_ns(&f0) - ts_ns(&c);
            if (lag > worst_lag)
                worst_lag = lag;
            /* An emulated kernel's tick is a thread: allow its measured lateness. */
            if (lag > tick + slack)
                late |= lag > conf_inproc_state_age_ns(ctx->target, fine) + slack;
        }
        if (!late)
            return;
        conf_note(ctx, "round %d: coarse lagged fine by %lld ns > tick %lld + slack %lld", round,
                  (long long)worst_lag, (long long)tick, (long long)slack);
    }
    conf_fail(ctx,
              "coarse lags fine by more than one tick in every round: worst %lld ns, tick "
              "%lld ns (getres of REALTIME_COARSE), slack %lld ns (one late tick + 4 x p99 "
              "syscall latency)",
              (long long)worst_lag, (long long)tick, (long long)slack);
}

/* [lo, hi] of a - b, with b read between two readings of a. */
struct interval {
    int64_t lo, hi;
};

static int offset_between(conf_clock_gettime_fn fn, clockid_t a, clockid_t b, struct interval *iv)
{
    struct timespec a1, bb, a2;

    if (fn(a, &a1) || fn(b, &bb) || fn(a, &a2))
        return -1;
    if (!ts_valid(&a1) || !ts_valid(&bb) || !ts_valid(&a2))
        return -1;
    iv->lo = ts_ns(&a1) - ts_ns(&bb);
    iv->hi = ts_ns(&a2) - ts_ns(&bb);
    return 0;
}

/* Narrowest of a few brackets: a preempted one tells little. */
static int best_offset(conf_clock_gettime_fn fn, clockid_t a, clockid_t b, struct interval *iv)
{
    struct interval best = {0, INT64_MAX};

    for (int i = 0; i < 16; i++) {
        struct interval cur;
        if (offset_between(fn, a, b, &cur))
            return -1;
        if (cur.hi - cur.lo < best.hi - best.lo)
            best = cur;
    }
    *iv = best;
    return 0;
}

static bool overlap(struct interval x, struct interval y)
{
    return x.lo <= y.hi && y.lo <= x.hi;
}

/*
 * The target's offset a - b agrees with the oracle's (the syscall's, or the
 * emulated kernel's for in-process targets), taken just before or just
 * after it: an offset that a suspend or a step moves (BOOTTIME, REALTIME)
 * may move between two measurements, never in both gaps of one attempt
 * unless the writer stepped twice; three attempts, all must disagree.
 */
#define OFFSET_ATTEMPTS 3

static void offset_vs_syscall(struct conf_ctx *ctx, clockid_t a, clockid_t b, const char *what)
{
    struct interval t, s0, s1;

    for (int attempt = 0; attempt < OFFSET_ATTEMPTS; attempt++) {
        if (best_offset(ctx->target->oracle.clock_gettime, a, b, &s0) ||
            best_offset(ctx->target->fn.clock_gettime, a, b, &t) ||
            best_offset(ctx->target->oracle.clock_gettime, a, b, &s1)) {
            conf_fail(ctx, "%s: a reading failed or was out of range", what);
            return;
        }
        if (overlap(t, s0) || overlap(t, s1))
            return;
    }
    conf_fail(ctx,
              "%s: target offset in [%lld, %lld] ns, the syscall's in [%lld, %lld] ns before "
              "and [%lld, %lld] ns after it (%d attempts)",
              what, (long long)t.lo, (long long)t.hi, (long long)s0.lo, (long long)s0.hi,
              (long long)s1.lo, (long long)s1.hi, OFFSET_ATTEMPTS);
}

/* TAI - REALTIME: the syscall's (adjtimex's tai for live) or the emulated kernel's. */
static void tai_offset(struct conf_ctx *ctx)
{
    offset_vs_syscall(ctx, CLOCK_TAI, CLOCK_REALTIME, "TAI - REALTIME");
}

/*
 * BOOTTIME read after MONOTONIC is never smaller (the boot offset is >= 0;
 * tolerance 0). The loop runs pinned to one CPU and reads the TSC with
 * rdtscp (value and CPU) before, between and after the two calls. On one
 * CPU with the TSC rising across both calls, the counter the clock reads
 * cannot have stepped back, and the kernel's (and the emulated kernel's)
 * clock math is exact and monotonic across states, so a deficit there is
 * the target's failure. A deficit that comes with a CPU change (pinning
 * refused) or a TSC that did not rise is the host's counter stepping back
 * between the two calls: a host finding with the readings, reported on its
 * own line, not a target failure and not hidden. A correct target on a
 * correct host therefore never fails here, loaded or not.
 */
struct boot_pair {
    struct timespec m, b;
    uint64_t tsc[3];
    unsigned aux[3]; /* rdtscp's TSC_AUX: (node << 12) | cpu on Linux */
};

static int read_pair(conf_clock_gettime_fn fn, struct boot_pair *p)
{
    p->tsc[0] = __rdtscp(&p->aux[0]);
    int rm = fn(CLOCK_MONOTONIC, &p->m);
    p->tsc[1] = __rdtscp(&p->aux[1]);
    int rb = fn(CLOCK_BOOTTIME, &p->b);
    p->tsc[2] = __rdtscp(&p->aux[2]);
    return rm || rb ? -1 : 0;
}

static bool counter_stepped(const struct boot_pair *p)
{
    return p->aux[0] != p->aux[1] || p->aux[1] != p->aux[2] || p->tsc[0] >= p->tsc[1] ||
           p->tsc[1] >= p->tsc[2];
}

static void pair_text(const struct boot_pair *p, char *buf, size_t len)
{
    snprintf(buf, len,
             "MONOTONIC %lld.%09ld then BOOTTIME %lld.%09ld (%lld ns below it); rdtscp before, "
             "between and after: %llu (aux %#x), %llu (aux %#x), %llu (aux %#x)",
             (long long)p->m.tv_sec, p->m.tv_nsec, (long long)p->b.tv_sec, p->b.tv_nsec,
             (long long)(ts_ns(&p->m) - ts_ns(&p->b)), (unsigned long long)p->tsc[0], p->aux[0],
             (unsigned long long)p->tsc[1], p->aux[1], (unsigned long long)p->tsc[2], p->aux[2]);
}

static void boottime_vs_monotonic(struct conf_ctx *ctx)
{
    conf_clock_gettime_fn fn = ctx->target->fn.clock_gettime;
    unsigned iters = conf_budget_iters(ctx, 200), steps = 0;
    int cpu = sched_getcpu();
    bool pinned = cpu >= 0 && pin_to_cpu(cpu) == 0;
    char text[512];

    for (unsigned i = 0; i < iters; i++) {
        struct boot_pair p;
        if (read_pair(fn, &p) != 0) {
            conf_fail(ctx, "a MONOTONIC or BOOTTIME reading failed");
            break;
        }
        if (ts_ns(&p.b) >= ts_ns(&p.m))
            continue;
        pair_text(&p, text, sizeof(text));
        if (!counter_stepped(&p)) {
            conf_fail(ctx,
                      "BOOTTIME read after MONOTONIC is smaller, on one CPU with the TSC rising: "
                      "%s (tolerance 0)",
                      text);
            break;
        }
        if (steps++ == 0)
            conf_host_finding(ctx,
                              "host/hypervisor counter stepped back between two calls (a CPU "
                              "change or a TSC that did not rise%s): %s",
                              pinned ? " despite pinning" : "; pinning was refused", text);
    }
    sched_setaffinity(0, sizeof(ctx->calib->allowed), &ctx->calib->allowed);
    if (steps > 1)
        conf_host_finding(ctx, "%u pairs of %u showed the counter step", steps, iters);
    if (!ctx->failed)
        offset_vs_syscall(ctx, CLOCK_BOOTTIME, CLOCK_MONOTONIC, "BOOTTIME - MONOTONIC");
}

/* ---- rate ---- */

struct rate_sample {
    int64_t s1, v, s2; /* syscall, target, syscall */
};

static int rate_sample(conf_clock_gettime_fn fn, conf_clock_gettime_fn oracle, clockid_t clk,
                       struct rate_sample *out)
{
    struct rate_sample best = {0, 0, INT64_MAX};

    for (int i = 0; i < 32; i++) {
        struct timespec a, v, b;
        if (oracle(clk, &a) || fn(clk, &v) || oracle(clk, &b) || !ts_valid(&v))
            return -1;
        if (ts_ns(&b) - ts_ns(&a) < best.s2 - best.s1)
            best = (struct rate_sample){ts_ns(&a), ts_ns(&v), ts_ns(&b)};
    }
    *out = best;
    return 0;
}

static const clockid_t rate_clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
                                        CLOCK_BOOTTIME, CLOCK_TAI};
#define NRATE (sizeof(rate_clocks) / sizeof(rate_clocks[0]))

static void rates(struct conf_ctx *ctx)
{
    char buf[32];
    conf_clock_gettime_fn fn = ctx->target->fn.clock_gettime;
    struct rate_sample start[NRATE], end[NRATE];
    bool ok[NRATE], any = false;

    for (unsigned i = 0; i < NRATE; i++) {
        ok[i] = conf_test_selected(ctx, "consistency.rate.%s", clock_name(rate_clocks[i], buf, 32));
        any |= ok[i];
    }
    /* One shared wait serves all clocks; without a selected test, skip it. */
    if (any && fn && !ctx->listing) {
        for (unsigned i = 0; i < NRATE; i++)
            ok[i] = ok[i] && rate_sample(fn, ctx->target->oracle.clock_gettime, rate_clocks[i],
                                         &start[i]) == 0;
        int64_t window = conf_budget_ns(ctx, 500000000);
        struct timespec nap = ts_from_ns(window);
        while (nanosleep(&nap, &nap) != 0) {
        }
        for (unsigned i = 0; i < NRATE; i++)
            ok[i] = ok[i] && rate_sample(fn, ctx->target->oracle.clock_gettime, rate_clocks[i],
                                         &end[i]) == 0;
    }
    for (unsigned i = 0; i < NRATE; i++) {
        if (!conf_test_begin(ctx, "consistency.rate.%s", clock_name(rate_clocks[i], buf, 32)))
            continue;
        if (!conf_require(ctx, fn, "clock_gettime")) {
            conf_test_end(ctx);
            continue;
        }
        if (!ok[i]) {
            conf_fail(ctx, "a reading failed or was out of range");
            conf_test_end(ctx);
            continue;
        }
        double dv = (double)(end[i].v - start[i].v);
        double lo = (double)(end[i].s1 - start[i].s2), hi = (double)(end[i].s2 - start[i].s1);
        /* The emulated kernel is exact: an in-process target's advance lies in the bracket. */
        double tol = conf_inproc(ctx->target) ? 0.0 : RATE_TOLERANCE;
        if (dv < (1 - tol) * lo || dv > (1 + tol) * hi)
            conf_fail(ctx,
                      "rate %.7f outside 1 +- %g: target advanced %.0f ns while the syscall "
                      "advanced between %.0f and %.0f ns (bracket widths %lld and %lld ns)",
                      dv / ((lo + hi) / 2), tol, dv, lo, hi, (long long)(start[i].s2 - start[i].s1),
                      (long long)(end[i].s2 - end[i].s1));
        conf_test_end(ctx);
    }
}

/*
 * REALTIME - MONOTONIC of the target at the start of the group against the
 * same after the rate window: equal unless REALTIME was stepped, which the
 * syscall's own offset then shows (a SKIP, not a failure).
 */
static struct interval wall_start_target, wall_start_sys;
static bool wall_start_ok;

static void wall_offset_start(struct conf_ctx *ctx)
{
    conf_clock_gettime_fn fn = ctx->target->fn.clock_gettime;

    wall_start_ok = fn &&
                    best_offset(fn, CLOCK_REALTIME, CLOCK_MONOTONIC, &wall_start_target) == 0 &&
                    best_offset(ctx->target->oracle.clock_gettime, CLOCK_REALTIME, CLOCK_MONOTONIC,
                                &wall_start_sys) == 0;
}

static void wall_offset_stable(struct conf_ctx *ctx)
{
    offset_vs_syscall(ctx, CLOCK_REALTIME, CLOCK_MONOTONIC, "REALTIME - MONOTONIC");
    struct interval t, s;
    if (!wall_start_ok ||
        best_offset(ctx->target->fn.clock_gettime, CLOCK_REALTIME, CLOCK_MONOTONIC, &t) ||
        best_offset(ctx->target->oracle.clock_gettime, CLOCK_REALTIME, CLOCK_MONOTONIC, &s)) {
        conf_fail(ctx, "a REALTIME or MONOTONIC reading failed");
        return;
    }
    if (overlap(t, wall_start_target))
        return;
    /* The kernel's offset moved (a step, a suspend): the target's must have moved as much. */
    struct interval moved_t = {t.lo - wall_start_target.hi, t.hi - wall_start_target.lo};
    struct interval moved_s = {s.lo - wall_start_sys.hi, s.hi - wall_start_sys.lo};
    if (!overlap(s, wall_start_sys) && overlap(moved_t, moved_s))
        return;
    if (!overlap(s, wall_start_sys)) {
        conf_skip(ctx,
                  "REALTIME was stepped during the group (the syscall's REALTIME - "
                  "MONOTONIC moved from [%lld, %lld] to [%lld, %lld] ns)",
                  (long long)wall_start_sys.lo, (long long)wall_start_sys.hi, (long long)s.lo,
                  (long long)s.hi);
        return;
    }
    conf_fail(ctx,
              "REALTIME - MONOTONIC moved from [%lld, %lld] to [%lld, %lld] ns within the "
              "group while the kernel's stayed in [%lld, %lld]",
              (long long)wall_start_target.lo, (long long)wall_start_target.hi, (long long)t.lo,
              (long long)t.hi, (long long)s.lo, (long long)s.hi);
}

void consistency_relations(struct conf_ctx *ctx)
{
    const struct conf_vdso_fns *f = &ctx->target->fn;

    wall_offset_start(ctx);
    if (conf_test_begin(ctx, "consistency.gettimeofday.sandwich")) {
        if (conf_require(ctx, f->gettimeofday, "gettimeofday"))
            gettimeofday_sandwich(ctx);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "consistency.gettimeofday.tz_and_null")) {
        if (conf_require(ctx, f->gettimeofday, "gettimeofday"))
            gettimeofday_tz_and_nulls(ctx);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "consistency.time.sandwich_and_null")) {
        if (conf_require(ctx, f->time, "time"))
            time_sandwich(ctx);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "consistency.coarse.realtime")) {
        if (conf_require(ctx, f->clock_gettime, "clock_gettime"))
            coarse_vs_fine(ctx, CLOCK_REALTIME_COARSE, CLOCK_REALTIME);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "consistency.coarse.monotonic")) {
        if (conf_require(ctx, f->clock_gettime, "clock_gettime"))
            coarse_vs_fine(ctx, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "consistency.offset.tai_realtime")) {
        if (conf_require(ctx, f->clock_gettime, "clock_gettime"))
            tai_offset(ctx);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "consistency.offset.boottime_monotonic")) {
        if (conf_require(ctx, f->clock_gettime, "clock_gettime"))
            boottime_vs_monotonic(ctx);
        conf_test_end(ctx);
    }
    rates(ctx);
    if (conf_test_begin(ctx, "consistency.offset.realtime_monotonic")) {
        if (conf_require(ctx, f->clock_gettime, "clock_gettime"))
            wall_offset_stable(ctx);
        conf_test_end(ctx);
    }
}
