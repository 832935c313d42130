/*
 * The state sequence of the differential test. One base state (PVCLOCK mode,
 * multiplier 0, realistic bases) and a table of named variations on it:
 * counter deltas, clock modes, the pvclock and Hyper-V pages, negative
 * deltas, deltas around max_cycles and past 64 bits, nanoseconds next to a
 * second, seconds near the limits, shifts and multipliers, tz and
 * hrtimer_res values, aux clocks, and the namespace layout with positive and
 * negative offsets. Every ns/1e9 quotient stays small: the vDSO normalises
 * by repeated subtraction.
 */
#include "diff_states.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define C0       1000000000000ull /* cycle_last of the base state */
#define DELTA0   1234567ull       /* base counter = C0 + DELTA0 */
#define MULT0    (16777216u + 12345u)
#define RAWMULT0 (16777216u - 999u)
#define SHIFT0   24u
#define MAXC0    (1ull << 36)
#define NS       1000000000ull

static void set_clock(struct vdso_clock *c, int32_t mode, uint32_t mult)
{
    c->seq = 2;
    c->clock_mode = mode;
    c->cycle_last = C0;
    c->max_cycles = MAXC0;
    c->mask = ~0ull;
    c->mult = mult;
    c->shift = SHIFT0;
}

static void set_base(struct vdso_clock *c, int clk, uint64_t sec, uint64_t shifted_nsec)
{
    c->basetime[clk].sec = sec;
    c->basetime[clk].nsec = shifted_nsec;
}

static void base(struct diff_state *s)
{
    struct vdso_clock *c0 = &s->time.clock_data[0], *c1 = &s->time.clock_data[1];

    memset(s, 0, sizeof *s);
    set_clock(c0, VDSO_CLOCKMODE_PVCLOCK, MULT0);
    set_clock(c1, VDSO_CLOCKMODE_PVCLOCK, RAWMULT0);
    set_base(c0, VDSO_CLOCK_REALTIME, 1700000000, 123456789ull << SHIFT0);
    set_base(c0, VDSO_CLOCK_MONOTONIC, 86400, 987654321ull << SHIFT0);
    set_base(c0, VDSO_CLOCK_BOOTTIME, 86500, 987654321ull << SHIFT0);
    set_base(c0, VDSO_CLOCK_TAI, 1700000037, 123456789ull << SHIFT0);
    set_base(c0, VDSO_CLOCK_REALTIME_COARSE, 1700000000, 120000000);
    set_base(c0, VDSO_CLOCK_MONOTONIC_COARSE, 86400, 984000000);
    set_base(c1, VDSO_CLOCK_MONOTONIC_RAW, 86390, 5ull << SHIFT0);
    s->time.hrtimer_res = 1;
    s->pv.version = 4;
    s->pv.system_time = C0 + DELTA0;
    s->pv.flags = PVCLOCK_TSC_STABLE_BIT;
}

static void counter_at(struct diff_state *s, uint64_t v)
{
    s->pv.system_time = v;
}

/* Every served counter-based slot (HRES on clock 0, RAW on clock 1). */
static void all_hres(struct diff_state *s, uint64_t sec, uint64_t ns_unshifted)
{
    struct vdso_clock *c0 = &s->time.clock_data[0], *c1 = &s->time.clock_data[1];
    const int hres[] = {VDSO_CLOCK_REALTIME, VDSO_CLOCK_MONOTONIC, VDSO_CLOCK_BOOTTIME,
                        VDSO_CLOCK_TAI};

    for (unsigned i = 0; i < sizeof hres / sizeof hres[0]; i++)
        set_base(c0, hres[i], sec, ns_unshifted << c0->shift);
    set_base(c1, VDSO_CLOCK_MONOTONIC_RAW, sec, ns_unshifted << c1->shift);
}

static void all_coarse(struct diff_state *s, uint64_t sec, uint64_t ns)
{
    set_base(&s->time.clock_data[0], VDSO_CLOCK_REALTIME_COARSE, sec, ns);
    set_base(&s->time.clock_data[0], VDSO_CLOCK_MONOTONIC_COARSE, sec, ns);
}

