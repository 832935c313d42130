/*
 * The HTML report: one self-contained page (inline CSS, inline SVG, no
 * script, nothing fetched) with the verdict, the targets and their
 * identity, the target x group table with full target names (a cell with
 * failures links to the first one's evidence), every failure, test not
 * run and waived failure with its evidence (each row of the list links to
 * its block), host findings, stale waivers, the calibration, the latency
 * probe's numbers, and the figures of report_plots.c. Every string that
 * comes from the run is escaped.
 */
#define _GNU_SOURCE
#include <string.h>

#include <vdsokit/elf_sections.h>
#include <vdsokit/version.h>

#include "report.h"
#include "report_plots.h"
#include "report_util.h"

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;"
    "color:#1a202c}\n"
    "h1{margin-bottom:.2em}h2{border-bottom:1px solid #cbd5e0;margin-top:1.6em}\n"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #cbd5e0;"
    "padding:.25em .5em;text-align:left;vertical-align:top}\n"
    "th{background:#edf2f7}.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".verdict{font-size:1.6em;font-weight:bold;display:inline-block;padding:.2em .6em;"
    "border-radius:4px}\n"
    ".verdict.pass{background:#c6f6d5;color:#22543d}.verdict.fail{background:#fed7d7;"
    "color:#742a2a}.verdict.error{background:#feebc8;color:#7b341e}\n"
    "td.fail,tr.fail td:first-child{background:#fed7d7}td.notrun,tr.notrun td:first-child"
    "{background:#feebc8}td.waived,tr.waived td:first-child{background:#fefcbf}"
    "td.pass{background:#f0fff4}td.nottested{background:#edf2f7;color:#4a5568}\n"
    ".tname{font-family:ui-monospace,monospace;word-break:break-all}\n"
    "pre{background:#f7fafc;border:1px solid #e2e8f0;padding:.5em;overflow-x:auto;"
    "white-space:pre-wrap;word-break:break-all}\n"
    ".evidence{margin:1em 0}.evidence h3{font-size:1em;margin:.2em 0;display:inline}\n"
    "td.unselected{color:#a0aec0}\n"
    "figure.plot{margin:1em 0}figure.plot svg{max-width:100%;height:auto}\n"
    ".noplot{color:#9b2c2c;font-style:italic}.none{color:#4a5568}\n";

static const char *verdict_word(int exit_code)
{
    return exit_code == 0 ? "PASS" : exit_code == 1 ? "FAIL" : "SETUP ERROR";
}

static const char *status_class(enum conf_status s)
{
    static const char *const names[CONF_NSTATUS] = {"pass", "skip", "waived", "notrun", "fail"};

    return names[s];
}

static void head(FILE *out, const struct conf_run *run)
{
    const char *v = verdict_word(run->exit_code);
    struct report_totals tot = report_count(run->results);

    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>vdsoconf: %s</title>\n<style>\n%s</style>\n</head>\n<body>\n"
            "<h1>vdsoconf report</h1>\n",
            v, style);
    fprintf(out, "<p id=\"verdict\" class=\"verdict %s\">verdict: %s</p>\n",
            run->exit_code == 0   ? "pass"
            : run->exit_code == 1 ? "fail"
                                  : "error",
            v);
    fprintf(out, "<p id=\"run\">exit status %d; tier ", run->exit_code);
    report_html_escape(out, run->tier);
    fprintf(out,
            ", seed %llu, %.1f s; %u targets; checks: ran %u of %u requested, %u skipped, %u not "
            "run; vdsoconf %s</p>\n",
            run->seed, run->seconds, run->ntargets, tot.ran, tot.requested, tot.skipped,
            tot.not_run, VDSOKIT_VERSION_FULL);
    fputs("<nav><a href=\"#targets\">targets</a> · <a href=\"#table\">target × group</a> · "
          "<a href=\"#failures\">failures</a> · <a href=\"#calibration\">calibration</a> · "
          "<a href=\"#latency\">latency</a> · <a href=\"#scenarios\">storms</a> · "
          "<a href=\"#soak\">soak</a></nav>\n",
          out);
}

