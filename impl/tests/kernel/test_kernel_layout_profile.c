/*
 * The era serializer and the profiles' reader maps, held to offsets written
 * out by hand from each era's kernel headers (include/vdso/datapage.h,
 * arch/x86/include/asm/vvar.h, vdso-layout.lds.S of 6.1, 6.12, 6.13, 6.15),
 * not derived from the profile table: a scripted timekeeper on pages with
 * an era's profile must leave every field of both clock records, the
 * page-level fields, the rng data and the namespace page at those bytes,
 * with even seqs equal to the canonical page's, and the reader view must
 * show the era's pages in the era's order directly below the text; the
 * live reader (layout_records.h) must read both pages back as they were.
 */
#define _GNU_SOURCE
#include "../check.h"
#include "../era_offsets.h"
#include "tk_test.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vdsokit/datapages_era.h>
#include <vdsokit/layout_era.h>
#include <vdsokit/layout_profile.h>
#include <vdsokit/timekeeper_raw.h>

#define PAGE VDSO_PAGE_SIZE

static uint32_t u32_at(const uint8_t *page, unsigned off)
{
    uint32_t v;

    memcpy(&v, page + off, sizeof v);
    return v;
}

static uint64_t u64_at(const uint8_t *page, unsigned off)
{
    uint64_t v;

    memcpy(&v, page + off, sizeof v);
    return v;
}

static void check_record(const struct era_offsets *o, const uint8_t *page, int i,
                         const struct vdso_clock *want)
{
    const uint8_t *r = page + o->rec[i];

    CHECK(u32_at(r, 0) == want->seq && (want->seq & 1) == 0, "%s rec %d seq %u want even %u",
          o->era, i, u32_at(r, 0), want->seq);
    CHECK_EQ_U64(u32_at(r, 4), (uint32_t)want->clock_mode);
    CHECK_EQ_U64(u64_at(r, 8), want->cycle_last);
    if (o->max_cycles >= 0)
        CHECK_EQ_U64(u64_at(r, (unsigned)o->max_cycles), want->max_cycles);
    CHECK_EQ_U64(u64_at(r, o->mask), want->mask);
    CHECK_EQ_U64(u32_at(r, o->mult), want->mult);
    CHECK_EQ_U64(u32_at(r, o->shift), want->shift);
    for (int s = 0; s < VDSO_BASES; s++) {
        CHECK_EQ_U64(u64_at(r, o->bt + 16 * (unsigned)s), want->basetime[s].sec);
        CHECK_EQ_U64(u64_at(r, o->bt + 16 * (unsigned)s + 8), want->basetime[s].nsec);
    }
}

/* Bytes nobody may write: the arch area before 6.13, the gap after the records. */
static void check_untouched(const struct era_offsets *o, const uint8_t *page)
{
    size_t nonzero = 0;

    for (unsigned b = 0; b < o->rec[0]; b++)
        nonzero += page[b] != 0;
    CHECK(nonzero == 0, "%s: %zu bytes written before the first record", o->era, nonzero);
}

/* The live reader (layout_records.h) must give back what the serializer mirrored. */
static void check_round_trip(const struct era_offsets *o, const struct layout_profile *p,
                             const uint8_t *page, const struct vdso_time_data *want)
{
    struct vdso_time_data back;

    CHECK(layout_records_read(p->rec, page, &back), "%s: the era page does not read", o->era);
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        const struct vdso_clock *b = &back.clock_data[i], *w = &want->clock_data[i];
        CHECK(b->seq == w->seq && b->clock_mode == w->clock_mode &&
                  b->cycle_last == w->cycle_last && b->mask == w->mask && b->mult == w->mult &&
                  b->shift == w->shift,
              "%s rec %d: read back seq %u mode %d mult %u, canonical %u %d %u", o->era, i, b->seq,
              b->clock_mode, b->mult, w->seq, w->clock_mode, w->mult);
        CHECK_EQ_U64(b->max_cycles, o->max_cycles >= 0 ? w->max_cycles : 0);
        CHECK(memcmp(b->basetime, w->basetime, sizeof(b->basetime)) == 0, "%s rec %d: bases",
              o->era, i);
    }
    if (want->clock_data[0].clock_mode != VDSO_CLOCKMODE_TIMENS)
        CHECK(back.tz_minuteswest == want->tz_minuteswest && back.hrtimer_res == want->hrtimer_res,
              "%s: tz %d res %u read back", o->era, back.tz_minuteswest, back.hrtimer_res);
}

