/*
 * The reference vDSO functions (hosted build) against hand-computed results
 * on scripted data pages: clock-id routing over [-20, 40] plus INT_MIN and
 * INT_MAX, the HRES/RAW/COARSE/AUX arithmetic (carry at 1e9, negative-delta
 * clamp, both sides of max_cycles, the u32 quotient of the normalisation),
 * the time-namespace paths with positive and negative offsets, fallbacks
 * (mode NONE, unknown modes, unstable pvclock, invalid Hyper-V page), the
 * retry and spin paths driven from the read-loop hook, optional pages never
 * touched unless the mode uses them, tz, hrtimer_res, NULL arguments and
 * the getcpu bit split.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <vdsokit/vdso_hosted.h>

#include "vdso_test_pages.h"

#define SHIFTED(ns) ((uint64_t)(ns) << 24)

/* What the hooks see and do. */
static struct {
    uint64_t tsc;
    long nr, arg0, arg1;
    long fallback_ret;
    unsigned points[VDSO_HVCLOCK_RETRY + 1];
    void (*on_point)(enum vdso_read_point at, unsigned nth);
    uint32_t cpunode;
} hk;

static uint64_t hook_tsc(void *ctx)
{
    return hk.tsc;
}

static long hook_fallback(void *ctx, long nr, long arg0, long arg1)
{
    hk.nr = nr;
    hk.arg0 = arg0;
    hk.arg1 = arg1;
    return hk.fallback_ret;
}

static void hook_point(void *ctx, enum vdso_read_point at, const volatile void *word)
{
    unsigned nth = ++hk.points[at];

    if (hk.on_point)
        hk.on_point(at, nth);
}

static uint32_t hook_cpunode(void *ctx)
{
    return hk.cpunode;
}

static struct test_pages pg;

static void reset_hooks(void)
{
    memset(&hk, 0, sizeof(hk));
    hk.fallback_ret = VDSO_HOSTED_FALLBACK;
}

static const struct tp_clock clock0 = {VDSO_CLOCKMODE_TSC, 1000000, 1ull << 40, 3u << 23, 24};
static const struct tp_clock clock_raw = {VDSO_CLOCKMODE_TSC, 1000000, 1ull << 40, 1u << 24, 24};

/*
 * The standard state in page `index`: 1.5 ns per cycle on clock 0, 1 ns per
 * cycle on the raw clock, aux clock 3 (id 19) enabled, the rest disabled.
 * With the counter at cycle_last + 2000 the expected readings are
 * REALTIME {1700000001, 2000}, MONOTONIC {5000, 123459789}, BOOTTIME
 * {6000, 3000}, TAI {1700000038, 2000}, RAW {7000, 2010}, AUX3 {42, 2005}.
 */
static void write_state(unsigned index, int32_t mode)
{
    struct vdso_time_data *vd = tp_page(&pg, index);
    struct tp_clock c0 = clock0, c1 = clock_raw;

    memset(vd, 0, sizeof(*vd));
    c0.mode = c1.mode = mode;
    tp_set_clock(&vd->clock_data[0], 10, &c0);
    tp_set_clock(&vd->clock_data[1], 10, &c1);
    tp_set_base(&vd->clock_data[0], VDSO_CLOCK_REALTIME, 1700000000, SHIFTED(999999000));
    tp_set_base(&vd->clock_data[0], VDSO_CLOCK_MONOTONIC, 5000, SHIFTED(123456789));
    tp_set_base(&vd->clock_data[0], VDSO_CLOCK_BOOTTIME, 6000, 0);
    tp_set_base(&vd->clock_data[0], VDSO_CLOCK_TAI, 1700000037, SHIFTED(999999000));
    tp_set_base(&vd->clock_data[0], VDSO_CLOCK_REALTIME_COARSE, 1700000000, 999000000);
    tp_set_base(&vd->clock_data[0], VDSO_CLOCK_MONOTONIC_COARSE, 4999, 999000000);
    tp_set_base(&vd->clock_data[1], VDSO_CLOCK_MONOTONIC_RAW, 7000, SHIFTED(10));
    tp_set_clock(&vd->aux_clock_data[3], 2, &c1);
    tp_set_base(&vd->aux_clock_data[3], VDSO_BASE_AUX, 42, SHIFTED(5));
    vd->tz_minuteswest = -60;
    vd->tz_dsttime = 1;
    vd->hrtimer_res = 1;
    hk.tsc = clock0.cycle_last + 2000;
}

