/*
 * The HTML report's figures (see report_plots.h). Each figure's data is
 * written as gnuplot data files by the functions here, from the run's
 * records only: the probes' numbers, the counts groups exported with
 * conf_metric, and the evidence text of a failing reading (the verifier
 * names the reading's value and, per candidate state, the model's value at
 * both ends of the admissible counter range). Target names never reach
 * gnuplot: they are captions, escaped here.
 */
#define _GNU_SOURCE
#include "report_plots.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "plot.h"
#include "report_util.h"

#define MAX_READING_FIGURES 8
#define MAX_STATES          8

/* Emit one figure: the SVG, or why there is none. */
static void figure(FILE *out, const char *id, const char *caption, const char *target,
                   const struct plot *p)
{
    char why[512];
    char *svg = plot_svg(p, why, sizeof(why));

    fprintf(out, "<figure class=\"plot\" id=\"%s\">\n", id);
    if (svg)
        fputs(svg, out);
    else {
        fputs("<p class=\"noplot\">no plot: ", out);
        report_html_escape(out, why);
        fputs("</p>", out);
    }
    fprintf(out, "\n<figcaption>%s", caption);
    if (target) {
        fputs(" <span class=\"tname\">", out);
        report_html_escape(out, target);
        fputs("</span>", out);
    }
    fputs("</figcaption>\n</figure>\n", out);
    free(svg);
}

/* ---- latency ---- */

static void latency_value(FILE *d, const struct probe_cost *c, bool median)
{
    if (!c->present)
        fputs(" NaN", d);
    else /* a log axis: a call cheaper than 0.1 ns shows at the floor */
        fprintf(d, " %.2f",
                (median ? c->median : c->best) < 0.1 ? 0.1
                : median                             ? c->median
                                                     : c->best);
}

static const char latency_script[] =
    "set style data histograms\n"
    "set style histogram clustered gap 1\n"
    "set style fill solid 0.85 border rgb '#333333'\n"
    "set logscale y 10\nset yrange [0.1:*]\n"
    "set ylabel 'ns per call (log scale)'\n"
    "set grid ytics\nset key outside top center horizontal noenhanced\nset xtics noenhanced\n"
    "plot 'd0.dat' using 2:xtic(1) title 'vDSO best' lc rgb '#2b6cb0', "
    "'' using 3 title 'vDSO median' lc rgb '#90cdf4', "
    "'' using 4 title 'syscall best' lc rgb '#c05621', "
    "'' using 5 title 'syscall median' lc rgb '#fbd38d'\n";

void html_plots_latency(FILE *out, const struct conf_run *run)
{
    for (unsigned t = 0; t < run->ntargets; t++) {
        const struct probe_latency *l = &run->latency[t];
        char id[32];
        snprintf(id, sizeof(id), "fig-latency-%u", t);
        if (!l->measured) {
            fprintf(out, "<figure class=\"plot\" id=\"%s\"><p class=\"noplot\">no plot: ", id);
            report_html_escape(out, l->why);
            fputs("</p><figcaption>latency of ", out);
            report_html_escape(out, run->target_names[t]);
            fputs("</figcaption></figure>\n", out);
            continue;
        }
        char *data = NULL;
        size_t len = 0;
        FILE *d = open_memstream(&data, &len);
        if (!d)
            continue;
        for (int e = 0; e < PROBE_NENTRY; e++) {
            fprintf(d, "%s", probe_entry_names[e]);
            latency_value(d, &l->vdso[e], false);
            latency_value(d, &l->vdso[e], true);
            latency_value(d, &l->sys[e], false);
            latency_value(d, &l->sys[e], true);
            fputc('\n', d);
        }
        fclose(d);
        char name[32];
        snprintf(name, sizeof(name), "latency_%u", t);
        struct plot p = {name, 760, 320, latency_script, {data}};
        figure(out, id,
               "ns per call of each entry point, vDSO against the syscall:", run->target_names[t],
               &p);
        free(data);
    }
}

/* ---- scenarios: readings and verified fraction ---- */

/* The number after "key=" in terms; false when absent. */
static const char scenario_script[] =
    "set style fill solid 0.6 border rgb '#333333'\nset boxwidth 0.6\n"
    "set logscale y 10\nset ylabel 'readings judged (log scale)'\n"
    "set y2label 'verified fraction'\nset y2range [0:1.05]\nset y2tics 0.2\nset ytics nomirror\n"
    "set xtics rotate by -35 noenhanced\nset grid y2tics\nset key outside top center horizontal\n"
    "set xrange [-0.6:*]\n"
    "plot 'd0.dat' using 0:2:xtic(1) with boxes title 'readings' lc rgb '#2b6cb0', "
    "'' using 0:3 axes x1y2 with points pt 7 ps 1.3 lc rgb '#c53030' title 'verified fraction', "
    "'' using 0:4 axes x1y2 with points pt 2 ps 1.3 lc rgb '#333333' title 'required'\n";

