/*
 * Group 1, monotonic: a clock that must not go backwards never does, as
 * seen (a) by each thread in a tight loop, one thread pinned per CPU, (b)
 * across threads on different CPUs taking readings in a global order fixed
 * by an atomic ticket (the holder of ticket k reads after the holder of
 * k-1 published its reading, so its reading may not be smaller), and (c)
 * by one thread migrating between CPUs. REALTIME, TAI and REALTIME_COARSE
 * are checked too; when the system steps REALTIME back during such a test,
 * a regression no larger than the step (plus the step detector's own
 * bound) is what the step explains and makes the test a SKIP with the
 * measured step as its reason. Every other failure (a regression beyond
 * the step, a forward step, an error return, an out-of-range reading)
 * stays a failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "conf.h"
#include "oracle.h"

#define MAX_THREADS 64

static const clockid_t monotonic_clocks[] = {
    CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME,        CLOCK_MONOTONIC_COARSE,
    CLOCK_REALTIME,  CLOCK_TAI,           CLOCK_REALTIME_COARSE,
};

static bool steppable(clockid_t clk)
{
    return clk == CLOCK_REALTIME || clk == CLOCK_TAI || clk == CLOCK_REALTIME_COARSE;
}

enum violation_kind {
    WENT_BACKWARDS,
    OUT_OF_RANGE, /* tv_nsec outside [0, 1e9) or tv_sec negative or too large */
    ERROR_RETURN,
};

/* First violation a thread saw; written by that thread, read after join. */
struct violation {
    bool seen;
    enum violation_kind kind;
    int ret;
    struct timespec prev, cur;
    int cpu_prev, cpu_cur;
    uint64_t iteration;
};

/* What the current test reported (one test at a time per process). */
static struct {
    unsigned regressions, others;
    int64_t worst_back_ns;
} tally;

static void report_violation(struct conf_ctx *ctx, const char *who, const struct violation *v)
{
    if (v->kind == WENT_BACKWARDS) {
        int64_t back = ts_ns(&v->prev) - ts_ns(&v->cur);
        tally.regressions++;
        if (back > tally.worst_back_ns)
            tally.worst_back_ns = back;
    } else {
        tally.others++;
    }
    switch (v->kind) {
    case WENT_BACKWARDS:
        conf_fail(ctx,
                  "%s: went backwards at iteration %llu: %lld.%09ld (cpu %d) then %lld.%09ld "
                  "(cpu %d), %lld ns back (tolerance 0: a monotonic clock never decreases)",
                  who, (unsigned long long)v->iteration, (long long)v->prev.tv_sec, v->prev.tv_nsec,
                  v->cpu_prev, (long long)v->cur.tv_sec, v->cur.tv_nsec, v->cpu_cur,
                  (long long)(ts_ns(&v->prev) - ts_ns(&v->cur)));
        break;
    case OUT_OF_RANGE:
        conf_fail(ctx, "%s: reading out of range at iteration %llu: tv_sec=%lld tv_nsec=%ld", who,
                  (unsigned long long)v->iteration, (long long)v->cur.tv_sec, v->cur.tv_nsec);
        break;
    case ERROR_RETURN:
        conf_fail(ctx, "%s: returned %d at iteration %llu", who, v->ret,
                  (unsigned long long)v->iteration);
    }
}

/* Read once; false (with v filled) on an error or a bad reading. */
static bool take(conf_clock_gettime_fn fn, clockid_t clk, struct timespec *ts, struct violation *v,
                 uint64_t it)
{
    int r = fn(clk, ts);

    if (r != 0 || !ts_valid(ts)) {
        v->seen = true;
        v->kind = r ? ERROR_RETURN : OUT_OF_RANGE;
        v->ret = r;
        v->cur = *ts;
        v->iteration = it;
        return false;
    }
    return true;
}

/* REALTIME - MONOTONIC from the oracle (the emulated kernel's for
 * in-process targets): changes only when REALTIME is stepped. */
static int64_t wall_offset_ns(const struct conf_ctx *ctx)
{
    struct timespec r, m;

    ctx->target->oracle.clock_gettime(CLOCK_REALTIME, &r);
    ctx->target->oracle.clock_gettime(CLOCK_MONOTONIC, &m);
    return ts_ns(&r) - ts_ns(&m);
}

/* What slewing (500 ppm) and the two reads' own spread explain over the test. */
static int64_t step_bound(const struct conf_ctx *ctx, int64_t t0)
{
    return (mono_now_ns() - t0) / 2000 + 4 * ctx->calib->sys_lat_p99_ns;
}

/* A step larger than step_bound(); returns the step or 0. */
static int64_t detect_step(struct conf_ctx *ctx, int64_t off0, int64_t t0)
{
    int64_t d = wall_offset_ns(ctx) - off0;
    int64_t bound = step_bound(ctx, t0);

    return d > bound || d < -bound ? d : 0;
}

