/*
 * Group 10, destructive (only with --tier destructive, which the runner
 * allows only in a disposable guest: destr_guard.h). The live kernel's own
 * state transitions: REALTIME steps, NTP frequency, offset and tick, leap
 * seconds, TAI, tz, clocksource switches and CPU hotplug, one test per
 * kind, each driven while one reader per CPU calls the target's five entry
 * points (destr_readers.h). A last test reports the readings made at rest,
 * between transitions. The runner restores the clock state after this
 * group, in its own process, whatever happens here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "destr_kinds.h"
#include "destr_trap.h"
#include "oracle.h"

static const char *const kind_names[DK_N] = {"realtime_step", "frequency",   "offset", "tick",
                                             "leap_insert",   "leap_delete", "tai",    "tz",
                                             "clocksource",   "cpu_hotplug", "at_rest"};
static const char *const entry_names[DE_N] = {"clock_gettime", "gettimeofday", "time",
                                              "clock_getres", "getcpu"};

static void run_kind(struct destr_driver *d, enum destr_kind k)
{
    switch (k) {
    case DK_STEP:
        destr_kind_step(d);
        break;
    case DK_FREQUENCY:
        destr_kind_frequency(d);
        break;
    case DK_OFFSET:
        destr_kind_offset(d);
        break;
    case DK_TICK:
        destr_kind_tick(d);
        break;
    case DK_LEAP_INSERT:
    case DK_LEAP_DELETE:
        destr_kind_leap(d, k == DK_LEAP_INSERT);
        break;
    case DK_TAI:
        destr_kind_tai(d);
        break;
    case DK_TZ:
        destr_kind_tz(d);
        break;
    case DK_CLOCKSOURCE:
        destr_kind_clocksource(d);
        break;
    case DK_HOTPLUG:
        destr_kind_hotplug(d);
        break;
    default:
        destr_settle(d);
        break;
    }
}

/* The readers' findings of kind k: the kernel's own behaviour, never a failure. */
static void report_findings(struct destr_driver *d, enum destr_kind k)
{
    for (unsigned i = 0; i < d->sh->nreaders; i++) {
        unsigned n = atomic_load_explicit(&d->sh->readers[i].nfind[k], memory_order_acquire);
        for (unsigned j = 0; j < n && j < DESTR_LOG; j++)
            conf_host_finding(d->ctx, "the kernel during %s (%u such readings on cpu %d): %s",
                              kind_names[k], n, d->sh->cpus[i], d->sh->readers[i].find[k][j].text);
    }
}

/* The readers' failures of kind k: a count, then each logged line. */
static void report_failures(struct destr_driver *d, enum destr_kind k)
{
    unsigned total = 0;

    for (unsigned i = 0; i < d->sh->nreaders; i++)
        total += atomic_load_explicit(&d->sh->readers[i].nfail[k], memory_order_acquire);
    if (!total)
        return;
    conf_fail(d->ctx, "%u readings failed their check during %s", total, kind_names[k]);
    for (unsigned i = 0; i < d->sh->nreaders; i++) {
        unsigned n = atomic_load_explicit(&d->sh->readers[i].nfail[k], memory_order_acquire);
        for (unsigned j = 0; j < n && j < DESTR_LOG; j++)
            conf_note(d->ctx, "reader %u (cpu %d): %s", i, d->sh->cpus[i],
                      d->sh->readers[i].log[k][j].text);
    }
}

/* Served and fell-back HRES calls per clocksource, for the report and the note. */
static void served_counts(struct destr_driver *d, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = 0;
    for (unsigned c = 0; c < d->ncs && n < len; c++) {
        uint64_t s = 0, f = 0;
        for (unsigned i = 0; i < d->sh->nreaders; i++) {
            s += atomic_load(&d->sh->readers[i].served[c]);
            f += atomic_load(&d->sh->readers[i].fell_back[c]);
        }
        n += (size_t)snprintf(buf + n, len - n, "%s%s (clock mode %d) served %llu fell back %llu",
                              c ? "; " : "", d->cs_names[c], d->cs_mode[c], (unsigned long long)s,
                              (unsigned long long)f);
    }
}

/* The kind's numbers: on stderr (the matrix collects them) and as metrics. */
static void report_numbers(struct destr_driver *d, enum destr_kind k, double seconds)
{
    char line[512], served[512];
    size_t n = 0;
    uint64_t all = 0;

    for (int e = 0; e < DE_N; e++) {
        uint64_t r = destr_readings(d->sh, k, (enum destr_entry)e);
        all += r;
        n += (size_t)snprintf(line + n, sizeof(line) - n, " %s %llu", entry_names[e],
                              (unsigned long long)r);
    }
    fprintf(stderr, "destructive: %s %s: %u transitions, %llu readings (%s ), %.1f s\n",
            d->sh->target->name, kind_names[k], d->transitions, (unsigned long long)all, line,
            seconds);
    conf_metric(d->ctx, "transitions=%u readings=%llu seconds=%.1f", d->transitions,
                (unsigned long long)all, seconds);
    if (k == DK_CLOCKSOURCE) {
        served_counts(d, served, sizeof(served));
        fprintf(stderr, "destructive: %s clocksource HRES calls: %s\n", d->sh->target->name,
                served);
        conf_note(d->ctx, "HRES calls per clocksource: %s", served);
    }
}

