/*
 * Private to the kernel half: the timekeeper's state and the helpers its
 * files share, declared from the lowest file up (each file calls only the
 * ones declared above its own section). Times are kept the kernel's way:
 * wall and raw clocks as seconds plus shifted nanoseconds, offsets as
 * normalised timespecs (nsec in [0, 1e9)). The helpers below that take a
 * timekeeper assume its lock held; the public entry points take it once.
 */
#ifndef VDSOKIT_KERNEL_TK_INTERNAL_H
#define VDSOKIT_KERNEL_TK_INTERNAL_H

#include "clocksource.h"
#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <vdsokit/counter.h>
#include <vdsokit/datapages.h>
#include <vdsokit/timekeeper.h>
#include <vdsokit/timekeeper_raw.h>
#include <vdsokit/timespec.h>

#define DEFAULT_HRTIMER_RES_NS 1u       /* high-resolution timers: 1 ns */
#define DEFAULT_LOW_RES_NS     4000000u /* TICK_NSEC at HZ 250 */
#define DEFAULT_CALIB_MS       30u
#define PPM_PER_UNIT           1000000 /* a rate is 1 + ppm / PPM_PER_UNIT */

struct tk_aux {
    bool enabled;
    uint32_t mult;
    uint64_t sec;
    uint64_t nsec; /* shifted */
};

struct tk_log {
    pthread_mutex_t lock;
    struct tk_log_entry *ring; /* size entries, slot = generation % size */
    uint64_t size;
    uint64_t newest;    /* generation of the newest entry, 0 = empty */
    uint64_t open_from; /* the oldest generation not yet superseded */
};

struct tk_writer {
    pthread_t thread;
    bool running;
    int stop; /* atomic flag */
    unsigned hz;
    tk_tick_fn fn;
    void *arg;
    uint64_t ticks;
};

/* What a start (scripted or host) sets up and tk_reset_scripted() clears in
 * one assignment: the clocksource, the kernel-like time and the pages' view. */
struct tk_state {
    /* The clocksource and its counter pages. */
    struct tk_clocksource cs;
    struct tk_clocksource cs_native;  /* cs as programmed, while a shift drop is in effect */
    uint32_t shift_drop;              /* bits cs.shift is below cs_native.shift */
    struct tk_clocksource manual_cs;  /* the script's rates, for manual domains */
    struct pvclock_vcpu_time_info pv; /* as programmed */
    struct ms_hyperv_tsc_page hv;     /* as programmed */

    /* Kernel-like time state. */
    int32_t ppm;
    uint32_t mult; /* cs.mult with the slew applied */
    uint64_t cycle_last;
    uint64_t xtime_sec, xtime_nsec, coarse_nsec;
    struct timespec wall_to_monotonic, offs_boot;
    int32_t tai_offset;
    uint64_t raw_sec, raw_nsec;
    struct tk_aux aux[VDSO_MAX_AUX_CLOCKS];

    /* What the pages show. */
    int32_t clock_mode;
    uint32_t hrtimer_res, low_res_nsec;
    struct vdso_time_data shadow; /* page 0 as this writer last wrote it */
};

/*
 * What the emulated syscalls read (tk_syscall.c): the kernel's internal
 * time state, not the pages (which clock mode NONE leaves stale). It is
 * copied out at every tk_unlock under a seqcount of its own, in 64-bit
 * words with relaxed atomics, so a SIGSYS handler reads it lock-free: the
 * handler may interrupt a thread that holds the timekeeper lock.
 */
struct tk_sys_state {
    uint64_t generation;
    uint64_t kind; /* enum tk_counter_kind: the clocksource the kernel reads */
    uint64_t cycle_last, mask, mult, raw_mult, shift;
    uint64_t xtime_sec, xtime_nsec, coarse_nsec;
    int64_t wtm_sec, wtm_nsec, boot_sec, boot_nsec, tai_offset;
    uint64_t raw_sec, raw_nsec;
    uint64_t hrtimer_res, low_res_nsec;
    int64_t tz_minuteswest, tz_dsttime;
    uint64_t aux_enabled[VDSO_MAX_AUX_CLOCKS], aux_mult[VDSO_MAX_AUX_CLOCKS];
    uint64_t aux_sec[VDSO_MAX_AUX_CLOCKS], aux_nsec[VDSO_MAX_AUX_CLOCKS];
    struct pvclock_vcpu_time_info pv; /* the records as programmed */
    struct ms_hyperv_tsc_page hv;
};
#define TK_SYS_WORDS (sizeof(struct tk_sys_state) / sizeof(uint64_t))
_Static_assert(sizeof(struct tk_sys_state) % sizeof(uint64_t) == 0, "whole words");

