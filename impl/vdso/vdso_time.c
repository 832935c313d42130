/*
 * The time entry points of the reference vDSO: clock_gettime, gettimeofday,
 * time and clock_getres with the Linux 6.18 x86-64 semantics (docs/abi.md
 * §2.4-§2.8), or those of an older era where vdso_era.h says how the era
 * differs (page places, record layout, delta rule, aux clocks). One generic
 * algorithm in the style of the kernel's lib/vdso:
 * classify the clock id, read a consistent snapshot of the data page under
 * its seqcount (taking the time-namespace path when the page says so),
 * compute outside the loop, and hand every case the data cannot serve to the
 * syscall. The arch header supplies page addresses, counter reads and the
 * fallback, so the same code builds the image and the hosted library.
 *
 * For speed (vdso_hotcold.h) the counter-based entry points first run a
 * fast read built for one clock mode: the TSC inline in the entry point,
 * the KVM pvclock one tail call away. It serves the common case without a
 * stack frame and hands anything else to the general loop at the very
 * point it reached, so that the loads, seq checks and retries stay those
 * of the one algorithm.
 */
#include <stdbool.h>
#include <stdint.h>
#include <vdsokit/abi.h>
#include <vdsokit/vdso_entry.h>

#include "vclock_read.h"
#include "vdso_arch.h"
#include "vdso_exports.h"
#include "vdso_hotcold.h"
#include "vdso_seq.h"

/* Inside a time namespace the real data is a page after the namespace page (vdso_era.h). */
static inline const struct vdso_time_data *vdso_real_data(const struct vdso_time_data *ns_page)
{
    return (const struct vdso_time_data *)((const char *)ns_page + VDSO_ERA_NS_REAL_OFFSET);
}

/*
 * Callers test it with VDSO_UNLIKELY: a branch laid out for the root
 * namespace, not a conditional move, so that the loads that follow do not
 * wait for this one.
 */
static inline bool vdso_is_timens(const struct vdso_time_data *vd)
{
    return VDSO_READ(vd->clock_data[VDSO_CS_HRES_COARSE].clock_mode) == VDSO_CLOCKMODE_TIMENS;
}

/*
 * Counter value to shifted nanoseconds plus the base, the x86 rule of 6.10+
 * (older eras: vdso_era_delta() and no limit, so always the 64-bit product).
 * A delta above max_cycles is either a backwards step (both operands are
 * below 2^63, so it wrapped and has bit 62 set: clamp to the base) or a long
 * stall whose product needs 128 bits. Shift counts wrap as x86 shifts do.
 */
VDSO_HOT_INLINE uint64_t vdso_calc_ns(const struct vdso_clock *vc, uint64_t cycles, uint64_t base)
{
    uint64_t delta = vdso_era_delta(cycles, VDSO_READ(vc->cycle_last));
    uint64_t mult = VDSO_READ(vc->mult);
    uint32_t shift = VDSO_READ(vc->shift);

    if (VDSO_UNLIKELY(delta > vdso_era_max_cycles(vc))) {
        if (delta & (1ull << 62))
            return base >> (shift & 63);
        return (uint64_t)(((unsigned __int128)(delta & INT64_MAX) * mult + base) >> (shift & 127));
    }
    return (delta * mult + base) >> (shift & 63);
}

/*
 * {sec, ns} with ns brought below one second. The kernel counts the carry
 * by repeated subtraction into a u32; a division with the quotient cut to
 * 32 bits gives the same answer in bounded time. A carry is rare (the base
 * is normalised, so only a tick's worth of counter can push ns over), so
 * the common case is two stores.
 */
VDSO_HOT_INLINE void vdso_set_timespec(struct vdso_timespec *ts, uint64_t sec, uint64_t ns)
{
    if (VDSO_UNLIKELY(ns >= VDSO_NSEC_PER_SEC)) {
        sec += (uint32_t)(ns / VDSO_NSEC_PER_SEC);
        ns %= VDSO_NSEC_PER_SEC;
    }
    ts->tv_sec = (int64_t)sec;
    ts->tv_nsec = (int64_t)ns;
}

