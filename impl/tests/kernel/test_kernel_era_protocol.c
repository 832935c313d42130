/*
 * The era pages keep the seqcount protocol: while the timekeeper publishes
 * back to back, a reader thread that snapshots an era's time page the way
 * that era's vDSO does (both seqs even and equal, unchanged across the
 * read) must only ever see a state the timekeeper committed under that
 * seq, field for field (cycle_last, both mults, the MONOTONIC and RAW
 * bases), at the era's hand-written offsets. A serializer that wrote data
 * outside the odd window, or seqs out of order, shows up as a torn state.
 */
#include "../check.h"
#include "tk_test.h"
#include <pthread.h>
#include <string.h>
#include <vdsokit/layout_profile.h>

#define PAGE    VDSO_PAGE_SIZE
#define UPDATES 2000                /* at least this many updates */
#define WANTED  300                 /* and until this many snapshots matched, */
#define MAX_NS  (10 * NSEC_PER_SEC) /* or for this long on a starved machine */

struct era_at {
    const char *era;
    unsigned rec[2], mult, bt; /* record starts; mult and basetime inside a record */
};

static const struct era_at eras[] = {
    {"6.1-6.9", {128, 368}, 24, 32},
    {"6.10-6.12", {128, 376}, 32, 40},
    {"6.13-6.14", {0, 248}, 32, 40},
    {"6.15-6.16", {0, 0xe8}, 32, 40},
};

struct seen {
    uint32_t seq;
    uint64_t cycle_last, mono_sec, mono_nsec, raw_sec, raw_nsec;
    uint32_t mult0, mult1;
};

struct reader {
    struct timekeeper *tk;
    const uint8_t *page;
    const struct era_at *at;
    int stop; /* atomic */
    unsigned snapshots, torn, lost;
    unsigned matched; /* atomic: the writer keeps going until there are enough */
};

static uint32_t ld32(const uint8_t *p)
{
    return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_RELAXED);
}

static uint64_t ld64(const uint8_t *p)
{
    return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_RELAXED);
}

static bool snapshot(const struct reader *r, struct seen *s)
{
    const uint8_t *c0 = r->page + r->at->rec[0], *c1 = r->page + r->at->rec[1];
    uint32_t s0 = ld32(c0), s1 = ld32(c1);

    if ((s0 & 1) || s0 != s1)
        return false;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    s->seq = s0;
    s->cycle_last = ld64(c0 + 8);
    s->mult0 = ld32(c0 + r->at->mult);
    s->mult1 = ld32(c1 + r->at->mult);
    s->mono_sec = ld64(c0 + r->at->bt + 16 * VDSO_CLOCK_MONOTONIC);
    s->mono_nsec = ld64(c0 + r->at->bt + 16 * VDSO_CLOCK_MONOTONIC + 8);
    s->raw_sec = ld64(c1 + r->at->bt + 16 * VDSO_CLOCK_MONOTONIC_RAW);
    s->raw_nsec = ld64(c1 + r->at->bt + 16 * VDSO_CLOCK_MONOTONIC_RAW + 8);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return ld32(c0) == s0 && ld32(c1) == s0;
}

static bool same(const struct seen *s, const struct vdso_time_data *d)
{
    const struct vdso_clock *c0 = &d->clock_data[0], *c1 = &d->clock_data[1];

    return s->cycle_last == c0->cycle_last && s->mult0 == c0->mult && s->mult1 == c1->mult &&
           s->mono_sec == c0->basetime[VDSO_CLOCK_MONOTONIC].sec &&
           s->mono_nsec == c0->basetime[VDSO_CLOCK_MONOTONIC].nsec &&
           s->raw_sec == c1->basetime[VDSO_CLOCK_MONOTONIC_RAW].sec &&
           s->raw_nsec == c1->basetime[VDSO_CLOCK_MONOTONIC_RAW].nsec;
}

/* Find the committed state with this seq among the newest logged ones. */
static void judge(struct reader *r, const struct seen *s)
{
    static _Thread_local struct tk_log_entry log[TK_LOG_ENTRIES];
    uint64_t g = tk_generation(r->tk);
    size_t n = tk_log_copy(r->tk, g >= TK_LOG_ENTRIES ? g - TK_LOG_ENTRIES + 1 : 1, g, log,
                           TK_LOG_ENTRIES);

    for (size_t i = 0; i < n; i++)
        if (log[i].seq == s->seq) {
            if (same(s, &log[i].data))
                __atomic_fetch_add(&r->matched, 1, __ATOMIC_RELAXED);
            else
                r->torn++;
            return;
        }
    r->lost++; /* the writer outran the window: neither proof nor disproof */
}

static void *read_loop(void *arg)
{
    struct reader *r = arg;
    struct seen s;

    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
        if (snapshot(r, &s)) {
            r->snapshots++;
            judge(r, &s);
        }
    return NULL;
}

static int64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * NSEC_PER_SEC + t.tv_nsec;
}

static void run_era(const struct era_at *at)
{
    struct vdso_datapages dp;
    struct timekeeper *tk = NULL;
    struct tk_script sc = test_script();

    if (datapages_create(&dp) != 0)
        return;
    dp.profile = layout_profile_for_era(at->era);
    CHECK(dp.profile && tk_init_scripted(&tk, &dp, &sc) == 0, "%s: timekeeper", at->era);
    if (!tk)
        return;
    struct reader r = {.tk = tk, .page = dp.rw + (size_t)DATAPAGES_FILE_ERA_TIME * PAGE, .at = at};
    pthread_t th;
    pthread_create(&th, NULL, read_loop, &r);
    int64_t start = now_ns();
    for (unsigned i = 0; i < UPDATES || (__atomic_load_n(&r.matched, __ATOMIC_RELAXED) < WANTED &&
                                         now_ns() - start < MAX_NS);
         i++) {
        tk_advance_counter(tk, 1000 + i % 7919);
        if (i % 3 == 0)
            tk_slew_ppm(tk, (int32_t)(i % 200) - 100);
        tk_accumulate(tk);
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    CHECK(r.torn == 0, "%s: %u torn snapshots of %u", at->era, r.torn, r.snapshots);
    CHECK(r.matched > 0, "%s: no snapshot matched a committed state (%u taken, %u lost)", at->era,
          r.snapshots, r.lost);
    printf("%s: %u snapshots, %u matched a committed state, %u outran the log\n", at->era,
           r.snapshots, r.matched, r.lost);
    tk_destroy(tk);
    datapages_destroy(&dp);
}

int main(void)
{
    for (size_t i = 0; i < sizeof eras / sizeof eras[0]; i++)
        run_era(&eras[i]);
    return check_finish();
}
