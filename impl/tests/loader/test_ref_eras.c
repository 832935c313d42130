/*
 * The reference's era variants (vdso_ref.h): the rows cover 6.1.0 to
 * 6.18.255 without gap or overlap; each row lies inside one data-page
 * layout era, one delta rule and one .altinstructions format (so one image
 * serves it); each embedded image carries a `Linux` note inside its row,
 * the native row is the image the rest of vdsokit calls the reference;
 * loading the reference for the first and the last version of each row
 * gives that version's layout profile, delta rule and a fully decoded
 * alternatives table; versions outside every row are refused, named.
 */
#include "check.h"

#include <string.h>

#include <vdsokit/alt_layout.h>
#include <vdsokit/elf.h>
#include <vdsokit/elf_sections.h>
#include <vdsokit/layout_era.h>
#include <vdsokit/loader.h>

static void check_rows(void)
{
    for (size_t i = 0; i < vdso_ref_era_count; i++) {
        const struct vdso_ref_era *r = &vdso_ref_eras[i];
        uint32_t want_first = i ? vdso_ref_eras[i - 1].last + 1 : LAYOUT_VERSION(6, 1, 0);

        CHECK(r->first == want_first && r->first <= r->last,
              "%s: [%#x, %#x] does not follow the previous row (want first %#x)", r->name, r->first,
              r->last, want_first);
        CHECK(layout_era_for_version(r->first) == layout_era_for_version(r->last) &&
                  layout_delta_rule_for_version(r->first) ==
                      layout_delta_rule_for_version(r->last) &&
                  alt_layout_for_version(r->first) == alt_layout_for_version(r->last),
              "%s spans two layout eras, delta rules or alternatives formats", r->name);
        CHECK(vdso_ref_era_for(r->first) == r && vdso_ref_era_for(r->last) == r,
              "%s: vdso_ref_era_for() picks another row", r->name);
    }
    CHECK(vdso_ref_eras[vdso_ref_era_count - 1].last == LAYOUT_VERSION(6, 18, 255) &&
              vdso_ref_eras[vdso_ref_era_count - 1].image == &vdso_ref_image,
          "the last row is the native reference, up to 6.18");
}

/* The embedded image's note names a version inside its row. */
static void check_note(const struct vdso_ref_era *r)
{
    struct elf_image img;
    struct elf_notes notes;
    struct vdsokit_error err;

    if (elf_open(&img, r->image->data, r->image->file_size, &err) ||
        elf_notes_read(&img, NULL, &notes, &err)) {
        CHECK(0, "%s: the embedded image does not parse: %s", r->name, err.msg);
        return;
    }
    CHECK(notes.has_linux_version && notes.linux_version >= r->first &&
              notes.linux_version <= r->last,
          "%s: the image's `Linux` note %#x is outside [%#x, %#x]", r->name,
          notes.has_linux_version ? notes.linux_version : 0, r->first, r->last);
}

static void check_load(const struct vdso_ref_era *r, uint32_t version)
{
    const struct loader_options opt = {.clock = LOADER_CLOCK_NONE, .linux_version = version};
    const struct layout_era *era = layout_era_for_version(version);
    struct vdsokit_error err;
    struct vdso_loaded *l;

    if (loader_load_ref(&l, &opt, &err)) {
        CHECK(0, "%s: loading for %#x: %s", r->name, version, err.msg);
        return;
    }
    CHECK(!strcmp(l->name, r->label), "%#x: loaded %s, want %s", version, l->name, r->label);
    CHECK(era && l->profile == layout_profile_for_era(era->name), "%#x: profile %s, want %s",
          version, l->profile->era, era ? era->name : "?");
    CHECK(l->delta == layout_delta_rule_for_version(version), "%#x: delta rule %d, want %d",
          version, l->delta, layout_delta_rule_for_version(version));
    CHECK(l->alt.entries > 0 && l->alt.skipped_unknown == 0,
          "%#x: %u alternatives entries, %u of unknown features", version, l->alt.entries,
          l->alt.skipped_unknown);
    loader_unload(l);
}

static void check_refused(uint32_t version)
{
    const struct loader_options opt = {.clock = LOADER_CLOCK_NONE, .linux_version = version};
    struct vdsokit_error err = {{0}};
    struct vdso_loaded *l = (struct vdso_loaded *)&err;

    CHECK(!vdso_ref_era_for(version), "%#x: a row covers it", version);
    CHECK(loader_load_ref(&l, &opt, &err) != 0 && !l &&
              strstr(err.msg, "no variant of the reference covers"),
          "%#x: loading the reference: \"%s\"", version, err.msg);
}

int main(void)
{
    check_rows();
    for (size_t i = 0; i < vdso_ref_era_count; i++) {
        check_note(&vdso_ref_eras[i]);
        check_load(&vdso_ref_eras[i], vdso_ref_eras[i].first);
        check_load(&vdso_ref_eras[i], vdso_ref_eras[i].last);
    }
    check_refused(LAYOUT_VERSION(6, 0, 19));
    check_refused(LAYOUT_VERSION(6, 19, 0));
    check_refused(LAYOUT_VERSION(5, 4, 0));
    printf("%zu reference variants, 6.1 to 6.18\n", vdso_ref_era_count);
    return check_finish();
}
