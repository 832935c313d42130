/*
 * Group 4's storm engine (see concurrent_storm.h). The writer is the
 * timekeeper's own thread, ticking at the scenario's rate with the
 * scenario's operation after each tick; each reader is pinned to one CPU
 * and calls a random mix of the target's entry points, recording around
 * each call what the verifier needs (log generations, raw TSC, counter
 * pages, the thread's trap count and the emulated kernel's answer to a
 * trapped syscall, which prove a fallback). In a churn
 * scenario the first reader moves to the next allowed CPU before each
 * getcpu (the others stay pinned, so the storm's time readings do not
 * starve while it migrates).
 * Monotonic clocks are tracked across all readers by one mark per clock.
 * A budget ends the test (extended until enough readings are verified, up
 * to a hard end; fewer is an inconclusive FAIL unless the user allows it);
 * a reader that has not returned seconds after the hard end is a livelock.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "concurrent_storm.h"
#include "oracle.h"
#include <vdsokit/counter.h>
#include <vdsokit/loader_trap.h>
#include <vdsokit/timekeeper_raw.h>

#define MAX_READERS 64
#define WHY_LEN     3072
#define NCLOCKS     12 /* clock ids 0..11 may be tracked for monotonicity */

struct storm {
    struct vdso_loaded *l;
    const struct conf_vdso_fns *fn;
    const struct conc_scenario *sc;
    struct conc_writer writer; /* the tick operations' argument */
    int64_t end_ns;            /* the budget; readers go on until MIN_VERIFIED ... */
    int64_t hard_end_ns;       /* ... or this, whichever comes first */
    _Atomic uint64_t verified;
    _Atomic int stop;
    pthread_mutex_t mono_lock;
    struct conc_mark mono[NCLOCKS];
    int ncpus; /* the allowed CPUs and their sysfs nodes, for churn */
    int cpus[MAX_READERS], nodes[MAX_READERS];
    uint64_t skew; /* calibration's cross-CPU TSC skew: the window's allowance */
};

struct reader {
    struct storm *s;
    pthread_t th;
    int cpu, node;
    bool churn;          /* move to the next allowed CPU before each getcpu */
    unsigned churn_next; /* index into storm.cpus of that CPU */
    uint64_t seed;
    uint64_t served, fallback, unverifiable, explained, getcpu_calls;
    uint64_t wrong;
    int64_t worst_explained;
    char why[WHY_LEN];
    struct tk_log_entry *buf;
    _Atomic int in_call; /* 1 + op index while inside the target */
    _Atomic int done;
};

static const clockid_t reader_clocks[] = {
    CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,   CLOCK_REALTIME,         CLOCK_BOOTTIME,
    CLOCK_TAI,       CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,
};
#define NREADER_CLOCKS (sizeof(reader_clocks) / sizeof(reader_clocks[0]))
/* The reader's mix: each clock, then gettimeofday, time, getcpu. */
#define NOPS (NREADER_CLOCKS + 3)

/*
 * Storms (back to back) may outrun the log and starve readers on a loaded
 * machine; the test runs past its budget (up to 8x) until this many
 * readings are verified, and fails as inconclusive if they never are
 * (a SKIP with --allow-inconclusive). The fewest seen in a quick tsan run
 * with one core busy was 582 (seq_wrap, in the first quarter second).
 */
#define MIN_VERIFIED 200

/* ---- one reading ---- */

static void counter_pages(struct vdso_loaded *l, struct pvclock_vcpu_time_info *pv,
                          struct ms_hyperv_tsc_page *hv)
{
    counter_pvclock_snapshot(datapages_pvclock(&l->dp), pv);
    counter_hvclock_snapshot(datapages_hvclock(&l->dp), hv);
}

/* The last trap's answer, in the reading's units (loader_trap.h). */
static void trap_answer(struct conc_reading *r)
{
    struct loader_trap_record rec;

    loader_trap_thread_last(&rec);
    r->trap_ret = rec.ret;
    r->trap_generation = rec.trace.generation;
    if (r->op == CONC_CLOCK)
        r->trap_value = ts_ns(&rec.ts);
    else if (r->op == CONC_GETTIMEOFDAY)
        r->trap_value = tv_us(&rec.tv);
    else
        r->trap_value = rec.t;
}