/* Time from a usable counter reading: base plus the scaled delta. */
VDSO_HOT_INLINE void vdso_hres_compute(const struct vdso_clock *vc,
                                       const struct vdso_timestamp *base, uint64_t cycles,
                                       uint64_t *sec, uint64_t *ns)
{
    *ns = vdso_calc_ns(vc, cycles, VDSO_READ(base->nsec));
    *sec = VDSO_READ(base->sec);
}

/*
 * One counter-based reading of the base slot; false = the syscall must answer.
 * Mode NONE (the generic "clocksource not vDSO-capable") needs no test of
 * its own: vclock_read() reports it unusable, as it does every unknown mode.
 * Out of line: the general loops are not the hot path (the fast reads are),
 * and one copy of the three counter readers keeps the image small.
 */
static __attribute__((noinline)) bool vdso_hres_sample(const struct vdso_clock *vc,
                                                       const struct vdso_timestamp *base,
                                                       int32_t mode, uint64_t *sec, uint64_t *ns)
{
    uint64_t cycles = vclock_read(mode);

    if (VDSO_UNLIKELY(!vclock_ok(cycles)))
        return false;
    vdso_arch_read_point(VDSO_READ_MID, &vc->seq);
    vdso_hres_compute(vc, base, cycles, sec, ns);
    return true;
}

enum vdso_hres_outcome {
    VDSO_HRES_SAMPLED,  /* *sec, *ns hold a consistent reading */
    VDSO_HRES_SYSCALL,  /* the data cannot serve it */
    VDSO_HRES_IN_TIMENS /* this is the namespace page: take the timens path */
};

/* The seqcount loop around vdso_hres_sample(); ns is not normalised yet. */
VDSO_HOT_INLINE enum vdso_hres_outcome vdso_hres_read(const struct vdso_clock *vc,
                                                      const struct vdso_timestamp *base,
                                                      uint64_t *sec, uint64_t *ns)
{
    uint32_t seq;

    do {
        if (VDSO_UNLIKELY(!vdso_read_begin_or_timens(vc, &seq)))
            return VDSO_HRES_IN_TIMENS;
        if (VDSO_UNLIKELY(!vdso_hres_sample(vc, base, VDSO_READ(vc->clock_mode), sec, ns)))
            return VDSO_HRES_SYSCALL;
    } while (vdso_read_retry(vc, seq));
    return VDSO_HRES_SAMPLED;
}

/*
 * The fast read (vdso_hres_read_fast) hands its rare cases on so that the
 * loads, seq checks and retries are exactly those of the general loop: it
 * never begins a read that the general way then begins again.
 */
enum vdso_fast_outcome {
    VDSO_FAST_SAMPLED, /* *sec, *ns hold a consistent reading */
    VDSO_FAST_SYSCALL, /* the counter is unusable: the syscall must answer */
    VDSO_FAST_BEGUN,   /* begun under resume.seq, mode other than expected */
    VDSO_FAST_READ,    /* begun under resume.seq, counter read: resume.cycles */
    VDSO_FAST_GENERAL  /* nothing begun: read the general way */
};

/* The state VDSO_FAST_BEGUN and VDSO_FAST_READ hand on. */
struct vdso_fast_resume {
    uint32_t seq;
    uint64_t cycles;
};

/*
 * vdso_hres_read() for the common case, built per clock mode (`mode` is a
 * constant at every use, and the caller's hint said the clock is in it):
 * an even seq, the clock in that mode, a counter reading below 2^63, a
 * delta within max_cycles. An odd seq gives VDSO_FAST_GENERAL; another
 * mode VDSO_FAST_BEGUN; an unusable pvclock VDSO_FAST_SYSCALL; bit 63 set,
 * a long stall or a backwards step VDSO_FAST_READ, with the reading masked
 * as the general loop has it. Without 128-bit arithmetic or a 64-bit mask
 * held in a register, the TSC build fits in the call-clobbered registers:
 * its callers need no frame.
 */