struct tk_sys_snap {
    uint32_t seq; /* odd while tk_sys_store writes */
    uint64_t words[TK_SYS_WORDS];
};

struct timekeeper {
    struct vdso_datapages *dp;
    pthread_mutex_t lock;     /* the timekeeper lock (not recursive) */
    pthread_t holder;         /* the thread in tk_lock..tk_unlock (for asserts) */
    pthread_cond_t hand_done; /* signalled by tk_update_end */
    bool hand_open;           /* a hand-made update is open ... */
    pthread_t hand_owner;     /* ... by this thread */
    bool have_rate;           /* the host's TSC calibration, kept across resets */
    struct tsc_rate rate;
    struct tk_state st;
    bool seeded; /* started by tk_init_seeded: constants holds what it chose */
    struct tk_constants constants;
    uint64_t tick_rng;            /* the seeded writer's draws (its thread only) */
    uint64_t generation;          /* atomic */
    uint64_t counter_page_breaks; /* atomic: see tk_counter_page_breaks() */
    unsigned pages_broken;        /* TK_BROKEN_* bits: why counter_page_breaks is odd */
    struct tk_log log;
    struct tk_writer writer;
    struct tk_sys_snap sys;
    uint64_t rng_seed, rng_offset; /* atomic: the getrandom key stream (tk_rng.c) */
    unsigned rng_reseeds;          /* atomic: syscalls left that reseed first */
};

/* tk_snap.c (lowest): the syscalls' snapshot. Store with the lock held;
 * load from anywhere, a signal handler included. */
void tk_sys_store(struct timekeeper *tk);
void tk_sys_load(const struct timekeeper *tk, struct tk_sys_state *out);

/*
 * The timekeeper lock. A hand-made update (timekeeper_raw.h) is ownership,
 * not a held mutex: between tk_update_begin and tk_update_end the opening
 * thread's calls go through, and every other thread waits here until
 * tk_update_end, as it would for one long critical section.
 */
/*
 * The break count is odd exactly while some counter page is unusable (see
 * tk_counter_page_breaks): it turns odd before a reader can see a page so,
 * and even again only after no reader can. Called with the lock held.
 */
enum { TK_BROKEN_PVCLOCK = 1u, TK_BROKEN_HVCLOCK = 2u };

static inline void tk_set_page_broken(struct timekeeper *tk, unsigned page, bool broken)
{
    unsigned was = tk->pages_broken;

    tk->pages_broken = broken ? was | page : was & ~page;
    if (!was != !tk->pages_broken)
        __atomic_add_fetch(&tk->counter_page_breaks, 1, __ATOMIC_SEQ_CST);
}

/* Show the timekeeper's pvclock record on its page; unstable is a break. */
static inline void tk_write_pvclock(struct timekeeper *tk)
{
    bool stable = tk->st.pv.flags & PVCLOCK_TSC_STABLE_BIT;

    if (!stable)
        tk_set_page_broken(tk, TK_BROKEN_PVCLOCK, true);
    counter_pvclock_write(datapages_pvclock(tk->dp), &tk->st.pv);
    if (stable)
        tk_set_page_broken(tk, TK_BROKEN_PVCLOCK, false);
}

/* Show the Hyper-V record: its sequence is 0 (unusable) while it is written. */
static inline void tk_write_hvclock(struct timekeeper *tk)
{
    tk_set_page_broken(tk, TK_BROKEN_HVCLOCK, true);
    counter_hvclock_write(datapages_hvclock(tk->dp), tk->st.hv.tsc_scale, tk->st.hv.tsc_offset);
    tk_set_page_broken(tk, TK_BROKEN_HVCLOCK, false);
}

