/*
 * What the loader's files share and nobody else needs: error reporting, and
 * attaching and detaching the emulated kernel's timekeeper to a loaded
 * image's data pages.
 */
#ifndef VDSOKIT_LOADER_INTERNAL_H
#define VDSOKIT_LOADER_INTERNAL_H

#include "vdsokit/loader.h"

/* Fill err->msg from a format; returns -1 so callers can `return loader_fail(...)`. */
int loader_fail(struct loader_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Create the timekeeper on l->dp's writer view (unless opt->no_timekeeper). */
int loader_attach_timekeeper(struct vdso_loaded *l, const struct loader_options *opt,
                             struct loader_error *err);
void loader_detach_timekeeper(struct vdso_loaded *l);
/* In the namespace layout, give a never-filled namespace page zero offsets. */
int loader_fill_timens(struct vdso_loaded *l, struct loader_error *err);

#endif