/* The scenarios of (t, g) with counts, as data rows; how many. */
static unsigned scenario_rows(const struct conf_run *run, unsigned t, unsigned g, FILE *d)
{
    const struct conf_results *rs = run->results;
    const char *group = conf_groups[g].name;
    unsigned n = 0;

    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        double readings, verified, need = 0;
        if (r->target != t || r->group != g || !report_metric(r->metrics, "readings", &readings) ||
            !report_metric(r->metrics, "verified", &verified))
            continue;
        report_metric(r->metrics, "min_fraction", &need);
        const char *label = r->id;
        if (strncmp(label, group, strlen(group)) == 0 && label[strlen(group)] == '.')
            label += strlen(group) + 1;
        fprintf(d, "%s %.0f %.6f ", label, readings < 1 ? 1 : readings,
                readings > 0 ? verified / readings : 0);
        need > 0 ? fprintf(d, "%.2f\n", need) : fputs("NaN\n", d); /* no requirement */
        n++;
    }
    return n;
}

static void scenario_figure(FILE *out, const struct conf_run *run, unsigned t, unsigned g)
{
    char *data = NULL;
    size_t len = 0;
    FILE *d = open_memstream(&data, &len);

    if (!d)
        return;
    unsigned n = scenario_rows(run, t, g, d);
    fclose(d);
    if (n) {
        char id[48], name[48], caption[160];
        snprintf(id, sizeof(id), "fig-scenarios-%u-%s", t, conf_groups[g].name);
        snprintf(name, sizeof(name), "scenarios_%u_%s", t, conf_groups[g].name);
        snprintf(caption, sizeof(caption),
                 "group %d (%s): readings per scenario and the fraction verified exactly:",
                 conf_groups[g].number, conf_groups[g].name);
        struct plot p = {name, 860, 380, scenario_script, {data}};
        figure(out, id, caption, run->target_names[t], &p);
    }
    free(data);
}

/* ---- a failing reading against the model's window ---- */

struct reading_window {
    int64_t value;
    const char *unit;
    unsigned n;
    uint64_t gen[MAX_STATES];
    int64_t lo[MAX_STATES], hi[MAX_STATES];
};

/*
 * The first wrong reading in the verifier's evidence: "... returned R,
 * value V; ..." then one line per candidate state "  state G (...): ...,
 * model LO .. HI". False when the text has no such reading.
 */
static bool parse_reading(const char *text, struct reading_window *w)
{
    const char *v = text ? strstr(text, ", value ") : NULL;

    memset(w, 0, sizeof(*w));
    if (!v || sscanf(v + 8, "%" SCNd64, &w->value) != 1)
        return false;
    size_t first = (size_t)(v - text);
    w->unit = memmem(text, first, "gettimeofday (us)", 17) ? "us"
              : memmem(text, first, "time (s)", 8)         ? "s"
                                                           : "ns";
    for (const char *line = strchr(v, '\n'); line && w->n < MAX_STATES; line = strchr(line, '\n')) {
        line++;
        uint64_t gen;
        if (sscanf(line, "  state %" SCNu64 " (", &gen) != 1)
            break; /* the states of this reading end here */
        const char *m = strstr(line, ", model ");
        const char *eol = strchr(line, '\n');
        if (!m || (eol && m > eol) ||
            sscanf(m + 8, "%" SCNd64 " .. %" SCNd64, &w->lo[w->n], &w->hi[w->n]) != 2)
            continue;
        w->gen[w->n++] = gen;
    }
    return w->n > 0;
}

static bool scenario_group(const struct conf_run *run, unsigned g)
{
    const struct conf_results *rs = run->results;

    for (size_t i = 0; i < rs->n; i++)
        if (rs->items[i].group == g && rs->items[i].metrics)
            return true;
    return false;
}

void html_reading_figure_id(const struct conf_run *run, size_t i, char *buf, size_t len)
{
    const struct conf_result *r = &run->results->items[i];
    struct reading_window w;
    unsigned before = 0;

    buf[0] = 0;
    if (r->status != CONF_FAIL || !scenario_group(run, r->group) || !parse_reading(r->text, &w))
        return;
    for (size_t k = 0; k < i; k++) {
        const struct conf_result *q = &run->results->items[k];
        before +=
            q->status == CONF_FAIL && scenario_group(run, q->group) && parse_reading(q->text, &w);
    }
    if (before < MAX_READING_FIGURES)
        snprintf(buf, len, "fig-reading-%zu", i);
}

