/*
 * TAP version 13: one line per test (target and test id), skip reasons as
 * "# SKIP", waived failures as "not ok ... # TODO waived: reason" (a TAP
 * consumer counts them as expected failures, not passes), tests a crash
 * kept from running as "not ok ... (NOT RUN)", evidence as a YAML block;
 * host findings, NOT TESTED cells and the count of checks that really ran
 * as comments.
 */
#include "report.h"
#include "report_util.h"

static void yaml_block(FILE *out, const char *text)
{
    fprintf(out, "  ---\n  evidence: |\n");
    report_indented(out, text);
    fprintf(out, "  ...\n");
}

/* NOT TESTED cells and the count of the checks that really ran. */
static void comments(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;
    struct report_reason reasons[REPORT_REASONS_MAX];
    char text[600];

    for (unsigned t = 0; t < run->ntargets; t++)
        for (unsigned g = 0; g < conf_ngroups; g++) {
            if (!conf_cell_not_tested(&rs->cells[t][g]))
                continue;
            unsigned n = report_skip_reasons(rs, (int)t, (int)g, reasons, REPORT_REASONS_MAX);
            report_reasons_text(reasons, n, text, sizeof(text));
            fprintf(out, "# NOT TESTED %s %s: every test skipped (%s)\n", run->target_names[t],
                    conf_groups[g].name, text);
        }
    struct report_totals tot = report_count(rs);
    fprintf(out, "# checks: ran %u of %u requested; %u skipped; %u not run\n", tot.ran,
            tot.requested, tot.skipped, tot.not_run);
}

void report_tap(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;

    fprintf(out, "TAP version 13\n1..%zu\n", rs->n);
    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        const char *tname = run->target_names[r->target];
        char reason[300];
        switch (r->status) {
        case CONF_PASS:
            fprintf(out, "ok %zu - %s %s\n", i + 1, tname, r->id);
            break;
        case CONF_SKIP:
            report_first_line(r->text, reason, sizeof(reason));
            fprintf(out, "ok %zu - %s %s # SKIP %s\n", i + 1, tname, r->id, reason);
            break;
        case CONF_WAIVED:
            fprintf(out, "not ok %zu - %s %s # TODO waived: %s\n", i + 1, tname, r->id,
                    r->waived_by);
            yaml_block(out, r->text);
            break;
        case CONF_NOTRUN:
            fprintf(out, "not ok %zu - %s %s (NOT RUN)\n", i + 1, tname, r->id);
            yaml_block(out, r->text);
            break;
        case CONF_FAIL:
            fprintf(out, "not ok %zu - %s %s\n", i + 1, tname, r->id);
            yaml_block(out, r->text);
            break;
        case CONF_NSTATUS:
            break;
        }
        if (r->host_finding) {
            report_first_line(r->host_finding, reason, sizeof(reason));
            fprintf(out, "# host finding (not a target failure) %s %s: %s\n", tname, r->id, reason);
        }
    }
    comments(out, run);
    for (size_t k = 0; k < run->waivers->n; k++) {
        const struct conf_waiver *w = &run->waivers->items[k];
        if (waiver_is_stale(w))
            fprintf(out, "# stale waiver %s:%u (%s %s) matches no failure\n", w->file, w->line,
                    w->target, w->id);
    }
}
