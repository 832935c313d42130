/*
 * The explorer's states and updates for one mode. The image's timekeeper
 * restarts from a script (deterministic constants, the mode's counter);
 * the start state's pages are kept as bytes, and each update is made on
 * the writer's mapping phase by phase (seqs odd, data, seqs even; the
 * counter pages' own protocols likewise), the page bytes compared after
 * each phase into the stores of that phase, and the pages put back. The
 * updates are chosen so that any torn combination is far from every
 * state: each time update moves every clock by 7.5 s and halves or
 * doubles the shift (so a base of one state scaled by another's shift is
 * off by about a factor 2); the pvclock update moves tsc_timestamp and
 * system_time together by half a second of counter; the Hyper-V update
 * raises the scale by a quarter with the offset keeping the time
 * continuous. The era serializer mirrors every phase into an older era's
 * pages, so any layout sees the same sequence of stores.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdsokit/counter.h>
#include <vdsokit/datapages_era.h>
#include <vdsokit/timekeeper.h>

#include "explore_internal.h"

#define JUMP_SEC  7u
#define JUMP_NSEC 500000000ull
#define PV_STEP   (1ull << 30) /* counter cycles the pvclock update moves its stamp by */

static const int hres_slots[] = {VDSO_CLOCK_REALTIME, VDSO_CLOCK_MONOTONIC, VDSO_CLOCK_BOOTTIME,
                                 VDSO_CLOCK_TAI};
static const int coarse_slots[] = {VDSO_CLOCK_REALTIME_COARSE, VDSO_CLOCK_MONOTONIC_COARSE};

static enum tk_counter_kind kind_for(enum explore_mode m)
{
    if (m == EXPLORE_PVCLOCK)
        return TK_COUNTER_PVCLOCK_HOST;
    if (m == EXPLORE_HVCLOCK)
        return TK_COUNTER_HVCLOCK_HOST;
    return TK_COUNTER_TSC;
}

/*
 * One counter unit is 0.5 ns of TSC, 1 ns of pvclock, 100 ns of Hyper-V
 * time (shift 24, mult even so that halving it is exact). The rates need
 * not be the host's: the oracle is the model of the pages, not the host.
 */
static struct tk_script script_for(enum explore_mode m)
{
    struct tk_script s = {
        .counter = kind_for(m),
        .mult = m == EXPLORE_PVCLOCK   ? 1u << 24
                : m == EXPLORE_HVCLOCK ? 100u << 24
                                       : 1u << 23,
        .shift = 24,
        .realtime = {1900000000, 123456789},
        .monotonic = {1000, 999990000},
        .boot_offset = {5, 500000000},
        .raw = {900, 250000000},
        .tai_offset = 37,
        .hrtimer_res = 1,
        .tz_minuteswest = -60,
        .tz_dsttime = 1,
        .seq_start = 40,
        .log_entries = 8,
    };

    return s;
}

/* Add the jump to a base in units of 1 << shift (normalised, one carry at most). */
static void jump(struct vdso_timestamp *t, uint32_t shift)
{
    uint64_t unit = (uint64_t)VDSO_NSEC_PER_SEC << shift;

    t->sec += JUMP_SEC;
    t->nsec += JUMP_NSEC << shift;
    if (t->nsec >= unit) {
        t->nsec -= unit;
        t->sec++;
    }
}

/*
 * The next record of clock i: mode `mode`; with counter fields, the shift
 * moved by dir (the mult and the shifted bases with it) and every base
 * jumped; without (a flip to NONE, where the kernel refreshes only
 * REALTIME and the coarse bases), those alone jumped.
 */
