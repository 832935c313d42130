/*
 * The reference model: the vDSO's routing and arithmetic written as pure
 * functions over one committed state. It follows the generic lib/vdso
 * algorithm with the x86 hooks (docs/abi.md §2.3-§2.8); the seq loop collapses
 * to a single check because the state is given, so an odd seq that the
 * vDSO would wait on is reported as TK_MODEL_SPIN.
 */
#include <stdbool.h>
#include <vdsokit/tk_model.h>

typedef unsigned __int128 u128;

/* x86 shr takes the count mod 64 (two-register shifts: mod 128). */
static uint64_t shr64(uint64_t v, uint32_t shift)
{
    return v >> (shift & 63);
}

static uint64_t shr128(u128 v, uint32_t shift)
{
    return (uint64_t)(v >> (shift & 127));
}

uint64_t tk_model_calc_ns(const struct vdso_clock *vc, uint64_t cycles, uint64_t base_nsec)
{
    uint64_t delta = cycles - vc->cycle_last;

    if (delta > vc->max_cycles) {
        /* Both values are < 2^63, so a counter behind cycle_last wraps
         * to a delta with bit 62 set: clamp to the base. */
        if (delta & (1ull << 62))
            return shr64(base_nsec, vc->shift);
        return shr128((u128)(delta & INT64_MAX) * vc->mult + base_nsec, vc->shift);
    }
    return shr64(delta * vc->mult + base_nsec, vc->shift);
}

/* The delta before 6.10: 6.5 cuts it to 63 bits and takes bit 62 for a
 * step backwards; up to 6.4 only forward motion counts. */
static uint64_t old_delta(enum layout_delta_rule rule, uint64_t cycles, uint64_t last)
{
    if (rule == LAYOUT_DELTA_6_1)
        return cycles > last ? cycles - last : 0;
    uint64_t delta = (cycles - last) & INT64_MAX;
    return delta & (1ull << 62) ? 0 : delta;
}

uint64_t tk_model_calc_ns_rule(enum layout_delta_rule rule, const struct vdso_clock *vc,
                               uint64_t cycles, uint64_t base_nsec)
{
    if (rule == LAYOUT_DELTA_6_10)
        return tk_model_calc_ns(vc, cycles, base_nsec);
    return shr64(old_delta(rule, cycles, vc->cycle_last) * vc->mult + base_nsec, vc->shift);
}

void tk_model_normalise(uint64_t sec, uint64_t ns, struct timespec *ts)
{
    uint32_t quotient = (uint32_t)(ns / VDSO_NSEC_PER_SEC);

    ts->tv_sec = (time_t)(sec + quotient);
    ts->tv_nsec = (long)(ns % VDSO_NSEC_PER_SEC);
}

static bool mode_reads_counter(int32_t mode)
{
    return mode == VDSO_CLOCKMODE_TSC || mode == VDSO_CLOCKMODE_PVCLOCK ||
           mode == VDSO_CLOCKMODE_HVCLOCK;
}

/* Counter-based read of one slot: the body of do_hres / do_aux. */
static enum tk_model_outcome hres_ns(const struct tk_model_view *v, const struct vdso_clock *vc,
                                     int slot, uint64_t *sec, uint64_t *ns)
{
    if (vc->clock_mode == VDSO_CLOCKMODE_NONE || !mode_reads_counter(vc->clock_mode))
        return TK_MODEL_FALLBACK;
    if ((int64_t)v->counter < 0)
        return TK_MODEL_FALLBACK;
    *ns = tk_model_calc_ns_rule(v->delta, vc, v->counter, vc->basetime[slot].nsec);
    *sec = vc->basetime[slot].sec;
    return TK_MODEL_OK;
}

/* The real page behind a namespace page (reader page 1). */
static enum tk_model_outcome real_clock(const struct tk_model_view *v, int idx,
                                        const struct vdso_clock **out)
{
    if (!v->real)
        return TK_MODEL_FAULT;
    *out = &v->real->clock_data[idx];
    return ((*out)->seq & 1) ? TK_MODEL_SPIN : TK_MODEL_OK;
}

static enum tk_model_outcome do_hres_timens(const struct tk_model_view *v, int idx, int32_t clk,
                                            struct timespec *ts)
{
    const struct vdso_clock *vr;
    enum tk_model_outcome o = real_clock(v, idx, &vr);

    if (o != TK_MODEL_OK)
        return o;
    uint64_t sec, ns;
    o = hres_ns(v, vr, clk, &sec, &ns);
    if (o != TK_MODEL_OK)
        return o;
    const struct timens_offset *off = &v->page0->clock_data[idx].offset[clk];
    tk_model_normalise(sec + (uint64_t)off->sec, ns + off->nsec, ts);
    return TK_MODEL_OK;
}

static enum tk_model_outcome do_hres(const struct tk_model_view *v, int idx, int32_t clk,
                                     struct timespec *ts)
{
    const struct vdso_clock *vc = &v->page0->clock_data[idx];

    if (vc->seq & 1)
        return vc->clock_mode == VDSO_CLOCKMODE_TIMENS ? do_hres_timens(v, idx, clk, ts)
                                                       : TK_MODEL_SPIN;
    uint64_t sec, ns;
    enum tk_model_outcome o = hres_ns(v, vc, clk, &sec, &ns);
    if (o == TK_MODEL_OK)
        tk_model_normalise(sec, ns, ts);
    return o;
}

