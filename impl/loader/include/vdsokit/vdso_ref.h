/*
 * The reference vDSO image embedded in the vdsokit library at build time
 * (built in impl/vdso, checked by `vdsoimg check`, converted by `vdsoimg
 * c`), natively and per era. The native file itself is installed as
 * lib/vdsokit/vdso-ref.so.
 */
#ifndef VDSOKIT_VDSO_REF_H
#define VDSOKIT_VDSO_REF_H

#include <stdint.h>

#include <vdsokit/image_blob.h>

extern const struct vdso_image_blob vdso_ref_image;

/*
 * The reference built per range of kernels whose vDSOs read the data pages
 * alike (layout era, delta rule, .altinstructions format): its image
 * carries a `Linux` note with the range's last version, so a loader picks
 * the era's profile by itself. The native image is the range 6.17-6.18.
 */
struct vdso_ref_era {
    const char *name;     /* "6.10-6.12" */
    const char *label;    /* the loaded image's name: "ref@6.10-6.12"; "ref" for the native one */
    uint32_t first, last; /* LINUX_VERSION_CODEs covered, inclusive */
    const struct vdso_image_blob *image;
};

/* The ranges, oldest first, the native one last. */
extern const struct vdso_ref_era vdso_ref_eras[];
extern const size_t vdso_ref_era_count;

/* The range that holds a LINUX_VERSION_CODE, or NULL. */
const struct vdso_ref_era *vdso_ref_era_for(uint32_t version);
/* The TICK_NSEC the reference was built for (its coarse clock_getres):
 * the emulated kernel that runs it ticks at that length. */
extern const uint32_t vdso_ref_tick_nsec;

#endif /* VDSOKIT_VDSO_REF_H */