static void both_clocks(struct diff_state *s, uint32_t mult, uint32_t shift, uint64_t max_cycles)
{
    for (int i = 0; i < VDSO_CS_BASES; i++) {
        s->time.clock_data[i].mult = mult;
        s->time.clock_data[i].shift = shift;
        s->time.clock_data[i].max_cycles = max_cycles;
    }
}

static void set_mode(struct diff_state *s, int32_t mode)
{
    s->time.clock_data[0].clock_mode = mode;
    s->time.clock_data[1].clock_mode = mode;
}

/* The namespace page as the kernel fills it on first entry (docs/abi.md §7). */
static void timens(struct diff_state *s, int64_t mono_sec, uint64_t mono_ns, int64_t boot_sec,
                   uint64_t boot_ns)
{
    s->timens = true;
    for (int i = 0; i < VDSO_CS_BASES + VDSO_MAX_AUX_CLOCKS; i++) {
        struct vdso_clock *c =
            i < VDSO_CS_BASES ? &s->ns.clock_data[i] : &s->ns.aux_clock_data[i - VDSO_CS_BASES];
        c->seq = 1;
        c->clock_mode = VDSO_CLOCKMODE_TIMENS;
        c->offset[VDSO_CLOCK_MONOTONIC] = (struct timens_offset){mono_sec, mono_ns};
        c->offset[VDSO_CLOCK_MONOTONIC_RAW] = (struct timens_offset){mono_sec, mono_ns};
        c->offset[VDSO_CLOCK_MONOTONIC_COARSE] = (struct timens_offset){mono_sec, mono_ns};
        c->offset[VDSO_CLOCK_BOOTTIME] = (struct timens_offset){boot_sec, boot_ns};
        c->offset[VDSO_CLOCK_BOOTTIME_ALARM] = (struct timens_offset){boot_sec, boot_ns};
    }
}

static void aux(struct diff_state *s, unsigned idx, int32_t mode, uint32_t mult, uint32_t shift,
                uint64_t sec, uint64_t ns)
{
    struct vdso_clock *c = &s->time.aux_clock_data[idx];

    set_clock(c, mode, mult);
    c->shift = shift;
    set_base(c, VDSO_BASE_AUX, sec, ns << shift);
}

/* One variation: what it changes in the base state. */
typedef void (*vary_fn)(struct diff_state *s, long long arg);

static void v_none(struct diff_state *s, long long a)
{
}

static void v_delta(struct diff_state *s, long long a)
{
    counter_at(s, C0 + (uint64_t)a);
}

static void v_mode(struct diff_state *s, long long a)
{
    set_mode(s, (int32_t)a);
}

static void v_hv(struct diff_state *s, long long seq)
{
    set_mode(s, VDSO_CLOCKMODE_HVCLOCK);
    s->hv.tsc_sequence = (uint32_t)seq; /* 0 = invalid */
    s->hv.tsc_scale = 0;                /* the counter is tsc_offset */
    s->hv.tsc_offset = (int64_t)(C0 + 4242);
}

static void v_pv_flags(struct diff_state *s, long long flags)
{
    s->pv.flags = (uint8_t)flags;
}

static void v_pv_odd_fields(struct diff_state *s, long long a)
{
    s->pv.tsc_shift = -5;
    s->pv.tsc_timestamp = ~0ull;
    s->pv.system_time |= 1ull << 63; /* the read is masked to 63 bits */
}

/* A record stamped after any TSC value: the scaled delta must clamp to 0,
 * so the counter is system_time whatever the TSC reads. */
static void v_pv_stamp_ahead(struct diff_state *s, long long shift)
{
    s->pv.tsc_to_system_mul = 1u << 31;
    s->pv.tsc_shift = (int8_t)shift;
    s->pv.tsc_timestamp = INT64_MAX;
}

static void v_behind(struct diff_state *s, long long a)
{
    counter_at(s, C0 - (uint64_t)a);
}

static void v_around_max(struct diff_state *s, long long a)
{
    both_clocks(s, 1u << SHIFT0, SHIFT0, 1000000);
    counter_at(s, C0 + (uint64_t)(1000000 + a));
}

/* delta * mult overflows 64 bits: the 128-bit path (or the 64-bit wrap). */
static void v_wide(struct diff_state *s, long long max_cycles)
{
    both_clocks(s, 0xffffffffu, 32, (uint64_t)max_cycles);
    counter_at(s, C0 + (1ull << 34) + 7);
}

