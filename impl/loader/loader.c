/*
 * The loader's second step: place a prepared image in this process the way
 * the kernel maps a vDSO. A random place of six data pages plus the text in
 * the loader's PROT_NONE window (loader_window.c) is filled with MAP_FIXED
 * pieces: the read-only reader view of the data-page memfd at its start and
 * an anonymous mapping for the text right after it. The text is written while
 * the mapping is read-write and only then turned read+execute, so no page is
 * ever writable and executable at once. Unload returns the place to the
 * window (PROT_NONE again), the memfd and the timekeeper.
 */
#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <vdsokit/abi.h>
#include <vdsokit/layout_era.h>
#include <vdsokit/loader_prepare.h>

#include "loader_internal.h"

#define DATA_BYTES ((size_t)VDSO_DATA_PAGES * VDSO_PAGE_SIZE)

/* Prefix err with the image's name, keeping the finding. */
static void name_error(struct vdsokit_error *err, const char *name)
{
    char finding[VDSOKIT_ERROR_MAX];

    memcpy(finding, err->msg, sizeof finding);
    snprintf(err->msg, sizeof err->msg, "%.96s: refused: %.200s", name, finding);
}

static int map_text(struct vdso_loaded *l, const struct loader_prepared *p,
                    struct vdsokit_error *err)
{
    void *t = mmap(l->text, p->text_len, PROT_READ | PROT_WRITE,
                   MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (t == MAP_FAILED)
        return vdsokit_fail(err, "mmap of the 0x%zx-byte text: %s", p->text_len, strerror(errno));
    memcpy(l->text, p->text, p->text_len);
    if (mprotect(l->text, p->text_len, PROT_READ | PROT_EXEC))
        return vdsokit_fail(err, "mprotect R+X of the text: %s", strerror(errno));
    return 0;
}

static void *entry(const struct vdso_loaded *l, enum loader_symbol s)
{
    return l->sym[s] == LOADER_SYM_ABSENT ? NULL : l->text + l->sym[s];
}

static void bind_functions(struct vdso_loaded *l)
{
    l->clock_gettime = (vdso_clock_gettime_fn)entry(l, LOADER_SYM_CLOCK_GETTIME);
    l->gettimeofday = (vdso_gettimeofday_fn)entry(l, LOADER_SYM_GETTIMEOFDAY);
    l->time = (vdso_time_fn)entry(l, LOADER_SYM_TIME);
    l->clock_getres = (vdso_clock_getres_fn)entry(l, LOADER_SYM_CLOCK_GETRES);
    l->getcpu = (vdso_getcpu_fn)entry(l, LOADER_SYM_GETCPU);
    l->getrandom = (vdso_getrandom_fn)entry(l, LOADER_SYM_GETRANDOM);
}

static enum datapages_layout dp_layout(enum loader_layout layout)
{
    return layout == LOADER_LAYOUT_TIMENS ? DATAPAGES_TIMENS : DATAPAGES_ROOT;
}

static int map_all(struct vdso_loaded *l, const struct loader_prepared *p,
                   const struct loader_options *opt, struct vdsokit_error *err)
{
    uint8_t *res;
    int rc;

    if (loader_window_claim(l, p->map_len, &res, err))
        return -1;
    l->base = res;
    l->map_len = p->map_len;
    l->text = l->base + DATA_BYTES;
    l->text_len = p->text_len;
    rc = datapages_create(&l->dp);
    if (rc)
        return vdsokit_fail(err, "data pages: memfd: %s", strerror(-rc));
    l->dp.profile = l->profile;
    rc = datapages_map_reader(&l->dp, l->base, dp_layout(opt->layout));
    if (rc)
        return vdsokit_fail(err, "data pages: reader view: %s", strerror(-rc));
    l->layout = opt->layout;
    if (map_text(l, p, err))
        return -1;
    bind_functions(l);
    return loader_attach_timekeeper(l, opt, err);
}

/*
 * The layout profile: the override's version, else the note's; an image
 * without a note is taken for the canonical era (the reference and
 * synthetic images). A version no era covers is refused, named.
 */
static int pick_profile(struct vdso_loaded *l, const struct loader_prepared *p,
                        const struct loader_options *opt, struct vdsokit_error *err)
{
    uint32_t v = opt->linux_version     ? opt->linux_version
                 : p->has_linux_version ? p->linux_version
                                        : 0;
    const struct layout_era *era = v ? layout_era_for_version(v) : NULL;
    char vs[24], first[24], last[24];

    l->layout_version = v;
    l->profile = v ? (era ? layout_profile_for_era(era->name) : NULL) : layout_profile_native();
    l->delta = v ? layout_delta_rule_for_version(v) : LAYOUT_DELTA_6_10;
    if (l->profile)
        return 0;
    layout_version_format(v, vs, sizeof vs);
    snprintf(first, sizeof first, "%u.%u", LAYOUT_VERSION_MAJOR(layout_eras[0].first),
             LAYOUT_VERSION_MINOR(layout_eras[0].first));
    snprintf(last, sizeof last, "%u.%u",
             LAYOUT_VERSION_MAJOR(layout_eras[layout_era_count - 1].last),
             LAYOUT_VERSION_MINOR(layout_eras[layout_era_count - 1].last));
    return vdsokit_fail(err,
                        "%s: Linux %s (%s): no layout profile covers this version (this build "
                        "knows %s to %s)",
                        l->name, vs, opt->linux_version ? "layout= override" : "the image's note",
                        first, last);
}

int loader_load(struct vdso_loaded **out, const void *bytes, size_t size, const char *name,
                const struct loader_options *opt, struct vdsokit_error *err)
{
    static const struct loader_options defaults;
    struct loader_prepared p;
    struct vdso_loaded *l;

    *out = NULL;
    if (!opt)
        opt = &defaults;
    if (loader_prepare_as(bytes, size, opt->cpu, opt->linux_version, &p, err)) {
        name_error(err, name);
        return -1;
    }
    l = calloc(1, sizeof *l);
    if (!l) {
        loader_prepared_free(&p);
        return vdsokit_fail(err, "%s: out of memory", name);
    }
    l->dp.memfd = -1;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->image_size = p.image_size;
    l->alt = p.alt;
    memcpy(l->sym, p.sym, sizeof l->sym);
    if (pick_profile(l, &p, opt, err) || map_all(l, &p, opt, err)) {
        loader_unload(l);
        loader_prepared_free(&p);
        return -1;
    }
    loader_prepared_free(&p);
    *out = l;
    return 0;
}

int loader_set_layout(struct vdso_loaded *l, enum loader_layout layout, struct vdsokit_error *err)
{
    int rc = datapages_map_reader(&l->dp, l->base, dp_layout(layout));

    if (rc)
        return vdsokit_fail(err, "%s: switching the data-page layout: %s", l->name, strerror(-rc));
    l->layout = layout;
    return loader_fill_timens(l, err);
}

/*
 * Move the data pages and the text together to a fresh address, as
 * mremap moves [vvar] and [vdso]: the image reaches its data PC-relatively,
 * so it must keep working. mremap moves one mapping at a time, so each
 * reader page and the text go separately into a new reservation.
 */
int loader_move(struct vdso_loaded *l, struct vdsokit_error *err)
{
    uint8_t *dst;

    if (loader_window_claim(l, l->map_len, &dst, err))
        return -1;
    for (size_t off = 0; off < l->map_len;) {
        size_t len = off < DATA_BYTES ? VDSO_PAGE_SIZE : l->map_len - off;
        if (mremap(l->base + off, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst + off) ==
            MAP_FAILED) {
            int e = errno;
            /* Drop what moved; unload then returns the rest of the old range. */
            loader_window_release(dst, l->map_len, false);
            return vdsokit_fail(err, "%s: mremap of 0x%zx bytes at offset 0x%zx: %s", l->name, len,
                                off, strerror(e));
        }
        off += len;
    }
    loader_window_release(l->base, l->map_len, true);
    l->base = dst;
    l->text = dst + DATA_BYTES;
    bind_functions(l);
    return 0;
}

/* The reader page that a child namespace sees the namespace page (TIME)
 * or the real time page (NS_REAL) in: the profile's map says which. */
static int slot_page(const struct layout_profile *p, enum loader_slot slot)
{
    for (int i = 0; i < VDSO_DATA_PAGES; i++) {
        int f = p->reader_timens[i];
        if (slot == LOADER_SLOT_TIME
                ? (f == DATAPAGES_FILE_TIMENS || f == DATAPAGES_FILE_ERA_TIMENS)
                : (f == DATAPAGES_FILE_TIME || f == DATAPAGES_FILE_ERA_TIME))
            return i;
    }
    return 0; /* every profile has both; the table's tests hold it to that */
}

const struct vdso_clock *loader_reader_record(const struct vdso_loaded *l, enum loader_slot slot,
                                              int i)
{
    const struct layout_profile *p = l->profile;

    return (const void *)(l->base + (size_t)slot_page(p, slot) * VDSO_PAGE_SIZE + p->rec->at +
                          (size_t)i * p->rec->stride);
}

void loader_unload(struct vdso_loaded *l)
{
    if (!l)
        return;
    loader_detach_timekeeper(l);
    if (l->base)
        loader_window_release(l->base, l->map_len, false);
    if (l->dp.memfd >= 0 || l->dp.rw)
        datapages_destroy(&l->dp);
    free(l);
}
