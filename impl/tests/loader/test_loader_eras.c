/*
 * The loader places each era's data pages as that era's kernel does,
 * directly below the text, and writes them in the era's record layout:
 * images built by elfgen carry a `Linux` note (6.18, 6.12, 6.1) or get a
 * version override (6.13, 6.15), and the bytes the image would read at
 * its link-time offsets (text - 4 pages + 128 before 6.13, text - 4 pages
 * for 6.13-6.14, text - 6 pages from 6.15; written out by hand from the
 * eras' vdso-layout.lds.S and vvar.h, not from the profile table) hold the
 * timekeeper's state; a version no era covers is refused naming it.
 */
#include "check.h"

#include <string.h>

#include "elfgen.h"
#include <vdsokit/loader.h>
#include <vdsokit/tk_model.h>

#define PAGE VDSO_PAGE_SIZE

struct era_case {
    const char *tag;
    uint32_t note, override; /* the image's note; the loader option (0: none) */
    const char *era;
    enum layout_delta_rule delta;
    int time_page, ns_real_page, pvclock_page; /* pages below the text */
    unsigned records_at, mult_at;              /* record 0, and mult inside it */
    unsigned alt_size;                         /* the note's .altinstructions entry size */
};

static const struct era_case cases[] = {
    {"6.18 note", 0x06122c, 0, "6.17-6.18", LAYOUT_DELTA_6_10, 6, 5, 2, 0, 32, 14},
    {"6.12 note", 0x060c75, 0, "6.10-6.12", LAYOUT_DELTA_6_10, 4, 1, 3, 128, 32, 14},
    {"6.1 note", 0x0601c0, 0, "6.1-6.9", LAYOUT_DELTA_6_1, 4, 1, 3, 128, 24, 12},
    {"6.7 override", 0x06122c, 0x060700, "6.1-6.9", LAYOUT_DELTA_6_5, 4, 1, 3, 128, 24, 14},
    {"6.13 override", 0x06122c, 0x060d00, "6.13-6.14", LAYOUT_DELTA_6_10, 4, 3, 2, 0, 32, 14},
    {"6.15 override", 0x06122c, 0x060f00, "6.15-6.16", LAYOUT_DELTA_6_10, 6, 5, 2, 0, 32, 14},
};

static int build(uint32_t note, unsigned alt_size, struct elfgen_out *out)
{
    struct elfgen_desc d;
    char gerr[256];

    elfgen_desc_x86_64(&d);
    d.linux_version = note;
    if (alt_size != 14) {
        d.alt_size = alt_size;
        d.nalt = 7;
    }
    int rc = elfgen_build(&d, out, gerr, sizeof gerr);
    CHECK(rc == 0, "elfgen (note %#x): %s", note, gerr);
    return rc;
}

static uint32_t u32_at(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static void check_case(const struct era_case *c)
{
    struct elfgen_out out;
    struct tk_script s;
    struct vdsokit_error err = {{0}};
    struct vdso_loaded *l = NULL;

    if (build(c->note, c->alt_size, &out))
        return;
    memset(&s, 0, sizeof s);
    s.counter = TK_COUNTER_PVCLOCK_MANUAL;
    s.counter_start = 1000000;
    s.mult = 1u << 24;
    s.shift = 24;
    s.realtime = (struct timespec){1700000000, 0};
    s.low_res_nsec = 4000000;
    struct loader_options opt = {
        .clock = LOADER_CLOCK_SCRIPTED, .script = &s, .linux_version = c->override};
    int rc = loader_load(&l, out.data, out.size, c->tag, &opt, &err);
    elfgen_free(&out);
    CHECK(rc == 0, "%s: load: %s", c->tag, err.msg);
    if (rc)
        return;
    CHECK(!strcmp(l->profile->era, c->era), "%s: era %s, want %s", c->tag, l->profile->era, c->era);
    CHECK(l->delta == c->delta, "%s: delta rule %d, want %d", c->tag, l->delta, c->delta);
    const struct vdso_clock *canon = &datapages_time(&l->dp)->clock_data[0];
    const uint8_t *rec = l->text - (size_t)c->time_page * PAGE + c->records_at;
    CHECK((const void *)rec == (const void *)loader_reader_record(l, LOADER_SLOT_TIME, 0),
          "%s: the time record at text - %d pages + %u", c->tag, c->time_page, c->records_at);
    CHECK(u32_at(rec) == canon->seq && canon->seq && !(canon->seq & 1), "%s: seq %u, canonical %u",
          c->tag, u32_at(rec), canon->seq);
    CHECK(u32_at(rec + c->mult_at) == canon->mult && canon->mult == 1u << 24,
          "%s: mult %u at +%u, canonical %u", c->tag, u32_at(rec + c->mult_at), c->mult_at,
          canon->mult);
    const struct pvclock_vcpu_time_info *pv =
        (const void *)(l->text - (size_t)c->pvclock_page * PAGE);
    CHECK(pv->version == datapages_pvclock(&l->dp)->version && pv->version != 0,
          "%s: pvclock page at text - %d pages", c->tag, c->pvclock_page);

    /* Inside a namespace: the namespace page in the time slot, the real one below. */
    CHECK(loader_set_layout(l, LOADER_LAYOUT_TIMENS, &err) == 0, "%s: timens: %s", c->tag, err.msg);
    CHECK(u32_at(rec) == 1 && (int32_t)u32_at(rec + 4) == VDSO_CLOCKMODE_TIMENS,
          "%s: namespace page: seq %u mode %#x", c->tag, u32_at(rec), u32_at(rec + 4));
    const uint8_t *real = l->text - (size_t)c->ns_real_page * PAGE + c->records_at;
    CHECK(real == (const uint8_t *)loader_reader_record(l, LOADER_SLOT_NS_REAL, 0) &&
              u32_at(real) == canon->seq && u32_at(real + c->mult_at) == canon->mult,
          "%s: the real page at text - %d pages", c->tag, c->ns_real_page);
    loader_unload(l);
}

/* A note no era covers, and an override no era covers: refused, named. */
static void check_unknown(uint32_t note, uint32_t override, const char *named)
{
    struct elfgen_out out;
    struct vdsokit_error err = {{0}};
    struct vdso_loaded *l = NULL;

    if (build(note, 14, &out))
        return;
    struct loader_options opt = {.clock = LOADER_CLOCK_NONE, .linux_version = override};
    int rc = loader_load(&l, out.data, out.size, "unknown", &opt, &err);
    elfgen_free(&out);
    CHECK(rc == -1 && strstr(err.msg, named) && strstr(err.msg, "no layout profile"),
          "version %s: rc %d, \"%s\"", named, rc, err.msg);
    printf("%s\n", err.msg);
    loader_unload(l);
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
    check_unknown(0x061200, 0x050400, "Linux 5.4.0");
    check_unknown(0x061300, 0, "Linux 6.19.0");
    return check_finish();
}
