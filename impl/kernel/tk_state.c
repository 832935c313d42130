/*
 * The timekeeper's kernel-like time state: accumulation advances the wall,
 * raw and aux clocks to a counter value exactly (in shifted nanoseconds, so
 * no sub-ns is ever lost), a clocksource change rescales the shifted values,
 * bases are set from timespecs, and the NTP-like slew derives the published
 * mult from the clocksource's. Nothing here touches the pages.
 */
#include "tk_internal.h"

typedef unsigned __int128 u128;

/* sec/shifted-nsec += delta * mult, exactly. */
static void add_cycles(uint64_t *sec, uint64_t *nsec, uint64_t delta, uint32_t mult, uint32_t shift)
{
    u128 unit = (u128)NSEC_PER_SEC << shift;
    u128 total = (u128)*nsec + (u128)delta * mult;

    *sec += (uint64_t)(total / unit);
    *nsec = (uint64_t)(total % unit);
}

void tk_accumulate_to(struct timekeeper *tk, uint64_t now)
{
    struct tk_state *st = &tk->st;

    tk_assert_held(tk);
    uint64_t delta = (now - st->cycle_last) & st->cs.mask;
    /* A counter behind cycle_last is no motion, as the kernel's
     * clocksource_delta decides; cycle_last stays. */
    if (delta & ~(st->cs.mask >> 1))
        return;
    st->cycle_last = now;
    uint32_t shift = st->cs.shift;
    add_cycles(&st->xtime_sec, &st->xtime_nsec, delta, st->mult, shift);
    add_cycles(&st->raw_sec, &st->raw_nsec, delta, st->cs.raw_mult, shift);
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++) {
        struct tk_aux *aux = &st->aux[i];
        if (aux->enabled)
            add_cycles(&aux->sec, &aux->nsec, delta, aux->mult, shift);
    }
    st->coarse_nsec = st->xtime_nsec >> shift;
}

void tk_forward_now(struct timekeeper *tk)
{
    tk_accumulate_to(tk, tk_domain_counter(tk, tk->st.cs.kind, counter_rdtsc()));
}

/* A clocksource change with a different shift rescales the shifted ns. */
static uint64_t rescale(uint64_t nsec, uint32_t from, uint32_t to)
{
    return to >= from ? nsec << (to - from) : nsec >> (from - to);
}

void tk_change_shift(struct timekeeper *tk, uint32_t old_shift)
{
    struct tk_state *st = &tk->st;
    uint32_t shift = st->cs.shift;

    st->xtime_nsec = rescale(st->xtime_nsec, old_shift, shift);
    st->raw_nsec = rescale(st->raw_nsec, old_shift, shift);
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        st->aux[i].nsec = rescale(st->aux[i].nsec, old_shift, shift);
}

/* Bases may come unnormalised from a script: normalise them first. */
void tk_set_bases(struct timekeeper *tk, struct timespec realtime, struct timespec monotonic,
                  struct timespec boot_offset, struct timespec raw)
{
    struct tk_state *st = &tk->st;
    uint32_t shift = st->cs.shift;

    realtime = ts_normalise(realtime.tv_sec, realtime.tv_nsec);
    raw = ts_normalise(raw.tv_sec, raw.tv_nsec);
    st->xtime_sec = (uint64_t)realtime.tv_sec;
    st->xtime_nsec = (uint64_t)realtime.tv_nsec << shift;
    st->coarse_nsec = (uint64_t)realtime.tv_nsec;
    st->wall_to_monotonic = ts_sub(monotonic, realtime);
    st->offs_boot = ts_normalise(boot_offset.tv_sec, boot_offset.tv_nsec);
    st->raw_sec = (uint64_t)raw.tv_sec;
    st->raw_nsec = (uint64_t)raw.tv_nsec << shift;
}

void tk_apply_slew(struct timekeeper *tk)
{
    struct tk_state *st = &tk->st;

    /* Rounded to the nearest mult unit: one unit is the slew's resolution. */
    int64_t scaled = (int64_t)st->cs.mult * st->ppm;
    int64_t half = PPM_PER_UNIT / 2;
    int64_t adj = (scaled + (scaled < 0 ? -half : half)) / PPM_PER_UNIT;
    int64_t mult = (int64_t)st->cs.mult + adj;

    st->mult = mult < 0 ? 0 : mult > UINT32_MAX ? UINT32_MAX : (uint32_t)mult;
}
