/*
 * The reference vDSO image embedded in the vdsokit library at build time
 * (built in impl/vdso, checked by `vdsoimg check`, converted by `vdsoimg
 * c`). The file itself is installed as lib/vdsokit/vdso-ref.so.
 */
#ifndef VDSOKIT_VDSO_REF_H
#define VDSOKIT_VDSO_REF_H

#include <stdint.h>

#include <vdsokit/image_blob.h>

extern const struct vdso_image_blob vdso_ref_image;
/* The TICK_NSEC the reference was built for (its coarse clock_getres):
 * the emulated kernel that runs it ticks at that length. */
extern const uint32_t vdso_ref_tick_nsec;

#endif /* VDSOKIT_VDSO_REF_H */
