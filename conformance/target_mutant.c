/*
 * `mutant:NAME` targets: the live vDSO with one deliberate defect from
 * docs/defect-classes.md §2, so that the suite is itself tested (a check
 * that never fails proves nothing). ctest runs each mutant and requires
 * the named test to FAIL (the destructive tier's mutants, which cache state
 * the kernel changes, run in the kernel matrix's guests: they must fail
 * --tier destructive). Not for gating real implementations.
 */
#define _GNU_SOURCE
#include "target.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <vdsokit/abi.h>
#include <vdsokit/live_layout.h>
#include <vdsokit/timespec.h>
#include <x86intrin.h>

static struct conf_vdso_fns live;
static _Atomic unsigned calls;
static const struct live_layout *layout; /* the live target's, for the page readers */

/* C12: tv_nsec not normalised (every 64th reading carries 1e9 in nsec). */
static int unnormalised(clockid_t clk, struct timespec *ts)
{
    int r = live.clock_gettime(clk, ts);

    if (r == 0 && ts->tv_sec > 0 && atomic_fetch_add(&calls, 1) % 64 == 63) {
        ts->tv_sec -= 1;
        ts->tv_nsec += NSEC_PER_SEC;
    }
    return r;
}

/* C4/C8: MONOTONIC goes back 2 us every 4096th reading. */
static int backwards(clockid_t clk, struct timespec *ts)
{
    int r = live.clock_gettime(clk, ts);

    if (r == 0 && clk == CLOCK_MONOTONIC && atomic_fetch_add(&calls, 1) % 4096 == 4095)
        ts->tv_nsec = ts->tv_nsec >= 2000 ? ts->tv_nsec - 2000 : ts->tv_nsec;
    return r;
}

/* C16: -ENOSYS instead of the syscall's answer for ids the vDSO does not serve. */
static int enosys(clockid_t clk, struct timespec *ts)
{
    int r = live.clock_gettime(clk, ts);

    return r == -EINVAL ? -ENOSYS : r;
}

/* C19: microseconds rounded up instead of truncated. */
static int round_usec(struct timeval *tv, struct timezone *tz)
{
    struct timespec ts;
    int r = live.clock_gettime(CLOCK_REALTIME, &ts);

    if (r == 0 && tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = (ts.tv_nsec + NSEC_PER_USEC - 1) / NSEC_PER_USEC;
        if (tv->tv_usec == USEC_PER_SEC) {
            tv->tv_sec++;
            tv->tv_usec = 0;
        }
    }
    return r ? r : live.gettimeofday(NULL, tz);
}

/* C23: cpu and node swapped. */
static long swapped(unsigned *cpu, unsigned *node, void *unused)
{
    unsigned c = 0, n = 0;
    long r = live.getcpu(&c, &n, unused);

    if (cpu)
        *cpu = n;
    if (node)
        *node = c;
    return r;
}

/* C26: correct answers, always through the syscall. */
static int always_syscall(clockid_t clk, struct timespec *ts)
{
    return syscall(SYS_clock_gettime, clk, ts) ? -errno : 0;
}

/* C22: clock_getres hard-coded to 1 ns. */
static int getres_1ns(clockid_t clk, struct timespec *res)
{
    int r = live.clock_getres(clk, res);

    if (r == 0 && res)
        *res = (struct timespec){0, 1};
    return r;
}

/*
 * Waivers never accept a crash: for the aux ids (16..23) getres first gives
 * the 6.17+ kernel's answer, 0 and {0, 1 ns} (evidence a waiver can name
 * exactly), then dies on the NULL-pointer call that follows in the test.
 */
static int getres_aux_crash(clockid_t clk, struct timespec *res)
{
    if (clk < VDSO_CLOCK_AUX || clk > VDSO_CLOCK_AUX_LAST)
        return live.clock_getres(clk, res);
    if (!res)
        raise(SIGSEGV);
    *res = (struct timespec){0, 1};
    return 0;
}

/*
 * The destructive tier's mutants: each caches kernel state that the kernel
 * may change, so each is right until the kernel changes it.
 *
 * The clock mode cached at the first call: REALTIME and MONOTONIC computed
 * from the data page with the TSC as long as the first call found TSC mode,
 * whatever the page says now (a clocksource switch makes it wrong).
 */
static int cached_mode(clockid_t clk, struct timespec *ts)
{
    static _Atomic int mode = -2;
    struct vdso_time_data d;

    if (clk > CLOCK_MONOTONIC || !live_layout_snapshot(layout, LIVE_PAGE_TIME, &d))
        return live.clock_gettime(clk, ts);
    int expected = -2;
    atomic_compare_exchange_strong(&mode, &expected, d.clock_data[0].clock_mode);
    if (atomic_load(&mode) != VDSO_CLOCKMODE_TSC)
        return live.clock_gettime(clk, ts);
    const struct vdso_clock *c = &d.clock_data[0];
    _mm_lfence();
    uint64_t cycles = (__rdtsc() - c->cycle_last) & c->mask;
    uint64_t ns = c->basetime[clk].nsec + cycles * c->mult;
    ts->tv_sec = (time_t)c->basetime[clk].sec;
    ns >>= c->shift;
    ts->tv_sec += (time_t)(ns / NSEC_PER_SEC);
    ts->tv_nsec = (long)(ns % NSEC_PER_SEC);
    return 0;
}

