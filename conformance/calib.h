/*
 * Startup calibration: the syscall latency, each clock's resolution, the
 * tick, the CPUs and whether this is a VM. Measured once in the runner
 * (so every group and every target sees the same numbers) and printed in
 * the report so that a failure's tolerance can be traced to its source.
 */
#ifndef VDSOCONF_CALIB_H
#define VDSOCONF_CALIB_H

#include <stdio.h>

#include "conf.h"

void conf_calibrate(struct conf_calib *cal);
void conf_calib_print(const struct conf_calib *cal, FILE *out);

#endif /* VDSOCONF_CALIB_H */
