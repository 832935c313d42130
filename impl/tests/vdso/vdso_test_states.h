/*
 * Random data-page states for the reference vDSO tests (deterministic from a
 * seed): every clock mode and unknown ones, the root and time-namespace
 * layouts with signed offsets, random mult/shift/max_cycles (shift counts
 * beyond 63 included), counters on both sides of cycle_last and bases near
 * the u64 limits. Each state comes with the tk_model view of it. States a
 * reader would wait on (odd seq outside a namespace page) are not made.
 */
#ifndef VDSO_TEST_STATES_H
#define VDSO_TEST_STATES_H

#include <stdbool.h>
#include <vdsokit/tk_model.h>

#include "vdso_test_pages.h"

struct state_gen {
    uint64_t rng;
    struct test_pages *pg;
    uint64_t tsc; /* what a TSC hook should return for this state */
    bool no_tsc;  /* make TSC-mode states PVCLOCK (for code reading the real TSC) */
};

static uint64_t rnd(struct state_gen *g)
{
    /* splitmix64 */
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t pick(struct state_gen *g, const uint64_t *v, size_t n)
{
    return v[rnd(g) % n];
}

static uint64_t random_u64_edge(struct state_gen *g)
{
    static const uint64_t edges[] = {0,          1,
                                     999999999,  1000000000,
                                     INT64_MAX,  (uint64_t)INT64_MAX + 1,
                                     UINT64_MAX, UINT64_MAX - 999999999,
                                     1ull << 32, 1ull << 62};
    return rnd(g) % 3 ? rnd(g) >> (rnd(g) % 64) : pick(g, edges, sizeof(edges) / sizeof(edges[0]));
}

static void random_clock(struct state_gen *g, struct vdso_clock *vc, int32_t mode)
{
    static const uint64_t maxes[] = {0, 1, 1ull << 20, 1ull << 40, UINT64_MAX, INT64_MAX};

    vc->seq = (uint32_t)rnd(g) & ~1u;
    vc->clock_mode = mode;
    vc->cycle_last = rnd(g) & INT64_MAX;
    if (rnd(g) % 2)
        vc->cycle_last >>= rnd(g) % 63;
    vc->max_cycles = rnd(g) % 2 ? pick(g, maxes, sizeof(maxes) / sizeof(maxes[0])) : rnd(g) >> 20;
    vc->mask = UINT64_MAX;
    vc->mult = (uint32_t)rnd(g);
    vc->shift = rnd(g) % 8 ? (uint32_t)(rnd(g) % 33) : (uint32_t)(rnd(g) % 256);
    for (int i = 0; i < VDSO_BASES; i++) {
        vc->basetime[i].sec = random_u64_edge(g);
        vc->basetime[i].nsec = random_u64_edge(g);
    }
}

/* The counter the vDSO will read, written into the pages for `mode`. */
static uint64_t program_counter(struct state_gen *g, int32_t mode, uint64_t near)
{
    uint64_t c = rnd(g) % 4 ? near + (rnd(g) % 2000000) - 1000000 : rnd(g);
    struct pvclock_vcpu_time_info *pv = tp_pvclock(g->pg);
    struct ms_hyperv_tsc_page *hv = tp_hvclock(g->pg);

    switch (mode) {
    case VDSO_CLOCKMODE_TSC:
        g->tsc = c;
        return c & INT64_MAX;
    case VDSO_CLOCKMODE_PVCLOCK:
        tp_set_manual_counter(g->pg, c);
        if (rnd(g) % 8 == 0) {
            pv->flags = 0;
            return UINT64_MAX;
        }
        return c & INT64_MAX;
    case VDSO_CLOCKMODE_HVCLOCK:
        hv->tsc_scale = 0; /* the counter is the offset */
        hv->tsc_offset = (int64_t)c;
        hv->tsc_sequence = rnd(g) % 8 ? 1 + (uint32_t)(rnd(g) % 100) : 0;
        return hv->tsc_sequence ? c & INT64_MAX : UINT64_MAX;
    default:
        return UINT64_MAX;
    }
}

static void random_state(struct state_gen *g, bool timens, struct tk_model_view *view)
{
    static const uint64_t modes[] = {
        VDSO_CLOCKMODE_NONE,    VDSO_CLOCKMODE_TSC,     VDSO_CLOCKMODE_TSC, VDSO_CLOCKMODE_PVCLOCK,
        VDSO_CLOCKMODE_PVCLOCK, VDSO_CLOCKMODE_HVCLOCK, VDSO_CLOCKMODE_MAX, (uint64_t)-1};
    unsigned data_page = timens ? VDSO_TIMENS_PAGE : VDSO_TIME_PAGE;
    struct vdso_time_data *vd = tp_page(g->pg, data_page);
    int32_t mode = (int32_t)pick(g, modes, sizeof(modes) / sizeof(modes[0]));

    if (g->no_tsc && mode == VDSO_CLOCKMODE_TSC)
        mode = VDSO_CLOCKMODE_PVCLOCK;

    memset(vd, 0, sizeof(*vd));
    random_clock(g, &vd->clock_data[0], mode);
    random_clock(g, &vd->clock_data[1], mode);
    for (int i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        random_clock(g, &vd->aux_clock_data[i], rnd(g) % 3 ? mode : VDSO_CLOCKMODE_NONE);
    vd->tz_minuteswest = (int32_t)rnd(g);
    vd->tz_dsttime = (int32_t)rnd(g);
    vd->hrtimer_res = rnd(g) % 2 ? 1 : (uint32_t)rnd(g);

    const struct vdso_clock *anchor = &vd->clock_data[rnd(g) % 2];
    view->counter = program_counter(g, mode, anchor->cycle_last);
    view->low_res_nsec = VDSO_LOW_RES_NSEC;
    if (timens) {
        tp_make_timens(g->pg, (int64_t)random_u64_edge(g), rnd(g) % 1000000000,
                       (int64_t)random_u64_edge(g), rnd(g) % 1000000000);
        struct vdso_time_data *ns = tp_page(g->pg, VDSO_TIME_PAGE);
        ns->tz_minuteswest = 12345;          /* must not be what a reader reports */
        for (int i = 0; i < VDSO_BASES; i++) /* the kernel leaves these 0; any value is added */
            if (rnd(g) % 4 == 0)
                ns->clock_data[rnd(g) % 2].offset[i].sec = (int64_t)rnd(g);
        view->page0 = ns;
        view->real = vd;
    } else {
        view->page0 = vd;
        view->real = NULL;
    }
}

#endif /* VDSO_TEST_STATES_H */