/* Root layout: real data in page 0; pages 1 and 3 unreadable, as the kernel's. */
static void root_layout(void)
{
    tp_protect(&pg, VDSO_TIMENS_PAGE, 1);
    write_state(VDSO_TIME_PAGE, VDSO_CLOCKMODE_TSC);
    tp_protect(&pg, VDSO_TIMENS_PAGE, 0);
}

static struct vdso_time_data *real(void)
{
    return tp_page(&pg, VDSO_TIME_PAGE);
}

static int gettime(int32_t clk, struct vdso_timespec *ts)
{
    ts->tv_sec = ts->tv_nsec = -7777;
    return vdso_hosted_clock_gettime(clk, ts);
}

static bool served_by_data(int32_t clk)
{
    static const int32_t served[] = {0, 1, 4, 5, 6, 7, 11, 19};

    for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++)
        if (served[i] == clk)
            return true;
    return false;
}

static void check_routing_one(int32_t clk)
{
    struct vdso_timespec ts;

    unsigned long before = vdso_hosted_fallback_count();
    int rc = gettime(clk, &ts);
    bool fell = vdso_hosted_fallback_count() != before;

    if (served_by_data(clk)) {
        CHECK(rc == 0 && !fell, "clock %d: rc %d fell back %d", clk, rc, fell);
    } else {
        CHECK(rc == VDSO_HOSTED_FALLBACK && fell && hk.nr == VDSO_NR_CLOCK_GETTIME &&
                  hk.arg0 == clk && hk.arg1 == (long)&ts,
              "clock %d: rc %d fell %d nr %ld args %ld %lx", clk, rc, fell, hk.nr, hk.arg0,
              (unsigned long)hk.arg1);
    }

    before = vdso_hosted_fallback_count();
    rc = vdso_hosted_clock_getres(clk, &ts);
    fell = vdso_hosted_fallback_count() != before;
    bool res_served =
        (clk >= 0 && clk <= 7 && clk != 2 && clk != 3) || clk == 11 || (clk >= 16 && clk <= 23);
    if (res_served) {
        uint64_t want = (clk == 5 || clk == 6) ? VDSO_LOW_RES_NSEC : 1;
        CHECK(rc == 0 && !fell && ts.tv_sec == 0 && ts.tv_nsec == (int64_t)want,
              "getres %d: rc %d fell %d {%" PRId64 ", %" PRId64 "}", clk, rc, fell, ts.tv_sec,
              ts.tv_nsec);
    } else {
        CHECK(rc == VDSO_HOSTED_FALLBACK && fell && hk.nr == VDSO_NR_CLOCK_GETRES && hk.arg0 == clk,
              "getres %d: rc %d fell %d nr %ld", clk, rc, fell, hk.nr);
    }
}

static void test_routing(void)
{
    root_layout();
    for (int32_t clk = -20; clk <= 40; clk++)
        check_routing_one(clk);
    check_routing_one(INT_MIN);
    check_routing_one(INT_MAX);
    check_routing_one(INT_MIN + 24);
    check_routing_one(-2 - 8 * 100); /* a CPU-clock encoding */
}

