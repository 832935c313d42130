/*
 * The writer's seqcount protocol: seq even between updates and odd during
 * one (seen on the page through the hand begin/end helpers and by a reader
 * thread that must wait and then get the new state), both clocks' seq equal,
 * composite hand updates committing once, the seq wrapping at 2^32, and the
 * log holding exactly the committed states.
 */
#include "../check.h"
#include "tk_test.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <vdsokit/timekeeper_raw.h>

static uint32_t page_seq(struct timekeeper *tk, int i)
{
    return __atomic_load_n(&datapages_time(tk_datapages(tk))->clock_data[i].seq, __ATOMIC_ACQUIRE);
}

struct waiter {
    struct timekeeper *tk;
    struct vdso_time_data snap;
    unsigned retries;
    int done; /* atomic */
};

static void *wait_reader(void *arg)
{
    struct waiter *w = arg;

    w->retries = snapshot_page(datapages_time(tk_datapages(w->tk)), &w->snap, NULL, NULL, NULL);
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_even_odd(struct timekeeper *tk)
{
    uint32_t s = page_seq(tk, 0);

    CHECK(s % 2 == 0 && s == page_seq(tk, 1), "between updates: seq %u/%u", s, page_seq(tk, 1));
    uint64_t gen = tk_generation(tk);
    CHECK(tk_update_begin(tk) == 0, "begin");
    CHECK(page_seq(tk, 0) == s + 1 && page_seq(tk, 1) == s + 1, "during: seq %u/%u, expected %u",
          page_seq(tk, 0), page_seq(tk, 1), s + 1);

    /* A reader started now must wait for the end of the update. */
    struct waiter w = {.tk = tk};
    pthread_t th;
    pthread_create(&th, NULL, wait_reader, &w);
    tk_step_realtime(tk, 1500000000); /* inside the hand update: no seq change */
    tk_set_tai_offset(tk, 36);
    CHECK(page_seq(tk, 0) == s + 1, "operations inside a hand update keep seq odd (%u)",
          page_seq(tk, 0));
    usleep(50000);
    CHECK(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), "reader returned while seq was odd");
    CHECK(tk_update_end(tk) == 0, "end");
    pthread_join(th, NULL);
    CHECK(page_seq(tk, 0) == s + 2 && page_seq(tk, 1) == s + 2, "after: seq %u, expected %u",
          page_seq(tk, 0), s + 2);
    CHECK_EQ_U64(tk_generation(tk), gen + 1);
    CHECK(w.snap.clock_data[0].seq == s + 2, "reader got seq %u, expected the new state %u",
          w.snap.clock_data[0].seq, s + 2);
    CHECK_EQ_U64(w.snap.clock_data[0].basetime[VDSO_CLOCK_TAI].sec -
                     w.snap.clock_data[0].basetime[VDSO_CLOCK_REALTIME].sec,
                 36);
    printf("hand update: reader waited with %u retries\n", w.retries);
    CHECK(tk_update_end(tk) == -EINVAL, "end without begin must be refused");
}

static void test_wrap(struct timekeeper *tk)
{
    tk_set_seq(tk, 0xfffffffcu);
    struct timespec before, after;
    model_now(tk, VDSO_CLOCK_MONOTONIC, &before);
    for (int i = 0; i < 3; i++) {
        tk_advance_counter(tk, 1000);
        tk_accumulate(tk);
    }
    uint32_t s = page_seq(tk, 0);
    CHECK(s == 0x2u && page_seq(tk, 1) == 0x2u, "seq after wrap %u/%u, expected 2", s,
          page_seq(tk, 1));
    CHECK(model_now(tk, VDSO_CLOCK_MONOTONIC, &after) == TK_MODEL_OK &&
              ts_diff_ns(&after, &before) == 3000,
          "reader across the wrap: advanced %lld ns, expected 3000",
          (long long)ts_diff_ns(&after, &before));
}

static int same_clocks(const struct vdso_time_data *a, const struct vdso_time_data *b)
{
    return memcmp(a->clock_data, b->clock_data, sizeof(a->clock_data)) == 0;
}

