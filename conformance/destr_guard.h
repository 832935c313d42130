/*
 * The destructive tier's guard: whether this is a place where the system
 * clock may be changed at all (a disposable guest booted from an initramfs),
 * and the clock state it saves before the transitions and restores after
 * them, in the runner's own process, whatever happened to the group's
 * child. Everything it writes is a kernel-wide setting; it never runs on a
 * machine that is not disposable.
 */
#ifndef VDSOCONF_DESTR_GUARD_H
#define VDSOCONF_DESTR_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/time.h>
#include <sys/timex.h>

/*
 * The disposable-place check: under a hypervisor (calibration's cpuinfo
 * flag), with "/" the initramfs (fstype rootfs) and no filesystem of a block
 * device mounted. Returns true, or false with the reason in why.
 */
bool destr_place_disposable(bool hypervisor, char *why, size_t len);

struct destr_clock_state {
    struct timespec realtime, raw; /* REALTIME, and MONOTONIC_RAW just after */
    int64_t bracket_ns;            /* RAW before and after the REALTIME read */
    struct timex tx;               /* adjtimex(modes 0) */
    int time_state;                /* its return value (TIME_OK, ...) */
    struct timezone tz;
    char clocksource[64]; /* current_clocksource, "" when sysfs has none */
};

/* Read the state; 0, or -1 with err. */
int destr_state_read(struct destr_clock_state *s, char *err, size_t len);

/* Can this process write the clock (CAP_SYS_TIME)? A no-op write. 0 or -errno. */
int destr_can_write(const struct destr_clock_state *s);

/*
 * Put the saved state back: the NTP slews cancelled, REALTIME set to the
 * saved one plus the MONOTONIC_RAW time since (at the saved frequency),
 * frequency, tick, status, time constant, TAI, tz and the clocksource; then
 * wait (at most 3 s) for the kernel's leap state to settle back. The RAW
 * time around the clock_settime goes to set_bracket_ns. 0, or -1 with err
 * naming the first write that failed (the others still run).
 */
int destr_restore(const struct destr_clock_state *saved, int64_t *set_bracket_ns, char *err,
                  size_t len);

/*
 * Compare the state now with the saved one, line by line into out: every
 * setting must be equal, REALTIME within its derived tolerance (the read
 * brackets, the restore's clock_settime bracket and 10 ppm of the elapsed time, the rounding
 * between the raw and the NTP-adjusted rates). True when they match.
 */
bool destr_state_matches(const struct destr_clock_state *saved, const struct destr_clock_state *now,
                         int64_t set_bracket_ns, FILE *out);

/* One line: "<label>: realtime ... freq ... tick ... status ... tai ... tz ... clocksource". */
void destr_state_print(FILE *out, const char *label, const struct destr_clock_state *s);

#endif /* VDSOCONF_DESTR_GUARD_H */
