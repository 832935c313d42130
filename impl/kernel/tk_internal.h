/*
 * Private to the kernel half: the timekeeper's state, shared by the files
 * that split it by concern (state and accumulation, publishing, operations,
 * host start-up, the writer thread, the log). Times are kept the kernel's
 * way: wall and raw clocks as seconds plus shifted nanoseconds, offsets as
 * normalised timespecs (nsec in [0, 1e9)).
 */
#ifndef VDSOKIT_KERNEL_TK_INTERNAL_H
#define VDSOKIT_KERNEL_TK_INTERNAL_H

#include "clocksource.h"
#include <pthread.h>
#include <stdbool.h>
#include <vdsokit/counter.h>
#include <vdsokit/timekeeper.h>

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
    uint64_t newest; /* generation of the newest entry, 0 = empty */
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

struct timekeeper {
    struct vdso_datapages *dp;
    pthread_mutex_t lock; /* recursive: the timekeeper lock */

    /* Everything from cs up to generation is the scripted state that
     * tk_reset_scripted() clears (the lock, log, writer and pages stay). */

    /* The clocksource and its counter pages. */
    struct tk_clocksource cs;
    struct tk_clocksource manual_cs; /* the script's rates, for manual domains */
    bool have_rate;
    struct tsc_rate rate;
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
    bool hand_open;

    uint64_t generation; /* atomic */
    struct tk_log log;
    struct tk_writer writer;
};

/* timekeeper.c */
void tk_lock(struct timekeeper *tk);
void tk_unlock(struct timekeeper *tk);
int tk_alloc(struct timekeeper **tkp, struct vdso_datapages *dp, unsigned log_entries);
uint64_t tk_domain_counter(const struct timekeeper *tk, enum tk_counter_kind kind, uint64_t tsc);
void tk_accumulate_to(struct timekeeper *tk, uint64_t now);
void tk_set_bases(struct timekeeper *tk, struct timespec realtime, struct timespec monotonic,
                  struct timespec boot_offset, struct timespec raw);
void tk_change_shift(struct timekeeper *tk, uint32_t new_shift);
int tk_program_domain(struct timekeeper *tk, enum tk_counter_kind kind, uint64_t tsc,
                      uint64_t manual_value);
int tk_ensure_rate(struct timekeeper *tk, unsigned ms);
void tk_apply_slew(struct timekeeper *tk);
int tk_mode_for(enum tk_counter_kind kind);
bool tk_kind_is_manual(enum tk_counter_kind kind);
struct timespec tk_ts_from_ns(int64_t ns);
struct timespec tk_ts_add(struct timespec a, struct timespec b);
struct timespec tk_ts_sub(struct timespec a, struct timespec b);

/* tk_publish.c */
void tk_publish(struct timekeeper *tk); /* one update_vsyscall */
void tk_write_begin(struct timekeeper *tk);
void tk_write_end(struct timekeeper *tk);
void tk_publish_aux(struct timekeeper *tk, unsigned idx);
/* The same as an update of its own: also a committed, logged state. */
void tk_commit_aux(struct timekeeper *tk, unsigned idx);
void tk_publish_start(struct timekeeper *tk); /* first update, rng, tz */

/* tk_log.c */
int tk_log_init(struct tk_log *log, unsigned entries);
int tk_log_reset(struct tk_log *log, unsigned entries);
void tk_log_fini(struct tk_log *log);
void tk_log_append(struct tk_log *log, uint64_t generation, uint32_t seq,
                   const struct vdso_time_data *data);

#endif /* VDSOKIT_KERNEL_TK_INTERNAL_H */
