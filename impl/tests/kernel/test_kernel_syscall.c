/*
 * The emulated kernel's syscalls (tk_syscall.h) against the model and
 * against hand-computed values on scripted states: every clock the model
 * serves equals the syscall at the counter the syscall read, in states with
 * fractional base bits and a slewed mult; in clock mode NONE, where the
 * page goes stale and the model falls back, the syscall still follows the
 * counter; the kernel's errors for ids it rejects; the host's answer for
 * CPU-time clocks; tz, time and getres from the timekeeper; and a call made
 * while the calling thread holds an update open (the case of a SIGSYS
 * handler interrupting a lock holder) does not wait for the lock.
 */
#include "../check.h"
#include "tk_test.h"
#include <errno.h>
#include <pthread.h>
#include <vdsokit/timekeeper_raw.h>
#include <vdsokit/tk_syscall.h>

static const int32_t served[] = {
    VDSO_CLOCK_REALTIME,        VDSO_CLOCK_MONOTONIC, VDSO_CLOCK_MONOTONIC_RAW,
    VDSO_CLOCK_BOOTTIME,        VDSO_CLOCK_TAI,       VDSO_CLOCK_REALTIME_COARSE,
    VDSO_CLOCK_MONOTONIC_COARSE};
#define NSERVED (sizeof(served) / sizeof(served[0]))

#define CHECK_TS(ts, esec, ensec)                                                              \
    CHECK((ts).tv_sec == (esec) && (ts).tv_nsec == (ensec),                                    \
          "%s = {%lld, %ld}, expected {%lld, %ld}", #ts, (long long)(ts).tv_sec, (ts).tv_nsec, \
          (long long)(esec), (long)(ensec))

/* The syscall equals the model of the newest state at the syscall's counter. */
static void check_against_model(struct timekeeper *tk, const char *what)
{
    for (unsigned i = 0; i < NSERVED; i++) {
        struct timespec sys = {-1, -1}, mod = {-2, -2};
        struct tk_sys_trace tr;
        int r = tk_sys_clock_gettime(tk, served[i], &sys, &tr);
        struct tk_log_entry e;
        CHECK(tk_log_copy(tk, tr.generation, tr.generation, &e, 1) == 1, "%s: state %llu", what,
              (unsigned long long)tr.generation);
        struct tk_model_view v = {.page0 = &e.data, .counter = tr.counter, .low_res_nsec = 1};
        enum tk_model_outcome o = tk_model_clock_gettime(&v, served[i], &mod);
        CHECK(r == 0 && o == TK_MODEL_OK && sys.tv_sec == mod.tv_sec && sys.tv_nsec == mod.tv_nsec,
              "%s: clock %d: syscall %d {%lld, %ld}, model %s {%lld, %ld} at counter %llu", what,
              served[i], r, (long long)sys.tv_sec, sys.tv_nsec, tk_model_outcome_name(o),
              (long long)mod.tv_sec, mod.tv_nsec, (unsigned long long)tr.counter);
    }
}

static void test_values(struct timekeeper *tk)
{
    struct timespec ts;

    check_against_model(tk, "start");
    /* The counter counts ns (mult 2^24, shift 24); the coarse clocks wait for a tick. */
    tk_advance_counter(tk, 900000000);
    tk_sys_clock_gettime(tk, CLOCK_MONOTONIC, &ts, NULL);
    CHECK_TS(ts, 5001, 25000000);
    tk_sys_clock_gettime(tk, CLOCK_BOOTTIME, &ts, NULL);
    CHECK_TS(ts, 5008, 25000005);
    tk_sys_clock_gettime(tk, CLOCK_TAI, &ts, NULL);
    CHECK_TS(ts, 1700000038, 150000000);
    tk_sys_clock_gettime(tk, CLOCK_MONOTONIC_COARSE, &ts, NULL);
    CHECK_TS(ts, 5000, 125000000);
    check_against_model(tk, "advanced");
    tk_accumulate(tk);
    tk_sys_clock_gettime(tk, CLOCK_MONOTONIC_COARSE, &ts, NULL);
    CHECK_TS(ts, 5001, 25000000);
    CHECK_EQ_I64(tk_sys_time(tk, NULL), 1700000001);
    /* A slewed mult and a fraction below the ns in every base. */
    tk_slew_ppm(tk, 137);
    tk_advance_counter(tk, 333333333);
    tk_accumulate(tk);
    tk_advance_counter(tk, 12345);
    check_against_model(tk, "slewed");
}

