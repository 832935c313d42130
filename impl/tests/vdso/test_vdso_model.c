/*
 * The hosted reference vDSO against the 128-bit model (vdsokit/tk_model.h)
 * on random states: every clock id in [-20, 40] plus INT_MIN and INT_MAX,
 * gettimeofday with and without tz, time, clock_getres with and without
 * res. States mix every clock mode (and unknown ones), the root and the
 * time-namespace layouts with signed offsets, random mult/shift/max_cycles
 * (shift counts beyond 63 included), counters on both sides of cycle_last
 * and bases near the u64 limits. Where the model says OK both must agree bit
 * for bit; FALLBACK must be a syscall with the same number; SPIN and FAULT
 * states are not generated. Deterministic: `test_vdso_model [seed] [states]`.
 */
#include <limits.h>
#include <stdbool.h>
#include <vdsokit/tk_model.h>
#include <vdsokit/vdso_hosted.h>

#include "vdso_test_states.h"

static struct test_pages pg;
static struct state_gen gen = {.pg = &pg};
static unsigned long compared[4];

static uint64_t hook_tsc(void *ctx)
{
    return gen.tsc;
}

static bool fell_back(unsigned long before, long nr)
{
    return vdso_hosted_fallback_count() == before + 1 && vdso_hosted_last_fallback_nr() == nr;
}

static void compare_gettime(const struct tk_model_view *v, int32_t clk, uint64_t state)
{
    struct timespec want = {0, 0};
    struct vdso_timespec got = {-1, -1};
    enum tk_model_outcome o = tk_model_clock_gettime(v, clk, &want);

    unsigned long before = vdso_hosted_fallback_count();
    int rc = vdso_hosted_clock_gettime(clk, &got);

    compared[o]++;
    if (o == TK_MODEL_OK)
        CHECK(rc == 0 && got.tv_sec == (int64_t)want.tv_sec && got.tv_nsec == want.tv_nsec,
              "state %" PRIu64 " clock %d: rc %d {%" PRId64 ", %" PRId64 "}, model {%" PRId64
              ", %ld}",
              state, clk, rc, got.tv_sec, got.tv_nsec, (int64_t)want.tv_sec, want.tv_nsec);
    else if (o == TK_MODEL_FALLBACK)
        CHECK(rc == VDSO_HOSTED_FALLBACK && fell_back(before, VDSO_NR_CLOCK_GETTIME),
              "state %" PRIu64 " clock %d: rc %d, model falls back", state, clk, rc);
}

static void compare_getres(const struct tk_model_view *v, int32_t clk, bool with_res,
                           uint64_t state)
{
    struct timespec want = {0, 0};
    struct vdso_timespec got = {-1, -1};
    enum tk_model_outcome o = tk_model_clock_getres(v, clk, with_res ? &want : NULL);

    unsigned long before = vdso_hosted_fallback_count();
    int rc = vdso_hosted_clock_getres(clk, with_res ? &got : NULL);

    if (o == TK_MODEL_OK)
        CHECK(rc == 0 && (!with_res || (got.tv_sec == 0 && got.tv_nsec == want.tv_nsec)),
              "state %" PRIu64 " getres %d: rc %d %" PRId64 ", model %ld", state, clk, rc,
              got.tv_nsec, want.tv_nsec);
    else if (o == TK_MODEL_FALLBACK)
        CHECK(rc == VDSO_HOSTED_FALLBACK && fell_back(before, VDSO_NR_CLOCK_GETRES),
              "state %" PRIu64 " getres %d: rc %d, model falls back", state, clk, rc);
}

