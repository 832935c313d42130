/*
 * The time entry points of the reference vDSO: clock_gettime, gettimeofday,
 * time and clock_getres with the Linux 6.18 x86-64 semantics (ABI doc
 * §2.4-§2.8). One generic algorithm in the style of the kernel's lib/vdso:
 * classify the clock id, read a consistent snapshot of the data page under
 * its seqcount (taking the time-namespace path when the page says so),
 * compute outside the loop, and hand every case the data cannot serve to the
 * syscall. The arch header supplies page addresses, counter reads and the
 * fallback, so the same code builds the image and the hosted library.
 */
#include <stdbool.h>
#include <stdint.h>
#include <vdsokit/abi.h>
#include <vdsokit/vdso_entry.h>

#include "vclock_read.h"
#include "vdso_arch.h"
#include "vdso_exports.h"
#include "vdso_seq.h"

/* Inside a time namespace the real data is the page after the namespace page. */
static inline const struct vdso_time_data *vdso_real_data(const struct vdso_time_data *ns_page)
{
    return (const struct vdso_time_data *)((const char *)ns_page + VDSO_PAGE_SIZE);
}

static inline bool vdso_is_timens(const struct vdso_time_data *vd)
{
    return VDSO_READ(vd->clock_data[VDSO_CS_HRES_COARSE].clock_mode) == VDSO_CLOCKMODE_TIMENS;
}

/*
 * Counter value to shifted nanoseconds plus the base, the x86 rule of 6.10+.
 * A delta above max_cycles is either a backwards step (both operands are
 * below 2^63, so it wrapped and has bit 62 set: clamp to the base) or a long
 * stall whose product needs 128 bits. Shift counts wrap as x86 shifts do.
 */
static inline uint64_t vdso_calc_ns(const struct vdso_clock *vc, uint64_t cycles, uint64_t base)
{
    uint64_t delta = cycles - VDSO_READ(vc->cycle_last);
    uint64_t mult = VDSO_READ(vc->mult);
    uint32_t shift = VDSO_READ(vc->shift);

    if (__builtin_expect(delta > VDSO_READ(vc->max_cycles), 0)) {
        if (delta & (1ull << 62))
            return base >> (shift & 63);
        return (uint64_t)(((unsigned __int128)(delta & INT64_MAX) * mult + base) >> (shift & 127));
    }
    return (delta * mult + base) >> (shift & 63);
}

/*
 * {sec, ns} with ns brought below one second. The kernel counts the carry
 * by repeated subtraction into a u32; a division with the quotient cut to
 * 32 bits gives the same answer in bounded time.
 */
static inline void vdso_set_timespec(struct vdso_timespec *ts, uint64_t sec, uint64_t ns)
{
    uint32_t carry = (uint32_t)(ns / VDSO_NSEC_PER_SEC);

    ts->tv_sec = (int64_t)(sec + carry);
    ts->tv_nsec = (int64_t)(ns % VDSO_NSEC_PER_SEC);
}

/* One counter-based reading of slot idx; false = the syscall must answer. */
static inline bool vdso_hres_sample(const struct vdso_clock *vc, uint32_t idx, uint64_t *sec,
                                    uint64_t *ns)
{
    int32_t mode = VDSO_READ(vc->clock_mode);
    uint64_t cycles;

    if (mode == VDSO_CLOCKMODE_NONE)
        return false;
    cycles = vclock_read(mode);
    if (!vclock_ok(cycles))
        return false;
    vdso_arch_read_point(VDSO_READ_MID, &vc->seq);
    *ns = vdso_calc_ns(vc, cycles, VDSO_READ(vc->basetime[idx].nsec));
    *sec = VDSO_READ(vc->basetime[idx].sec);
    return true;
}

/* HRES or RAW clock inside a time namespace: real data plus the offset. */
static bool vdso_hres_timens(const struct vdso_time_data *ns_page, const struct vdso_clock *ns_vc,
                             int32_t clk, struct vdso_timespec *ts)
{
    const struct vdso_time_data *vd = vdso_real_data(ns_page);
    const struct vdso_clock *vc =
        &vd->clock_data[clk == VDSO_CLOCK_MONOTONIC_RAW ? VDSO_CS_RAW : VDSO_CS_HRES_COARSE];
    uint64_t sec, ns;
    uint32_t seq;

    do {
        seq = vdso_read_begin(vc);
        if (!vdso_hres_sample(vc, (uint32_t)clk, &sec, &ns))
            return false;
    } while (vdso_read_retry(vc, seq));
    sec += (uint64_t)VDSO_READ(ns_vc->offset[clk].sec);
    ns += VDSO_READ(ns_vc->offset[clk].nsec);
    vdso_set_timespec(ts, sec, ns);
    return true;
}

static bool vdso_hres(const struct vdso_time_data *vd, const struct vdso_clock *vc, int32_t clk,
                      struct vdso_timespec *ts)
{
    uint64_t sec, ns;
    uint32_t seq;

    do {
        if (!vdso_read_begin_or_timens(vc, &seq))
            return vdso_hres_timens(vd, vc, clk, ts);
        if (!vdso_hres_sample(vc, (uint32_t)clk, &sec, &ns))
            return false;
    } while (vdso_read_retry(vc, seq));
    /* Outside the loop: a torn read must not make this slow. */
    vdso_set_timespec(ts, sec, ns);
    return true;
}

/* One coarse slot: plain nanoseconds, no counter, any clock mode. */
static inline void vdso_coarse_sample(const struct vdso_clock *vc, int32_t clk, uint64_t *sec,
                                      uint64_t *ns)
{
    *sec = VDSO_READ(vc->basetime[clk].sec);
    vdso_arch_read_point(VDSO_READ_MID, &vc->seq);
    *ns = VDSO_READ(vc->basetime[clk].nsec);
}

