/*
 * The layout profiles of the emulated data area: for each x86-64 layout era
 * (the rows of <vdsokit/layout_era.h>, matched by name) where the era's
 * clock records and page-level fields sit inside its time page, how the
 * reader pages are arranged directly below the image text for a root task
 * and inside a child time namespace, and which delta rule its vDSO applies
 * (docs/abi.md §0.1, §1.2, §1.4, §2.4). The record format is the era
 * row's own (vdsokit_live's layout_era.h), one table for the emulated
 * writer and the live reader. The timekeeper keeps writing the
 * 6.17 format (a superset) into the canonical file pages; the era
 * serializer (datapages_era.h) mirrors that into the era's own file pages
 * under the same seqcount protocol, and the reader view maps those.
 */
#ifndef VDSOKIT_LAYOUT_PROFILE_H
#define VDSOKIT_LAYOUT_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vdsokit/abi.h>
#include <vdsokit/layout_records.h>

/* How the era's x86 vDSO turns a counter reading into a delta (§2.4). */
enum layout_delta_rule {
    LAYOUT_DELTA_6_10, /* max_cycles, backwards clamp on bit 62, 128-bit path */
    LAYOUT_DELTA_6_5,  /* 63-bit counter; a delta with bit 62 set is 0; 64-bit product */
    LAYOUT_DELTA_6_1,  /* delta only when the counter moved forward, else 0; 64-bit product */
};

/*
 * A reader page's backing, by file page of the data-page memfd
 * (datapages.h); LAYOUT_PAGE_NONE: no page there (PROT_NONE, faults).
 */
#define LAYOUT_PAGE_NONE (-1)

struct layout_profile {
    const char *era;                  /* the layout_era row this profile serializes ("6.10-6.12") */
    bool native;                      /* the canonical 6.17 format itself: nothing to mirror */
    const struct layout_records *rec; /* the era's record format (its layout_era row's) */
    int reader_root[VDSO_DATA_PAGES]; /* file page behind each of the 6 pages below the text */
    int reader_timens[VDSO_DATA_PAGES]; /* the same inside a child time namespace */
};

/* The profiles, oldest first, and their count. */
extern const struct layout_profile layout_profiles[];
extern const size_t layout_profile_count;

/* The profile of an era by its name (layout_era's row name), or NULL. */
const struct layout_profile *layout_profile_for_era(const char *era);

/* LINUX_VERSION_CODE of major.minor.0 (layout_era.h has the full macro). */
#define LAYOUT_PROFILE_VERSION(major, minor) (((uint32_t)(major) << 16) | ((uint32_t)(minor) << 8))

/* The delta rule changes inside the 6.1-6.9 era (at 6.5), so it goes by version. */
enum layout_delta_rule layout_delta_rule_for_version(uint32_t version);

/* The canonical (6.17-6.18) profile: what the timekeeper writes. */
const struct layout_profile *layout_profile_native(void);

#endif /* VDSOKIT_LAYOUT_PROFILE_H */