VDSO_HOT_INLINE enum vdso_fast_outcome
vdso_hres_read_fast(const struct vdso_clock *vc, const struct vdso_timestamp *base, int32_t mode,
                    uint64_t *sec, uint64_t *ns, struct vdso_fast_resume *resume)
{
    uint64_t raw, delta;
    uint32_t seq;

    do {
        seq = VDSO_READ(vc->seq);
        if (VDSO_UNLIKELY(seq & 1))
            return VDSO_FAST_GENERAL;
        vdso_read_barrier();
        vdso_arch_read_point(VDSO_READ_BEGIN, &vc->seq);
        if (VDSO_UNLIKELY(VDSO_READ(vc->clock_mode) != mode)) {
            resume->seq = seq;
            return VDSO_FAST_BEGUN;
        }
        if (VDSO_UNLIKELY(!vclock_read_unmasked(mode, &raw)))
            return VDSO_FAST_SYSCALL;
        vdso_arch_read_point(VDSO_READ_MID, &vc->seq);
        delta = vdso_era_delta(raw, VDSO_READ(vc->cycle_last));
        if (VDSO_UNLIKELY(!vclock_ok(raw) || delta > vdso_era_max_cycles(vc))) {
            resume->seq = seq;
            resume->cycles = raw & INT64_MAX;
            return VDSO_FAST_READ;
        }
        *ns = (delta * VDSO_READ(vc->mult) + VDSO_READ(base->nsec)) >> (VDSO_READ(vc->shift) & 63);
        VDSO_COMPUTE_HERE(*ns);
        *sec = VDSO_READ(base->sec);
    } while (vdso_read_retry(vc, seq));
    return VDSO_FAST_SAMPLED;
}

/* HRES or RAW clock inside a time namespace: real data plus the offset. */
VDSO_COLD bool vdso_hres_timens(const struct vdso_time_data *ns_page,
                                const struct vdso_clock *ns_vc, int32_t clk,
                                struct vdso_timespec *ts)
{
    const struct vdso_time_data *vd = vdso_real_data(ns_page);
    const struct vdso_clock *vc =
        &vd->clock_data[clk == VDSO_CLOCK_MONOTONIC_RAW ? VDSO_CS_RAW : VDSO_CS_HRES_COARSE];
    uint64_t sec, ns;
    uint32_t seq;

    do {
        seq = vdso_read_begin(vc);
        if (!vdso_hres_sample(vc, &vc->basetime[clk], VDSO_READ(vc->clock_mode), &sec, &ns))
            return false;
    } while (vdso_read_retry(vc, seq));
    sec += (uint64_t)VDSO_READ(ns_vc->offset[clk].sec);
    ns += VDSO_READ(ns_vc->offset[clk].nsec);
    vdso_set_timespec(ts, sec, ns);
    return true;
}

/* A full HRES or RAW reading, any mode, any page; false = ask the syscall. */
static bool vdso_hres(const struct vdso_time_data *vd, const struct vdso_clock *vc, int32_t clk,
                      struct vdso_timespec *ts)
{
    uint64_t sec, ns;

    switch (vdso_hres_read(vc, &vc->basetime[clk], &sec, &ns)) {
    case VDSO_HRES_SAMPLED:
        vdso_set_timespec(ts, sec, ns);
        return true;
    case VDSO_HRES_IN_TIMENS:
        return vdso_hres_timens(vd, vc, clk, ts);
    default:
        return false;
    }
}

/* One coarse slot: plain nanoseconds, no counter, any clock mode. */
VDSO_HOT_INLINE void vdso_coarse_sample(const struct vdso_clock *vc, int32_t clk, uint64_t *sec,
                                        uint64_t *ns)
{
    *sec = VDSO_READ(vc->basetime[clk].sec);
    vdso_arch_read_point(VDSO_READ_MID, &vc->seq);
    *ns = VDSO_READ(vc->basetime[clk].nsec);
}

