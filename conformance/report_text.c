/*
 * The human report: every failure and test not run with its evidence (and,
 * for a failure a waiver named but did not accept, why not), each waived
 * failure on one line (with its waiver and evidence under --verbose), host
 * findings on lines of their own, the readings each storm judged and the
 * fraction it verified, stale waivers, then the target x group
 * table with counts and times, NOT TESTED where a cell's tests all skipped,
 * and how many of the requested checks really ran. The table's first column
 * is as wide as the longest target name up to what fits in 100 columns; a
 * longer name gets a line of its own above its rows.
 */
#include <string.h>

#include "report.h"
#include "report_util.h"

/* One result with its evidence; a WAIVED one is one line unless verbose. */
static void report_result(FILE *out, const struct conf_run *run, const struct conf_result *r,
                          bool verbose)
{
    fprintf(out, "%s %s %s", conf_status_name(r->status), run->target_names[r->target], r->id);
    if (r->runs > 1)
        fprintf(out, " (failed %u of %u runs)", r->failures, r->runs);
    fputc('\n', out);
    if (r->status == CONF_WAIVED && !verbose)
        return;
    if (r->status == CONF_WAIVED)
        fprintf(out, "    waived: %s\n    accepted evidence: %s\n", r->waived_by, r->evidence);
    if (r->status == CONF_FAIL && r->waiver_note)
        fprintf(out, "    %s\n", r->waiver_note);
    report_indented(out, r->text);
}

/* What each storm judged: a scenario is only as strong as its verified
 * readings; what each interleave test explored: its schedules. */
static void report_readings(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;

    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        double readings, verified, floor = 0, schedules, loads;
        if (report_metric(r->metrics, "schedules", &schedules) &&
            report_metric(r->metrics, "loads", &loads))
            fprintf(out, "SCHEDULES %s %s: %.0f explored, %.0f loads unperturbed\n",
                    run->target_names[r->target], r->id, schedules, loads);
        if (!report_metric(r->metrics, "readings", &readings) ||
            !report_metric(r->metrics, "verified", &verified) || readings <= 0)
            continue;
        report_metric(r->metrics, "min_fraction", &floor);
        fprintf(out, "READINGS %s %s: %.0f judged, %.4f verified (floor %.2f)\n",
                run->target_names[r->target], r->id, readings, verified / readings, floor);
    }
}

/* The getrandom smoke test's p-values: printed, so that a run shows them. */
static void report_smoke(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;

    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        double mono, runs, chi2;
        if (report_metric(r->metrics, "p_monobit", &mono) &&
            report_metric(r->metrics, "p_runs", &runs) &&
            report_metric(r->metrics, "p_chi2", &chi2))
            fprintf(out,
                    "SMOKE %s %s: statistical smoke test, p monobit %.4g, runs %.4g, byte "
                    "chi2 %.4g (fails below 1e-6)\n",
                    run->target_names[r->target], r->id, mono, runs, chi2);
    }
}

void report_failures(FILE *out, const struct conf_run *run, bool verbose)
{
    const struct conf_results *rs = run->results;
    unsigned folded = 0;

    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        if (r->status != CONF_FAIL && r->status != CONF_WAIVED && r->status != CONF_NOTRUN)
            continue;
        report_result(out, run, r, verbose);
        folded += r->status == CONF_WAIVED && !verbose;
    }
    if (folded)
        fprintf(out,
                "(%u waived result(s) shown one line each; --verbose prints their waiver and "
                "evidence)\n",
                folded);
    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        if (!r->host_finding)
            continue;
        fprintf(out,
                "HOST FINDING %s %s (the host or hypervisor, not the target; does not fail "
                "it):\n",
                run->target_names[r->target], r->id);
        report_indented(out, r->host_finding);
    }
    report_readings(out, run);
    report_smoke(out, run);
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

static void not_tested(FILE *out, const struct conf_run *run, unsigned t, unsigned g)
{
    struct report_reason reasons[REPORT_REASONS_MAX];
    unsigned n = report_skip_reasons(run->results, (int)t, (int)g, reasons, REPORT_REASONS_MAX);
    char text[600];

    report_reasons_text(reasons, n, text, sizeof(text));
    fprintf(out, "  NOT TESTED (%s)", text);
}

static void summary(FILE *out, const struct conf_run *run)
{
    struct report_totals tot = report_count(run->results);
    struct report_reason reasons[REPORT_REASONS_MAX];
    unsigned n = report_skip_reasons(run->results, -1, -1, reasons, REPORT_REASONS_MAX);
    char text[600];

    report_reasons_text(reasons, n, text, sizeof(text));
    fprintf(out, "checks: ran %u of %u requested; %u skipped", tot.ran, tot.requested, tot.skipped);
    if (tot.skipped)
        fprintf(out, " (reasons: %s)", text);
    if (tot.not_run)
        fprintf(out, "; %u NOT RUN (a crash or deadline prevented them)", tot.not_run);
    fputc('\n', out);
}

/* Width of a row after the target name (" N group pass fail skip waived notrun time"). */
#define TABLE_WIDTH      100
#define TABLE_REST_WIDTH 56

/* The longest target name that fits; longer ones get lines of their own. */
static int name_column(const struct conf_run *run)
{
    size_t w = strlen("target");

    for (unsigned t = 0; t < run->ntargets; t++) {
        size_t n = strlen(run->target_names[t]);
        if (n > w && n <= TABLE_WIDTH - TABLE_REST_WIDTH)
            w = n;
    }
    return (int)w;
}

static void table_row(FILE *out, const struct conf_run *run, int w, const char *name, unsigned t,
                      unsigned g)
{
    const struct conf_cell *c = &run->results->cells[t][g];

    fprintf(out, "%-*s %d %-12s %5u %5u %5u %6u %6u %7.2fs", w, name, conf_groups[g].number,
            conf_groups[g].name, c->count[CONF_PASS], c->count[CONF_FAIL], c->count[CONF_SKIP],
            c->count[CONF_WAIVED], c->count[CONF_NOTRUN], c->seconds);
    if (conf_cell_not_tested(c))
        not_tested(out, run, t, g);
    fputc('\n', out);
}

void report_table(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;
    unsigned tot[CONF_NSTATUS] = {0};
    int w = name_column(run);

    fprintf(out, "\n%-*s %-14s %5s %5s %5s %6s %6s %8s\n", w, "target", "group", "pass", "fail",
            "skip", "waived", "notrun", "time");
    for (unsigned t = 0; t < run->ntargets; t++) {
        const char *name = run->target_names[t];
        bool own_line = (int)strlen(name) > w;
        bool shown = false;
        for (unsigned g = 0; g < conf_ngroups; g++) {
            const struct conf_cell *c = &rs->cells[t][g];
            if (!c->ran)
                continue;
            if (own_line && !shown)
                fprintf(out, "%s\n", name);
            shown = true;
            table_row(out, run, w, own_line ? "" : name, t, g);
            for (int s = 0; s < CONF_NSTATUS; s++)
                tot[s] += c->count[s];
        }
    }
    fprintf(out, "%-*s %-14s %5u %5u %5u %6u %6u %7.2fs\n", w, "total", "", tot[CONF_PASS],
            tot[CONF_FAIL], tot[CONF_SKIP], tot[CONF_WAIVED], tot[CONF_NOTRUN], run->seconds);
    summary(out, run);
    fprintf(out, "verdict: %s (exit %d)\n",
            run->exit_code == 0   ? "PASS"
            : run->exit_code == 1 ? "FAIL"
                                  : "SETUP ERROR",
            run->exit_code);
}