static bool reading_in_range(const struct conc_reading *r, const struct timespec *ts,
                             const struct timeval *tv)
{
    if (r->op == CONC_CLOCK)
        return ts_valid(ts);
    if (r->op == CONC_GETTIMEOFDAY)
        return tv_valid(tv);
    return true;
}

static void take(struct reader *rd, unsigned op, struct conc_reading *r, bool *range_ok)
{
    struct storm *s = rd->s;
    struct timekeeper *tk = s->l->tk;

    r->op = op < NREADER_CLOCKS ? CONC_CLOCK : op == NREADER_CLOCKS ? CONC_GETTIMEOFDAY : CONC_TIME;
    r->clk = op < NREADER_CLOCKS ? reader_clocks[op] : CLOCK_REALTIME;
    r->lead_ok = s->sc->lead_ok;
    struct timespec ts = {0};
    struct timeval tv = {0};
    r->gen0 = tk_generation(tk);
    r->breaks0 = tk_counter_page_breaks(tk);
    counter_pages(s->l, &r->pv0, &r->hv0);
    uint64_t traps0 = loader_trap_thread_count();
    r->tsc0 = counter_rdtsc();
    atomic_store_explicit(&rd->in_call, (int)op + 1, memory_order_relaxed);
    if (r->op == CONC_CLOCK) {
        r->ret = s->fn->clock_gettime(r->clk, &ts);
        r->value_ns = ts_ns(&ts);
    } else if (r->op == CONC_GETTIMEOFDAY) {
        r->ret = s->fn->gettimeofday(&tv, NULL);
        r->value_ns = tv_us(&tv);
    } else {
        r->value_ns = s->fn->time(NULL);
        r->ret = 0;
    }
    atomic_store_explicit(&rd->in_call, 0, memory_order_relaxed);
    r->tsc1 = counter_rdtsc();
    r->traps = loader_trap_thread_count() - traps0;
    if (r->traps)
        trap_answer(r);
    counter_pages(s->l, &r->pv1, &r->hv1);
    r->breaks1 = tk_counter_page_breaks(tk);
    r->gen1 = tk_generation(tk);
    r->seq_may_repeat = s->sc->seq_repeats_after && r->gen1 - r->gen0 >= s->sc->seq_repeats_after;
    /*
     * An update whose data time() may have read is either in gen1 or still
     * in flight now: seq odd, or committed (generation advanced) since.
     */
    uint32_t seq = __atomic_load_n(&datapages_time(&s->l->dp)->clock_data[0].seq, __ATOMIC_ACQUIRE);
    r->in_flight = (seq & 1) || tk_generation(tk) != r->gen1;
    *range_ok = reading_in_range(r, &ts, &tv);
}

/* Count a wrong result; the first one's evidence is kept. */
/* The scenario's policy, relaxed where the image's era wraps (its model explains it). */
static enum conc_mono_policy storm_policy(const struct storm *s)
{
    if (s->sc->wraps_before_6_10 && s->l->delta != LAYOUT_DELTA_6_10)
        return CONC_MONO_EXPLAIN;
    return s->sc->policy;
}

static void record_wrong(struct reader *rd, const char *detail)
{
    if (rd->wrong++ == 0) {
        int n = snprintf(rd->why, sizeof(rd->why), "reader pinned to cpu %d: ", rd->cpu);
        snprintf(rd->why + n, sizeof(rd->why) - (size_t)n, "%s", detail);
    }
}

/* Judge a monotonic clock's reading, count the outcome, and raise the clock's mark. */
static void check_monotonic(struct reader *rd, const struct conc_reading *r,
                            const struct conc_mark *before, enum conc_verdict v,
                            const struct conc_match *m)
{
    struct storm *s = rd->s;
    clockid_t clk = r->clk;

    if (r->op != CONC_CLOCK || !(s->sc->mono_mask & (1u << clk)) || v == CONC_FALLBACK ||
        v == CONC_WRONG || r->ret || (v == CONC_UNVERIFIABLE && r->seq_may_repeat))
        return;
    bool verified = v == CONC_SERVED, stale = false;
    int64_t back;
    char detail[512];
    switch (conc_verify_monotonic(s->l, storm_policy(s), r, verified, m, before, &back, detail,
                                  sizeof(detail))) {
    case CONC_MONO_OK:
        break;
    case CONC_MONO_EXPLAINED:
        rd->explained++;
        if (back > rd->worst_explained)
            rd->worst_explained = back;
        break;
    case CONC_MONO_UNATTRIBUTED:
        rd->unverifiable++;
        break;
    case CONC_MONO_STALE:
        rd->unverifiable++;
        stale = true; /* judge later readings against this one */
        break;
    case CONC_MONO_WRONG:
        record_wrong(rd, detail);
        break;
    }
    if (storm_policy(s) == CONC_MONO_EXPLAIN && !verified)
        return;
    pthread_mutex_lock(&s->mono_lock);
    struct conc_mark *cur = &s->mono[clk];
    if (!cur->set || r->value_ns > cur->value || stale)
        *cur = (struct conc_mark){true, r->value_ns, verified ? m->generation : 0,
                                  verified ? m->counter_hi : 0, verified};
    pthread_mutex_unlock(&s->mono_lock);
}

