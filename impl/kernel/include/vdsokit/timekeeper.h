/*
 * The emulated kernel timekeeper: it owns kernel-like time state (cycle_last,
 * shifted wall and raw nanoseconds, wall_to_monotonic, boot and TAI offsets,
 * the current clocksource's mult/shift) and publishes it into the data pages
 * exactly as the kernel's update_vsyscall() does (docs/abi.md §2.1): both clocks'
 * seq odd, release fence, data, release fence, seq even. It runs following
 * the host (bases from the host's clocks, rates calibrated against
 * CLOCK_MONOTONIC_RAW / CLOCK_MONOTONIC), seeded (the same real counter and
 * rates, every constant from a seed and unlike the host's, a writer that
 * varies the state every tick) or scripted (every input chosen by the
 * caller, with a manual counter for determinism). Every operation takes
 * the timekeeper lock, so a writer thread and test threads may mix them.
 * Each committed update is logged (a bounded ring) for oracles. The levers
 * that only tests and fuzzers need are in vdsokit/timekeeper_raw.h.
 */
#ifndef VDSOKIT_TIMEKEEPER_H
#define VDSOKIT_TIMEKEEPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <vdsokit/abi.h>
#include <vdsokit/datapages.h>

/* The counter domain the timekeeper runs on (its "clocksource"). */
enum tk_counter_kind {
    TK_COUNTER_TSC,            /* rdtsc; mode TSC */
    TK_COUNTER_PVCLOCK_MANUAL, /* pvclock with mul 0: counter = system_time; mode PVCLOCK */
    TK_COUNTER_PVCLOCK_HOST,   /* pvclock scaled from a TSC calibration (ns); mode PVCLOCK */
    TK_COUNTER_HVCLOCK_MANUAL, /* Hyper-V page with scale 0: counter = offset; mode HVCLOCK */
    TK_COUNTER_HVCLOCK_HOST,   /* Hyper-V page scaled from the TSC (100 ns units); mode HVCLOCK */
};

struct timekeeper;

/* Scripted start: every input chosen by the caller. Zero fields take the
 * defaults noted. Bases are the clock values at counter_start. */
struct tk_script {
    enum tk_counter_kind counter; /* manual kinds are deterministic */
    uint64_t counter_start;       /* manual counter value at start */
    uint32_t mult;                /* MONOTONIC/REALTIME rate, before any slew */
    uint32_t raw_mult;            /* MONOTONIC_RAW rate; 0 = mult */
    uint32_t shift;               /* <= 32 */
    uint64_t mask;                /* 0 = all ones */
    uint64_t max_cycles;          /* 0 = as the kernel derives it from raw_mult */
    struct timespec realtime;
    struct timespec monotonic;
    struct timespec boot_offset; /* BOOTTIME - MONOTONIC */
    struct timespec raw;
    int32_t tai_offset;
    uint32_t hrtimer_res;  /* 0 = 1 ns */
    uint32_t low_res_nsec; /* 0 = 4000000 (HZ 250) */
    int32_t tz_minuteswest, tz_dsttime;
    uint32_t seq_start;   /* initial seq of both clocks (the first update adds 2) */
    unsigned log_entries; /* states the log keeps; 0 = TK_LOG_ENTRIES (fuzzers want few) */
};

/* Create a timekeeper on dp (which the caller keeps alive) and publish the
 * first update. Host: kind is TSC, PVCLOCK_HOST or HVCLOCK_HOST; the TSC is
 * calibrated for calib_ms (20-50 ms is plenty; 0 = 30). Returns 0 or -errno. */
int tk_init_host(struct timekeeper **tkp, struct vdso_datapages *dp, enum tk_counter_kind kind,
                 unsigned calib_ms);

/*
 * A hermetic emulated kernel: the counter is the real one (its rate
 * calibrated against the host, as tk_init_host does), every constant comes
 * from a seed and is unlike the host's, so that no result can agree with
 * the host by accident. tk_constants_choose is a pure function of the seed;
 * tk_init_seeded then moves any field that happens to equal the host's
 * (the epoch by decades, the others to the next choice) and keeps the
 * result, which tk_constants_of returns (NULL for other starts).
 */
