/*
 * The hermetic trap on the reference image: with the filter installed, a
 * call the image serves from the data pages makes no syscall; in clock
 * mode NONE it falls back and the trap answers exactly what the emulated
 * kernel's syscall says (the record's value, at the record's state), with
 * the emulated timezone; a CPU-time clock is trapped but answered by the
 * host; a NULL or wild pointer gets -EFAULT, not a crash; a moved image
 * keeps trapping; an image without a timekeeper gets the host's answer,
 * counted as foreign; and this test's own syscalls are never trapped.
 * Prints the trap's cost per call.
 */
#include "check.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vdsokit/loader.h>
#include <vdsokit/loader_trap.h>
#include <vdsokit/timespec.h>

#define LATENCY_CALLS 2000

static struct tk_script script(void)
{
    struct tk_script s;

    memset(&s, 0, sizeof(s));
    s.counter = TK_COUNTER_PVCLOCK_MANUAL;
    s.counter_start = 1000000;
    s.mult = 1u << 24;
    s.shift = 24;
    s.realtime = (struct timespec){1700000000, 250000000};
    s.monotonic = (struct timespec){5000, 125000000};
    s.raw = (struct timespec){4990, 0};
    s.tz_minuteswest = -120;
    s.tz_dsttime = 3;
    return s;
}

/* One call through the image; returns the traps it made. */
#define TRAPS(expr)                                    \
    ({                                                 \
        uint64_t before_ = loader_trap_thread_count(); \
        expr;                                          \
        loader_trap_thread_count() - before_;          \
    })

static void test_served_and_fallback(struct vdso_loaded *l)
{
    struct vdso_timespec ts;
    struct loader_trap_record r;
    int rc = 0;

    CHECK(TRAPS(rc = l->clock_gettime(CLOCK_MONOTONIC, &ts)) == 0 && rc == 0,
          "a served call trapped (rc %d)", rc);
    tk_set_clock_mode(l->tk, VDSO_CLOCKMODE_NONE);
    tk_advance_counter(l->tk, 3 * NSEC_PER_SEC + 11);
    tk_accumulate(l->tk);
    CHECK(TRAPS(rc = l->clock_gettime(CLOCK_MONOTONIC, &ts)) == 1 && rc == 0,
          "a fallback did not trap once (rc %d)", rc);
    loader_trap_thread_last(&r);
    CHECK(r.emulated && r.nr == SYS_clock_gettime && r.ret == 0, "record nr %ld ret %ld", r.nr,
          r.ret);
    CHECK(ts.tv_sec == r.ts.tv_sec && ts.tv_nsec == r.ts.tv_nsec,
          "image returned {%lld, %lld}, the trap answered {%lld, %ld}", (long long)ts.tv_sec,
          (long long)ts.tv_nsec, (long long)r.ts.tv_sec, r.ts.tv_nsec);
    /* The manual counter counts ns from the script's start: MONOTONIC is exact. */
    CHECK(ts.tv_sec == 5003 && ts.tv_nsec == 125000011, "MONOTONIC {%lld, %lld}",
          (long long)ts.tv_sec, (long long)ts.tv_nsec);
    struct vdso_timeval tv;
    struct vdso_timezone tz = {0, 0};
    CHECK(TRAPS(rc = l->gettimeofday(&tv, &tz)) == 1 && rc == 0, "gettimeofday (rc %d)", rc);
    CHECK(tz.tz_minuteswest == -120 && tz.tz_dsttime == 3 && tv.tv_sec == 1700000003,
          "gettimeofday {%lld, %ld} tz {%d, %d}", (long long)tv.tv_sec, (long)tv.tv_usec,
          tz.tz_minuteswest, tz.tz_dsttime);
    /* Bad pointers: -EFAULT as the kernel's copy_to_user gives it, no crash. */
    CHECK((rc = l->clock_gettime(CLOCK_MONOTONIC, NULL)) == -EFAULT, "NULL ts: %d", rc);
    CHECK((rc = l->clock_gettime(CLOCK_MONOTONIC, (void *)8)) == -EFAULT, "wild ts: %d", rc);
    CHECK((rc = l->gettimeofday((void *)8, NULL)) == -EFAULT, "wild tv: %d", rc);
    CHECK((rc = l->gettimeofday(NULL, NULL)) == 0, "NULL tv, tz: %d", rc);
    CHECK((rc = l->clock_gettime(99, &ts)) == -EINVAL, "clock 99: %d", rc);
    tk_set_clock_mode(l->tk, VDSO_CLOCKMODE_PVCLOCK);
    tk_accumulate(l->tk);
}

