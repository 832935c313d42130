/*
 * The vDSO's mappings as /proc/self/maps lists them: the [vdso], [vvar] and
 * [vvar_vclock] ranges, parsed from the text (so that synthetic maps of
 * every kernel era test it). Lines that are not maps lines are counted and
 * skipped, never trusted; a name seen twice makes the shape ambiguous, and
 * an ambiguous or missing mapping is never read from.
 */
#ifndef VDSOKIT_LIVE_MAPS_H
#define VDSOKIT_LIVE_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdsokit/layout_era.h>

struct live_range {
    uintptr_t lo, hi; /* [lo, hi), the first line with the name */
    unsigned count;   /* lines with this name; 0: absent */
};

struct live_maps {
    struct live_range vdso, vvar, vclock;
    unsigned lines;     /* lines read */
    unsigned bad_lines; /* lines that do not parse, skipped */
    unsigned first_bad; /* 1-based line number of the first of them, 0: none */
};

/* Parse maps text of len bytes (it need not end in a newline or a NUL). */
void live_maps_parse(const char *text, size_t len, struct live_maps *out);

/* The page counts and adjacency of the three mappings, for layout_era_decide. */
void live_maps_shape(const struct live_maps *m, struct layout_shape *out);

/* Whether [lo, lo + len) lies inside the range (which must be present). */
bool live_range_holds(const struct live_range *r, uintptr_t lo, size_t len);

#endif /* VDSOKIT_LIVE_MAPS_H */
