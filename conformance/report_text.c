/*
 * The human report: every failure (and waived failure) with its evidence,
 * stale waivers, then the target x group table with counts and times.
 */
#include "report.h"
#include "report_util.h"

void report_failures(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;

    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        if (r->status != CONF_FAIL && r->status != CONF_WAIVED)
            continue;
        fprintf(out, "%s %s %s", conf_status_name(r->status), run->target_names[r->target], r->id);
        if (r->runs > 1)
            fprintf(out, " (failed %u of %u runs)", r->failures, r->runs);
        fputc('\n', out);
        if (r->status == CONF_WAIVED)
            fprintf(out, "    waived: %s\n", r->waived_by);
        report_indented(out, r->text);
    }
}

void report_stale_waivers(FILE *out, const struct conf_run *run)
{
    for (size_t k = 0; k < run->waivers->n; k++) {
        const struct conf_waiver *w = &run->waivers->items[k];
        if (waiver_is_stale(w))
            fprintf(out,
                    "STALE WAIVER %s:%u (%s %s): matches no failure, %u covered test(s) passed; "
                    "remove it\n",
                    w->file, w->line, w->target, w->id, w->matched_pass);
    }
}

void report_table(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;
    unsigned tot[4] = {0};

    fprintf(out, "\n%-24s %-14s %5s %5s %5s %6s %8s\n", "target", "group", "pass", "fail", "skip",
            "waived", "time");
    for (unsigned t = 0; t < run->ntargets; t++) {
        for (unsigned g = 0; g < conf_ngroups; g++) {
            const struct conf_cell *c = &rs->cells[t][g];
            if (!c->ran)
                continue;
            fprintf(out, "%-24.24s %d %-12s %5u %5u %5u %6u %7.2fs\n", run->target_names[t],
                    conf_groups[g].number, conf_groups[g].name, c->count[CONF_PASS],
                    c->count[CONF_FAIL], c->count[CONF_SKIP], c->count[CONF_WAIVED], c->seconds);
            for (int s = 0; s < 4; s++)
                tot[s] += c->count[s];
        }
    }
    fprintf(out, "%-24s %-14s %5u %5u %5u %6u %7.2fs\n", "total", "", tot[CONF_PASS],
            tot[CONF_FAIL], tot[CONF_SKIP], tot[CONF_WAIVED], run->seconds);
    fprintf(out, "verdict: %s (exit %d)\n",
            run->exit_code == 0   ? "PASS"
            : run->exit_code == 1 ? "FAIL"
                                  : "SETUP ERROR",
            run->exit_code);
}
