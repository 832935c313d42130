/*
 * Writer-plus-readers stress with real threads (run under TSan too): a
 * writer storms updates back to back, mixing slews, REALTIME steps, TAI
 * changes, counter-domain switches (TSC <-> pvclock) and hand-held odd
 * windows; readers run the seqcount protocol on a read-only reader view
 * with the counter read inside the window, as the vDSO does. Every snapshot
 * must be one committed state: internally consistent and byte-equal to the
 * log entry of its generation range; MONOTONIC must never go back.
 */
#define _GNU_SOURCE
#include "../check.h"
#include "tk_test.h"
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <vdsokit/timekeeper_raw.h>

#define READERS    2
#define RUN_NS     1500000000ll
#define LOG_WINDOW 64

struct shared {
    struct timekeeper *tk;
    const uint8_t *reader; /* the read-only six-page view */
    int stop;              /* atomic */
    pthread_mutex_t report;
};

struct reader_stats {
    uint64_t reads, verified, unverifiable, failed, retries, back_1ns;
};

static const struct vdso_time_data *reader_page(const struct shared *sh, int page)
{
    return (const void *)(sh->reader + (size_t)page * VDSO_PAGE_SIZE);
}

/* The vDSO's counter read, from the reader's own pages. */
static uint64_t reader_counter(void *ctx)
{
    const struct shared *sh = ctx;
    int32_t mode = __atomic_load_n(&reader_page(sh, 0)->clock_data[0].clock_mode, __ATOMIC_RELAXED);

    return counter_read_for_mode(mode, (const void *)reader_page(sh, VDSO_PVCLOCK_PAGE),
                                 (const void *)reader_page(sh, VDSO_HVCLOCK_PAGE));
}

/*
 * A busy wait, not a sleep: a writer that sleeps with seq odd and preempts
 * on waking hands a single free core (a loaded machine) to the readers only
 * while seq is odd, and they never complete a read.
 */
static void hold_ns(int64_t ns)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while (ts_diff_ns(&t, &t0) < ns);
}

static void writer_tick(struct timekeeper *tk, uint64_t tick, void *arg)
{
    (void)arg;
    switch (tick % 1024) {
    case 100:
        tk_slew_ppm(tk, (tick / 1024) % 2 ? 200 : -200);
        break;
    case 300:
        tk_step_realtime(tk, (tick / 1024) % 2 ? 1000001 : -1000001);
        break;
    case 500:
        tk_set_tai_offset(tk, 37 + (int32_t)((tick / 1024) % 2));
        break;
    case 700:
        tk_switch_counter(tk, (tick / 1024) % 2 ? TK_COUNTER_TSC : TK_COUNTER_PVCLOCK_HOST);
        break;
    case 900:
        if (tk_update_begin(tk) == 0) { /* readers must wait out an odd window */
            hold_ns(200000);
            tk_update_end(tk);
        }
        break;
    }
}

static int consistent(const struct vdso_time_data *d)
{
    const struct vdso_clock *c0 = &d->clock_data[0], *c1 = &d->clock_data[1];
    int64_t tai =
        (int64_t)(c0->basetime[VDSO_CLOCK_TAI].sec - c0->basetime[VDSO_CLOCK_REALTIME].sec);
    return c0->seq == c1->seq && c0->clock_mode == c1->clock_mode &&
           c0->cycle_last == c1->cycle_last && c0->shift == c1->shift &&
           c0->basetime[VDSO_CLOCK_TAI].nsec == c0->basetime[VDSO_CLOCK_REALTIME].nsec &&
           (tai == 37 || tai == 38);
}

static int in_log(struct timekeeper *tk, uint64_t lo, uint64_t hi, const struct vdso_time_data *d,
                  struct tk_log_entry *buf, int *evicted)
{
    *evicted = 0;
    if (hi - lo >= LOG_WINDOW) {
        *evicted = 1;
        return 0;
    }
    size_t n = tk_log_copy(tk, lo, hi, buf, LOG_WINDOW);
    if (n < hi - lo + 1)
        *evicted = 1;
    for (size_t i = 0; i < n; i++)
        if (memcmp(buf[i].data.clock_data, d->clock_data, sizeof(d->clock_data)) == 0)
            return 1;
    return 0;
}

static void report_failure(struct shared *sh, const struct vdso_time_data *d, uint64_t lo,
                           uint64_t hi, const char *why)
{
    pthread_mutex_lock(&sh->report);
    const struct vdso_clock *c0 = &d->clock_data[0];
    fprintf(stderr,
            "reader: %s: seq %u/%u mode %d cycle_last %llu mult %u shift %u gen [%llu, %llu]\n",
            why, c0->seq, d->clock_data[1].seq, c0->clock_mode, (unsigned long long)c0->cycle_last,
            c0->mult, c0->shift, (unsigned long long)lo, (unsigned long long)hi);
    pthread_mutex_unlock(&sh->report);
}