static void test_log(struct timekeeper *tk)
{
    uint64_t g0 = tk_generation(tk);

    for (int i = 0; i < 5; i++) {
        tk_advance_counter(tk, 7);
        tk_accumulate(tk);
    }
    static struct tk_log_entry e[8];
    size_t n = tk_log_copy(tk, g0 + 1, g0 + 5, e, 8);
    CHECK(n == 5, "log entries %zu, expected 5", n);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_U64(e[i].generation, g0 + 1 + i);
        CHECK(e[i].seq % 2 == 0 && e[i].data.clock_data[0].seq == e[i].seq &&
                  e[i].data.clock_data[1].seq == e[i].seq,
              "entry %zu seq %u (%u/%u)", i, e[i].seq, e[i].data.clock_data[0].seq,
              e[i].data.clock_data[1].seq);
        if (i)
            CHECK(e[i].seq == e[i - 1].seq + 2, "seq steps by 2: %u after %u", e[i].seq,
                  e[i - 1].seq);
    }
    struct vdso_time_data snap;
    snapshot_page(datapages_time(tk_datapages(tk)), &snap, NULL, NULL, NULL);
    CHECK(n == 5 && same_clocks(&snap, &e[4].data), "the newest entry equals the page");
    /* The ring forgets the oldest states beyond its size. */
    for (int i = 0; i < TK_LOG_ENTRIES + 10; i++)
        tk_accumulate(tk);
    n = tk_log_copy(tk, g0 + 1, g0 + 5, e, 8);
    CHECK(n == 0, "evicted entries still copied: %zu", n);
    uint64_t g = tk_generation(tk);
    n = tk_log_copy(tk, g - 1, g + 100, e, 8);
    CHECK(n == 2 && e[1].generation == g, "newest two: %zu", n);
}

/* With a writer thread at 1 kHz a reader sees both seqs equal whenever it
 * catches them in one window, never decreasing (mod 2^32). */
static void test_thread_seq(struct timekeeper *tk)
{
    CHECK(tk_writer_start(tk, 1000) == 0, "writer start");
    uint32_t last = page_seq(tk, 0);
    unsigned odd = 0, checked = 0;
    struct timespec end, now;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += 1;
    do {
        struct vdso_time_data snap;
        snapshot_page(datapages_time(tk_datapages(tk)), &snap, NULL, NULL, NULL);
        CHECK(snap.clock_data[0].seq == snap.clock_data[1].seq, "seq %u/%u", snap.clock_data[0].seq,
              snap.clock_data[1].seq);
        CHECK((int32_t)(snap.clock_data[0].seq - last) >= 0, "seq went back: %u after %u",
              snap.clock_data[0].seq, last);
        last = snap.clock_data[0].seq;
        odd += page_seq(tk, 0) & 1;
        checked++;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (ts_diff_ns(&end, &now) > 0);
    int64_t ticks = tk_writer_stop(tk);
    CHECK(ticks > 200, "writer ticked %lld times in 1 s at 1 kHz", (long long)ticks);
    printf("writer thread: %lld ticks, %u reads, %u odd seq seen\n", (long long)ticks, checked,
           odd);
}

int main(void)
{
    struct vdso_datapages dp;

    if (datapages_create(&dp) != 0)
        SKIP("memfd_create failed");
    struct tk_script s = test_script();
    s.seq_start = 100;
    struct timekeeper *tk;
    int err = tk_init_scripted(&tk, &dp, &s);
    CHECK(err == 0, "tk_init_scripted: %d", err);
    if (err)
        return check_finish();
    CHECK(page_seq(tk, 0) == 102 && page_seq(tk, 1) == 102, "first update seq %u/%u",
          page_seq(tk, 0), page_seq(tk, 1));
    CHECK_EQ_U64(tk_generation(tk), 1);
    test_even_odd(tk);
    test_wrap(tk);
    test_log(tk);
    test_thread_seq(tk);
    tk_destroy(tk);
    datapages_destroy(&dp);
    return check_finish();
}
