/*
 * The reference model against hand-computed cases: the x86 delta paths
 * (negative clamp, at/just below/just above max_cycles, bit 63 of delta),
 * shift 0 and 32, the nsec carry at 1e9 - 1, seconds near 2^63 and the u32
 * quotient, namespace offsets of both signs, every clock id class, modes
 * that fall back, odd seq, and getres/gettimeofday/time.
 */
#include "../check.h"
#include <limits.h>
#include <string.h>
#include <vdsokit/tk_model.h>

static struct vdso_time_data page, real;

/* clock 0: 1 ns per cycle at shift 24, cycle_last 1000; bases per slot. */
static void reset_pages(void)
{
    memset(&page, 0, sizeof(page));
    memset(&real, 0, sizeof(real));
    for (int i = 0; i < 2; i++) {
        struct vdso_clock *c = &page.clock_data[i];
        c->seq = 10;
        c->clock_mode = VDSO_CLOCKMODE_TSC;
        c->cycle_last = 1000;
        c->max_cycles = 1ull << 40;
        c->mask = UINT64_MAX;
        c->mult = 1u << 24;
        c->shift = 24;
    }
    struct vdso_clock *c0 = &page.clock_data[0];
    c0->basetime[VDSO_CLOCK_REALTIME] = (struct vdso_timestamp){100, 5ull << 24};
    c0->basetime[VDSO_CLOCK_MONOTONIC] = (struct vdso_timestamp){200, 6ull << 24};
    c0->basetime[VDSO_CLOCK_BOOTTIME] = (struct vdso_timestamp){300, 7ull << 24};
    c0->basetime[VDSO_CLOCK_TAI] = (struct vdso_timestamp){137, 5ull << 24};
    c0->basetime[VDSO_CLOCK_REALTIME_COARSE] = (struct vdso_timestamp){100, 4};
    c0->basetime[VDSO_CLOCK_MONOTONIC_COARSE] = (struct vdso_timestamp){200, 999999999};
    page.clock_data[1].basetime[VDSO_CLOCK_MONOTONIC_RAW] =
        (struct vdso_timestamp){400, 8ull << 24};
    page.clock_data[1].mult = 1u << 23; /* raw runs at half speed */
    page.hrtimer_res = 1;
    page.tz_minuteswest = -60;
    page.tz_dsttime = 1;
}

static struct tk_model_view view(uint64_t counter)
{
    return (struct tk_model_view){
        .page0 = &page, .real = NULL, .counter = counter, .low_res_nsec = 4000000};
}

#define EXPECT_TS(clk, counter, esec, ensec)                                                     \
    do {                                                                                         \
        struct tk_model_view v_ = view(counter);                                                 \
        struct timespec ts_ = {-1, -1};                                                          \
        enum tk_model_outcome o_ = tk_model_clock_gettime(&v_, clk, &ts_);                       \
        CHECK(o_ == TK_MODEL_OK && ts_.tv_sec == (time_t)(esec) && ts_.tv_nsec == (long)(ensec), \
              "clk %d counter %llu: %s {%lld, %ld}, expected {%lld, %ld}", (int)(clk),           \
              (unsigned long long)(counter), tk_model_outcome_name(o_), (long long)ts_.tv_sec,   \
              ts_.tv_nsec, (long long)(esec), (long)(ensec));                                    \
    } while (0)

#define EXPECT_OUTCOME(v, clk, expected)                                                          \
    do {                                                                                          \
        struct timespec ts_;                                                                      \
        enum tk_model_outcome o_ = tk_model_clock_gettime(v, clk, &ts_);                          \
        CHECK(o_ == (expected), "clk %d: %s, expected %s", (int)(clk), tk_model_outcome_name(o_), \
              tk_model_outcome_name(expected));                                                   \
    } while (0)

