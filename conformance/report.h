/*
 * Reporters. One description of a finished run feeds all of them: the
 * human text (failures with evidence, stale waivers, the target x group
 * table), TAP 13, JUnit XML and JSON. Statuses map as: PASS ok; SKIP ok #
 * SKIP (TAP), <skipped/> (JUnit); WAIVED not ok # TODO (TAP), <skipped
 * message="waived: ..."/> with the evidence (JUnit); NOT RUN not ok ...
 * (NOT RUN), <error type="notrun"/>; FAIL not ok, <failure/>. A target x
 * group whose tests all skipped is NOT TESTED in every format. The HTML
 * report adds the plots of the timing probes and of the storms.
 */
#ifndef VDSOCONF_REPORT_H
#define VDSOCONF_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "probe.h"
#include "results.h"
#include "target_ident.h"
#include "waiver.h"

/* A soak's record of each clock's offset against the syscall, round by round. */
struct conf_soak_round {
    double t_s; /* since the run began */
    struct probe_offsets off[CONF_MAX_TARGETS];
};

struct conf_soak {
    unsigned n, cap;
    struct conf_soak_round *rounds;
};

struct conf_run {
    unsigned ntargets;
    const struct conf_target *targets[CONF_MAX_TARGETS];
    const char *target_names[CONF_MAX_TARGETS];
    const struct conf_target_ident *idents; /* per target: kernel, build id */
    const struct conf_calib *calib;
    const char *tier;
    unsigned long long seed;
    struct conf_results *results;
    struct conf_waivers *waivers;
    double seconds;
    int exit_code;
    const struct probe_latency *latency; /* per target; NULL: no latency pass (no --html) */
    const struct conf_soak *soak;        /* NULL: not a soak, or no --html */
};

/* verbose: the evidence of WAIVED results too (else one line each). */
void report_failures(FILE *out, const struct conf_run *run, bool verbose);
void report_stale_waivers(FILE *out, const struct conf_run *run);
void report_table(FILE *out, const struct conf_run *run);
void report_tap(FILE *out, const struct conf_run *run);
/* Write to a file; 0, or -1 after printing why. */
int report_junit(const char *path, const struct conf_run *run);
int report_json(const char *path, const struct conf_run *run);
/* One self-contained HTML page with the tables, the evidence and the plots. */
int report_html(const char *path, const struct conf_run *run);

#endif /* VDSOCONF_REPORT_H */