static void test_values(void)
{
    struct vdso_timespec ts;

    root_layout();
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "REALTIME");
    CHECK_TS(ts, 1700000001, 2000);
    CHECK(gettime(VDSO_CLOCK_MONOTONIC, &ts) == 0, "MONOTONIC");
    CHECK_TS(ts, 5000, 123459789);
    CHECK(gettime(VDSO_CLOCK_BOOTTIME, &ts) == 0, "BOOTTIME");
    CHECK_TS(ts, 6000, 3000);
    CHECK(gettime(VDSO_CLOCK_TAI, &ts) == 0, "TAI");
    CHECK_TS(ts, 1700000038, 2000);
    CHECK(gettime(VDSO_CLOCK_MONOTONIC_RAW, &ts) == 0, "RAW");
    CHECK_TS(ts, 7000, 2010);
    CHECK(gettime(VDSO_CLOCK_REALTIME_COARSE, &ts) == 0, "REALTIME_COARSE");
    CHECK_TS(ts, 1700000000, 999000000);
    CHECK(gettime(VDSO_CLOCK_MONOTONIC_COARSE, &ts) == 0, "MONOTONIC_COARSE");
    CHECK_TS(ts, 4999, 999000000);
    CHECK(gettime(VDSO_CLOCK_AUX + 3, &ts) == 0, "AUX 3");
    CHECK_TS(ts, 42, 2005);

    /* 666 cycles = 999 ns: REALTIME lands on 999999999, one below the carry. */
    hk.tsc = clock0.cycle_last + 666;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "REALTIME at 1e9 - 1");
    CHECK_TS(ts, 1700000000, 999999999);
    hk.tsc = clock0.cycle_last + 667; /* 1000.5 ns: carry, sub-ns truncated */
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "REALTIME at 1e9");
    CHECK_TS(ts, 1700000001, 0);

    /* Counter behind cycle_last: clamped to the base, no jump. */
    hk.tsc = clock0.cycle_last - 5;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "negative delta");
    CHECK_TS(ts, 1700000000, 999999000);
    CHECK(gettime(VDSO_CLOCK_MONOTONIC_RAW, &ts) == 0, "negative delta raw");
    CHECK_TS(ts, 7000, 10);
    /* The TSC hook's bit 63 is masked off in TSC mode. */
    hk.tsc = (1ull << 63) | (clock0.cycle_last + 2000);
    CHECK(gettime(VDSO_CLOCK_MONOTONIC, &ts) == 0, "bit 63 masked");
    CHECK_TS(ts, 5000, 123459789);
}

/* Clock 0 with a raw (mult, shift, cycle_last, max_cycles) and REALTIME base {sec, nsec}. */
static void calc_case(uint64_t mult, uint64_t shift, uint64_t last, uint64_t max, uint64_t tsc,
                      uint64_t sec, uint64_t nsec, int64_t want_sec, int64_t want_nsec,
                      const char *what)
{
    struct vdso_time_data *vd = real();
    struct vdso_timespec ts;

    vd->clock_data[0].mult = (uint32_t)mult;
    vd->clock_data[0].shift = (uint32_t)shift;
    vd->clock_data[0].cycle_last = last;
    vd->clock_data[0].max_cycles = max;
    tp_set_base(&vd->clock_data[0], VDSO_CLOCK_REALTIME, sec, nsec);
    hk.tsc = tsc;
    int rc = gettime(VDSO_CLOCK_REALTIME, &ts);
    CHECK(rc == 0 && ts.tv_sec == want_sec && ts.tv_nsec == want_nsec,
          "%s: rc %d {%" PRId64 ", %" PRId64 "}, expected {%" PRId64 ", %" PRId64 "}", what, rc,
          ts.tv_sec, ts.tv_nsec, want_sec, want_nsec);
}

static void test_calc_paths(void)
{
    const uint64_t t40 = 1ull << 40;

    root_layout();
    /* delta 2^40, mult 2^32-1: 2^72-2^40 needs 73 bits. At max_cycles the
     * kernel's 64-bit product wraps to 2^64-2^40; above it, 128-bit. */
    calc_case(0xffffffff, 32, 0, t40, t40, 0, 0, 4, 294967040, "delta == max_cycles (64-bit)");
    calc_case(0xffffffff, 32, 0, t40 - 1, t40, 0, 0, 1099, 511627520,
              "delta > max_cycles (128-bit)");
    /* A forward delta with bit 62 set counts as negative motion. */
    calc_case(1, 0, 0, 0, (1ull << 62) + 1, 3, 77, 3, 77, "bit 62 clamp");
    /* 2^62 - 1 ns: the 128-bit path, and a quotient above 2^32 cut to u32. */
    calc_case(1, 0, 0, 0, (1ull << 62) - 1, 0, 0, 316718722, 427387903, "u32 quotient (hres)");
    calc_case(1, 0, 0, UINT64_MAX, 0, 10, 5000000000000000000ull, 705032714, 0,
              "u32 quotient of a 5e18 ns base");
    /* Shift counts wrap as the x86 shift instructions do. */
    calc_case(1, 64, 0, UINT64_MAX, 5, 0, 7, 0, 12, "shift 64 acts as 0 (64-bit path)");
    calc_case(1, 128 + 1, 0, 0, 4, 0, 6, 0, 5, "shift 129 acts as 1 (128-bit path)");
}