/* Returns 0 (served) so that the caller can reach it by a tail call. */
VDSO_COLD int vdso_coarse_timens(const struct vdso_time_data *ns_page, int32_t clk,
                                 struct vdso_timespec *ts)
{
    const struct vdso_clock *ns_vc = &ns_page->clock_data[VDSO_CS_HRES_COARSE];
    const struct vdso_clock *vc = &vdso_real_data(ns_page)->clock_data[VDSO_CS_HRES_COARSE];
    uint64_t sec, ns;
    uint32_t seq;

    do {
        seq = vdso_read_begin(vc);
        vdso_coarse_sample(vc, clk, &sec, &ns);
    } while (vdso_read_retry(vc, seq));
    sec += (uint64_t)VDSO_READ(ns_vc->offset[clk].sec);
    ns += VDSO_READ(ns_vc->offset[clk].nsec);
    vdso_set_timespec(ts, sec, ns);
    return 0;
}

/* COARSE clocks are always served: returns 0. */
VDSO_HOT_INLINE int vdso_coarse(const struct vdso_time_data *vd, int32_t clk,
                                struct vdso_timespec *ts)
{
    const struct vdso_clock *vc = &vd->clock_data[VDSO_CS_HRES_COARSE];
    uint64_t sec, ns;
    uint32_t seq;

    do {
        if (VDSO_UNLIKELY(!vdso_read_begin_or_timens(vc, &seq)))
            return vdso_coarse_timens(vd, clk, ts);
        vdso_coarse_sample(vc, clk, &sec, &ns);
    } while (vdso_read_retry(vc, seq));
    /* The slot is normalised by the writer: copied verbatim. */
    ts->tv_sec = (int64_t)sec;
    ts->tv_nsec = (int64_t)ns;
    return 0;
}

/*
 * Aux clock: its own seq and mode. Mode NONE means the clock is disabled.
 * On the namespace page it redirects to the same aux clock on the real page
 * without any offset. The kernel repeats that redirect for as long as it
 * sees TIMENS; we take it once and then wait like any other reader, because
 * the real page never carries TIMENS and a further page is not time data.
 */
static bool vdso_aux(const struct vdso_time_data *vd, int32_t clk, struct vdso_timespec *ts)
{
    uint32_t idx = (uint32_t)clk - VDSO_CLOCK_AUX;
    const struct vdso_clock *vc = vdso_era_aux_clock(vd, idx);
    uint64_t sec, ns;
    uint32_t seq;

    do {
        if (!vdso_read_begin_or_timens(vc, &seq)) {
            vd = vdso_real_data(vd);
            vc = vdso_era_aux_clock(vd, idx);
            seq = vdso_read_begin(vc);
        }
        if (!vdso_hres_sample(vc, &vc->basetime[VDSO_BASE_AUX], VDSO_READ(vc->clock_mode), &sec,
                              &ns))
            return false;
    } while (vdso_read_retry(vc, seq));
    vdso_set_timespec(ts, sec, ns);
    return true;
}

VDSO_COLD int vdso_gettime_fallback(int32_t clk, struct vdso_timespec *ts)
{
    return (int)vdso_arch_fallback(VDSO_NR_CLOCK_GETTIME, clk, (long)ts);
}

/*
 * What the fast read left over, the general way: finish the begun read,
 * then (after a writer, or when nothing was begun) the general loop with
 * its namespace path. False = the syscall. One out-of-line copy serves
 * clock_gettime and gettimeofday.
 */
static __attribute__((noinline)) bool
vdso_hres_slow(const struct vdso_time_data *vd, const struct vdso_clock *vc, int32_t clk,
               struct vdso_timespec *ts, enum vdso_fast_outcome got, struct vdso_fast_resume resume)
{
    const struct vdso_timestamp *base = &vc->basetime[clk];
    uint64_t sec, ns;

