/*
 * The era-format reader (layout_records.h): loads each field of a clock
 * record from the era's byte offset with relaxed atomics between an
 * acquire load of seq and a re-check after an acquire fence, the protocol
 * every era's vDSO follows, and lays the values out as abi.h's struct.
 */
#include <sched.h>
#include <stddef.h>
#include <string.h>

#include <vdsokit/layout_records.h>

/* Tries per record before giving up; a writer's odd window is microseconds. */
#define READ_TRIES 100000

/* Without max_cycles everything from mask on sits one u64 lower. */
static unsigned shrink(const struct layout_records *r)
{
    return r->has_max_cycles ? 0 : (unsigned)sizeof(uint64_t);
}

unsigned layout_records_mask_at(const struct layout_records *r)
{
    return (unsigned)offsetof(struct vdso_clock, mask) - shrink(r);
}

unsigned layout_records_basetime_at(const struct layout_records *r)
{
    return (unsigned)offsetof(struct vdso_clock, basetime) - shrink(r);
}

bool layout_records_native(const struct layout_records *r)
{
    return r->at == 0 && r->stride == sizeof(struct vdso_clock) && r->has_max_cycles &&
           r->tz_at == offsetof(struct vdso_time_data, tz_minuteswest);
}

static uint32_t get32(const volatile uint8_t *at)
{
    return __atomic_load_n((const volatile uint32_t *)(const volatile void *)at, __ATOMIC_RELAXED);
}

static uint64_t get64(const volatile uint8_t *at)
{
    return __atomic_load_n((const volatile uint64_t *)(const volatile void *)at, __ATOMIC_RELAXED);
}

/* Every field of one record but seq; basetime and offset share their bytes. */
static void load_record(const struct layout_records *r, const volatile uint8_t *rec,
                        struct vdso_clock *c)
{
    unsigned mask_at = layout_records_mask_at(r), base_at = layout_records_basetime_at(r);

    c->clock_mode = (int32_t)get32(rec + offsetof(struct vdso_clock, clock_mode));
    c->cycle_last = get64(rec + offsetof(struct vdso_clock, cycle_last));
    c->max_cycles = r->has_max_cycles ? get64(rec + offsetof(struct vdso_clock, max_cycles)) : 0;
    c->mask = get64(rec + mask_at);
    c->mult = get32(rec + mask_at + sizeof(uint64_t));
    c->shift = get32(rec + mask_at + sizeof(uint64_t) + sizeof(uint32_t));
    for (int i = 0; i < VDSO_BASES; i++) {
        const volatile uint8_t *slot = rec + base_at + (size_t)i * sizeof(struct vdso_timestamp);
        c->basetime[i].sec = get64(slot + offsetof(struct vdso_timestamp, sec));
        c->basetime[i].nsec = get64(slot + offsetof(struct vdso_timestamp, nsec));
    }
}

static void load_page_fields(const struct layout_records *r, const volatile uint8_t *page,
                             struct vdso_time_data *out)
{
    out->tz_minuteswest = (int32_t)get32(page + r->tz_at);
    out->tz_dsttime = (int32_t)get32(page + r->tz_at + 4);
    out->hrtimer_res = get32(page + r->tz_at + 8);
}

/* Record i (and with record 0 the page-level fields) in one seq window; false: never settled. */
static bool read_record(const struct layout_records *r, const volatile uint8_t *page, int i,
                        struct vdso_time_data *out)
{
    const volatile uint8_t *rec = page + r->at + (size_t)i * r->stride;
    const volatile uint32_t *seq = (const volatile uint32_t *)(const volatile void *)rec;
    struct vdso_clock *c = &out->clock_data[i];

    for (int n = 0; n < READ_TRIES; n++) {
        uint32_t s = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
        load_record(r, rec, c);
        if (i == 0)
            load_page_fields(r, page, out);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        bool timens = c->clock_mode == VDSO_CLOCKMODE_TIMENS;
        if (__atomic_load_n(seq, __ATOMIC_RELAXED) == s && (!(s & 1) || timens)) {
            c->seq = s;
            return true;
        }
        if (n % 64 == 63)
            sched_yield(); /* let a preempted writer finish */
    }
    return false;
}

bool layout_records_read(const struct layout_records *r, const volatile void *page,
                         struct vdso_time_data *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < VDSO_CS_BASES; i++)
        if (!read_record(r, page, i, out))
            return false;
    return true;
}
