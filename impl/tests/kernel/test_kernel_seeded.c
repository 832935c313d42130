/*
 * The hermetic start: tk_constants_choose is a pure function of the seed
 * and keeps every constant in its documented range (non-zero TAI offset
 * and tz with distinct fields, a non-zero fraction, an epoch in range); a
 * seeded timekeeper publishes those constants (moved off the host's where
 * they collided), every one unlike this host's value; and its writer
 * varies the state as the constants ask: several shifts and mults, both
 * resolution profiles, a boot offset that grows, bases with fractional
 * bits, and MONOTONIC through the pages never going back.
 */
#define _GNU_SOURCE
#include "../check.h"
#include "tk_test.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/timex.h>

#define SEC_PER_YEAR 31556952ll
#define NSEEDS       256
#define RUN_NS       300000000ll /* the writer's run: many ticks at WRITER_HZ */
#define WRITER_HZ    1000

static void check_ranges(uint64_t seed)
{
    struct tk_constants a, b;

    tk_constants_choose(seed, &a);
    tk_constants_choose(seed, &b);
    CHECK(memcmp(&a, &b, sizeof(a)) == 0, "seed %llu: two choices differ",
          (unsigned long long)seed);
    CHECK(a.tai_offset != 0 && a.tz_minuteswest != 0, "seed %llu: tai %d tz %d",
          (unsigned long long)seed, a.tai_offset, a.tz_minuteswest);
    CHECK(a.tz_dsttime >= 1 && a.tz_dsttime <= 6 && a.tz_dsttime != a.tz_minuteswest,
          "seed %llu: dsttime %d", (unsigned long long)seed, a.tz_dsttime);
    CHECK(a.frac != 0, "seed %llu: fraction 0", (unsigned long long)seed);
    /* 1980 to 2200: int64 nanoseconds and every era's 64-bit seconds hold it. */
    CHECK(a.realtime.tv_sec >= 10 * SEC_PER_YEAR && a.realtime.tv_sec < 230 * SEC_PER_YEAR,
          "seed %llu: epoch %lld", (unsigned long long)seed, (long long)a.realtime.tv_sec);
    CHECK(a.monotonic.tv_sec >= 3600 && a.boot_offset.tv_sec >= 60 &&
              ts_diff_ns(&a.monotonic, &a.raw) >= 0,
          "seed %llu: uptime %lld, boot offset %lld", (unsigned long long)seed,
          (long long)a.monotonic.tv_sec, (long long)a.boot_offset.tv_sec);
    CHECK(a.slew_ppm > 0 && a.shift_drop > 0 && a.low_res_every >= 2 && a.sleep_every > 0 &&
              a.sleep_max_ns > 0,
          "seed %llu: per-state variation off", (unsigned long long)seed);
}

static void check_choices(void)
{
    struct tk_constants a, b;
    unsigned near_2038 = 0;

    for (uint64_t seed = 0; seed < NSEEDS; seed++) {
        check_ranges(seed);
        tk_constants_choose(seed, &a);
        near_2038 += a.realtime.tv_sec >= INT32_MAX - 10 && a.realtime.tv_sec <= INT32_MAX;
    }
    tk_constants_choose(1, &a);
    tk_constants_choose(2, &b);
    CHECK(a.realtime.tv_sec != b.realtime.tv_sec, "seeds 1 and 2 chose the same epoch");
    CHECK(near_2038 > 0, "no seed of %d starts before 2^31", NSEEDS);
}

/* The constants the timekeeper kept differ from what this host says. */
static void check_unlike_host(const struct tk_constants *c)
{
    struct timespec rt, mono, boot;
    struct timeval tv;
    struct timezone tz;
    struct timex tx = {0};

    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_BOOTTIME, &boot);
    gettimeofday(&tv, &tz);
    adjtimex(&tx);
    CHECK(llabs((long long)(c->realtime.tv_sec - rt.tv_sec)) > 5 * SEC_PER_YEAR,
          "epoch %lld within 5 years of the host's %lld", (long long)c->realtime.tv_sec,
          (long long)rt.tv_sec);
    CHECK(llabs((long long)(c->monotonic.tv_sec - mono.tv_sec)) > 60, "uptime like the host's");
    struct timespec host_boot = ts_sub(boot, mono);
    CHECK(llabs((long long)(c->boot_offset.tv_sec - host_boot.tv_sec)) > 1,
          "boot offset like the host's");
    CHECK(c->tai_offset != tx.tai, "TAI offset %d is the host's", c->tai_offset);
    CHECK(c->tz_minuteswest != tz.tz_minuteswest && c->tz_dsttime != tz.tz_dsttime,
          "tz {%d, %d} shares a field with the host's {%d, %d}", c->tz_minuteswest, c->tz_dsttime,
          tz.tz_minuteswest, tz.tz_dsttime);
}

