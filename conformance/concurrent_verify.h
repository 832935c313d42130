/*
 * Group 4's verifier, for readings taken while the timekeeper storms the
 * data pages. A reader records what it knows around its call (the log
 * generation and the raw TSC before and after, the counter pages before
 * and after, a syscall bracket where fallback is possible); the verdict
 * says whether the result equals the 128-bit model of one committed state
 * in [gen before, gen after] at a counter the vDSO could have read in that
 * state (its time window: between the reader's own reads, not below the
 * state's cycle_last and, for entry points that re-check the seq, not past
 * the point where the next update made the seq odd, plus the measured
 * cross-CPU skew), whether it was a legitimate fallback, or whether the writer
 * outran the log so that the reading cannot be verified. A second check
 * judges a monotonic clock's reading against the highest one that was
 * complete before the call began.
 */
#ifndef VDSOCONF_CONCURRENT_VERIFY_H
#define VDSOCONF_CONCURRENT_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "inproc.h"

/* What a reader calls; clock ids first, then the other entry points. */
enum conc_op {
    CONC_CLOCK, /* clock_gettime(clk) */
    CONC_GETTIMEOFDAY,
    CONC_TIME,
};

struct conc_reading {
    enum conc_op op;
    clockid_t clk;
    int ret;
    int64_t value_ns;    /* the result: ns (clock), us (gettimeofday), s (time) */
    uint64_t gen0, gen1; /* tk_generation before and after the call */
    uint64_t tsc0, tsc1; /* raw TSC before and after */
    struct pvclock_vcpu_time_info pv0, pv1;
    struct ms_hyperv_tsc_page hv0, hv1;
    uint64_t traps;            /* syscalls the trap took from this thread during the call */
    long trap_ret;             /* the last one's return, as the emulated kernel answered */
    int64_t trap_value;        /* ... and its value, in value_ns's units */
    uint64_t trap_generation;  /* ... and the newest state when it answered */
    bool lead_ok;              /* states may carry a cycle_last ahead of the counter (skew) */
    bool in_flight;            /* an update was in progress when gen1 was loaded */
    uint64_t skew;             /* the cross-CPU TSC skew allowance (calibration), cycles */
    uint64_t breaks0, breaks1; /* tk_counter_page_breaks before and after the call */
    bool seq_may_repeat;       /* the scenario's seq came back to a value within the call */
};

enum conc_verdict {
    CONC_SERVED,       /* equals the model of a candidate state */
    CONC_FALLBACK,     /* trapped once, the trap's answer, and a candidate falls back */
    CONC_UNVERIFIABLE, /* candidate states fell out of the 256-entry log */
    CONC_WRONG,        /* neither: torn, stale, a trap no candidate explains, or an
                        * untrapped value no served state gives */
};

/* The state and counter a served reading was matched to. */
struct conc_match {
    uint64_t generation;
    uint64_t counter_hi; /* the top of the admissible counter range */
};

/*
 * Judge r, using buf (TK_LOG_ENTRIES entries, the caller's) for the
 * candidate states. On CONC_WRONG, why (len bytes) holds the evidence: the
 * reading, the brackets and the candidate states with their model values.
 */
enum conc_verdict conc_verify(struct vdso_loaded *l, const struct conc_reading *r,
                              struct tk_log_entry *buf, struct conc_match *m, char *why,
                              size_t len);

/* How a monotonic clock may go back in a scenario. */
enum conc_mono_policy {
    CONC_MONO_STRICT,  /* never below an earlier complete reading */
    CONC_MONO_EXPLAIN, /* unless the model of the two states explains it */
};

/* The highest reading of one monotonic clock so far, across all readers. */
struct conc_mark {
    bool set;
    int64_t value;
    uint64_t generation, counter_hi; /* the state and counter it was matched to (0: none) */
    bool verified;                   /* it was matched to a state (CONC_SERVED) */
};

enum conc_mono_verdict {
    CONC_MONO_OK,           /* not below the mark */
    CONC_MONO_EXPLAINED,    /* below it by no more than the model of the two states explains */
    CONC_MONO_UNATTRIBUTED, /* below it with one side unverified: neither explained nor wrong */
    CONC_MONO_STALE,        /* below a mark whose state left the log: unjudgeable; restart it */
    CONC_MONO_WRONG,        /* below it, unexplained */
};

/*
 * Judge clock reading r, served from a matched state (verified, m) or not,
 * against `before`, the mark taken before the call began. *back is how far
 * it went back (0 if not); on CONC_MONO_WRONG, why (len bytes) holds the
 * evidence.
 */
enum conc_mono_verdict conc_verify_monotonic(struct vdso_loaded *l, enum conc_mono_policy policy,
                                             const struct conc_reading *r, bool verified,
                                             const struct conc_match *m,
                                             const struct conc_mark *before, int64_t *back,
                                             char *why, size_t len);

#endif /* VDSOCONF_CONCURRENT_VERIFY_H */
