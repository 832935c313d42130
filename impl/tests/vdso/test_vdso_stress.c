/*
 * The hosted reference vDSO's seqcount readers against a real writer
 * thread: the writer publishes numbered states back to back (sometimes
 * pausing with the count odd), readers on other threads check that every
 * REALTIME, MONOTONIC and REALTIME_COARSE reading is exactly the value of
 * one committed state (the seconds name the state, the nanoseconds must be
 * that state's: a torn read mixes two) and that state numbers never go
 * backwards. Runs under ThreadSanitizer (label tsan): all shared accesses
 * are atomics, as the protocol prescribes.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <vdsokit/vdso_hosted.h>

#include "vdso_test_pages.h"

#define CYCLES     1000000ull
#define DELTA      1000ull
#define READERS    2
#define RUN_NSEC   1500000000ll  /* at least this long ... */
#define MIN_ROUNDS 20000ul       /* ... and until the readers did this much, */
#define CAP_NSEC   30000000000ll /* but never longer than this */

static struct test_pages pg;
static int stop;
static unsigned long torn, backwards, reads[READERS];
static uint64_t published;

#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static uint64_t state_nsec(uint64_t k)
{
    return (k * 7919) % 999000000;
}

/* clock_gettime(REALTIME) of state k: base k s + state_nsec(k), plus DELTA cycles at mult. */
static uint64_t state_mult_ns(uint64_t k)
{
    return DELTA * (k % 3 + 1);
}

static uint64_t hook_tsc(void *ctx)
{
    return CYCLES;
}

static void publish(uint64_t k)
{
    struct vdso_clock *vc = &tp_page(&pg, VDSO_TIME_PAGE)->clock_data[0];
    uint32_t seq = __atomic_load_n(&vc->seq, __ATOMIC_RELAXED);

    STORE(vc->seq, seq + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    STORE(vc->mult, (uint32_t)((k % 3 + 1) << 24));
    STORE(vc->basetime[VDSO_CLOCK_REALTIME].sec, k);
    if (k % 1024 == 0)
        sched_yield(); /* readers meet an odd count */
    STORE(vc->basetime[VDSO_CLOCK_REALTIME].nsec, state_nsec(k) << 24);
    STORE(vc->basetime[VDSO_CLOCK_MONOTONIC].sec, 2 * k);
    STORE(vc->basetime[VDSO_CLOCK_MONOTONIC].nsec, state_nsec(k) << 24);
    STORE(vc->basetime[VDSO_CLOCK_REALTIME_COARSE].sec, k);
    STORE(vc->basetime[VDSO_CLOCK_REALTIME_COARSE].nsec, state_nsec(k));
    __atomic_thread_fence(__ATOMIC_RELEASE);
    STORE(vc->seq, seq + 2);
    __atomic_store_n(&published, k, __ATOMIC_RELEASE);
}

/* Back to back, but with a short gap so readers on a loaded machine finish
 * some reads; most reads still overlap an update or an odd count. */
static void *writer(void *arg)
{
    for (uint64_t k = 2; !__atomic_load_n(&stop, __ATOMIC_RELAXED); k++) {
        publish(k);
        for (int i = 0; i < 32; i++)
            __asm__ volatile("pause");
    }
    return NULL;
}

static unsigned long total_rounds(void)
{
    unsigned long total = 0;

    for (unsigned i = 0; i < READERS; i++)
        total += __atomic_load_n(&reads[i], __ATOMIC_RELAXED);
    return total;
}

static void *reader(void *arg)
{
    unsigned idx = (unsigned)(uintptr_t)arg;
    uint64_t last[3] = {0, 0, 0};
    static const int32_t clocks[3] = {VDSO_CLOCK_REALTIME, VDSO_CLOCK_MONOTONIC,
                                      VDSO_CLOCK_REALTIME_COARSE};

    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        for (int c = 0; c < 3; c++) {
            struct vdso_timespec ts;
            if (vdso_hosted_clock_gettime(clocks[c], &ts) != 0) {
                __atomic_fetch_add(&torn, 1, __ATOMIC_RELAXED);
                continue;
            }
            uint64_t k = c == 1 ? (uint64_t)ts.tv_sec / 2 : (uint64_t)ts.tv_sec;
            uint64_t want = state_nsec(k) + (c == 2 ? 0 : state_mult_ns(k));
            if ((c == 1 && ts.tv_sec % 2) || (uint64_t)ts.tv_nsec != want) {
                if (__atomic_fetch_add(&torn, 1, __ATOMIC_RELAXED) < 5)
                    fprintf(stderr,
                            "torn read: clock %d {%" PRId64 ", %" PRId64 "}, state %" PRIu64
                            " has nsec %" PRIu64 "\n",
                            clocks[c], ts.tv_sec, ts.tv_nsec, k, want);
            }
            if (k < last[c])
                __atomic_fetch_add(&backwards, 1, __ATOMIC_RELAXED);
            last[c] = k;
        }
        __atomic_fetch_add(&reads[idx], 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

int main(void)
{
    struct vdso_hosted_hooks hooks = {.read_tsc = hook_tsc};
    const struct tp_clock clk = {VDSO_CLOCKMODE_TSC, CYCLES - DELTA, UINT64_MAX, 1u << 24, 24};
    pthread_t w, r[READERS];
    struct timespec t0, t1;

    if (tp_create_at(&pg, NULL) != 0)
        SKIP("cannot map six pages");
    tp_set_clock(&tp_page(&pg, VDSO_TIME_PAGE)->clock_data[0], 0, &clk);
    publish(1);
    vdso_hosted_set_pages(pg.base);
    vdso_hosted_set_hooks(&hooks);

    pthread_create(&w, NULL, writer, NULL);
    for (unsigned i = 0; i < READERS; i++)
        pthread_create(&r[i], NULL, reader, (void *)(uintptr_t)i);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long long ran;
    do {
        struct timespec nap = {0, 10000000};
        nanosleep(&nap, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ran = (t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec);
    } while (ran < CAP_NSEC && (ran < RUN_NSEC || total_rounds() < MIN_ROUNDS));
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    pthread_join(w, NULL);
    for (unsigned i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);

    unsigned long total = total_rounds();
    printf("%.2f s: %" PRIu64 " states published, %lu reader rounds (3 clocks each), %lu torn, "
           "%lu backwards\n",
           ran / 1e9, __atomic_load_n(&published, __ATOMIC_ACQUIRE), total, torn, backwards);
    CHECK(torn == 0, "%lu torn or failed readings", torn);
    CHECK(backwards == 0, "%lu readings went back to an older state", backwards);
    CHECK(total >= MIN_ROUNDS && published > 1000, "too little progress in %.1f s to mean anything",
          ran / 1e9);
    vdso_hosted_set_hooks(NULL);
    tp_destroy(&pg);
    return check_finish();
}