    if (got == VDSO_FAST_SYSCALL)
        return false;
    if (got == VDSO_FAST_BEGUN || got == VDSO_FAST_READ) {
        if (got == VDSO_FAST_READ)
            vdso_hres_compute(vc, base, resume.cycles, &sec, &ns);
        else if (!vdso_hres_sample(vc, base, VDSO_READ(vc->clock_mode), &sec, &ns))
            return false;
        if (!vdso_read_retry(vc, resume.seq)) {
            vdso_set_timespec(ts, sec, ns);
            return true;
        }
    }
    return vdso_hres(vd, vc, clk, ts);
}

/*
 * clock_gettime's rare cases, reached by a tail call. It finds the data
 * itself, so that the fast path keeps nothing live for it beyond its own
 * arguments and what it hands on.
 */
static __attribute__((noinline)) int vdso_gettime_slow(int32_t clk, struct vdso_timespec *ts,
                                                       enum vdso_fast_outcome got,
                                                       struct vdso_fast_resume resume)
{
    const struct vdso_time_data *vd = vdso_arch_time_data();
    const struct vdso_clock *vc =
        &vd->clock_data[clk == VDSO_CLOCK_MONOTONIC_RAW ? VDSO_CS_RAW : VDSO_CS_HRES_COARSE];

    if (VDSO_LIKELY(vdso_hres_slow(vd, vc, clk, ts, got, resume)))
        return 0;
    return vdso_gettime_fallback(clk, ts);
}

/* The fast read for one clock mode; the rest by a tail call. */
VDSO_HOT_INLINE int vdso_gettime_fast(const struct vdso_clock *vc, int32_t clk, int32_t mode,
                                      struct vdso_timespec *ts)
{
    struct vdso_fast_resume resume = {0, 0};
    enum vdso_fast_outcome got;
    uint64_t sec, ns;

    got = vdso_hres_read_fast(vc, &vc->basetime[clk], mode, &sec, &ns, &resume);
    if (VDSO_UNLIKELY(got != VDSO_FAST_SAMPLED))
        return vdso_gettime_slow(clk, ts, got, resume);
    vdso_set_timespec(ts, sec, ns);
    return 0;
}

/*
 * HRES or RAW on a clock that is not (or was not, a moment ago) in mode
 * TSC: the pvclock, which a KVM guest runs on, has a fast read of its own;
 * every other mode takes the general loop. RAW is built separately, as in
 * clock_gettime, so that each build addresses a constant slot.
 */
static __attribute__((noinline)) int vdso_gettime_not_tsc(int32_t clk, struct vdso_timespec *ts)
{
    const struct vdso_time_data *vd = vdso_arch_time_data();
    const struct vdso_clock *hres = &vd->clock_data[VDSO_CS_HRES_COARSE];
    const struct vdso_clock *raw = &vd->clock_data[VDSO_CS_RAW];
    struct vdso_fast_resume none = {0, 0};

    if (clk == VDSO_CLOCK_MONOTONIC_RAW) {
        if (VDSO_READ(raw->clock_mode) == VDSO_CLOCKMODE_PVCLOCK)
            return vdso_gettime_fast(raw, VDSO_CLOCK_MONOTONIC_RAW, VDSO_CLOCKMODE_PVCLOCK, ts);
    } else if (VDSO_READ(hres->clock_mode) == VDSO_CLOCKMODE_PVCLOCK) {
        return vdso_gettime_fast(hres, clk, VDSO_CLOCKMODE_PVCLOCK, ts);
    }
    return vdso_gettime_slow(clk, ts, VDSO_FAST_GENERAL, none);
}

/* Out of line: aux clocks are rare, and their loop must not bloat the hot one. */
static __attribute__((noinline)) int vdso_gettime_aux(const struct vdso_time_data *vd, int32_t clk,
                                                      struct vdso_timespec *ts)
{
    if (vdso_aux(vd, clk, ts))
        return 0;
    return vdso_gettime_fallback(clk, ts);
}

/*
 * HRES and RAW: the TSC fast read inline, everything else by tail calls.
 * The mode read first is a hint only (the one read under the seqcount
 * decides); it sends the other modes past a fast read that would fail.
 */
