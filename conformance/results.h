/*
 * The runner's record of a run: one result per (target, test id), merged
 * across soak rounds (worst status wins, the first failure's evidence is
 * kept, structured evidence and the reasons a failure cannot be waived
 * accumulate; the counts a test exported go with the run whose evidence
 * is kept), and one cell per (target, group) with its time. Reporters
 * read this; nothing else writes it.
 */
#ifndef VDSOCONF_RESULTS_H
#define VDSOCONF_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

enum conf_status {
    CONF_PASS,
    CONF_SKIP,
    CONF_WAIVED, /* a failure accepted by a waiver: never counted as a pass */
    CONF_NOTRUN, /* a crash or deadline of its group prevented it: fails the run */
    CONF_FAIL,
    CONF_NSTATUS
};

/* Why a failure can never be waived, whatever a waiver says (bits). */
enum {
    CONF_HARD_PROSE = 1u << 0,    /* a failure recorded without structured evidence */
    CONF_HARD_SIGNAL = 1u << 1,   /* the target (or the group's child) was killed by a signal */
    CONF_HARD_DEADLINE = 1u << 2, /* the group's deadline expired: a hang or livelock */
    CONF_HARD_EXIT = 1u << 3,     /* the child or a helper exited early; the test never ended */
};

struct conf_result {
    unsigned target; /* index into the run's targets */
    unsigned group;  /* index into conf_groups */
    char id[128];
    enum conf_status status;
    unsigned runs, failures;
    char *text;            /* failure evidence or skip reason (owned) */
    char *evidence;        /* canonical key=value terms of its failures (owned; evidence.h) */
    unsigned hard;         /* CONF_HARD_* */
    char *host_finding;    /* a host (not target) finding with its evidence (owned) */
    const char *waived_by; /* waiver reason when WAIVED */
    char *waiver_note;     /* why a waiver naming this test did not apply (owned) */
    char *metrics;         /* key=value counts the test exported (conf_metric), or NULL (owned) */
};

struct conf_cell {
    double seconds;
    unsigned count[CONF_NSTATUS]; /* by conf_status */
    bool ran;
};

#define CONF_MAX_TARGETS 8
#define CONF_MAX_GROUPS  16 /* at least conf_ngroups (groups.c checks) */

struct conf_results {
    struct conf_result *items;
    size_t n, cap;
    struct conf_cell cells[CONF_MAX_TARGETS][CONF_MAX_GROUPS];
};

/* What one run of a test recorded, beyond its status. */
struct conf_record {
    const char *text;         /* evidence lines or skip reason */
    const char *evidence;     /* canonical terms, or NULL */
    unsigned hard;            /* CONF_HARD_* */
    const char *host_finding; /* or NULL */
    const char *metrics;      /* key=value counts (conf_metric), or NULL */
};

/* Add or merge one result; strings are copied. */
void results_add(struct conf_results *rs, unsigned target, unsigned group, const char *id,
                 enum conf_status status, const struct conf_record *rec);
/* Recount the cells from the items (after waivers changed statuses). */
void results_tally(struct conf_results *rs);
void results_free(struct conf_results *rs);

/* Tests of a cell, all statuses. */
unsigned conf_cell_total(const struct conf_cell *c);
/* A cell whose requested tests all SKIPped: nothing was tested there. */
bool conf_cell_not_tested(const struct conf_cell *c);

const char *conf_status_name(enum conf_status s);
/* Why a failure cannot be waived, for reports ("killed by a signal", ...). */
const char *conf_hard_reason(unsigned hard);

#endif /* VDSOCONF_RESULTS_H */
