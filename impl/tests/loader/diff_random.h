/*
 * Random data-page states for the differential test: the base state of
 * diff_states.h with every field the arithmetic reads drawn from a seeded
 * generator (counter and cycle_last from the edges that matter to the
 * delta rules of each era, mult, shift, max_cycles, bases, the clock mode,
 * the namespace layout and offsets, tz, hrtimer_res), so that two images
 * meet many more states than the hand-written table has.
 */
#ifndef DIFF_RANDOM_H
#define DIFF_RANDOM_H

#include <stdbool.h>
#include <stdint.h>

#include <vdsokit/layout_profile.h>

#include "diff_states.h"

/*
 * Build the state of seed. False when, under the era's delta rule, some
 * clock's nanoseconds would need more than 2^16 iterations of the kernel's
 * normalisation by repeated subtraction (a call would take milliseconds):
 * such a state is not run.
 */
bool diff_random_state(uint64_t seed, enum layout_delta_rule rule, struct diff_state *s);

#endif
