/*
 * This process's vDSO as the running kernel laid it out: the [vdso],
 * [vvar] and [vvar_vclock] mappings (from /proc/self/maps), the kernel
 * version (from the vDSO's `Linux` note, with uname as a cross-check) and
 * the layout era these give (layout_era.h). It hands out a pointer into the
 * data pages (or a snapshot of a time page converted from the era's format)
 * only when the page lies inside a mapping it found and the era's records
 * are described by this build; otherwise it says why, so that a
 * reader can skip with that sentence instead of reading a guessed address.
 * Every reader of the live vDSO or its data pages goes through it.
 */
#ifndef VDSOKIT_LIVE_LAYOUT_H
#define VDSOKIT_LIVE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdsokit/abi.h>
#include <vdsokit/error.h>
#include <vdsokit/layout_era.h>
#include <vdsokit/live_maps.h>

struct live_layout {
    uintptr_t base; /* AT_SYSINFO_EHDR; 0: the process has no vDSO */
    struct live_maps maps;
    bool has_note; /* the vDSO's `Linux` note of type 0 */
    uint32_t note_version;
    bool has_uname; /* uname's release parsed as major.minor[.patch] */
    uint32_t uname_version;
    char release[72]; /* uname's release as given */
    struct layout_decision decision;
    bool described;   /* the era is known, the mappings fit it, and its records are described */
    char summary[96]; /* "Linux 6.18.44, 6.17-6.18 layout" */
    char why[384];    /* why the data pages are not read; "" when described */
};

/*
 * Probe this process. No vDSO is not an error (base 0, why says so). Returns
 * 0, or -1 with err when /proc/self/maps cannot be read or has no [vdso]
 * line at AT_SYSINFO_EHDR.
 */
int live_layout_probe(struct live_layout *out, struct vdsokit_error *err);

/*
 * The decision on inputs already in l (maps, versions, release), without
 * I/O: what the probe does after gathering them, and what the tests drive.
 */
void live_layout_decide(struct live_layout *l);

/* "6.18.44-fc-v1045" -> LAYOUT_VERSION(6, 18, 44); false when not major.minor. */
bool live_release_version(const char *release, uint32_t *version);

/* The [vdso] mapping: its start and size (0 when absent). */
const void *live_layout_vdso(const struct live_layout *l, size_t *size);

enum live_page {
    LIVE_PAGE_TIME,    /* the time data (root namespace), or the namespace page in a child */
    LIVE_PAGE_NS_REAL, /* the real time data as a child time namespace sees it */
    LIVE_PAGE_PVCLOCK, /* KVM pvclock page (may be unbacked: read only in PVCLOCK mode) */
    LIVE_PAGE_HVCLOCK, /* Hyper-V TSC page (likewise) */
};

/*
 * The start of a data page, or NULL unless the layout is described and the
 * page lies inside the mapping found for it. The time pages are handed out
 * only when their era's format is abi.h's struct itself (6.17-6.18); other
 * described eras are read through live_layout_snapshot.
 */
const volatile void *live_layout_page(const struct live_layout *l, enum live_page which);

/* LIVE_PAGE_TIME as the record struct (6.17-6.18 only, as above). */
const volatile struct vdso_time_data *live_layout_time_data(const struct live_layout *l);

/*
 * A consistent snapshot of a time page (LIVE_PAGE_TIME or LIVE_PAGE_NS_REAL)
 * of any described era, converted to abi.h's 6.17 struct (layout_records.h).
 * False when the layout is not described, the page is not mapped, or a
 * record never settled; the other pages are not time pages: false.
 */
bool live_layout_snapshot(const struct live_layout *l, enum live_page which,
                          struct vdso_time_data *out);

#endif /* VDSOKIT_LIVE_LAYOUT_H */