static void check_era(const struct era_offsets *o)
{
    const struct layout_profile *p = layout_profile_for_era(o->era);
    struct vdso_datapages dp;
    struct timekeeper *tk = NULL;
    struct tk_script s = test_script();

    CHECK(p != NULL, "no profile for era %s", o->era);
    if (!p || datapages_create(&dp) != 0)
        return;
    dp.profile = p;
    CHECK(tk_init_scripted(&tk, &dp, &s) == 0, "%s: scripted timekeeper", o->era);
    tk_set_tz(tk, -120, 1);
    tk_set_hrtimer_res(tk, 4242);
    tk_advance_counter(tk, 123456789);
    tk_accumulate(tk);
    tk_rng_bump(tk);
    const struct timens_offset mono = {1000, 999999999}, boot = {-5, 7};
    tk_timens_set(tk, mono, boot);

    const struct vdso_time_data *c = datapages_time(&dp);
    const uint8_t *page = dp.rw + (size_t)DATAPAGES_FILE_ERA_TIME * PAGE;
    for (int i = 0; i < VDSO_CS_BASES; i++)
        check_record(o, page, i, &c->clock_data[i]);
    CHECK(c->clock_data[0].basetime[VDSO_CLOCK_MONOTONIC].sec != 0 && c->clock_data[1].mult != 0,
          "%s: the canonical page must hold a published state", o->era);
    CHECK_EQ_I64((int32_t)u32_at(page, o->tz), -120);
    CHECK_EQ_U64(u32_at(page, o->dst), 1);
    CHECK_EQ_U64(u32_at(page, o->res), 4242);
    if (o->rng >= 0) {
        CHECK_EQ_U64(u64_at(page, (unsigned)o->rng), datapages_rng(&dp)->generation);
        CHECK_EQ_U64(page[o->rng + 8], 1);
        CHECK(datapages_rng(&dp)->generation == 2, "%s: rng bumped once", o->era);
    } else {
        CHECK_EQ_U64(u64_at(page, 640), 0);
    }
    check_untouched(o, page);

    const uint8_t *ns = dp.rw + (size_t)DATAPAGES_FILE_ERA_TIMENS * PAGE;
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        const uint8_t *r = ns + o->rec[i];
        CHECK_EQ_U64(u32_at(r, 0), 1);
        CHECK_EQ_U64(u32_at(r, 4), (uint32_t)VDSO_CLOCKMODE_TIMENS);
        CHECK_EQ_I64((int64_t)u64_at(r, o->bt + 16 * VDSO_CLOCK_MONOTONIC), 1000);
        CHECK_EQ_U64(u64_at(r, o->bt + 16 * VDSO_CLOCK_MONOTONIC + 8), 999999999);
        CHECK_EQ_I64((int64_t)u64_at(r, o->bt + 16 * VDSO_CLOCK_BOOTTIME), -5);
    }
    check_untouched(o, ns);
    check_round_trip(o, p, page, c);
    check_round_trip(o, p, ns, datapages_timens(&dp));

    /* A hand-made update holds the era seq odd too, and its end publishes. */
    uint32_t before = u32_at(page, o->rec[0]);
    CHECK(tk_update_begin(tk) == 0, "%s: begin", o->era);
    CHECK(u32_at(page, o->rec[0]) == before + 1 && u32_at(page, o->rec[1]) == before + 1,
          "%s: inside a hand update the era seqs are %u/%u, want %u", o->era,
          u32_at(page, o->rec[0]), u32_at(page, o->rec[1]), before + 1);
    struct vdso_clock raw[VDSO_CS_BASES];
    memcpy(raw, c->clock_data, sizeof raw);
    raw[0].mult = 0x1234567;
    raw[1].clock_mode = VDSO_CLOCKMODE_HVCLOCK;
    tk_publish_raw(tk, raw);
    CHECK_EQ_U64(u32_at(page, o->rec[0] + o->mult), 0x1234567);
    CHECK(tk_update_end(tk) == 0, "%s: end", o->era);
    CHECK_EQ_U64(u32_at(page, o->rec[0]), before + 2);
    CHECK_EQ_U64(u32_at(page, o->rec[1] + 4), VDSO_CLOCKMODE_HVCLOCK);

    /* A raw seq write reaches the era page too (tests hold writers stuck with it). */
    tk_set_seq(tk, 77);
    CHECK_EQ_U64(u32_at(page, o->rec[0]), 77);
    CHECK_EQ_U64(u32_at(page, o->rec[1]), 77);
    tk_destroy(tk);
    datapages_destroy(&dp);
}

