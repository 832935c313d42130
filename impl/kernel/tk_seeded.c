/*
 * The hermetic emulated kernel's constants and its varying tick. A seed
 * picks every constant (epoch, uptime, boot offset, raw clock, the bases'
 * fraction below the nanosecond, TAI offset, timezone) and how each tick
 * varies the state (slew, a coarser shift, the low-resolution profile,
 * suspends), so that a target that takes any of them from elsewhere, or
 * rounds differently, gives a wrong answer. The choice is a pure function
 * of the seed; only a value that happens to equal the host's is moved.
 * The writer's extra state per tick is one hand-made update of public
 * operations whose seq turns odd before the counter is read.
 */
#include "tk_internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define SEC_PER_YEAR      31556952ll /* the mean Gregorian year */
#define SEC_PER_DAY       86400ll
#define EPOCH_AWAY_YEARS  5ll   /* an epoch closer to the host's than this is moved ... */
#define EPOCH_MOVE_YEARS  60ll  /* ... by this much */
#define EPOCH_LAST_YEAR   230ll /* years after 1970 kept in range: int64 ns end in 2262 */
#define NEAR_BOUNDARY_SEC 8     /* the 32-bit epochs start this close to their boundary */

static const int32_t tai_choices[] = {37, 36, 35, 34, 33, 32, 27, 10};
/* minuteswest of real zones (all non-zero); dsttime is a DST_* rule 1-6. */
static const int32_t tz_choices[] = {-60, -120, 300, 480, -330, -540, 180, -600, 240, 420, -345};
#define NTAI (sizeof(tai_choices) / sizeof(tai_choices[0]))
#define NTZ  (sizeof(tz_choices) / sizeof(tz_choices[0]))
#define NDST 6

/* splitmix64: every draw from one 64-bit state. */
uint64_t tk_seed_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t draw(uint64_t *rng, uint64_t n)
{
    return tk_seed_next(rng) % n;
}

static struct timespec ts_sec_ns(int64_t sec, uint64_t *rng)
{
    return (struct timespec){.tv_sec = sec, .tv_nsec = (long)draw(rng, NSEC_PER_SEC)};
}

/*
 * REALTIME at the start: one seed in eight starts seconds before 2^31 (the
 * 32-bit time_t end, crossed during the run; every x86-64 era keeps 64-bit
 * seconds), one before 2^32; the rest anywhere in 1980-2014 or 2045-2199.
 */
static int64_t choose_epoch(uint64_t *rng)
{
    uint64_t kind = draw(rng, 8);

    if (kind == 0)
        return INT32_MAX - (int64_t)draw(rng, NEAR_BOUNDARY_SEC);
    if (kind == 1)
        return (int64_t)UINT32_MAX - (int64_t)draw(rng, NEAR_BOUNDARY_SEC);
    bool past = draw(rng, 2);
    int64_t first = past ? 10 : 75, years = past ? 35 : 155;
    return first * SEC_PER_YEAR + (int64_t)draw(rng, (uint64_t)(years * SEC_PER_YEAR));
}

static void choose_bases(struct tk_constants *c, uint64_t *rng)
{
    c->realtime = ts_sec_ns(choose_epoch(rng), rng);
    /* An uptime of an hour to 400 days, suspended for a minute to 30 days. */
    c->monotonic = ts_sec_ns(3600 + (int64_t)draw(rng, 400 * SEC_PER_DAY), rng);
    c->boot_offset = ts_sec_ns(60 + (int64_t)draw(rng, 30 * SEC_PER_DAY), rng);
    /* The raw clock a few seconds behind the steered one. */
    c->raw = ts_sub(c->monotonic, ts_sec_ns((int64_t)draw(rng, 10), rng));
    c->frac = (uint32_t)tk_seed_next(rng) | 1;
}

void tk_constants_choose(uint64_t seed, struct tk_constants *c)
{
    uint64_t rng = seed;

    *c = (struct tk_constants){.seed = seed};
    choose_bases(c, &rng);
    c->tai_offset = tai_choices[draw(&rng, NTAI)];
    c->tz_minuteswest = tz_choices[draw(&rng, NTZ)];
    c->tz_dsttime = 1 + (int32_t)draw(&rng, NDST);
    c->slew_ppm = 50 + (int32_t)draw(&rng, 451);
    c->shift_drop = 1 + (uint32_t)draw(&rng, 8);
    c->low_res_every = 2 + (uint32_t)draw(&rng, 3);
    c->sleep_every = 25 + (uint32_t)draw(&rng, 76);
    static const int64_t sleep_max[] = {1000000, 10000000, 100000000, 1000000000, 10000000000};
    c->sleep_max_ns = sleep_max[draw(&rng, sizeof(sleep_max) / sizeof(sleep_max[0]))];
}

static int64_t abs_sec(struct timespec a, struct timespec b)
{
    int64_t d = (int64_t)a.tv_sec - (int64_t)b.tv_sec;

    return d < 0 ? -d : d;
}

