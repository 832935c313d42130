/*
 * What the loader's files share and nobody else needs: attaching and
 * detaching the emulated kernel's timekeeper to a loaded image's data pages
 * (loader_timekeeper.c, below loader.c, which maps and unmaps).
 */
#ifndef VDSOKIT_LOADER_INTERNAL_H
#define VDSOKIT_LOADER_INTERNAL_H

#include <vdsokit/loader.h>

/* Create the timekeeper on l->dp's writer view (none with LOADER_CLOCK_NONE). */
int loader_attach_timekeeper(struct vdso_loaded *l, const struct loader_options *opt,
                             struct vdsokit_error *err);
void loader_detach_timekeeper(struct vdso_loaded *l);
/* In the namespace layout, give a never-filled namespace page zero offsets. */
int loader_fill_timens(struct vdso_loaded *l, struct vdsokit_error *err);

#endif /* VDSOKIT_LOADER_INTERNAL_H */
