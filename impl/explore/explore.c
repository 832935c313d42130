/*
 * The explorer's entry points (explore.h): open takes over a loaded image
 * for one mode (its states and updates from explore_states.c, the reader
 * pages the unprotected view can read), run steps one call under a
 * schedule (explore_step.c) and judges it (explore_judge.c).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "explore_internal.h"

/* A page the process can read: write(2) from it fails with EFAULT otherwise. */
static bool page_readable(const uint8_t *p)
{
    int fd[2];
    bool ok;

    if (pipe2(fd, O_CLOEXEC) != 0)
        return false;
    ok = write(fd[1], p, 1) == 1;
    close(fd[0]);
    close(fd[1]);
    return ok;
}

int explore_open(struct explore **out, struct vdso_loaded *l, enum explore_mode mode,
                 struct vdsokit_error *err)
{
    struct explore *x = calloc(1, sizeof *x);

    *out = NULL;
    if (!x)
        return vdsokit_fail(err, "explore: out of memory");
    x->l = l;
    x->mode = mode;
    if (mode >= EXPLORE_NMODES) {
        free(x);
        return vdsokit_fail(err, "explore: mode %d is not a mode", (int)mode);
    }
    if (explore_states_build(x, err)) {
        explore_close(x);
        return -1;
    }
    for (int i = 0; i < VDSO_DATA_PAGES; i++)
        x->readable[i] = x->reader_map[i] >= 0 && page_readable(l->base + i * EXPLORE_PAGE);
    explore_step_attach(x);
    x->attached = true;
    *out = x;
    return 0;
}

void explore_close(struct explore *x)
{
    if (!x)
        return;
    if (x->attached)
        explore_step_detach(x);
    if (x->mode == EXPLORE_TIMENS)
        loader_set_layout(x->l, LOADER_LAYOUT_ROOT, NULL);
    free(x->start);
    free(x);
}

unsigned explore_nupdates(const struct explore *x)
{
    return x->nupdates;
}

const struct explore_update *explore_update(const struct explore *x, unsigned u)
{
    return u < x->nupdates ? &x->upd[u] : NULL;
}

int explore_run(struct explore *x, const struct explore_call *c, const struct explore_schedule *s,
                struct explore_outcome *o, struct vdsokit_error *err)
{
    static struct explore_record r;

    if (c->entry == EXPLORE_GETRANDOM)
        return vdsokit_fail(err, "explore_run: getrandom is explored by explore_rng_run");
    for (unsigned i = 0; s && i < s->nactions; i++)
        if (s->act[i].update >= x->nupdates || s->act[i].to > x->upd[s->act[i].update].nstores)
            return vdsokit_fail(
                err, "schedule action %u: update %u has %u stores", i, s->act[i].update,
                s->act[i].update < x->nupdates ? x->upd[s->act[i].update].nstores : 0);
    if (explore_step_call(x, c, s, o, &r, err))
        return -1;
    o->traps = r.traps;
    explore_judge(x, c, s, &r, o);
    return 0;
}
