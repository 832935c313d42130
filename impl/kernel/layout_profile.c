/*
 * The table of layout profiles (layout_profile.h), one per x86-64 layout
 * era, restating docs/abi.md §1.2/§1.4: the pre-6.15 eras keep a
 * two-element array of whole records (tz and hrtimer_res inside element 0),
 * before 6.13 behind a 128-byte arch area; 6.15-6.16 have the generic
 * vdso_time_data without aux clocks; 6.17-6.18 are the canonical format.
 * Eras with fewer than six data pages use the top of the six-page
 * reservation: their pages end directly below the text, as the kernel maps
 * them, and the pages below stay unmapped.
 */
#include <string.h>

#include <vdsokit/datapages.h>
#include <vdsokit/layout_profile.h>

#define NONE   LAYOUT_PAGE_NONE
#define TIME   DATAPAGES_FILE_ERA_TIME
#define NS     DATAPAGES_FILE_ERA_TIMENS
#define RNG    DATAPAGES_FILE_RNG
#define PV     DATAPAGES_FILE_PVCLOCK
#define HV     DATAPAGES_FILE_HVCLOCK
#define C_TIME DATAPAGES_FILE_TIME
#define C_NS   DATAPAGES_FILE_TIMENS

/* Until 6.12 the records follow a 128-byte arch area; rng data at 640 from 6.11. */
#define PRE_6_13_RECORDS_AT 128
#define PRE_6_15_RNG_AT     640
/* A pre-6.15 record: the 6.17 clock record plus tz, dsttime, hrtimer_res, pad. */
#define PAGE_FIELDS_BYTES 16
#define RECORD_6_10       (sizeof(struct vdso_clock) + PAGE_FIELDS_BYTES)
#define RECORD_6_1        (RECORD_6_10 - sizeof(uint64_t))
/* The 6.15-6.16 vdso_time_data: the two records, then the page-level fields. */
#define TZ_6_15 (VDSO_CS_BASES * sizeof(struct vdso_clock))

const struct layout_profile layout_profiles[] = {
    /* [vvar]: data, pvclock, Hyper-V, namespace slot; no max_cycles. */
    {"6.1-6.9",
     false,
     PRE_6_13_RECORDS_AT,
     RECORD_6_1,
     false,
     PRE_6_13_RECORDS_AT + RECORD_6_1 - PAGE_FIELDS_BYTES,
     PRE_6_15_RNG_AT,
     {NONE, NONE, TIME, PV, HV, NONE},
     {NONE, NONE, NS, PV, HV, TIME}},
    /* The same pages; max_cycles in every record. */
    {"6.10-6.12",
     false,
     PRE_6_13_RECORDS_AT,
     RECORD_6_10,
     true,
     PRE_6_13_RECORDS_AT + RECORD_6_10 - PAGE_FIELDS_BYTES,
     PRE_6_15_RNG_AT,
     {NONE, NONE, TIME, PV, HV, NONE},
     {NONE, NONE, NS, PV, HV, TIME}},
    /* [vvar]: data at byte 0, namespace slot; [vvar_vclock]: pvclock, Hyper-V. */
    {"6.13-6.14",
     false,
     0,
     RECORD_6_10,
     true,
     RECORD_6_10 - PAGE_FIELDS_BYTES,
     PRE_6_15_RNG_AT,
     {NONE, NONE, TIME, NONE, PV, HV},
     {NONE, NONE, NS, TIME, PV, HV}},
    /* The generic store's six pages; no aux clocks, so tz follows the records. */
    {"6.15-6.16",
     false,
     0,
     sizeof(struct vdso_clock),
     true,
     TZ_6_15,
     -1,
     {TIME, NONE, RNG, NONE, PV, HV},
     {NS, TIME, RNG, NONE, PV, HV}},
    /* The canonical format: the timekeeper's own pages. */
    {"6.17-6.18",
     true,
     0,
     sizeof(struct vdso_clock),
     true,
     offsetof(struct vdso_time_data, tz_minuteswest),
     -1,
     {C_TIME, NONE, RNG, NONE, PV, HV},
     {C_NS, C_TIME, RNG, NONE, PV, HV}},
};
const size_t layout_profile_count = sizeof(layout_profiles) / sizeof(layout_profiles[0]);

const struct layout_profile *layout_profile_for_era(const char *era)
{
    for (size_t i = 0; era && i < layout_profile_count; i++)
        if (strcmp(layout_profiles[i].era, era) == 0)
            return &layout_profiles[i];
    return NULL;
}

enum layout_delta_rule layout_delta_rule_for_version(uint32_t version)
{
    if (version < LAYOUT_PROFILE_VERSION(6, 5))
        return LAYOUT_DELTA_6_1;
    return version < LAYOUT_PROFILE_VERSION(6, 10) ? LAYOUT_DELTA_6_5 : LAYOUT_DELTA_6_10;
}

const struct layout_profile *layout_profile_native(void)
{
    return &layout_profiles[layout_profile_count - 1];
}

/* Without max_cycles everything from mask on sits one u64 lower. */
static unsigned shrink(const struct layout_profile *p)
{
    return p->has_max_cycles ? 0 : (unsigned)sizeof(uint64_t);
}

unsigned layout_profile_mask_at(const struct layout_profile *p)
{
    return (unsigned)offsetof(struct vdso_clock, mask) - shrink(p);
}

unsigned layout_profile_basetime_at(const struct layout_profile *p)
{
    return (unsigned)offsetof(struct vdso_clock, basetime) - shrink(p);
}
