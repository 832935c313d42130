/*
 * vdsoconf: gate a vDSO implementation. Parses the command line, opens the
 * targets, calibrates, runs every selected group against every target (each
 * in a forked child with a deadline), applies waivers and writes the
 * reports; for --html it also runs the timing probes (probe.h). Exit
 * status: 0 all passed (skips and waived failures allowed), 1 any failure
 * or test not run, 2 usage or setup error (a requested target that offers
 * no entry point at all is one, unless --allow-missing names it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vdsokit/version.h>

#include "calib.h"
#include "conf.h"
#include "oracle.h"
#include "report.h"
#include "runner.h"
#include "target_ident.h"
#include "tier_destructive.h"
#include "waiver.h"

#ifdef VDSOCONF_STATIC
#define VDSOCONF_NAME "vdsoconf-static"
#else
#define VDSOCONF_NAME "vdsoconf"
#endif

struct options {
    const char *targets[CONF_MAX_TARGETS];
    unsigned ntargets;
    enum conf_tier tier;
    const char *tier_name;
    double duration_s;
    double deadline_s;
    const char *allow_missing[CONF_MAX_TARGETS];
    unsigned nallow_missing;
    bool list, tap, strict_waivers, allow_inconclusive, verbose, allow_clock_writes;
    const char *only, *junit, *json, *html, *waivers;
    unsigned long long seed;
    bool seed_given;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: vdsoconf [options]\n"
                 "Conformance suite for Linux x86-64 vDSO implementations.\n\n"
                 "  --target T       live | libc | ref | image:PATH (repeatable); ref and\n"
                 "                   image:PATH take a suffix ,counter=tsc|pvclock|hvclock\n"
                 "                   (the emulated clocksource, default tsc), ,hz=N (the\n"
                 "                   emulated tick: ref's build, else the host's) and\n"
                 "                   ,layout=VERSION (the kernel whose data-page layout the\n"
                 "                   image reads, e.g. 6.12; default: the image's Linux\n"
                 "                   note; ref,layout=6.1 runs the reference built for\n"
                 "                   that kernel's era). Default: live, ref.\n"
                 "  --tier T         quick (about 10 s per target), full (about 60 s), soak,\n"
                 "                   or destructive: the live kernel's clock transitions\n"
                 "                   (steps, slews, leap seconds, TAI, tz, clocksource, CPU\n"
                 "                   hotplug) under readers on every CPU; it CHANGES THE\n"
                 "                   SYSTEM CLOCK, saves and restores it, and runs only with\n"
                 "                   --allow-clock-writes in a disposable guest: under a\n"
                 "                   hypervisor, the root an initramfs (rootfs), no filesystem\n"
                 "                   of a block device mounted (docs/gating.md)\n"
                 "  --allow-clock-writes\n"
                 "                   consent to --tier destructive writing the clock\n"
                 "  --duration S     soak length in seconds (default 600); progress on stderr\n"
                 "  --list           print the test ids that would run, run nothing\n"
                 "  --only PATTERN   run test ids matching the fnmatch PATTERN; a pattern\n"
                 "                   without '.' selects groups (e.g. getcpu, 'mono*')\n"
                 "  --seed N         seed of the randomised choices (printed when not given)\n"
                 "  --tap            TAP version 13 on stdout (human report goes to stderr)\n"
                 "  --junit FILE     JUnit XML report\n"
                 "  --json FILE      JSON report\n"
                 "  --html FILE      one self-contained HTML page: the verdict, the table,\n"
                 "                   the evidence, the calibration and plots drawn by gnuplot\n"
                 "                   (adds a latency probe per target; a soak also records\n"
                 "                   each clock's offset against the syscall per round)\n"
                 "  --waivers FILE   accept known deviations, each named by its evidence\n"
                 "                   (syntax: conformance/waivers.txt; the project's file is\n"
                 "                   installed as " VDSOCONF_WAIVERS_INSTALLED ")\n"
                 "  --allow-missing T  a target T (glob) that cannot be tested (no vDSO, no\n"
                 "                   entry point at all) is reported NOT TESTED instead of\n"
                 "                   being a setup error (repeatable)\n"
                 "  --strict-waivers a stale waiver (no longer matching a failure) fails the run\n"
                 "  --deadline S     per-group deadline in seconds (default: quick 60, full 300)\n"
                 "  --allow-inconclusive\n"
                 "                   a group-4 storm whose readers verified too few readings\n"
                 "                   (a slow emulator, a starved machine) is a SKIP, not a FAIL\n"
                 "  --verbose        print the evidence of WAIVED results too (by default one\n"
                 "                   line each; the JSON, JUnit and TAP reports always have it)\n"
                 "  --version        print the version and exit\n"
                 "  --help           this text\n\n"
                 "Groups: ");
    for (unsigned g = 0; g < conf_ngroups; g++)
        fprintf(out, "%s%d %s", g ? ", " : "", conf_groups[g].number, conf_groups[g].name);
    fprintf(out, "\n\nExit status: 0 all passed (skips and waived failures allowed), 1 any\n"
                 "failure or test NOT RUN (a crash or deadline kept it from running), 2 usage\n"
                 "or setup error (including a target that cannot be opened or has no entry\n"
                 "point, unless --allow-missing names it; a refused --tier destructive). A\n"
                 "target x group whose tests all skipped is reported NOT TESTED.\n");
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "vdsoconf: %s%s%s\n(try --help)\n", msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

static int parse_number(const char *s, double *out)
{
    char *end;

    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v <= 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    enum {
        O_TARGET = 256,
        O_TIER,
        O_DURATION,
        O_LIST,
        O_ONLY,
        O_SEED,
        O_TAP,
        O_JUNIT,
        O_JSON,
        O_HTML,
        O_WAIVERS,
        O_STRICT,
        O_DEADLINE,
        O_ALLOW_INCONCLUSIVE,
        O_ALLOW_MISSING,
        O_VERBOSE,
        O_ALLOW_CLOCK_WRITES,
        O_VERSION,
        O_HELP
    };
    static const struct option longopts[] = {
        {"target", required_argument, 0, O_TARGET},
        {"tier", required_argument, 0, O_TIER},
        {"duration", required_argument, 0, O_DURATION},
        {"list", no_argument, 0, O_LIST},
        {"only", required_argument, 0, O_ONLY},
        {"seed", required_argument, 0, O_SEED},
        {"tap", no_argument, 0, O_TAP},
        {"junit", required_argument, 0, O_JUNIT},
        {"json", required_argument, 0, O_JSON},
        {"html", required_argument, 0, O_HTML},
        {"waivers", required_argument, 0, O_WAIVERS},
        {"strict-waivers", no_argument, 0, O_STRICT},
        {"deadline", required_argument, 0, O_DEADLINE},
        {"allow-inconclusive", no_argument, 0, O_ALLOW_INCONCLUSIVE},
        {"allow-missing", required_argument, 0, O_ALLOW_MISSING},
        {"verbose", no_argument, 0, O_VERBOSE},
        {"allow-clock-writes", no_argument, 0, O_ALLOW_CLOCK_WRITES},
        {"version", no_argument, 0, O_VERSION},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    o->tier = CONF_TIER_QUICK;
    o->tier_name = "quick";
    o->duration_s = 600;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_TARGET:
            if (o->ntargets == CONF_MAX_TARGETS)
                return usage_error("too many --target options", optarg);
            o->targets[o->ntargets++] = optarg;
            break;
        case O_TIER:
            if (strcmp(optarg, "quick") == 0)
                o->tier = CONF_TIER_QUICK;
            else if (strcmp(optarg, "full") == 0)
                o->tier = CONF_TIER_FULL;
            else if (strcmp(optarg, "soak") == 0)
                o->tier = CONF_TIER_SOAK;
            else if (strcmp(optarg, "destructive") == 0)
                o->tier = CONF_TIER_DESTRUCTIVE;
            else
                return usage_error("--tier must be quick, full, soak or destructive", optarg);
            o->tier_name = optarg;
            break;
        case O_DURATION:
            if (parse_number(optarg, &o->duration_s))
                return usage_error("--duration needs a positive number of seconds", optarg);
            break;
        case O_DEADLINE:
            if (parse_number(optarg, &o->deadline_s))
                return usage_error("--deadline needs a positive number of seconds", optarg);
            break;
        case O_LIST:
            o->list = true;
            break;
        case O_ONLY:
            o->only = optarg;
            break;
        case O_SEED: {
            char *end;
            errno = 0;
            o->seed = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end)
                return usage_error("--seed needs an unsigned integer", optarg);
            o->seed_given = true;
            break;
        }
        case O_TAP:
            o->tap = true;
            break;
        case O_JUNIT:
            o->junit = optarg;
            break;
        case O_JSON:
            o->json = optarg;
            break;
        case O_HTML:
            o->html = optarg;
            break;
        case O_WAIVERS:
            o->waivers = optarg;
            break;
        case O_ALLOW_MISSING:
            if (o->nallow_missing == CONF_MAX_TARGETS)
                return usage_error("too many --allow-missing options", optarg);
            o->allow_missing[o->nallow_missing++] = optarg;
            break;
        case O_STRICT:
            o->strict_waivers = true;
            break;
        case O_ALLOW_INCONCLUSIVE:
            o->allow_inconclusive = true;
            break;
        case O_VERBOSE:
            o->verbose = true;
            break;
        case O_ALLOW_CLOCK_WRITES:
            o->allow_clock_writes = true;
            break;
        case O_VERSION:
            printf("%s %s\n", VDSOCONF_NAME, VDSOKIT_VERSION_FULL);
            exit(0);
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            return usage_error("unknown or incomplete option", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (o->tier == CONF_TIER_DESTRUCTIVE && !o->allow_clock_writes && !o->list) {
        fprintf(stderr, "vdsoconf: refused: --tier destructive changes the system clock (steps, "
                        "leap seconds, clocksource, CPU hotplug); give --allow-clock-writes, "
                        "and run it only in a disposable guest; nothing was changed\n");
        return 2;
    }
    if (o->ntargets == 0) {
        o->targets[o->ntargets++] = "live";
        o->targets[o->ntargets++] = "ref";
    }
    if (!o->seed_given)
        o->seed = (unsigned long long)mono_now_ns() ^ ((unsigned long long)getpid() << 32);
    return 0;
}

static int64_t group_deadline_ns(const struct options *o)
{
    if (o->deadline_s > 0)
        return (int64_t)(o->deadline_s * NSEC_PER_SEC);
    return o->tier == CONF_TIER_QUICK ? 60 * NSEC_PER_SEC : 300 * NSEC_PER_SEC;
}

static void progress_cell(FILE *out, const struct conf_run *run, unsigned t, unsigned g,
                          size_t first_item)
{
    const struct conf_results *rs = run->results;
    unsigned cnt[CONF_NSTATUS] = {0};

    for (size_t i = first_item; i < rs->n; i++) {
        const struct conf_result *r = &rs->items[i];
        if (r->target != t || r->group != g)
            continue;
        bool waived = waivers_accepting(run->waivers, &run->idents[t], r) != NULL;
        cnt[waived ? CONF_WAIVED : r->status]++;
    }
    fprintf(out, "  %-16s %d %-12s %4u pass %3u fail %3u skip %3u waived", run->target_names[t],
            conf_groups[g].number, conf_groups[g].name, cnt[CONF_PASS], cnt[CONF_FAIL],
            cnt[CONF_SKIP], cnt[CONF_WAIVED]);
    if (cnt[CONF_NOTRUN])
        fprintf(out, " %3u NOT RUN", cnt[CONF_NOTRUN]);
    fprintf(out, " %6.2fs\n", rs->cells[t][g].seconds);
    fflush(out);
}

/* The destructive group runs in its own tier and only there. */
static bool group_in_tier(const struct options *o, unsigned g)
{
    return (conf_groups[g].run == group_destructive) == (o->tier == CONF_TIER_DESTRUCTIVE);
}

