/*
 * JSON: the run (tier, seed, calibration, targets, verdict), every result
 * with its status and evidence, the per-cell table and the stale waivers.
 * The schema is documented in docs/gating.md.
 */
#include "report.h"
#include "report_util.h"

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
            "\"cpus_allowed\": %d, \"hypervisor\": %s, \"tai_offset_s\": %ld},\n",
            (long long)c->sys_lat_min_ns, (long long)c->sys_lat_med_ns,
            (long long)c->sys_lat_p99_ns, (long long)c->res_ns[CLOCK_MONOTONIC],
            (long long)c->tick_ns, c->ncpus, c->nallowed, c->hypervisor ? "true" : "false",
            c->tai_offset);
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
                    "\"waived\": %u, \"seconds\": %.3f}",
                    conf_groups[g].name, c->count[CONF_PASS], c->count[CONF_FAIL],
                    c->count[CONF_SKIP], c->count[CONF_WAIVED], c->seconds);
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
        fprintf(out, "}");
    }
    fprintf(out, "],\n");
    calibration(out, run->calib);
    results(out, run);
    cells(out, run);
    stale(out, run);
    fprintf(out, "}\n");
    return fclose(out) == 0 ? 0 : -1;
}
