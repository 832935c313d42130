/*
 * Frequency slews keep MONOTONIC continuous and change its rate by exactly
 * the slew: deterministically on a manual counter (the state before and
 * after the slew agree at the slew point to the nanosecond, and one counted
 * second then lasts 1 s * (1 + ppm/1e6) on MONOTONIC but 1 s on RAW), and on
 * the real TSC (before/after states from the log agree at the new
 * cycle_last within 1 ns).
 */
#include "../check.h"
#include "tk_test.h"

#define BASE_MULT (1u << 24) /* test_script(): one mult unit is 1/2^24 of the rate */

static struct timespec model_at(const struct vdso_time_data *d, uint64_t counter, int32_t clk)
{
    struct tk_model_view v = {.page0 = d, .counter = counter};
    struct timespec ts = {0, 0};
    enum tk_model_outcome o = tk_model_clock_gettime(&v, clk, &ts);

    CHECK(o == TK_MODEL_OK, "clock %d: %s", clk, tk_model_outcome_name(o));
    return ts;
}

static int64_t model_ns(const struct vdso_time_data *d, uint64_t counter, int32_t clk)
{
    struct timespec ts = model_at(d, counter, clk);

    return ts_ns(&ts);
}

static void newest_state(struct timekeeper *tk, struct vdso_time_data *out)
{
    static struct tk_log_entry e;
    uint64_t g = tk_generation(tk);

    CHECK(tk_log_copy(tk, g, g, &e, 1) == 1, "log has generation %llu", (unsigned long long)g);
    *out = e.data;
}

static void slew_manual(struct timekeeper *tk, int32_t ppm)
{
    static struct vdso_time_data before, after;

    tk_advance_counter(tk, 123456789);
    uint64_t c = tk_read_counter(tk);
    newest_state(tk, &before);
    CHECK(tk_slew_ppm(tk, ppm) == 0, "slew %d", ppm);
    newest_state(tk, &after);
    int64_t step =
        model_ns(&after, c, VDSO_CLOCK_MONOTONIC) - model_ns(&before, c, VDSO_CLOCK_MONOTONIC);
    CHECK(step == 0, "slew %+d ppm: MONOTONIC stepped %lld ns at the slew point", ppm,
          (long long)step);
    step = model_ns(&after, c, VDSO_CLOCK_BOOTTIME) - model_ns(&before, c, VDSO_CLOCK_BOOTTIME);
    CHECK(step == 0, "slew %+d ppm: BOOTTIME stepped %lld ns", ppm, (long long)step);

    const uint64_t second = 1000000000;
    tk_advance_counter(tk, second);
    tk_accumulate(tk); /* accumulation at the new rate must agree too */
    static struct vdso_time_data later;
    newest_state(tk, &later);
    int64_t mono = model_ns(&later, c + second, VDSO_CLOCK_MONOTONIC) -
                   model_ns(&after, c, VDSO_CLOCK_MONOTONIC);
    int64_t raw = model_ns(&later, c + second, VDSO_CLOCK_MONOTONIC_RAW) -
                  model_ns(&after, c, VDSO_CLOCK_MONOTONIC_RAW);
    /* exact for the published mult; within half a mult unit of the ideal */
    const struct vdso_clock *c0 = &after.clock_data[0];
    int64_t exact = (int64_t)((second * c0->mult) >> c0->shift);
    int64_t ideal = (int64_t)second + (int64_t)second * ppm / 1000000;
    int64_t unit = (int64_t)(second / 2 / BASE_MULT);
    CHECK(mono >= exact - 1 && mono <= exact + 1,
          "slew %+d ppm: 1 s of counter gave %lld ns of MONOTONIC, mult %u says %lld", ppm,
          (long long)mono, c0->mult, (long long)exact);
    CHECK(mono >= ideal - unit - 1 && mono <= ideal + unit + 1,
          "slew %+d ppm: %lld ns of MONOTONIC, ideal %lld +- %lld", ppm, (long long)mono,
          (long long)ideal, (long long)unit);
    CHECK_EQ_I64(raw, second);
    int64_t predicted = model_ns(&after, c + second, VDSO_CLOCK_MONOTONIC) -
                        model_ns(&later, c + second, VDSO_CLOCK_MONOTONIC);
    CHECK(predicted >= -1 && predicted <= 1,
          "slew %+d ppm: reader and accumulation disagree by %lld ns", ppm, (long long)predicted);
    printf("manual counter, slew %+5d ppm: step 0 ns, 1 s -> %lld ns MONOTONIC, %lld ns RAW\n", ppm,
           (long long)mono, (long long)raw);
}

static void slew_tsc(struct timekeeper *tk, int32_t ppm)
{
    static struct vdso_time_data before, after;

    newest_state(tk, &before);
    tk_slew_ppm(tk, ppm);
    newest_state(tk, &after);
    uint64_t c = after.clock_data[0].cycle_last;
    int64_t step =
        model_ns(&after, c, VDSO_CLOCK_MONOTONIC) - model_ns(&before, c, VDSO_CLOCK_MONOTONIC);
    CHECK(step >= -1 && step <= 1, "TSC slew %+d ppm: MONOTONIC stepped %lld ns", ppm,
          (long long)step);
    uint64_t cycles = 1000000000; /* compare rates over 10^9 cycles */
    int64_t d_after = model_ns(&after, c + cycles, VDSO_CLOCK_MONOTONIC) -
                      model_ns(&after, c, VDSO_CLOCK_MONOTONIC);
    int64_t d_raw = model_ns(&after, c + cycles, VDSO_CLOCK_MONOTONIC_RAW) -
                    model_ns(&after, c, VDSO_CLOCK_MONOTONIC_RAW);
    double measured_ppm = ((double)d_after / (double)d_raw - 1.0) * 1e6;
    printf("TSC, slew %+5d ppm: step %lld ns, MONOTONIC/RAW rate %+.3f ppm\n", ppm, (long long)step,
           measured_ppm);
    /* the base mono rate differs from raw by the host's own NTP frequency */
    CHECK(measured_ppm > ppm - 100 && measured_ppm < ppm + 100, "rate %+.3f ppm vs slew %+d",
          measured_ppm, ppm);
}

int main(void)
{
    struct vdso_datapages dp;

    if (datapages_create(&dp) != 0)
        SKIP("memfd_create failed");
    struct tk_script s = test_script();
    struct timekeeper *tk;
    int err = tk_init_scripted(&tk, &dp, &s);
    CHECK(err == 0, "tk_init_scripted: %d", err);
    if (err)
        return check_finish();
    slew_manual(tk, 500);
    slew_manual(tk, -500);
    slew_manual(tk, 0);
    slew_manual(tk, 123);
    tk_destroy(tk);

    err = tk_init_host(&tk, &dp, TK_COUNTER_TSC, 20);
    CHECK(err == 0, "tk_init_host: %d", err);
    if (!err) {
        slew_tsc(tk, 500);
        slew_tsc(tk, -500);
        slew_tsc(tk, 0);
        tk_destroy(tk);
    }
    datapages_destroy(&dp);
    return check_finish();
}
