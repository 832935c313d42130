/*
 * Group 4, concurrent updates (defect classes C1, C2, C5, C6, C8, C9): the
 * timekeeper storms the data pages (back to back and at HZ, slews of up to
 * ±500 ppm, REALTIME steps both ways, boot-offset jumps and suspends, mode
 * flips TSC -> PVCLOCK -> unstable pvclock -> NONE -> TSC, seq wrapping
 * past 2^32, odd pvclock versions) while one reader pinned to each CPU
 * calls the target and checks every result against the model
 * (concurrent_verify.c): exact for one committed state, or a fallback
 * exactly where a candidate state cannot be served. Monotonic clocks are
 * compared across all readers (a reading may not be below one that was
 * complete before the call began); where the scenario changes the rate or
 * the counter, a regression the emulated kernel's own states explain (the
 * model of both states at the earlier reading's counter) is allowed and
 * counted, any other fails. getcpu is part of every reader's mix. A reader
 * that never returns is a livelock: the test fails naming the call. Only
 * in-process targets have pages this process can write; for live and libc
 * each test is a SKIP saying so.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "concurrent.h"
#include "conf.h"
#include "oracle.h"
#include "vdsokit/counter.h"
#include "vdsokit/timekeeper_raw.h"

#define MAX_READERS 64
#define WHY_LEN     3072
#define NCLOCKS     12 /* clock ids 0..11 may be tracked for monotonicity */

enum mono_policy {
    MONO_STRICT,  /* never below an earlier complete reading */
    MONO_EXPLAIN, /* unless the model of the two states explains it */
};

struct scenario {
    const char *id;
    unsigned hz; /* writer rate; 0 = back to back */
    tk_tick_fn tick;
    unsigned mono_mask; /* bit per clock id */
    enum mono_policy policy;
    bool bracket;        /* fallback possible: take the syscall around each call */
    bool need_fallback;  /* the scenario must show both served and fallen-back calls */
    double min_fraction; /* of readings verified */
    void (*setup)(struct timekeeper *tk);
    bool lead_ok; /* the writer publishes cycle_last ahead of the counter */
};

struct mono_mark {
    bool set;
    int64_t value;
    uint64_t generation, counter_hi;
    bool verified;
};

struct storm {
    struct vdso_loaded *l;
    const struct conf_vdso_fns *fn;
    const struct scenario *sc;
    int64_t end_ns;      /* the budget; readers go on until MIN_VERIFIED ... */
    int64_t hard_end_ns; /* ... or this, whichever comes first */
    _Atomic uint64_t verified;
    _Atomic int stop;
    pthread_mutex_t mono_lock;
    struct mono_mark mono[NCLOCKS];
    uint64_t writer_rng;
};

