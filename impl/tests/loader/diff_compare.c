/*
 * The comparison steps of the differential test. Outputs start filled with
 * a sentinel so that "not written" is compared too. The model decides what
 * is required: served calls must match it and each other bit for bit;
 * fallback calls must return what the syscall returns, with results between
 * a syscall made before and one made after; faulting calls must fault in
 * both images.
 */
#include "diff_compare.h"

#include "check.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct diff_stats diff_stats;

#define SENTINEL 0xa5

int32_t diff_clock_id(unsigned i)
{
    if (i < 61)
        return (int32_t)i - 20;
    return i == 61 ? INT_MIN : INT_MAX;
}

/* --- the fault guard --------------------------------------------------- */

static sigjmp_buf guard_jmp;
static volatile sig_atomic_t guard_armed;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    if (guard_armed)
        siglongjmp(guard_jmp, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

void diff_guard_init(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

/* A call that may fault, with its own outputs, and the guard that runs it. */
enum call_kind { CALL_GETTIME, CALL_GTOD, CALL_TIME, CALL_GETRES };
struct call {
    enum call_kind kind;
    int32_t clk;
    bool want_a, want_b; /* pass the first / second output pointer, else NULL */
    const struct vdso_loaded *l;
    long ret;
    struct vdso_timespec ts;
    struct vdso_timeval tv;
    struct vdso_timezone tz;
    int64_t t;
};

static void do_call(struct call *c)
{
    switch (c->kind) {
    case CALL_GETTIME:
        c->ret = c->l->clock_gettime(c->clk, c->want_a ? &c->ts : NULL);
        break;
    case CALL_GTOD:
        c->ret = c->l->gettimeofday(c->want_a ? &c->tv : NULL, c->want_b ? &c->tz : NULL);
        break;
    case CALL_TIME:
        c->ret = c->l->time(c->want_a ? &c->t : NULL);
        break;
    case CALL_GETRES:
        c->ret = c->l->clock_getres(c->clk, c->want_a ? &c->ts : NULL);
        break;
    }
}

/* True when the call faulted (SIGSEGV or SIGBUS). */
static bool faults(struct call *c)
{
    guard_armed = 1;
    if (sigsetjmp(guard_jmp, 1)) {
        guard_armed = 0;
        return true;
    }
    do_call(c);
    guard_armed = 0;
    return false;
}

/*
 * The model says the call touches an unbacked page. Both images must fault,
 * or (where the model is more pessimistic than the code, which reads the
 * page only on some paths) neither, with identical results.
 */
static void both_fault(const struct diff_pair *p, struct call c, const char *what)
{
    struct call a, b;
    bool fa, fb;

    memset(&a, SENTINEL, sizeof a);
    memset(&b, SENTINEL, sizeof b);
    a.kind = b.kind = c.kind;
    a.clk = b.clk = c.clk;
    a.want_a = b.want_a = c.want_a;
    a.want_b = b.want_b = c.want_b;
    a.l = p->ref;
    b.l = p->kern;
    fa = faults(&a);
    fb = faults(&b);
    CHECK(fa == fb, "%s %s clk %d: the model says fault; ref faulted %d, kernel faulted %d",
          p->state, what, c.clk, fa, fb);
    if (fa || fb)
        return;
    a.l = b.l = NULL;
    CHECK(!memcmp(&a, &b, sizeof a),
          "%s %s clk %d: neither faulted, results differ: ref %ld, "
          "kernel %ld",
          p->state, what, c.clk, a.ret, b.ret);
    diff_stats.fault_not_taken++;
}

unsigned diff_checks_passed(void)
{
    return check_passed;
}

unsigned diff_checks_failed(void)
{
    return check_failed;
}

static void count(enum tk_model_outcome o)
{
    if (o == TK_MODEL_OK)
        diff_stats.served++;
    else if (o == TK_MODEL_FALLBACK)
        diff_stats.fallback++;
    else if (o == TK_MODEL_FAULT)
        diff_stats.fault++;
    else
        diff_stats.skipped++;
}

/* --- clock_gettime ----------------------------------------------------- */

static bool ts_le(const struct vdso_timespec *a, const struct vdso_timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

static long sys_gettime(int32_t clk, struct vdso_timespec *ts)
{
    long r = syscall(SYS_clock_gettime, clk, ts);

    return r < 0 ? -errno : r;
}

/* What an image does, given its build (struct diff_kernel_config). */
static struct tk_model_view built_view(const struct diff_kernel_config *cfg,
                                       const struct tk_model_view *v)
{
    struct tk_model_view k = *v;
    const struct vdso_time_data *real = v->real ? v->real : v->page0;

    if (!cfg->hvclock && real->clock_data[0].clock_mode == VDSO_CLOCKMODE_HVCLOCK)
        k.counter = UINT64_MAX;
    return k;
}

/* An aux id the model serves, to an image built without aux clocks: the syscall. */
static enum tk_model_outcome built_aux(const struct diff_kernel_config *cfg, int32_t clk,
                                       enum tk_model_outcome o)
{
    if (o == TK_MODEL_OK && !cfg->aux_clocks && (vdso_clock_bit(clk) & VDSO_AUX))
        return TK_MODEL_FALLBACK;
    return o;
}

static enum tk_model_outcome built_gettime(const struct diff_kernel_config *cfg,
                                           const struct tk_model_view *v, int32_t clk,
                                           struct timespec *ts)
{
    struct tk_model_view k = built_view(cfg, v);

    return built_aux(cfg, clk, tk_model_clock_gettime(&k, clk, ts));
}

/* One image's result against its expected outcome. */
static void gettime_one(const struct diff_pair *p, const char *who, int32_t clk,
                        enum tk_model_outcome o, int r, const struct vdso_timespec *x,
                        const struct timespec *m, long r1, long r2, const struct vdso_timespec *s1,
                        const struct vdso_timespec *s2)
{
    static const struct vdso_timespec untouched = {(int64_t)0xa5a5a5a5a5a5a5a5ull,
                                                   (int64_t)0xa5a5a5a5a5a5a5a5ull};

    if (o == TK_MODEL_OK) {
        CHECK(r == 0 && x->tv_sec == (int64_t)m->tv_sec && x->tv_nsec == (int64_t)m->tv_nsec,
              "%s clk %d: %s returns %d {%lld, %lld}, model {%lld, %ld}", p->state, clk, who, r,
              (long long)x->tv_sec, (long long)x->tv_nsec, (long long)m->tv_sec, m->tv_nsec);
        return;
    }
    CHECK(r1 != r2 || r == r1, "%s clk %d: %s falls back and returns %d, the syscall %ld", p->state,
          clk, who, r, r1);
    if (r == 0 && r1 == 0 && r2 == 0)
        CHECK(ts_le(s1, x) && ts_le(x, s2),
              "%s clk %d: %s {%lld, %lld} not between the syscalls {%lld, %lld} and {%lld, %lld}",
              p->state, clk, who, (long long)x->tv_sec, (long long)x->tv_nsec,
              (long long)s1->tv_sec, (long long)s1->tv_nsec, (long long)s2->tv_sec,
              (long long)s2->tv_nsec);
    else if (r != 0)
        CHECK(!memcmp(x, &untouched, sizeof *x),
              "%s clk %d: %s error %d but the timespec was "
              "written",
              p->state, clk, who, r);
}

void diff_clock_gettime(const struct diff_pair *p, const struct tk_model_view *v, int32_t clk)
{
    struct vdso_timespec a, b, s1, s2;
    struct timespec m, mk;
    enum tk_model_outcome o = built_gettime(&p->rcfg, v, clk, &m);
    enum tk_model_outcome ok = built_gettime(&p->kcfg, v, clk, &mk);
    long r1, r2;
    int ra, rb;

    count(o);
    diff_stats.gettime++;
    if (o == TK_MODEL_SPIN)
        return;
    if (o == TK_MODEL_FAULT) {
        both_fault(p, (struct call){.kind = CALL_GETTIME, .clk = clk, .want_a = true},
                   "clock_gettime");
        return;
    }
    memset(&a, SENTINEL, sizeof a);
    memset(&b, SENTINEL, sizeof b);
    r1 = sys_gettime(clk, &s1);
    ra = p->ref->clock_gettime(clk, &a);
    rb = p->kern->clock_gettime(clk, &b);
    r2 = sys_gettime(clk, &s2);
    gettime_one(p, "ref", clk, o, ra, &a, &m, r1, r2, &s1, &s2);
    gettime_one(p, "kernel", clk, ok, rb, &b, &mk, r1, r2, &s1, &s2);
    if (o != ok) {
        diff_stats.config_diff++;
        return;
    }
    CHECK(ra == rb, "%s clk %d: returns ref %d kernel %d", p->state, clk, ra, rb);
    if (o == TK_MODEL_OK)
        CHECK(memcmp(&a, &b, sizeof a) == 0, "%s clk %d: ref {%lld, %lld} != kernel {%lld, %lld}",
              p->state, clk, (long long)a.tv_sec, (long long)a.tv_nsec, (long long)b.tv_sec,
              (long long)b.tv_nsec);
    else if (ra == 0)
        CHECK(ts_le(&a, &b),
              "%s clk %d: both fall back, ref {%lld, %lld} after kernel {%lld, "
              "%lld}",
              p->state, clk, (long long)a.tv_sec, (long long)a.tv_nsec, (long long)b.tv_sec,
              (long long)b.tv_nsec);
}

/* --- gettimeofday ------------------------------------------------------ */

static bool tv_le(const struct vdso_timeval *a, const struct vdso_timeval *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_usec <= b->tv_usec);
}

struct gtod_result {
    int r;
    struct vdso_timeval tv;
    struct vdso_timezone tz;
};

static void gtod_check(const struct diff_pair *p, const char *who, bool want_tv, bool want_tz,
                       enum tk_model_outcome o, const struct gtod_result *x,
                       const struct timeval *mtv, const struct timezone *mtz,
                       const struct vdso_timeval *s1, const struct vdso_timeval *s2,
                       const struct vdso_timezone *stz)
{
    CHECK(x->r == 0, "%s gettimeofday(tv %d, tz %d): %s returns %d", p->state, want_tv, want_tz,
          who, x->r);
    if (o == TK_MODEL_OK) {
        if (want_tv)
            CHECK(x->tv.tv_sec == (int64_t)mtv->tv_sec && x->tv.tv_usec == (int64_t)mtv->tv_usec,
                  "%s gettimeofday: %s tv {%lld, %lld}, model {%lld, %ld}", p->state, who,
                  (long long)x->tv.tv_sec, (long long)x->tv.tv_usec, (long long)mtv->tv_sec,
                  (long)mtv->tv_usec);
        if (want_tz)
            CHECK(x->tz.tz_minuteswest == mtz->tz_minuteswest &&
                      x->tz.tz_dsttime == mtz->tz_dsttime,
                  "%s gettimeofday: %s tz {%d, %d}, model {%d, %d}", p->state, who,
                  x->tz.tz_minuteswest, x->tz.tz_dsttime, mtz->tz_minuteswest, mtz->tz_dsttime);
        return;
    }
    CHECK(tv_le(s1, &x->tv) && tv_le(&x->tv, s2),
          "%s gettimeofday fallback: %s {%lld, %lld} not between the syscalls {%lld, %lld} and "
          "{%lld, %lld}",
          p->state, who, (long long)x->tv.tv_sec, (long long)x->tv.tv_usec, (long long)s1->tv_sec,
          (long long)s1->tv_usec, (long long)s2->tv_sec, (long long)s2->tv_usec);
    if (want_tz)
        CHECK(!memcmp(&x->tz, stz, sizeof *stz),
              "%s gettimeofday fallback: %s tz {%d, %d}, the syscall's {%d, %d}", p->state, who,
              x->tz.tz_minuteswest, x->tz.tz_dsttime, stz->tz_minuteswest, stz->tz_dsttime);
}

static void gtod_call(const struct vdso_loaded *l, bool want_tv, bool want_tz,
                      struct gtod_result *x)
{
    memset(x, SENTINEL, sizeof *x);
    x->r = l->gettimeofday(want_tv ? &x->tv : NULL, want_tz ? &x->tz : NULL);
}

static void gtod_one(const struct diff_pair *p, const struct tk_model_view *v, bool want_tv,
                     bool want_tz)
{
    struct tk_model_view r = built_view(&p->rcfg, v), k = built_view(&p->kcfg, v);
    struct vdso_timeval s1, s2;
    struct vdso_timezone stz;
    struct timeval mtv, ktv;
    struct timezone mtz, ktz;
    struct gtod_result a, b;
    enum tk_model_outcome o =
        tk_model_gettimeofday(&r, want_tv ? &mtv : NULL, want_tz ? &mtz : NULL);
    enum tk_model_outcome ok =
        tk_model_gettimeofday(&k, want_tv ? &ktv : NULL, want_tz ? &ktz : NULL);

    count(o);
    diff_stats.gettimeofday++;
    if (o == TK_MODEL_SPIN)
        return;
    if (o == TK_MODEL_FAULT) {
        both_fault(p, (struct call){.kind = CALL_GTOD, .want_a = want_tv, .want_b = want_tz},
                   "gettimeofday");
        return;
    }
    syscall(SYS_gettimeofday, &s1, &stz);
    gtod_call(p->ref, want_tv, want_tz, &a);
    gtod_call(p->kern, want_tv, want_tz, &b);
    syscall(SYS_gettimeofday, &s2, NULL);
    gtod_check(p, "ref", want_tv, want_tz, o, &a, &mtv, &mtz, &s1, &s2, &stz);
    gtod_check(p, "kernel", want_tv, want_tz, ok, &b, &ktv, &ktz, &s1, &s2, &stz);
    if (o != ok) {
        diff_stats.config_diff++;
        return;
    }
    CHECK(!memcmp(&a.tz, &b.tz, sizeof a.tz),
          "%s gettimeofday(tv %d, tz %d): tz ref {%d, %d} "
          "kernel {%d, %d}",
          p->state, want_tv, want_tz, a.tz.tz_minuteswest, a.tz.tz_dsttime, b.tz.tz_minuteswest,
          b.tz.tz_dsttime);
    if (o == TK_MODEL_OK)
        CHECK(!memcmp(&a.tv, &b.tv, sizeof a.tv),
              "%s gettimeofday(tv %d, tz %d): tv ref {%lld, "
              "%lld} kernel {%lld, %lld}",
              p->state, want_tv, want_tz, (long long)a.tv.tv_sec, (long long)a.tv.tv_usec,
              (long long)b.tv.tv_sec, (long long)b.tv.tv_usec);
    else
        CHECK(tv_le(&a.tv, &b.tv), "%s gettimeofday: both fall back, ref after kernel", p->state);
}

void diff_gettimeofday(const struct diff_pair *p, const struct tk_model_view *v)
{
    gtod_one(p, v, true, true);
    gtod_one(p, v, true, false);
    gtod_one(p, v, false, true);
    gtod_one(p, v, false, false);
}

/* --- time -------------------------------------------------------------- */

void diff_time(const struct diff_pair *p, const struct tk_model_view *v)
{
    int64_t m = 0, ta, tb, ra, rb, rna = 0, rnb = 0;
    enum tk_model_outcome o = tk_model_time(v, &m);

    count(o);
    diff_stats.time++;
    if (o == TK_MODEL_FAULT) {
        both_fault(p, (struct call){.kind = CALL_TIME, .want_a = true}, "time");
        return;
    }
    ta = tb = (int64_t)0xa5a5a5a5a5a5a5a5ull;
    ra = p->ref->time(&ta);
    rb = p->kern->time(&tb);
    rna = p->ref->time(NULL);
    rnb = p->kern->time(NULL);
    CHECK(ra == rb && ta == tb && ra == ta && rna == ra && rnb == rb,
          "%s time: ref %lld (*t %lld, NULL %lld), kernel %lld (*t %lld, NULL %lld)", p->state,
          (long long)ra, (long long)ta, (long long)rna, (long long)rb, (long long)tb,
          (long long)rnb);
    CHECK(ra == m, "%s time: %lld, model %lld", p->state, (long long)ra, (long long)m);
}

/* --- clock_getres ------------------------------------------------------ */

static void getres_one(const struct diff_pair *p, const struct tk_model_view *v, int32_t clk,
                       bool want_res)
{
    struct vdso_timespec a, b, s;
    struct timespec m;
    enum tk_model_outcome m0 = tk_model_clock_getres(v, clk, want_res ? &m : NULL);
    enum tk_model_outcome o = built_aux(&p->rcfg, clk, m0), ok = built_aux(&p->kcfg, clk, m0);
    long rs;
    int ra, rb;

    count(o);
    diff_stats.getres++;
    memset(&a, SENTINEL, sizeof a);
    memset(&b, SENTINEL, sizeof b);
    memset(&s, SENTINEL, sizeof s);
    if (o == TK_MODEL_SPIN)
        return;
    if (o == TK_MODEL_FAULT) {
        both_fault(p, (struct call){.kind = CALL_GETRES, .clk = clk, .want_a = want_res},
                   "clock_getres");
        return;
    }
    ra = p->ref->clock_getres(clk, want_res ? &a : NULL);
    rb = p->kern->clock_getres(clk, want_res ? &b : NULL);
    if (o != ok) {
        /* One build serves the id, the other asks the syscall: each on its own. */
        diff_stats.config_diff++;
        CHECK((o == TK_MODEL_OK ? ra : rb) == 0, "%s getres clk %d: the serving image returns %d",
              p->state, clk, o == TK_MODEL_OK ? ra : rb);
        return;
    }
    CHECK(ra == rb && !memcmp(&a, &b, sizeof a),
          "%s getres clk %d (res %d): ref %d {%lld, %lld}, kernel %d {%lld, %lld}", p->state, clk,
          want_res, ra, (long long)a.tv_sec, (long long)a.tv_nsec, rb, (long long)b.tv_sec,
          (long long)b.tv_nsec);
    if (o == TK_MODEL_OK) {
        CHECK(ra == 0, "%s getres clk %d: served but returns %d", p->state, clk, ra);
        if (want_res)
            CHECK(a.tv_sec == (int64_t)m.tv_sec && a.tv_nsec == (int64_t)m.tv_nsec,
                  "%s getres clk %d: {%lld, %lld}, model {%lld, %ld}", p->state, clk,
                  (long long)a.tv_sec, (long long)a.tv_nsec, (long long)m.tv_sec, m.tv_nsec);
        return;
    }
    rs = syscall(SYS_clock_getres, clk, want_res ? &s : NULL);
    if (rs < 0)
        rs = -errno;
    CHECK(ra == rs && !memcmp(&a, &s, sizeof a),
          "%s getres clk %d (res %d) fallback: %d {%lld, %lld}, the syscall %ld {%lld, %lld}",
          p->state, clk, want_res, ra, (long long)a.tv_sec, (long long)a.tv_nsec, rs,
          (long long)s.tv_sec, (long long)s.tv_nsec);
}

void diff_clock_getres(const struct diff_pair *p, const struct tk_model_view *v, int32_t clk)
{
    getres_one(p, v, clk, true);
    getres_one(p, v, clk, false);
}

void diff_all(const struct diff_pair *p, const struct tk_model_view *v)
{
    for (unsigned i = 0; i < DIFF_NCLOCKS; i++) {
        diff_clock_gettime(p, v, diff_clock_id(i));
        diff_clock_getres(p, v, diff_clock_id(i));
    }
    diff_gettimeofday(p, v);
    diff_time(p, v);
}
