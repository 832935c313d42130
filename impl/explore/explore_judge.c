/*
 * The explorer's oracle. The protocol allows exactly one time state for a
 * call: the last one completely published before the sequence load that
 * ended its read section (the call's last load of a seq word the time
 * updates write). A call with no such load (time(), getres) may show any
 * state complete between its first load and its last, or the one its last
 * load saw half-written (its words are single stores). For that state the
 * result must equal the 128-bit model (tk_model.h) at some counter the
 * call could have read: from the counter at its start to the counter at
 * its end, or at the moment the next update's first store landed if that
 * came first (a reader whose re-check passed read its counter before it),
 * in the mode's own counter over every counter page it may have seen (the
 * model is monotonic in the counter for one state, so a binary search
 * decides). Where that state falls back, the call must have made exactly
 * one syscall and returned the emulated kernel's answer to it; a Hyper-V
 * page seen invalid (sequence 0) also allows the fallback.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <vdsokit/counter.h>
#include <vdsokit/tk_model.h>

#include "explore_internal.h"

struct value {
    int ret;
    int64_t sec, frac;
};

static int cmp(const struct value *a, const struct value *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    return a->frac < b->frac ? -1 : a->frac > b->frac;
}

static enum tk_model_outcome model(const struct explore *x, unsigned j,
                                   const struct explore_call *c, uint64_t counter, struct value *v)
{
    bool ns = x->mode == EXPLORE_TIMENS;
    struct tk_model_view view = {.page0 = ns ? &x->ns_page : &x->state[j],
                                 .real = ns ? &x->state[j] : NULL,
                                 .counter = counter & COUNTER_MASK,
                                 .low_res_nsec = x->low_res_nsec,
                                 .delta = x->l->delta};
    struct timespec ts = {0, 0};
    struct timeval tv = {0, 0};
    int64_t t = 0;
    enum tk_model_outcome o;

    v->ret = 0;
    switch (c->entry) {
    case EXPLORE_GETTIME:
        o = tk_model_clock_gettime(&view, c->clk, &ts);
        break;
    case EXPLORE_GETTIMEOFDAY:
        o = tk_model_gettimeofday(&view, &tv, NULL);
        break;
    case EXPLORE_TIME:
        o = tk_model_time(&view, &t);
        break;
    default:
        o = tk_model_clock_getres(&view, c->clk, &ts);
        break;
    }
    v->sec = c->entry == EXPLORE_GETTIMEOFDAY ? tv.tv_sec
             : c->entry == EXPLORE_TIME       ? t
                                              : ts.tv_sec;
    v->frac = c->entry == EXPLORE_GETTIMEOFDAY ? tv.tv_usec
              : c->entry == EXPLORE_TIME       ? 0
                                               : ts.tv_nsec;
    return o;
}

static bool reads_counter(const struct explore_call *c)
{
    return c->entry == EXPLORE_GETTIMEOFDAY ||
           (c->entry == EXPLORE_GETTIME && (vdso_clock_bit(c->clk) & (VDSO_HRES | VDSO_RAW)));
}

/* The counters of the mode at TSC values [t0, t1] over the pages the call may have seen. */
static void counter_range(const struct explore *x, const struct explore_record *r, uint64_t t0,
                          uint64_t t1, uint64_t *lo, uint64_t *hi)
{
    *lo = t0;
    *hi = t1;
    for (int i = 0; i < 2; i++) {
        uint64_t a, b;
        if (x->mode == EXPLORE_PVCLOCK) {
            a = counter_pvclock_scale(&x->pv[i], t0);
            b = counter_pvclock_scale(&x->pv[i], t1);
        } else if (x->mode == EXPLORE_HVCLOCK) {
            a = counter_hvclock_scale(&x->hv[i], t0);
            b = counter_hvclock_scale(&x->hv[i], t1);
        } else {
            return;
        }
        if (i == 0 || a < *lo)
            *lo = a;
        if (i == 0 || b > *hi)
            *hi = b;
        if (!r->applied[1])
            break; /* the page never changed */
    }
    *lo &= COUNTER_MASK;
    *hi &= COUNTER_MASK;
}

