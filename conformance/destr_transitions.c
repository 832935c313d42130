/*
 * REALTIME steps, NTP frequency, offset and tick, TAI and tz transitions
 * (destr_kinds.h). Each value set is checked on the first target call after
 * the setting syscall returned; the readers check every call meanwhile.
 */
#define _GNU_SOURCE
#include "destr_kinds.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "destr_trap.h"
#include "oracle.h"

#define PPM_500  (500L << 16) /* adjtimex freq: ppm with 16 fractional bits */
#define DAY_NS   (86400 * NSEC_PER_SEC)
#define Y2038_NS ((INT64_C(1) << 31) * NSEC_PER_SEC) /* 32-bit time_t ends here */

static int64_t realtime_ns(void)
{
    struct timespec ts;

    dt_clock_gettime(CLOCK_REALTIME, &ts);
    return ts_ns(&ts);
}

static bool step_to(struct destr_driver *d, int64_t ns, const char *what)
{
    return destr_set_realtime(d, ns, what) && destr_settle(d);
}

static void dwell_ms(struct destr_driver *d, long ms)
{
    usleep((useconds_t)ms * 1000);
    destr_settle(d);
}

void destr_kind_step(struct destr_driver *d)
{
    static const struct {
        const char *what;
        int64_t delta;
    } rel[] = {{"+1 ms", NSEC_PER_MSEC},      {"-1 ms", -NSEC_PER_MSEC},
               {"+1 h", 3600 * NSEC_PER_SEC}, {"-1 h", -3600 * NSEC_PER_SEC},
               {"+365 d", 365 * DAY_NS},      {"-365 d", -365 * DAY_NS}};
    bool ok = true;

    for (unsigned i = 0; ok && i < sizeof(rel) / sizeof(rel[0]); i++)
        ok = step_to(d, realtime_ns() + rel[i].delta, rel[i].what);
    /* Over a second boundary forward, then back, each landing 20 us before the next one. */
    int64_t s = realtime_ns() / NSEC_PER_SEC;
    ok = ok && step_to(d, (s + 2) * NSEC_PER_SEC - 20000, "forward over a second boundary");
    s = realtime_ns() / NSEC_PER_SEC;
    ok = ok && step_to(d, (s - 1) * NSEC_PER_SEC - 20000, "back over a second boundary");
    /* Half a second before 2^31 s, and dwell past it. */
    if (ok && step_to(d, Y2038_NS - NSEC_PER_SEC / 2, "to 0.5 s before 2^31 s"))
        dwell_ms(d, 700);
    destr_set_realtime(d, destr_true_realtime(d), "back to the true time");
    destr_settle(d);
}

static void set_freq(struct destr_driver *d, long freq, const char *what)
{
    destr_adjtimex(d, (struct timex){.modes = ADJ_FREQUENCY, .freq = freq}, what);
    dwell_ms(d, 100);
}

void destr_kind_frequency(struct destr_driver *d)
{
    set_freq(d, PPM_500, "frequency +500 ppm");
    set_freq(d, -PPM_500, "frequency -500 ppm");
    set_freq(d, d->tx0.freq, "frequency back");
}

static void set_offset(struct destr_driver *d, unsigned modes, long us, const char *what)
{
    destr_adjtimex(d, (struct timex){.modes = modes, .offset = us}, what);
    dwell_ms(d, 200);
}

void destr_kind_offset(struct destr_driver *d)
{
    int plain = d->tx0.status & ~STA_RONLY;

    /* The PLL's offset slew (the offset only counts with STA_PLL)... */
    destr_adjtimex(d, (struct timex){.modes = ADJ_STATUS, .status = plain | STA_PLL}, "PLL on");
    set_offset(d, ADJ_OFFSET | ADJ_MICRO, 400000, "PLL offset +0.4 s");
    set_offset(d, ADJ_OFFSET | ADJ_MICRO, -400000, "PLL offset -0.4 s");
    set_offset(d, ADJ_OFFSET | ADJ_MICRO, 0, "PLL offset 0");
    destr_adjtimex(d, (struct timex){.modes = ADJ_STATUS, .status = plain}, "PLL off");
    set_freq(d, d->tx0.freq, "frequency back after the PLL");
    /* ...and adjtime()'s single-shot slew. */
    set_offset(d, ADJ_OFFSET_SINGLESHOT, 100000, "adjtime +0.1 s");
    set_offset(d, ADJ_OFFSET_SINGLESHOT, -100000, "adjtime -0.1 s");
    set_offset(d, ADJ_OFFSET_SINGLESHOT, 0, "adjtime cancelled");
}

