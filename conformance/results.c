/*
 * The result store: a flat array, searched linearly (a run has a few
 * hundred tests per target), merged by (target, id).
 */
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct conf_result *find(struct conf_results *rs, unsigned target, const char *id)
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

void results_add(struct conf_results *rs, unsigned target, unsigned group, const char *id,
                 enum conf_status status, const char *text)
{
    struct conf_result *r = find(rs, target, id);

    if (!r) {
        r = append(rs);
        r->target = target;
        r->group = group;
        snprintf(r->id, sizeof(r->id), "%s", id);
        r->status = status;
    }
    r->runs++;
    if (status == CONF_FAIL)
        r->failures++;
    /* Keep the evidence of the first failure; a skip reason until then. */
    bool take = text && *text && (!r->text || (status == CONF_FAIL && r->status != CONF_FAIL));
    if (status > r->status)
        r->status = status;
    if (take) {
        free(r->text);
        r->text = strdup(text);
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
    for (size_t i = 0; i < rs->n; i++)
        free(rs->items[i].text);
    free(rs->items);
    memset(rs, 0, sizeof(*rs));
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
    case CONF_FAIL:
        return "FAIL";
    }
    return "?";
}