/* The native profile mirrors nothing: the era pages stay zero. */
static void check_native(void)
{
    struct vdso_datapages dp;
    struct timekeeper *tk = NULL;
    struct tk_script s = test_script();

    if (datapages_create(&dp) != 0)
        return;
    dp.profile = layout_profile_native();
    CHECK(tk_init_scripted(&tk, &dp, &s) == 0, "native: scripted timekeeper");
    tk_accumulate(tk);
    size_t nonzero = 0;
    for (size_t b = (size_t)DATAPAGES_FILE_ERA_TIME * PAGE; b < DATAPAGES_FILE_PAGES * PAGE; b++)
        nonzero += dp.rw[b] != 0;
    CHECK(nonzero == 0, "native profile wrote %zu bytes into the era pages", nonzero);
    CHECK(strcmp(layout_profile_native()->era, "6.17-6.18") == 0, "native is 6.17-6.18");
    tk_destroy(tk);
    datapages_destroy(&dp);
}

static int probe_pipe[2] = {-1, -1};

static int readable(const void *p)
{
    char sink;

    if (write(probe_pipe[1], p, 1) != 1)
        return 0;
    return read(probe_pipe[0], &sink, 1) == 1;
}

/*
 * Reader pages below the text (index 5 ends at the text), per era and
 * namespace, as file pages: T time, N namespace page, R rng, P pvclock,
 * H Hyper-V, c/n the canonical time/namespace page, . absent. From the
 * linker scripts: 6.1-6.12 vvar_start = text - 4 pages (data, pvclock,
 * hvclock, timens); 6.13-6.14 [vvar] 2 pages + [vvar_vclock] 2; 6.15+ six.
 */
static const struct {
    const char *era, *root, *timens;
} maps[] = {
    {"6.1-6.9", "..TPH.", "..NPHT"},   {"6.10-6.12", "..TPH.", "..NPHT"},
    {"6.13-6.14", "..T.PH", "..NTPH"}, {"6.15-6.16", "T.R.PH", "NTR.PH"},
    {"6.17-6.18", "c.R.PH", "ncR.PH"},
};

static int file_of(char c)
{
    switch (c) {
    case 'T':
        return DATAPAGES_FILE_ERA_TIME;
    case 'N':
        return DATAPAGES_FILE_ERA_TIMENS;
    case 'R':
        return DATAPAGES_FILE_RNG;
    case 'P':
        return DATAPAGES_FILE_PVCLOCK;
    case 'H':
        return DATAPAGES_FILE_HVCLOCK;
    case 'c':
        return DATAPAGES_FILE_TIME;
    case 'n':
        return DATAPAGES_FILE_TIMENS;
    default:
        return -1;
    }
}

static void check_map(struct vdso_datapages *dp, uint8_t *reader, const char *era, const char *want,
                      enum datapages_layout layout)
{
    dp->profile = layout_profile_for_era(era);
    CHECK(dp->profile && datapages_map_reader(dp, reader, layout) == 0, "%s: map", era);
    for (int i = 0; i < VDSO_DATA_PAGES; i++) {
        const uint8_t *p = reader + (size_t)i * PAGE;
        int f = file_of(want[i]);
        if (f < 0) {
            CHECK(!readable(p), "%s %s: reader page %d must be absent", era, want, i);
            continue;
        }
        uint64_t v = 0;
        CHECK(readable(p), "%s %s: reader page %d must be readable", era, want, i);
        if (readable(p))
            memcpy(&v, p + 3000, sizeof v);
        CHECK(v == 0x5eed00u + (unsigned)f, "%s %s: reader page %d shows file page %llu", era, want,
              i, (unsigned long long)(v - 0x5eed00u));
    }
}

static void check_maps(void)
{
    struct vdso_datapages dp;

    if (pipe2(probe_pipe, O_CLOEXEC) != 0 || datapages_create(&dp) != 0)
        return;
    for (uint64_t f = 0; f < DATAPAGES_FILE_PAGES; f++) {
        uint64_t v = 0x5eed00u + f;
        memcpy(dp.rw + f * PAGE + 3000, &v, sizeof v);
    }
    uint8_t *reader =
        mmap(NULL, VDSO_DATA_PAGES * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(reader != MAP_FAILED, "reserve: %s", strerror(errno));
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        check_map(&dp, reader, maps[i].era, maps[i].root, DATAPAGES_ROOT);
        check_map(&dp, reader, maps[i].era, maps[i].timens, DATAPAGES_TIMENS);
    }
    munmap(reader, VDSO_DATA_PAGES * PAGE);
    datapages_destroy(&dp);
}

