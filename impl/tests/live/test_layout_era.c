/*
 * The era table and the decisions taken on it: the rows tile the versions
 * from 6.1 to 6.18 without gaps, only 6.17-6.18 is described, each version
 * x mappings shape gives the right era, an unknown version or a mismatch;
 * and the live layout's own decision on synthetic facts: which pointers it
 * hands out (the data pages of 6.18 at [vvar] page 0 and 1, the clock pages
 * in [vvar_vclock]), which it refuses, and the sentences a skip shows.
 */
#include <string.h>

#include "../check.h"
#include <vdsokit/live_layout.h>

static void test_table(void)
{
    unsigned described = 0;

    CHECK_EQ_U64(layout_eras[0].first, LAYOUT_VERSION(6, 1, 0));
    CHECK_EQ_U64(layout_eras[layout_era_count - 1].last, LAYOUT_VERSION(6, 18, 255));
    for (size_t i = 0; i < layout_era_count; i++) {
        const struct layout_era *e = &layout_eras[i];
        CHECK(e->first <= e->last && LAYOUT_VERSION_PATCH(e->first) == 0 &&
                  LAYOUT_VERSION_PATCH(e->last) == 255,
              "row %s: range %#x..%#x", e->name, e->first, e->last);
        if (i + 1 < layout_era_count)
            CHECK(layout_eras[i + 1].first ==
                      LAYOUT_VERSION(6, LAYOUT_VERSION_MINOR(e->last) + 1, 0),
                  "row %s is not followed by the next minor", e->name);
        const struct layout_page *pages[] = {&e->time, &e->ns_real, &e->pvclock, &e->hvclock};
        for (int p = 0; p < 4; p++) {
            unsigned room = pages[p]->vma == LAYOUT_VMA_VVAR ? e->vvar_pages : e->vclock_pages;
            CHECK(pages[p]->index < room, "row %s: page %d at index %u of %u", e->name, p,
                  pages[p]->index, room);
        }
        described += e->described;
    }
    /* 6.1-6.9, 6.10-6.12 (held by real Debian kernels) and 6.17-6.18; not 6.13-6.16. */
    CHECK(described == 3 && layout_eras[0].described && layout_eras[1].described &&
              !layout_eras[2].described && !layout_eras[3].described &&
              layout_eras[layout_era_count - 1].described,
          "described rows: %u", described);
    CHECK(layout_records_native(&layout_eras[layout_era_count - 1].rec), "6.17 is abi.h's format");
    for (size_t i = 0; i + 1 < layout_era_count; i++)
        CHECK(!layout_records_native(&layout_eras[i].rec), "row %s claims abi.h's format",
              layout_eras[i].name);
}

struct era_case {
    uint32_t version;
    struct layout_shape shape;
    enum layout_verdict verdict;
    const char *era; /* expected row name, NULL for none */
    const char *why; /* a substring of the sentence, NULL for none */
};

static const struct era_case era_cases[] = {
    {LAYOUT_VERSION(6, 1, 0), {4, 0, true}, LAYOUT_KNOWN, "6.1-6.9", NULL},
    {LAYOUT_VERSION(6, 1, 158), {4, 0, true}, LAYOUT_KNOWN, "6.1-6.9", NULL},
    {LAYOUT_VERSION(6, 9, 12), {4, 0, true}, LAYOUT_KNOWN, "6.1-6.9", NULL},
    {LAYOUT_VERSION(6, 12, 57), {4, 0, true}, LAYOUT_KNOWN, "6.10-6.12", NULL},
    {LAYOUT_VERSION(6, 13, 0), {2, 2, true}, LAYOUT_KNOWN, "6.13-6.14", NULL},
    {LAYOUT_VERSION(6, 16, 9), {4, 2, true}, LAYOUT_KNOWN, "6.15-6.16", NULL},
    {LAYOUT_VERSION(6, 18, 44), {4, 2, true}, LAYOUT_KNOWN, "6.17-6.18", NULL},
    {LAYOUT_VERSION(6, 18, 300), {4, 2, true}, LAYOUT_KNOWN, "6.17-6.18", NULL},
    {LAYOUT_VERSION(6, 19, 0), {4, 2, true}, LAYOUT_UNKNOWN_VERSION, NULL, "6.19.0 is newer"},
    {LAYOUT_VERSION(7, 0, 0), {4, 2, true}, LAYOUT_UNKNOWN_VERSION, NULL, "newest"},
    {LAYOUT_VERSION(5, 15, 0), {4, 0, true}, LAYOUT_UNKNOWN_VERSION, NULL, "5.15.0 is older"},
    {LAYOUT_VERSION(6, 1, 0), {4, 2, true}, LAYOUT_MISMATCH, "6.1-6.9", "no [vvar_vclock]"},
    {LAYOUT_VERSION(6, 13, 2), {4, 2, true}, LAYOUT_MISMATCH, "6.13-6.14", "[vvar] 2 pages"},
    {LAYOUT_VERSION(6, 18, 0), {4, 0, true}, LAYOUT_MISMATCH, "6.17-6.18", "6.17-6.18 era"},
    {LAYOUT_VERSION(6, 18, 0), {4, 2, false}, LAYOUT_MISMATCH, "6.17-6.18", "not adjoining"},
    {LAYOUT_VERSION(6, 18, 0), {0, 2, false}, LAYOUT_MISMATCH, "6.17-6.18", "no [vvar]"},
};