VDSO_HOT_INLINE int vdso_gettime_hres(const struct vdso_clock *vc, int32_t clk,
                                      struct vdso_timespec *ts)
{
    if (VDSO_LIKELY(VDSO_READ(vc->clock_mode) == VDSO_CLOCKMODE_TSC))
        return vdso_gettime_fast(vc, clk, VDSO_CLOCKMODE_TSC, ts);
    return vdso_gettime_not_tsc(clk, ts);
}

VDSO_EXPORT int VDSO_FN(clock_gettime)(int32_t clk, struct vdso_timespec *ts)
{
    const struct vdso_time_data *vd = vdso_arch_time_data();
    uint32_t bit = vdso_era_clock_bit(clk);

    /*
     * COARSE first: its whole read costs about what a taken branch does,
     * while the counter-based read hides one extra test easily. HRES and
     * RAW have separate sites, so that each addresses a constant slot.
     */
    if (bit & VDSO_COARSE)
        return vdso_coarse(vd, clk, ts);
    if (VDSO_LIKELY(bit & VDSO_HRES))
        return vdso_gettime_hres(&vd->clock_data[VDSO_CS_HRES_COARSE], clk, ts);
    if (bit & VDSO_RAW)
        return vdso_gettime_hres(&vd->clock_data[VDSO_CS_RAW], VDSO_CLOCK_MONOTONIC_RAW, ts);
    if (bit & VDSO_AUX)
        return vdso_gettime_aux(vd, clk, ts);
    return vdso_gettime_fallback(clk, ts);
}
VDSO_ALIAS(clock_gettime);

/* tz is page-level, written without the seqcount: no loop. */
VDSO_HOT_INLINE void vdso_get_tz(const struct vdso_time_data *vd, struct vdso_timezone *tz)
{
    if (VDSO_UNLIKELY(vdso_is_timens(vd)))
        vd = vdso_real_data(vd);
    tz->tz_minuteswest = VDSO_READ(vd->tz_minuteswest);
    tz->tz_dsttime = VDSO_READ(vd->tz_dsttime);
}

VDSO_HOT_INLINE void vdso_set_timeval(struct vdso_timeval *tv, const struct vdso_timespec *ts)
{
    tv->tv_sec = ts->tv_sec;
    tv->tv_usec = (uint32_t)ts->tv_nsec / VDSO_NSEC_PER_USEC;
}

/* gettimeofday's rare cases (see vdso_gettime_slow). */
static __attribute__((noinline)) int vdso_gettimeofday_slow(struct vdso_timeval *tv,
                                                            struct vdso_timezone *tz,
                                                            enum vdso_fast_outcome got,
                                                            struct vdso_fast_resume resume)
{
    const struct vdso_time_data *vd = vdso_arch_time_data();
    const struct vdso_clock *vc = &vd->clock_data[VDSO_CS_HRES_COARSE];
    struct vdso_timespec ts;

    if (!vdso_hres_slow(vd, vc, VDSO_CLOCK_REALTIME, &ts, got, resume))
        return (int)vdso_arch_fallback(VDSO_NR_GETTIMEOFDAY, (long)tv, (long)tz);
    vdso_set_timeval(tv, &ts);
    if (tz)
        vdso_get_tz(vd, tz);
    return 0;
}

/* gettimeofday with tv: the fast read for one clock mode, the rest by a tail call. */
VDSO_HOT_INLINE int vdso_gettimeofday_fast(const struct vdso_time_data *vd, int32_t mode,
                                           struct vdso_timeval *tv, struct vdso_timezone *tz)
{
    const struct vdso_clock *vc = &vd->clock_data[VDSO_CS_HRES_COARSE];
    struct vdso_fast_resume resume = {0, 0};
    enum vdso_fast_outcome got;
    struct vdso_timespec ts;
    uint64_t sec, ns;

    got = vdso_hres_read_fast(vc, &vc->basetime[VDSO_CLOCK_REALTIME], mode, &sec, &ns, &resume);
    if (VDSO_UNLIKELY(got != VDSO_FAST_SAMPLED))
        return vdso_gettimeofday_slow(tv, tz, got, resume);
    vdso_set_timespec(&ts, sec, ns);
    vdso_set_timeval(tv, &ts);
    if (VDSO_UNLIKELY(tz != 0))
        vdso_get_tz(vd, tz);
    return 0;
}

