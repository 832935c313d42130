/*
 * Waivers: a user's explicit acceptance of a known deviation. A file holds
 * lines "TARGET-PATTERN TEST-ID-PATTERN REASON" (fnmatch globs, '#'
 * comments). A failing test matched by a waiver becomes WAIVED, never PASS;
 * a waiver whose tests ran and all passed is stale and is reported.
 */
#ifndef VDSOCONF_WAIVER_H
#define VDSOCONF_WAIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "results.h"

struct conf_waiver {
    char target[128];
    char id[128];
    char reason[256];
    const char *file;
    unsigned line;
    unsigned matched_fail; /* failures it waived */
    unsigned matched_pass; /* tests it covers that passed: stale when no failure */
};

struct conf_waivers {
    struct conf_waiver *items;
    size_t n;
};

/* Load a waiver file. Returns 0, or 2 with err naming the file and line. */
int waivers_load(struct conf_waivers *w, const char *path, char *err, size_t errlen);
/* Turn waived failures into CONF_WAIVED; target_names[i] names target i. */
void waivers_apply(struct conf_waivers *w, struct conf_results *rs,
                   const char *const *target_names);
/* The first waiver matching (target, id), or NULL; changes nothing. */
const struct conf_waiver *waivers_find(const struct conf_waivers *w, const char *target,
                                       const char *id);
bool waiver_is_stale(const struct conf_waiver *w);
void waivers_free(struct conf_waivers *w);

#endif /* VDSOCONF_WAIVER_H */
