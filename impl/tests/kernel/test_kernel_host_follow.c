/*
 * Host-following mode: a timekeeper started from the host's clocks and
 * ticked by its writer thread at 250 Hz stays within 1 ms of the host's
 * clocks for a few seconds, on each host-driven counter (TSC, pvclock and
 * Hyper-V pages scaled from the TSC) and while the counter domain is flipped
 * between them; MONOTONIC read through the pages never goes backwards.
 * Deviation = how far the model's value lies outside a bracket of two raw
 * syscalls (0 inside); every sample is checked, and the worst deviation per
 * clock is printed.
 */
#define _GNU_SOURCE
#include "../check.h"
#include "tk_test.h"
#include <sys/syscall.h>
#include <unistd.h>

#define LIMIT_NS     1000000 /* the bound */
#define SAMPLE_NS    20000000
#define RUN_NS       2500000000ll
#define COARSE_GROSS 1000000000ll /* coarse lag beyond this is a bug, not scheduling */

static const int32_t clocks[] = {VDSO_CLOCK_REALTIME,        VDSO_CLOCK_MONOTONIC,
                                 VDSO_CLOCK_BOOTTIME,        VDSO_CLOCK_TAI,
                                 VDSO_CLOCK_MONOTONIC_RAW,   VDSO_CLOCK_REALTIME_COARSE,
                                 VDSO_CLOCK_MONOTONIC_COARSE};
#define NCLOCKS (sizeof(clocks) / sizeof(clocks[0]))

struct run {
    const char *name;
    int64_t worst[NCLOCKS];
    struct timespec last_mono;
    unsigned samples, flips;
};

static void raw_gettime(int32_t clk, struct timespec *ts)
{
    syscall(SYS_clock_gettime, clk, ts);
}

static int64_t outside(struct timespec a, struct timespec m, struct timespec b)
{
    int64_t below = ts_diff_ns(&a, &m), above = ts_diff_ns(&m, &b);

    return below > 0 ? below : above > 0 ? above : 0;
}

/* Coarse clocks lag by up to a tick plus however late our writer thread
 * runs on a loaded machine, so they are checked by direction: never ahead
 * of the host's fine clock by more than the limit, never grossly behind. */
static int32_t fine_of(int32_t coarse)
{
    return coarse == VDSO_CLOCK_REALTIME_COARSE ? VDSO_CLOCK_REALTIME : VDSO_CLOCK_MONOTONIC;
}

static void sample_coarse(struct timekeeper *tk, struct run *r, size_t i)
{
    struct timespec a, m, b;

    raw_gettime(clocks[i], &a);
    enum tk_model_outcome o = model_now(tk, clocks[i], &m);
    raw_gettime(fine_of(clocks[i]), &b);
    CHECK(o == TK_MODEL_OK, "%s clock %d: %s", r->name, clocks[i], tk_model_outcome_name(o));
    int64_t ahead = ts_diff_ns(&m, &b), behind = ts_diff_ns(&a, &m);
    CHECK(ahead <= LIMIT_NS && behind <= COARSE_GROSS,
          "%s clock %d: model {%lld, %ld} vs host coarse {%lld, %ld} / fine {%lld, %ld}", r->name,
          clocks[i], (long long)m.tv_sec, m.tv_nsec, (long long)a.tv_sec, a.tv_nsec,
          (long long)b.tv_sec, b.tv_nsec);
    int64_t dev = behind > 0 ? behind : 0;
    if (dev > r->worst[i])
        r->worst[i] = dev;
}

static void sample(struct timekeeper *tk, struct run *r)
{
    for (size_t i = 0; i < NCLOCKS; i++) {
        if (clocks[i] == VDSO_CLOCK_REALTIME_COARSE || clocks[i] == VDSO_CLOCK_MONOTONIC_COARSE) {
            sample_coarse(tk, r, i);
            continue;
        }
        struct timespec a, m, b;
        raw_gettime(clocks[i], &a);
        enum tk_model_outcome o = model_now(tk, clocks[i], &m);
        raw_gettime(clocks[i], &b);
        CHECK(o == TK_MODEL_OK, "%s clock %d: %s", r->name, clocks[i], tk_model_outcome_name(o));
        int64_t dev = outside(a, m, b);
        CHECK(dev <= LIMIT_NS, "%s clock %d: model {%lld, %ld} outside [{%lld, %ld}, {%lld, %ld}]",
              r->name, clocks[i], (long long)m.tv_sec, m.tv_nsec, (long long)a.tv_sec, a.tv_nsec,
              (long long)b.tv_sec, b.tv_nsec);
        if (dev > r->worst[i])
            r->worst[i] = dev;
        if (clocks[i] == VDSO_CLOCK_MONOTONIC) {
            CHECK(ts_diff_ns(&m, &r->last_mono) >= 0, "%s: MONOTONIC went back by %lld ns", r->name,
                  (long long)-ts_diff_ns(&m, &r->last_mono));
            r->last_mono = m;
        }
    }
    r->samples++;
}

static void follow(struct vdso_datapages *dp, enum tk_counter_kind kind, const char *name, int flip)
{
    struct run r = {.name = name};
    struct timekeeper *tk;
    int err = tk_init_host(&tk, dp, kind, 30);

    CHECK(err == 0, "%s: tk_init_host %d", name, err);
    if (err)
        return;
    CHECK(tk_writer_start(tk, 250) == 0, "%s: writer", name);
    static const enum tk_counter_kind cycle[] = {TK_COUNTER_PVCLOCK_HOST, TK_COUNTER_HVCLOCK_HOST,
                                                 TK_COUNTER_TSC};
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        sample(tk, &r);
        if (flip && r.samples % 10 == 0)
            CHECK(tk_switch_counter(tk, cycle[r.flips++ % 3]) == 0, "flip");
        struct timespec nap = {0, SAMPLE_NS};
        nanosleep(&nap, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (ts_diff_ns(&now, &start) < RUN_NS);
    int64_t ticks = tk_writer_stop(tk);
    printf("%-14s %u samples, %lld ticks, %u flips; worst deviation (ns):", name, r.samples,
           (long long)ticks, r.flips);
    for (size_t i = 0; i < NCLOCKS; i++)
        printf(" [%d] %lld", clocks[i], (long long)r.worst[i]);
    printf(" (coarse: lag behind the host's coarse clock)\n");

    /* Settings taken from the host. */
    const struct vdso_time_data *td = datapages_time(dp);
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    CHECK_EQ_U64(td->hrtimer_res, res.tv_nsec);
    clock_getres(CLOCK_MONOTONIC_COARSE, &res);
    CHECK_EQ_U64(tk_low_res_nsec(tk), res.tv_nsec);
    tk_destroy(tk);
}

int main(void)
{
    struct vdso_datapages dp;

    if (datapages_create(&dp) != 0)
        SKIP("memfd_create failed");
    follow(&dp, TK_COUNTER_TSC, "tsc", 0);
    follow(&dp, TK_COUNTER_PVCLOCK_HOST, "pvclock-host", 0);
    follow(&dp, TK_COUNTER_HVCLOCK_HOST, "hvclock-host", 0);
    follow(&dp, TK_COUNTER_TSC, "flipping", 1);
    datapages_destroy(&dp);
    return check_finish();
}