static void test_decide(void)
{
    struct layout_decision d;

    for (size_t i = 0; i < sizeof(era_cases) / sizeof(era_cases[0]); i++) {
        const struct era_case *c = &era_cases[i];
        layout_era_decide(true, c->version, &c->shape, &d);
        CHECK(d.verdict == c->verdict, "case %zu (%#x): verdict %d, want %d (%s)", i, c->version,
              d.verdict, c->verdict, d.why);
        const char *name = d.era ? d.era->name : NULL;
        CHECK((!name && !c->era) || (name && c->era && strcmp(name, c->era) == 0),
              "case %zu: era %s, want %s", i, name ? name : "none", c->era ? c->era : "none");
        CHECK(!c->why || strstr(d.why, c->why), "case %zu: \"%s\" lacks \"%s\"", i, d.why,
              c->why ? c->why : "");
    }
    struct layout_shape s = {4, 2, true};
    layout_era_decide(false, 0, &s, &d);
    CHECK(d.verdict == LAYOUT_UNKNOWN_VERSION && !d.era && strstr(d.why, "version is unknown"),
          "no version: %d %s", d.verdict, d.why);
}

static void test_release(void)
{
    static const struct {
        const char *release;
        bool ok;
        uint32_t version;
    } cases[] = {
        {"6.18.44-fc-v1045", true, LAYOUT_VERSION(6, 18, 44)},
        {"6.1.0-18-amd64", true, LAYOUT_VERSION(6, 1, 0)},
        {"6.12.57+deb12-amd64", true, LAYOUT_VERSION(6, 12, 57)},
        {"6.12", true, LAYOUT_VERSION(6, 12, 0)},
        {"6.12-rc3", true, LAYOUT_VERSION(6, 12, 0)},
        {"5.10.300", true, LAYOUT_VERSION(5, 10, 255)},
        {"4.4.0", true, LAYOUT_VERSION(4, 4, 0)},
        {"6", false, 0},
        {"linux", false, 0},
        {"", false, 0},
        {"300.1.0", false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t v = 0;
        bool ok = live_release_version(cases[i].release, &v);
        CHECK(ok == cases[i].ok && (!ok || v == cases[i].version), "\"%s\": %d %#x, want %d %#x",
              cases[i].release, ok, v, cases[i].ok, cases[i].version);
    }
}

/* Synthetic facts of a process: vvar and vclock pages below a 2-page [vdso] at base. */
static void facts(struct live_layout *l, unsigned vvar, unsigned vclock, bool note, uint32_t nv,
                  const char *release)
{
    const uintptr_t base = 0x7f88847a3000, page = VDSO_PAGE_SIZE;

    memset(l, 0, sizeof(*l));
    l->base = base;
    l->maps.vdso = (struct live_range){base, base + 2 * page, 1};
    if (vclock)
        l->maps.vclock = (struct live_range){base - vclock * page, base, 1};
    if (vvar)
        l->maps.vvar = (struct live_range){base - (vclock + vvar) * page, base - vclock * page, 1};
    l->has_note = note;
    l->note_version = nv;
    snprintf(l->release, sizeof(l->release), "%s", release ? release : "");
    l->has_uname = release && live_release_version(release, &l->uname_version);
    live_layout_decide(l);
}

static void test_live_decide(void)
{
    struct live_layout l;
    size_t size;

    facts(&l, 4, 2, true, LAYOUT_VERSION(6, 18, 44), "6.18.44-fc-v1045");
    uintptr_t vvar = l.maps.vvar.lo, vclock = l.maps.vclock.lo;
    CHECK(l.described && !l.why[0], "6.18: described %d, why \"%s\"", l.described, l.why);
    CHECK(strcmp(l.summary, "Linux 6.18.44, 6.17-6.18 layout") == 0, "summary \"%s\"", l.summary);
    CHECK_EQ_U64((uintptr_t)live_layout_time_data(&l), vvar);
    CHECK_EQ_U64((uintptr_t)live_layout_time_data(&l), l.base - VDSO_DATA_PAGES * VDSO_PAGE_SIZE);
    CHECK_EQ_U64((uintptr_t)live_layout_page(&l, LIVE_PAGE_NS_REAL), vvar + VDSO_PAGE_SIZE);
    CHECK_EQ_U64((uintptr_t)live_layout_page(&l, LIVE_PAGE_PVCLOCK), vclock);
    CHECK_EQ_U64((uintptr_t)live_layout_page(&l, LIVE_PAGE_HVCLOCK), vclock + VDSO_PAGE_SIZE);
    CHECK_EQ_U64((uintptr_t)live_layout_vdso(&l, &size), l.base);
    CHECK_EQ_U64(size, 2 * VDSO_PAGE_SIZE);

    /* Debian 12: described; its time page only as a converted snapshot, never as abi.h's struct. */
    facts(&l, 4, 0, true, LAYOUT_VERSION(6, 1, 158), "6.1.0-40-amd64");
    CHECK(l.described && !l.why[0], "6.1: described %d, why \"%s\"", l.described, l.why);
    CHECK(strcmp(l.summary, "Linux 6.1.158, 6.1-6.9 layout") == 0, "summary \"%s\"", l.summary);
    CHECK(!live_layout_time_data(&l) && !live_layout_page(&l, LIVE_PAGE_NS_REAL),
          "6.1: no time page as abi.h's struct");
    CHECK_EQ_U64((uintptr_t)live_layout_page(&l, LIVE_PAGE_PVCLOCK),
                 l.maps.vvar.lo + VDSO_PAGE_SIZE);
    CHECK_EQ_U64((uintptr_t)live_layout_page(&l, LIVE_PAGE_HVCLOCK),
                 l.maps.vvar.lo + 2 * VDSO_PAGE_SIZE);
    CHECK(live_layout_vdso(&l, &size) && size == 2 * VDSO_PAGE_SIZE, "6.1: the [vdso] is usable");
    facts(&l, 4, 0, true, LAYOUT_VERSION(6, 12, 57), "6.12.57+deb12-amd64");
    CHECK(l.described && strstr(l.summary, "6.10-6.12 layout"), "6.12: %s", l.why);

    facts(&l, VDSO_GENERIC_PAGES, VDSO_VCLOCK_PAGES, true, LAYOUT_VERSION(6, 15, 4), "6.15.4");
    CHECK(!l.described && strstr(l.why, "data-page layout of Linux 6.15.4 (6.15-6.16 era") &&
              strstr(l.why, "not described by this build"),
          "6.15 why \"%s\"", l.why);

    facts(&l, 2, 2, true, LAYOUT_VERSION(6, 13, 0), "6.13.0");
    CHECK(!l.described && strstr(l.why, "6.13-6.14 era"), "6.13 why \"%s\"", l.why);

    facts(&l, 4, 2, true, LAYOUT_VERSION(6, 19, 0), "6.19.0");
    CHECK(!l.described && strstr(l.why, "newer") && strstr(l.summary, "unknown layout"),
          "6.19: %s / %s", l.summary, l.why);

    /* 6.18's note on a 6.1-shaped process (the reshaped child of test_live_probe). */
    facts(&l, 4, 0, true, LAYOUT_VERSION(6, 18, 44), "6.18.44");
    CHECK(!l.described && !live_layout_time_data(&l) && strstr(l.why, "6.17-6.18 era"),
          "mismatch why \"%s\"", l.why);

    facts(&l, 4, 2, true, LAYOUT_VERSION(6, 1, 0), "6.12.57");
    CHECK(!l.described && strstr(l.why, "note says 6.1.0 but uname says 6.12.57"),
          "note vs uname: \"%s\"", l.why);

    facts(&l, 4, 2, false, 0, "6.18.3");
    CHECK(l.described, "no note, uname 6.18.3: %s", l.why);
    facts(&l, 4, 2, false, 0, NULL);
    CHECK(!l.described && strstr(l.why, "version is unknown"), "no version: \"%s\"", l.why);

    facts(&l, 4, 2, true, LAYOUT_VERSION(6, 18, 44), "6.18.44");
    l.base = 0;
    live_layout_decide(&l);
    CHECK(!l.described && !live_layout_vdso(&l, &size) && strstr(l.why, "no vDSO"),
          "no vDSO: \"%s\"", l.why);
}

/* A [vvar] too short for the struct: the bounds check refuses the pointer. */
static void test_bounds(void)
{
    struct live_layout l;

    facts(&l, 4, 2, true, LAYOUT_VERSION(6, 18, 44), "6.18.44");
    CHECK(live_layout_page(&l, LIVE_PAGE_NS_REAL) != NULL, "baseline");
    l.maps.vvar.hi = l.maps.vvar.lo + VDSO_PAGE_SIZE;
    CHECK(live_layout_time_data(&l) != NULL, "one page still holds the time data");
    CHECK(live_layout_page(&l, LIVE_PAGE_NS_REAL) == NULL, "page 1 lies outside a 1-page [vvar]");
    l.maps.vclock.count = 0;
    CHECK(live_layout_page(&l, LIVE_PAGE_PVCLOCK) == NULL, "no [vvar_vclock] line, no pvclock");
}

int main(void)
{
    test_table();
    test_decide();
    test_release();
    test_live_decide();
    test_bounds();
    return check_finish();
}
