/*
 * The reporters' shared helpers (see report_util.h), below all of them.
 */
#include "report_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void report_indented(FILE *out, const char *text)
{
    const char *s = text;

    while (s && *s) {
        const char *nl = strchr(s, '\n');
        int n = nl ? (int)(nl - s) : (int)strlen(s);
        fprintf(out, "    %.*s\n", n, s);
        s = nl ? nl + 1 : NULL;
    }
}

void report_first_line(const char *text, char *buf, size_t len)
{
    snprintf(buf, len, "%s", text ? text : "");
    buf[strcspn(buf, "\n")] = 0;
}

void report_html_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '&')
            fputs("&amp;", out);
        else if (ch == '<')
            fputs("&lt;", out);
        else if (ch == '>')
            fputs("&gt;", out);
        else if (ch == '"')
            fputs("&quot;", out);
        else if (ch == '\'')
            fputs("&#39;", out);
        else if (ch >= 0x20 || ch == '\n' || ch == '\t')
            fputc(ch, out);
    }
}

FILE *report_open(const char *option, const char *path)
{
    FILE *out = fopen(path, "w");

    if (!out)
        fprintf(stderr, "vdsoconf: %s %s: %s\n", option, path, strerror(errno));
    return out;
}

static struct report_reason *reason_slot(struct report_reason *out, unsigned *n, unsigned max,
                                         const char *text)
{
    for (unsigned i = 0; i < *n; i++)
        if (strcmp(out[i].text, text) == 0)
            return &out[i];
    if (*n == max)
        return NULL;
    struct report_reason *r = &out[(*n)++];
    snprintf(r->text, sizeof(r->text), "%s", text);
    r->n = 0;
    return r;
}

static int by_count(const void *a, const void *b)
{
    const struct report_reason *x = a, *y = b;

    return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->text, y->text);
}

unsigned report_skip_reasons(const struct conf_results *rs, int t, int g, struct report_reason *out,
                             unsigned max)
{
    unsigned n = 0;

    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        if (r->status != CONF_SKIP || (t >= 0 && r->target != (unsigned)t) ||
            (g >= 0 && r->group != (unsigned)g))
            continue;
        char first[200];
        report_first_line(r->text, first, sizeof(first));
        struct report_reason *slot = reason_slot(out, &n, max, first[0] ? first : "(no reason)");
        if (slot)
            slot->n++;
    }
    qsort(out, n, sizeof(out[0]), by_count);
    return n;
}

#define REASONS_SHOWN 4
#define REASON_SHOWN  72 /* characters of each reason on a summary line */

void report_reasons_text(const struct report_reason *r, unsigned n, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = 0;
    for (unsigned i = 0; i < n && i < REASONS_SHOWN && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%u x \"%.*s%s\"", i ? "; " : "", r[i].n,
                                 REASON_SHOWN, r[i].text,
                                 strlen(r[i].text) > REASON_SHOWN ? "..." : "");
    if (n > REASONS_SHOWN && used < len)
        snprintf(buf + used, len - used, "; %u more", n - REASONS_SHOWN);
}

struct report_totals report_count(const struct conf_results *rs)
{
    struct report_totals tot = {0};

    for (size_t i = 0; i < rs->n; i++) {
        enum conf_status s = rs->items[i].status;
        tot.requested++;
        tot.skipped += s == CONF_SKIP;
        tot.not_run += s == CONF_NOTRUN;
        tot.ran += s == CONF_PASS || s == CONF_FAIL || s == CONF_WAIVED;
    }
    return tot;
}

bool report_metric(const char *terms, const char *key, double *v)
{
    size_t klen = strlen(key);

    for (const char *p = terms; p && *p; p += strcspn(p, " "), p += strspn(p, " ")) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            char *end;
            *v = strtod(p + klen + 1, &end);
            return end != p + klen + 1;
        }
    }
    return false;
}