/* The first published state is the constants. */
static void check_start(struct vdso_datapages *dp, const struct tk_constants *c)
{
    const struct vdso_time_data *td = datapages_time(dp);
    const struct vdso_clock *c0 = &td->clock_data[0];

    CHECK_EQ_I64(td->tz_minuteswest, c->tz_minuteswest);
    CHECK_EQ_I64(td->tz_dsttime, c->tz_dsttime);
    CHECK_EQ_U64(td->hrtimer_res, 1);
    CHECK_EQ_I64(
        (int64_t)(c0->basetime[VDSO_CLOCK_TAI].sec - c0->basetime[VDSO_CLOCK_REALTIME].sec),
        c->tai_offset);
    /* The start state is at most the calibration's few ms past the constants. */
    CHECK(c0->basetime[VDSO_CLOCK_REALTIME].sec - (uint64_t)c->realtime.tv_sec <= 1,
          "REALTIME base %llu, constant %lld",
          (unsigned long long)c0->basetime[VDSO_CLOCK_REALTIME].sec, (long long)c->realtime.tv_sec);
    uint64_t frac_mask = (1ull << c0->shift) - 1;
    CHECK((c0->basetime[VDSO_CLOCK_REALTIME].nsec & frac_mask) != 0,
          "REALTIME base without a fraction below the ns");
}

struct seen {
    uint32_t shifts, mults, fine, coarse;
    uint32_t shift[2], mult[2];
    int64_t boot0, boot1;
    struct timespec last_mono;
};

static int64_t boot_offset_ns(const struct vdso_clock *c0)
{
    const struct vdso_timestamp *b = &c0->basetime[VDSO_CLOCK_BOOTTIME];
    const struct vdso_timestamp *m = &c0->basetime[VDSO_CLOCK_MONOTONIC];

    return ((int64_t)b->sec - (int64_t)m->sec) * NSEC_PER_SEC + (int64_t)(b->nsec >> c0->shift) -
           (int64_t)(m->nsec >> c0->shift);
}

static void note_state(struct seen *s, const struct vdso_time_data *d, uint64_t counter,
                       uint32_t tick)
{
    const struct vdso_clock *c0 = &d->clock_data[0];

    if (s->shifts < 2 && (s->shifts == 0 || s->shift[0] != c0->shift))
        s->shift[s->shifts++] = c0->shift;
    if (s->mults < 2 && (s->mults == 0 || s->mult[0] != c0->mult))
        s->mult[s->mults++] = c0->mult;
    s->fine += d->hrtimer_res == 1;
    s->coarse += d->hrtimer_res == tick;
    s->boot1 = boot_offset_ns(c0);
    struct tk_model_view v = {.page0 = d, .counter = counter};
    struct timespec m;
    if (tk_model_clock_gettime(&v, VDSO_CLOCK_MONOTONIC, &m) == TK_MODEL_OK) {
        CHECK(ts_diff_ns(&m, &s->last_mono) >= 0, "MONOTONIC went back by %lld ns",
              (long long)-ts_diff_ns(&m, &s->last_mono));
        s->last_mono = m;
    }
}

static void check_writer(struct timekeeper *tk, struct vdso_datapages *dp)
{
    struct seen s = {0};
    struct vdso_time_data d;
    uint64_t counter;
    struct timespec start, now;

    snapshot_page(datapages_time(dp), &d, tk_counter_fn, tk, &counter);
    s.boot0 = boot_offset_ns(&d.clock_data[0]);
    CHECK(tk_writer_start_seeded(tk, WRITER_HZ) == 0, "seeded writer");
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        snapshot_page(datapages_time(dp), &d, tk_counter_fn, tk, &counter);
        note_state(&s, &d, counter, tk_low_res_nsec(tk));
        struct timespec nap = {0, 200000};
        nanosleep(&nap, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (ts_diff_ns(&now, &start) < RUN_NS);
    int64_t ticks = tk_writer_stop(tk);
    printf("%lld ticks; shifts %u %u, mults %u %u; %u fine and %u low-resolution samples; boot "
           "offset %lld -> %lld ns\n",
           (long long)ticks, s.shift[0], s.shift[1], s.mult[0], s.mult[1], s.fine, s.coarse,
           (long long)s.boot0, (long long)s.boot1);
    CHECK(s.shifts == 2 && s.mults == 2, "the shift or the mult never changed");
    CHECK(s.fine > 0 && s.coarse > 0, "one resolution profile only");
    CHECK(s.boot1 > s.boot0, "the boot offset did not grow");
}

int main(void)
{
    struct vdso_datapages dp;
    struct timekeeper *tk;
    struct tk_constants c;

    check_choices();
    if (datapages_create(&dp) != 0)
        SKIP("memfd_create failed");
    tk_constants_choose(7, &c);
    int err = tk_init_seeded(&tk, &dp, TK_COUNTER_TSC, 20, &c);
    CHECK(err == 0, "tk_init_seeded %d", err);
    if (!err) {
        const struct tk_constants *kept = tk_constants_of(tk);
        CHECK(kept != NULL, "no constants kept");
        if (kept) {
            check_unlike_host(kept);
            check_start(&dp, kept);
        }
        check_writer(tk, &dp);
        tk_destroy(tk);
    }
    CHECK(tk_init_seeded(&tk, &dp, TK_COUNTER_TSC, 20, NULL) == -EINVAL, "NULL constants");
    datapages_destroy(&dp);
    return check_finish();
}