static void set_tick(struct destr_driver *d, long tick, const char *what)
{
    destr_adjtimex(d, (struct timex){.modes = ADJ_TICK, .tick = tick}, what);
    dwell_ms(d, 100);
}

void destr_kind_tick(struct destr_driver *d)
{
    long t0 = d->tx0.tick;

    set_tick(d, t0 + t0 / 100, "tick +1%");
    set_tick(d, t0 - t0 / 100, "tick -1%");
    set_tick(d, t0, "tick back");
}

/* The first CLOCK_TAI call after ADJ_TAI returned: REALTIME plus the offset set. */
static void first_tai(struct destr_driver *d, long tai)
{
    struct timespec s1, s2, v = {-1, -1};

    dt_clock_gettime(CLOCK_REALTIME, &s1);
    int ret = d->sh->target->fn.clock_gettime(CLOCK_TAI, &v);
    dt_clock_gettime(CLOCK_REALTIME, &s2);
    int64_t off = tai * NSEC_PER_SEC;
    if (ret != 0 || ts_ns(&v) < ts_ns(&s1) + off || ts_ns(&v) > ts_ns(&s2) + off)
        conf_fail(d->ctx,
                  "TAI offset set to %ld s: the first clock_gettime(TAI) after gave %d, "
                  "%lld.%09ld; REALTIME around it %lld.%09ld .. %lld.%09ld",
                  tai, ret, (long long)v.tv_sec, v.tv_nsec, (long long)s1.tv_sec, s1.tv_nsec,
                  (long long)s2.tv_sec, s2.tv_nsec);
}

static void set_tai(struct destr_driver *d, long tai)
{
    struct timex tx = {.modes = ADJ_TAI, .constant = tai};

    destr_begin(d->sh);
    int r = adjtimex(&tx);
    int e = errno;
    atomic_store(&d->sh->tai, tai);
    destr_end(d->sh);
    d->transitions++;
    if (r < 0) {
        conf_fail(d->ctx, "adjtimex (ADJ_TAI %ld): %s", tai, strerror(e));
        return;
    }
    first_tai(d, tai);
    destr_settle(d);
}

void destr_kind_tai(struct destr_driver *d)
{
    const long t0 = d->tx0.tai, values[] = {t0 + 10, 0, t0 + 1000, t0};

    for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]) && !d->aborted; i++)
        set_tai(d, values[i]);
}

static void set_tz(struct destr_driver *d, struct timezone tz)
{
    struct timeval tv;
    struct timezone got = {-12345, -12345};

    destr_begin(d->sh);
    long r = syscall(SYS_settimeofday, NULL, &tz);
    int e = errno;
    atomic_store(&d->sh->tz_min, tz.tz_minuteswest);
    atomic_store(&d->sh->tz_dst, tz.tz_dsttime);
    destr_end(d->sh);
    d->transitions++;
    if (r != 0) {
        conf_fail(d->ctx, "settimeofday (tz %d/%d): %s", tz.tz_minuteswest, tz.tz_dsttime,
                  strerror(e));
        return;
    }
    int ret = d->sh->target->fn.gettimeofday(&tv, &got);
    if (ret != 0 || got.tz_minuteswest != tz.tz_minuteswest || got.tz_dsttime != tz.tz_dsttime)
        conf_fail(d->ctx, "tz set to %d/%d: the first gettimeofday after gave %d, tz %d/%d",
                  tz.tz_minuteswest, tz.tz_dsttime, ret, got.tz_minuteswest, got.tz_dsttime);
    destr_settle(d);
}

void destr_kind_tz(struct destr_driver *d)
{
    struct timezone tz0;

    dt_gettimeofday(NULL, &tz0);
    /* 0/0 first: the kernel's first tz-only settimeofday would otherwise warp
     * REALTIME by minuteswest (a clock kept in local time). */
    const struct timezone values[] = {{0, 0}, {-60, 0}, {300, 1}, {900, 0}, {-900, 1}, tz0};
    for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]) && !d->aborted; i++)
        set_tz(d, values[i]);
}
