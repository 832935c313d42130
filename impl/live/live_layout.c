/*
 * From gathered facts (the three mappings, the note's and uname's versions)
 * to a verdict and to pointers: the era decision, the cross-check of the two
 * versions, the sentences a skipped test shows, and the bounds check that
 * keeps every pointer handed out inside a mapping that /proc/self/maps
 * listed. No I/O here (live_probe.c gathers), so tests drive it with
 * synthetic facts of every era.
 */
#include <stdio.h>
#include <string.h>

#include <vdsokit/live_layout.h>

bool live_release_version(const char *release, uint32_t *version)
{
    unsigned major, minor, patch = 0;
    int end = 0;

    if (sscanf(release, "%u.%u%n", &major, &minor, &end) != 2 || major > 255 || minor > 255)
        return false;
    if (release[end] == '.' && sscanf(release + end + 1, "%u", &patch) != 1)
        patch = 0;
    *version = LAYOUT_VERSION(major, minor, patch);
    return true;
}

/* The version the decision uses: the note's, else uname's; false when the two disagree. */
static bool pick_version(struct live_layout *l, bool *has, uint32_t *version)
{
    *has = l->has_note || l->has_uname;
    *version = l->has_note ? l->note_version : l->uname_version;
    if (!l->has_note || !l->has_uname || (l->note_version >> 8) == (l->uname_version >> 8))
        return true;
    char n[24];
    layout_version_format(l->note_version, n, sizeof(n));
    l->decision = (struct layout_decision){LAYOUT_MISMATCH, NULL, ""};
    snprintf(l->decision.why, sizeof(l->decision.why),
             "the vDSO's `Linux` note says %s but uname says %s: no era is trusted", n, l->release);
    return false;
}

/* The report header's summary and the sentence every skip for want of the layout shows. */
static void explain(struct live_layout *l, const char *version)
{
    const struct layout_era *era = l->decision.era;
    char rows[96];

    if (l->decision.verdict != LAYOUT_KNOWN) {
        snprintf(l->summary, sizeof(l->summary), "Linux %s, %s layout", version,
                 l->decision.verdict == LAYOUT_MISMATCH ? "mismatched" : "unknown");
        snprintf(l->why, sizeof(l->why), "%s", l->decision.why);
        return;
    }
    snprintf(l->summary, sizeof(l->summary), "Linux %s, %s layout", version, era->name);
    if (l->described)
        return;
    layout_era_format(era, rows, sizeof(rows));
    snprintf(l->why, sizeof(l->why),
             "data-page layout of Linux %s (%s era: %s) is not described by this build", version,
             era->name, rows);
}

void live_layout_decide(struct live_layout *l)
{
    struct layout_shape shape;
    bool has;
    uint32_t version;
    char v[24] = "?";

    l->described = false;
    l->why[0] = '\0';
    if (!l->base) {
        snprintf(l->summary, sizeof(l->summary), "no vDSO");
        snprintf(l->why, sizeof(l->why), "no vDSO: AT_SYSINFO_EHDR is absent");
        return;
    }
    live_maps_shape(&l->maps, &shape);
    if (pick_version(l, &has, &version))
        layout_era_decide(has, version, &shape, &l->decision);
    if (has)
        layout_version_format(version, v, sizeof(v));
    l->described = l->decision.verdict == LAYOUT_KNOWN && l->decision.era->described;
    explain(l, v);
}

const void *live_layout_vdso(const struct live_layout *l, size_t *size)
{
    bool ok = l->base && l->maps.vdso.count == 1 && l->maps.vdso.lo == l->base;

    *size = ok ? l->maps.vdso.hi - l->maps.vdso.lo : 0;
    return ok ? (const void *)l->base : NULL;
}

/* The start of a data page when the layout is described and the page lies inside its mapping. */
static uintptr_t page_start(const struct live_layout *l, enum live_page which)
{
    if (!l->described)
        return 0;
    const struct layout_era *era = l->decision.era;
    const struct layout_page *pages[] = {&era->time, &era->ns_real, &era->pvclock, &era->hvclock};
    const struct layout_page *p = pages[which];
    const struct live_range *r = p->vma == LAYOUT_VMA_VVAR ? &l->maps.vvar : &l->maps.vclock;
    uintptr_t at = r->lo + (uintptr_t)p->index * VDSO_PAGE_SIZE;

    return live_range_holds(r, at, VDSO_PAGE_SIZE) ? at : 0;
}

static bool time_page(enum live_page which)
{
    return which == LIVE_PAGE_TIME || which == LIVE_PAGE_NS_REAL;
}

const volatile void *live_layout_page(const struct live_layout *l, enum live_page which)
{
    uintptr_t at = page_start(l, which);

    /* A time page of another era's format is read only through the snapshot. */
    if (at && time_page(which) && !layout_records_native(&l->decision.era->rec))
        return NULL;
    return (const volatile void *)at;
}

bool live_layout_snapshot(const struct live_layout *l, enum live_page which,
                          struct vdso_time_data *out)
{
    uintptr_t at = time_page(which) ? page_start(l, which) : 0;

    return at && layout_records_read(&l->decision.era->rec, (const volatile void *)at, out);
}

const volatile struct vdso_time_data *live_layout_time_data(const struct live_layout *l)
{
    return live_layout_page(l, LIVE_PAGE_TIME);
}