static void test_host_parts(struct vdso_loaded *l)
{
    struct vdso_timespec ts;
    struct timespec real;
    struct loader_trap_record r;

    CHECK(TRAPS(l->clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)) == 1, "CPU clock not trapped");
    loader_trap_thread_last(&r);
    CHECK(!r.emulated && r.ret == 0, "CPU clock: emulated %d ret %ld", r.emulated, r.ret);
    /* This test's own syscalls stay real: the host's REALTIME, untrapped. */
    CHECK(TRAPS(syscall(SYS_clock_gettime, CLOCK_REALTIME, &real)) == 0, "own syscall trapped");
    CHECK(real.tv_sec > 1700000000 + 86400 * 365, "own syscall answered %lld",
          (long long)real.tv_sec);
}

static void test_moved(struct vdso_loaded *l)
{
    struct vdsokit_error err;
    struct vdso_timespec ts;
    uintptr_t old = (uintptr_t)l->base;

    CHECK(loader_move(l, &err) == 0, "%s", err.msg);
    CHECK(((uintptr_t)l->base >> 32) == (old >> 32), "moved out of the window: %p -> %p",
          (void *)old, (void *)l->base);
    tk_set_clock_mode(l->tk, VDSO_CLOCKMODE_NONE);
    CHECK(TRAPS(l->clock_gettime(CLOCK_MONOTONIC_RAW, &ts)) == 1, "moved image: no trap");
    tk_set_clock_mode(l->tk, VDSO_CLOCKMODE_PVCLOCK);
}

/* An image with no timekeeper (zeroed pages: mode NONE) falls back to the
 * host's syscall, counted as foreign. */
static void test_foreign(void)
{
    const struct loader_options none = {.clock = LOADER_CLOCK_NONE};
    struct vdso_loaded *l;
    struct vdsokit_error err;
    struct vdso_timespec ts;
    struct timespec a, b;
    struct loader_trap_counts c0, c1;
    int rc = -1;

    CHECK(loader_load_ref(&l, &none, &err) == 0, "%s", err.msg);
    if (!l)
        return;
    loader_trap_totals(&c0);
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
    CHECK(TRAPS(rc = l->clock_gettime(CLOCK_MONOTONIC, &ts)) == 1 && rc == 0, "rc %d", rc);
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
    loader_trap_totals(&c1);
    CHECK(c1.foreign == c0.foreign + 1, "foreign %llu -> %llu", (unsigned long long)c0.foreign,
          (unsigned long long)c1.foreign);
    int64_t v = ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
    CHECK(v >= ts_ns(&a) && v <= ts_ns(&b), "host MONOTONIC %lld outside [%lld, %lld]",
          (long long)v, (long long)ts_ns(&a), (long long)ts_ns(&b));
    loader_unload(l);
}

static void measure(struct vdso_loaded *l)
{
    struct vdso_timespec ts;
    struct timespec a, b;

    tk_set_clock_mode(l->tk, VDSO_CLOCKMODE_NONE);
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
    uint64_t traps =
        TRAPS(for (int i = 0; i < LATENCY_CALLS; i++) l->clock_gettime(CLOCK_MONOTONIC, &ts));
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
    tk_set_clock_mode(l->tk, VDSO_CLOCKMODE_PVCLOCK);
    CHECK(traps == LATENCY_CALLS, "%llu traps in %d fallbacks", (unsigned long long)traps,
          LATENCY_CALLS);
    printf("trapped clock_gettime: %.0f ns per call over %d calls\n",
           (double)ts_diff_ns(&b, &a) / LATENCY_CALLS, LATENCY_CALLS);
}

int main(void)
{
    struct tk_script s = script();
    const struct loader_options opt = {.clock = LOADER_CLOCK_SCRIPTED, .script = &s};
    struct vdso_loaded *l;
    struct vdsokit_error err;

    if (loader_trap_install(&err) != 0)
        SKIP("%s", err.msg);
    CHECK(loader_load_ref(&l, &opt, &err) == 0, "%s", err.msg);
    if (!l)
        return check_finish();
    test_served_and_fallback(l);
    test_host_parts(l);
    test_moved(l);
    measure(l);
    struct loader_trap_counts c;
    loader_trap_totals(&c);
    CHECK(c.foreign == 0 &&
              c.total == c.by_call[LOADER_TRAP_CLOCK_GETTIME] + c.by_call[LOADER_TRAP_GETTIMEOFDAY],
          "totals: %llu, foreign %llu", (unsigned long long)c.total, (unsigned long long)c.foreign);
    loader_unload(l);
    test_foreign();
    return check_finish();
}
