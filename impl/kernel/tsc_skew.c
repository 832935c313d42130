/*
 * The cross-CPU TSC skew measurement (vdsokit/tsc_skew.h): per pair of
 * CPUs, two pinned threads take strict turns for a fixed time; in its
 * turn each compares the TSC it reads now with the one the other read in
 * the turn before, and a step back is the skew seen in that direction.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <vdsokit/counter.h>
#include <vdsokit/tsc_skew.h>

#define DEFAULT_MS     10
#define ALL_PAIRS_UPTO 8
#define MIN_HANDOFFS   1000 /* per pair; one run gives about 5000 on an idle 2-vCPU VM */
#define MAX_RUNS       8

struct pair_run {
    int turn; /* atomic: the index of the thread whose turn it is */
    int done; /* atomic */
    uint64_t last_tsc;
    bool have_last;
    int64_t end_ns;
    uint64_t max_back, handoffs;
};

struct pair_thread {
    struct pair_run *run;
    int cpu, index;
    int pinned; /* atomic: 1 pinned, -1 could not pin */
};

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait for this thread's turn; false once the run is over. */
static bool wait_turn(struct pair_run *run, int index)
{
    for (unsigned spins = 1; __atomic_load_n(&run->turn, __ATOMIC_ACQUIRE) != index; spins++) {
        if (__atomic_load_n(&run->done, __ATOMIC_RELAXED))
            return false;
        if (spins % 4096 == 0 && mono_ns() > run->end_ns) {
            __atomic_store_n(&run->done, 1, __ATOMIC_RELAXED);
            return false;
        }
        __builtin_ia32_pause();
    }
    return true;
}

/* One turn: the TSC now against the one the other CPU read last, then hand over. */
static void turn(struct pair_run *run, int index, uint64_t n)
{
    /* lfence in counter_rdtsc: read after the turn (and last_tsc) was seen. */
    uint64_t now = counter_rdtsc();

    if (run->have_last) {
        run->handoffs++;
        if (run->last_tsc > now && run->last_tsc - now > run->max_back)
            run->max_back = run->last_tsc - now;
    }
    run->last_tsc = now;
    run->have_last = true;
    if (n % 256 == 0 && mono_ns() > run->end_ns)
        __atomic_store_n(&run->done, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&run->turn, !index, __ATOMIC_RELEASE);
}

static void *pair_main(void *arg)
{
    struct pair_thread *t = arg;
    cpu_set_t one;

    CPU_ZERO(&one);
    CPU_SET(t->cpu, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) != 0) {
        __atomic_store_n(&t->pinned, -1, __ATOMIC_RELEASE);
        return NULL;
    }
    __atomic_store_n(&t->pinned, 1, __ATOMIC_RELEASE);
    for (uint64_t n = 0; wait_turn(t->run, t->index); n++)
        turn(t->run, t->index, n);
    return NULL;
}

/* One run of a pair for ms; false when its threads could not run pinned. */
static bool run_pair(int a, int b, unsigned ms, struct tsc_skew *out)
{
    struct pair_run run = {.end_ns = mono_ns() + (int64_t)ms * 1000000};
    struct pair_thread t[2] = {{&run, a, 0, 0}, {&run, b, 1, 0}};
    pthread_t th[2];
    int started = 0;

    for (; started < 2; started++)
        if (pthread_create(&th[started], NULL, pair_main, &t[started]) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (started < 2 || t[0].pinned != 1 || t[1].pinned != 1)
        return false;
    out->handoffs += run.handoffs;
    if (run.max_back > out->max_back)
        out->max_back = run.max_back;
    return true;
}

/* A pair, run again while a busy machine kept the two threads from alternating. */
static void measure_pair(int a, int b, unsigned ms, struct tsc_skew *out)
{
    uint64_t before = out->handoffs;

    for (unsigned i = 0; i < MAX_RUNS && out->handoffs - before < MIN_HANDOFFS; i++)
        if (!run_pair(a, b, ms, out))
            return;
    out->pairs++;
}

int tsc_skew_measure(const cpu_set_t *cpus, unsigned ms_per_pair, struct tsc_skew *out)
{
    int list[CPU_SETSIZE], n = 0;
    unsigned ms = ms_per_pair ? ms_per_pair : DEFAULT_MS;

    *out = (struct tsc_skew){0};
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, cpus))
            list[n++] = c;
    if (n == 0)
        return -EINVAL;
    bool all = n <= ALL_PAIRS_UPTO;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n && (all || i == 0); j++)
            measure_pair(list[i], list[j], ms, out);
    if (!all)
        out->max_back *= 2;
    return 0;
}