/* The TAI offset cached at the first CLOCK_TAI call: REALTIME plus it, ever after. */
static int cached_tai(clockid_t clk, struct timespec *ts)
{
    static _Atomic long offset = LONG_MIN;
    struct timespec rt, tai;

    if (clk != CLOCK_TAI)
        return live.clock_gettime(clk, ts);
    if (atomic_load(&offset) == LONG_MIN) {
        live.clock_gettime(CLOCK_REALTIME, &rt);
        live.clock_gettime(CLOCK_TAI, &tai);
        atomic_store(&offset, (long)((ts_diff_ns(&tai, &rt) + NSEC_PER_SEC / 2) / NSEC_PER_SEC));
    }
    int r = live.clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += atomic_load(&offset);
    return r;
}

/* The tz cached at the first call. */
static int cached_tz(struct timeval *tv, struct timezone *tz)
{
    static _Atomic int cached = 0, minutes, dst;
    struct timezone now;
    int r = live.gettimeofday(tv, &now);

    if (!atomic_exchange(&cached, 1)) {
        atomic_store(&minutes, now.tz_minuteswest);
        atomic_store(&dst, now.tz_dsttime);
    }
    if (tz)
        *tz = (struct timezone){atomic_load(&minutes), atomic_load(&dst)};
    return r;
}

/* getcpu answered from a per-thread cache filled by the thread's first call. */
static long getcpu_cache(unsigned *cpu, unsigned *node, void *unused)
{
    static _Thread_local bool have;
    static _Thread_local unsigned c, n;

    if (!have) {
        long r = live.getcpu(&c, &n, unused);
        if (r)
            return r;
        have = true;
    }
    if (cpu)
        *cpu = c;
    if (node)
        *node = n;
    return 0;
}

/* Runner robustness: a crash and a hang inside the target. */
static long crash(unsigned *cpu, unsigned *node, void *unused)
{
    (void)cpu;
    (void)node;
    (void)unused;
    raise(SIGSEGV); /* as a wild store would; a real one is UB the compiler may drop */
    return 0;
}

static long hang(unsigned *cpu, unsigned *node, void *unused)
{
    (void)unused;
    for (;;)
        pause();
    return cpu && node;
}

/* Each mutant replaces one entry point of the live vDSO (the others stay NULL here). */
static const struct live_mutant {
    const char *name;
    struct conf_vdso_fns fn;
} mutants[] = {
    {"unnormalised", {.clock_gettime = unnormalised}},
    {"backwards", {.clock_gettime = backwards}},
    {"enosys", {.clock_gettime = enosys}},
    {"round_usec", {.gettimeofday = round_usec}},
    {"swapped_getcpu", {.getcpu = swapped}},
    {"always_syscall", {.clock_gettime = always_syscall}},
    {"getres_1ns", {.clock_getres = getres_1ns}},
    {"getres_aux_crash", {.clock_getres = getres_aux_crash}},
    {"crash", {.getcpu = crash}},
    {"hang", {.getcpu = hang}},
    {"cached_mode", {.clock_gettime = cached_mode}},
    {"cached_tai", {.clock_gettime = cached_tai}},
    {"cached_tz", {.gettimeofday = cached_tz}},
    {"getcpu_cache", {.getcpu = getcpu_cache}},
};
#define NMUTANTS (sizeof(mutants) / sizeof(mutants[0]))

static const struct live_mutant *find_mutant(const char *name)
{
    for (size_t i = 0; i < NMUTANTS; i++)
        if (strcmp(mutants[i].name, name) == 0)
            return &mutants[i];
    return NULL;
}

static void unknown_mutant(const char *name, char *err, size_t errlen)
{
    size_t n = (size_t)snprintf(err, errlen, "mutant:%s: unknown (", name);

    for (size_t i = 0; i < NMUTANTS && n < errlen; i++)
        n += (size_t)snprintf(err + n, errlen - n, "%s%s", i ? ", " : "", mutants[i].name);
    if (n < errlen)
        snprintf(err + n, errlen - n, ")");
}

static void install(struct conf_vdso_fns *fn, const struct conf_vdso_fns *defect)
{
    if (defect->clock_gettime)
        fn->clock_gettime = defect->clock_gettime;
    if (defect->gettimeofday)
        fn->gettimeofday = defect->gettimeofday;
    if (defect->clock_getres)
        fn->clock_getres = defect->clock_getres;
    if (defect->getcpu)
        fn->getcpu = defect->getcpu;
}

int conf_target_open_mutant(struct conf_target *t, const char *name, char *err, size_t errlen)
{
    int r = conf_target_open_live(t, err, errlen);

    if (r)
        return r;
    live = t->fn;
    layout = t->live;
    if (!live.clock_gettime || !live.getcpu || !live.gettimeofday || !live.clock_getres) {
        snprintf(err, errlen, "mutant:%s needs the live vDSO: %s", name, t->missing);
        return 2;
    }
    const struct live_mutant *m = find_mutant(name);
    if (!m) {
        unknown_mutant(name, err, errlen);
        return 2;
    }
    t->flags &= ~CONF_TARGET_MAPPED; /* not the kernel's mapping any more */
    install(&t->fn, &m->fn);
    snprintf(t->detail, sizeof(t->detail), "live vDSO with the deliberate defect %s", name);
    return 0;
}
