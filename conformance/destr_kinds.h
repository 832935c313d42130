/*
 * The destructive tier's transition kinds, one function each, run by the
 * group (group_destructive.c) while the readers read: REALTIME steps, NTP
 * frequency, offset and tick, TAI and tz (destr_transitions.c), the leap
 * seconds (destr_leap.c), the clocksource and CPU hotplug (destr_cpu.c).
 * Each fails or skips the test in progress itself, counts its transitions
 * in d->transitions and leaves the clock as it found it.
 */
#ifndef VDSOCONF_DESTR_KINDS_H
#define VDSOCONF_DESTR_KINDS_H

#include "destr_drive.h"

void destr_kind_step(struct destr_driver *d);
void destr_kind_frequency(struct destr_driver *d);
void destr_kind_offset(struct destr_driver *d);
void destr_kind_tick(struct destr_driver *d);
void destr_kind_tai(struct destr_driver *d);
void destr_kind_tz(struct destr_driver *d);
/* insert: STA_INS (23:59:59 repeats), else STA_DEL (23:59:59 skipped). */
void destr_kind_leap(struct destr_driver *d, bool insert);
void destr_kind_clocksource(struct destr_driver *d);
void destr_kind_hotplug(struct destr_driver *d);

#endif /* VDSOCONF_DESTR_KINDS_H */
