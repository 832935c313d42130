/*
 * Host-following: the reference image loaded with a timekeeper that follows
 * this host (counter TSC, then pvclock and Hyper-V pages scaled from the
 * TSC), ticked by its writer thread, must agree with the host: every
 * counter-based reading lies between two syscalls of the same clock, coarse
 * readings are never ahead of the host's fine clock, and readings taken
 * with no update committed around them are exactly the model's value for
 * the logged state (so they were served from the pages, not the syscall).
 *
 * Tolerance: the timekeeper takes its bases from host samples and its rate
 * from a calibration of calib_ms; each sample is off by at most one syscall
 * latency L, so the base is off by up to 2L and the rate by up to
 * 2L / calib_ms, i.e. tol(t) = 2L + 2L * t / calib + 1 us, with L measured
 * here (the 99th percentile of back-to-back syscalls, at least 1 us). The
 * largest deviation seen is printed with the tolerance.
 *
 * Usage: test_loader_host REFERENCE-IMAGE
 */
#include "check.h"

#include <vdsokit/loader.h>
#include <vdsokit/tk_model.h>

#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CALIB_MS 100
#define ROUNDS   60
#define TICK_HZ  250

static int64_t latency_ns;

static int64_t ns_of(const struct vdso_timespec *t)
{
    return t->tv_sec * 1000000000ll + t->tv_nsec;
}

