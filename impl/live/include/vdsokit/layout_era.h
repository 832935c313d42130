/*
 * The layout eras of the Linux x86-64 vDSO data area (docs/abi.md §0.1,
 * §1.4): one row per era with its version range, the sizes of the [vvar]
 * and [vvar_vclock] mappings, where the time data and the clock pages sit,
 * and whether this build can read the era's records. The decision takes a
 * kernel version and the shape the mappings have and answers with the era,
 * or says why none applies (unknown version, mappings of another shape).
 * Facts only, no I/O: the live probe (live_layout.h) feeds it, and the
 * emulated kernel's layout profiles take their record formats from it.
 */
#ifndef VDSOKIT_LAYOUT_ERA_H
#define VDSOKIT_LAYOUT_ERA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdsokit/layout_records.h>

/* LINUX_VERSION_CODE as the vDSO's `Linux` note carries it (patch saturates at 255). */
#define LAYOUT_VERSION(major, minor, patch)                 \
    (((uint32_t)(major) << 16) | ((uint32_t)(minor) << 8) | \
     ((patch) > 255 ? 255u : (uint32_t)(patch)))
#define LAYOUT_VERSION_MAJOR(code) ((unsigned)((code) >> 16))
#define LAYOUT_VERSION_MINOR(code) ((unsigned)(((code) >> 8) & 0xff))
#define LAYOUT_VERSION_PATCH(code) ((unsigned)((code)&0xff))

/* Which mapping a page of the data area lies in. */
enum layout_vma {
    LAYOUT_VMA_VVAR,   /* [vvar] */
    LAYOUT_VMA_VCLOCK, /* [vvar_vclock] */
};

/* A page of the data area: its mapping and its index in it. */
struct layout_page {
    enum layout_vma vma;
    unsigned index;
};

struct layout_era {
    const char *name;           /* "6.17-6.18" */
    uint32_t first, last;       /* LAYOUT_VERSION range, both inclusive */
    unsigned vvar_pages;        /* size of [vvar] */
    unsigned vclock_pages;      /* size of [vvar_vclock]; 0: the era has no such mapping */
    struct layout_records rec;  /* where the records and page-level fields sit in the time page */
    struct layout_page time;    /* the time data (root namespace view) */
    struct layout_page ns_real; /* the real time data inside a child time namespace */
    struct layout_page pvclock; /* KVM pvclock record of vCPU 0 */
    struct layout_page hvclock; /* Hyper-V reference TSC page */
    bool described;             /* this build reads its records (verified on real kernels) */
};

/* The rows, oldest first, and their count. */
extern const struct layout_era layout_eras[];
extern const size_t layout_era_count;

/* The row whose range holds version, or NULL. */
const struct layout_era *layout_era_for_version(uint32_t version);

/* What the mappings look like: page counts; 0 pages for a mapping that is absent. */
struct layout_shape {
    unsigned vvar_pages, vclock_pages;
    bool contiguous; /* [vvar], [vvar_vclock] (if any) and [vdso] adjoin in that order */
};

enum layout_verdict {
    LAYOUT_KNOWN,           /* the version's era, and the mappings have its shape */
    LAYOUT_UNKNOWN_VERSION, /* no version, or one that no row covers */
    LAYOUT_MISMATCH,        /* the version's era expects another shape */
};

struct layout_decision {
    enum layout_verdict verdict;
    const struct layout_era *era; /* the version's era (KNOWN, MISMATCH), else NULL */
    char why[320];                /* one sentence for UNKNOWN_VERSION and MISMATCH */
};

/* Decide the era of a kernel (has_version false: the version is not known). */
void layout_era_decide(bool has_version, uint32_t version, const struct layout_shape *shape,
                       struct layout_decision *out);

/* "6.18.44" for a version code. */
void layout_version_format(uint32_t version, char *buf, size_t len);

/* "[vvar] 4 pages + [vvar_vclock] 2 pages, records at byte 0" for a row. */
void layout_era_format(const struct layout_era *era, char *buf, size_t len);

#endif /* VDSOKIT_LAYOUT_ERA_H */
