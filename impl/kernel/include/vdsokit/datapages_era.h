/*
 * The era serializer: it mirrors the canonical (6.17) time page and
 * namespace page of the data-page memfd into the era pages of dp->profile's
 * layout (layout_profile.h), field by field with relaxed atomics, so that
 * an image of an older kernel reads its own record layout. The writer calls
 * it at the points of its seqcount protocol: seqs after it set them odd or
 * even, data while they are odd, so the era page passes through the same
 * states as the canonical one. With the canonical profile every call does
 * nothing. Ordering (fences) is the caller's, as for datapages.h.
 */
#ifndef VDSOKIT_DATAPAGES_ERA_H
#define VDSOKIT_DATAPAGES_ERA_H

#include <vdsokit/datapages.h>

/* The seq of each clock record, as the canonical page holds it now. */
void datapages_era_seqs(const struct vdso_datapages *dp);

/* Every clock-record field but seq, then tz and hrtimer_res. */
void datapages_era_data(const struct vdso_datapages *dp);

/* The namespace page: its records' offsets and mode, then (release) their seq. */
void datapages_era_timens(const struct vdso_datapages *dp);

/* The rng data, where the era keeps it inside the time page (6.11-6.14). */
void datapages_era_rng(const struct vdso_datapages *dp);

#endif /* VDSOKIT_DATAPAGES_ERA_H */
