/*
 * Schedules: their enumeration from a call's unperturbed trace, their text
 * form (for the replay command) and the names of modes, entry points and
 * verdicts. A split point is a store boundary right after a store that
 * writes a word the reader loads: splits inside a run of stores it never
 * loads cannot be told apart by the reader, so one of them stands for all.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore_internal.h"

static const char *const mode_names[EXPLORE_NMODES] = {"tsc", "pvclock", "hvclock", "none",
                                                       "timens"};
static const char *const entry_names[EXPLORE_NENTRIES] = {"clock_gettime", "gettimeofday", "time",
                                                          "clock_getres", "getrandom"};
static const char *const verdict_names[] = {"PASS",    "TORN",     "BAD_TRAP",
                                            "NO_TRAP", "LIVELOCK", "BAD_FAULT"};

const char *explore_mode_name(enum explore_mode m)
{
    return m < EXPLORE_NMODES ? mode_names[m] : "?";
}

int explore_mode_parse(const char *name, enum explore_mode *m)
{
    for (int i = 0; i < EXPLORE_NMODES; i++)
        if (strcmp(name, mode_names[i]) == 0) {
            *m = (enum explore_mode)i;
            return 0;
        }
    return -1;
}

const char *explore_entry_name(enum explore_entry e)
{
    return e < EXPLORE_NENTRIES ? entry_names[e] : "?";
}

int explore_entry_parse(const char *name, enum explore_entry *e)
{
    for (int i = 0; i < EXPLORE_NENTRIES; i++)
        if (strcmp(name, entry_names[i]) == 0) {
            *e = (enum explore_entry)i;
            return 0;
        }
    return -1;
}

const char *explore_verdict_name(enum explore_verdict v)
{
    return (unsigned)v < sizeof verdict_names / sizeof verdict_names[0] ? verdict_names[v] : "?";
}

/* ---- enumeration ---- */

/* The split points of update u for trace base: b in (0, n), ascending. */
static unsigned splits(const struct explore *x, unsigned u, const struct explore_outcome *base,
                       uint16_t *out)
{
    const struct explore_update *up = &x->upd[u];
    unsigned n = 0;

    for (unsigned s = 0; s + 1 < up->nstores; s++) {
        bool read = false;
        for (unsigned i = 0; i < base->ntrace && !read; i++)
            read = explore_hits(x, &base->trace[i], &up->stores[s]);
        if (read)
            out[n++] = (uint16_t)(s + 1);
    }
    return n;
}

struct walk {
    const struct explore *x;
    const struct explore_outcome *base;
    explore_schedule_fn fn;
    void *arg;
    struct explore_schedule s;
};

static void act(struct explore_schedule *s, unsigned at, unsigned u, unsigned from, unsigned to)
{
    s->act[s->nactions++] =
        (struct explore_action){(uint32_t)at, (uint8_t)u, (uint16_t)from, (uint16_t)to};
}

/* Does load a read a word that stores [from, to) of update up write? */
static bool reads_any(const struct explore *x, const struct explore_access *a,
                      const struct explore_update *up, unsigned from, unsigned to)
{
    for (unsigned s = from; s < to; s++)
        if (explore_hits(x, a, &up->stores[s]))
            return true;
    return false;
}

/*
 * Every way of applying update u from load k0 on, after what w->s holds:
 * whole before load k, or stores [0, b) before load k and the rest before
 * a later load j that reads one of their words (a place between two loads
 * that read none is the same to the reader), or before load n, the first
 * load the unperturbed call does not make (so a reader that does not wait
 * finishes with the update still open, and one that waits sees it end). next: called for each with
 * the load after which a following update may start.
 */
typedef int (*then_fn)(struct walk *w, unsigned after);

static int each_way(struct walk *w, unsigned u, unsigned k0, then_fn next)
{
    unsigned n = w->base->ntrace, saved = w->s.nactions, nst = w->x->upd[u].nstores;
    uint16_t sp[EXPLORE_MAX_STORES];
    unsigned nsp = splits(w->x, u, w->base, sp);
    int rc = 0;

    for (unsigned k = k0; k < n && !rc; k++) {
        act(&w->s, k, u, 0, nst);
        rc = next(w, k);
        w->s.nactions = saved;
        for (unsigned i = 0; i < nsp && !rc; i++)
            for (unsigned j = k + 1; j <= n && !rc; j++) {
                if (j < n && !reads_any(w->x, &w->base->trace[j], &w->x->upd[u], sp[i], nst))
                    continue;
                act(&w->s, k, u, 0, sp[i]);
                act(&w->s, j, u, sp[i], nst);
                rc = next(w, j);
                w->s.nactions = saved;
            }
    }
    return rc;
}

