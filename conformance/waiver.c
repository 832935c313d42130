/*
 * Waiver file parsing and application.
 */
#define _GNU_SOURCE
#include "waiver.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_line(struct conf_waiver *wv, char *line)
{
    char *s = line;
    char *fields[2];

    for (int i = 0; i < 2; i++) {
        while (isspace((unsigned char)*s))
            s++;
        fields[i] = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (!*s)
            return -1;
        *s++ = 0;
    }
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    if (!n)
        return -1;
    snprintf(wv->target, sizeof(wv->target), "%s", fields[0]);
    snprintf(wv->id, sizeof(wv->id), "%s", fields[1]);
    snprintf(wv->reason, sizeof(wv->reason), "%s", s);
    return 0;
}

int waivers_load(struct conf_waivers *w, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");

    if (!f) {
        snprintf(err, errlen, "--waivers %s: %s", path, strerror(errno));
        return 2;
    }
    char line[1024];
    unsigned lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#')
            continue;
        struct conf_waiver wv = {.file = path, .line = lineno};
        if (parse_line(&wv, s) != 0) {
            snprintf(err, errlen, "%s:%u: expected \"TARGET-PATTERN TEST-ID-PATTERN REASON\"", path,
                     lineno);
            fclose(f);
            return 2;
        }
        struct conf_waiver *p = realloc(w->items, (w->n + 1) * sizeof(*p));
        if (!p) {
            fclose(f);
            snprintf(err, errlen, "%s: out of memory", path);
            return 2;
        }
        w->items = p;
        w->items[w->n++] = wv;
    }
    fclose(f);
    return 0;
}

static bool matches(const struct conf_waiver *wv, const char *target, const char *id)
{
    return fnmatch(wv->target, target, 0) == 0 && fnmatch(wv->id, id, 0) == 0;
}

void waivers_apply(struct conf_waivers *w, struct conf_results *rs, const char *const *target_names)
{
    for (size_t i = 0; i < rs->n; i++) {
        struct conf_result *r = &rs->items[i];
        for (size_t k = 0; k < w->n; k++) {
            struct conf_waiver *wv = &w->items[k];
            if (!matches(wv, target_names[r->target], r->id))
                continue;
            if (r->status == CONF_FAIL) {
                r->status = CONF_WAIVED;
                r->waived_by = wv->reason;
                wv->matched_fail++;
                break;
            }
            if (r->status == CONF_PASS)
                wv->matched_pass++;
        }
    }
    results_tally(rs);
}

const struct conf_waiver *waivers_find(const struct conf_waivers *w, const char *target,
                                       const char *id)
{
    for (size_t k = 0; k < w->n; k++)
        if (matches(&w->items[k], target, id))
            return &w->items[k];
    return NULL;
}

bool waiver_is_stale(const struct conf_waiver *w)
{
    return w->matched_pass > 0 && w->matched_fail == 0;
}

void waivers_free(struct conf_waivers *w)
{
    free(w->items);
    w->items = NULL;
    w->n = 0;
}
