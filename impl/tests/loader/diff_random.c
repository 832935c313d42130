/*
 * The random states (diff_random.h). Each draw picks a class first (a small
 * forward step, a step around max_cycles, a step backwards, a counter with
 * bit 63 set, a value anywhere) and then a value in it, because uniform
 * 64-bit values would almost never land on the edges where the eras
 * differ.
 */
#include "diff_random.h"

#include <stdio.h>
#include <string.h>

#include <vdsokit/tk_model.h>

#define NS            1000000000ull
#define MAX_QUOTIENT  (1ull << 16)
#define HRES_SLOTS    4
#define RANDOM_SHIFTS 33 /* 0..32, the kernel's range */

struct rng {
    uint64_t s;
};

/* splitmix64: a full-period generator that any seed starts well. */
static uint64_t next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(struct rng *r, uint64_t n)
{
    return n ? next(r) % n : 0;
}

/* A cycle_last: small, anywhere below 2^63, or just below 2^63. */
static uint64_t pick_last(struct rng *r)
{
    switch (below(r, 4)) {
    case 0:
        return below(r, 1ull << 40);
    case 1:
        return (1ull << 63) - 1 - below(r, 1ull << 20);
    default:
        return next(r) & INT64_MAX;
    }
}

/* The counter relative to last, from the classes the delta rules tell apart. */
static uint64_t pick_counter(struct rng *r, uint64_t last, uint64_t max_cycles)
{
    switch (below(r, 9)) {
    case 0:
        return last;
    case 1:
        return last + below(r, 1ull << 20);
    case 2:
        return last + below(r, 1ull << 34);
    case 3:
        return last + max_cycles - 2 + below(r, 5);
    case 4:
        return last - 1 - below(r, 1ull << 20); /* behind: TSC skew */
    case 5:
        return last + (1ull << 62) - 2 + below(r, 5); /* bit 62 of the delta */
    case 6:
        return next(r) | (1ull << 63); /* bit 63: masked or refused */
    default:
        return next(r) & INT64_MAX;
    }
}

static uint64_t pick_max_cycles(struct rng *r, uint32_t mult)
{
    switch (below(r, 4)) {
    case 0:
        return below(r, 1ull << 36);
    case 1:
        return UINT64_MAX;
    case 2:
        return next(r);
    default: /* as the kernel derives it: room for mult plus 11% */
        return mult ? UINT64_MAX / (mult + mult / 9 + 1) : UINT64_MAX;
    }
}

static void random_clock(struct rng *r, struct vdso_clock *c)
{
    c->seq = (uint32_t)next(r) & ~1u;
    c->cycle_last = pick_last(r);
    c->mult = below(r, 2) ? (uint32_t)next(r) : (1u << 24) + (uint32_t)below(r, 1u << 20);
    c->shift = (uint32_t)below(r, RANDOM_SHIFTS);
    c->max_cycles = pick_max_cycles(r, c->mult);
}

/* A base of a counter-based slot: shifted nanoseconds below 2 s, or any value. */
static void random_base(struct rng *r, struct vdso_timestamp *b, uint32_t shift)
{
    b->sec = below(r, 4) ? below(r, 1ull << 34) : next(r);
    b->nsec = below(r, 8) ? below(r, 2 * NS) << shift : next(r);
}

static void random_mode(struct rng *r, struct diff_state *s, uint64_t counter)
{
    int32_t mode = VDSO_CLOCKMODE_PVCLOCK;

    switch (below(r, 20)) {
    case 0:
        mode = VDSO_CLOCKMODE_NONE;
        break;
    case 1:
        mode = (int32_t)next(r);
        break;
    case 2:
    case 3:
        mode = VDSO_CLOCKMODE_HVCLOCK;
        break;
    }
    s->time.clock_data[0].clock_mode = s->time.clock_data[1].clock_mode = mode;
    s->pv.system_time = counter;
    s->pv.flags = below(r, 16) ? PVCLOCK_TSC_STABLE_BIT : 0;
    s->hv.tsc_sequence = below(r, 16) ? (uint32_t)next(r) | 1u : 0;
    s->hv.tsc_offset = (int64_t)counter;
}