static void targets(FILE *out, const struct conf_run *run)
{
    fputs("<section id=\"targets\">\n<h2>Targets</h2>\n<table id=\"target-list\">\n"
          "<tr><th>target</th><th>what it is</th><th>kernel</th><th>build id</th></tr>\n",
          out);
    for (unsigned t = 0; t < run->ntargets; t++) {
        const struct conf_target_ident *id = &run->idents[t];
        fputs("<tr><td class=\"tname\">", out);
        report_html_escape(out, run->target_names[t]);
        fputs("</td><td>", out);
        report_html_escape(out, run->targets[t]->detail);
        if (run->targets[t]->missing[0]) {
            fputs("; missing: ", out);
            report_html_escape(out, run->targets[t]->missing);
        }
        fputs("</td><td>", out);
        if (id->has_kernel) {
            char v[16];
            elf_linux_version_format(id->kernel, v, sizeof(v));
            report_html_escape(out, v);
            fprintf(out, " (%s)", id->kernel_src);
        }
        fprintf(out, "</td><td class=\"tname\">%s</td></tr>\n", id->build_id);
    }
    fputs("</table>\n</section>\n", out);
}

/* The first result of (t, g) with status s, or -1. */
static long first_with(const struct conf_results *rs, unsigned t, unsigned g, enum conf_status s)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->items[i].target == t && rs->items[i].group == g && rs->items[i].status == s)
            return (long)i;
    return -1;
}

static void cell(FILE *out, const struct conf_run *run, unsigned t, unsigned g)
{
    const struct conf_cell *c = &run->results->cells[t][g];
    static const enum conf_status worst_first[] = {CONF_FAIL, CONF_NOTRUN, CONF_WAIVED};

    if (!c->ran || conf_cell_total(c) == 0) {
        fputs("<td class=\"unselected\">not selected</td>", out);
        return;
    }
    if (conf_cell_not_tested(c)) {
        fprintf(out, "<td class=\"nottested\">NOT TESTED (%u skipped)</td>", c->count[CONF_SKIP]);
        return;
    }
    enum conf_status worst = CONF_PASS;
    long link = -1;
    for (unsigned k = 0; k < 3 && link < 0; k++)
        if (c->count[worst_first[k]]) {
            worst = worst_first[k];
            link = first_with(run->results, t, g, worst);
        }
    fprintf(out, "<td class=\"%s\">", status_class(worst));
    if (link >= 0)
        fprintf(out, "<a href=\"#r-%ld\">", link);
    fprintf(out, "%u pass", c->count[CONF_PASS]);
    static const enum conf_status shown[] = {CONF_FAIL, CONF_NOTRUN, CONF_WAIVED, CONF_SKIP};
    for (unsigned k = 0; k < 4; k++)
        if (c->count[shown[k]])
            fprintf(out, ", %u %s", c->count[shown[k]], conf_status_name(shown[k]));
    fprintf(out, "%s <small>%.2f s</small></td>", link >= 0 ? "</a>" : "", c->seconds);
}

