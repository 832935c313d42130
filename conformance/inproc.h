/*
 * In-process targets (`ref`, `image:PATH`): an image run by the loader on
 * emulated data pages that a timekeeper in this process writes. Each group
 * child loads its own instance (conf_target_enter_child), so its writer
 * thread, its timekeeper lock and its log of committed states are private
 * to the child and never copied across a fork half-written. This header is
 * what the groups need: the loaded instance, and an oracle that answers
 * from the emulated kernel the way the syscall answers for `live`: the
 * 128-bit model of the state current at the moment of the call, read at
 * the counter value of that moment, and the emulated kernel's own syscall
 * (tk_syscall.h) exactly where the model says the vDSO falls back. The
 * host's clock is never read, except for the CPU-time clocks (the
 * process's CPU time is the host's). The group child runs hermetic
 * (loader_trap.h): the image's own time syscalls are trapped and answered
 * by the same emulated kernel, and counted.
 */
#ifndef VDSOCONF_INPROC_H
#define VDSOCONF_INPROC_H

#include <stdint.h>
#include <time.h>
#include <sys/time.h>

#include "target.h"
#include <vdsokit/loader.h>
#include <vdsokit/tk_model.h>

/* The loaded image behind an in-process target, NULL for live and libc. */
static inline struct vdso_loaded *conf_inproc(const struct conf_target *t)
{
    return (t->flags & CONF_TARGET_IN_PROCESS) ? (struct vdso_loaded *)t->inproc : NULL;
}

/* The counter kind a target spec asked for (",counter=tsc|pvclock|hvclock"). */
enum tk_counter_kind conf_inproc_counter(const struct conf_target *t);

/*
 * A consistent snapshot of the emulated kernel now: the newest committed
 * state (from the log) and the counter read while it was current, in the
 * state's own clock mode. Returns false only if the writer outran the log
 * for a long time (no snapshot after many tries).
 */
struct conf_inproc_now {
    struct tk_log_entry state;
    uint64_t counter;
};
bool conf_inproc_snapshot(struct vdso_loaded *l, struct conf_inproc_now *now);

/* The model's view of a logged state at a counter value (root layout). */
struct tk_model_view conf_inproc_view(struct vdso_loaded *l, const struct tk_log_entry *e,
                                      uint64_t counter);

/*
 * How long ago, on clock `clk`, the newest committed state was taken (its
 * cycle_last): the emulated tick's lateness, which a loaded machine can
 * stretch far beyond one tick. 0 for targets that are not in-process or
 * when the model cannot serve clk.
 */
int64_t conf_inproc_state_age_ns(const struct conf_target *t, clockid_t clk);

/* Print one logged state, for evidence. */
void conf_inproc_print_state(FILE *out, const struct tk_log_entry *e);

/*
 * The oracle for the in-process target current in this process (set by
 * conf_target_enter_child): raw convention (0 / -errno), the model of
 * "now" where it serves the call, the emulated kernel's syscall where it
 * falls back; -ENXIO outside a group child (no instance).
 */
int conf_inproc_oracle_gettime(clockid_t clk, struct timespec *ts);
int conf_inproc_oracle_gettimeofday(struct timeval *tv, struct timezone *tz);
long conf_inproc_oracle_time(long *t);
/* HRES, RAW and COARSE clocks from the emulated kernel (hrtimer_res, its
 * tick); other ids as the host kernel answers them. */
int conf_inproc_oracle_getres(clockid_t clk, struct timespec *res);

#endif /* VDSOCONF_INPROC_H */