static void next_record(const struct vdso_clock *r, int i, int dir, bool counter_fields,
                        int32_t mode, struct vdso_clock *n)
{
    *n = *r;
    n->clock_mode = mode;
    if (i == 0)
        for (size_t s = 0; s < sizeof coarse_slots / sizeof coarse_slots[0]; s++)
            jump(&n->basetime[coarse_slots[s]], 0);
    if (!counter_fields) {
        if (i == 0)
            jump(&n->basetime[VDSO_CLOCK_REALTIME], n->shift);
        return;
    }
    n->shift = (uint32_t)((int)n->shift + dir);
    n->mult = dir < 0 ? n->mult >> 1 : n->mult << 1;
    size_t nslots = i == 0 ? sizeof hres_slots / sizeof hres_slots[0] : 1;
    for (size_t s = 0; s < nslots; s++) {
        struct vdso_timestamp *t = &n->basetime[i == 0 ? hres_slots[s] : VDSO_CLOCK_MONOTONIC_RAW];
        t->nsec = dir < 0 ? t->nsec >> 1 : t->nsec << 1;
        jump(t, n->shift);
    }
}

static bool visible(const struct explore *x, int file_page)
{
    for (int i = 0; i < VDSO_DATA_PAGES; i++)
        if (x->reader_map[i] == file_page)
            return true;
    return false;
}

static int add_store(struct explore_update *u, int page, size_t off, unsigned size,
                     const uint8_t *now)
{
    if (u->nstores == EXPLORE_MAX_STORES)
        return -1;
    struct explore_store *s = &u->stores[u->nstores++];
    s->file_page = (uint8_t)page;
    s->offset = (uint16_t)off;
    s->size = (uint8_t)size;
    s->value = 0;
    memcpy(&s->value, now + page * EXPLORE_PAGE + off, size);
    return 0;
}

/*
 * The stores that turn pages `was` into `now`, in page and address order:
 * an aligned 8-byte word whose halves both changed is one store (x86
 * stores aligned words whole), else each changed 4-byte half is one.
 */
static int diff(const struct explore *x, const uint8_t *was, const uint8_t *now,
                struct explore_update *u)
{
    for (int p = 0; p < DATAPAGES_FILE_PAGES; p++) {
        if (!visible(x, p))
            continue;
        for (size_t off = 0; off < EXPLORE_PAGE; off += 8) {
            size_t at = p * EXPLORE_PAGE + off;
            bool lo = memcmp(was + at, now + at, 4) != 0;
            bool hi = memcmp(was + at + 4, now + at + 4, 4) != 0;
            int rc = 0;
            if (lo && hi)
                rc = add_store(u, p, off, 8, now);
            else if (lo)
                rc = add_store(u, p, off, 4, now);
            else if (hi)
                rc = add_store(u, p, off + 4, 4, now);
            if (rc)
                return -1;
        }
    }
    return 0;
}

/* The three phases of an update already applied to the pages: snap[0..3]. */
static int split(struct explore *x, uint8_t *snap[4], struct explore_update *u,
                 struct vdsokit_error *err)
{
    u->nstores = 0;
    if (diff(x, snap[0], snap[1], u))
        goto full;
    u->begin_end = u->nstores;
    if (diff(x, snap[1], snap[2], u))
        goto full;
    u->data_end = u->nstores;
    if (diff(x, snap[2], snap[3], u))
        goto full;
    return 0;
full:
    return vdsokit_fail(err, "explore: an update of more than %d stores", EXPLORE_MAX_STORES);
}

static void seqs_step(struct vdso_datapages *dp)
{
    struct vdso_time_data *page = datapages_time(dp);

    for (int i = 0; i < VDSO_CS_BASES; i++)
        __atomic_store_n(&page->clock_data[i].seq, page->clock_data[i].seq + 1, __ATOMIC_RELAXED);
    datapages_era_seqs(dp);
}

/* A time update from the pages as they are: update u publishes state u's successor. */
static int time_update(struct explore *x, unsigned u, uint8_t *snap[4], int dir,
                       bool counter_fields, int32_t mode, struct vdsokit_error *err)
{
    struct vdso_datapages *dp = &x->l->dp;
    struct vdso_time_data *page = datapages_time(dp);
    struct vdso_clock next[VDSO_CS_BASES];

    for (int i = 0; i < VDSO_CS_BASES; i++)
        next_record(&page->clock_data[i], i, dir, counter_fields, mode, &next[i]);
    memcpy(snap[0], dp->rw, EXPLORE_FILE_BYTES);
    seqs_step(dp);
    memcpy(snap[1], dp->rw, EXPLORE_FILE_BYTES);
    for (int i = 0; i < VDSO_CS_BASES; i++)
        datapages_store_clock(&page->clock_data[i], &next[i]);
    datapages_era_data(dp);
    memcpy(snap[2], dp->rw, EXPLORE_FILE_BYTES);
    seqs_step(dp);
    memcpy(snap[3], dp->rw, EXPLORE_FILE_BYTES);
    x->upd[u].kind = EXPLORE_UPDATE_TIME;
    x->publishes[u] = (uint8_t)x->nstates;
    memcpy(&x->state[x->nstates++], page, sizeof(struct vdso_time_data));
    return split(x, snap, &x->upd[u], err);
}