static void test_timens(void)
{
    struct vdso_timespec ts;
    struct vdso_timezone tz = {0, 0};
    struct vdso_timeval tv;
    int64_t t = 0;

    tp_protect(&pg, VDSO_TIMENS_PAGE, 1);
    write_state(VDSO_TIMENS_PAGE, VDSO_CLOCKMODE_TSC);
    tp_make_timens(&pg, 1000, 500, -2000, 999999999);
    tp_page(&pg, VDSO_TIME_PAGE)->tz_minuteswest = 999;

    CHECK(gettime(VDSO_CLOCK_MONOTONIC, &ts) == 0, "ns MONOTONIC");
    CHECK_TS(ts, 6000, 123460289);
    CHECK(gettime(VDSO_CLOCK_BOOTTIME, &ts) == 0, "ns BOOTTIME");
    CHECK_TS(ts, 4001, 2999);
    CHECK(gettime(VDSO_CLOCK_MONOTONIC_RAW, &ts) == 0, "ns RAW");
    CHECK_TS(ts, 8000, 2510);
    CHECK(gettime(VDSO_CLOCK_MONOTONIC_COARSE, &ts) == 0, "ns MONOTONIC_COARSE");
    CHECK_TS(ts, 5999, 999000500);
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "ns REALTIME");
    CHECK_TS(ts, 1700000001, 2000);
    CHECK(gettime(VDSO_CLOCK_TAI, &ts) == 0, "ns TAI");
    CHECK_TS(ts, 1700000038, 2000);
    CHECK(gettime(VDSO_CLOCK_REALTIME_COARSE, &ts) == 0, "ns REALTIME_COARSE");
    CHECK_TS(ts, 1700000000, 999000000);
    CHECK(gettime(VDSO_CLOCK_AUX + 3, &ts) == 0, "ns AUX 3: real page, no offset");
    CHECK_TS(ts, 42, 2005);
    CHECK(gettime(VDSO_CLOCK_AUX + 4, &ts) == VDSO_HOSTED_FALLBACK, "ns AUX 4 disabled");
    CHECK(vdso_hosted_gettimeofday(&tv, &tz) == 0, "ns gettimeofday");
    CHECK(tv.tv_sec == 1700000001 && tv.tv_usec == 2 && tz.tz_minuteswest == -60 &&
              tz.tz_dsttime == 1,
          "ns gettimeofday {%" PRId64 ", %" PRId64 "} tz {%d, %d}", tv.tv_sec, tv.tv_usec,
          tz.tz_minuteswest, tz.tz_dsttime);
    CHECK(vdso_hosted_time(&t) == 1700000000 && t == 1700000000, "ns time %" PRId64, t);
    CHECK(vdso_hosted_clock_getres(VDSO_CLOCK_MONOTONIC, &ts) == 0, "ns getres");
    CHECK_TS(ts, 0, 1); /* the real page's hrtimer_res, not the namespace page's 0 */

    /* Negative offset through zero: -1 s + carry = 0 s. */
    tp_make_timens(&pg, -5001, 999999999, -6001, 0);
    CHECK(gettime(VDSO_CLOCK_MONOTONIC, &ts) == 0, "ns MONOTONIC negative");
    CHECK_TS(ts, 0, 123459788);
    CHECK(gettime(VDSO_CLOCK_BOOTTIME, &ts) == 0, "ns BOOTTIME negative");
    CHECK_TS(ts, -1, 3000);
    /* The real page in mode NONE: HRES falls back, coarse still served. */
    tp_page(&pg, VDSO_TIMENS_PAGE)->clock_data[0].clock_mode = VDSO_CLOCKMODE_NONE;
    CHECK(gettime(VDSO_CLOCK_MONOTONIC, &ts) == VDSO_HOSTED_FALLBACK, "ns mode NONE");
    CHECK(gettime(VDSO_CLOCK_MONOTONIC_COARSE, &ts) == 0, "ns coarse in mode NONE");
    CHECK_TS(ts, 4999 - 5001 + 1, 999000000 + 999999999 - 1000000000);
    tp_protect(&pg, VDSO_TIMENS_PAGE, 0);
}

