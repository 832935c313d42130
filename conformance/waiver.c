/*
 * Waiver file parsing and application (the syntax is in waiver.h and
 * waivers.txt). Parsing is strict: a line that names no evidence, a
 * malformed term, an unknown image@ form or a bad kernel range is a setup
 * error naming the file and line, so a waiver can never silently mean
 * more than it says.
 */
#define _GNU_SOURCE
#include "waiver.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYNTAX "TARGET TEST-ID-PATTERN [kernel=RANGE] [build-id=HEX] KEY=VALUE... REASON"

/* The next white-space separated token of *s (NUL-terminated in place), or NULL. */
static char *token(char **s)
{
    char *p = *s;

    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return NULL;
    char *start = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (*p)
        *p++ = 0;
    *s = p;
    return start;
}

static int parse_kernel(struct conf_waiver *wv, const char *range)
{
    const char *dash = strchr(range, '-');
    size_t n = conf_kernel_version_parse(range, false, &wv->kernel_lo);

    if (!n)
        return -1;
    if (!dash) {
        if (range[n] || !conf_kernel_version_parse(range, true, &wv->kernel_hi))
            return -1;
    } else if (range + n != dash) {
        return -1;
    } else if (!dash[1]) {
        wv->kernel_hi = UINT32_MAX;
    } else {
        size_t m = conf_kernel_version_parse(dash + 1, true, &wv->kernel_hi);
        if (!m || dash[1 + m] || wv->kernel_hi < wv->kernel_lo)
            return -1;
    }
    wv->has_kernel = true;
    snprintf(wv->kernel, sizeof(wv->kernel), "%s", range);
    return 0;
}

/* A build id as the report prints it: lower-case hex, whole bytes. */
static bool build_id_valid(const char *hex, size_t max)
{
    size_t n = strlen(hex);

    return n && n % 2 == 0 && n < max && strspn(hex, "0123456789abcdef") == n;
}

static const char *parse_target(struct conf_waiver *wv, const char *t)
{
    size_t n = strlen(t);

    /* A cut pattern would waive other targets than the one written. */
    if (n >= sizeof(wv->target))
        return "the target pattern is too long";
    memcpy(wv->target, t, n + 1);
    if (strncmp(t, "image@", 6) != 0) {
        wv->target_kind = CONF_WAIVE_GLOB;
        return NULL;
    }
    if (strcmp(t + 6, "linux") == 0) {
        wv->target_kind = CONF_WAIVE_LINUX;
        return NULL;
    }
    const char *hex = t + 6 + strlen("build-id=");
    if (strncmp(t + 6, "build-id=", 9) != 0 || !build_id_valid(hex, sizeof(wv->build_id)))
        return "an image target is image@build-id=HEX (lower-case hex) or image@linux";
    wv->target_kind = CONF_WAIVE_BUILD_ID;
    snprintf(wv->build_id, sizeof(wv->build_id), "%s", hex);
    return NULL;
}

/* Returns NULL, or what is wrong with the line. */
static const char *parse_line(struct conf_waiver *wv, char *line)
{
    char *s = line, *target = token(&s), *id = token(&s);
    char terms[CONF_EV_LEN_MAX] = "";

    if (!target || !id)
        return "expected \"" SYNTAX "\"";
    const char *bad = parse_target(wv, target);
    if (bad)
        return bad;
    if (strlen(id) >= sizeof(wv->id))
        return "the test id pattern is too long";
    memcpy(wv->id, id, strlen(id) + 1);
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strcspn(s, " \t\r\n");
        if (!n || !memchr(s, '=', n))
            break; /* the reason starts here */
        char *term = token(&s);
        if (strncmp(term, "kernel=", 7) == 0) {
            if (wv->has_kernel || parse_kernel(wv, term + 7) != 0)
                return "kernel=RANGE is MAJOR.MINOR[.PATCH], optionally -[UPPER], once";
            continue;
        }
        if (strncmp(term, "build-id=", 9) == 0) {
            if (wv->need_build_id[0] || !build_id_valid(term + 9, sizeof(wv->need_build_id)))
                return "build-id=HEX is lower-case hex, once";
            snprintf(wv->need_build_id, sizeof(wv->need_build_id), "%s", term + 9);
            continue;
        }
        if (!ev_term_valid(term) || strlen(terms) + strlen(term) + 2 >= sizeof(terms))
            return "an evidence term is key=value (key [a-z0-9_.], value without spaces)";
        strcat(strcat(terms, terms[0] ? " " : ""), term);
    }
    if (!terms[0])
        return "a waiver must name the evidence it accepts (e.g. got=0 want=-EINVAL)";
    if (ev_canonical(terms, wv->evidence, sizeof(wv->evidence)) != 0)
        return "too many or too long evidence terms";
    if (wv->target_kind == CONF_WAIVE_LINUX && !wv->has_kernel)
        return "image@linux needs a kernel=RANGE (it names images by their Linux note)";
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    if (!n)
        return "the reason is missing";
    snprintf(wv->reason, sizeof(wv->reason), "%s", s);
    return NULL;
}

