/*
 * The checker's report: adding a finding (counted by severity, kept up to
 * IMGCHECK_MAX_FINDINGS), the verdict and the printed form. Below both the
 * driver (imgcheck.c) and the rules (imgcheck_rules.c), which only add.
 */
#include <stdarg.h>
#include <stdio.h>

#include "imgcheck_internal.h"

void imgcheck_add(struct imgcheck_report *r, enum imgcheck_severity s, const char *rule,
                  const char *fmt, ...)
{
    struct imgcheck_finding *f;
    va_list ap;

    if (s == IMGCHECK_ERROR)
        r->errors++;
    if (s == IMGCHECK_WARNING)
        r->warnings++;
    if (r->count == IMGCHECK_MAX_FINDINGS) {
        r->truncated = true;
        return;
    }
    f = &r->findings[r->count++];
    f->severity = s;
    f->rule = rule;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof(f->text), fmt, ap);
    va_end(ap);
}

bool imgcheck_has_errors(const struct imgcheck_report *r)
{
    return r->errors != 0;
}

static const char *severity_name(enum imgcheck_severity s)
{
    return s == IMGCHECK_ERROR ? "error" : s == IMGCHECK_WARNING ? "warning" : "info";
}

void imgcheck_print(const struct imgcheck_report *r, FILE *f)
{
    for (unsigned i = 0; i < r->count; i++)
        fprintf(f, "%s %s: %s\n", severity_name(r->findings[i].severity), r->findings[i].rule,
                r->findings[i].text);
    if (r->truncated)
        fprintf(f, "warning report: more than %d findings, the rest not shown\n",
                IMGCHECK_MAX_FINDINGS);
    fprintf(f, "%u error(s), %u warning(s)\n", r->errors, r->warnings);
}
