/*
 * Timing probes of a target outside the test groups, for the HTML report's
 * plots (never part of a verdict): what one call of each entry point costs
 * next to the syscall that answers the same question (best and median of
 * batches), and how far each clock of the target sits from the syscall's
 * reading of the same clock (per soak round). Each probe runs in a forked
 * child with a deadline, as a group does, so that a target that crashes
 * or hangs costs the probe and nothing else.
 */
#ifndef VDSOCONF_PROBE_H
#define VDSOCONF_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "target.h"

/* The entry points in report order: clock_gettime, gettimeofday, time, clock_getres, getcpu. */
#define PROBE_NENTRY 5

extern const char *const probe_entry_names[PROBE_NENTRY];

struct probe_cost {
    bool present;        /* the target (or the syscall) has this entry point */
    double best, median; /* ns per call over the batches */
};

struct probe_latency {
    bool measured;
    char why[160];  /* when not measured: how the probe's child ended */
    double seconds; /* the probe's wall time, child start to end */
    struct probe_cost vdso[PROBE_NENTRY], sys[PROBE_NENTRY];
};

/* Measure t's entry points and the syscalls (about 20 ms, plus loading an image). */
void probe_latency(const struct conf_target *t, struct probe_latency *out);

/* The clocks whose offsets a soak records. */
#define PROBE_NCLOCKS 7

extern const int probe_clock_ids[PROBE_NCLOCKS];

struct probe_offsets {
    bool measured;
    bool present[PROBE_NCLOCKS];   /* the target answered this clock */
    int64_t offset[PROBE_NCLOCKS]; /* target minus the syscall bracket's midpoint, ns */
};

/* One reading of each clock of t against the syscall, each from its tightest of 16 brackets. */
void probe_offsets(const struct conf_target *t, struct probe_offsets *out);

#endif /* VDSOCONF_PROBE_H */