static void test_basic_and_negative(void)
{
    reset_pages();
    EXPECT_TS(VDSO_CLOCK_REALTIME, 1010, 100, 15);
    EXPECT_TS(VDSO_CLOCK_MONOTONIC, 1010, 200, 16);
    EXPECT_TS(VDSO_CLOCK_BOOTTIME, 1010, 300, 17);
    EXPECT_TS(VDSO_CLOCK_TAI, 1010, 137, 15);
    EXPECT_TS(VDSO_CLOCK_MONOTONIC_RAW, 1010, 400, 13); /* 8 + 10/2 */
    /* counter 10 behind cycle_last: clamped to the base */
    EXPECT_TS(VDSO_CLOCK_REALTIME, 990, 100, 5);
    EXPECT_TS(VDSO_CLOCK_MONOTONIC_RAW, 0, 400, 8);
    /* a mere counter does not move coarse clocks */
    EXPECT_TS(VDSO_CLOCK_REALTIME_COARSE, 123456789, 100, 4);
    EXPECT_TS(VDSO_CLOCK_MONOTONIC_COARSE, 1, 200, 999999999);
}

/* mult 2^32-1, shift 32: the 64-bit product wraps at max_cycles, the
 * 128-bit path above it does not. */
static void test_max_cycles_boundary(void)
{
    reset_pages();
    struct vdso_clock *c = &page.clock_data[0];
    c->cycle_last = 0;
    c->mult = UINT32_MAX;
    c->shift = 32;
    c->max_cycles = (1ull << 32) + 5;
    c->basetime[0] = (struct vdso_timestamp){10, 0};
    EXPECT_TS(0, (1ull << 32) + 4, 10, 2);         /* below: wrapped 64-bit */
    EXPECT_TS(0, (1ull << 32) + 5, 10, 3);         /* at: still 64-bit */
    EXPECT_TS(0, (1ull << 32) + 6, 14, 294967300); /* above: exact 128-bit */
    CHECK_EQ_U64(tk_model_calc_ns(c, (1ull << 32) + 6, 0), 4294967300ull);
}

/* delta > max_cycles with bit 62 clear but bit 63 set: delta & S64_MAX. */
static void test_delta_bit63(void)
{
    reset_pages();
    struct vdso_clock *c = &page.clock_data[0];
    c->cycle_last = 3ull << 61;
    c->mult = 1;
    c->shift = 0;
    c->max_cycles = 1000;
    c->basetime[0] = (struct vdso_timestamp){0, 3};
    /* delta = 5 - 3*2^61 = 2^63 + 2^61 + 5; masked: 2^61 + 5 */
    EXPECT_TS(0, 5, 2305843009ll, 213693960);
}

static void test_shift_0_and_32(void)
{
    reset_pages();
    struct vdso_clock *c = &page.clock_data[0];
    c->cycle_last = 100;
    c->mult = 3;
    c->shift = 0;
    c->basetime[0] = (struct vdso_timestamp){1, 10};
    EXPECT_TS(0, 107, 1, 31);
    c->mult = 1u << 31; /* half a ns per cycle */
    c->shift = 32;
    c->basetime[0] = (struct vdso_timestamp){1, 3ull << 30}; /* 0.75 ns */
    EXPECT_TS(0, 1101, 1, 501);                              /* 500.5 + 0.75 */
}

static void test_carry_and_wrap(void)
{
    reset_pages();
    struct vdso_clock *c = &page.clock_data[0];
    c->basetime[0] = (struct vdso_timestamp){100, 999999999ull << 24};
    EXPECT_TS(0, 1000, 100, 999999999);
    EXPECT_TS(0, 1001, 101, 0);
    EXPECT_TS(0, 1000 + 2000000001ull, 103, 0);
    /* seconds near 2^63: the u64 sum wraps into a negative tv_sec */
    c->basetime[0] = (struct vdso_timestamp){(uint64_t)INT64_MAX - 1, 999999999ull << 24};
    EXPECT_TS(0, 1001, INT64_MAX, 0);
    EXPECT_TS(0, 1000 + 1000000001ull, INT64_MIN, 0);
    /* the kernel's quotient is u32: 2^32 s of ns adds nothing to sec */
    c->cycle_last = 0;
    c->mult = 1000000000u;
    c->shift = 0;
    c->max_cycles = 0;
    c->basetime[0] = (struct vdso_timestamp){50, 7};
    EXPECT_TS(0, 1ull << 32, 50, 7);
}