static void compare_page_level(const struct tk_model_view *v, uint64_t state)
{
    for (int mask = 0; mask < 4; mask++) {
        struct timeval wtv = {0, 0};
        struct timezone wtz = {0, 0};
        struct vdso_timeval gtv = {-1, -1};
        struct vdso_timezone gtz = {-1, -1};
        bool tv = mask & 1, tz = mask & 2;
        enum tk_model_outcome o = tk_model_gettimeofday(v, tv ? &wtv : NULL, tz ? &wtz : NULL);
        unsigned long before = vdso_hosted_fallback_count();
        int rc = vdso_hosted_gettimeofday(tv ? &gtv : NULL, tz ? &gtz : NULL);

        if (o == TK_MODEL_OK)
            CHECK(rc == 0 && (!tv || (gtv.tv_sec == wtv.tv_sec && gtv.tv_usec == wtv.tv_usec)) &&
                      (!tz || (gtz.tz_minuteswest == wtz.tz_minuteswest &&
                               gtz.tz_dsttime == wtz.tz_dsttime)),
                  "state %" PRIu64 " gettimeofday(%d,%d): rc %d {%" PRId64 ", %" PRId64
                  "} tz {%d, %d}, model {%ld, %ld} {%d, %d}",
                  state, tv, tz, rc, gtv.tv_sec, gtv.tv_usec, gtz.tz_minuteswest, gtz.tz_dsttime,
                  (long)wtv.tv_sec, (long)wtv.tv_usec, wtz.tz_minuteswest, wtz.tz_dsttime);
        else if (o == TK_MODEL_FALLBACK)
            CHECK(rc == VDSO_HOSTED_FALLBACK && fell_back(before, VDSO_NR_GETTIMEOFDAY),
                  "state %" PRIu64 " gettimeofday(%d,%d): rc %d, model falls back", state, tv, tz,
                  rc);
    }
    int64_t want = 0, got = 1, ret;
    if (tk_model_time(v, &want) == TK_MODEL_OK) {
        ret = vdso_hosted_time(&got);
        CHECK(ret == want && got == want,
              "state %" PRIu64 " time: %" PRId64 "/%" PRId64 ", model %" PRId64, state, ret, got,
              want);
    }
}

int main(int argc, char **argv)
{
    struct vdso_hosted_hooks hooks = {.read_tsc = hook_tsc};
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5eed;
    uint64_t states = argc > 2 ? strtoull(argv[2], NULL, 0) : 20000;

    if (tp_create_at(&pg, NULL) != 0)
        SKIP("cannot map six pages");
    vdso_hosted_set_pages(pg.base);
    vdso_hosted_set_hooks(&hooks);
    gen.rng = seed;

    for (uint64_t s = 0; s < states; s++) {
        struct tk_model_view view;
        bool timens = rnd(&gen) % 3 == 0;

        /* Root layout: page 1 is unreadable, as the kernel's. */
        tp_protect(&pg, VDSO_TIMENS_PAGE, 1);
        random_state(&gen, timens, &view);
        if (!timens)
            tp_protect(&pg, VDSO_TIMENS_PAGE, 0);
        for (int32_t clk = -20; clk <= 40; clk++) {
            compare_gettime(&view, clk, s);
            compare_getres(&view, clk, rnd(&gen) % 2, s);
        }
        compare_gettime(&view, INT_MIN, s);
        compare_gettime(&view, INT_MAX, s);
        compare_getres(&view, INT_MIN, true, s);
        compare_getres(&view, INT_MAX, false, s);
        compare_page_level(&view, s);
        if (check_failed > 20)
            break;
    }
    printf("seed 0x%" PRIx64 ", %" PRIu64 " states: clock_gettime compared %lu ok, %lu fallback, "
           "%lu spin, %lu fault\n",
           seed, states, compared[TK_MODEL_OK], compared[TK_MODEL_FALLBACK],
           compared[TK_MODEL_SPIN], compared[TK_MODEL_FAULT]);
    CHECK(compared[TK_MODEL_SPIN] == 0 && compared[TK_MODEL_FAULT] == 0,
          "the generator must not produce states a reader waits on or faults in");
    vdso_hosted_set_hooks(NULL);
    tp_destroy(&pg);
    return check_finish();
}
