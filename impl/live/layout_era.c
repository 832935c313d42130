/*
 * The era table of the x86-64 vDSO data area and the decision that picks a
 * row for a kernel version and the shape of its mappings. The rows restate
 * docs/abi.md §0.1, §1.2 and §1.4, with each era's record format; the rows
 * whose format real kernels have confirmed are `described` (read and
 * converted by layout_records.h). A new era is a new row here (and an
 * emulated profile in vdsokit_kernel's layout_profile.c).
 */
#include <stddef.h>
#include <stdio.h>

#include <vdsokit/abi.h>
#include <vdsokit/layout_era.h>

#define VVAR(i)              \
    {                        \
        LAYOUT_VMA_VVAR, (i) \
    }
#define VCLOCK(i)              \
    {                          \
        LAYOUT_VMA_VCLOCK, (i) \
    }

/* Until 6.12 the records follow a 128-byte arch area; rng data at 640 from 6.11. */
#define PRE_6_13_RECORDS_AT 128
#define PRE_6_15_RNG_AT     640
/* A pre-6.15 record: the 6.17 clock record plus tz, dsttime, hrtimer_res, pad. */
#define PAGE_FIELDS_BYTES 16
#define RECORD_6_10       (sizeof(struct vdso_clock) + PAGE_FIELDS_BYTES)
#define RECORD_6_1        (RECORD_6_10 - sizeof(uint64_t))
/* The 6.15-6.16 vdso_time_data: the two records, then the page-level fields. */
#define TZ_6_15 (VDSO_CS_BASES * sizeof(struct vdso_clock))

/*
 * described: the 6.1-6.9 and 6.10-6.12 formats are held by the kernel
 * matrix (real Debian 6.1 and 6.12 guests read through this table) and by
 * their images on emulated pages; 6.13-6.16 are restated from headers only,
 * no real kernel of theirs has been run, so they stay recognised but unread.
 */
const struct layout_era layout_eras[] = {
    /* One [vvar] of four pages: data, pvclock, Hyper-V, namespace slot; vdso_data[2]
       behind the arch area, tz and hrtimer_res inside element 0, no max_cycles. */
    {"6.1-6.9",
     LAYOUT_VERSION(6, 1, 0),
     LAYOUT_VERSION(6, 9, 255),
     4,
     0,
     {PRE_6_13_RECORDS_AT, RECORD_6_1, false, PRE_6_13_RECORDS_AT + RECORD_6_1 - PAGE_FIELDS_BYTES,
      PRE_6_15_RNG_AT},
     VVAR(0),
     VVAR(3),
     VVAR(1),
     VVAR(2),
     true},
    /* Same pages; max_cycles in every record, rng data at byte 640 from 6.11. */
    {"6.10-6.12",
     LAYOUT_VERSION(6, 10, 0),
     LAYOUT_VERSION(6, 12, 255),
     4,
     0,
     {PRE_6_13_RECORDS_AT, RECORD_6_10, true, PRE_6_13_RECORDS_AT + RECORD_6_10 - PAGE_FIELDS_BYTES,
      PRE_6_15_RNG_AT},
     VVAR(0),
     VVAR(3),
     VVAR(1),
     VVAR(2),
     true},
    /* [vvar]: data at byte 0, namespace slot; the clock pages in [vvar_vclock]. */
    {"6.13-6.14",
     LAYOUT_VERSION(6, 13, 0),
     LAYOUT_VERSION(6, 14, 255),
     2,
     2,
     {0, RECORD_6_10, true, RECORD_6_10 - PAGE_FIELDS_BYTES, PRE_6_15_RNG_AT},
     VVAR(0),
     VVAR(1),
     VCLOCK(0),
     VCLOCK(1),
     false},
    /* The generic data store: time, namespace slot, rng, arch; no aux clocks. */
    {"6.15-6.16",
     LAYOUT_VERSION(6, 15, 0),
     LAYOUT_VERSION(6, 16, 255),
     VDSO_GENERIC_PAGES,
     VDSO_VCLOCK_PAGES,
     {0, sizeof(struct vdso_clock), true, TZ_6_15, -1},
     VVAR(VDSO_TIME_PAGE),
     VVAR(VDSO_TIMENS_PAGE),
     VCLOCK(0),
     VCLOCK(1),
     false},
    /* Aux clocks: the page-level fields moved behind them (abi.h's layout). */
    {"6.17-6.18",
     LAYOUT_VERSION(6, 17, 0),
     LAYOUT_VERSION(6, 18, 255),
     VDSO_GENERIC_PAGES,
     VDSO_VCLOCK_PAGES,
     {0, sizeof(struct vdso_clock), true, offsetof(struct vdso_time_data, tz_minuteswest), -1},
     VVAR(VDSO_TIME_PAGE),
     VVAR(VDSO_TIMENS_PAGE),
     VCLOCK(VDSO_PVCLOCK_PAGE - VDSO_GENERIC_PAGES),
     VCLOCK(VDSO_HVCLOCK_PAGE - VDSO_GENERIC_PAGES),
     true},
};
const size_t layout_era_count = sizeof(layout_eras) / sizeof(layout_eras[0]);

