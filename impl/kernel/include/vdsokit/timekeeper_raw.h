/*
 * The timekeeper's raw levers, for tests and fuzzers only: they reach
 * states a kernel rarely or never shows (a seq set by hand, an update held
 * open while operations write into it, clock records published exactly as
 * given, a pvclock page with an odd version or no stable bit). The kernel
 * tests, the fuzzers and the conformance runner's concurrent group use them;
 * the loader and everything else use vdsokit/timekeeper.h alone.
 */
#ifndef VDSOKIT_TIMEKEEPER_RAW_H
#define VDSOKIT_TIMEKEEPER_RAW_H

#include <stdbool.h>
#include <stdint.h>
#include <vdsokit/abi.h>
#include <vdsokit/timekeeper.h>

/* Both clocks' seq, no update. */
int tk_set_seq(struct timekeeper *tk, uint32_t seq);

/* Hand-made update: begin makes both seqs odd and makes the calling thread
 * the timekeeper's owner (other threads, the writer thread too, block in
 * their next call until end); operations called by the owner until end
 * write their data without touching seq; end commits (seq even, log). The
 * same thread calls begin and end; a second begin by the owner is -EBUSY,
 * an end without a begin -EINVAL. */
int tk_update_begin(struct timekeeper *tk);
int tk_update_end(struct timekeeper *tk);

/* Publish clock_data[0..1] exactly as given (seq fields ignored) under the
 * protocol and log it; the next ordinary operation overwrites it. */
int tk_publish_raw(struct timekeeper *tk, const struct vdso_clock cd[VDSO_CS_BASES]);

/* The pvclock page's version as given (odd: readers spin), and its
 * TSC_STABLE flag (clear: readers fall back). */
int tk_pvclock_set_version(struct timekeeper *tk, uint32_t version);
int tk_pvclock_set_stable(struct timekeeper *tk, bool stable);

#endif /* VDSOKIT_TIMEKEEPER_RAW_H */
