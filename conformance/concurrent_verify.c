/*
 * Group 4's verifier (see concurrent_verify.h): the storm engine hands it
 * each reading and the monotonic mark it took before the call, and gets a
 * verdict with the evidence. A result is exact or it is wrong: for each
 * candidate state the counter range the vDSO could have read is derived
 * from the reader's raw TSC reads and the counter pages it saw before and
 * after (in the state's own clock mode, never below the state's
 * cycle_last, because a correct vDSO reads the counter after it saw the
 * state), and a binary search finds whether some counter in that range
 * gives exactly the result; the model is monotonic in the counter for a
 * fixed state, so the search is exact. A fallback is proven, not guessed:
 * the hermetic trap counts the reader's syscalls, so a trapped call must
 * be one the model says falls back and must return the emulated kernel's
 * answer, and an untrapped one must be served. A regression of a
 * monotonic clock is explained, where the scenario allows it, by the model
 * of both states at the earlier reading's counter.
 */
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "concurrent_verify.h"
#include "oracle.h"
#include <vdsokit/counter.h>

/* How long a reader waits for an update in flight to commit: the writer
 * thread is not pinned and can be preempted mid-update (a wait of 20000
 * yields gave up in 4 of 150 quick runs of second_boundary with one core
 * busy; this bound in 0 of 150). */
#define IN_FLIGHT_WAIT_NS (2 * NSEC_PER_SEC)

struct counter_range {
    bool usable;       /* some counter value can be read in this mode */
    bool may_fallback; /* the vDSO may find the counter invalid and fall back */
    uint64_t lo, hi;
};

static void widen(struct counter_range *cr, uint64_t a, uint64_t b)
{
    a &= COUNTER_MASK;
    b &= COUNTER_MASK;
    if (!cr->usable) {
        cr->lo = a;
        cr->hi = b;
        cr->usable = true;
        return;
    }
    if (a < cr->lo)
        cr->lo = a;
    if (b > cr->hi)
        cr->hi = b;
}

/*
 * The counter values a vDSO could read in mode `mode` with the TSC in
 * [t0, t1] (a mode's counter is monotonic in the TSC for one page, and the
 * page may be either one the reader saw).
 */
static struct counter_range range_for(const struct conc_reading *r, int32_t mode, uint64_t t0,
                                      uint64_t t1)
{
    struct counter_range cr = {0};

    if (mode == VDSO_CLOCKMODE_TSC) {
        widen(&cr, t0, t1);
    } else if (mode == VDSO_CLOCKMODE_PVCLOCK) {
        const struct pvclock_vcpu_time_info *pv[2] = {&r->pv0, &r->pv1};
        for (int i = 0; i < 2; i++) {
            if (pv[i]->flags & PVCLOCK_TSC_STABLE_BIT)
                widen(&cr, counter_pvclock_scale(pv[i], t0), counter_pvclock_scale(pv[i], t1));
            else
                cr.may_fallback = true;
        }
    } else if (mode == VDSO_CLOCKMODE_HVCLOCK) {
        const struct ms_hyperv_tsc_page *hv[2] = {&r->hv0, &r->hv1};
        for (int i = 0; i < 2; i++) {
            if (hv[i]->tsc_sequence)
                widen(&cr, counter_hvclock_scale(hv[i], t0), counter_hvclock_scale(hv[i], t1));
            else
                cr.may_fallback = true;
        }
    } else {
        cr.may_fallback = true;
    }
    /* A page broken as the call began, or that broke and healed within it:
     * neither snapshot need show it. */
    if (((r->breaks0 & 1) || r->breaks1 != r->breaks0) &&
        (mode == VDSO_CLOCKMODE_PVCLOCK || mode == VDSO_CLOCKMODE_HVCLOCK))
        cr.may_fallback = true;
    return cr;
}

/* The model's answer for r's entry point in state e at counter c. */
static enum tk_model_outcome model_value(struct vdso_loaded *l, const struct tk_log_entry *e,
                                         const struct conc_reading *r, uint64_t c, int64_t *out)
{
    struct tk_model_view v = conf_inproc_view(l, e, c);
    enum tk_model_outcome o;
    struct timespec ts = {0};
    struct timeval tv = {0};
    int64_t t = 0;

    /* Where the model does not serve it leaves the result unwritten. */
    if (r->op == CONC_CLOCK) {
        o = tk_model_clock_gettime(&v, r->clk, &ts);
        *out = o == TK_MODEL_OK ? ts_ns(&ts) : 0;
    } else if (r->op == CONC_GETTIMEOFDAY) {
        o = tk_model_gettimeofday(&v, &tv, NULL);
        *out = o == TK_MODEL_OK ? tv_us(&tv) : 0;
    } else {
        o = tk_model_time(&v, &t);
        *out = o == TK_MODEL_OK ? t : 0;
    }
    return o;
}

