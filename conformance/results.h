/*
 * The runner's record of a run: one result per (target, test id), merged
 * across soak rounds (worst status wins, the first failure's evidence is
 * kept), and one cell per (target, group) with its time. Reporters read
 * this; nothing else writes it.
 */
#ifndef VDSOCONF_RESULTS_H
#define VDSOCONF_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

enum conf_status {
    CONF_PASS,
    CONF_SKIP,
    CONF_WAIVED, /* a failure accepted by a waiver: never counted as a pass */
    CONF_FAIL,
};

struct conf_result {
    unsigned target; /* index into the run's targets */
    unsigned group;  /* index into conf_groups */
    char id[128];
    enum conf_status status;
    unsigned runs, failures;
    char *text;            /* failure evidence or skip reason (owned) */
    const char *waived_by; /* waiver reason when WAIVED */
};

struct conf_cell {
    double seconds;
    unsigned count[4]; /* by conf_status */
    bool ran;
};

#define CONF_MAX_TARGETS 8
#define CONF_MAX_GROUPS  8

struct conf_results {
    struct conf_result *items;
    size_t n, cap;
    struct conf_cell cells[CONF_MAX_TARGETS][CONF_MAX_GROUPS];
};

/* Add or merge one result; text is copied. */
void results_add(struct conf_results *rs, unsigned target, unsigned group, const char *id,
                 enum conf_status status, const char *text);
/* Recount the cells from the items (after waivers changed statuses). */
void results_tally(struct conf_results *rs);
void results_free(struct conf_results *rs);

const char *conf_status_name(enum conf_status s);

#endif /* VDSOCONF_RESULTS_H */
