/*
 * The era-format reader (layout_records.h) against time pages made by hand
 * at offsets written out from each era's kernel headers (the same facts as
 * impl/tests/kernel/test_kernel_layout_profile.c, not derived from the era
 * table): every field of both clock records and the page-level fields must
 * come back in the 6.17 struct, fields the era lacks as 0; a namespace page
 * (seq 1, mode TIMENS) is taken as it is, and a record whose seq stays odd
 * makes the read fail instead of spinning.
 */
#include "../check.h"
#include "../era_offsets.h"
#include <string.h>
#include <vdsokit/layout_era.h>

#define PAGE VDSO_PAGE_SIZE

static _Alignas(PAGE) uint8_t page[PAGE];

static void put32(unsigned off, uint32_t v)
{
    memcpy(page + off, &v, sizeof v);
}

static void put64(unsigned off, uint64_t v)
{
    memcpy(page + off, &v, sizeof v);
}

static const struct layout_era *row(const char *name)
{
    for (size_t i = 0; i < layout_era_count; i++)
        if (strcmp(layout_eras[i].name, name) == 0)
            return &layout_eras[i];
    return NULL;
}

/* Distinct values per record and field, so a swapped or shifted field shows. */
static uint64_t val(int i, unsigned field)
{
    return 0x1000000000ull * (uint64_t)(i + 1) + 0x1000u * field + 7;
}

static void make_page(const struct era_offsets *o)
{
    memset(page, 0xa5, sizeof(page));
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        unsigned r = o->rec[i];
        put32(r, 40 + 2 * (uint32_t)i);
        put32(r + 4, VDSO_CLOCKMODE_TSC);
        put64(r + 8, val(i, 1));
        if (o->max_cycles >= 0)
            put64(r + (unsigned)o->max_cycles, val(i, 2));
        put64(r + o->mask, val(i, 3));
        put32(r + o->mult, (uint32_t)val(i, 4));
        put32(r + o->shift, 20 + (uint32_t)i);
        for (unsigned s = 0; s < VDSO_BASES; s++) {
            put64(r + o->bt + 16 * s, val(i, 10 + s));
            put64(r + o->bt + 16 * s + 8, val(i, 30 + s));
        }
    }
    put32(o->tz, (uint32_t)-60);
    put32(o->dst, 1);
    put32(o->res, 1000000);
}

static void check_era(const struct era_offsets *o)
{
    const struct layout_era *e = row(o->era);
    struct vdso_time_data d;

    CHECK(e != NULL, "no era row %s", o->era);
    if (!e)
        return;
    make_page(o);
    CHECK(layout_records_read(&e->rec, page, &d), "%s: the read failed", o->era);
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        const struct vdso_clock *c = &d.clock_data[i];
        CHECK(c->seq == 40 + 2 * (uint32_t)i, "%s rec %d seq %u", o->era, i, c->seq);
        CHECK(c->clock_mode == VDSO_CLOCKMODE_TSC, "%s rec %d mode %d", o->era, i, c->clock_mode);
        CHECK_EQ_U64(c->cycle_last, val(i, 1));
        CHECK_EQ_U64(c->max_cycles, o->max_cycles >= 0 ? val(i, 2) : 0);
        CHECK_EQ_U64(c->mask, val(i, 3));
        CHECK_EQ_U64(c->mult, (uint32_t)val(i, 4));
        CHECK_EQ_U64(c->shift, 20 + (uint32_t)i);
        for (int s = 0; s < VDSO_BASES; s++) {
            CHECK_EQ_U64(c->basetime[s].sec, val(i, 10 + (unsigned)s));
            CHECK_EQ_U64(c->basetime[s].nsec, val(i, 30 + (unsigned)s));
        }
    }
    CHECK(d.tz_minuteswest == -60 && d.tz_dsttime == 1 && d.hrtimer_res == 1000000,
          "%s: tz %d/%d res %u", o->era, d.tz_minuteswest, d.tz_dsttime, d.hrtimer_res);
    CHECK(d.aux_clock_data[0].mult == 0 && d.unused_pad == 0, "%s: aux clocks not zero", o->era);
}

/* The namespace page holds seq 1 for good: taken as it is; an odd seq otherwise never settles. */
static void test_odd_seq(void)
{
    const struct era_offsets *o = &era_offsets[1];
    const struct layout_era *e = row(o->era);
    struct vdso_time_data d;

    make_page(o);
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        put32(o->rec[i], 1);
        put32(o->rec[i] + 4, (uint32_t)VDSO_CLOCKMODE_TIMENS);
    }
    CHECK(layout_records_read(&e->rec, page, &d), "the namespace page was refused");
    CHECK(d.clock_data[0].seq == 1 && d.clock_data[0].clock_mode == VDSO_CLOCKMODE_TIMENS,
          "namespace page: seq %u mode %d", d.clock_data[0].seq, d.clock_data[0].clock_mode);
    CHECK_EQ_U64(d.clock_data[0].basetime[1].sec, val(0, 11)); /* the monotonic offset */
    put32(o->rec[1] + 4, VDSO_CLOCKMODE_TSC);
    CHECK(!layout_records_read(&e->rec, page, &d), "a record stuck at an odd seq was read");
}

int main(void)
{
    for (size_t i = 0; i < ERA_OFFSETS_COUNT; i++)
        check_era(&era_offsets[i]);
    test_odd_seq();
    return check_finish();
}