/* The pvclock record rewritten so that its stamp lies 2 steps back (same clock), then P1. */
static void pv_records(struct explore *x)
{
    struct pvclock_vcpu_time_info *page = datapages_pvclock(&x->l->dp);
    struct pvclock_vcpu_time_info p = *page, one = *page;
    uint64_t step = PV_STEP;

    while (step && p.tsc_timestamp < 4 * step)
        step >>= 1;
    one.tsc_timestamp = 0;
    one.system_time = 0;
    uint64_t two = counter_pvclock_scale(&one, 2 * step), half = counter_pvclock_scale(&one, step);
    p.tsc_timestamp -= 2 * step;
    p.system_time -= two;
    x->pv[0] = p;
    x->pv[1] = p;
    x->pv[1].tsc_timestamp += step;
    x->pv[1].system_time += half;
    x->pv[1].version = p.version + 2;
    *page = p;
}

static int pv_update(struct explore *x, unsigned u, uint8_t *snap[4], struct vdsokit_error *err)
{
    struct pvclock_vcpu_time_info *page = datapages_pvclock(&x->l->dp);
    uint8_t *rw = x->l->dp.rw;

    memcpy(snap[0], rw, EXPLORE_FILE_BYTES);
    page->version = x->pv[0].version + 1;
    memcpy(snap[1], rw, EXPLORE_FILE_BYTES);
    page->tsc_timestamp = x->pv[1].tsc_timestamp;
    page->system_time = x->pv[1].system_time;
    memcpy(snap[2], rw, EXPLORE_FILE_BYTES);
    page->version = x->pv[1].version;
    memcpy(snap[3], rw, EXPLORE_FILE_BYTES);
    x->upd[u].kind = EXPLORE_UPDATE_PVCLOCK;
    x->publishes[u] = EXPLORE_NO_REQUIRES;
    return split(x, snap, &x->upd[u], err);
}

static int hv_update(struct explore *x, unsigned u, uint8_t *snap[4], struct vdsokit_error *err)
{
    struct ms_hyperv_tsc_page *page = datapages_hvclock(&x->l->dp);
    uint8_t *rw = x->l->dp.rw;
    struct ms_hyperv_tsc_page h = *page;
    uint64_t tsc = counter_rdtsc();

    x->hv[0] = h;
    h.tsc_scale += h.tsc_scale / 4;
    h.tsc_offset +=
        (int64_t)(counter_hvclock_scale(&x->hv[0], tsc) - counter_hvclock_scale(&h, tsc));
    h.tsc_sequence = x->hv[0].tsc_sequence + 1 ? x->hv[0].tsc_sequence + 1 : 1;
    x->hv[1] = h;
    memcpy(snap[0], rw, EXPLORE_FILE_BYTES);
    page->tsc_sequence = 0;
    memcpy(snap[1], rw, EXPLORE_FILE_BYTES);
    page->tsc_scale = h.tsc_scale;
    page->tsc_offset = h.tsc_offset;
    memcpy(snap[2], rw, EXPLORE_FILE_BYTES);
    page->tsc_sequence = h.tsc_sequence;
    memcpy(snap[3], rw, EXPLORE_FILE_BYTES);
    x->upd[u].kind = EXPLORE_UPDATE_HVCLOCK;
    x->publishes[u] = EXPLORE_NO_REQUIRES;
    return split(x, snap, &x->upd[u], err);
}