static void reading_figure(FILE *out, const struct conf_run *run, size_t i,
                           const struct reading_window *w)
{
    const struct conf_result *r = &run->results->items[i];
    char *data = NULL, *script = NULL;
    size_t len = 0;
    FILE *d = open_memstream(&data, &len);

    if (!d)
        return;
    for (unsigned k = w->n; k-- > 0;) /* oldest state first */
        fprintf(d, "%" PRIu64 " %.0f %.0f\n", w->gen[k], (double)w->lo[k] - (double)w->value,
                (double)w->hi[k] - (double)w->value);
    fclose(d);
    if (asprintf(&script,
                 "set xlabel 'candidate state (log generation)'\n"
                 "set ylabel 'model minus the reading (%s)'\nset grid ytics\n"
                 "set xtics noenhanced\nset key outside top center horizontal noenhanced\n"
                 "set offsets 0.5, 0.5, 0, 0\nset xrange [-0.5:*]\n"
                 "plot 'd0.dat' using 0:(($2+$3)/2):2:3:xtic(1) with yerrorbars pt 7 lw 2 "
                 "lc rgb '#2b6cb0' title \"the model's window over the admissible counters\", "
                 "0 with lines lw 2 dt 2 lc rgb '#c53030' title 'the reading'\n",
                 w->unit) >= 0) {
        char id[48], name[48], *caption = NULL;
        size_t clen = 0;
        FILE *c = open_memstream(&caption, &clen);
        snprintf(id, sizeof(id), "fig-reading-%zu", i);
        snprintf(name, sizeof(name), "reading_%zu", i);
        if (c) {
            fprintf(c, "<a href=\"#r-%zu\">", i);
            report_html_escape(c, r->id);
            fprintf(c,
                    "</a>: the failing reading (%" PRId64 " %s) against the model's window "
                    "of each candidate state:",
                    w->value, w->unit);
            fclose(c);
            struct plot p = {name, 760, 320, script, {data}};
            figure(out, id, caption, run->target_names[r->target], &p);
        }
        free(caption);
    }
    free(script);
    free(data);
}

void html_plots_scenarios(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;
    unsigned shown = 0, failing = 0;

    for (unsigned g = 0; g < conf_ngroups; g++) {
        if (!scenario_group(run, g))
            continue;
        for (unsigned t = 0; t < run->ntargets; t++)
            scenario_figure(out, run, t, g);
        shown++;
    }
    if (!shown)
        fputs("<p class=\"none\">No group that exports per-scenario readings ran (group 4 "
              "runs on in-process targets: ref, image:PATH).</p>\n",
              out);
    for (size_t i = 0; i < rs->n; i++) {
        struct reading_window w;
        const struct conf_result *r = &rs->items[i];
        if (r->status != CONF_FAIL || !scenario_group(run, r->group) || !parse_reading(r->text, &w))
            continue;
        if (failing++ < MAX_READING_FIGURES)
            reading_figure(out, run, i, &w);
    }
    if (failing > MAX_READING_FIGURES)
        fprintf(out, "<p>(%u more failing readings: see their evidence)</p>\n",
                failing - MAX_READING_FIGURES);
}

/* ---- soak: offsets over time ---- */

/* The coarse clocks sit up to a tick off: their own axis, so the fine ones stay readable. */
static const char soak_script[] =
    "set key autotitle columnhead outside right noenhanced\n"
    "set xlabel 'seconds since the run began'\nset ylabel 'target minus syscall (ns)'\n"
    "set y2label 'coarse clocks: target minus syscall (ns)'\nset y2tics\nset ytics nomirror\n"
    "set grid\nset datafile missing 'NaN'\n"
    "plot for [k=2:6] 'd0.dat' using 1:k with linespoints pt 7 ps 0.6 lw 1.5, "
    "for [k=7:8] 'd0.dat' using 1:k axes x1y2 with linespoints pt 6 ps 0.8 lw 1.5 dt 2\n";

void html_plots_soak(FILE *out, const struct conf_run *run)
{
    const struct conf_soak *s = run->soak;

    if (!s || s->n == 0) {
        fputs("<p class=\"none\">Offsets over time are recorded by <code>--tier soak</code> "
              "runs; this run was not one.</p>\n",
              out);
        return;
    }
    for (unsigned t = 0; t < run->ntargets; t++) {
        char *data = NULL;
        size_t len = 0;
        FILE *d = open_memstream(&data, &len);
        if (!d)
            continue;
        fputs("seconds", d);
        for (int k = 0; k < PROBE_NCLOCKS; k++) {
            char c[32];
            fprintf(d, " %s", clock_name(probe_clock_ids[k], c, sizeof(c)));
        }
        fputc('\n', d);
        unsigned rows = 0;
        for (unsigned i = 0; i < s->n; i++) {
            const struct probe_offsets *o = &s->rounds[i].off[t];
            if (!o->measured)
                continue;
            fprintf(d, "%.1f", s->rounds[i].t_s);
            for (int k = 0; k < PROBE_NCLOCKS; k++)
                o->present[k] ? fprintf(d, " %" PRId64, o->offset[k]) : fputs(" NaN", d);
            fputc('\n', d);
            rows++;
        }
        fclose(d);
        char id[32], name[32];
        snprintf(id, sizeof(id), "fig-soak-%u", t);
        snprintf(name, sizeof(name), "soak_%u", t);
        struct plot p = {name, 860, 360, soak_script, {data}};
        if (rows)
            figure(out, id,
                   "each clock's offset against the syscall, round by round:", run->target_names[t],
                   &p);
        free(data);
    }
}