/* Is there a counter in [lo, hi] at which state e gives exactly r? */
static bool match_in_range(struct vdso_loaded *l, const struct tk_log_entry *e,
                           const struct conc_reading *r, uint64_t lo, uint64_t hi)
{
    int64_t v;

    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (model_value(l, e, r, mid, &v) != TK_MODEL_OK)
            return false;
        if (v < r->value_ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return model_value(l, e, r, lo, &v) == TK_MODEL_OK && v == r->value_ns;
}

/*
 * cr: the admissible counters (the window); reader_hi: the top of the
 * counters the reader's own reads allow, which the window may cut short at
 * the state's supersede point.
 */
struct judged {
    enum tk_model_outcome outcome;
    struct counter_range cr;
    int64_t at_lo, at_hi; /* the model over [cr.lo, reader_hi] */
    bool matched;
    uint64_t reader_hi;
    bool windowed;      /* the state ended (superseded + skew) before reader_hi */
    uint64_t end_tsc;   /* then: the TSC of its end, supersede point plus skew */
    bool ended_before;  /* ... and that was before the call began */
    bool only_past_end; /* the result matches only at a counter past the end */
};

/* time() and the coarse clocks return a base: no counter read to order. */
static bool reads_counter(const struct conc_reading *r)
{
    return r->op == CONC_GETTIMEOFDAY ||
           (r->op == CONC_CLOCK && !(vdso_clock_bit(r->clk) & VDSO_COARSE));
}

/*
 * The end of e's time window for r, as a TSC: the supersede point plus the
 * skew, when it falls before the reader's last read. Only entry points that
 * re-check the seq have one: time() reads its seconds without a seq, and
 * may still read a state after the next update made the seq odd.
 */
static bool window_end(const struct tk_log_entry *e, const struct conc_reading *r, uint64_t *end)
{
    if (r->op == CONC_TIME || e->superseded_tsc == TK_NOT_SUPERSEDED)
        return false;
    *end = e->superseded_tsc > UINT64_MAX - r->skew ? UINT64_MAX : e->superseded_tsc + r->skew;
    return *end < r->tsc1;
}

/*
 * Cut j's range at the state's end (docs/abi.md §2.2): a vDSO whose seq
 * re-check passed read its counter before the writer's supersede point
 * (up to the skew), so a match only past it is no match. The range before
 * the cut is kept for the evidence (only_past_end).
 */
static void cut_at_end(struct vdso_loaded *l, const struct tk_log_entry *e,
                       const struct conc_reading *r, struct judged *j)
{
    int32_t mode = e->data.clock_data[0].clock_mode;

    j->windowed = window_end(e, r, &j->end_tsc);
    if (!j->windowed)
        return;
    j->ended_before = j->end_tsc < r->tsc0;
    uint64_t top = j->ended_before ? 0 : range_for(r, mode, r->tsc0, j->end_tsc).hi;
    if (!j->cr.usable) {
        /* No counter range (a coarse clock on a NONE state, say): all or nothing. */
        j->only_past_end = j->ended_before && j->matched;
        j->matched &= !j->ended_before;
        return;
    }
    if (j->ended_before || top < j->cr.lo) {
        j->only_past_end = j->matched;
        j->matched = false;
        j->cr.hi = j->cr.lo; /* empty: nothing below the end */
        return;
    }
    if (top >= j->cr.hi)
        return;
    j->cr.hi = top;
    if (j->matched) {
        j->matched = match_in_range(l, e, r, j->cr.lo, top);
        j->only_past_end = !j->matched;
    }
}

static struct judged judge_state(struct vdso_loaded *l, const struct tk_log_entry *e,
                                 const struct conc_reading *r)
{
    struct judged j = {0};
    int32_t mode = e->data.clock_data[0].clock_mode;

    j.cr = range_for(r, mode, r->tsc0, r->tsc1);
    /*
     * A correct vDSO reads the counter after it saw the state, unless the
     * scenario publishes a cycle_last ahead of the counter on purpose (as a
     * CPU whose TSC leads would): then any counter is admissible and the
     * model clamps the negative delta.
     */
    uint64_t cl = r->lead_ok ? 0 : e->data.clock_data[0].cycle_last;
    if (j.cr.usable && cl > j.cr.lo && cl <= j.cr.hi)
        j.cr.lo = cl;
    j.reader_hi = j.cr.hi;
    uint64_t probe = j.cr.usable ? j.cr.lo : COUNTER_INVALID;
    j.outcome = model_value(l, e, r, probe, &j.at_lo);
    if (j.outcome != TK_MODEL_OK)
        return j;
    model_value(l, e, r, j.cr.usable ? j.cr.hi : probe, &j.at_hi);
    if (j.cr.usable && cl > j.cr.hi && reads_counter(r)) {
        j.outcome = TK_MODEL_SPIN; /* inadmissible: published after the reader's last read */
        return j;
    }
    j.matched = j.cr.usable ? match_in_range(l, e, r, j.cr.lo, j.cr.hi) : j.at_lo == r->value_ns;
    cut_at_end(l, e, r, &j);
    return j;
}

static void describe_reading(const struct conc_reading *r, char *why, size_t len)
{
    static const char *const ops[] = {"clock_gettime", "gettimeofday (us)", "time (s)"};
    char buf[32];

    snprintf(why, len,
             "%s(%s) returned %d, value %" PRId64 "; generation [%" PRIu64 ", %" PRIu64
             "]; TSC [%" PRIu64 ", %" PRIu64 "]",
             ops[r->op], r->op == CONC_CLOCK ? clock_name(r->clk, buf, sizeof(buf)) : "", r->ret,
             r->value_ns, r->gen0, r->gen1, r->tsc0, r->tsc1);
    size_t n = strlen(why);
    if (r->traps)
        snprintf(why + n, len - n,
                 "; trapped %" PRIu64
                 " syscall(s), the emulated kernel answered %ld, value %" PRId64 " (state %" PRIu64
                 ")",
                 r->traps, r->trap_ret, r->trap_value, r->trap_generation);
    else
        snprintf(why + n, len - n, "; no syscall trapped");
}

static const char *candidate_outcome(const struct judged *j)
{
    if (j->outcome == TK_MODEL_SPIN)
        return "inadmissible (cycle_last above the reader's counter)";
    if (j->only_past_end)
        return "MATCHES ONLY PAST ITS SUPERSEDE POINT";
    if (j->ended_before)
        return "superseded before the call began";
    return tk_model_outcome_name(j->outcome);
}

static void describe_candidate(const struct tk_log_entry *e, const struct judged *j,
                               const struct conc_reading *r, char *why, size_t len)
{
    size_t n = strlen(why);

    snprintf(why + n, len - n,
             "\n  state %" PRIu64 " (mode %d, cycle_last %" PRIu64 ", mult %u, shift %u): %s, "
             "counter [%" PRIu64 ", %" PRIu64 "]%s, model %" PRId64 " .. %" PRId64,
             e->generation, e->data.clock_data[0].clock_mode, e->data.clock_data[0].cycle_last,
             e->data.clock_data[0].mult, e->data.clock_data[0].shift, candidate_outcome(j),
             j->cr.lo, j->reader_hi, j->cr.may_fallback ? " or invalid" : "", j->at_lo, j->at_hi);
    if (!j->windowed)
        return;
    n = strlen(why);
    if (j->ended_before)
        snprintf(why + n, len - n,
                 "; window empty: superseded at TSC %" PRIu64 " (+ skew %" PRIu64 " = %" PRIu64
                 ") before the call began at TSC %" PRIu64,
                 e->superseded_tsc, r->skew, j->end_tsc, r->tsc0);
    else
        snprintf(why + n, len - n,
                 "; window [%" PRIu64 ", %" PRIu64 "]: superseded at TSC %" PRIu64
                 " (+ skew %" PRIu64 " = %" PRIu64 ")",
                 j->cr.lo, j->cr.hi, e->superseded_tsc, r->skew, j->end_tsc);
}

/*
 * Wait for the update in flight after gen to commit; true once it has. The
 * writer may be preempted in the middle of an update for several ms on a
 * loaded machine (the readers are pinned, it is not), so the wait is
 * bounded in time, not in yields, and sleeps once yielding did not help.
 */
static bool in_flight_committed(struct vdso_loaded *l, uint64_t gen)
{
    const struct timespec nap = {.tv_nsec = 20 * NSEC_PER_USEC};
    int64_t give_up = mono_now_ns() + IN_FLIGHT_WAIT_NS;

    for (unsigned i = 0; tk_generation(l->tk) <= gen; i++) {
        if (mono_now_ns() > give_up)
            return false;
        if (i < 1000)
            sched_yield();
        else
            nanosleep(&nap, NULL);
    }
    return true;
}

/* Candidate states: [gen0, gen1], and for time() (no seq loop) gen1 + 1. */
static size_t candidates(struct vdso_loaded *l, const struct conc_reading *r,
                         struct tk_log_entry *buf, bool *complete)
{
    uint64_t hi = r->gen1;
    bool lost = false;

    /* time() may see the seconds of the update in flight. */
    if (r->op == CONC_TIME && r->in_flight) {
        if (in_flight_committed(l, r->gen1))
            hi++;
        else
            lost = true; /* the state it may have read is not known: unverifiable */
    }
    uint64_t want = hi - r->gen0 + 1;
    if (want > TK_LOG_ENTRIES) {
        *complete = false;
        return tk_log_copy(l->tk, hi - TK_LOG_ENTRIES + 1, hi, buf, TK_LOG_ENTRIES);
    }
    size_t n = tk_log_copy(l->tk, r->gen0, hi, buf, TK_LOG_ENTRIES);
    *complete = n == want && !lost;
    return n;
}

/* More than one entry into PVCLOCK or HVCLOCK: a counter page the reader never saw. */
static bool pages_reprogrammed_twice(const struct tk_log_entry *buf, size_t n)
{
    unsigned entries = 0;

    for (size_t i = 1; i < n; i++) {
        int32_t a = buf[i - 1].data.clock_data[0].clock_mode;
        int32_t b = buf[i].data.clock_data[0].clock_mode;
        entries += a != b && (b == VDSO_CLOCKMODE_PVCLOCK || b == VDSO_CLOCKMODE_HVCLOCK);
    }
    return entries > 1;
}

/*
 * A call may fall back on the clock mode of the update in flight when it
 * returned: the reader goes to the syscall as soon as it reads a mode it
 * cannot serve, without re-checking the seq (as the kernel's does). That
 * state may explain a fallback, never a served value.
 */
static bool in_flight_falls_back(struct vdso_loaded *l, const struct conc_reading *r)
{
    struct tk_log_entry e;

    if (!r->in_flight || r->op == CONC_TIME || !in_flight_committed(l, r->gen1) ||
        tk_log_copy(l->tk, r->gen1 + 1, r->gen1 + 1, &e, 1) != 1)
        return false;
    struct judged j = judge_state(l, &e, r);

    return j.outcome == TK_MODEL_FALLBACK || j.cr.may_fallback;
}

/*
 * A trapped call is a fallback: one syscall, its answer returned as is,
 * and a candidate state (or the update in flight) in which the vDSO falls
 * back. Anything else about a trap is wrong, whatever the value.
 */
static bool returned_trap_answer(const struct conc_reading *r)
{
    return r->traps == 1 && (long)r->ret == r->trap_ret &&
           (r->ret != 0 || r->value_ns == r->trap_value);
}

static bool proven_fallback(struct vdso_loaded *l, const struct conc_reading *r,
                            bool fallback_possible)
{
    return returned_trap_answer(r) && (fallback_possible || in_flight_falls_back(l, r));
}

static const char *wrong_reason(const struct conc_reading *r, bool fallback_possible)
{
    if (r->traps > 1)
        return "one call made several syscalls";
    if (r->traps && !fallback_possible)
        return "the call trapped (a syscall) but no candidate state falls back: it should "
               "have been served";
    if (r->traps)
        return "the call trapped but did not return the emulated kernel's answer";
    if (fallback_possible)
        return "a candidate falls back, but no syscall was trapped and no served state "
               "gives this value: computed, not the syscall's";
    return "no candidate state gives this value";
}

enum conc_verdict conc_verify(struct vdso_loaded *l, const struct conc_reading *r,
                              struct tk_log_entry *buf, struct conc_match *m, char *why, size_t len)
{
    bool complete;
    size_t n = candidates(l, r, buf, &complete);
    bool fallback_possible = false;

    for (size_t i = n; i-- > 0;) {
        struct judged j = judge_state(l, &buf[i], r);
        if (!r->traps && r->ret == 0 && j.matched) {
            m->generation = buf[i].generation;
            m->counter_hi = j.cr.hi;
            return CONC_SERVED;
        }
        fallback_possible |= j.outcome == TK_MODEL_FALLBACK || j.cr.may_fallback;
    }
    if (r->traps && proven_fallback(l, r, fallback_possible))
        return CONC_FALLBACK;
    /* A lost candidate may be the one that served it or fell back. */
    if ((!complete || n == 0 || pages_reprogrammed_twice(buf, n) || r->seq_may_repeat) &&
        (!r->traps || returned_trap_answer(r)))
        return CONC_UNVERIFIABLE;
    describe_reading(r, why, len);
    size_t shown = 0;
    for (size_t i = n; i-- > 0 && shown < 4; shown++) {
        struct judged j = judge_state(l, &buf[i], r);
        describe_candidate(&buf[i], &j, r, why, len);
    }
    size_t k = strlen(why);
    snprintf(why + k, len - k, "\n  %s", wrong_reason(r, fallback_possible));
    return CONC_WRONG;
}

/*
 * The model's value (ns) of clock clk in logged state `generation` at
 * counter c; false if the state is gone or the model does not serve.
 */
static bool model_at(struct vdso_loaded *l, uint64_t generation, clockid_t clk, uint64_t c,
                     int64_t *ns)
{
    struct tk_log_entry e;

    if (tk_log_copy(l->tk, generation, generation, &e, 1) != 1)
        return false;
    struct conc_reading r = {.op = CONC_CLOCK, .clk = clk};
    return model_value(l, &e, &r, c, ns) == TK_MODEL_OK;
}

/* How far the model lets clock clk regress from mark a to a reading in state gb. */
static int64_t explained_regression(struct vdso_loaded *l, clockid_t clk, const struct conc_mark *a,
                                    uint64_t gb)
{
    int64_t va, vb;

    if (!a->verified || gb == a->generation ||
        !model_at(l, a->generation, clk, a->counter_hi, &va) ||
        !model_at(l, gb, clk, a->counter_hi, &vb))
        return 0;
    /* Different counter domains: each switch may round by a nanosecond. */
    struct tk_log_entry ea, eb;
    tk_log_copy(l->tk, a->generation, a->generation, &ea, 1);
    tk_log_copy(l->tk, gb, gb, &eb, 1);
    if (ea.data.clock_data[0].clock_mode != eb.data.clock_data[0].clock_mode)
        return 2;
    return va - vb + 1; /* plus the model's own truncation */
}

/* Whether state `generation` is still in the timekeeper's log (it keeps the newest 256). */
static bool in_log(struct vdso_loaded *l, uint64_t generation)
{
    struct tk_log_entry e;

    return tk_log_copy(l->tk, generation, generation, &e, 1) == 1;
}

enum conc_mono_verdict conc_verify_monotonic(struct vdso_loaded *l, enum conc_mono_policy policy,
                                             const struct conc_reading *r, bool verified,
                                             const struct conc_match *m,
                                             const struct conc_mark *before, int64_t *back,
                                             char *why, size_t len)
{
    *back = 0;
    if (!before->set || r->value_ns >= before->value)
        return CONC_MONO_OK;
    *back = before->value - r->value_ns;
    /*
     * A regression the era's wrap explains (pre-6.10 images) can stand
     * below the mark for seconds, longer than the log keeps the mark's
     * state: once that state is gone the model cannot say either way.
     */
    if (policy == CONC_MONO_EXPLAIN && verified && before->verified &&
        !in_log(l, before->generation))
        return CONC_MONO_STALE;
    int64_t allow = 0;
    if (policy == CONC_MONO_EXPLAIN && verified)
        allow = explained_regression(l, r->clk, before, m->generation);
    if (*back <= allow)
        return CONC_MONO_EXPLAINED;
    if (policy == CONC_MONO_EXPLAIN && (!verified || !before->verified))
        return CONC_MONO_UNATTRIBUTED; /* a regression we cannot attribute either way */
    char buf[32];
    snprintf(why, len,
             "%s went back %lld ns: %lld (state %llu) after %lld (state %llu, counter "
             "<= %llu) that was complete before the call began; the model of the two "
             "states explains %lld ns",
             clock_name(r->clk, buf, sizeof(buf)), (long long)*back, (long long)r->value_ns,
             (unsigned long long)(verified ? m->generation : 0), (long long)before->value,
             (unsigned long long)before->generation, (unsigned long long)before->counter_hi,
             (long long)allow);
    return CONC_MONO_WRONG;
}
