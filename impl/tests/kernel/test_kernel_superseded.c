/*
 * The end of each logged state's time window (tk_log_entry.superseded_tsc):
 * unset while the state is current, set by the next update's begin to a TSC
 * between the caller's reads around it, shared by aux-only commits, and,
 * seen by a reader thread while a writer storms, never below a counter a
 * reader read before its seq re-check still saw the state (up to the
 * cross-CPU skew measured here): that fails if the writer logged its
 * counter before the odd seq was visible, or never logged it.
 */
#define _GNU_SOURCE
#include "../check.h"
#include "tk_test.h"
#include <pthread.h>
#include <vdsokit/timekeeper_raw.h>
#include <vdsokit/tsc_skew.h>

#define WRITER_HZ   10000 /* sleeps between updates leave even seqs to read on a loaded machine */
#define LOG_ENTRIES (1u << 16) /* a starved reader still finds the states it saw */
#define LOOKBACK    8          /* states searched back from the generation seen with it */
#define WANT_CHECKS 500        /* the reader stops after this many ... */
#define MAX_NS      (10ll * 1000 * 1000 * 1000) /* ... or this long */
#define MIN_CHECKS  20 /* fewer proves nothing; an idle 2-CPU VM checks 500 in 0.1 s */

static bool entry(struct timekeeper *tk, uint64_t g, struct tk_log_entry *e)
{
    return tk_log_copy(tk, g, g, e, 1) == 1;
}

static void test_hand_update(struct timekeeper *tk)
{
    struct tk_log_entry e;
    uint64_t g = tk_generation(tk);

    CHECK(entry(tk, g, &e) && e.superseded_tsc == TK_NOT_SUPERSEDED,
          "the current state %" PRIu64 " has no end yet (%" PRIu64 ")", g, e.superseded_tsc);
    uint64_t t0 = counter_rdtsc();
    CHECK(tk_update_begin(tk) == 0, "begin");
    uint64_t t1 = counter_rdtsc();
    CHECK(entry(tk, g, &e) && e.superseded_tsc >= t0 && e.superseded_tsc <= t1,
          "state %" PRIu64 " ends at %" PRIu64 ", outside the begin's [%" PRIu64 ", %" PRIu64 "]",
          g, e.superseded_tsc, t0, t1);
    uint64_t end = e.superseded_tsc;
    CHECK(tk_update_end(tk) == 0, "end");
    CHECK(entry(tk, g, &e) && e.superseded_tsc == end, "the end is logged once");
    CHECK(entry(tk, g + 1, &e) && e.superseded_tsc == TK_NOT_SUPERSEDED,
          "the new state %" PRIu64 " has no end yet", g + 1);

    /* An aux-only commit keeps the main clocks' data: both end together. */
    CHECK(tk_aux_enable(tk, 0, (struct timespec){10, 0}) == 0, "aux enable");
    CHECK(tk_generation(tk) == g + 2, "the aux commit is generation %" PRIu64, g + 2);
    CHECK(tk_accumulate(tk) == 0, "accumulate");
    struct tk_log_entry a, b;
    CHECK(entry(tk, g + 1, &a) && entry(tk, g + 2, &b) && a.superseded_tsc != TK_NOT_SUPERSEDED &&
              a.superseded_tsc == b.superseded_tsc,
          "states %" PRIu64 " and %" PRIu64 " end together (%" PRIu64 ", %" PRIu64 ")", g + 1,
          g + 2, a.superseded_tsc, b.superseded_tsc);
    tk_aux_disable(tk, 0);
}

struct storm_reader {
    struct timekeeper *tk;
    uint64_t skew;
    uint64_t checked, lost, late, worst;
    uint64_t late_seq, late_tsc, late_end;
};

/* The state with seq `seq`, committed at or shortly before generation near. */
static bool find_state(struct timekeeper *tk, uint32_t seq, uint64_t near, struct tk_log_entry *buf,
                       size_t n, struct tk_log_entry *out)
{
    size_t got = tk_log_copy(tk, near > n ? near - n + 1 : 1, near, buf, n);

    for (size_t i = got; i-- > 0;)
        if (buf[i].seq == seq) {
            *out = buf[i];
            return true;
        }
    return false;
}