static void test_modes(void)
{
    static const int32_t bad_modes[] = {
        VDSO_CLOCKMODE_NONE, VDSO_CLOCKMODE_MAX, 5, 100, -1, INT_MIN, VDSO_CLOCKMODE_TIMENS};
    struct vdso_timespec ts;
    struct vdso_timeval tv;
    struct vdso_timezone tz = {0, 0};
    int64_t t;

    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        root_layout();
        /* The optional pages are unreadable: a read of them before the
         * mode check would crash here (defect class C6). */
        tp_protect(&pg, VDSO_PVCLOCK_PAGE, 0);
        tp_protect(&pg, VDSO_HVCLOCK_PAGE, 0);
        real()->clock_data[0].clock_mode = bad_modes[i];
        real()->clock_data[1].clock_mode = bad_modes[i];
        CHECK(gettime(VDSO_CLOCK_MONOTONIC, &ts) == VDSO_HOSTED_FALLBACK &&
                  hk.nr == VDSO_NR_CLOCK_GETTIME,
              "mode %d: MONOTONIC must fall back", bad_modes[i]);
        CHECK(gettime(VDSO_CLOCK_MONOTONIC_RAW, &ts) == VDSO_HOSTED_FALLBACK,
              "mode %d: RAW must fall back", bad_modes[i]);
        CHECK(gettime(VDSO_CLOCK_REALTIME_COARSE, &ts) == 0, "mode %d: coarse served",
              bad_modes[i]);
        CHECK_TS(ts, 1700000000, 999000000);
        hk.fallback_ret = -4;
        CHECK(vdso_hosted_gettimeofday(&tv, &tz) == -4 && hk.nr == VDSO_NR_GETTIMEOFDAY &&
                  hk.arg0 == (long)&tv && hk.arg1 == (long)&tz,
              "mode %d: gettimeofday must become syscall 96(tv, tz)", bad_modes[i]);
        hk.fallback_ret = VDSO_HOSTED_FALLBACK;
        if (bad_modes[i] != VDSO_CLOCKMODE_TIMENS) { /* TIMENS would read page 1 */
            CHECK(vdso_hosted_time(&t) == 1700000000, "mode %d: time() never falls back",
                  bad_modes[i]);
            CHECK(vdso_hosted_gettimeofday(NULL, &tz) == 0 && tz.tz_minuteswest == -60,
                  "mode %d: tz alone needs no clock", bad_modes[i]);
        }
        tp_protect(&pg, VDSO_PVCLOCK_PAGE, 1);
        tp_protect(&pg, VDSO_HVCLOCK_PAGE, 1);
    }

    /* TSC mode never touches the vclock pages either. */
    root_layout();
    tp_protect(&pg, VDSO_PVCLOCK_PAGE, 0);
    tp_protect(&pg, VDSO_HVCLOCK_PAGE, 0);
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "TSC with vclock pages unmapped");
    CHECK_TS(ts, 1700000001, 2000);
    tp_protect(&pg, VDSO_PVCLOCK_PAGE, 1);
    tp_protect(&pg, VDSO_HVCLOCK_PAGE, 1);
}

static void set_mode(int32_t mode)
{
    real()->clock_data[0].clock_mode = mode;
    real()->clock_data[1].clock_mode = mode;
}

static void pv_bump_on_retry(enum vdso_read_point at, unsigned nth)
{
    struct pvclock_vcpu_time_info *pv = tp_pvclock(&pg);

    if (at == VDSO_PVCLOCK_RETRY && nth == 1) {
        pv->system_time = clock0.cycle_last + 2000; /* the update completes */
        pv->version++;
    }
}