/* Churn: move to the next allowed CPU; false when the move failed (offline). */
static bool churn_cpu(struct reader *rd)
{
    struct storm *s = rd->s;
    unsigned k = rd->churn_next++ % (unsigned)s->ncpus;

    if (pin_to_cpu(s->cpus[k]) != 0)
        return false;
    rd->cpu = s->cpus[k];
    rd->node = s->nodes[k];
    return true;
}

static void check_getcpu(struct reader *rd)
{
    unsigned cpu = ~0u, node = ~0u;

    if (rd->churn && !churn_cpu(rd))
        return;

    atomic_store_explicit(&rd->in_call, (int)NOPS, memory_order_relaxed);
    long ret = rd->s->fn->getcpu(&cpu, &node, NULL);
    atomic_store_explicit(&rd->in_call, 0, memory_order_relaxed);
    rd->getcpu_calls++;
    if (ret != 0 || cpu != (unsigned)rd->cpu || (rd->node >= 0 && node != (unsigned)rd->node)) {
        char detail[160];
        snprintf(detail, sizeof(detail),
                 "getcpu returned %ld, cpu %u node %u; pinned to cpu %d, sysfs node %d", ret, cpu,
                 node, rd->cpu, rd->node);
        record_wrong(rd, detail);
    }
}

static void one_reading(struct reader *rd, unsigned op)
{
    struct storm *s = rd->s;

    if (op == NOPS - 1) {
        if (s->fn->getcpu)
            check_getcpu(rd);
        return;
    }
    if ((op < NREADER_CLOCKS && !s->fn->clock_gettime) ||
        (op == NREADER_CLOCKS && !s->fn->gettimeofday) ||
        (op == NREADER_CLOCKS + 1 && !s->fn->time))
        return;
    struct conc_mark before = {0};
    clockid_t clk = op < NREADER_CLOCKS ? reader_clocks[op] : -1;
    if (clk >= 0) {
        pthread_mutex_lock(&s->mono_lock);
        before = s->mono[clk];
        pthread_mutex_unlock(&s->mono_lock);
    }
    struct conc_reading r = {0};
    bool range_ok;
    take(rd, op, &r, &range_ok);
    r.skew = s->skew;
    char why[WHY_LEN];
    struct conc_match m = {0};
    if (!range_ok) {
        snprintf(why, sizeof(why), "reading out of range (tv_nsec >= 1e9 or tv_usec >= 1e6): %lld",
                 (long long)r.value_ns);
        record_wrong(rd, why);
        return;
    }
    enum conc_verdict v = conc_verify(s->l, &r, rd->buf, &m, why, sizeof(why));
    switch (v) {
    case CONC_SERVED:
        rd->served++;
        atomic_fetch_add_explicit(&s->verified, 1, memory_order_relaxed);
        break;
    case CONC_FALLBACK:
        rd->fallback++;
        atomic_fetch_add_explicit(&s->verified, 1, memory_order_relaxed);
        break;
    case CONC_UNVERIFIABLE:
        rd->unverifiable++;
        break;
    case CONC_WRONG:
        record_wrong(rd, why);
        break;
    }
    check_monotonic(rd, &r, &before, v, &m);
}

static bool done_reading(struct storm *s)
{
    int64_t now = mono_now_ns();

    return now > s->hard_end_ns ||
           (now > s->end_ns &&
            atomic_load_explicit(&s->verified, memory_order_relaxed) >= MIN_VERIFIED);
}

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    struct storm *s = rd->s;

    pin_to_cpu(rd->cpu);
    for (uint64_t i = 0; !atomic_load_explicit(&s->stop, memory_order_relaxed); i++) {
        one_reading(rd, (unsigned)(conf_rand(&rd->seed) % NOPS));
        if ((i & 7) == 0 && done_reading(s))
            break;
    }
    atomic_store(&rd->done, 1);
    return NULL;
}