/* The delta rule goes by version: the change points are 6.5 and 6.10. */
static void check_delta_rules(void)
{
    CHECK(layout_delta_rule_for_version(0x060139) == LAYOUT_DELTA_6_1, "6.1.57");
    CHECK(layout_delta_rule_for_version(0x0604ff) == LAYOUT_DELTA_6_1, "6.4.255");
    CHECK(layout_delta_rule_for_version(0x060500) == LAYOUT_DELTA_6_5, "6.5.0");
    CHECK(layout_delta_rule_for_version(0x0609ff) == LAYOUT_DELTA_6_5, "6.9.255");
    CHECK(layout_delta_rule_for_version(0x060a00) == LAYOUT_DELTA_6_10, "6.10.0");
    CHECK(layout_delta_rule_for_version(0x061200) == LAYOUT_DELTA_6_10, "6.18.0");
}

/* The model under each rule, on values worked out by hand (docs/abi.md §2.4). */
static void check_model_rules(void)
{
    struct vdso_clock vc;

    memset(&vc, 0, sizeof vc);
    vc.cycle_last = 1000;
    vc.mult = 2;
    vc.shift = 1;
    vc.max_cycles = 1u << 20;
    /* Forward motion: every rule agrees, (100 * 2 + 100) >> 1. */
    for (int r = LAYOUT_DELTA_6_10; r <= LAYOUT_DELTA_6_1; r++)
        CHECK_EQ_U64(tk_model_calc_ns_rule((enum layout_delta_rule)r, &vc, 1100, 100), 150);
    /* Behind cycle_last: 0 before 6.10 (both ways), the clamp from 6.10. */
    CHECK_EQ_U64(tk_model_calc_ns_rule(LAYOUT_DELTA_6_1, &vc, 900, 100), 50);
    CHECK_EQ_U64(tk_model_calc_ns_rule(LAYOUT_DELTA_6_5, &vc, 900, 100), 50);
    CHECK_EQ_U64(tk_model_calc_ns_rule(LAYOUT_DELTA_6_10, &vc, 900, 100), 50);
    /* A delta with bit 62 set moving forward: counted up to 6.4, 0 from 6.5. */
    uint64_t far = 1000 + (1ull << 62) + 5;
    CHECK_EQ_U64(tk_model_calc_ns_rule(LAYOUT_DELTA_6_1, &vc, far, 100), (1ull << 62) + 55);
    CHECK_EQ_U64(tk_model_calc_ns_rule(LAYOUT_DELTA_6_5, &vc, far, 100), 50);
    /* A long stall: 2^41 * 2^24 wraps to 0 in 64 bits before 6.10; 6.10 takes 128 bits. */
    vc.cycle_last = 0;
    vc.mult = 1u << 24;
    vc.shift = 24;
    vc.max_cycles = 1ull << 39;
    uint64_t base = 7ull << 24;
    CHECK_EQ_U64(tk_model_calc_ns_rule(LAYOUT_DELTA_6_1, &vc, 1ull << 41, base), 7);
    CHECK_EQ_U64(tk_model_calc_ns_rule(LAYOUT_DELTA_6_5, &vc, 1ull << 41, base), 7);
    CHECK_EQ_U64(tk_model_calc_ns_rule(LAYOUT_DELTA_6_10, &vc, 1ull << 41, base), (1ull << 41) + 7);
}

/* Each profile takes its record format from the era row of its own name (one table). */
static void check_rows(void)
{
    CHECK_EQ_U64(layout_profile_count, layout_era_count);
    for (size_t i = 0; i < layout_profile_count && i < layout_era_count; i++)
        CHECK(strcmp(layout_profiles[i].era, layout_eras[i].name) == 0 &&
                  layout_profiles[i].rec == &layout_eras[i].rec,
              "profile %s takes the format of row %s", layout_profiles[i].era, layout_eras[i].name);
}

int main(void)
{
    check_rows();
    check_model_rules();
    for (size_t i = 0; i < ERA_OFFSETS_FOREIGN; i++)
        check_era(&era_offsets[i]);
    check_native();
    check_maps();
    check_delta_rules();
    return check_finish();
}