static void test_pvclock(void)
{
    struct pvclock_vcpu_time_info *pv = tp_pvclock(&pg);
    struct vdso_timespec ts;

    root_layout();
    set_mode(VDSO_CLOCKMODE_PVCLOCK);
    tp_protect(&pg, VDSO_HVCLOCK_PAGE, 0);
    tp_set_manual_counter(&pg, clock0.cycle_last + 2000);
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "manual counter");
    CHECK_TS(ts, 1700000001, 2000);

    /* The scaled formula: tsc 1000, stamp 400, shift -1, mul 0.75 -> 225
     * cycles of clock 0 = 337.5 ns, truncated. */
    hk.tsc = 1000;
    pv->tsc_timestamp = 400;
    pv->tsc_shift = -1;
    pv->tsc_to_system_mul = 3u << 30;
    pv->system_time = clock0.cycle_last;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "pvclock shift -1");
    CHECK_TS(ts, 1700000000, 999999000 + 337);
    pv->tsc_shift = 2; /* 2400 * 0.75 = 1800 cycles = 2700 ns */
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "pvclock shift 2");
    CHECK_TS(ts, 1700000001, 1700);
    /* tsc below the stamp clamps to no elapsed time, as the kernel image
     * does: the counter is system_time, 1000 cycles (1500 ns) after
     * cycle_last (a wrapping delta would give (2^64-1) * 0.5 = 2^63-1, i.e.
     * cycle_last - 1 after the 63-bit mask, and the base). */
    hk.tsc = 399;
    pv->tsc_shift = 0;
    pv->tsc_to_system_mul = 1u << 31;
    pv->system_time = clock0.cycle_last + 1000;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "pvclock tsc behind stamp");
    CHECK_TS(ts, 1700000001, 500);

    /* Not stable: all-ones, so the syscall. */
    tp_set_manual_counter(&pg, clock0.cycle_last + 2000);
    pv->flags = 0;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == VDSO_HOSTED_FALLBACK, "pvclock not stable");
    pv->flags = PVCLOCK_TSC_STABLE_BIT | 0x2;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "pvclock stable with other flags");

    /* Version odd: the reader retries until the update completes. */
    tp_set_manual_counter(&pg, 5);
    pv->version |= 1;
    memset(hk.points, 0, sizeof(hk.points));
    hk.on_point = pv_bump_on_retry;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "pvclock odd version");
    CHECK_TS(ts, 1700000001, 2000);
    CHECK(hk.points[VDSO_PVCLOCK_BEGIN] == 2, "pvclock retried once (%u reads)",
          hk.points[VDSO_PVCLOCK_BEGIN]);
    hk.on_point = NULL;
    /* Counter with bit 63 set after the mask is impossible; system_time's is masked. */
    tp_set_manual_counter(&pg, (1ull << 63) | (clock0.cycle_last + 2000));
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "pvclock result masked to 63 bits");
    CHECK_TS(ts, 1700000001, 2000);
    tp_protect(&pg, VDSO_HVCLOCK_PAGE, 1);
}

static void hv_bump_on_retry(enum vdso_read_point at, unsigned nth)
{
    if (at == VDSO_HVCLOCK_RETRY && nth == 1) {
        tp_hvclock(&pg)->tsc_offset = 2000;
        tp_hvclock(&pg)->tsc_sequence++;
    }
}

static void test_hvclock(void)
{
    struct ms_hyperv_tsc_page *hv = tp_hvclock(&pg);
    struct vdso_timespec ts;

    root_layout();
    set_mode(VDSO_CLOCKMODE_HVCLOCK);
    tp_protect(&pg, VDSO_PVCLOCK_PAGE, 0);
    hv->tsc_sequence = 7;
    hv->tsc_scale = 1ull << 63; /* 0.5 */
    hv->tsc_offset = 2000;
    hk.tsc = 2 * clock0.cycle_last;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "hvclock");
    CHECK_TS(ts, 1700000001, 2000);
    hv->tsc_offset = -1000000; /* offset is signed: counter 0 = cycle_last - 1e6 */
    CHECK(gettime(VDSO_CLOCK_MONOTONIC_RAW, &ts) == 0, "hvclock negative offset");
    CHECK_TS(ts, 7000, 10);

    hv->tsc_offset = 1;
    memset(hk.points, 0, sizeof(hk.points));
    hk.on_point = hv_bump_on_retry;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "hvclock sequence change");
    CHECK_TS(ts, 1700000001, 2000);
    CHECK(hk.points[VDSO_HVCLOCK_BEGIN] == 2, "hvclock retried once (%u reads)",
          hk.points[VDSO_HVCLOCK_BEGIN]);
    hk.on_point = NULL;

    hv->tsc_sequence = 0;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == VDSO_HOSTED_FALLBACK, "hvclock sequence 0");
    tp_protect(&pg, VDSO_PVCLOCK_PAGE, 1);
}