/* The namespace page: offsets within ±2^40 s and below 2^34 ns. */
static void random_timens(struct rng *r, struct diff_state *s)
{
    s->timens = true;
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        struct vdso_clock *c = &s->ns.clock_data[i];
        c->seq = 1;
        c->clock_mode = VDSO_CLOCKMODE_TIMENS;
        for (int k = 0; k < VDSO_BASES; k++)
            c->offset[k] = (struct timens_offset){(int64_t)below(r, 1ull << 41) - (1ll << 40),
                                                  below(r, 1ull << 34)};
    }
}

/* The normalisation's quotient for one slot stays small (see diff_random.h). */
static bool slot_ok(enum layout_delta_rule rule, const struct diff_state *s, int rec, int slot,
                    uint64_t counter)
{
    const struct vdso_clock *c = &s->time.clock_data[rec];
    uint64_t ns = tk_model_calc_ns_rule(rule, c, counter, c->basetime[slot].nsec);

    if (s->timens)
        ns += s->ns.clock_data[rec].offset[slot].nsec;
    return ns / NS <= MAX_QUOTIENT;
}

static bool runnable(enum layout_delta_rule rule, const struct diff_state *s)
{
    static const int hres[HRES_SLOTS] = {VDSO_CLOCK_REALTIME, VDSO_CLOCK_MONOTONIC,
                                         VDSO_CLOCK_BOOTTIME, VDSO_CLOCK_TAI};
    uint64_t counter = diff_state_counter(s);

    if (s->timens)
        for (int k = 0; k < VDSO_BASES; k++) {
            const struct vdso_timestamp *b = &s->time.clock_data[0].basetime[k];
            if ((b->nsec + s->ns.clock_data[0].offset[k].nsec) / NS > MAX_QUOTIENT)
                return false;
        }
    if (counter == UINT64_MAX)
        return true;
    for (int i = 0; i < HRES_SLOTS; i++)
        if (!slot_ok(rule, s, 0, hres[i], counter))
            return false;
    return slot_ok(rule, s, 1, VDSO_CLOCK_MONOTONIC_RAW, counter);
}

bool diff_random_state(uint64_t seed, enum layout_delta_rule rule, struct diff_state *s)
{
    struct rng r = {seed * 0x2545f4914f6cdd1dull + 1};
    static const int hres[HRES_SLOTS] = {VDSO_CLOCK_REALTIME, VDSO_CLOCK_MONOTONIC,
                                         VDSO_CLOCK_BOOTTIME, VDSO_CLOCK_TAI};

    if (!diff_state_find("base", 0, s))
        return false;
    for (int i = 0; i < VDSO_CS_BASES; i++)
        random_clock(&r, &s->time.clock_data[i]);
    for (int i = 0; i < HRES_SLOTS; i++)
        random_base(&r, &s->time.clock_data[0].basetime[hres[i]], s->time.clock_data[0].shift);
    random_base(&r, &s->time.clock_data[1].basetime[VDSO_CLOCK_MONOTONIC_RAW],
                s->time.clock_data[1].shift);
    for (int k = VDSO_CLOCK_REALTIME_COARSE; k <= VDSO_CLOCK_MONOTONIC_COARSE; k++)
        s->time.clock_data[0].basetime[k] = (struct vdso_timestamp){
            below(&r, 1ull << 34), below(&r, 8) ? below(&r, NS) : next(&r) % (4 * NS)};
    /* Both records read one counter; clock 0's cycle_last decides its class. */
    random_mode(
        &r, s,
        pick_counter(&r, s->time.clock_data[0].cycle_last, s->time.clock_data[0].max_cycles));
    s->time.tz_minuteswest = (int32_t)next(&r);
    s->time.tz_dsttime = (int32_t)below(&r, 3);
    s->time.hrtimer_res = below(&r, 2) ? 1 : (uint32_t)next(&r);
    if (below(&r, 5) == 0)
        random_timens(&r, s);
    snprintf(s->name, sizeof s->name, "random seed %llu", (unsigned long long)seed);
    return runnable(rule, s);
}