/* cycle_last past 2^63: deltas with bit 63 and/or bit 62 set. */
static void v_high_last(struct diff_state *s, long long last_hi)
{
    for (int i = 0; i < VDSO_CS_BASES; i++)
        s->time.clock_data[i].cycle_last = (uint64_t)last_hi << 32 | 995;
    counter_at(s, 1000);
}

static void v_ns(struct diff_state *s, long long ns)
{
    both_clocks(s, 1u << SHIFT0, SHIFT0, MAXC0);
    all_hres(s, 1700000000, (uint64_t)ns);
    counter_at(s, C0 + 1);
}

static void v_coarse_ns(struct diff_state *s, long long ns)
{
    all_coarse(s, 1700000000, (uint64_t)ns);
}

static void v_sec(struct diff_state *s, long long sec)
{
    both_clocks(s, 1u << SHIFT0, SHIFT0, MAXC0);
    all_hres(s, (uint64_t)sec, NS - 1);
    all_coarse(s, (uint64_t)sec, NS - 1);
    counter_at(s, C0 + 1); /* carries into the seconds */
}

static void v_shift(struct diff_state *s, long long shift)
{
    both_clocks(s, shift >= 32 ? 0xffffffffu : 1u << shift, (uint32_t)shift, MAXC0);
    all_hres(s, 1700000000, 0);
    counter_at(s, C0 + 3000000);
}

static void v_mult0(struct diff_state *s, long long a)
{
    both_clocks(s, 0, SHIFT0, MAXC0);
}

static void v_tz(struct diff_state *s, long long which)
{
    static const int32_t tz[][2] = {{-60, 1}, {INT32_MIN, INT32_MAX}, {720, -1}};

    s->time.tz_minuteswest = tz[which][0];
    s->time.tz_dsttime = tz[which][1];
}

static void v_res(struct diff_state *s, long long res)
{
    s->time.hrtimer_res = (uint32_t)res;
}

static void v_seq(struct diff_state *s, long long seq)
{
    s->time.clock_data[0].seq = (uint32_t)seq;
    s->time.clock_data[1].seq = (uint32_t)seq;
}

static void v_aux(struct diff_state *s, long long ns_layout)
{
    aux(s, 0, VDSO_CLOCKMODE_PVCLOCK, MULT0, SHIFT0, 5000, 999999000);
    aux(s, 3, VDSO_CLOCKMODE_NONE, MULT0, SHIFT0, 6000, 0);
    aux(s, 7, VDSO_CLOCKMODE_PVCLOCK, 1000, 10, 7000, 1);
    if (ns_layout)
        timens(s, 1000, 500, 2000, 0);
}

static void v_timens(struct diff_state *s, long long which)
{
    switch (which) {
    case 0:
        timens(s, 1000, 500, 2000, 500);
        break;
    case 1:
        timens(s, -1000, 999999999, -2000, 999999999);
        break;
    case 2:
        timens(s, -100000, 1, 100000, 0); /* monotonic goes negative */
        break;
    case 3:
        timens(s, 0, 999999999, 0, 999999999);
        v_ns(s, 999999999); /* both the base and the offset carry */
        v_coarse_ns(s, 999999999);
        break;
    case 4:
        timens(s, 1000, 500, 2000, 500);
        set_mode(s, VDSO_CLOCKMODE_NONE);
        break;
    case 5:
        timens(s, 1000, 500, 2000, 500);
        s->pv.flags = 0;
        break;
    case 6:
        timens(s, 1000, 500, 2000, 500);
        counter_at(s, C0 - 77); /* negative delta on the real page */
        s->time.tz_minuteswest = 330;
        s->time.hrtimer_res = 4000000;
        break;
    }
}

struct variation {
    const char *name;
    vary_fn fn;
    long long arg;
};