struct reader {
    struct storm *s;
    pthread_t th;
    int cpu, node;
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

/* ---- the writer's per-tick operations (run in the writer thread) ---- */

static uint64_t writer_rand(void *arg)
{
    return conf_rand(&((struct storm *)arg)->writer_rng);
}

static void tick_slew(struct timekeeper *tk, uint64_t tick, void *arg)
{
    tk_slew_ppm(tk, (int32_t)(writer_rand(arg) % 1001) - 500);
}

static void tick_steps(struct timekeeper *tk, uint64_t tick, void *arg)
{
    int64_t ns = (int64_t)(writer_rand(arg) % 1000000000u) + 1;
    tk_step_realtime(tk, (tick & 1) ? -ns : ns);
}

static void tick_boot(struct timekeeper *tk, uint64_t tick, void *arg)
{
    int64_t ns = (int64_t)(writer_rand(arg) % 1000000000u) + 1;
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

static void tick_wrap(struct timekeeper *tk, uint64_t tick, void *arg)
{
    if (tick % 64 == 0)
        tk_set_seq(tk, 0xfffffff0u); /* the next updates wrap past 2^32 */
}

/* An odd version makes every pvclock reader wait; then a new even one. */
static void tick_pvclock_version(struct timekeeper *tk, uint64_t tick, void *arg)
{
    struct storm *s = arg;
    struct pvclock_vcpu_time_info *pv = datapages_pvclock(&s->l->dp);
    uint32_t v = __atomic_load_n(&pv->version, __ATOMIC_RELAXED) | 1;
    tk_pvclock_set_version(tk, v);
    int64_t until = mono_now_ns() + 5000;
    while (mono_now_ns() < until) {
    }
    tk_pvclock_set_version(tk, v + 1);
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
    struct storm *s = arg;
    struct tk_log_entry e;
    if (!newest_state(tk, &e))
        return;
    struct vdso_clock cd[VDSO_CS_BASES];
    for (int c = 0; c < VDSO_CS_BASES; c++) {
        cd[c] = e.data.clock_data[c];
        /* A quarter of the tick period, in counter units, from the clock's own rate. */
        uint64_t lead = ((uint64_t)(NSEC_PER_SEC / 4 / s->sc->hz) << cd[c].shift) / cd[c].mult;
        cd[c].cycle_last += lead;
        for (int i = 0; i < VDSO_BASES; i++)
            if (counter_slot(c, i))
                cd[c].basetime[i].nsec += lead * cd[c].mult;
    }
    tk_publish_raw(tk, cd);
}

/*
 * C9 (no 128-bit path): after each tick, republish the state as if the
 * last update were a long stall ago: cycle_last moved back by D counter
 * units with D * mult >= 2^64 (beyond max_cycles), the bases moved back
 * along the same line (whole seconds into sec, the rest into nsec), so
 * that every reading is the same time as before, computable only in 128
 * bits. time() reads the moved base seconds, as the kernel's would.
 */
static void stall_clock(struct vdso_clock *vc, int clock_data)
{
    if (vc->mult == 0)
        return;
    uint64_t d = (uint64_t)(((unsigned __int128)1 << 64) / vc->mult) * 17 / 16 + 1;
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

static const struct scenario scenarios[] = {
    {"concurrent.storm.back_to_back", 0, NULL, ALL_MONO, MONO_STRICT, false, false, 0.0, NULL,
     false},
    {"concurrent.storm.hz", 1000, NULL, ALL_MONO, MONO_STRICT, false, false, 0.9, NULL, false},
    {"concurrent.slew", 2000, tick_slew, ALL_MONO, MONO_EXPLAIN, false, false, 0.9, NULL, false},
    {"concurrent.steps", 2000, tick_steps, UNSTEPPED, MONO_STRICT, false, false, 0.9, NULL, false},
    /* Only forward jumps: every clock must still be monotonic. */
    {"concurrent.boot_jumps", 2000, tick_boot, ALL_MONO, MONO_STRICT, false, false, 0.9, NULL,
     false},
    {"concurrent.mode_flips", 1000, tick_flips, ALL_MONO, MONO_EXPLAIN, true, true, 0.9, NULL,
     false},
    {"concurrent.seq_wrap", 0, tick_wrap, ALL_MONO, MONO_STRICT, false, false, 0.0, setup_wrap,
     false},
    {"concurrent.pvclock_version", 250, tick_pvclock_version, ALL_MONO, MONO_STRICT, false, false,
     0.9, setup_pvclock, false},
    {"concurrent.getcpu", 0, NULL, ALL_MONO, MONO_STRICT, false, false, 0.0, NULL, false},
    {"concurrent.counter_behind", 1000, tick_counter_behind, ALL_MONO, MONO_EXPLAIN, false, false,
     0.9, NULL, true},
    {"concurrent.long_stall", 1000, tick_long_stall, ALL_MONO, MONO_STRICT, false, false, 0.9, NULL,
     false},
    {"concurrent.second_boundary", 1000, tick_second_boundary, UNSTEPPED, MONO_STRICT, false, false,
     0.9, NULL, false},
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/*
 * Storms (back to back) may outrun the log and starve readers on a loaded
 * machine; the test runs past its budget (up to 8x) until this many
 * readings are verified, and is inconclusive (SKIP) if they never are.
 */
#define MIN_VERIFIED 200

/* ---- one reading ---- */

static void counter_pages(struct vdso_loaded *l, struct pvclock_vcpu_time_info *pv,
                          struct ms_hyperv_tsc_page *hv)
{
    counter_pvclock_snapshot(datapages_pvclock(&l->dp), pv);
    counter_hvclock_snapshot(datapages_hvclock(&l->dp), hv);
}

static int64_t syscall_value(enum conc_op op, clockid_t clk)
{
    struct timespec ts;
    struct timeval tv;
    if (op == CONC_CLOCK)
        return sys_clock_gettime(clk, &ts) ? INT64_MIN : ts_ns(&ts);
    if (op == CONC_GETTIMEOFDAY)
        return sys_gettimeofday(&tv, NULL) ? INT64_MIN : (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    return sys_time(NULL);
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
    r->bracketed = s->sc->bracket;
    r->lead_ok = s->sc->lead_ok;
    struct timespec ts = {0};
    struct timeval tv = {0};
    r->gen0 = tk_generation(tk);
    counter_pages(s->l, &r->pv0, &r->hv0);
    if (r->bracketed)
        r->sys0 = syscall_value(r->op, r->clk);
    r->tsc0 = counter_rdtsc();
    atomic_store_explicit(&rd->in_call, (int)op + 1, memory_order_relaxed);
    if (r->op == CONC_CLOCK) {
        r->ret = s->fn->clock_gettime(r->clk, &ts);
        r->value_ns = ts_ns(&ts);
    } else if (r->op == CONC_GETTIMEOFDAY) {
        r->ret = s->fn->gettimeofday(&tv, NULL);
        r->value_ns = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    } else {
        r->value_ns = s->fn->time(NULL);
        r->ret = 0;
    }
    atomic_store_explicit(&rd->in_call, 0, memory_order_relaxed);
    r->tsc1 = counter_rdtsc();
    if (r->bracketed)
        r->sys1 = syscall_value(r->op, r->clk);
    counter_pages(s->l, &r->pv1, &r->hv1);
    r->gen1 = tk_generation(tk);
    /*
     * An update whose data time() may have read is either in gen1 or still
     * in flight now: seq odd, or committed (generation advanced) since.
     */
    uint32_t seq = __atomic_load_n(&datapages_time(&s->l->dp)->clock_data[0].seq, __ATOMIC_ACQUIRE);
    r->in_flight = (seq & 1) || tk_generation(tk) != r->gen1;
    *range_ok = reading_in_range(r, &ts, &tv);
}

/* Count a wrong result; the first one's evidence is kept. */
static void record_wrong(struct reader *rd, const char *detail)
{
    if (rd->wrong++ == 0) {
        int n = snprintf(rd->why, sizeof(rd->why), "reader pinned to cpu %d: ", rd->cpu);
        snprintf(rd->why + n, sizeof(rd->why) - (size_t)n, "%s", detail);
    }
}

/* How far the model lets clock clk regress from mark a to a reading in state gb. */
static int64_t explained_regression(struct storm *s, clockid_t clk, const struct mono_mark *a,
                                    uint64_t gb)
{
    int64_t va, vb;
    if (!a->verified || gb == a->generation ||
        !conc_model_at(s->l, a->generation, clk, a->counter_hi, &va) ||
        !conc_model_at(s->l, gb, clk, a->counter_hi, &vb))
        return 0;
    /* Different counter domains: each switch may round by a nanosecond. */
    struct tk_log_entry ea, eb;
    tk_log_copy(s->l->tk, a->generation, a->generation, &ea, 1);
    tk_log_copy(s->l->tk, gb, gb, &eb, 1);
    if (ea.data.clock_data[0].clock_mode != eb.data.clock_data[0].clock_mode)
        return 2;
    return va - vb + 1; /* plus the model's own truncation */
}

static void check_monotonic(struct reader *rd, const struct conc_reading *r,
                            const struct mono_mark *before, enum conc_verdict v,
                            const struct conc_match *m)
{
    struct storm *s = rd->s;
    clockid_t clk = r->clk;
    if (r->op != CONC_CLOCK || !(s->sc->mono_mask & (1u << clk)) || v == CONC_FALLBACK ||
        v == CONC_WRONG || r->ret)
        return;
    bool verified = v == CONC_SERVED;
    if (before->set && r->value_ns < before->value) {
        int64_t back = before->value - r->value_ns;
        int64_t allow = 0;
        if (s->sc->policy == MONO_EXPLAIN && verified)
            allow = explained_regression(s, clk, before, m->generation);
        if (back <= allow) {
            rd->explained++;
            if (back > rd->worst_explained)
                rd->worst_explained = back;
        } else if (s->sc->policy == MONO_EXPLAIN && (!verified || !before->verified)) {
            rd->unverifiable++; /* a regression we cannot attribute either way */
        } else {
            char detail[512], buf[32];
            snprintf(detail, sizeof(detail),
                     "%s went back %lld ns: %lld (state %llu) after %lld (state %llu, counter "
                     "<= %llu) that was complete before the call began; the model of the two "
                     "states explains %lld ns",
                     clock_name(clk, buf, sizeof(buf)), (long long)back, (long long)r->value_ns,
                     (unsigned long long)(verified ? m->generation : 0), (long long)before->value,
                     (unsigned long long)before->generation, (unsigned long long)before->counter_hi,
                     (long long)allow);
            record_wrong(rd, detail);
        }
    }
    if (s->sc->policy == MONO_EXPLAIN && !verified)
        return;
    pthread_mutex_lock(&s->mono_lock);
    struct mono_mark *cur = &s->mono[clk];
    if (!cur->set || r->value_ns > cur->value)
        *cur = (struct mono_mark){true, r->value_ns, verified ? m->generation : 0,
                                  verified ? m->counter_hi : 0, verified};
    pthread_mutex_unlock(&s->mono_lock);
}

static void check_getcpu(struct reader *rd)
{
    unsigned cpu = ~0u, node = ~0u;
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
    struct mono_mark before = {0};
    clockid_t clk = op < NREADER_CLOCKS ? reader_clocks[op] : -1;
    if (clk >= 0) {
        pthread_mutex_lock(&s->mono_lock);
        before = s->mono[clk];
        pthread_mutex_unlock(&s->mono_lock);
    }
    struct conc_reading r = {0};
    bool range_ok;
    take(rd, op, &r, &range_ok);
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

static int start_readers(struct conf_ctx *ctx, struct storm *s, struct reader *rd)
{
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < MAX_READERS; c++) {
        if (!CPU_ISSET(c, &ctx->calib->allowed))
            continue;
        rd[n] = (struct reader){.s = s, .cpu = c, .node = sysfs_cpu_node(c)};
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
                      (double)(mono_now_ns() - s->hard_end_ns) / 1e9,
                      s->sc->hz ? "ticks" : "storms");
            conf_test_end(ctx);
            _exit(1);
        }
        pthread_join(rd[i].th, NULL);
    }
}

static void report(struct conf_ctx *ctx, const struct scenario *sc, struct reader *rd, int n,
                   int64_t ticks)
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
    conf_note(ctx,
              "%d readers, %lld writer ticks%s: %llu served exactly, %llu fell back (in the "
              "syscall bracket), %llu unverifiable (the writer outran the %d-entry log), "
              "verified %.4f; %llu getcpu checks; %llu regressions explained by the model "
              "(worst %lld ns); %llu wrong",
              n, (long long)ticks, sc->hz ? "" : " (back to back)", (unsigned long long)served,
              (unsigned long long)fallback, (unsigned long long)unver, TK_LOG_ENTRIES, fraction,
              (unsigned long long)getcpu, (unsigned long long)explained, (long long)worst,
              (unsigned long long)wrong);
    if (fraction < sc->min_fraction)
        conf_fail(ctx,
                  "too few readings verified: %llu of %llu (need a fraction of %.2f at this "
                  "writer rate)",
                  (unsigned long long)verified, (unsigned long long)total, sc->min_fraction);
    /* Few readings are no wrong result: on a slow machine (a sanitizer
     * build, a busy host) the storm is inconclusive, not failed. */
    if (verified < MIN_VERIFIED)
        conf_skip(ctx,
                  "inconclusive: only %llu readings verified by the end of the extended budget "
                  "(need %d): the readers were starved on this machine",
                  (unsigned long long)verified, MIN_VERIFIED);
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

static void run_scenario(struct conf_ctx *ctx, struct vdso_loaded *l, const struct scenario *sc)
{
    static struct storm s;
    memset(&s, 0, sizeof(s));
    s.l = l;
    s.fn = &ctx->target->fn;
    s.sc = sc;
    s.writer_rng = ctx->seed | 1;
    pthread_mutex_init(&s.mono_lock, NULL);
    if (sc->setup)
        sc->setup(l->tk);
    int err = tk_writer_start_cb(l->tk, sc->hz, sc->tick, &s);
    if (err) {
        conf_fail(ctx, "cannot start the writer thread: %s", strerror(-err));
        return;
    }
    /* Twelve scenarios: 0.25 s each in quick, 2 s in full and soak rounds. */
    int64_t budget = ctx->tier == CONF_TIER_QUICK ? 250000000 : 2 * NSEC_PER_SEC;
    s.end_ns = mono_now_ns() + budget;
    s.hard_end_ns = s.end_ns + 7 * budget;
    static struct reader rd[MAX_READERS];
    int n = start_readers(ctx, &s, rd);
    join_readers(ctx, &s, rd, n);
    int64_t ticks = tk_writer_stop(l->tk);
    restore(l, ctx->target);
    if (n == 0)
        conf_fail(ctx, "no reader thread could be started");
    else
        report(ctx, sc, rd, n, ticks);
    for (int i = 0; i < n; i++)
        free(rd[i].buf);
    pthread_mutex_destroy(&s.mono_lock);
}

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
            run_scenario(ctx, l, &scenarios[i]);
        conf_test_end(ctx);
    }
}