static void seq_end_on_spin(enum vdso_read_point at, unsigned nth)
{
    if (at == VDSO_READ_SPIN && nth == 3)
        __atomic_store_n(&real()->clock_data[0].seq, real()->clock_data[0].seq + 1,
                         __ATOMIC_RELAXED);
}

static void seq_writer_at_mid(enum vdso_read_point at, unsigned nth)
{
    if (at == VDSO_READ_MID && nth == 1) {
        real()->clock_data[0].seq++;
        real()->clock_data[0].basetime[VDSO_CLOCK_REALTIME].sec += 10;
        real()->clock_data[0].basetime[VDSO_CLOCK_REALTIME_COARSE].sec += 10;
        real()->clock_data[0].seq++;
    }
}

static void test_seqcount(void)
{
    struct vdso_timespec ts;

    /* Odd seq: spin (three times here) until the writer finishes. */
    root_layout();
    real()->clock_data[0].seq = 11;
    memset(hk.points, 0, sizeof(hk.points));
    hk.on_point = seq_end_on_spin;
    CHECK(gettime(VDSO_CLOCK_REALTIME, &ts) == 0, "odd seq");
    CHECK_TS(ts, 1700000001, 2000);
    CHECK(hk.points[VDSO_READ_SPIN] == 3 && hk.points[VDSO_READ_BEGIN] == 1,
          "spun %u times, began %u", hk.points[VDSO_READ_SPIN], hk.points[VDSO_READ_BEGIN]);

    /* A writer between the reader's loads: retry, and the new base wins. */
    for (int clk = VDSO_CLOCK_REALTIME; clk <= VDSO_CLOCK_REALTIME_COARSE;
         clk += VDSO_CLOCK_REALTIME_COARSE) {
        root_layout();
        memset(hk.points, 0, sizeof(hk.points));
        hk.on_point = seq_writer_at_mid;
        CHECK(gettime(clk, &ts) == 0, "writer mid-read");
        CHECK(ts.tv_sec == (clk ? 1700000010 : 1700000011), "clock %d: torn or stale: %" PRId64,
              clk, ts.tv_sec);
        CHECK(hk.points[VDSO_READ_BEGIN] == 2 && hk.points[VDSO_READ_RETRY] == 2,
              "clock %d: began %u, retry checks %u", clk, hk.points[VDSO_READ_BEGIN],
              hk.points[VDSO_READ_RETRY]);
    }
    hk.on_point = NULL;

    /* seq at the top of its range. */
    root_layout();
    real()->clock_data[0].seq = 0xfffffffe;
    CHECK(gettime(VDSO_CLOCK_MONOTONIC, &ts) == 0, "seq 2^32-2");
    CHECK_TS(ts, 5000, 123459789);
}