static void run_round(const struct options *o, struct conf_run *run, struct conf_ctx *proto,
                      FILE *human, const struct destr_clock_state *saved)
{
    for (unsigned t = 0; t < run->ntargets; t++) {
        proto->target = run->targets[t];
        for (unsigned g = 0; g < conf_ngroups; g++) {
            size_t before = run->results->n;
            if (!group_in_tier(o, g))
                continue;
            conf_run_group(run->results, t, g, proto, group_deadline_ns(o));
            if (o->tier == CONF_TIER_DESTRUCTIVE &&
                !(run->targets[t]->flags & CONF_TARGET_IN_PROCESS))
                destructive_restore(run->results, t, g, saved, human);
            if (o->tier != CONF_TIER_SOAK)
                progress_cell(human, run, t, g, before);
        }
    }
}

static unsigned count_failures(const struct conf_results *rs)
{
    unsigned n = 0;

    for (size_t i = 0; i < rs->n; i++)
        n += rs->items[i].status == CONF_FAIL || rs->items[i].status == CONF_NOTRUN;
    return n;
}

/* A soak's point of the HTML report's offset plot: every target's clocks now. */
static void record_offsets(const struct conf_run *run, struct conf_soak *soak, int64_t t0)
{
    if (soak->n == soak->cap) {
        unsigned cap = soak->cap ? soak->cap * 2 : 16;
        void *p = realloc(soak->rounds, cap * sizeof(soak->rounds[0]));
        if (!p)
            return;
        soak->rounds = p;
        soak->cap = cap;
    }
    struct conf_soak_round *r = &soak->rounds[soak->n++];
    r->t_s = (double)(mono_now_ns() - t0) / NSEC_PER_SEC;
    for (unsigned t = 0; t < run->ntargets; t++)
        probe_offsets(run->targets[t], &r->off[t]);
}