/* The kernel's side: a fresh scripted start, the mode's layout and namespace offsets. */
static int setup_kernel(struct explore *x, struct vdsokit_error *err)
{
    struct vdso_loaded *l = x->l;
    struct tk_script s = script_for(x->mode);
    bool ns = x->mode == EXPLORE_TIMENS;

    if (!l->tk)
        return vdsokit_fail(err, "%s: explore: the image has no emulated kernel", l->name);
    int rc = tk_reset_scripted(l->tk, &s);
    if (rc)
        return vdsokit_fail(err, "%s: explore: restarting the emulated kernel: %s%s", l->name,
                            strerror(-rc), rc == -EBUSY ? " (a writer thread runs)" : "");
    if (loader_set_layout(l, ns ? LOADER_LAYOUT_TIMENS : LOADER_LAYOUT_ROOT, err))
        return -1;
    if (ns && tk_timens_set(l->tk, (struct timens_offset){86400, 250000000},
                            (struct timens_offset){7200, 750000000}) != 0)
        return vdsokit_fail(err, "%s: explore: filling the namespace page", l->name);
    const int *map = ns ? l->profile->reader_timens : l->profile->reader_root;
    memcpy(x->reader_map, map, sizeof x->reader_map);
    x->low_res_nsec = tk_low_res_nsec(l->tk);
    return 0;
}

static int need_page(const struct explore *x, int file_page, const char *what,
                     struct vdsokit_error *err)
{
    if (visible(x, file_page))
        return 0;
    return vdsokit_fail(err, "%s: explore: the %s era's layout has no %s page", x->l->name,
                        x->l->profile->era, what);
}

static int build_updates(struct explore *x, uint8_t *snap[4], struct vdsokit_error *err)
{
    struct vdso_datapages *dp = &x->l->dp;

    x->pv[0] = x->pv[1] = *datapages_pvclock(dp);
    x->hv[0] = x->hv[1] = *datapages_hvclock(dp);
    x->requires[0] = x->requires[1] = EXPLORE_NO_REQUIRES;
    if (x->mode == EXPLORE_PVCLOCK) {
        if (need_page(x, DATAPAGES_FILE_PVCLOCK, "pvclock", err))
            return -1;
        pv_records(x);
    }
    memcpy(x->start, dp->rw, EXPLORE_FILE_BYTES);
    memcpy(&x->state[0], datapages_time(dp), sizeof x->state[0]);
    memcpy(&x->ns_page, datapages_timens(dp), sizeof x->ns_page);
    x->nstates = 1;
    x->nupdates = 2;
    int rc;
    if (x->mode == EXPLORE_NONE)
        rc = time_update(x, 0, snap, 0, false, VDSO_CLOCKMODE_NONE, err);
    else
        rc = time_update(x, 0, snap, -1, true, datapages_time(dp)->clock_data[0].clock_mode, err);
    if (rc)
        return -1;
    if (x->mode == EXPLORE_PVCLOCK) {
        rc = pv_update(x, 1, snap, err);
    } else if (x->mode == EXPLORE_HVCLOCK) {
        if (need_page(x, DATAPAGES_FILE_HVCLOCK, "Hyper-V TSC", err))
            return -1;
        rc = hv_update(x, 1, snap, err);
    } else {
        x->requires[1] = 0;
        rc = time_update(x, 1, snap, 1, true, VDSO_CLOCKMODE_TSC, err);
    }
    return rc;
}

int explore_states_build(struct explore *x, struct vdsokit_error *err)
{
    uint8_t *snap[4] = {0};
    int rc = -1;

    if (setup_kernel(x, err))
        return -1;
    x->start = malloc(EXPLORE_FILE_BYTES);
    for (int i = 0; i < 4; i++)
        snap[i] = malloc(EXPLORE_FILE_BYTES);
    if (!x->start || !snap[0] || !snap[1] || !snap[2] || !snap[3])
        vdsokit_fail(err, "explore: out of memory");
    else
        rc = build_updates(x, snap, err);
    for (int i = 0; i < 4; i++)
        free(snap[i]);
    if (x->start)
        memcpy(x->l->dp.rw, x->start, EXPLORE_FILE_BYTES);
    return rc;
}