/* Mode NONE: the page keeps its counter-based slots, the kernel goes on. */
static void test_mode_none(struct timekeeper *tk)
{
    struct timespec before, after, stale;

    tk_sys_clock_gettime(tk, CLOCK_MONOTONIC_RAW, &before, NULL);
    tk_set_clock_mode(tk, VDSO_CLOCKMODE_NONE);
    tk_advance_counter(tk, 5 * NSEC_PER_SEC);
    tk_accumulate(tk);
    tk_advance_counter(tk, 7);
    CHECK(model_now(tk, VDSO_CLOCK_MONOTONIC_RAW, &stale) == TK_MODEL_FALLBACK,
          "the model serves in mode NONE");
    tk_sys_clock_gettime(tk, CLOCK_MONOTONIC_RAW, &after, NULL);
    CHECK_EQ_I64(ts_diff_ns(&after, &before), 5 * NSEC_PER_SEC + 7);
    /* Back to a capable mode: the page catches up and agrees again. */
    tk_set_clock_mode(tk, VDSO_CLOCKMODE_PVCLOCK);
    tk_accumulate(tk);
    check_against_model(tk, "after NONE");
}

static void test_errors_and_res(struct timekeeper *tk)
{
    struct timespec ts = {-1, -1};
    static const clockid_t invalid[] = {10, 12, 15, 16, 23, 24, 1000};

    for (unsigned i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        CHECK_EQ_I64(tk_sys_clock_gettime(tk, invalid[i], &ts, NULL), -EINVAL);
        CHECK_EQ_I64(tk_sys_clock_getres(tk, invalid[i], &ts, NULL), -EINVAL);
    }
    CHECK_EQ_I64(tk_sys_clock_gettime(tk, CLOCK_PROCESS_CPUTIME_ID, &ts, NULL), TK_SYS_HOST);
    CHECK_EQ_I64(tk_sys_clock_getres(tk, -6, &ts, NULL), TK_SYS_HOST);
    tk_set_hrtimer_res(tk, 7);
    CHECK(tk_sys_clock_getres(tk, CLOCK_BOOTTIME, &ts, NULL) == 0 && ts.tv_nsec == 7,
          "getres(BOOTTIME) = %ld", ts.tv_nsec);
    tk_set_low_res_nsec(tk, 3333333);
    CHECK(tk_sys_clock_getres(tk, CLOCK_MONOTONIC_COARSE, &ts, NULL) == 0 && ts.tv_nsec == 3333333,
          "getres(MONOTONIC_COARSE) = %ld", ts.tv_nsec);
    /* An enabled aux clock is served, at the raw rate from its base. */
    tk_aux_enable(tk, 2, (struct timespec){100, 999999999});
    tk_advance_counter(tk, 2);
    CHECK(tk_sys_clock_gettime(tk, 18, &ts, NULL) == 0, "aux 2 enabled");
    CHECK_TS(ts, 101, 1);
    CHECK(tk_sys_clock_getres(tk, 18, &ts, NULL) == 0 && ts.tv_nsec == 1, "getres(aux 2)");
    tk_aux_disable(tk, 2);
    CHECK_EQ_I64(tk_sys_clock_gettime(tk, 18, &ts, NULL), -EINVAL);
}

static void test_tz(struct timekeeper *tk)
{
    struct timeval tv;
    struct timezone tz = {0, 0};
    struct timespec rt;

    tk_set_tz(tk, -330, 2);
    tk_sys_gettimeofday(tk, &tv, &tz, NULL);
    CHECK(tz.tz_minuteswest == -330 && tz.tz_dsttime == 2, "tz {%d, %d}", tz.tz_minuteswest,
          tz.tz_dsttime);
    tk_sys_clock_gettime(tk, CLOCK_REALTIME, &rt, NULL);
    CHECK(tv.tv_sec == rt.tv_sec && tv.tv_usec == rt.tv_nsec / 1000, "tv {%lld, %ld}",
          (long long)tv.tv_sec, (long)tv.tv_usec);
}

struct holder {
    struct timekeeper *tk;
    int opened, release; /* atomic flags */
};

static void *hold_update(void *arg)
{
    struct holder *h = arg;

    tk_update_begin(h->tk);
    __atomic_store_n(&h->opened, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&h->release, __ATOMIC_ACQUIRE))
        sched_yield();
    tk_update_end(h->tk);
    return NULL;
}

/* Another thread holds an update open: a lock-taking syscall would wait
 * for it forever (this test would time out); the snapshot answers. */
static void test_lock_free(struct timekeeper *tk)
{
    struct holder h = {.tk = tk};
    pthread_t th;
    struct timespec ts;

    CHECK(pthread_create(&th, NULL, hold_update, &h) == 0, "pthread_create");
    while (!__atomic_load_n(&h.opened, __ATOMIC_ACQUIRE))
        sched_yield();
    CHECK(tk_sys_clock_gettime(tk, CLOCK_MONOTONIC, &ts, NULL) == 0, "gettime during an update");
    __atomic_store_n(&h.release, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
}

int main(void)
{
    static struct vdso_datapages dp;
    struct timekeeper *tk;
    struct tk_script s = test_script();

    if (datapages_create(&dp) != 0) {
        fprintf(stderr, "datapages_create failed\n");
        return 1;
    }
    CHECK(tk_init_scripted(&tk, &dp, &s) == 0, "init");
    test_values(tk);
    test_mode_none(tk);
    test_errors_and_res(tk);
    test_tz(tk);
    test_lock_free(tk);
    tk_destroy(tk);
    datapages_destroy(&dp);
    return check_finish();
}