static void setup_timens(struct timens_offset mono, struct timens_offset boot)
{
    real = page;
    memset(&page, 0, sizeof(page));
    for (int i = 0; i < 2; i++) {
        struct vdso_clock *c = &page.clock_data[i];
        c->seq = 1;
        c->clock_mode = VDSO_CLOCKMODE_TIMENS;
        c->offset[VDSO_CLOCK_MONOTONIC] = mono;
        c->offset[VDSO_CLOCK_MONOTONIC_RAW] = mono;
        c->offset[VDSO_CLOCK_MONOTONIC_COARSE] = mono;
        c->offset[VDSO_CLOCK_BOOTTIME] = boot;
        c->offset[VDSO_CLOCK_BOOTTIME_ALARM] = boot;
    }
}

static void expect_ns_ts(const struct tk_model_view *v, int32_t clk, int64_t sec, long nsec)
{
    struct timespec ts = {-1, -1};
    enum tk_model_outcome o = tk_model_clock_gettime(v, clk, &ts);

    CHECK(o == TK_MODEL_OK && ts.tv_sec == sec && ts.tv_nsec == nsec,
          "timens clk %d: %s {%lld, %ld}, expected {%lld, %ld}", clk, tk_model_outcome_name(o),
          (long long)ts.tv_sec, ts.tv_nsec, (long long)sec, nsec);
}

static void test_timens(void)
{
    reset_pages();
    /* +1000 s 500 ns; -4.3 s as {-5, 700000000} */
    setup_timens((struct timens_offset){1000, 500}, (struct timens_offset){-5, 700000000});
    struct tk_model_view v = {
        .page0 = &page, .real = &real, .counter = 1010, .low_res_nsec = 4000000};
    expect_ns_ts(&v, VDSO_CLOCK_REALTIME, 100, 15);
    expect_ns_ts(&v, VDSO_CLOCK_MONOTONIC, 1200, 516);
    expect_ns_ts(&v, VDSO_CLOCK_BOOTTIME, 295, 700000017);
    expect_ns_ts(&v, VDSO_CLOCK_MONOTONIC_RAW, 1400, 513);
    expect_ns_ts(&v, VDSO_CLOCK_MONOTONIC_COARSE, 1201, 499); /* 999999999 + 500 */
    expect_ns_ts(&v, VDSO_CLOCK_REALTIME_COARSE, 100, 4);
    expect_ns_ts(&v, VDSO_CLOCK_TAI, 137, 15);
    /* negative offset with a carry: BOOTTIME base 300 s 7 ns + 999999999 ns */
    page.clock_data[0].offset[VDSO_CLOCK_BOOTTIME] = (struct timens_offset){-300, 999999999};
    expect_ns_ts(&v, VDSO_CLOCK_BOOTTIME, 1, 16);
    /* page-level fields come from the real page */
    struct timespec res;
    CHECK(tk_model_clock_getres(&v, VDSO_CLOCK_MONOTONIC, &res) == TK_MODEL_OK && res.tv_nsec == 1,
          "timens getres %ld", res.tv_nsec);
    int64_t t = 0;
    CHECK(tk_model_time(&v, &t) == TK_MODEL_OK && t == 100, "timens time %lld", (long long)t);
    struct timezone tz = {0, 0};
    CHECK(tk_model_gettimeofday(&v, NULL, &tz) == TK_MODEL_OK && tz.tz_minuteswest == -60,
          "timens tz %d", tz.tz_minuteswest);
    /* a real page that is odd makes the reader wait; an absent one faults */
    real.clock_data[0].seq = 11;
    EXPECT_OUTCOME(&v, VDSO_CLOCK_MONOTONIC, TK_MODEL_SPIN);
    EXPECT_OUTCOME(&v, VDSO_CLOCK_MONOTONIC_RAW, TK_MODEL_OK);
    v.real = NULL;
    EXPECT_OUTCOME(&v, VDSO_CLOCK_MONOTONIC, TK_MODEL_FAULT);
    CHECK(tk_model_time(&v, &t) == TK_MODEL_FAULT, "time without the real page must fault");
}