static int64_t sys_ns(int32_t clk)
{
    struct vdso_timespec t;

    syscall(SYS_clock_gettime, clk, &t);
    return ns_of(&t);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* The 99th percentile of two back-to-back syscalls, at least 1 us. */
static int64_t measure_latency(void)
{
    enum { N = 2000 };
    static int64_t d[N];

    for (int i = 0; i < N; i++) {
        int64_t a = sys_ns(VDSO_CLOCK_MONOTONIC);
        d[i] = sys_ns(VDSO_CLOCK_MONOTONIC) - a;
    }
    qsort(d, N, sizeof d[0], cmp64);
    return d[N * 99 / 100] > 1000 ? d[N * 99 / 100] : 1000;
}

struct worst {
    int64_t dev, tol;
};

/* tol(t) = 2L + 2L * t / calib + 1 us (see the top of the file). */
static int64_t tolerance(int64_t elapsed)
{
    return 2 * latency_ns + 2 * latency_ns * elapsed / (CALIB_MS * 1000000ll) + 1000;
}

/*
 * Served from the pages, not by a syscall: with no update committed around
 * the call (the timekeeper's generation unchanged), the reading lies between
 * the model's values, on the logged committed state, for the counter read
 * just before and just after it; a coarse reading equals the state's base.
 */
static void check_from_pages(struct vdso_loaded *l, int32_t clk, const char *mode, unsigned *proven)
{
    static struct tk_log_entry e;
    struct tk_model_view v = {&e.data, NULL, 0, 0, LAYOUT_DELTA_6_10};
    struct timespec m1, m2;
    struct vdso_timespec x;
    uint64_t g = tk_generation(l->tk), c1 = tk_read_counter(l->tk);
    int r = l->clock_gettime(clk, &x);
    uint64_t c2 = tk_read_counter(l->tk);

    if (tk_generation(l->tk) != g || r != 0 || tk_log_copy(l->tk, g, g, &e, 1) != 1)
        return; /* a commit in between: no single state to compare with */
    v.counter = c1;
    enum tk_model_outcome o1 = tk_model_clock_gettime(&v, clk, &m1);
    v.counter = c2;
    enum tk_model_outcome o2 = tk_model_clock_gettime(&v, clk, &m2);
    if (o1 != TK_MODEL_OK || o2 != TK_MODEL_OK)
        return; /* a counter page mid-update: its read was invalid */
    int64_t lo = m1.tv_sec * 1000000000ll + m1.tv_nsec, hi = m2.tv_sec * 1000000000ll + m2.tv_nsec;
    CHECK(ns_of(&x) >= lo && ns_of(&x) <= hi,
          "%s clk %d: %lld is not the time of state %llu for a counter in [%llu, %llu]: "
          "[%lld, %lld]",
          mode, clk, (long long)ns_of(&x), (unsigned long long)g, (unsigned long long)c1,
          (unsigned long long)c2, (long long)lo, (long long)hi);
    ++*proven;
}

static void check_hres(struct vdso_loaded *l, int32_t clk, int64_t elapsed, struct worst *w,
                       const char *mode)
{
    int64_t tol = tolerance(elapsed);
    struct vdso_timespec v;
    int64_t s1 = sys_ns(clk);
    int r = l->clock_gettime(clk, &v);
    int64_t s2 = sys_ns(clk), x = ns_of(&v);
    int64_t dev = x < s1 ? s1 - x : x > s2 ? x - s2 : 0;

    CHECK(r == 0 && dev <= tol,
          "%s clk %d: %lld outside [%lld, %lld] by %lld ns, tolerance %lld ns at %lld ms", mode,
          clk, (long long)x, (long long)s1, (long long)s2, (long long)dev, (long long)tol,
          (long long)(elapsed / 1000000));
    if (dev > w->dev)
        w->dev = dev;
    w->tol = tol;
}

/*
 * Coarse clocks move only when the writer thread ticks, at its own phase:
 * never ahead of the host's fine clock, and behind the host's coarse clock
 * by at most COARSE_LAG_NS (generous: a loaded 2-core VM may delay the
 * writer thread). Exactness is check_from_pages's business.
 */
#define COARSE_LAG_NS 200000000ll

static void check_coarse(struct vdso_loaded *l, int32_t clk, int32_t fine, int64_t elapsed,
                         const char *mode, unsigned *proven)
{
    int64_t tol = tolerance(elapsed);
    struct vdso_timespec v;
    int64_t s1 = sys_ns(clk);
    int r = l->clock_gettime(clk, &v);
    int64_t s2 = sys_ns(fine), x = ns_of(&v);

    CHECK(r == 0 && x >= s1 - COARSE_LAG_NS && x <= s2 + tol,
          "%s coarse clk %d: %lld not in [host coarse %lld - %lld, host fine %lld + tol %lld]",
          mode, clk, (long long)x, (long long)s1, COARSE_LAG_NS, (long long)s2, (long long)tol);
    check_from_pages(l, clk, mode, proven);
}

static void check_gtod_time(struct vdso_loaded *l, const char *mode)
{
    struct vdso_timeval s1, s2, tv;
    int64_t t;

    syscall(SYS_gettimeofday, &s1, NULL);
    int r = l->gettimeofday(&tv, NULL);
    t = l->time(NULL);
    syscall(SYS_gettimeofday, &s2, NULL);
    int64_t a = s1.tv_sec * 1000000 + s1.tv_usec, b = s2.tv_sec * 1000000 + s2.tv_usec,
            x = tv.tv_sec * 1000000 + tv.tv_usec, tol = 2 * latency_ns / 1000 + 2;
    CHECK(r == 0 && x >= a - tol && x <= b + tol, "%s gettimeofday %lld outside [%lld, %lld] us",
          mode, (long long)x, (long long)a, (long long)b);
    CHECK(t >= s1.tv_sec - 1 && t <= s2.tv_sec, "%s time %lld outside [%lld - 1, %lld]", mode,
          (long long)t, (long long)s1.tv_sec, (long long)s2.tv_sec);
}

static void run_mode(const char *path, enum tk_counter_kind kind, const char *mode)
{
    const struct loader_options opt = {
        .clock = LOADER_CLOCK_HOST, .counter = kind, .calib_ms = CALIB_MS, .tick_hz = TICK_HZ};
    const int32_t hres[] = {VDSO_CLOCK_REALTIME, VDSO_CLOCK_MONOTONIC, VDSO_CLOCK_BOOTTIME,
                            VDSO_CLOCK_TAI, VDSO_CLOCK_MONOTONIC_RAW};
    struct worst w[5] = {{0, 0}};
    struct vdso_loaded *l = NULL;
    unsigned proven = 0;
    struct vdsokit_error err;
    int64_t t0;

    CHECK(loader_load_file(&l, path, &opt, &err) == 0, "%s: %s", mode, err.msg);
    if (!l)
        return;
    t0 = sys_ns(VDSO_CLOCK_MONOTONIC);
    for (int round = 0; round < ROUNDS; round++) {
        for (unsigned i = 0; i < 5; i++) {
            check_hres(l, hres[i], sys_ns(VDSO_CLOCK_MONOTONIC) - t0, &w[i], mode);
            check_from_pages(l, hres[i], mode, &proven);
        }
        int64_t elapsed = sys_ns(VDSO_CLOCK_MONOTONIC) - t0;
        check_coarse(l, VDSO_CLOCK_REALTIME_COARSE, VDSO_CLOCK_REALTIME, elapsed, mode, &proven);
        check_coarse(l, VDSO_CLOCK_MONOTONIC_COARSE, VDSO_CLOCK_MONOTONIC, elapsed, mode, &proven);
        check_gtod_time(l, mode);
        usleep(2000);
    }
    struct vdso_clock c0;
    datapages_load_clock(&c0, &datapages_time(&l->dp)->clock_data[0]); /* the writer runs */
    printf("%-8s (clock mode %d, %lld ms): worst deviation/tolerance ns:", mode, c0.clock_mode,
           (long long)((sys_ns(VDSO_CLOCK_MONOTONIC) - t0) / 1000000));
    for (unsigned i = 0; i < 5; i++)
        printf(" clk %d %lld/%lld;", hres[i], (long long)w[i].dev, (long long)w[i].tol);
    printf("\n         %u readings proven served from the pages (model at the counter)\n", proven);
    CHECK(proven > ROUNDS, "%s: only %u readings could be checked against the pages", mode, proven);
    loader_unload(l);
}

int main(int argc, char **argv)
{
    if (argc < 2 || access(argv[1], R_OK))
        SKIP("no reference image (argument: %s)", argc > 1 ? argv[1] : "none");
    latency_ns = measure_latency();
    printf("syscall latency bound L = %lld ns; calibration %d ms\n", (long long)latency_ns,
           CALIB_MS);
    run_mode(argv[1], TK_COUNTER_TSC, "TSC");
    run_mode(argv[1], TK_COUNTER_PVCLOCK_HOST, "PVCLOCK");
    run_mode(argv[1], TK_COUNTER_HVCLOCK_HOST, "HVCLOCK");
    return check_finish();
}
