/*
 * The destructive tier's driver side: what one transition kind needs to make
 * the kernel change state under the readers (destr_readers.h) and to check
 * the first target call after each change. Every write is bracketed by the
 * readers' generation, counted as one transition and followed by a dwell in
 * which every reader completes DESTR_DWELL readings in the new state.
 */
#ifndef VDSOCONF_DESTR_DRIVE_H
#define VDSOCONF_DESTR_DRIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/timex.h>

#include "conf.h"
#include "destr_readers.h"

#define DESTR_DWELL 25

struct destr_driver {
    struct conf_ctx *ctx;
    struct destr_shared *sh;
    struct timespec rt0, raw0; /* REALTIME and MONOTONIC_RAW at the group's start */
    struct timex tx0;          /* adjtimex at the start */
    int64_t hang_ns;           /* a reader without progress this long is stuck */
    unsigned transitions;      /* of the kind being driven */
    bool aborted;              /* a reader is stuck: nothing more can be trusted */
    char cs_names[DESTR_MAX_CS][32];
    int cs_mode[DESTR_MAX_CS]; /* the clock mode the data page showed under each, -1 unknown */
    unsigned ncs;
};

/* The dwell; false (after failing the test) when a reader is stuck. */
bool destr_settle(struct destr_driver *d);

/* The "true" REALTIME now: the start's plus the RAW time since, in ns. */
int64_t destr_true_realtime(const struct destr_driver *d);

/* adjtimex as one transition; its return value, or -1 after failing the test. */
int destr_adjtimex(struct destr_driver *d, struct timex tx, const char *what);

/*
 * clock_settime(REALTIME, ns) as one transition; the first target call after
 * it returned must read at least ns and at most ns plus the MONOTONIC time
 * since the call began. False after failing the test.
 */
bool destr_set_realtime(struct destr_driver *d, int64_t ns, const char *what);

/* Publish the clock mode in force (served or fall back) and the clocksource index. */
void destr_publish_mode(struct destr_driver *d, int cs_index);

#endif /* VDSOCONF_DESTR_DRIVE_H */