static int emit(struct walk *w, unsigned after)
{
    (void)after;
    return w->fn(&w->s, w->arg);
}

static int second(struct walk *w, unsigned after)
{
    if (after >= w->base->ntrace)
        return 0;
    return each_way(w, 1, after, emit);
}

int explore_each_single(const struct explore *x, const struct explore_outcome *base,
                        explore_schedule_fn fn, void *arg)
{
    struct walk w = {.x = x, .base = base, .fn = fn, .arg = arg};
    int rc = 0;

    for (unsigned u = 0; u < x->nupdates && !rc; u++)
        if (x->requires[u] == EXPLORE_NO_REQUIRES)
            rc = each_way(&w, u, 0, emit);
    return rc;
}

int explore_each_pair(const struct explore *x, const struct explore_outcome *base,
                      explore_schedule_fn fn, void *arg)
{
    struct walk w = {.x = x, .base = base, .fn = fn, .arg = arg};

    if (x->nupdates < 2)
        return 0;
    return each_way(&w, 0, 0, second);
}

/* ---- text forms ---- */

void explore_schedule_format(const struct explore_schedule *s, char *buf, size_t len)
{
    size_t n = 0;

    if (!s || !s->nactions) {
        snprintf(buf, len, "-");
        return;
    }
    buf[0] = 0;
    for (unsigned i = 0; i < s->nactions && n < len; i++) {
        const struct explore_action *a = &s->act[i];
        int w = snprintf(buf + n, len - n, "%s%u.%u.%u-%u", i ? "+" : "", a->at, a->update, a->from,
                         a->to);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

static int number(const char **p, unsigned long max, unsigned long *out)
{
    char *end;

    errno = 0;
    if (**p < '0' || **p > '9')
        return -1;
    *out = strtoul(*p, &end, 10);
    if (errno || *out > max)
        return -1;
    *p = end;
    return 0;
}

int explore_schedule_parse(const char *text, struct explore_schedule *s, struct vdsokit_error *err)
{
    const char *p = text;

    memset(s, 0, sizeof *s);
    if (strcmp(text, "-") == 0 || !*text)
        return 0;
    while (*p) {
        unsigned long at, u, from, to;
        if (s->nactions == EXPLORE_MAX_ACTIONS)
            return vdsokit_fail(err, "schedule '%s': more than %d actions", text,
                                EXPLORE_MAX_ACTIONS);
        if (number(&p, EXPLORE_STEP_BUDGET, &at) || *p++ != '.' ||
            number(&p, EXPLORE_MAX_UPDATES - 1, &u) || *p++ != '.' ||
            number(&p, EXPLORE_MAX_STORES, &from) || *p++ != '-' ||
            number(&p, EXPLORE_MAX_STORES, &to) || from > to || (*p && *p != '+'))
            return vdsokit_fail(err,
                                "schedule '%s': expected LOAD.UPDATE.FROM-TO actions joined by '+' "
                                "(update below %d, stores up to %d, FROM <= TO)",
                                text, EXPLORE_MAX_UPDATES, EXPLORE_MAX_STORES);
        s->act[s->nactions++] =
            (struct explore_action){(uint32_t)at, (uint8_t)u, (uint16_t)from, (uint16_t)to};
        if (*p == '+' && !*++p)
            return vdsokit_fail(err, "schedule '%s': an action must follow '+'", text);
    }
    return 0;
}

void explore_trace_format(const struct explore_outcome *o, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = 0;
    for (unsigned i = 0; i < o->ntrace && n + 1 < len; i++) {
        const struct explore_access *a = &o->trace[i];
        int w = snprintf(buf + n, len - n,
                         "#%u page %u +0x%03x %u bytes rip +0x%" PRIx64 " state %u%s\n", a->index,
                         a->reader_page, a->offset, a->size, a->rip, a->published,
                         a->seq_word ? " seq" : "");
        if (w < 0)
            break;
        n += (size_t)w;
    }
}
