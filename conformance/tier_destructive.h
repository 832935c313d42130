/*
 * The runner's side of --tier destructive: admission (the flag, then the
 * disposable-place check of destr_guard.h, then the right to write the
 * clock), the clock state saved before the group and, after the group's
 * child ended however it ended, restored, printed and compared in the
 * runner's own process, recorded as the test destructive.restore.
 */
#ifndef VDSOCONF_TIER_DESTRUCTIVE_H
#define VDSOCONF_TIER_DESTRUCTIVE_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "destr_guard.h"
#include "results.h"

/*
 * 0 after saving the state into saved and printing it; 2 (a refusal, the
 * reason on stderr, nothing written) when the clock may not be changed here.
 */
int destructive_admit(const struct conf_calib *cal, struct destr_clock_state *saved, FILE *human);

/* Restore the saved state; print it, compare, record destructive.restore for target t. */
void destructive_restore(struct conf_results *rs, unsigned target, unsigned group,
                         const struct destr_clock_state *saved, FILE *human);

#endif /* VDSOCONF_TIER_DESTRUCTIVE_H */
