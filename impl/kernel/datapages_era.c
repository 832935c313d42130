/*
 * The era serializer (datapages_era.h): reads the canonical file pages the
 * timekeeper writes and stores their contents at the byte offsets of the
 * profile's era. Only the writer thread (under the timekeeper's lock) calls
 * it, so reading the canonical pages back is race-free; the stores are
 * relaxed atomics because readers run concurrently.
 */
#include <stddef.h>

#include <vdsokit/datapages_era.h>
#include <vdsokit/layout_profile.h>

static void put32(uint8_t *at, uint32_t v)
{
    __atomic_store_n((uint32_t *)(void *)at, v, __ATOMIC_RELAXED);
}

static void put64(uint8_t *at, uint64_t v)
{
    __atomic_store_n((uint64_t *)(void *)at, v, __ATOMIC_RELAXED);
}

/* The profile when it has era pages of its own, else NULL. */
static const struct layout_profile *era(const struct vdso_datapages *dp)
{
    return dp->profile && !dp->profile->native && dp->rw ? dp->profile : NULL;
}

static uint8_t *file_page(const struct vdso_datapages *dp, enum datapages_file_page page)
{
    return dp->rw + (size_t)page * VDSO_PAGE_SIZE;
}

static uint8_t *record(const struct layout_profile *p, uint8_t *page, int i)
{
    return page + p->rec->at + (size_t)i * p->rec->stride;
}

/* One record's fields except seq; basetime and offset share their bytes. */
static void store_record(const struct layout_profile *p, uint8_t *rec, const struct vdso_clock *c)
{
    unsigned mask_at = layout_records_mask_at(p->rec), base_at = layout_records_basetime_at(p->rec);

    put32(rec + offsetof(struct vdso_clock, clock_mode), (uint32_t)c->clock_mode);
    put64(rec + offsetof(struct vdso_clock, cycle_last), c->cycle_last);
    if (p->rec->has_max_cycles)
        put64(rec + offsetof(struct vdso_clock, max_cycles), c->max_cycles);
    put64(rec + mask_at, c->mask);
    put32(rec + mask_at + sizeof(uint64_t), c->mult);
    put32(rec + mask_at + sizeof(uint64_t) + sizeof(uint32_t), c->shift);
    for (int i = 0; i < VDSO_BASES; i++) {
        uint8_t *slot = rec + base_at + (size_t)i * sizeof(struct vdso_timestamp);
        put64(slot + offsetof(struct vdso_timestamp, sec), c->basetime[i].sec);
        put64(slot + offsetof(struct vdso_timestamp, nsec), c->basetime[i].nsec);
    }
}

static void store_seqs(const struct layout_profile *p, uint8_t *dst,
                       const struct vdso_time_data *src, int order)
{
    for (int i = 0; i < VDSO_CS_BASES; i++)
        __atomic_store_n((uint32_t *)(void *)record(p, dst, i),
                         __atomic_load_n(&src->clock_data[i].seq, __ATOMIC_RELAXED), order);
}

static void store_records(const struct layout_profile *p, uint8_t *dst,
                          const struct vdso_time_data *src)
{
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        struct vdso_clock c;
        datapages_load_clock(&c, &src->clock_data[i]);
        store_record(p, record(p, dst, i), &c);
    }
}

void datapages_era_seqs(const struct vdso_datapages *dp)
{
    const struct layout_profile *p = era(dp);

    if (p)
        store_seqs(p, file_page(dp, DATAPAGES_FILE_ERA_TIME), datapages_time(dp), __ATOMIC_RELAXED);
}

void datapages_era_data(const struct vdso_datapages *dp)
{
    const struct layout_profile *p = era(dp);

    if (!p)
        return;
    const struct vdso_time_data *src = datapages_time(dp);
    uint8_t *dst = file_page(dp, DATAPAGES_FILE_ERA_TIME);
    store_records(p, dst, src);
    /* Before 6.15 these sit in record 0; tz_at says where either way. */
    put32(dst + p->rec->tz_at, (uint32_t)__atomic_load_n(&src->tz_minuteswest, __ATOMIC_RELAXED));
    put32(dst + p->rec->tz_at + 4, (uint32_t)__atomic_load_n(&src->tz_dsttime, __ATOMIC_RELAXED));
    put32(dst + p->rec->tz_at + 8, __atomic_load_n(&src->hrtimer_res, __ATOMIC_RELAXED));
}

void datapages_era_timens(const struct vdso_datapages *dp)
{
    const struct layout_profile *p = era(dp);

    if (!p)
        return;
    uint8_t *dst = file_page(dp, DATAPAGES_FILE_ERA_TIMENS);
    store_records(p, dst, datapages_timens(dp));
    store_seqs(p, dst, datapages_timens(dp), __ATOMIC_RELEASE);
}

void datapages_era_rng(const struct vdso_datapages *dp)
{
    const struct layout_profile *p = era(dp);

    if (!p || p->rec->rng_at < 0)
        return;
    const struct vdso_rng_data *src = datapages_rng(dp);
    uint8_t *dst = file_page(dp, DATAPAGES_FILE_ERA_TIME) + p->rec->rng_at;
    put64(dst + offsetof(struct vdso_rng_data, generation),
          __atomic_load_n(&src->generation, __ATOMIC_RELAXED));
    __atomic_store_n(dst + offsetof(struct vdso_rng_data, is_ready),
                     __atomic_load_n(&src->is_ready, __ATOMIC_RELAXED), __ATOMIC_RELEASE);
}