static int add(struct conf_waivers *w, const struct conf_waiver *wv)
{
    struct conf_waiver *p = realloc(w->items, (w->n + 1) * sizeof(*p));

    if (!p)
        return -1;
    w->items = p;
    w->items[w->n++] = *wv;
    return 0;
}

int waivers_load(struct conf_waivers *w, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");

    if (!f) {
        snprintf(err, errlen, "--waivers %s: %s", path, strerror(errno));
        return 2;
    }
    char line[2048];
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#')
            continue;
        static struct conf_waiver wv;
        memset(&wv, 0, sizeof(wv));
        wv.file = path;
        wv.line = lineno;
        const char *bad = parse_line(&wv, s);
        if (bad) {
            snprintf(err, errlen, "%s:%u: %s (syntax: %s)", path, lineno, bad, SYNTAX);
            rc = 2;
        } else if (add(w, &wv) != 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            rc = 2;
        }
    }
    fclose(f);
    return rc;
}

static bool target_matches(const struct conf_waiver *wv, const struct conf_target_ident *t)
{
    switch (wv->target_kind) {
    case CONF_WAIVE_GLOB:
        return fnmatch(wv->target, t->name, FNM_PATHNAME) == 0;
    case CONF_WAIVE_BUILD_ID:
        return t->is_image && strcmp(wv->build_id, t->build_id) == 0;
    case CONF_WAIVE_LINUX:
        return t->is_image && t->has_kernel;
    }
    return false;
}

/* The waiver speaks about this test on this target (its kernel range included). */
static bool names(const struct conf_waiver *wv, const struct conf_target_ident *t, const char *id)
{
    if (!target_matches(wv, t) || fnmatch(wv->id, id, 0) != 0)
        return false;
    if (wv->need_build_id[0] && strcmp(wv->need_build_id, t->build_id) != 0)
        return false;
    return !wv->has_kernel ||
           (t->has_kernel && t->kernel >= wv->kernel_lo && t->kernel <= wv->kernel_hi);
}

/* NULL when wv accepts the failure r, else why not. */
static const char *refusal(const struct conf_waiver *wv, const struct conf_result *r)
{
    const char *hard = conf_hard_reason(r->hard);

    if (hard)
        return hard;
    if (!r->evidence || strcmp(r->evidence, wv->evidence) != 0)
        return "the recorded evidence differs from the waiver's";
    return NULL;
}

const struct conf_waiver *waivers_accepting(const struct conf_waivers *w,
                                            const struct conf_target_ident *ident,
                                            const struct conf_result *r)
{
    for (size_t k = 0; r->status == CONF_FAIL && k < w->n; k++)
        if (names(&w->items[k], ident, r->id) && !refusal(&w->items[k], r))
            return &w->items[k];
    return NULL;
}

static void note_refusal(struct conf_result *r, const struct conf_waiver *wv, const char *why)
{
    char buf[1024];

    if (r->waiver_note)
        return; /* the first waiver that names it explains */
    snprintf(buf, sizeof(buf), "not waived by %s:%u (%s %s %s): %s; recorded: %s", wv->file,
             wv->line, wv->target, wv->id, wv->evidence, why, r->evidence ? r->evidence : "(none)");
    r->waiver_note = strdup(buf);
}

static void apply_one(struct conf_waivers *w, struct conf_result *r,
                      const struct conf_target_ident *ident)
{
    for (size_t k = 0; k < w->n; k++) {
        struct conf_waiver *wv = &w->items[k];
        if (!names(wv, ident, r->id))
            continue;
        if (r->status == CONF_PASS) {
            wv->matched_pass++;
            continue;
        }
        if (r->status != CONF_FAIL)
            continue;
        const char *why = refusal(wv, r);
        if (!why) {
            r->status = CONF_WAIVED;
            r->waived_by = wv->reason;
            wv->matched_fail++;
            return;
        }
        wv->refused++;
        note_refusal(r, wv, why);
    }
}

void waivers_apply(struct conf_waivers *w, struct conf_results *rs,
                   const struct conf_target_ident *idents)
{
    for (size_t i = 0; i < rs->n; i++)
        apply_one(w, &rs->items[i], &idents[rs->items[i].target]);
    results_tally(rs);
}

bool waiver_is_stale(const struct conf_waiver *w)
{
    return w->matched_pass > 0 && w->matched_fail == 0 && w->refused == 0;
}

void waivers_free(struct conf_waivers *w)
{
    free(w->items);
    w->items = NULL;
    w->n = 0;
}