/* gettimeofday off the TSC (see vdso_gettime_not_tsc). */
static __attribute__((noinline)) int vdso_gettimeofday_not_tsc(struct vdso_timeval *tv,
                                                               struct vdso_timezone *tz)
{
    const struct vdso_time_data *vd = vdso_arch_time_data();
    struct vdso_fast_resume none = {0, 0};

    if (VDSO_READ(vd->clock_data[VDSO_CS_HRES_COARSE].clock_mode) == VDSO_CLOCKMODE_PVCLOCK)
        return vdso_gettimeofday_fast(vd, VDSO_CLOCKMODE_PVCLOCK, tv, tz);
    return vdso_gettimeofday_slow(tv, tz, VDSO_FAST_GENERAL, none);
}

VDSO_EXPORT int VDSO_FN(gettimeofday)(struct vdso_timeval *tv, struct vdso_timezone *tz)
{
    const struct vdso_time_data *vd = vdso_arch_time_data();

    if (VDSO_LIKELY(tv != 0)) {
        /* A hint, as in vdso_gettime_hres(). */
        if (VDSO_LIKELY(VDSO_READ(vd->clock_data[VDSO_CS_HRES_COARSE].clock_mode) ==
                        VDSO_CLOCKMODE_TSC))
            return vdso_gettimeofday_fast(vd, VDSO_CLOCKMODE_TSC, tv, tz);
        return vdso_gettimeofday_not_tsc(tv, tz);
    }
    if (VDSO_UNLIKELY(tz != 0))
        vdso_get_tz(vd, tz);
    return 0;
}
VDSO_ALIAS(gettimeofday);

/* One load of the REALTIME base seconds (= REALTIME_COARSE); never the syscall. */
VDSO_HOT_INLINE int64_t vdso_time_from(const struct vdso_time_data *vd, int64_t *t)
{
    int64_t now =
        (int64_t)VDSO_READ(vd->clock_data[VDSO_CS_HRES_COARSE].basetime[VDSO_CLOCK_REALTIME].sec);

    if (t)
        *t = now;
    return now;
}

VDSO_EXPORT int64_t VDSO_FN(time)(int64_t *t)
{
    const struct vdso_time_data *vd = vdso_arch_time_data();

    /* Two sites rather than a computed page: see vdso_is_timens(). */
    if (VDSO_UNLIKELY(vdso_is_timens(vd)))
        return vdso_time_from(vdso_real_data(vd), t);
    return vdso_time_from(vd, t);
}
VDSO_ALIAS(time);

/* The resolution of a clock the data serves; false = ask the syscall. */
static bool vdso_clock_res(const struct vdso_time_data *vd, int32_t clk, uint64_t *ns)
{
    uint32_t bit = vdso_era_clock_bit(clk);

    if (bit & (VDSO_HRES | VDSO_RAW)) {
        if (VDSO_UNLIKELY(vdso_is_timens(vd)))
            vd = vdso_real_data(vd);
        *ns = VDSO_READ(vd->hrtimer_res);
    } else if (bit & VDSO_COARSE) {
        *ns = VDSO_LOW_RES_NSEC;
    } else if (bit & VDSO_AUX) {
        *ns = 1; /* 6.17+: aux clocks report 1 ns, configured or not */
    } else {
        return false;
    }
    return true;
}

VDSO_EXPORT int VDSO_FN(clock_getres)(int32_t clk, struct vdso_timespec *res)
{
    uint64_t ns;

    if (!vdso_clock_res(vdso_arch_time_data(), clk, &ns))
        return (int)vdso_arch_fallback(VDSO_NR_CLOCK_GETRES, clk, (long)res);
    if (res) {
        res->tv_sec = 0;
        res->tv_nsec = (int64_t)ns;
    }
    return 0;
}
VDSO_ALIAS(clock_getres);