static const struct variation variations[] = {
    {"base", v_none, 0},
    {"delta", v_delta, 0},
    {"delta", v_delta, 1},
    {"delta", v_delta, 1000000000},
    {"delta", v_delta, 5000000000},
    {"mode", v_mode, VDSO_CLOCKMODE_NONE},
    {"mode", v_mode, VDSO_CLOCKMODE_MAX},
    {"mode", v_mode, 5},
    {"mode", v_mode, 100},
    {"mode", v_mode, -1},
    {"mode", v_mode, INT32_MIN},
    {"mode", v_mode, VDSO_CLOCKMODE_TIMENS}, /* even seq: no escape, no counter */
    {"hvclock seq", v_hv, 0},
    {"hvclock seq", v_hv, 7},
    {"pvclock flags", v_pv_flags, 0},
    {"pvclock flags", v_pv_flags, 0xfe},
    {"pvclock odd fields", v_pv_odd_fields, 0},
    {"pvclock stamp ahead", v_pv_stamp_ahead, 0},
    {"pvclock stamp ahead", v_pv_stamp_ahead, -1},
    {"behind", v_behind, 1},
    {"behind", v_behind, 1000000},
    {"behind", v_behind, (long long)C0},
    {"around max_cycles", v_around_max, -1},
    {"around max_cycles", v_around_max, 0},
    {"around max_cycles", v_around_max, 1},
    {"around max_cycles", v_around_max, 1000000},
    {"wide product, max_cycles", v_wide, 1 << 20},
    {"wide product, max_cycles", v_wide, -1}, /* no 128-bit path: the 64-bit wrap */
    {"cycle_last hi", v_high_last, 0x80000000},
    {"cycle_last hi", v_high_last, 0xc0000000},
    {"ns", v_ns, 999999998},
    {"ns", v_ns, 999999999},
    {"ns", v_ns, 1999999999},
    {"coarse ns", v_coarse_ns, 999999999},
    {"coarse ns", v_coarse_ns, 1000000000},
    {"coarse ns", v_coarse_ns, 2500000000},
    {"sec", v_sec, 0},
    {"sec", v_sec, INT32_MAX},
    {"sec", v_sec, INT64_MAX - 1},
    {"sec", v_sec, INT64_MAX},
    {"sec", v_sec, -2},
    {"sec", v_sec, -1},
    {"shift", v_shift, 0},
    {"shift", v_shift, 1},
    {"shift", v_shift, 31},
    {"shift", v_shift, 32},
    {"shift", v_shift, 63},
    {"mult 0", v_mult0, 0},
    {"tz", v_tz, 0},
    {"tz", v_tz, 1},
    {"tz", v_tz, 2},
    {"hrtimer_res", v_res, 0},
    {"hrtimer_res", v_res, 4000000},
    {"hrtimer_res", v_res, 999999999},
    {"hrtimer_res", v_res, UINT32_MAX},
    {"seq", v_seq, 0},
    {"seq", v_seq, 0xfffffffe},
    {"aux clocks, timens", v_aux, 0},
    {"aux clocks, timens", v_aux, 1},
    {"timens", v_timens, 0},
    {"timens", v_timens, 1},
    {"timens", v_timens, 2},
    {"timens", v_timens, 3},
    {"timens", v_timens, 4},
    {"timens", v_timens, 5},
    {"timens", v_timens, 6},
};

bool diff_state_build(unsigned i, struct diff_state *s)
{
    if (i >= sizeof variations / sizeof variations[0])
        return false;
    base(s);
    variations[i].fn(s, variations[i].arg);
    snprintf(s->name, sizeof s->name, "#%u %s %lld", i, variations[i].name, variations[i].arg);
    return true;
}

bool diff_state_find(const char *name, long long arg, struct diff_state *s)
{
    for (unsigned i = 0; i < sizeof variations / sizeof variations[0]; i++)
        if (!strcmp(variations[i].name, name) && variations[i].arg == arg)
            return diff_state_build(i, s);
    return false;
}

uint64_t diff_state_counter(const struct diff_state *s)
{
    switch (s->time.clock_data[0].clock_mode) {
    case VDSO_CLOCKMODE_PVCLOCK: /* mul 0: system_time, masked to 63 bits */
        return (s->pv.flags & PVCLOCK_TSC_STABLE_BIT) ? s->pv.system_time & INT64_MAX : UINT64_MAX;
    case VDSO_CLOCKMODE_HVCLOCK: /* scale 0: tsc_offset */
        return s->hv.tsc_sequence ? (uint64_t)s->hv.tsc_offset & INT64_MAX : UINT64_MAX;
    default:
        return UINT64_MAX;
    }
}