/* A state the reader saw has ended: its last counter read must be below its end. */
static void check_ended(struct storm_reader *r, uint32_t seq, uint64_t gen, uint64_t last_tsc,
                        struct tk_log_entry *buf)
{
    struct tk_log_entry e;

    if (!find_state(r->tk, seq, gen, buf, LOOKBACK, &e)) {
        r->lost++;
        return;
    }
    r->checked++;
    if (e.superseded_tsc != TK_NOT_SUPERSEDED && last_tsc <= e.superseded_tsc + r->skew)
        return;
    if (r->late++ == 0) {
        r->late_seq = seq;
        r->late_tsc = last_tsc;
        r->late_end = e.superseded_tsc;
    }
}

/* As a vDSO reads: even seq, the counter, the same seq again. */
static void *storm_reader_main(void *arg)
{
    struct storm_reader *r = arg;
    const struct vdso_time_data *page = datapages_time(tk_datapages(r->tk));
    static struct tk_log_entry buf[LOOKBACK];
    uint32_t cur = 1; /* odd: no state seen yet */
    uint64_t cur_tsc = 0, cur_gen = 0;
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0;; i++) {
        if (i % 1024 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (r->checked >= WANT_CHECKS || ts_ns(&t) - ts_ns(&t0) > MAX_NS)
                break;
        }
        uint32_t s1 = __atomic_load_n(&page->clock_data[0].seq, __ATOMIC_ACQUIRE);
        if (s1 & 1)
            continue;
        uint64_t tsc = counter_rdtsc();
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&page->clock_data[0].seq, __ATOMIC_RELAXED) != s1)
            continue;
        if (s1 != cur) {
            if (!(cur & 1))
                check_ended(r, cur, cur_gen, cur_tsc, buf);
            cur = s1;
            cur_gen = tk_generation(r->tk); /* advanced before the seq: >= the state's */
        }
        cur_tsc = tsc;
    }
    return NULL;
}

static void test_storm(struct timekeeper *tk)
{
    cpu_set_t cpus;
    struct tsc_skew skew;

    CHECK(sched_getaffinity(0, sizeof(cpus), &cpus) == 0, "affinity");
    CHECK(tsc_skew_measure(&cpus, 10, &skew) == 0, "skew measured");
    printf("cross-CPU TSC skew %" PRIu64 " cycles (%u pairs, %" PRIu64 " handoffs)\n",
           skew.max_back, skew.pairs, skew.handoffs);
    struct storm_reader r = {.tk = tk, .skew = skew.max_back};
    pthread_t th;
    CHECK(tk_writer_start(tk, WRITER_HZ) == 0, "writer");
    CHECK(pthread_create(&th, NULL, storm_reader_main, &r) == 0, "reader");
    pthread_join(th, NULL);
    int64_t ticks = tk_writer_stop(tk);
    printf("%" PRId64 " updates; %" PRIu64 " states seen ending checked, %" PRIu64
           " fell out of the log\n",
           ticks, r.checked, r.lost);
    CHECK(r.checked >= MIN_CHECKS, "only %" PRIu64 " states checked", r.checked);
    CHECK(r.late == 0,
          "%" PRIu64 " states read past their logged end; first: seq %u, counter read at TSC "
          "%" PRIu64 ", end %" PRIu64 " + skew %" PRIu64,
          r.late, (unsigned)r.late_seq, r.late_tsc, r.late_end, r.skew);
}

int main(void)
{
    struct vdso_datapages dp;
    struct timekeeper *tk;
    struct tk_script s = test_script();
    s.log_entries = LOG_ENTRIES;

    if (datapages_create(&dp) != 0)
        SKIP("memfd_create failed");
    int err = tk_init_scripted(&tk, &dp, &s);
    CHECK(err == 0, "tk_init_scripted: %d", err);
    if (err)
        return check_finish();
    test_hand_update(tk);
    test_storm(tk);
    tk_destroy(tk);
    datapages_destroy(&dp);
    return check_finish();
}