/* ---- one scenario ---- */

static void list_cpus(struct conf_ctx *ctx, struct storm *s)
{
    s->ncpus = 0;
    for (int c = 0; c < CPU_SETSIZE && s->ncpus < MAX_READERS; c++) {
        if (!CPU_ISSET(c, &ctx->calib->allowed))
            continue;
        s->cpus[s->ncpus] = c;
        s->nodes[s->ncpus++] = sysfs_cpu_node(c);
    }
}

static int start_readers(struct conf_ctx *ctx, struct storm *s, struct reader *rd)
{
    int n = 0;

    list_cpus(ctx, s);
    for (int k = 0; k < s->ncpus; k++) {
        int c = s->cpus[k];
        rd[n] = (struct reader){.s = s,
                                .cpu = c,
                                .node = s->nodes[k],
                                .churn = s->sc->churn && k == 0,
                                .churn_next = 1};
        rd[n].seed = ctx->seed ^ ((uint64_t)(c + 1) * 0x9e3779b97f4a7c15ull);
        rd[n].buf = malloc(sizeof(struct tk_log_entry) * TK_LOG_ENTRIES);
        if (!rd[n].buf || pthread_create(&rd[n].th, NULL, reader_main, &rd[n]) != 0) {
            free(rd[n].buf);
            break;
        }
        n++;
    }
    return n;
}

static const char *op_name(int in_call, char *buf, size_t len)
{
    if (in_call <= 0)
        return "nothing (between calls)";
    unsigned op = (unsigned)in_call - 1;
    if (op < NREADER_CLOCKS) {
        char c[32];
        snprintf(buf, len, "clock_gettime(%s)", clock_name(reader_clocks[op], c, sizeof(c)));
        return buf;
    }
    return op == NREADER_CLOCKS ? "gettimeofday" : op == NREADER_CLOCKS + 1 ? "time" : "getcpu";
}

/* Join, or on a reader stuck in the target report the livelock and leave. */
static void join_readers(struct conf_ctx *ctx, struct storm *s, struct reader *rd, int n)
{
    /*
     * Grace: far above any scheduling delay. A reader spinning on an odd
     * seq or pvclock version can hold off a preempted writer for a slice,
     * so a slow end is no livelock; seconds without return are.
     */
    int64_t give_up = s->hard_end_ns + 10 * NSEC_PER_SEC;

    for (int i = 0; i < n; i++) {
        while (!atomic_load(&rd[i].done) && mono_now_ns() < give_up)
            usleep(1000);
        if (!atomic_load(&rd[i].done)) {
            atomic_store(&s->stop, 1);
            char buf[64];
            conf_fail(ctx,
                      "reader on cpu %d has not returned from %s %.1f s after the test's end "
                      "(livelock or hang in the target while the writer %s)",
                      rd[i].cpu, op_name(atomic_load(&rd[i].in_call), buf, sizeof(buf)),
                      (double)(mono_now_ns() - s->hard_end_ns) / NSEC_PER_SEC,
                      s->sc->hz ? "ticks" : "storms");
            conf_test_end(ctx);
            _exit(1);
        }
        pthread_join(rd[i].th, NULL);
    }
}

