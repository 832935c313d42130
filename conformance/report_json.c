/*
 * JSON: the run (tier, seed, calibration, targets with their identity,
 * verdict, how many checks really ran), every result with its status,
 * evidence (prose and structured terms), host finding and exported
 * counts, the per-cell table (NOT TESTED cells with their skip reasons)
 * and the stale waivers.
 * The schema is documented in docs/gating.md.
 */
#include "report.h"
#include "report_util.h"

#include <vdsokit/elf_sections.h>

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", out);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void calibration(FILE *out, const struct conf_calib *c)
{
    fprintf(out,
            "  \"calibration\": {\"syscall_latency_ns\": {\"min\": %lld, \"median\": %lld, "
            "\"p99\": %lld}, \"hres_resolution_ns\": %lld, \"tick_ns\": %lld, \"cpus\": %d, "
            "\"cpus_allowed\": %d, \"hypervisor\": %s, \"tai_offset_s\": %ld, "
            "\"tsc_skew_cycles\": %llu, \"tsc_skew_pairs\": %u},\n",
            (long long)c->sys_lat_min_ns, (long long)c->sys_lat_med_ns,
            (long long)c->sys_lat_p99_ns, (long long)c->res_ns[CLOCK_MONOTONIC],
            (long long)c->tick_ns, c->ncpus, c->nallowed, c->hypervisor ? "true" : "false",
            c->tai_offset, (unsigned long long)c->tsc_skew, c->skew_pairs);
}

static void optional(FILE *out, const char *key, const char *value)
{
    if (!value)
        return;
    fprintf(out, ", \"%s\": ", key);
    json_string(out, value);
}

static void skip_reasons(FILE *out, const struct conf_run *run, unsigned t, unsigned g)
{
    struct report_reason reasons[REPORT_REASONS_MAX];
    unsigned n = report_skip_reasons(run->results, (int)t, (int)g, reasons, REPORT_REASONS_MAX);

    fprintf(out, ", \"skip_reasons\": [");
    for (unsigned i = 0; i < n; i++) {
        fprintf(out, "%s{\"reason\": ", i ? ", " : "");
        json_string(out, reasons[i].text);
        fprintf(out, ", \"count\": %u}", reasons[i].n);
    }
    fprintf(out, "]");
}

static void results(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;

    fprintf(out, "  \"results\": [\n");
    for (size_t i = 0; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        fprintf(out, "    {\"target\": ");
        json_string(out, run->target_names[r->target]);
        fprintf(out, ", \"group\": \"%s\", \"id\": ", conf_groups[r->group].name);
        json_string(out, r->id);
        fprintf(out, ", \"status\": \"%s\", \"runs\": %u, \"failures\": %u, \"text\": ",
                conf_status_name(r->status), r->runs, r->failures);
        json_string(out, r->text);
        optional(out, "evidence", r->evidence);
        if (r->status == CONF_FAIL)
            optional(out, "unwaivable", conf_hard_reason(r->hard));
        optional(out, "waiver_note", r->waiver_note);
        optional(out, "host_finding", r->host_finding);
        optional(out, "metrics", r->metrics);
        if (r->status == CONF_WAIVED) {
            fprintf(out, ", \"waiver\": ");
            json_string(out, r->waived_by);
        }
        fprintf(out, "}%s\n", i + 1 < rs->n ? "," : "");
    }
    fprintf(out, "  ],\n");
}

static void cells(FILE *out, const struct conf_run *run)
{
    const struct conf_results *rs = run->results;
    bool first = true;

    fprintf(out, "  \"table\": [\n");
    for (unsigned t = 0; t < run->ntargets; t++) {
        for (unsigned g = 0; g < conf_ngroups; g++) {
            const struct conf_cell *c = &rs->cells[t][g];
            if (!c->ran)
                continue;
            fprintf(out, "%s    {\"target\": ", first ? "" : ",\n");
            json_string(out, run->target_names[t]);
            fprintf(out,
                    ", \"group\": \"%s\", \"pass\": %u, \"fail\": %u, \"skip\": %u, "
                    "\"waived\": %u, \"not_run\": %u, \"seconds\": %.3f, \"status\": \"%s\"",
                    conf_groups[g].name, c->count[CONF_PASS], c->count[CONF_FAIL],
                    c->count[CONF_SKIP], c->count[CONF_WAIVED], c->count[CONF_NOTRUN], c->seconds,
                    conf_cell_not_tested(c) ? "NOT TESTED" : "TESTED");
            skip_reasons(out, run, t, g);
            fprintf(out, "}");
            first = false;
        }
    }
    fprintf(out, "\n  ],\n");
}

static void stale(FILE *out, const struct conf_run *run)
{
    bool first = true;

    fprintf(out, "  \"stale_waivers\": [");
    for (size_t k = 0; k < run->waivers->n; k++) {
        const struct conf_waiver *w = &run->waivers->items[k];
        if (!waiver_is_stale(w))
            continue;
        fprintf(out, "%s{\"file\": ", first ? "" : ", ");
        json_string(out, w->file);
        fprintf(out, ", \"line\": %u, \"target\": ", w->line);
        json_string(out, w->target);
        fprintf(out, ", \"id\": ");
        json_string(out, w->id);
        fprintf(out, "}");
        first = false;
    }
    fprintf(out, "]\n");
}

int report_json(const char *path, const struct conf_run *run)
{
    FILE *out = report_open("--json", path);

    if (!out)
        return -1;
    fprintf(out, "{\n  \"tool\": \"vdsoconf\",\n  \"tier\": \"%s\",\n  \"seed\": %llu,\n",
            run->tier, run->seed);
    fprintf(out, "  \"exit_code\": %d,\n  \"seconds\": %.3f,\n", run->exit_code, run->seconds);
    fprintf(out, "  \"targets\": [");
    for (unsigned t = 0; t < run->ntargets; t++) {
        fprintf(out, "%s{\"name\": ", t ? ", " : "");
        json_string(out, run->target_names[t]);
        fprintf(out, ", \"detail\": ");
        json_string(out, run->targets[t]->detail);
        if (run->targets[t]->emulated[0]) {
            fprintf(out, ", \"emulated\": ");
            json_string(out, run->targets[t]->emulated);
        }
        const struct conf_target_ident *id = &run->idents[t];
        if (id->has_kernel) {
            char v[16];
            elf_linux_version_format(id->kernel, v, sizeof(v));
            fprintf(out, ", \"kernel\": \"%s\", \"kernel_source\": \"%s\"", v, id->kernel_src);
        }
        if (id->build_id[0])
            fprintf(out, ", \"build_id\": \"%s\"", id->build_id);
        fprintf(out, "}");
    }
    fprintf(out, "],\n");
    struct report_totals tot = report_count(run->results);
    fprintf(out,
            "  \"checks\": {\"requested\": %u, \"ran\": %u, \"skipped\": %u, \"not_run\": %u},\n",
            tot.requested, tot.ran, tot.skipped, tot.not_run);
    calibration(out, run->calib);
    results(out, run);
    cells(out, run);
    stale(out, run);
    fprintf(out, "}\n");
    return fclose(out) == 0 ? 0 : -1;
}
