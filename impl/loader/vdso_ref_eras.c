/*
 * The table of the reference's era variants (vdso_ref.h). The ranges split
 * where any of the three things an image depends on changes: the data-page
 * layout era (6.10, 6.13, 6.15, 6.17), the delta rule (6.5, 6.10) and the
 * .altinstructions format (6.3). impl/vdso/CMakeLists.txt builds and embeds
 * one image per row (VDSOKIT_REF_ERAS, the same ranges); the test
 * test_ref_eras holds each image's note to its row.
 */
#include <vdsokit/layout_era.h>
#include <vdsokit/vdso_ref.h>

extern const struct vdso_image_blob vdso_ref_image_6_1, vdso_ref_image_6_3, vdso_ref_image_6_5,
    vdso_ref_image_6_10, vdso_ref_image_6_13, vdso_ref_image_6_15;

#define FROM(major, minor) LAYOUT_VERSION(major, minor, 0)
#define TO(major, minor)   LAYOUT_VERSION(major, minor, 255)

const struct vdso_ref_era vdso_ref_eras[] = {
    {"6.1-6.2", "ref@6.1-6.2", FROM(6, 1), TO(6, 2), &vdso_ref_image_6_1},
    {"6.3-6.4", "ref@6.3-6.4", FROM(6, 3), TO(6, 4), &vdso_ref_image_6_3},
    {"6.5-6.9", "ref@6.5-6.9", FROM(6, 5), TO(6, 9), &vdso_ref_image_6_5},
    {"6.10-6.12", "ref@6.10-6.12", FROM(6, 10), TO(6, 12), &vdso_ref_image_6_10},
    {"6.13-6.14", "ref@6.13-6.14", FROM(6, 13), TO(6, 14), &vdso_ref_image_6_13},
    {"6.15-6.16", "ref@6.15-6.16", FROM(6, 15), TO(6, 16), &vdso_ref_image_6_15},
    {"6.17-6.18", "ref", FROM(6, 17), TO(6, 18), &vdso_ref_image},
};
const size_t vdso_ref_era_count = sizeof(vdso_ref_eras) / sizeof(vdso_ref_eras[0]);

const struct vdso_ref_era *vdso_ref_era_for(uint32_t version)
{
    for (size_t i = 0; i < vdso_ref_era_count; i++)
        if (version >= vdso_ref_eras[i].first && version <= vdso_ref_eras[i].last)
            return &vdso_ref_eras[i];
    return NULL;
}