/*
 * Does a step of REALTIME by `step` ns explain every failure the test
 * recorded? Only regressions, only for a backward step, and none larger
 * than the step plus the detector's bound.
 */
static bool step_explains(int64_t step, int64_t bound)
{
    return step < 0 && tally.others == 0 && tally.regressions > 0 &&
           tally.worst_back_ns <= -step + bound;
}

static int allowed_cpus(const struct conf_ctx *ctx, int *cpus, int max)
{
    int n = 0;

    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &ctx->calib->allowed))
            cpus[n++] = c;
    return n;
}

static void restore_affinity(const struct conf_ctx *ctx)
{
    sched_setaffinity(0, sizeof(ctx->calib->allowed), &ctx->calib->allowed);
}

/* ---- (a) tight loop per thread ---- */

struct loop_arg {
    conf_clock_gettime_fn fn;
    clockid_t clk;
    int cpu;
    int64_t end_ns;
    uint64_t iterations;
    struct violation v;
};

static void *loop_thread(void *p)
{
    struct loop_arg *a = p;

    if (a->cpu >= 0)
        pin_to_cpu(a->cpu);
    struct timespec prev, cur;
    if (!take(a->fn, a->clk, &prev, &a->v, 0))
        return NULL;
    for (uint64_t i = 1;; i++) {
        if (!take(a->fn, a->clk, &cur, &a->v, i))
            break;
        if (ts_ns(&cur) < ts_ns(&prev)) {
            a->v = (struct violation){.seen = true,
                                      .kind = WENT_BACKWARDS,
                                      .prev = prev,
                                      .cur = cur,
                                      .cpu_prev = a->cpu,
                                      .cpu_cur = a->cpu,
                                      .iteration = i};
            break;
        }
        prev = cur;
        if ((i & 1023) == 0 && mono_now_ns() > a->end_ns) {
            a->iterations = i;
            break;
        }
    }
    return NULL;
}

static void test_loop(struct conf_ctx *ctx, clockid_t clk, const char *name)
{
    int cpus[MAX_THREADS];
    int n = allowed_cpus(ctx, cpus, MAX_THREADS);
    struct loop_arg args[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    int64_t end = mono_now_ns() + conf_budget_ns(ctx, 120000000);

    for (int i = 0; i < n; i++) {
        args[i] = (struct loop_arg){
            .fn = ctx->target->fn.clock_gettime, .clk = clk, .cpu = cpus[i], .end_ns = end};
        pthread_create(&th[i], NULL, loop_thread, &args[i]);
    }
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        total += args[i].iterations;
        if (args[i].v.seen) {
            char who[64];
            snprintf(who, sizeof(who), "%s, thread pinned to cpu %d", name, args[i].cpu);
            report_violation(ctx, who, &args[i].v);
        }
    }
    conf_note(ctx, "%llu readings on %d threads", (unsigned long long)total, n);
}

/* ---- (b) global order by ticket ---- */

struct baton {
    conf_clock_gettime_fn fn;
    clockid_t clk;
    int nthreads;
    int64_t end_ns;
    _Atomic uint64_t turn;
    _Atomic int stop;
    /* Written only by the ticket holder, handed over by `turn`. */
    struct timespec last;
    int last_cpu;
    struct violation v;
};

struct baton_arg {
    struct baton *b;
    int index, cpu;
};

static void *baton_thread(void *p)
{
    struct baton_arg *a = p;
    struct baton *b = a->b;

    if (a->cpu >= 0)
        pin_to_cpu(a->cpu);
    for (;;) {
        uint64_t t;
        unsigned spins = 0;
        while ((t = atomic_load_explicit(&b->turn, memory_order_acquire)) % b->nthreads !=
               (uint64_t)a->index) {
            if (atomic_load_explicit(&b->stop, memory_order_relaxed))
                return NULL;
            if (++spins > 64)
                sched_yield();
        }
        if (atomic_load_explicit(&b->stop, memory_order_relaxed))
            return NULL;
        struct timespec cur;
        if (!take(b->fn, b->clk, &cur, &b->v, t)) {
            atomic_store(&b->stop, 1);
            return NULL;
        }
        if (t > 0 && ts_ns(&cur) < ts_ns(&b->last)) {
            b->v = (struct violation){.seen = true,
                                      .kind = WENT_BACKWARDS,
                                      .prev = b->last,
                                      .cur = cur,
                                      .cpu_prev = b->last_cpu,
                                      .cpu_cur = a->cpu,
                                      .iteration = t};
            atomic_store(&b->stop, 1);
            return NULL;
        }
        b->last = cur;
        b->last_cpu = a->cpu;
        if (a->index == 0 && (t & 63) == 0 && mono_now_ns() > b->end_ns)
            atomic_store(&b->stop, 1);
        atomic_store_explicit(&b->turn, t + 1, memory_order_release);
    }
}