static inline void tk_lock(struct timekeeper *tk)
{
    pthread_mutex_lock(&tk->lock);
    while (tk->hand_open && !pthread_equal(tk->hand_owner, pthread_self()))
        pthread_cond_wait(&tk->hand_done, &tk->lock);
    tk->holder = pthread_self();
}

static inline void tk_unlock(struct timekeeper *tk)
{
    tk_sys_store(tk);
    tk->holder = (pthread_t)0;
    pthread_mutex_unlock(&tk->lock);
}

/* The lockdep-like check at the top of the helpers below (debug builds). */
static inline void tk_assert_held(const struct timekeeper *tk)
{
    assert(pthread_equal(tk->holder, pthread_self()));
    (void)tk;
}

/* tk_log.c: the ring of committed states (its own mutex, no tk lock). */
int tk_log_init(struct tk_log *log, unsigned entries);
int tk_log_reset(struct tk_log *log, unsigned entries);
void tk_log_fini(struct tk_log *log);
void tk_log_append(struct tk_log *log, uint64_t generation, uint32_t seq,
                   const struct vdso_time_data *data);
/* The next update has made the seq odd at TSC tsc: every logged state not
 * yet superseded ends there. */
void tk_log_supersede(struct tk_log *log, uint64_t tsc);

/* tk_domain.c: counter domains (reading them, programming their pages). */
bool tk_kind_is_manual(enum tk_counter_kind kind);
int32_t tk_mode_for(enum tk_counter_kind kind);
uint64_t tk_domain_counter(const struct timekeeper *tk, enum tk_counter_kind kind, uint64_t tsc);
int tk_ensure_rate(struct timekeeper *tk, unsigned ms);
int tk_program_domain(struct timekeeper *tk, enum tk_counter_kind kind, uint64_t tsc,
                      uint64_t manual_value);

/* tk_state.c: the kernel-like time state (accumulation, bases, slew). */
void tk_accumulate_to(struct timekeeper *tk, uint64_t now);
void tk_forward_now(struct timekeeper *tk); /* accumulate to the counter now */
void tk_set_bases(struct timekeeper *tk, struct timespec realtime, struct timespec monotonic,
                  struct timespec boot_offset, struct timespec raw);
/* After a clocksource change: shifted values from old_shift to cs.shift. */
void tk_change_shift(struct timekeeper *tk, uint32_t old_shift);
void tk_apply_slew(struct timekeeper *tk);

/* tk_publish.c: update_vsyscall and the seqcount around it. */
void tk_write_begin(struct timekeeper *tk);
void tk_write_end(struct timekeeper *tk);
/* The shadow's clock data to page 0 as one update (inside a hand-made one:
 * data only); tk_publish fills the shadow from the time state first. */
void tk_publish_shadow(struct timekeeper *tk);
void tk_publish(struct timekeeper *tk); /* one update_vsyscall */
void tk_publish_aux(struct timekeeper *tk, unsigned idx);
/* The same as an update of its own: also a committed, logged state. */
void tk_commit_aux(struct timekeeper *tk, unsigned idx);
void tk_publish_all(struct timekeeper *tk);   /* enabled aux clocks, then the main ones */
void tk_publish_start(struct timekeeper *tk); /* first update, rng, tz */

/* tk_ops.c: the public operations (no helpers for the files above it). */
/* tk_raw.c: the test levers of timekeeper_raw.h. */
/* tk_writer.c: the writer thread; calls tk_accumulate (tk_ops.c). */

/* tk_seeded.c: the seeded constants and the writer that varies the state
 * (public operations only). Here: the seed's generator, and moving the
 * constants off the host's values (read by the caller into c->host_*). */
uint64_t tk_seed_next(uint64_t *state);
void tk_constants_unlike_host(struct tk_constants *c);

/* timekeeper.c: allocation, the scripted start, destruction. */
int tk_alloc(struct timekeeper **tkp, struct vdso_datapages *dp, unsigned log_entries);

/* tk_host.c: the host start (top). */

#endif /* VDSOKIT_KERNEL_TK_INTERNAL_H */
