/*
 * What the loader's files share and nobody else needs: attaching and
 * detaching the emulated kernel's timekeeper to a loaded image's data pages
 * (loader_timekeeper.c, below loader.c, which maps and unmaps), and the
 * window every image is placed in (loader_window.c, below loader.c and
 * loader_trap.c).
 */
#ifndef VDSOKIT_LOADER_INTERNAL_H
#define VDSOKIT_LOADER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <vdsokit/loader.h>

/* Create the timekeeper on l->dp's writer view (none with LOADER_CLOCK_NONE). */
int loader_attach_timekeeper(struct vdso_loaded *l, const struct loader_options *opt,
                             struct vdsokit_error *err);
void loader_detach_timekeeper(struct vdso_loaded *l);
/* In the namespace layout, give a never-filled namespace page zero offsets. */
int loader_fill_timens(struct vdso_loaded *l, struct vdsokit_error *err);

/* The window: reserved on first use (4 GiB, 4 GiB-aligned, PROT_NONE). */
int loader_window_ensure(struct vdsokit_error *err);
uintptr_t loader_window_base(void); /* 0 before the first use */
/* A random free slot for l, and a random page-aligned place in it for len bytes. */
int loader_window_claim(struct vdso_loaded *l, size_t len, uint8_t **addr,
                        struct vdsokit_error *err);
/* Return a placement to PROT_NONE (moved_away: its pages went elsewhere). */
void loader_window_release(uint8_t *addr, size_t len, bool moved_away);
/* The image whose slot holds ip, or NULL; lock-free (signal handlers). */
struct vdso_loaded *loader_window_owner(uintptr_t ip);

#endif /* VDSOKIT_LOADER_INTERNAL_H */
