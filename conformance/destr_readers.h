/*
 * The destructive tier's readers: one thread per allowed CPU, each pinned,
 * calling the target's five entry points in turn while the driver makes the
 * kernel change its clock state. Each call is sandwiched by the kernel's
 * syscalls (past the trap filter, destr_trap.h) and checked against
 * what the driver published: exactly when no transition overlapped the
 * call (the generation was the same even value before and after), and by
 * what any transition allows when one did. Readers never report; they log
 * their first failures per transition kind and the driver reports them.
 */
#ifndef VDSOCONF_DESTR_READERS_H
#define VDSOCONF_DESTR_READERS_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "conf.h"

enum destr_kind {
    DK_STEP,
    DK_FREQUENCY,
    DK_OFFSET,
    DK_TICK,
    DK_LEAP_INSERT,
    DK_LEAP_DELETE,
    DK_TAI,
    DK_TZ,
    DK_CLOCKSOURCE,
    DK_HOTPLUG,
    DK_REST, /* between transitions: the state at rest */
    DK_N
};

/* The entry points, in the order readers call them. */
enum destr_entry { DE_GETTIME, DE_GETTIMEOFDAY, DE_TIME, DE_GETRES, DE_GETCPU, DE_N };

#define DESTR_MAX_READERS 64
#define DESTR_MAX_CS      8
#define DESTR_LOG         6 /* failures logged per reader and kind */

struct destr_failure {
    char text[240];
};

struct destr_shared;

struct destr_reader {
    pthread_t thread;
    unsigned index;
    struct destr_shared *sh;
    _Atomic uint64_t progress;  /* readings completed */
    _Atomic int in_entry;       /* enum destr_entry while inside a call, -1 outside */
    _Atomic int64_t call_start; /* MONOTONIC of the call in progress */
    _Atomic uint64_t readings[DK_N][DE_N];
    _Atomic uint64_t served[DESTR_MAX_CS], fell_back[DESTR_MAX_CS]; /* HRES calls */
    _Atomic unsigned nfail[DK_N];
    struct destr_failure log[DK_N][DESTR_LOG];
    /* The kernel's own behaviour (the syscall did it too): findings, never failures. */
    _Atomic unsigned nfind[DK_N];
    struct destr_failure find[DK_N][DESTR_LOG];
};

/* What the driver publishes; fields other than gen are valid while gen is even. */
struct destr_shared {
    const struct conf_target *target;
    const struct conf_calib *calib;
    int cpus[DESTR_MAX_READERS]; /* the allowed CPUs, readers pin to these */
    int nodes[DESTR_MAX_READERS];
    unsigned nreaders;
    _Atomic uint64_t gen; /* odd while a transition is in flight */
    _Atomic int kind;     /* enum destr_kind being driven: readings count for it */
    _Atomic long tai;     /* the TAI offset last set */
    _Atomic int tz_min, tz_dst;
    _Atomic int cs;           /* index of the clocksource in force (served counts) */
    _Atomic int served;       /* 1: HRES calls must be served, 0: must fall back, -1: unknown */
    _Atomic uint64_t offline; /* bit c: CPU c is offline */
    _Atomic int churn;        /* 1: readers churn their own affinity (hotplug) */
    _Atomic int stop;
    struct destr_reader readers[DESTR_MAX_READERS];
};

/* Start one reader per CPU of sh->cpus; 0 or -errno (none left running). */
int destr_readers_start(struct destr_shared *sh);
void destr_readers_stop(struct destr_shared *sh);

/* Transition bracket: the generation goes odd before, even after. */
void destr_begin(struct destr_shared *sh);
void destr_end(struct destr_shared *sh);

/*
 * Wait until every reader completed `n` more readings. Returns -1 (with the
 * reader's index) when one made no progress for hang_ns: it is stuck inside
 * the target, or starved; the caller reports it.
 */
int destr_wait_readings(struct destr_shared *sh, unsigned n, int64_t hang_ns, unsigned *stuck);

/* Readings of one kind over every reader and entry point. */
uint64_t destr_readings(const struct destr_shared *sh, enum destr_kind k, enum destr_entry e);

#endif /* VDSOCONF_DESTR_READERS_H */