/* ran_ns: how long the readers ran, the budget and any extension. */
static void report(struct conf_ctx *ctx, const struct conc_scenario *sc, struct reader *rd, int n,
                   int64_t ticks, int64_t ran_ns)
{
    uint64_t served = 0, fallback = 0, unver = 0, explained = 0, getcpu = 0, wrong = 0;
    int64_t worst = 0;

    for (int i = 0; i < n; i++) {
        served += rd[i].served;
        fallback += rd[i].fallback;
        unver += rd[i].unverifiable;
        explained += rd[i].explained;
        getcpu += rd[i].getcpu_calls;
        wrong += rd[i].wrong;
        if (rd[i].worst_explained > worst)
            worst = rd[i].worst_explained;
        if (rd[i].wrong)
            conf_fail(ctx, "%s (%llu wrong results on this reader)", rd[i].why,
                      (unsigned long long)rd[i].wrong);
    }
    uint64_t verified = served + fallback, total = verified + unver;
    double fraction = total ? (double)verified / (double)total : 0;
    conf_note(
        ctx,
        "%d readers, %lld writer ticks%s: %llu served exactly, %llu fell back (trapped, "
        "the emulated kernel's answer), %llu unverifiable (the writer outran the %d-entry log), "
        "verified %.4f; %llu getcpu checks; %llu regressions explained by the model "
        "(worst %lld ns); %llu wrong",
        n, (long long)ticks, sc->hz ? "" : " (back to back)", (unsigned long long)served,
        (unsigned long long)fallback, (unsigned long long)unver, TK_LOG_ENTRIES, fraction,
        (unsigned long long)getcpu, (unsigned long long)explained, (long long)worst,
        (unsigned long long)wrong);
    /* For the HTML report's storm plot: the same counts, as numbers. */
    conf_metric(ctx,
                "readings=%llu verified=%llu served=%llu fallback=%llu unverifiable=%llu "
                "wrong=%llu min_fraction=%.2f",
                (unsigned long long)total, (unsigned long long)verified, (unsigned long long)served,
                (unsigned long long)fallback, (unsigned long long)unver, (unsigned long long)wrong,
                sc->min_fraction);
    if (fraction < sc->min_fraction)
        conf_fail(ctx,
                  "too few readings verified: %llu of %llu (need a fraction of %.2f at this "
                  "writer rate)",
                  (unsigned long long)verified, (unsigned long long)total, sc->min_fraction);
    /* Too few readings prove nothing either way: a FAIL, so that a starved
     * storm is never green, unless the user accepts it for a slow machine. */
    if (verified < MIN_VERIFIED) {
        char why[256];

        snprintf(why, sizeof(why),
                 "inconclusive: only %llu of %llu readings verified by the end of the extended "
                 "budget (%.2f s; need %d): the readers were starved",
                 (unsigned long long)verified, (unsigned long long)total,
                 (double)ran_ns / NSEC_PER_SEC, MIN_VERIFIED);
        if (ctx->allow_inconclusive)
            conf_skip(ctx, "%s (allowed by --allow-inconclusive)", why);
        else
            conf_fail(ctx, "%s", why);
    }
    if (sc->need_fallback && (fallback == 0 || served == 0))
        conf_fail(ctx,
                  "the mode flips should give both served and fallen-back calls: %llu served, "
                  "%llu fell back",
                  (unsigned long long)served, (unsigned long long)fallback);
}

static void restore(struct vdso_loaded *l, const struct conf_target *t)
{
    tk_pvclock_set_stable(l->tk, true);
    tk_slew_ppm(l->tk, 0);
    tk_switch_counter(l->tk, conf_inproc_counter(t));
}

void conc_storm_run(struct conf_ctx *ctx, struct vdso_loaded *l, const struct conc_scenario *sc)
{
    static struct storm s;

    memset(&s, 0, sizeof(s));
    s.l = l;
    s.fn = &ctx->target->fn;
    s.sc = sc;
    s.writer = (struct conc_writer){.l = l, .hz = sc->hz, .rng = ctx->seed | 1};
    s.skew = ctx->calib->tsc_skew;
    pthread_mutex_init(&s.mono_lock, NULL);
    if (sc->setup)
        sc->setup(l->tk);
    int err = tk_writer_start_cb(l->tk, sc->hz, sc->tick, &s.writer);
    if (err) {
        conf_fail(ctx, "cannot start the writer thread: %s", strerror(-err));
        return;
    }
    /* Twelve scenarios: 0.25 s each in quick, 2 s in full and soak rounds. */
    int64_t budget = ctx->tier == CONF_TIER_QUICK ? NSEC_PER_SEC / 4 : 2 * NSEC_PER_SEC;
    int64_t start = mono_now_ns();
    s.end_ns = start + budget;
    s.hard_end_ns = s.end_ns + 7 * budget;
    static struct reader rd[MAX_READERS];
    int n = start_readers(ctx, &s, rd);
    join_readers(ctx, &s, rd, n);
    int64_t ran_ns = mono_now_ns() - start;
    int64_t ticks = tk_writer_stop(l->tk);
    restore(l, ctx->target);
    if (n == 0)
        conf_fail(ctx, "no reader thread could be started");
    else
        report(ctx, sc, rd, n, ticks, ran_ns);
    for (int i = 0; i < n; i++)
        free(rd[i].buf);
    pthread_mutex_destroy(&s.mono_lock);
}