static void run_all(const struct options *o, struct conf_run *run, struct conf_ctx *proto,
                    struct conf_soak *soak, FILE *human, const struct destr_clock_state *saved)
{
    int64_t t0 = mono_now_ns();

    if (o->tier != CONF_TIER_SOAK) {
        run_round(o, run, proto, human, saved);
    } else {
        int64_t end = t0 + (int64_t)(o->duration_s * NSEC_PER_SEC);
        unsigned round = 0;
        if (o->html)
            record_offsets(run, soak, t0);
        while (mono_now_ns() < end) {
            run_round(o, run, proto, human, saved);
            if (o->html)
                record_offsets(run, soak, t0);
            round++;
            fprintf(stderr, "soak: %.0f/%.0f s, round %u, %zu tests, %u failing\n",
                    (double)(mono_now_ns() - t0) / NSEC_PER_SEC, o->duration_s, round,
                    run->results->n, count_failures(run->results));
        }
    }
    run->seconds = (double)(mono_now_ns() - t0) / NSEC_PER_SEC;
}

static bool allowed_missing(const struct options *o, const char *name)
{
    for (unsigned i = 0; i < o->nallow_missing; i++)
        if (fnmatch(o->allow_missing[i], name, FNM_PATHNAME) == 0)
            return true;
    return false;
}

