/*
 * Where a layout era keeps its clock records and page-level fields inside
 * its time page (docs/abi.md §1.2, §1.4), and the reader that snapshots
 * such a page under the era's seqcount protocol into the 6.17 struct
 * vdso_time_data of abi.h, the view the rest of the code uses. The format
 * is one field of the era table (layout_era.h); the emulated kernel's era
 * serializer (vdsokit_kernel's datapages_era.h) writes by the same rows, so
 * the reader here is its inverse by construction.
 */
#ifndef VDSOKIT_LAYOUT_RECORDS_H
#define VDSOKIT_LAYOUT_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include <vdsokit/abi.h>

struct layout_records {
    unsigned at;         /* byte of clock record 0 in the time (and namespace) page */
    unsigned stride;     /* bytes from one clock record to the next */
    bool has_max_cycles; /* the record has max_cycles at 0x10 (6.10+) */
    unsigned tz_at;      /* byte of tz_minuteswest; tz_dsttime +4, hrtimer_res +8 */
    int rng_at;          /* byte of the rng data in the time page; -1: on its own page */
};

/* Byte offsets inside a clock record of the format (the fields after max_cycles shift). */
unsigned layout_records_mask_at(const struct layout_records *r);
unsigned layout_records_basetime_at(const struct layout_records *r);

/* Whether the format is abi.h's struct vdso_time_data itself (6.17-6.18). */
bool layout_records_native(const struct layout_records *r);

/*
 * Snapshot the time (or namespace) page that starts at page into out, in
 * the 6.17 view: each clock record under its own seq (retried while the
 * writer holds it odd or changes it), tz and hrtimer_res inside record 0's
 * window. A namespace page (mode TIMENS, seq held odd by design) is taken
 * as it is. Fields the era lacks (max_cycles before 6.10, the aux clocks)
 * read 0. False when a record never settled within a bounded number of
 * tries (a writer stuck mid-update), out then undefined.
 */
bool layout_records_read(const struct layout_records *r, const volatile void *page,
                         struct vdso_time_data *out);

#endif /* VDSOKIT_LAYOUT_RECORDS_H */