static void table(FILE *out, const struct conf_run *run)
{
    fputs("<section id=\"table\">\n<h2>Target × group</h2>\n<table id=\"results\">\n"
          "<thead><tr><th>target</th>",
          out);
    for (unsigned g = 0; g < conf_ngroups; g++) {
        fputs("<th title=\"", out);
        report_html_escape(out, conf_groups[g].summary);
        fprintf(out, "\">%d ", conf_groups[g].number);
        report_html_escape(out, conf_groups[g].name);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    for (unsigned t = 0; t < run->ntargets; t++) {
        bool bad = false;
        for (unsigned g = 0; g < conf_ngroups; g++)
            bad |= run->results->cells[t][g].count[CONF_FAIL] ||
                   run->results->cells[t][g].count[CONF_NOTRUN];
        fprintf(out, "<tr class=\"target%s\" data-target=\"", bad ? " failing" : "");
        report_html_escape(out, run->target_names[t]);
        fputs("\"><th scope=\"row\" class=\"tname\">", out);
        report_html_escape(out, run->target_names[t]);
        fputs("</th>", out);
        for (unsigned g = 0; g < conf_ngroups; g++)
            cell(out, run, t, g);
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n</section>\n", out);
}

static bool listed(const struct conf_result *r)
{
    return r->status == CONF_FAIL || r->status == CONF_NOTRUN || r->status == CONF_WAIVED;
}

static void first_line(FILE *out, const char *text)
{
    char line[300];

    report_first_line(text, line, sizeof(line));
    report_html_escape(out, line);
}

static void failure_list(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;

    fputs("<table id=\"failure-list\">\n<tr><th>status</th><th>target</th><th>test</th>"
          "<th>first line of the evidence</th></tr>\n",
          out);
    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        if (!listed(r))
            continue;
        fprintf(out, "<tr class=\"%s\"><td>%s</td><td class=\"tname\">", status_class(r->status),
                conf_status_name(r->status));
        report_html_escape(out, run->target_names[r->target]);
        fprintf(out, "</td><td><a href=\"#r-%zu\">", i);
        report_html_escape(out, r->id);
        fputs("</a></td><td>", out);
        first_line(out, r->text);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void evidence_block(FILE *out, const struct conf_run *run, size_t i)
{
    const struct conf_result *r = &run->results->items[i];
    char fig[48];

    /* Waived failures are expected: their evidence is folded, one click away. */
    bool fold = r->status == CONF_WAIVED;
    fprintf(out, "<div class=\"evidence %s\" id=\"r-%zu\">\n%s<h3>%s <span class=\"tname\">",
            status_class(r->status), i, fold ? "<details><summary>" : "",
            conf_status_name(r->status));
    report_html_escape(out, run->target_names[r->target]);
    fputs("</span> ", out);
    report_html_escape(out, r->id);
    if (r->runs > 1)
        fprintf(out, " (failed %u of %u runs)", r->failures, r->runs);
    fputs(fold ? "</h3></summary>\n" : "</h3>\n", out);
    const char *hard = r->status == CONF_FAIL ? conf_hard_reason(r->hard) : NULL;
    if (hard)
        fprintf(out, "<p>%s</p>\n", hard);
    if (r->status == CONF_WAIVED) {
        fputs("<p>waived: ", out);
        report_html_escape(out, r->waived_by);
        fputs("</p>\n", out);
    }
    if (r->waiver_note) {
        fputs("<p>", out);
        report_html_escape(out, r->waiver_note);
        fputs("</p>\n", out);
    }
    if (r->evidence) {
        fputs("<p>structured evidence: <code>", out);
        report_html_escape(out, r->evidence);
        fputs("</code></p>\n", out);
    }
    html_reading_figure_id(run, i, fig, sizeof(fig));
    if (fig[0])
        fprintf(out, "<p><a href=\"#%s\">the reading against the model's window</a></p>\n", fig);
    fputs("<pre>", out);
    report_html_escape(out, r->text);
    fprintf(out, "</pre>\n%s</div>\n", fold ? "</details>" : "");
}

static void failures(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;
    unsigned n = 0;

    fputs("<section id=\"failures\">\n<h2>Failures, tests not run, waived failures</h2>\n", out);
    for (size_t i = 0; i < rs->n; i++)
        n += listed(&rs->items[i]);
    if (n == 0)
        fputs("<p class=\"none\">None.</p>\n", out);
    else
        failure_list(out, run);
    for (size_t i = 0; i < rs->n; i++)
        if (listed(&rs->items[i]))
            evidence_block(out, run, i);
    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        if (!r->host_finding)
            continue;
        fputs("<div class=\"evidence finding\"><h3>HOST FINDING <span class=\"tname\">", out);
        report_html_escape(out, run->target_names[r->target]);
        fputs("</span> ", out);
        report_html_escape(out, r->id);
        fputs(" (the host or hypervisor, not the target)</h3><pre>", out);
        report_html_escape(out, r->host_finding);
        fputs("</pre></div>\n", out);
    }
    for (size_t k = 0; k < run->waivers->n; k++) {
        const struct conf_waiver *w = &run->waivers->items[k];
        if (!waiver_is_stale(w))
            continue;
        fputs("<p class=\"stale\">STALE WAIVER ", out);
        report_html_escape(out, w->file);
        fprintf(out, ":%u (", w->line);
        report_html_escape(out, w->target);
        fputs(" ", out);
        report_html_escape(out, w->id);
        fprintf(out, "): matches no failure, %u covered test(s) passed</p>\n", w->matched_pass);
    }
    fputs("</section>\n", out);
}

static void calibration(FILE *out, const struct conf_run *run)
{
    const struct conf_calib *c = run->calib;

    fputs("<section id=\"calibration\">\n<h2>Calibration</h2>\n<p>Measured once before any "
          "group; every tolerance is derived from these.</p>\n<table id=\"calib\">\n",
          out);
    fprintf(out,
            "<tr><th>clock_gettime syscall latency</th><td class=\"num\">min %lld ns, median "
            "%lld ns, p99 %lld ns</td></tr>\n"
            "<tr><th>high-resolution clock resolution</th><td class=\"num\">%lld ns</td></tr>\n"
            "<tr><th>tick (REALTIME_COARSE resolution)</th><td class=\"num\">%lld ns</td></tr>\n"
            "<tr><th>CPUs</th><td class=\"num\">%d configured, %d allowed</td></tr>\n"
            "<tr><th>hypervisor</th><td>%s</td></tr>\n"
            "<tr><th>TAI offset</th><td class=\"num\">%ld s</td></tr>\n</table>\n</section>\n",
            (long long)c->sys_lat_min_ns, (long long)c->sys_lat_med_ns,
            (long long)c->sys_lat_p99_ns, (long long)c->res_ns[CLOCK_MONOTONIC],
            (long long)c->tick_ns, c->ncpus, c->nallowed, c->hypervisor ? "yes" : "no",
            c->tai_offset);
}

static void latency_cell(FILE *out, const struct probe_cost *c)
{
    if (c->present)
        fprintf(out, "<td class=\"num\">%.1f</td><td class=\"num\">%.1f</td>", c->best, c->median);
    else
        fputs("<td>absent</td><td></td>", out);
}

static void latency(FILE *out, const struct conf_run *run)
{
    fputs("<section id=\"latency\">\n<h2>Latency: ns per call</h2>\n<p>Each entry point of each "
          "target called in batches in a child process of its own (best and median batch), "
          "next to the syscall that answers the same question.</p>\n",
          out);
    fputs("<table id=\"latency-table\">\n<tr><th>target</th><th>entry point</th><th>vDSO best"
          "</th><th>vDSO median</th><th>syscall best</th><th>syscall median</th></tr>\n",
          out);
    for (unsigned t = 0; t < run->ntargets; t++) {
        const struct probe_latency *l = &run->latency[t];
        for (int e = 0; e < PROBE_NENTRY && l->measured; e++) {
            fputs("<tr><td class=\"tname\">", out);
            report_html_escape(out, run->target_names[t]);
            fprintf(out, "</td><td>%s</td>", probe_entry_names[e]);
            latency_cell(out, &l->vdso[e]);
            latency_cell(out, &l->sys[e]);
            fputs("</tr>\n", out);
        }
        if (!l->measured) {
            fputs("<tr><td class=\"tname\">", out);
            report_html_escape(out, run->target_names[t]);
            fputs("</td><td colspan=\"5\">not measured: ", out);
            report_html_escape(out, l->why);
            fputs("</td></tr>\n", out);
        }
    }
    fputs("</table>\n", out);
    html_plots_latency(out, run);
    fputs("</section>\n", out);
}

int report_html(const char *path, const struct conf_run *run)
{
    FILE *out = report_open("--html", path);

    if (!out)
        return -1;
    head(out, run);
    targets(out, run);
    table(out, run);
    failures(out, run);
    calibration(out, run);
    latency(out, run);
    fputs("<section id=\"scenarios\">\n<h2>Storms: readings per scenario</h2>\n", out);
    html_plots_scenarios(out, run);
    fputs("</section>\n<section id=\"soak\">\n<h2>Soak: offsets against the syscall</h2>\n", out);
    html_plots_soak(out, run);
    fputs("</section>\n</body>\n</html>\n", out);
    return fclose(out) == 0 ? 0 : -1;
}