static enum tk_model_outcome do_coarse(const struct tk_model_view *v, int32_t clk,
                                       struct timespec *ts)
{
    const struct vdso_clock *vc = &v->page0->clock_data[VDSO_CS_HRES_COARSE];

    if (!(vc->seq & 1)) {
        ts->tv_sec = (time_t)vc->basetime[clk].sec;
        ts->tv_nsec = (long)vc->basetime[clk].nsec;
        return TK_MODEL_OK;
    }
    if (vc->clock_mode != VDSO_CLOCKMODE_TIMENS)
        return TK_MODEL_SPIN;
    const struct vdso_clock *vr;
    enum tk_model_outcome o = real_clock(v, VDSO_CS_HRES_COARSE, &vr);
    if (o != TK_MODEL_OK)
        return o;
    const struct timens_offset *off = &vc->offset[clk];
    tk_model_normalise(vr->basetime[clk].sec + (uint64_t)off->sec,
                       vr->basetime[clk].nsec + off->nsec, ts);
    return TK_MODEL_OK;
}

/* Aux clocks take no namespace offset: a namespace page only redirects. */
static enum tk_model_outcome do_aux(const struct tk_model_view *v, int32_t clk, struct timespec *ts)
{
    int idx = clk - VDSO_CLOCK_AUX;
    const struct vdso_clock *vc = &v->page0->aux_clock_data[idx];

    if (vc->seq & 1) {
        if (vc->clock_mode != VDSO_CLOCKMODE_TIMENS)
            return TK_MODEL_SPIN;
        if (!v->real)
            return TK_MODEL_FAULT;
        vc = &v->real->aux_clock_data[idx];
        if (vc->seq & 1)
            return TK_MODEL_SPIN;
    }
    uint64_t sec, ns;
    enum tk_model_outcome o = hres_ns(v, vc, VDSO_BASE_AUX, &sec, &ns);
    if (o == TK_MODEL_OK)
        tk_model_normalise(sec, ns, ts);
    return o;
}

enum tk_model_outcome tk_model_clock_gettime(const struct tk_model_view *v, int32_t clk,
                                             struct timespec *ts)
{
    uint32_t bit = vdso_clock_bit(clk);

    if (bit & VDSO_HRES)
        return do_hres(v, VDSO_CS_HRES_COARSE, clk, ts);
    if (bit & VDSO_COARSE)
        return do_coarse(v, clk, ts);
    if (bit & VDSO_RAW)
        return do_hres(v, VDSO_CS_RAW, clk, ts);
    if (bit & VDSO_AUX)
        return do_aux(v, clk, ts);
    return TK_MODEL_FALLBACK;
}

/* Page-level fields (tz, hrtimer_res, time()) come from the real page when
 * page 0 is a namespace page; the mode alone decides, seq is not read. */
static const struct vdso_time_data *page_data(const struct tk_model_view *v)
{
    if (v->page0->clock_data[VDSO_CS_HRES_COARSE].clock_mode == VDSO_CLOCKMODE_TIMENS)
        return v->real;
    return v->page0;
}

enum tk_model_outcome tk_model_gettimeofday(const struct tk_model_view *v, struct timeval *tv,
                                            struct timezone *tz)
{
    struct timespec ts;

    if (tv) {
        enum tk_model_outcome o = do_hres(v, VDSO_CS_HRES_COARSE, VDSO_CLOCK_REALTIME, &ts);
        if (o != TK_MODEL_OK)
            return o;
    }
    const struct vdso_time_data *vd = tz ? page_data(v) : v->page0;
    if (!vd)
        return TK_MODEL_FAULT;
    if (tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = (suseconds_t)((uint32_t)ts.tv_nsec / VDSO_NSEC_PER_USEC);
    }
    if (tz) {
        tz->tz_minuteswest = vd->tz_minuteswest;
        tz->tz_dsttime = vd->tz_dsttime;
    }
    return TK_MODEL_OK;
}

enum tk_model_outcome tk_model_clock_getres(const struct tk_model_view *v, int32_t clk,
                                            struct timespec *res)
{
    uint32_t bit = vdso_clock_bit(clk);
    long ns;

    /* Only hrtimer_res lives on a page: the other classes touch no data. */
    if (bit & (VDSO_HRES | VDSO_RAW)) {
        const struct vdso_time_data *vd = page_data(v);
        if (!vd)
            return TK_MODEL_FAULT;
        ns = (long)vd->hrtimer_res;
    } else if (bit & VDSO_COARSE)
        ns = (long)v->low_res_nsec;
    else if (bit & VDSO_AUX)
        ns = 1;
    else
        return TK_MODEL_FALLBACK;
    if (res) {
        res->tv_sec = 0;
        res->tv_nsec = ns;
    }
    return TK_MODEL_OK;
}

enum tk_model_outcome tk_model_time(const struct tk_model_view *v, int64_t *t)
{
    const struct vdso_time_data *vd = page_data(v);

    if (!vd)
        return TK_MODEL_FAULT;
    *t = (int64_t)vd->clock_data[VDSO_CS_HRES_COARSE].basetime[VDSO_CLOCK_REALTIME].sec;
    return TK_MODEL_OK;
}

const char *tk_model_outcome_name(enum tk_model_outcome o)
{
    switch (o) {
    case TK_MODEL_OK:
        return "ok";
    case TK_MODEL_FALLBACK:
        return "fallback";
    case TK_MODEL_SPIN:
        return "spin";
    case TK_MODEL_FAULT:
        return "fault";
    }
    return "?";
}
