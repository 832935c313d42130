/*
 * The core vocabulary of vdsoconf: a test context handed to every group, the
 * calls a group uses to record one test (begin, fail with evidence, skip,
 * end) and the calibration every tolerance is derived from. A group runs in
 * a forked child; its records travel to the runner as one line each over a
 * pipe (see runner.c), so a crash or hang in the target loses nothing that
 * was already recorded.
 */
#ifndef VDSOCONF_CONF_H
#define VDSOCONF_CONF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sched.h>

#include "target.h"

enum conf_tier {
    CONF_TIER_QUICK,
    CONF_TIER_FULL,
    CONF_TIER_SOAK,
    CONF_TIER_DESTRUCTIVE, /* the live kernel's clock transitions: disposable guests only */
};

/* Measured once per run, before any group; every tolerance names its source. */
struct conf_calib {
    int64_t sys_lat_min_ns; /* clock_gettime syscall latency, minimum */
    int64_t sys_lat_med_ns; /* median */
    int64_t sys_lat_p99_ns; /* 99th percentile */
    int64_t res_ns[24];     /* clock_getres syscall, 0 when the id is invalid */
    int64_t tick_ns;        /* resolution of REALTIME_COARSE: one tick */
    int ncpus;              /* CPUs configured (getcpu must answer below it) */
    cpu_set_t allowed;      /* this process's affinity at start */
    int nallowed;
    bool hypervisor; /* running under a hypervisor (cpuinfo flag) */
    long tai_offset; /* adjtimex tai */
    /* The cross-CPU TSC skew bound (vdsokit/tsc_skew.h) over the allowed
     * CPUs: group 4's only allowance past a state's supersede point. */
    uint64_t tsc_skew;
    unsigned skew_pairs;
    uint64_t skew_handoffs;
};

/* What a group sees. */
struct conf_ctx {
    const struct conf_target *target;
    const struct conf_calib *calib;
    enum conf_tier tier;
    uint64_t seed;
    const char *only;        /* test id pattern, or NULL */
    bool listing;            /* --list: name the tests, run nothing */
    bool allow_inconclusive; /* a starved storm is a SKIP, not a FAIL */
    int out_fd;              /* record pipe to the runner */
    /* --explore-replay ENTRY:ID:MODE:SCHEDULE (group interleave), or NULL. */
    const char *explore_replay;
    /* State of the test in progress (one at a time per process). */
    char test_id[128];
    bool in_test, failed, skipped;
    unsigned evidence_lines;
};

/*
 * Start the test `id` (printf format). Returns false when the test is not
 * selected (--only) or the run only lists tests; the caller then skips it.
 */
bool conf_test_begin(struct conf_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Would the test `id` run (the --only filter)? Records nothing. */
bool conf_test_selected(const struct conf_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Record a failure; the message is evidence (several calls add lines). */
void conf_fail(struct conf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Record a failure with structured evidence: terms are "key=value ..."
 * (evidence.h; e.g. "got=0 res=0.000000001 want=-EINVAL") that a waiver
 * can match, the message is the prose. A failure recorded with plain
 * conf_fail has no terms and can never be waived.
 */
void conf_fail_ev(struct conf_ctx *ctx, const char *terms, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Record a finding about the host (its counter, its hypervisor), not the
 * target: reported on its own line with its evidence, never a failure.
 */
void conf_host_finding(struct conf_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Add an evidence line without failing (printed only if the test fails). */
void conf_note(struct conf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Export counts of the test in progress as "key=value ..." terms (numbers;
 * e.g. "readings=1200 verified=1180") for the plots of the HTML report;
 * never evidence, never part of a verdict. A later call replaces them.
 */
void conf_metric(struct conf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Mark the test skipped with its reason (ignored if it already failed). */
void conf_skip(struct conf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Finish the test: PASS unless it failed or was skipped. */
void conf_test_end(struct conf_ctx *ctx);

/* A whole test that is skipped at once: begin + skip + end. */
void conf_test_skip(struct conf_ctx *ctx, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Inside a test: SKIP it (returning false) when the target lacks the entry
 * point `name`, saying which symbol and why.
 */
bool conf_require(struct conf_ctx *ctx, const void *fn, const char *name);

/*
 * The range check every reading gets (tv_nsec < 1e9, tv_usec < 1e6, no
 * negative or absurd seconds); fails the test with `what` as evidence.
 */
bool conf_check_ts(struct conf_ctx *ctx, const struct timespec *ts, const char *what);
bool conf_check_tv(struct conf_ctx *ctx, const struct timeval *tv, const char *what);

/* Quick tier duration scaled for the tier (full and soak rounds: x20). */
int64_t conf_budget_ns(const struct conf_ctx *ctx, int64_t quick_ns);

/* Repetition count scaled likewise (x10). */
unsigned conf_budget_iters(const struct conf_ctx *ctx, unsigned quick_iters);

/* Deterministic per-run pseudo random numbers (xorshift64*), seeded by --seed. */
uint64_t conf_rand(uint64_t *state);

/* A group: a name (the first component of its test ids) and a body. */
struct conf_group {
    int number;
    const char *name;
    const char *summary;
    void (*run)(struct conf_ctx *ctx);
};

extern const struct conf_group conf_groups[];
extern const unsigned conf_ngroups;

void group_monotonic(struct conf_ctx *ctx);
void group_consistency(struct conf_ctx *ctx);
void group_getcpu(struct conf_ctx *ctx);
void group_concurrent(struct conf_ctx *ctx);
void group_timens(struct conf_ctx *ctx);
void group_syscall_free(struct conf_ctx *ctx);
void group_hygiene(struct conf_ctx *ctx);
void group_getrandom(struct conf_ctx *ctx);
void group_destructive(struct conf_ctx *ctx);
void group_interleave(struct conf_ctx *ctx);

#endif /* VDSOCONF_CONF_H */
