/*
 * The table of layout profiles (layout_profile.h), one per x86-64 layout
 * era: the reader pages and the era row's record format (layout_era.c
 * holds those offsets, restating docs/abi.md §1.2/§1.4, so the live reader
 * and this writer share one table; the test checks that the rows match by
 * name). Eras with fewer than six data pages use the top of the six-page
 * reservation: their pages end directly below the text, as the kernel maps
 * them, and the pages below stay unmapped.
 */
#include <string.h>

#include <vdsokit/datapages.h>
#include <vdsokit/layout_era.h>
#include <vdsokit/layout_profile.h>

#define NONE   LAYOUT_PAGE_NONE
#define TIME   DATAPAGES_FILE_ERA_TIME
#define NS     DATAPAGES_FILE_ERA_TIMENS
#define RNG    DATAPAGES_FILE_RNG
#define PV     DATAPAGES_FILE_PVCLOCK
#define HV     DATAPAGES_FILE_HVCLOCK
#define C_TIME DATAPAGES_FILE_TIME
#define C_NS   DATAPAGES_FILE_TIMENS

/* The record format of the era table's row i (rows oldest first, as here). */
#define REC(i) (&layout_eras[i].rec)

const struct layout_profile layout_profiles[] = {
    /* [vvar]: data, pvclock, Hyper-V, namespace slot; no max_cycles. */
    {"6.1-6.9", false, REC(0), {NONE, NONE, TIME, PV, HV, NONE}, {NONE, NONE, NS, PV, HV, TIME}},
    /* The same pages; max_cycles in every record. */
    {"6.10-6.12", false, REC(1), {NONE, NONE, TIME, PV, HV, NONE}, {NONE, NONE, NS, PV, HV, TIME}},
    /* [vvar]: data at byte 0, namespace slot; [vvar_vclock]: pvclock, Hyper-V. */
    {"6.13-6.14", false, REC(2), {NONE, NONE, TIME, NONE, PV, HV}, {NONE, NONE, NS, TIME, PV, HV}},
    /* The generic store's six pages; no aux clocks, so tz follows the records. */
    {"6.15-6.16", false, REC(3), {TIME, NONE, RNG, NONE, PV, HV}, {NS, TIME, RNG, NONE, PV, HV}},
    /* The canonical format: the timekeeper's own pages. */
    {"6.17-6.18",
     true,
     REC(4),
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