/* Does some counter in [lo, hi] give exactly want? */
static bool match(const struct explore *x, unsigned j, const struct explore_call *c, uint64_t lo,
                  uint64_t hi, const struct value *want)
{
    struct value v;

    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (model(x, j, c, mid, &v) != TK_MODEL_OK)
            return false;
        if (cmp(&v, want) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return model(x, j, c, lo, &v) == TK_MODEL_OK && cmp(&v, want) == 0;
}

static bool hv_invalid_seen(const struct explore *x, const struct explore_record *r,
                            const struct explore_outcome *o)
{
    if (x->mode != EXPLORE_HVCLOCK)
        return false;
    for (unsigned i = 0; i < o->ntrace; i++)
        if ((r->open[i] & 2) && x->reader_map[o->trace[i].reader_page] == DATAPAGES_FILE_HVCLOCK &&
            o->trace[i].offset == 0)
            return true;
    return false;
}

static bool trap_answer_matches(const struct explore_call *c, const struct explore_record *r,
                                const struct explore_outcome *o)
{
    const struct loader_trap_record *t = &r->last_trap;

    if (o->ret != t->ret)
        return false;
    if (t->ret < 0)
        return true;
    switch (c->entry) {
    case EXPLORE_GETTIMEOFDAY:
        return o->sec == t->tv.tv_sec && o->frac == t->tv.tv_usec;
    case EXPLORE_TIME:
        return o->sec == t->t;
    default:
        return o->sec == t->ts.tv_sec && o->frac == t->ts.tv_nsec;
    }
}

/*
 * The TSC at which state j stopped being current for this call: when the
 * next update made the seq word of the call's last seq load odd (any
 * word's, for a call with none); the call's end if that never happened.
 */
static uint64_t state_end(const struct explore *x, unsigned j, const struct explore_record *r,
                          const struct explore_outcome *o)
{
    uint64_t end = r->tsc1;
    int last = -1;

    for (unsigned i = 0; i < o->ntrace; i++)
        if (o->trace[i].seq_word)
            last = (int)i;
    for (unsigned u = 0; u < x->nupdates; u++) {
        if (x->publishes[u] != j + 1)
            continue;
        uint64_t t = r->store_tsc[u][last < 0 ? 0 : r->seq_store[last]];
        if (t && t < end)
            end = t;
    }
    return end;
}

static enum explore_verdict judge_state(const struct explore *x, unsigned j,
                                        const struct explore_call *c,
                                        const struct explore_record *r, struct explore_outcome *o,
                                        char *why, size_t len)
{
    uint64_t lo, hi;
    struct value got = {(int)o->ret, o->sec, o->frac}, at_lo, at_hi;

    counter_range(x, r, r->tsc0, reads_counter(c) ? state_end(x, j, r, o) : r->tsc1, &lo, &hi);
    enum tk_model_outcome m = model(x, j, c, lo, &at_lo);
    model(x, j, c, hi, &at_hi);
    if (r->traps) {
        if (m != TK_MODEL_FALLBACK && !hv_invalid_seen(x, r, o)) {
            snprintf(why, len,
                     "state %u serves this call (%" PRId64 ".%09" PRId64 "), but it made %" PRIu64
                     " syscall(s)",
                     j, at_lo.sec, at_lo.frac, r->traps);
            return EXPLORE_BAD_TRAP;
        }
        if (r->traps != 1 || !trap_answer_matches(c, r, o)) {
            snprintf(why, len,
                     "state %u falls back; the call made %" PRIu64
                     " syscall(s) and returned %ld %" PRId64 ".%09" PRId64
                     ", the emulated kernel answered %ld",
                     j, r->traps, o->ret, o->sec, o->frac, r->last_trap.ret);
            return EXPLORE_BAD_TRAP;
        }
        return EXPLORE_PASS;
    }
    if (m != TK_MODEL_OK) {
        snprintf(why, len,
                 "state %u: the model says %s, but the call served %ld %" PRId64 ".%09" PRId64
                 " without a syscall",
                 j, tk_model_outcome_name(m), o->ret, o->sec, o->frac);
        return EXPLORE_NO_TRAP;
    }
    bool ret_ok = c->entry == EXPLORE_TIME ? o->ret == o->sec : o->ret == 0;
    if (ret_ok && (reads_counter(c) ? match(x, j, c, lo, hi, &got) : cmp(&at_lo, &got) == 0))
        return EXPLORE_PASS;
    snprintf(why, len,
             "state %u at counters [%" PRIu64 ", %" PRIu64 "] gives %" PRId64 ".%09" PRId64
             " .. %" PRId64 ".%09" PRId64 "; the call returned %ld %" PRId64 ".%09" PRId64,
             j, lo, hi, at_lo.sec, at_lo.frac, at_hi.sec, at_hi.frac, o->ret, o->sec, o->frac);
    return EXPLORE_TORN;
}

/* The states the protocol allows: [*lo, *hi]. */
static void allowed(const struct explore *x, const struct explore_record *r,
                    const struct explore_outcome *o, unsigned *lo, unsigned *hi)
{
    *lo = *hi = 0;
    for (unsigned i = o->ntrace; i-- > 0;)
        if (o->trace[i].seq_word) {
            *lo = *hi = o->trace[i].published;
            return;
        }
    if (!o->ntrace)
        return;
    const struct explore_access *last = &o->trace[o->ntrace - 1];
    *lo = o->trace[0].published;
    *hi = last->published;
    for (unsigned u = 0; u < x->nupdates; u++)
        if ((r->open[o->ntrace - 1] & (1u << u)) && x->upd[u].kind == EXPLORE_UPDATE_TIME)
            *hi = x->publishes[u];
}

/*
 * A syscall is never a wrong answer in itself: a reader may give up on any
 * state it saw falling back, validated or not (the kernel's own reader
 * returns to the syscall on a NONE mode before its re-check). The states a
 * call may have seen: from the first load's to the newest any load saw
 * complete or in the making.
 */
static void seen(const struct explore *x, const struct explore_record *r,
                 const struct explore_outcome *o, unsigned *lo, unsigned *hi)
{
    *lo = *hi = o->ntrace ? o->trace[0].published : 0;
    for (unsigned i = 0; i < o->ntrace; i++) {
        if (o->trace[i].published > *hi)
            *hi = o->trace[i].published;
        for (unsigned u = 0; u < x->nupdates; u++)
            if ((r->open[i] & (1u << u)) && x->upd[u].kind == EXPLORE_UPDATE_TIME &&
                x->publishes[u] > *hi)
                *hi = x->publishes[u];
    }
}

void explore_judge(const struct explore *x, const struct explore_call *c,
                   const struct explore_schedule *s, const struct explore_record *r,
                   struct explore_outcome *o)
{
    unsigned lo, hi;
    (void)s;

    o->why[0] = 0;
    if (r->bad_fault || r->livelock) {
        o->verdict = r->bad_fault ? EXPLORE_BAD_FAULT : EXPLORE_LIVELOCK;
        snprintf(o->why, sizeof o->why, "%s after %u loads",
                 r->bad_fault ? "a load from an unmapped data page" : "still running", o->ntrace);
        return;
    }
    if (r->traps)
        seen(x, r, o, &lo, &hi);
    else
        allowed(x, r, o, &lo, &hi);
    for (unsigned j = lo; j <= hi; j++) {
        o->state = j;
        o->verdict = judge_state(x, j, c, r, o, o->why, sizeof o->why);
        if (o->verdict == EXPLORE_PASS)
            return;
    }
}