static void test_clock_classes(void)
{
    reset_pages();
    struct tk_model_view v = view(1010);
    static const int32_t ok[] = {0, 1, 4, 5, 6, 7, 11};
    static const int32_t fallback[] = {2,  3,  8,  9,  10, 12, 13,      14,     15,
                                       16, 23, 24, 31, 32, -1, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        EXPECT_OUTCOME(&v, ok[i], TK_MODEL_OK);
    for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++)
        EXPECT_OUTCOME(&v, fallback[i], TK_MODEL_FALLBACK);
    /* an enabled aux clock: own base, own rate, slot 0 */
    struct vdso_clock *aux = &page.aux_clock_data[3];
    *aux = page.clock_data[0];
    aux->mult = 2u << 24;
    aux->basetime[0] = (struct vdso_timestamp){77, 1ull << 24};
    EXPECT_TS(VDSO_CLOCK_AUX + 3, 1010, 77, 21);
    /* in a namespace it is read from the real page, without offset */
    setup_timens((struct timens_offset){1000, 0}, (struct timens_offset){0, 0});
    page.aux_clock_data[3] = page.clock_data[0];
    struct tk_model_view vn = {.page0 = &page, .real = &real, .counter = 1010};
    struct timespec ts;
    CHECK(tk_model_clock_gettime(&vn, VDSO_CLOCK_AUX + 3, &ts) == TK_MODEL_OK && ts.tv_sec == 77 &&
              ts.tv_nsec == 21,
          "timens aux {%lld, %ld}", (long long)ts.tv_sec, ts.tv_nsec);
}

static void test_modes_and_seq(void)
{
    reset_pages();
    struct tk_model_view v = view(1010);
    for (int i = 0; i < 2; i++)
        page.clock_data[i].clock_mode = VDSO_CLOCKMODE_NONE;
    EXPECT_OUTCOME(&v, VDSO_CLOCK_MONOTONIC, TK_MODEL_FALLBACK);
    EXPECT_OUTCOME(&v, VDSO_CLOCK_MONOTONIC_RAW, TK_MODEL_FALLBACK);
    EXPECT_OUTCOME(&v, VDSO_CLOCK_MONOTONIC_COARSE, TK_MODEL_OK); /* no mode check */
    int32_t odd_modes[] = {VDSO_CLOCKMODE_MAX, 7, -1, VDSO_CLOCKMODE_TIMENS};
    for (size_t i = 0; i < 4; i++) {
        page.clock_data[0].clock_mode = odd_modes[i];
        EXPECT_OUTCOME(&v, VDSO_CLOCK_REALTIME, TK_MODEL_FALLBACK);
    }
    for (int32_t mode = VDSO_CLOCKMODE_TSC; mode <= VDSO_CLOCKMODE_HVCLOCK; mode++) {
        page.clock_data[0].clock_mode = mode;
        EXPECT_OUTCOME(&v, VDSO_CLOCK_REALTIME, TK_MODEL_OK);
    }
    v.counter = UINT64_MAX;
    EXPECT_OUTCOME(&v, VDSO_CLOCK_REALTIME, TK_MODEL_FALLBACK);
    v.counter = 1ull << 63;
    EXPECT_OUTCOME(&v, VDSO_CLOCK_REALTIME, TK_MODEL_FALLBACK);
    v.counter = 1010;
    page.clock_data[0].seq = 11;
    page.clock_data[1].clock_mode = VDSO_CLOCKMODE_TSC;
    EXPECT_OUTCOME(&v, VDSO_CLOCK_REALTIME, TK_MODEL_SPIN);
    EXPECT_OUTCOME(&v, VDSO_CLOCK_REALTIME_COARSE, TK_MODEL_SPIN);
    EXPECT_OUTCOME(&v, VDSO_CLOCK_MONOTONIC_RAW, TK_MODEL_OK); /* clock 1 is even */
    struct timeval tv;
    CHECK(tk_model_gettimeofday(&v, &tv, NULL) == TK_MODEL_SPIN, "gettimeofday on odd seq");
}