static void test_ticket(struct conf_ctx *ctx, clockid_t clk, const char *name)
{
    int cpus[MAX_THREADS];
    int n = allowed_cpus(ctx, cpus, MAX_THREADS);
    bool pinned = n >= 2;

    if (!pinned) {
        n = 2; /* one CPU: still two threads, ordered by the ticket */
        cpus[0] = cpus[1] = -1;
    }
    static struct baton b;
    memset(&b, 0, sizeof(b));
    b.fn = ctx->target->fn.clock_gettime;
    b.clk = clk;
    b.nthreads = n;
    b.end_ns = mono_now_ns() + conf_budget_ns(ctx, 120000000);
    struct baton_arg args[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        args[i] = (struct baton_arg){.b = &b, .index = i, .cpu = cpus[i]};
        pthread_create(&th[i], NULL, baton_thread, &args[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    if (b.v.seen) {
        char who[64];
        snprintf(who, sizeof(who), "%s, ticket order across %d threads", name, n);
        report_violation(ctx, who, &b.v);
    }
    conf_note(ctx, "%llu readings handed over in ticket order between %d threads%s",
              (unsigned long long)atomic_load(&b.turn), n, pinned ? " (one per CPU)" : "");
}

/* ---- (c) across migrations ---- */

static void test_migrate(struct conf_ctx *ctx, clockid_t clk, const char *name)
{
    int cpus[MAX_THREADS];
    int n = allowed_cpus(ctx, cpus, MAX_THREADS);

    if (n < 2) {
        conf_skip(ctx, "only one CPU allowed: nothing to migrate between");
        return;
    }
    conf_clock_gettime_fn fn = ctx->target->fn.clock_gettime;
    int64_t end = mono_now_ns() + conf_budget_ns(ctx, 60000000);
    struct violation v = {0};
    struct timespec prev, cur;
    int cpu = cpus[0], moves = 0;
    pin_to_cpu(cpu);
    if (take(fn, clk, &prev, &v, 0)) {
        for (int i = 1; mono_now_ns() < end; i++) {
            int next = cpus[i % n];
            if (pin_to_cpu(next) != 0)
                break;
            moves++;
            if (!take(fn, clk, &cur, &v, (uint64_t)i))
                break;
            if (ts_ns(&cur) < ts_ns(&prev)) {
                v = (struct violation){.seen = true,
                                       .kind = WENT_BACKWARDS,
                                       .prev = prev,
                                       .cur = cur,
                                       .cpu_prev = cpu,
                                       .cpu_cur = next,
                                       .iteration = (uint64_t)i};
                break;
            }
            prev = cur;
            cpu = next;
        }
    }
    restore_affinity(ctx);
    if (v.seen) {
        char who[64];
        snprintf(who, sizeof(who), "%s, across a migration", name);
        report_violation(ctx, who, &v);
    }
    conf_note(ctx, "%d migrations", moves);
}

typedef void (*mono_test_fn)(struct conf_ctx *, clockid_t, const char *);

static void run_one(struct conf_ctx *ctx, const char *kind, mono_test_fn test, clockid_t clk)
{
    char buf[32];
    const char *name = clock_name(clk, buf, sizeof(buf));

    if (!conf_test_begin(ctx, "monotonic.%s.%s", kind, name))
        return;
    if (conf_require(ctx, ctx->target->fn.clock_gettime, "clock_gettime")) {
        int64_t off0 = wall_offset_ns(ctx), t0 = mono_now_ns();
        memset(&tally, 0, sizeof(tally));
        test(ctx, clk, name);
        int64_t step = steppable(clk) ? detect_step(ctx, off0, t0) : 0;
        int64_t bound = step_bound(ctx, t0);
        if (step && ctx->failed && step_explains(step, bound)) {
            /* A REALTIME stepped back legitimately goes back by the step: not a failure. */
            ctx->failed = false;
            conf_skip(ctx,
                      "REALTIME was stepped by %lld ns during the test, which explains the "
                      "regression of %lld ns seen",
                      (long long)step, (long long)tally.worst_back_ns);
        } else if (step && ctx->failed) {
            conf_note(ctx,
                      "REALTIME was stepped by %lld ns during the test; that does not explain "
                      "this failure (%u regression(s), worst %lld ns, %u other violation(s); a "
                      "step explains only regressions up to its size + %lld ns)",
                      (long long)step, tally.regressions, (long long)tally.worst_back_ns,
                      tally.others, (long long)bound);
        }
    }
    conf_test_end(ctx);
}

void group_monotonic(struct conf_ctx *ctx)
{
    for (size_t i = 0; i < sizeof(monotonic_clocks) / sizeof(monotonic_clocks[0]); i++) {
        run_one(ctx, "loop", test_loop, monotonic_clocks[i]);
        run_one(ctx, "ticket", test_ticket, monotonic_clocks[i]);
        run_one(ctx, "migrate", test_migrate, monotonic_clocks[i]);
    }
}