static void test_gettimeofday_time_getres(void)
{
    struct vdso_timeval tv = {-1, -1};
    struct vdso_timezone tz = {7, 7};
    struct vdso_timespec res = {-1, -1};
    int64_t t = 0;

    root_layout();
    hk.tsc = clock0.cycle_last + 666; /* 999999999 ns */
    CHECK(vdso_hosted_gettimeofday(&tv, NULL) == 0, "tv only");
    CHECK(tv.tv_sec == 1700000000 && tv.tv_usec == 999999,
          "usec truncated: {%" PRId64 ", %" PRId64 "}", tv.tv_sec, tv.tv_usec);
    CHECK(vdso_hosted_gettimeofday(NULL, &tz) == 0 && tz.tz_minuteswest == -60 &&
              tz.tz_dsttime == 1,
          "tz only: {%d, %d}", tz.tz_minuteswest, tz.tz_dsttime);
    real()->tz_minuteswest = 300;
    real()->tz_dsttime = 0;
    real()->clock_data[0].seq = 13; /* tz is read without the seqcount */
    CHECK(vdso_hosted_gettimeofday(NULL, &tz) == 0 && tz.tz_minuteswest == 300 &&
              tz.tz_dsttime == 0,
          "tz during an update: {%d, %d}", tz.tz_minuteswest, tz.tz_dsttime);
    CHECK(vdso_hosted_gettimeofday(NULL, NULL) == 0, "both NULL");
    real()->clock_data[0].seq = 14;

    /* time(): the REALTIME base seconds, not the counter-advanced time. */
    hk.tsc = clock0.cycle_last + 2000;
    CHECK(vdso_hosted_time(&t) == 1700000000 && t == 1700000000, "time %" PRId64, t);
    CHECK(vdso_hosted_time(NULL) == 1700000000, "time(NULL)");

    unsigned long before = vdso_hosted_fallback_count();
    real()->hrtimer_res = 4000000;
    CHECK(vdso_hosted_clock_getres(VDSO_CLOCK_MONOTONIC_RAW, &res) == 0, "getres RAW");
    CHECK_TS(res, 0, 4000000);
    real()->hrtimer_res = 0xffffffff;
    CHECK(vdso_hosted_clock_getres(VDSO_CLOCK_TAI, &res) == 0, "getres TAI");
    CHECK_TS(res, 0, 0xffffffffu);
    CHECK(vdso_hosted_clock_getres(VDSO_CLOCK_REALTIME, NULL) == 0, "getres NULL res");
    CHECK(vdso_hosted_clock_getres(VDSO_CLOCK_MONOTONIC_COARSE, NULL) == 0, "getres NULL coarse");
    CHECK(vdso_hosted_fallback_count() == before, "no fallback for served getres");
    CHECK(vdso_hosted_clock_getres(-1, NULL) == VDSO_HOSTED_FALLBACK && hk.arg1 == 0,
          "getres invalid id with NULL res falls back with NULL");
}

static void test_getcpu(void)
{
    unsigned cpu = 99, node = 99;
    cpu_set_t orig, one;

    hk.cpunode = (5u << 12) | 7;
    CHECK(vdso_hosted_getcpu(&cpu, &node, NULL) == 0 && cpu == 7 && node == 5,
          "getcpu split: %u %u", cpu, node);
    hk.cpunode = 0xffffffffu;
    CHECK(vdso_hosted_getcpu(&cpu, &node, &cpu) == 0 && cpu == 0xfff && node == 0xfffff,
          "getcpu max: %u %u", cpu, node);
    CHECK(vdso_hosted_getcpu(NULL, NULL, NULL) == 0, "getcpu NULL");
    cpu = 99;
    CHECK(vdso_hosted_getcpu(&cpu, NULL, NULL) == 0 && cpu == 0xfff, "getcpu cpu only");

    /* The real segment-limit read, pinned to each allowed CPU in turn. */
    struct vdso_hosted_hooks plain = {.fallback = hook_fallback};
    vdso_hosted_set_hooks(&plain);
    CHECK(sched_getaffinity(0, sizeof(orig), &orig) == 0, "sched_getaffinity");
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &orig))
            continue;
        CPU_ZERO(&one);
        CPU_SET(c, &one);
        if (sched_setaffinity(0, sizeof(one), &one) != 0)
            continue;
        CHECK(vdso_hosted_getcpu(&cpu, &node, NULL) == 0 && cpu == (unsigned)c &&
                  cpu == (unsigned)sched_getcpu(),
              "pinned to %d: getcpu says %u (sched_getcpu %d)", c, cpu, sched_getcpu());
    }
    sched_setaffinity(0, sizeof(orig), &orig);
}

int main(void)
{
    struct vdso_hosted_hooks hooks = {
        .read_tsc = hook_tsc,
        .fallback = hook_fallback,
        .read_point = hook_point,
        .read_cpunode = hook_cpunode,
    };

    if (tp_create_at(&pg, NULL) != 0)
        SKIP("cannot map six pages");
    tp_protect(&pg, VDSO_ARCH_PAGE, 0);
    vdso_hosted_set_pages(pg.base);
    vdso_hosted_set_hooks(&hooks);
    reset_hooks();

    test_routing();
    test_values();
    test_calc_paths();
    test_timens();
    test_modes();
    test_pvclock();
    test_hvclock();
    test_seqcount();
    test_gettimeofday_time_getres();
    test_getcpu();

    vdso_hosted_set_hooks(NULL);
    tp_destroy(&pg);
    return check_finish();
}
