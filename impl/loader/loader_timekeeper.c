/*
 * Binds a loaded image to the emulated kernel half: the timekeeper writes
 * the data pages through the writer view while the image reads them through
 * its read-only view. A namespace layout needs a filled namespace page (seq
 * 1, mode TIMENS); without one the image would read a zeroed page 0.
 */
#include <string.h>

#include "loader_internal.h"

static int attach_host(struct vdso_loaded *l, const struct loader_options *opt)
{
    if (!opt->seeded)
        return tk_init_host(&l->tk, &l->dp, opt->counter, opt->calib_ms);
    struct tk_constants c;
    tk_constants_choose(opt->seed, &c);
    return tk_init_seeded(&l->tk, &l->dp, opt->counter, opt->calib_ms, &c);
}

/* A seeded timekeeper's writer varies the state every tick. */
static int start_writer(struct vdso_loaded *l, const struct loader_options *opt)
{
    if (opt->clock == LOADER_CLOCK_HOST && opt->seeded)
        return tk_writer_start_seeded(l->tk, opt->tick_hz);
    return tk_writer_start(l->tk, opt->tick_hz);
}

int loader_attach_timekeeper(struct vdso_loaded *l, const struct loader_options *opt,
                             struct vdsokit_error *err)
{
    int rc = 0;

    switch (opt->clock) {
    case LOADER_CLOCK_NONE:
        return 0;
    case LOADER_CLOCK_SCRIPTED:
        if (!opt->script)
            return vdsokit_fail(err, "%s: LOADER_CLOCK_SCRIPTED without a script", l->name);
        rc = tk_init_scripted(&l->tk, &l->dp, opt->script);
        break;
    case LOADER_CLOCK_HOST:
        rc = attach_host(l, opt);
        break;
    }
    if (!rc && opt->tick_nsec)
        rc = tk_set_low_res_nsec(l->tk, opt->tick_nsec);
    if (rc)
        return vdsokit_fail(err, "%s: timekeeper: %s", l->name, strerror(-rc));
    if (opt->tick_hz && (rc = start_writer(l, opt)))
        return vdsokit_fail(err, "%s: timekeeper writer thread: %s", l->name, strerror(-rc));
    return loader_fill_timens(l, err);
}

int loader_fill_timens(struct vdso_loaded *l, struct vdsokit_error *err)
{
    const struct timens_offset zero = {0, 0};
    int rc;

    if (l->layout != LOADER_LAYOUT_TIMENS || !l->tk ||
        datapages_timens(&l->dp)->clock_data[0].clock_mode == VDSO_CLOCKMODE_TIMENS)
        return 0;
    rc = tk_timens_set(l->tk, zero, zero);
    if (rc)
        return vdsokit_fail(err, "%s: filling the namespace page: %s", l->name, strerror(-rc));
    return 0;
}

void loader_detach_timekeeper(struct vdso_loaded *l)
{
    if (l->tk)
        tk_destroy(l->tk);
    l->tk = NULL;
}