static void one_kind(struct destr_driver *d, enum destr_kind k)
{
    if (!conf_test_begin(d->ctx, "destructive.%s", kind_names[k]))
        return;
    if (d->aborted) {
        conf_skip(d->ctx, "an earlier reader hang stopped the tier");
        conf_test_end(d->ctx);
        return;
    }
    int64_t t0 = dt_mono_ns();
    d->transitions = 0;
    atomic_store(&d->sh->kind, (int)k);
    run_kind(d, k);
    /* Readings begun under k end before its failures are counted. */
    atomic_store(&d->sh->kind, DK_REST);
    destr_settle(d);
    report_failures(d, k);
    report_findings(d, k);
    report_numbers(d, k, (double)(dt_mono_ns() - t0) / NSEC_PER_SEC);
    conf_test_end(d->ctx);
}

static void read_clocksources(struct destr_driver *d)
{
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/available_clocksource", "r");

    d->ncs = 0;
    if (!f)
        return;
    while (d->ncs < DESTR_MAX_CS && fscanf(f, "%31s", d->cs_names[d->ncs]) == 1)
        d->ncs++;
    fclose(f);
}

static int current_cs(const struct destr_driver *d)
{
    char now[64] = "";
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

    if (f && fscanf(f, "%63s", now) != 1)
        now[0] = 0;
    if (f)
        fclose(f);
    for (unsigned k = 0; k < d->ncs; k++)
        if (strcmp(d->cs_names[k], now) == 0)
            return (int)k;
    return -1;
}

/* The shared state as the kernel has it now, and the CPUs to read on. */
static void init_shared(struct destr_driver *d, struct conf_ctx *ctx)
{
    struct destr_shared *sh = d->sh;
    struct timezone tz = {0, 0};

    sh->target = ctx->target;
    sh->calib = ctx->calib;
    for (int c = 0; c < 64 && sh->nreaders < DESTR_MAX_READERS; c++)
        if (CPU_ISSET(c, &ctx->calib->allowed)) {
            sh->nodes[sh->nreaders] = sysfs_cpu_node(c);
            sh->cpus[sh->nreaders++] = c;
        }
    adjtimex(&d->tx0);
    atomic_store(&sh->tai, d->tx0.tai);
    dt_gettimeofday(NULL, &tz);
    atomic_store(&sh->tz_min, tz.tz_minuteswest);
    atomic_store(&sh->tz_dst, tz.tz_dsttime);
    atomic_store(&sh->kind, DK_REST);
    read_clocksources(d);
    for (unsigned k = 0; k < DESTR_MAX_CS; k++)
        d->cs_mode[k] = -1;
    destr_publish_mode(d, current_cs(d));
    dt_clock_gettime(CLOCK_REALTIME, &d->rt0);
    clock_gettime(CLOCK_MONOTONIC_RAW, &d->raw0);
    /* A reader stuck this long is a hang: 10 s plus 10^4 syscall latencies. */
    d->hang_ns = 10 * NSEC_PER_SEC + 10000 * ctx->calib->sys_lat_p99_ns;
    d->ctx = ctx;
}

/* Why the group cannot run on this target, or NULL. */
static const char *unfit(const struct conf_target *t, char *buf, size_t len)
{
    const struct conf_vdso_fns *f = &t->fn;

    if (t->flags & CONF_TARGET_IN_PROCESS)
        return "an in-process target reads emulated pages: the kernel's transitions never "
               "reach it";
    if (!f->clock_gettime || !f->gettimeofday || !f->time || !f->clock_getres || !f->getcpu) {
        snprintf(buf, len, "the readers call all five entry points: %s", t->missing);
        return buf;
    }
    return NULL;
}

static void skip_all(struct conf_ctx *ctx, const char *why)
{
    for (int k = 0; k < DK_N; k++)
        if (conf_test_begin(ctx, "destructive.%s", kind_names[k])) {
            conf_skip(ctx, "%s", why);
            conf_test_end(ctx);
        }
}

void group_destructive(struct conf_ctx *ctx)
{
    static struct destr_shared sh;
    struct destr_driver d = {.sh = &sh};
    char buf[320];
    const char *why = ctx->listing ? NULL : unfit(ctx->target, buf, sizeof(buf));

    if (!why && !ctx->listing && destr_trap_install() != 0) {
        snprintf(buf, sizeof(buf), "cannot install the seccomp filter: %s", strerror(errno));
        why = buf;
    }
    if (why || ctx->listing) {
        skip_all(ctx, why ? why : "");
        return;
    }
    init_shared(&d, ctx);
    int e = destr_readers_start(&sh);
    if (e) {
        snprintf(buf, sizeof(buf), "cannot start the readers: %s", strerror(-e));
        skip_all(ctx, buf);
        return;
    }
    destr_settle(&d);
    for (int k = 0; k < DK_N; k++)
        one_kind(&d, (enum destr_kind)k);
    if (!d.aborted)
        destr_readers_stop(&sh);
}