/*
 * A target without a single entry point (no vDSO mapped, an image that
 * exports nothing) tests nothing: a setup error unless the user allowed it.
 */
static int check_testable(const struct options *o, const struct conf_target *t)
{
    const struct conf_vdso_fns *f = &t->fn;

    if (f->clock_gettime || f->gettimeofday || f->time || f->clock_getres || f->getcpu)
        return 0;
    if (allowed_missing(o, t->name)) {
        fprintf(stderr,
                "vdsoconf: target %s has no entry point (%s); allowed by --allow-missing: its "
                "groups will show as NOT TESTED\n",
                t->name, t->missing[0] ? t->missing : "none resolved");
        return 0;
    }
    fprintf(stderr,
            "vdsoconf: setup error: target %s cannot be tested: %s (no entry point at all); "
            "pass --allow-missing %s to report it as NOT TESTED instead\n",
            t->name, t->missing[0] ? t->missing : "no entry point resolved", t->name);
    return 2;
}

static int finish(const struct options *o, struct conf_run *run, FILE *human)
{
    waivers_apply(run->waivers, run->results, run->idents);
    bool stale = false;
    for (size_t k = 0; k < run->waivers->n; k++)
        stale |= waiver_is_stale(&run->waivers->items[k]);
    run->exit_code = count_failures(run->results) || (stale && o->strict_waivers) ? 1 : 0;

    report_failures(human, run, o->verbose);
    report_stale_waivers(human, run);
    report_table(human, run);
    if (o->tap)
        report_tap(stdout, run);
    int ok = 0;
    if (o->junit)
        ok |= report_junit(o->junit, run);
    if (o->json)
        ok |= report_json(o->json, run);
    if (o->html)
        ok |= report_html(o->html, run);
    return ok ? 2 : run->exit_code;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    int rc = parse_options(argc, argv, &o);

    if (rc)
        return rc;
    FILE *human = o.tap ? stderr : stdout;

    static struct conf_target targets[CONF_MAX_TARGETS];
    static struct conf_target_ident idents[CONF_MAX_TARGETS];
    struct conf_results results = {0};
    struct conf_waivers waivers = {0};
    static struct conf_calib calib;
    struct conf_run run = {.calib = &calib,
                           .tier = o.tier_name,
                           .seed = o.seed,
                           .results = &results,
                           .idents = idents,
                           .waivers = &waivers};
    char err[512];
    for (unsigned t = 0; t < o.ntargets; t++) {
        if (conf_target_open(&targets[t], o.targets[t], o.seed, err, sizeof(err)) != 0) {
            fprintf(stderr, "vdsoconf: setup error: %s\n", err);
            return 2;
        }
        if (!o.list && check_testable(&o, &targets[t]) != 0)
            return 2;
        conf_target_identify(&targets[t], &idents[t]);
        run.targets[t] = &targets[t];
        run.target_names[t] = targets[t].name;
    }
    run.ntargets = o.ntargets;
    if (o.waivers && waivers_load(&waivers, o.waivers, err, sizeof(err)) != 0) {
        fprintf(stderr, "vdsoconf: setup error: %s\n", err);
        return 2;
    }

    struct conf_ctx proto = {.calib = &calib,
                             .tier = o.tier,
                             .seed = o.seed,
                             .only = o.only,
                             .listing = o.list,
                             .allow_inconclusive = o.allow_inconclusive,
                             .out_fd = -1};
    conf_calibrate(&calib);
    static struct destr_clock_state saved;
    if (o.tier == CONF_TIER_DESTRUCTIVE && !o.list &&
        (rc = destructive_admit(&calib, &saved, human)) != 0)
        return rc;
    if (o.list) {
        proto.target = run.targets[0];
        for (unsigned g = 0; g < conf_ngroups; g++)
            if (group_in_tier(&o, g))
                conf_run_group(&results, 0, g, &proto, group_deadline_ns(&o));
        return 0;
    }

    fprintf(human, "vdsoconf: tier %s, seed %llu%s%s\n", o.tier_name, o.seed,
            o.only ? ", only " : "", o.only ? o.only : "");
    conf_calib_print(&calib, human);
    for (unsigned t = 0; t < run.ntargets; t++) {
        fprintf(human, "target %s: %s%s%s\n  identity for waivers: ", targets[t].name,
                targets[t].detail, targets[t].missing[0] ? "; missing: " : "", targets[t].missing);
        conf_target_ident_print(human, &idents[t]);
        fputc('\n', human);
        if (targets[t].emulated[0])
            fprintf(human, "  emulated kernel: %s\n", targets[t].emulated);
    }
    static struct probe_latency latency[CONF_MAX_TARGETS];
    struct conf_soak soak = {0};
    if (o.html) {
        fprintf(human, "latency probe (for --html):");
        for (unsigned t = 0; t < run.ntargets; t++) {
            probe_latency(&targets[t], &latency[t]);
            fprintf(human, "%s %s %.3f s", t ? "," : "", targets[t].name, latency[t].seconds);
            if (!latency[t].measured)
                fprintf(human, " (no numbers: %s)", latency[t].why);
        }
        fputc('\n', human);
        run.latency = latency;
        if (o.tier == CONF_TIER_SOAK)
            run.soak = &soak;
    }
    run_all(&o, &run, &proto, &soak, human, &saved);
    rc = finish(&o, &run, human);
    for (unsigned t = 0; t < run.ntargets; t++)
        conf_target_close(&targets[t]);
    waivers_free(&waivers);
    results_free(&results);
    free(soak.rounds);
    return rc;
}