static void *reader_main(void *arg)
{
    struct shared *sh = arg;
    struct reader_stats *st = calloc(1, sizeof(*st));
    struct tk_log_entry *buf = malloc(LOG_WINDOW * sizeof(*buf));
    struct vdso_time_data *snap = malloc(sizeof(*snap));
    struct timespec last = {0, 0};

    while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
        uint64_t counter = 0;
        uint64_t lo = tk_generation(sh->tk);
        st->retries += snapshot_page(reader_page(sh, 0), snap, reader_counter, sh, &counter);
        uint64_t hi = tk_generation(sh->tk);
        st->reads++;
        int evicted;
        if (!consistent(snap)) {
            st->failed++;
            report_failure(sh, snap, lo, hi, "inconsistent snapshot");
        } else if (in_log(sh->tk, lo, hi, snap, buf, &evicted)) {
            st->verified++;
        } else if (evicted) {
            st->unverifiable++;
        } else {
            st->failed++;
            report_failure(sh, snap, lo, hi, "snapshot matches no committed state");
        }
        struct tk_model_view v = {.page0 = snap, .counter = counter};
        struct timespec mono;
        if (tk_model_clock_gettime(&v, VDSO_CLOCK_MONOTONIC, &mono) != TK_MODEL_OK) {
            st->failed++;
            report_failure(sh, snap, lo, hi, "MONOTONIC not served");
            continue;
        }
        int64_t back = ts_diff_ns(&last, &mono);
        if (back > 1) { /* 1 ns: a counter switch rescales shifted ns */
            st->failed++;
            report_failure(sh, snap, lo, hi, "MONOTONIC went backwards");
        }
        st->back_1ns += back == 1;
        if (back < 0)
            last = mono;
    }
    free(snap);
    free(buf);
    return st;
}

int main(void)
{
    struct vdso_datapages dp;

    if (datapages_create(&dp) != 0)
        SKIP("memfd_create failed");
    struct shared sh = {0};
    pthread_mutex_init(&sh.report, NULL);
    void *view =
        mmap(NULL, VDSO_DATA_PAGES * VDSO_PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(view != MAP_FAILED && datapages_map_reader(&dp, view, DATAPAGES_ROOT) == 0,
          "reader view");
    sh.reader = view;
    int err = tk_init_host(&sh.tk, &dp, TK_COUNTER_TSC, 20);
    CHECK(err == 0, "tk_init_host: %d", err);
    if (err)
        return check_finish();
    tk_set_tai_offset(sh.tk, 37);

    pthread_t readers[READERS];
    for (int i = 0; i < READERS; i++)
        pthread_create(&readers[i], NULL, reader_main, &sh);
    CHECK(tk_writer_start_cb(sh.tk, 0, writer_tick, NULL) == 0, "storm writer");
    struct timespec nap = ts_from_ns(RUN_NS);
    nanosleep(&nap, NULL);
    __atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
    struct reader_stats total = {0};
    for (int i = 0; i < READERS; i++) {
        struct reader_stats *st;
        pthread_join(readers[i], (void **)&st);
        total.reads += st->reads;
        total.verified += st->verified;
        total.unverifiable += st->unverifiable;
        total.failed += st->failed;
        total.retries += st->retries;
        total.back_1ns += st->back_1ns;
        free(st);
    }
    int64_t ticks = tk_writer_stop(sh.tk);
    printf("storm: %lld updates (generation %llu); readers: %llu reads, %llu verified against the "
           "log, %llu unverifiable (ring overrun), %llu retries, %llu 1-ns steps back, %llu "
           "failed\n",
           (long long)ticks, (unsigned long long)tk_generation(sh.tk),
           (unsigned long long)total.reads, (unsigned long long)total.verified,
           (unsigned long long)total.unverifiable, (unsigned long long)total.retries,
           (unsigned long long)total.back_1ns, (unsigned long long)total.failed);
    CHECK(total.failed == 0, "%llu bad snapshots", (unsigned long long)total.failed);
    CHECK(ticks > 1000, "only %lld writer updates", (long long)ticks);
    CHECK(total.verified >= 100 && total.verified * 2 >= total.reads,
          "too few snapshots verified: %llu of %llu", (unsigned long long)total.verified,
          (unsigned long long)total.reads);
    tk_destroy(sh.tk);
    munmap(view, VDSO_DATA_PAGES * VDSO_PAGE_SIZE);
    datapages_destroy(&dp);
    pthread_mutex_destroy(&sh.report);
    return check_finish();
}