const struct layout_era *layout_era_for_version(uint32_t version)
{
    for (size_t i = 0; i < layout_era_count; i++)
        if (version >= layout_eras[i].first && version <= layout_eras[i].last)
            return &layout_eras[i];
    return NULL;
}

void layout_version_format(uint32_t version, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u", LAYOUT_VERSION_MAJOR(version), LAYOUT_VERSION_MINOR(version),
             LAYOUT_VERSION_PATCH(version));
}

static void shape_format(unsigned vvar, unsigned vclock, char *buf, size_t len)
{
    char a[32] = "no [vvar]", b[40] = "no [vvar_vclock]";

    if (vvar)
        snprintf(a, sizeof(a), "[vvar] %u pages", vvar);
    if (vclock)
        snprintf(b, sizeof(b), "[vvar_vclock] %u pages", vclock);
    snprintf(buf, len, "%s %s %s", a, vclock ? "+" : "and", b);
}

void layout_era_format(const struct layout_era *era, char *buf, size_t len)
{
    char shape[96];

    shape_format(era->vvar_pages, era->vclock_pages, shape, sizeof(shape));
    snprintf(buf, len, "%s, records at byte %u", shape, era->rec.at);
}

/* Why no row covers a version: older than the first, or newer than the last. */
static void unknown_version(uint32_t version, struct layout_decision *out)
{
    char v[24];
    bool older = version < layout_eras[0].first;
    const struct layout_era *edge = older ? &layout_eras[0] : &layout_eras[layout_era_count - 1];

    layout_version_format(version, v, sizeof(v));
    out->verdict = LAYOUT_UNKNOWN_VERSION;
    snprintf(out->why, sizeof(out->why),
             "Linux %s is %s than the %s layout era this build knows (%s)", v,
             older ? "older" : "newer", older ? "oldest" : "newest", edge->name);
}

void layout_era_decide(bool has_version, uint32_t version, const struct layout_shape *shape,
                       struct layout_decision *out)
{
    char v[24], want[96], have[96];

    *out = (struct layout_decision){LAYOUT_UNKNOWN_VERSION, NULL, ""};
    if (!has_version) {
        snprintf(out->why, sizeof(out->why),
                 "the kernel version is unknown (no `Linux` note in the vDSO, no usable uname)");
        return;
    }
    const struct layout_era *era = layout_era_for_version(version);
    if (!era) {
        unknown_version(version, out);
        return;
    }
    out->era = era;
    out->verdict = LAYOUT_KNOWN;
    if (shape->vvar_pages == era->vvar_pages && shape->vclock_pages == era->vclock_pages &&
        shape->contiguous)
        return;
    out->verdict = LAYOUT_MISMATCH;
    layout_version_format(version, v, sizeof(v));
    shape_format(era->vvar_pages, era->vclock_pages, want, sizeof(want));
    shape_format(shape->vvar_pages, shape->vclock_pages, have, sizeof(have));
    snprintf(out->why, sizeof(out->why),
             "Linux %s (%s era) maps %s directly below [vdso]; this process has %s%s", v, era->name,
             want, have, shape->contiguous ? "" : ", not adjoining [vdso]");
}