struct tk_constants {
    uint64_t seed;
    struct timespec realtime;    /* REALTIME at the start: decades from the host's */
    struct timespec monotonic;   /* MONOTONIC at the start (the emulated uptime) */
    struct timespec boot_offset; /* BOOTTIME - MONOTONIC at the start (suspends so far) */
    struct timespec raw;         /* MONOTONIC_RAW at the start */
    uint32_t frac;               /* the bases' fraction below the ns, in 2^-32 ns; never 0 */
    int32_t tai_offset;          /* TAI - REALTIME, seconds; never 0 */
    int32_t tz_minuteswest;      /* a real zone's offset; never 0 */
    int32_t tz_dsttime;          /* a DST_* rule, 1-6: never 0, never equal to minuteswest */
    /* What every tick of the seeded writer (tk_writer_start_seeded) varies: */
    int32_t slew_ppm;       /* a slew drawn from [-slew_ppm, slew_ppm] */
    uint32_t shift_drop;    /* the clocksource's shift lowered by 0..shift_drop bits */
    uint32_t low_res_every; /* 1 in low_res_every states: hrtimer_res = the tick */
    uint32_t sleep_every;   /* an emulated suspend every sleep_every ticks ... */
    int64_t sleep_max_ns;   /* ... of 1 ns to sleep_max_ns */
    /* The host's values, read by tk_init_seeded for the comparison (0 before). */
    struct timespec host_realtime, host_monotonic, host_boot_offset;
    int32_t host_tai_offset, host_tz_minuteswest, host_tz_dsttime;
    uint32_t host_hrtimer_res;
};
void tk_constants_choose(uint64_t seed, struct tk_constants *c);
int tk_init_seeded(struct timekeeper **tkp, struct vdso_datapages *dp, enum tk_counter_kind kind,
                   unsigned calib_ms, const struct tk_constants *c);
const struct tk_constants *tk_constants_of(const struct timekeeper *tk);
/* One line naming each constant and the host's value beside it. */
void tk_constants_describe(const struct tk_constants *c, uint32_t tick_nsec, char *buf, size_t len);
int tk_init_scripted(struct timekeeper **tkp, struct vdso_datapages *dp,
                     const struct tk_script *script);
/* Start tk afresh from a script, as tk_init_scripted on the same pages
 * would, but without reallocating (fuzzers run one script per input): the
 * log is emptied and generations restart at 1; a TSC calibration is kept.
 * The pages are not cleared first (the caller zeroes them if it needs).
 * -EBUSY while the writer thread runs or a hand-made update is open; after
 * any other error only tk_destroy or another reset may follow. */
int tk_reset_scripted(struct timekeeper *tk, const struct tk_script *script);
/* Stops the writer thread if running; leaves the pages as they are. */
void tk_destroy(struct timekeeper *tk);

struct vdso_datapages *tk_datapages(const struct timekeeper *tk);
uint32_t tk_low_res_nsec(const struct timekeeper *tk);

/* Counters. tk_read_counter: what the vDSO would read in the page's current
 * clock mode (COUNTER_INVALID for NONE/unknown modes). tk_counter_now: the
 * timekeeper's own clocksource, whatever mode the page shows. */
uint64_t tk_read_counter(struct timekeeper *tk);
uint64_t tk_counter_now(struct timekeeper *tk);
/* Manual domains only (-EINVAL otherwise): write the counter value under
 * the pvclock/Hyper-V seqlock; no time-data update. */
int tk_set_counter(struct timekeeper *tk, uint64_t value);
int tk_advance_counter(struct timekeeper *tk, uint64_t delta);

/* Operations; each publishes one update (tz: none, as the kernel). */
int tk_accumulate(struct timekeeper *tk);                    /* tick */
int tk_step_realtime(struct timekeeper *tk, int64_t ns);     /* settimeofday-like jump */
int tk_slew_ppm(struct timekeeper *tk, int32_t ppm);         /* mult = base * (1 + ppm/1e6) */
int tk_set_tai_offset(struct timekeeper *tk, int32_t tai);   /* TAI - REALTIME, seconds */
int tk_add_boot_offset(struct timekeeper *tk, int64_t ns);   /* BOOTTIME only */
int tk_inject_sleep(struct timekeeper *tk, int64_t ns);      /* suspend: REALTIME+BOOTTIME jump */
int tk_set_hrtimer_res(struct timekeeper *tk, uint32_t res); /* published at once */
/* The kernel's TICK_NSEC, the coarse clocks' resolution: a build constant of
 * the image (the pages do not carry it), so it is set, never published.
 * -EINVAL for 0 or a tick of a second or more. */
int tk_set_low_res_nsec(struct timekeeper *tk, uint32_t ns);
int tk_set_tz(struct timekeeper *tk, int32_t minuteswest, int32_t dsttime); /* no seq */
/* The clocksource re-registered with its shift lowered by drop bits (0
 * restores it): mult and raw_mult rounded to the coarser unit, the shifted
 * values moved to the new shift, as programmed otherwise. -EINVAL when the
 * shift or a mult would go below 1. A counter switch restores drop 0. */
