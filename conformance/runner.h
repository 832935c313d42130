/*
 * Running one group against one target in a forked child with a deadline.
 * The child gets its own process group; on a deadline the whole group is
 * killed, so neither a crash nor a hang in the target can take the runner
 * with it. Records arrive over a pipe (record.c) and become results.
 */
#ifndef VDSOCONF_RUNNER_H
#define VDSOCONF_RUNNER_H

#include <stdint.h>

#include "conf.h"
#include "results.h"

/*
 * Run conf_groups[group] with ctx (target, calibration, tier, filter). In
 * listing mode the test ids are printed instead. Results go to rs under
 * target index `target`; the group's wall time is added to its cell.
 */
void conf_run_group(struct conf_results *rs, unsigned target, unsigned group,
                    const struct conf_ctx *ctx, int64_t deadline_ns);

#endif /* VDSOCONF_RUNNER_H */