/* The next choice of a table after the value v. */
static int32_t next_choice(const int32_t *choices, unsigned n, int32_t v)
{
    for (unsigned i = 0; i < n; i++)
        if (choices[i] == v)
            return choices[(i + 1) % n];
    return choices[0];
}

void tk_constants_unlike_host(struct tk_constants *c)
{
    if (abs_sec(c->realtime, c->host_realtime) < EPOCH_AWAY_YEARS * SEC_PER_YEAR) {
        int64_t moved = c->realtime.tv_sec + EPOCH_MOVE_YEARS * SEC_PER_YEAR;
        if (moved > EPOCH_LAST_YEAR * SEC_PER_YEAR)
            moved -= 2 * EPOCH_MOVE_YEARS * SEC_PER_YEAR;
        c->realtime.tv_sec = moved;
    }
    if (abs_sec(c->monotonic, c->host_monotonic) < 3600) {
        c->monotonic.tv_sec += SEC_PER_DAY;
        c->raw.tv_sec += SEC_PER_DAY;
    }
    if (abs_sec(c->boot_offset, c->host_boot_offset) < 60)
        c->boot_offset.tv_sec += 3600;
    if (c->tai_offset == c->host_tai_offset)
        c->tai_offset = next_choice(tai_choices, NTAI, c->tai_offset);
    if (c->tz_minuteswest == c->host_tz_minuteswest)
        c->tz_minuteswest = next_choice(tz_choices, NTZ, c->tz_minuteswest);
    if (c->tz_dsttime == c->host_tz_dsttime)
        c->tz_dsttime = c->tz_dsttime % NDST + 1;
}

const struct tk_constants *tk_constants_of(const struct timekeeper *tk)
{
    return tk->seeded ? &tk->constants : NULL;
}

void tk_constants_describe(const struct tk_constants *c, uint32_t tick_nsec, char *buf, size_t len)
{
    snprintf(buf, len,
             "seed %llu: REALTIME %lld.%09ld (host %lld), MONOTONIC %lld.%09ld (host %lld), "
             "boot offset %lld.%09ld growing by a suspend of up to %lld ns every %u ticks "
             "(host %lld.%09ld), MONOTONIC_RAW %lld.%09ld, fraction %#x/2^32 ns, TAI offset %d s "
             "(host %d), tz {%d, %d} (host {%d, %d}), hrtimer_res 1 ns with the tick %u ns in 1 "
             "of %u states (host %u ns), per-state slew within +-%d ppm and shift lowered by "
             "0-%u bits",
             (unsigned long long)c->seed, (long long)c->realtime.tv_sec, c->realtime.tv_nsec,
             (long long)c->host_realtime.tv_sec, (long long)c->monotonic.tv_sec,
             c->monotonic.tv_nsec, (long long)c->host_monotonic.tv_sec,
             (long long)c->boot_offset.tv_sec, c->boot_offset.tv_nsec, (long long)c->sleep_max_ns,
             c->sleep_every, (long long)c->host_boot_offset.tv_sec, c->host_boot_offset.tv_nsec,
             (long long)c->raw.tv_sec, c->raw.tv_nsec, c->frac, c->tai_offset, c->host_tai_offset,
             c->tz_minuteswest, c->tz_dsttime, c->host_tz_minuteswest, c->host_tz_dsttime,
             tick_nsec, c->low_res_every, c->host_hrtimer_res, c->slew_ppm, c->shift_drop);
}

/*
 * One more state after the tick: a shift, a slew, a resolution profile and
 * now and then a suspend, all in one update. The fence makes the odd seq
 * visible before the first operation reads the counter (x86 may otherwise
 * let rdtsc overtake the store), so a reader that finished with the old
 * state read its counter before the new cycle_last and never sees time go
 * back when the new rate is lower.
 */
static void seeded_tick(struct timekeeper *tk, uint64_t tick, void *arg)
{
    const struct tk_constants *c = &tk->constants;
    uint64_t r = tk_seed_next(&tk->tick_rng);

    (void)arg;
    if (tk_update_begin(tk) != 0)
        return;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    tk_set_shift_drop(tk, (uint32_t)(r % (c->shift_drop + 1)));
    r >>= 8;
    tk_slew_ppm(tk, (int32_t)(r % (uint64_t)(2 * c->slew_ppm + 1)) - c->slew_ppm);
    r >>= 20;
    tk_set_hrtimer_res(tk, r % c->low_res_every == 0 ? tk_low_res_nsec(tk) : 1);
    if (c->sleep_every && tick % c->sleep_every == c->sleep_every - 1)
        tk_inject_sleep(tk, 1 + (int64_t)(tk_seed_next(&tk->tick_rng) % (uint64_t)c->sleep_max_ns));
    tk_update_end(tk);
}

int tk_writer_start_seeded(struct timekeeper *tk, unsigned hz)
{
    if (!tk->seeded)
        return -EINVAL;
    tk->tick_rng = tk->constants.seed ^ 0x7469636b73ull;
    return tk_writer_start_cb(tk, hz, seeded_tick, NULL);
}