static void vdso_coarse_timens(const struct vdso_time_data *ns_page, const struct vdso_clock *ns_vc,
                               int32_t clk, struct vdso_timespec *ts)
{
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
}

static void vdso_coarse(const struct vdso_time_data *vd, const struct vdso_clock *vc, int32_t clk,
                        struct vdso_timespec *ts)
{
    uint64_t sec, ns;
    uint32_t seq;

    do {
        if (!vdso_read_begin_or_timens(vc, &seq)) {
            vdso_coarse_timens(vd, vc, clk, ts);
            return;
        }
        vdso_coarse_sample(vc, clk, &sec, &ns);
    } while (vdso_read_retry(vc, seq));
    /* The slot is normalised by the writer: copied verbatim. */
    ts->tv_sec = (int64_t)sec;
    ts->tv_nsec = (int64_t)ns;
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
    const struct vdso_clock *vc = &vd->aux_clock_data[idx];
    uint64_t sec, ns;
    uint32_t seq;

    do {
        if (!vdso_read_begin_or_timens(vc, &seq)) {
            vd = vdso_real_data(vd);
            vc = &vd->aux_clock_data[idx];
            seq = vdso_read_begin(vc);
        }
        if (!vdso_hres_sample(vc, VDSO_BASE_AUX, &sec, &ns))
            return false;
    } while (vdso_read_retry(vc, seq));
    vdso_set_timespec(ts, sec, ns);
    return true;
}

static int vdso_gettime_fallback(int32_t clk, struct vdso_timespec *ts)
{
    return (int)vdso_arch_fallback(VDSO_NR_CLOCK_GETTIME, clk, (long)ts);
}

/*
 * One out-of-line function per counter-based class, entered by a tail
 * call: the dispatcher and the coarse path stay leaf code without the
 * register saves the counter paths need.
 */
static __attribute__((noinline)) int vdso_gettime_hres(const struct vdso_time_data *vd,
                                                       const struct vdso_clock *vc, int32_t clk,
                                                       struct vdso_timespec *ts)
{
    if (__builtin_expect(vdso_hres(vd, vc, clk, ts), 1))
        return 0;
    return vdso_gettime_fallback(clk, ts);
}

static __attribute__((noinline)) int vdso_gettime_aux(const struct vdso_time_data *vd, int32_t clk,
                                                      struct vdso_timespec *ts)
{
    if (vdso_aux(vd, clk, ts))
        return 0;
    return vdso_gettime_fallback(clk, ts);
}

VDSO_EXPORT int VDSO_FN(clock_gettime)(int32_t clk, struct vdso_timespec *ts)
{
    const struct vdso_time_data *vd = vdso_arch_time_data();
    uint32_t bit = vdso_clock_bit(clk);

    if (__builtin_expect(bit & VDSO_HRES, 1))
        return vdso_gettime_hres(vd, &vd->clock_data[VDSO_CS_HRES_COARSE], clk, ts);
    if (bit & VDSO_COARSE) {
        vdso_coarse(vd, &vd->clock_data[VDSO_CS_HRES_COARSE], clk, ts);
        return 0;
    }
    if (bit & VDSO_RAW)
        return vdso_gettime_hres(vd, &vd->clock_data[VDSO_CS_RAW], clk, ts);
    if (bit & VDSO_AUX)
        return vdso_gettime_aux(vd, clk, ts);
    return vdso_gettime_fallback(clk, ts);
}
VDSO_ALIAS(clock_gettime);

VDSO_EXPORT int VDSO_FN(gettimeofday)(struct vdso_timeval *tv, struct vdso_timezone *tz)
{
    const struct vdso_time_data *vd = vdso_arch_time_data();

    if (__builtin_expect(tv != 0, 1)) {
        struct vdso_timespec ts;

        if (!vdso_hres(vd, &vd->clock_data[VDSO_CS_HRES_COARSE], VDSO_CLOCK_REALTIME, &ts))
            return (int)vdso_arch_fallback(VDSO_NR_GETTIMEOFDAY, (long)tv, (long)tz);
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = (uint32_t)ts.tv_nsec / VDSO_NSEC_PER_USEC;
    }
    if (__builtin_expect(tz != 0, 0)) {
        /* tz is page-level, written without the seqcount: no loop. */
        if (vdso_is_timens(vd))
            vd = vdso_real_data(vd);
        tz->tz_minuteswest = VDSO_READ(vd->tz_minuteswest);
        tz->tz_dsttime = VDSO_READ(vd->tz_dsttime);
    }
    return 0;
}
VDSO_ALIAS(gettimeofday);

/* One load of the REALTIME base seconds (= REALTIME_COARSE); never the syscall. */
VDSO_EXPORT int64_t VDSO_FN(time)(int64_t *t)
{
    const struct vdso_time_data *vd = vdso_arch_time_data();
    int64_t now;

    if (vdso_is_timens(vd))
        vd = vdso_real_data(vd);
    now = (int64_t)VDSO_READ(vd->clock_data[VDSO_CS_HRES_COARSE].basetime[VDSO_CLOCK_REALTIME].sec);
    if (t)
        *t = now;
    return now;
}
VDSO_ALIAS(time);

/* The resolution of a clock the data serves; false = ask the syscall. */
static bool vdso_clock_res(const struct vdso_time_data *vd, int32_t clk, uint64_t *ns)
{
    uint32_t bit = vdso_clock_bit(clk);

    if (bit & (VDSO_HRES | VDSO_RAW)) {
        if (vdso_is_timens(vd))
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