int tk_set_shift_drop(struct timekeeper *tk, uint32_t drop);
/* Write an arbitrary clock_mode value (NONE, TSC, ..., 7, -1); the counter
 * domain does not change. With NONE, like the kernel, only REALTIME, the
 * coarse bases and hrtimer_res are refreshed by later updates. */
int tk_set_clock_mode(struct timekeeper *tk, int32_t mode);
/* Clocksource change: accumulate in the old domain, take cycle_last and
 * mult/shift in the new one (calibrating the TSC on first use), mode follows. */
int tk_switch_counter(struct timekeeper *tk, enum tk_counter_kind kind);

/* Fill the time-namespace page (file page 1): mode TIMENS, seq 1, the
 * monotonic offset on MONOTONIC, MONOTONIC_RAW and MONOTONIC_COARSE, the boot
 * offset on BOOTTIME and BOOTTIME_ALARM, on both clocks and all aux clocks. */
int tk_timens_set(struct timekeeper *tk, struct timens_offset monotonic,
                  struct timens_offset boottime);

/* rng page: generation + 1 (store-release), is_ready. */
int tk_rng_bump(struct timekeeper *tk);
int tk_rng_set_ready(struct timekeeper *tk, bool ready);

/* Aux clock idx (0..7): enable with a base value at the current counter
 * (rate = the clocksource's raw rate), or disable (mode NONE). Enabled aux
 * clocks advance on every accumulate, each under its own seq. An enable or
 * disable is a committed state of its own: logged, generation + 1. */
int tk_aux_enable(struct timekeeper *tk, unsigned idx, struct timespec base);
int tk_aux_disable(struct timekeeper *tk, unsigned idx);

/*
 * A seqcount of the periods in which a counter page is unusable for the
 * vDSO: the pvclock page's TSC_STABLE bit clear, or the Hyper-V page's
 * sequence 0 for a rewrite. Odd while such a period lasts: it turns odd
 * before a reader can see the page unusable and even only after no reader
 * can. A reader that loads it even before its call and the same value
 * after knows that no break can have sent its call to the syscall, even one
 * that began and ended between page snapshots taken around the call (a
 * count taken only at the start of a break misses a break that begins
 * after a reader's first load and the snapshot after it, then ends before
 * its second). Not logged as states: the hypervisor writes these pages,
 * not the timekeeper's update.
 */
uint64_t tk_counter_page_breaks(const struct timekeeper *tk);

/* The log of committed states. Generation n is the n-th committed update
 * (the first is 1). The generation counter is advanced (store-release)
 * before the new seq is stored, so a reader that loads the generation
 * before and after its call has seen only states in [before, after]. */
struct tk_log_entry {
    uint64_t generation;
    uint32_t seq;               /* the even seq value published */
    struct vdso_time_data data; /* page 0 as committed (seq words included) */
    /* The end of this state's time window: the raw TSC the writer read right
     * after the next update of the main clocks made their seq odd, once that
     * store was globally visible (counter_rdtsc_after_stores). A vDSO whose
     * seq re-check passed read its counter before it (docs/abi.md §2.2).
     * TK_NOT_SUPERSEDED while no later update has begun. */
    uint64_t superseded_tsc;
};
#define TK_NOT_SUPERSEDED UINT64_MAX
#define TK_LOG_ENTRIES    256 /* the default size of the log */
uint64_t tk_generation(const struct timekeeper *tk);
/* Copy the logged states with generation in [lo, hi], oldest first, at most
 * max; returns the count (states that fell out of the ring are missing). */
size_t tk_log_copy(struct timekeeper *tk, uint64_t lo, uint64_t hi, struct tk_log_entry *out,
                   size_t max);

/* The writer thread: accumulate at hz, or back to back when hz == 0; the
 * optional callback runs after every tick, outside the lock. */
typedef void (*tk_tick_fn)(struct timekeeper *tk, uint64_t tick, void *arg);
int tk_writer_start(struct timekeeper *tk, unsigned hz);
int tk_writer_start_cb(struct timekeeper *tk, unsigned hz, tk_tick_fn fn, void *arg);
/* The writer of a seeded timekeeper: after every tick one more state, with
 * the slew, shift, resolution profile and suspends its constants ask for,
 * drawn from the seed. The update makes the seq odd before it reads the
 * counter, so no reader can hold the old rate past the new cycle_last.
 * -EINVAL for a timekeeper that was not started seeded. */
int tk_writer_start_seeded(struct timekeeper *tk, unsigned hz);
/* Returns the number of ticks the thread made, or -errno. */
int64_t tk_writer_stop(struct timekeeper *tk);

#endif /* VDSOKIT_TIMEKEEPER_H */
