/*
 * The result store: a flat array, searched linearly (a run has a few
 * hundred tests per target), merged by (target, id).
 */
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"

static struct conf_result *find(const struct conf_results *rs, unsigned target, const char *id)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->items[i].target == target && strcmp(rs->items[i].id, id) == 0)
            return &rs->items[i];
    return NULL;
}

static struct conf_result *append(struct conf_results *rs)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 256;
        struct conf_result *p = realloc(rs->items, cap * sizeof(*p));
        if (!p) {
            fprintf(stderr, "vdsoconf: out of memory for results\n");
            exit(2);
        }
        rs->items = p;
        rs->cap = cap;
    }
    struct conf_result *r = &rs->items[rs->n++];
    memset(r, 0, sizeof(*r));
    return r;
}

/* Evidence and unwaivable reasons accumulate over every failing run. */
static void merge_failure(struct conf_result *r, const struct conf_record *rec)
{
    r->hard |= rec->hard;
    if (rec->evidence && *rec->evidence && ev_merge(&r->evidence, rec->evidence) != 0)
        r->hard |= CONF_HARD_PROSE; /* too much to match exactly: never waivable */
    if (!rec->evidence || !*rec->evidence)
        r->hard |= CONF_HARD_PROSE;
}

void results_add(struct conf_results *rs, unsigned target, unsigned group, const char *id,
                 enum conf_status status, const struct conf_record *rec)
{
    static const struct conf_record none;
    struct conf_result *r = find(rs, target, id);

    if (!rec)
        rec = &none;
    if (!r) {
        r = append(rs);
        r->target = target;
        r->group = group;
        snprintf(r->id, sizeof(r->id), "%s", id);
        r->status = status;
    }
    r->runs++;
    if (status == CONF_FAIL) {
        r->failures++;
        merge_failure(r, rec);
    }
    if (rec->host_finding && !r->host_finding)
        r->host_finding = strdup(rec->host_finding);
    /* Keep the evidence of the first failure; a skip reason until then. */
    const char *text = rec->text;
    bool take = text && *text && (!r->text || (status == CONF_FAIL && r->status != CONF_FAIL));
    if (status > r->status)
        r->status = status;
    if (take) {
        free(r->text);
        r->text = strdup(text);
    }
    /* The counts belong to the run whose evidence is shown (the first failing one). */
    if (rec->metrics && *rec->metrics && (take || !r->metrics)) {
        free(r->metrics);
        r->metrics = strdup(rec->metrics);
    }
}

void results_tally(struct conf_results *rs)
{
    for (unsigned t = 0; t < CONF_MAX_TARGETS; t++)
        for (unsigned g = 0; g < CONF_MAX_GROUPS; g++)
            memset(rs->cells[t][g].count, 0, sizeof(rs->cells[t][g].count));
    for (size_t i = 0; i < rs->n; i++) {
        struct conf_result *r = &rs->items[i];
        rs->cells[r->target][r->group].count[r->status]++;
    }
}

void results_free(struct conf_results *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->items[i].text);
        free(rs->items[i].evidence);
        free(rs->items[i].host_finding);
        free(rs->items[i].waiver_note);
        free(rs->items[i].metrics);
    }
    free(rs->items);
    memset(rs, 0, sizeof(*rs));
}

unsigned conf_cell_total(const struct conf_cell *c)
{
    unsigned n = 0;

    for (int s = 0; s < CONF_NSTATUS; s++)
        n += c->count[s];
    return n;
}

bool conf_cell_not_tested(const struct conf_cell *c)
{
    unsigned total = conf_cell_total(c);

    return c->ran && total > 0 && c->count[CONF_SKIP] == total;
}

const char *conf_status_name(enum conf_status s)
{
    switch (s) {
    case CONF_PASS:
        return "PASS";
    case CONF_SKIP:
        return "SKIP";
    case CONF_WAIVED:
        return "WAIVED";
    case CONF_NOTRUN:
        return "NOT RUN";
    case CONF_FAIL:
        return "FAIL";
    case CONF_NSTATUS:
        break;
    }
    return "?";
}

const char *conf_hard_reason(unsigned hard)
{
    if (hard & CONF_HARD_SIGNAL)
        return "a crash (signal) is never waived";
    if (hard & CONF_HARD_DEADLINE)
        return "a deadline (hang) is never waived";
    if (hard & CONF_HARD_EXIT)
        return "a test that never ended (its process exited or died) is never waived";
    if (hard & CONF_HARD_PROSE)
        return "a failure without structured evidence is never waived";
    return NULL;
}