static void test_getres_gettimeofday_time(void)
{
    reset_pages();
    page.hrtimer_res = 4000000;
    struct tk_model_view v = view(1010);
    struct timespec res;
    static const struct {
        int32_t clk;
        enum tk_model_outcome o;
        long ns;
    } cases[] = {
        {0, TK_MODEL_OK, 4000000},  {1, TK_MODEL_OK, 4000000},  {4, TK_MODEL_OK, 4000000},
        {7, TK_MODEL_OK, 4000000},  {11, TK_MODEL_OK, 4000000}, {5, TK_MODEL_OK, 4000000},
        {6, TK_MODEL_OK, 4000000},  {16, TK_MODEL_OK, 1},       {23, TK_MODEL_OK, 1},
        {2, TK_MODEL_FALLBACK, 0},  {9, TK_MODEL_FALLBACK, 0},  {24, TK_MODEL_FALLBACK, 0},
        {-1, TK_MODEL_FALLBACK, 0},
    };
    v.low_res_nsec = 4000000;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        res.tv_sec = -1;
        res.tv_nsec = -1;
        enum tk_model_outcome o = tk_model_clock_getres(&v, cases[i].clk, &res);
        CHECK(o == cases[i].o &&
                  (o != TK_MODEL_OK || (res.tv_sec == 0 && res.tv_nsec == cases[i].ns)),
              "getres %d: %s %ld", cases[i].clk, tk_model_outcome_name(o), res.tv_nsec);
    }
    page.hrtimer_res = 1;
    v.low_res_nsec = 10000000;
    CHECK(tk_model_clock_getres(&v, 1, NULL) == TK_MODEL_OK, "NULL res");
    CHECK(tk_model_clock_getres(&v, 6, &res) == TK_MODEL_OK && res.tv_nsec == 10000000,
          "coarse res %ld", res.tv_nsec);
    /* A namespace-mode page 0 with no real page behind it: only the classes
     * that read hrtimer_res touch the absent page. */
    page.clock_data[0].clock_mode = VDSO_CLOCKMODE_TIMENS;
    CHECK(tk_model_clock_getres(&v, 1, &res) == TK_MODEL_FAULT, "hres getres reads page 1");
    CHECK(tk_model_clock_getres(&v, 5, &res) == TK_MODEL_OK, "coarse getres reads no page");
    CHECK(tk_model_clock_getres(&v, 16, &res) == TK_MODEL_OK, "aux getres reads no page");
    page.clock_data[0].clock_mode = VDSO_CLOCKMODE_TSC;

    struct timeval tv;
    struct timezone tz;
    page.clock_data[0].basetime[0] = (struct vdso_timestamp){100, 999999ull << 24};
    CHECK(tk_model_gettimeofday(&v, &tv, &tz) == TK_MODEL_OK && tv.tv_sec == 100 &&
              tv.tv_usec == 1000 && tz.tz_minuteswest == -60 && tz.tz_dsttime == 1,
          "gettimeofday {%lld, %ld} tz %d/%d", (long long)tv.tv_sec, (long)tv.tv_usec,
          tz.tz_minuteswest, tz.tz_dsttime); /* 999999 + 10 ns -> 1000 us */
    v.counter = 1000;
    CHECK(tk_model_gettimeofday(&v, &tv, NULL) == TK_MODEL_OK && tv.tv_usec == 999,
          "usec truncates: %ld", (long)tv.tv_usec);
    CHECK(tk_model_gettimeofday(&v, NULL, NULL) == TK_MODEL_OK, "both NULL");
    page.clock_data[0].clock_mode = VDSO_CLOCKMODE_NONE;
    CHECK(tk_model_gettimeofday(&v, &tv, &tz) == TK_MODEL_FALLBACK, "mode NONE falls back");
    CHECK(tk_model_gettimeofday(&v, NULL, &tz) == TK_MODEL_OK, "tz alone is served");
    int64_t t = 0;
    page.clock_data[0].seq = 13; /* time() reads no seq */
    CHECK(tk_model_time(&v, &t) == TK_MODEL_OK && t == 100, "time %lld", (long long)t);
}

int main(void)
{
    test_basic_and_negative();
    test_max_cycles_boundary();
    test_delta_bit63();
    test_shift_0_and_32();
    test_carry_and_wrap();
    test_timens();
    test_clock_classes();
    test_modes_and_seq();
    test_getres_gettimeofday_time();
    return check_finish();
}
