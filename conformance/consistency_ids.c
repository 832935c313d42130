/*
 * Group 2, per clock id: every reading of the target is sandwiched between
 * two syscalls of the same clock (tolerance 0: both read the same kernel
 * timekeeper, so the bracket is exact), errors equal the syscall's exactly
 * (-EINVAL as a return value, defect classes C15, C16, C18), clock_getres
 * equals the syscall for every id with and without a result pointer (C22),
 * and a raw entry point leaves errno alone. Ids: 0-23, -1, INT_MIN,
 * INT_MAX, 24, 64 and CPU-clock encodings. Return and getres mismatches
 * record structured evidence (got=, res=, want=, want_res=) that a waiver
 * can name; every other failure here is prose and never waivable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "consistency.h"
#include "evidence.h"
#include "inproc.h"
#include "oracle.h"

/* CPU-clock encodings: ((~pid) << 3) | (thread ? 4 : 0) | type (2 = SCHED). */
static clockid_t process_cpu_clock(pid_t pid)
{
    return (clockid_t)((~(unsigned)pid) << 3) | 2;
}

static int clock_ids(clockid_t *ids)
{
    int n = 0;

    for (int id = 0; id <= 23; id++)
        ids[n++] = id;
    static const clockid_t invalid[] = {-1, INT_MIN, INT_MAX, 24, 64};
    for (unsigned i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        ids[n++] = invalid[i];
    ids[n++] = -2; /* this thread's SCHED clock */
    ids[n++] = -6; /* this process's SCHED clock */
    ids[n++] = -3; /* this thread's VIRT clock */
    ids[n++] = -5; /* CLOCKFD on fd 0: not a clock device */
    ids[n++] = process_cpu_clock(getpid());
    ids[n++] = process_cpu_clock(1);
    return n;
}

static void gettime_sandwich(struct conf_ctx *ctx, clockid_t clk)
{
    conf_clock_gettime_fn fn = ctx->target->fn.clock_gettime;
    unsigned iters = conf_budget_iters(ctx, 40);

    for (unsigned i = 0; i < iters; i++) {
        struct timespec s1 = {0}, v = {0}, s2 = {0};
        int r1 = ctx->target->oracle.clock_gettime(clk, &s1);
        int rv = fn(clk, &v);
        int r2 = ctx->target->oracle.clock_gettime(clk, &s2);
        if (r1 != r2) {
            conf_note(ctx, "the syscall itself returned %d then %d; retrying", r1, r2);
            continue;
        }
        if (rv != r1) {
            char got[32], want[32], terms[96];
            ev_ret(got, sizeof(got), rv);
            ev_ret(want, sizeof(want), r1);
            snprintf(terms, sizeof(terms), "got=%s want=%s", got, want);
            conf_fail_ev(ctx, terms,
                         "target returned %d, the syscall %d (both must be 0 or the same -errno)",
                         rv, r1);
            return;
        }
        if (r1 != 0)
            continue;
        if (!conf_check_ts(ctx, &v, "target"))
            return;
        if (ts_ns(&v) < ts_ns(&s1) || ts_ns(&v) > ts_ns(&s2)) {
            conf_fail(ctx,
                      "reading outside the syscall bracket: syscall %lld.%09ld <= target "
                      "%lld.%09ld <= syscall %lld.%09ld does not hold (bracket %lld ns, "
                      "tolerance 0: same clock, same timekeeper)",
                      (long long)s1.tv_sec, s1.tv_nsec, (long long)v.tv_sec, v.tv_nsec,
                      (long long)s2.tv_sec, s2.tv_nsec, (long long)(ts_ns(&s2) - ts_ns(&s1)));
            return;
        }
    }
}

/*
 * Evidence terms of one getres comparison: got/want are the returns of the
 * target and the syscall, res/want_res the resolutions they gave (only
 * when they returned 0), e.g. "got=0 res=0.000000001 want=-EINVAL".
 */
static void getres_terms(char *buf, size_t len, int rt, const struct timespec *got, int rs,
                         const struct timespec *want)
{
    char g[32], w[32], gres[48] = "", wres[48] = "";

    ev_ret(g, sizeof(g), rt);
    ev_ret(w, sizeof(w), rs);
    if (rt == 0 && got) {
        memcpy(gres, " res=", 6);
        ev_ts(gres + 5, sizeof(gres) - 5, got);
    }
    if (rs == 0 && want) {
        memcpy(wres, " want_res=", 11);
        ev_ts(wres + 10, sizeof(wres) - 10, want);
    }
    snprintf(buf, len, "got=%s%s want=%s%s", g, gres, w, wres);
}

/*
 * One comparison: the target's getres between two of the oracle's that
 * agree. The emulated kernel changes hrtimer_res from state to state (its
 * low-resolution profile), so a pair that straddles a change is taken again.
 */
#define GETRES_PAIR_TRIES 16

static void getres_pair(struct conf_ctx *ctx, clockid_t clk, int *rs, struct timespec *a, int *rt,
                        struct timespec *b)
{
    for (int i = 0; i < GETRES_PAIR_TRIES; i++) {
        struct timespec a2 = {-7, -7};
        *a = *b = (struct timespec){-7, -7};
        *rs = ctx->target->oracle.clock_getres(clk, a);
        *rt = ctx->target->fn.clock_getres(clk, b);
        int rs2 = ctx->target->oracle.clock_getres(clk, &a2);
        if (rs2 == *rs && a2.tv_sec == a->tv_sec && a2.tv_nsec == a->tv_nsec)
            return;
    }
}

/* An in-process HRES or RAW clock is compared in both profiles: 1 ns and the tick. */
#define PROFILE_WAIT_NS (500 * NSEC_PER_MSEC)
#define PROFILE_POLL_NS (200 * NSEC_PER_USEC)

static bool both_profiles(const struct conf_ctx *ctx, clockid_t clk)
{
    return conf_inproc(ctx->target) && (vdso_clock_bit(clk) & (VDSO_HRES | VDSO_RAW));
}

/* false after a failure. */
static bool getres_once(struct conf_ctx *ctx, clockid_t clk, bool *fine, bool *coarse)
{
    struct timespec a, b;
    int rs, rt;
    char terms[200];

    getres_pair(ctx, clk, &rs, &a, &rt, &b);
    getres_terms(terms, sizeof(terms), rt, &b, rs, &a);
    if (rs != rt) {
        conf_fail_ev(ctx, terms, "clock_getres returned %d (res {%lld, %ld}), the syscall %d", rt,
                     (long long)b.tv_sec, b.tv_nsec, rs);
        return false;
    }
    if (rs == 0 && (a.tv_sec != b.tv_sec || a.tv_nsec != b.tv_nsec)) {
        conf_fail_ev(ctx, terms, "clock_getres gave {%lld, %ld}, the syscall {%lld, %ld}",
                     (long long)b.tv_sec, b.tv_nsec, (long long)a.tv_sec, a.tv_nsec);
        return false;
    }
    *(rs == 0 && a.tv_sec == 0 && a.tv_nsec == 1 ? fine : coarse) = true;
    return true;
}

static void getres_equal(struct conf_ctx *ctx, clockid_t clk)
{
    conf_clock_getres_fn fn = ctx->target->fn.clock_getres;
    bool fine = false, coarse = false, both = both_profiles(ctx, clk);
    int64_t give_up = mono_now_ns() + PROFILE_WAIT_NS;
    const struct timespec poll = ts_from_ns(PROFILE_POLL_NS);

    while (getres_once(ctx, clk, &fine, &coarse) && both && !(fine && coarse)) {
        if (mono_now_ns() > give_up) {
            conf_note(ctx, "only the %s profile was seen within %lld ms", fine ? "1 ns" : "tick",
                      (long long)(PROFILE_WAIT_NS / NSEC_PER_MSEC));
            break;
        }
        nanosleep(&poll, NULL);
    }
    /* The NULL call follows even a failure: a target may crash only there. */
    char terms[200];
    int rsn = ctx->target->oracle.clock_getres(clk, NULL);
    int rtn = fn(clk, NULL);
    if (rsn != rtn) {
        /* Same keys as above: the same deviation with NULL adds nothing new. */
        getres_terms(terms, sizeof(terms), rtn, NULL, rsn, NULL);
        conf_fail_ev(ctx, terms, "clock_getres(NULL) returned %d, the syscall %d", rtn, rsn);
    }
}

/* A raw vDSO entry point returns -errno and never writes errno (C18). */
static void errno_untouched(struct conf_ctx *ctx)
{
    if (!(ctx->target->flags & CONF_TARGET_RAW_ABI)) {
        conf_skip(ctx, "errno is the C library's to set (its success path is checked by the "
                       "libc adapter on every call)");
        return;
    }
    const struct conf_vdso_fns *f = &ctx->target->fn;
    static const clockid_t ids[] = {CLOCK_MONOTONIC, CLOCK_REALTIME_COARSE, -1, 64};
    for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct timespec ts;
        errno = 4242;
        int r = f->clock_gettime(ids[i], &ts);
        if (errno != 4242)
            conf_fail(ctx, "clock_gettime(%d) returned %d and changed errno to %d", ids[i], r,
                      errno);
        if (f->clock_getres) {
            errno = 4242;
            r = f->clock_getres(ids[i], &ts);
            if (errno != 4242)
                conf_fail(ctx, "clock_getres(%d) returned %d and changed errno to %d", ids[i], r,
                          errno);
        }
    }
}

void consistency_ids(struct conf_ctx *ctx)
{
    clockid_t ids[64];
    int n = clock_ids(ids);
    char buf[32];

    for (int i = 0; i < n; i++) {
        if (conf_test_begin(ctx, "consistency.gettime.%s", clock_name(ids[i], buf, sizeof(buf)))) {
            if (conf_require(ctx, ctx->target->fn.clock_gettime, "clock_gettime"))
                gettime_sandwich(ctx, ids[i]);
            conf_test_end(ctx);
        }
    }
    for (int i = 0; i < n; i++) {
        if (conf_test_begin(ctx, "consistency.getres.%s", clock_name(ids[i], buf, sizeof(buf)))) {
            if (conf_require(ctx, ctx->target->fn.clock_getres, "clock_getres"))
                getres_equal(ctx, ids[i]);
            conf_test_end(ctx);
        }
    }
    if (conf_test_begin(ctx, "consistency.errno")) {
        if (conf_require(ctx, ctx->target->fn.clock_gettime, "clock_gettime"))
            errno_untouched(ctx);
        conf_test_end(ctx);
    }
}

void group_consistency(struct conf_ctx *ctx)
{
    consistency_ids(ctx);
    consistency_relations(ctx);
    consistency_exact(ctx);
}
