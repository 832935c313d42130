/*
 * The operation-stream format shared by fuzz_vvar, fuzz_vvar_kernel and the
 * op-stream mutator, and the writer side that applies operations to a
 * scripted timekeeper. An input is a 16-byte versioned header followed by
 * 9-byte records (one opcode byte, one little-endian 64-bit argument); a
 * trailing partial record is ignored and opcodes are taken modulo the
 * format's opcode count (vvar_op_count()), so every byte string is a valid
 * program.
 *
 * Header (format 1 differs from 2 and 3 in its opcodes, format 3 from 2 in
 * the era bits):
 *   [0]     format version (1, 2 or VVAR_FORMAT = 3); others are rejected
 *   [1]     bit 0: counter domain (0 pvclock, 1 Hyper-V page; both manual)
 *           bit 1: start with the time-namespace reader layout
 *           bits 2-3: initial seq (0, 2^31 - 8, 2^32 - 8, 2^32 - 64)
 *           bits 4-7 (format 3): the reference's kernel era, an index into
 *           vdso_ref_eras (oldest first) modulo their count; formats 1 and 2
 *           run the native (newest) era. fuzz_vvar_kernel follows it;
 *           fuzz_vvar's hosted reference is native only and ignores it
 *   [2]     shift (mod 33)
 *   [3]     tai offset (signed seconds)
 *   [4..7]  mult (0: 1 << shift, i.e. one nanosecond per cycle)
 *   [8..15] REALTIME seconds at the start (mod 2^40)
 */
#ifndef VDSOKIT_FUZZ_VVAR_OPS_H
#define VDSOKIT_FUZZ_VVAR_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdsokit/timekeeper.h>

#include "vvar_format.h"

/* Parse the header; false when the input is too short or of another format. */
bool vvar_parse_header(const uint8_t *data, size_t size, struct vvar_header *h);
/* Record i (0-based) of the stream after the header; false past the end. */
bool vvar_record(const uint8_t *data, size_t size, size_t i, struct vvar_op_rec *r);

/* The clock id a READ record calls: bits 2-5 of its arg pick one of 16 ids. */
int32_t vvar_read_clock(uint64_t arg);

/* The record whose clock_mode (and counter) clk reads: an aux clock's own,
 * else the main clocks' clock_data[0]. */
const struct vdso_clock *vvar_mode_clock(const struct vdso_time_data *t, int32_t clk);

/* The scripted timekeeper's start for a header. */
void vvar_script(const struct vvar_header *h, struct tk_script *s);
/* The namespace offsets a stream whose header asks for the TIMENS layout starts with. */
void vvar_start_timens(struct timekeeper *tk);

/* What a writer operation did to the clocks, for the monotonicity oracle. */
enum vvar_effect {
    VVAR_CONTINUOUS,   /* monotonic clocks cannot go back across it */
    VVAR_DISCONTINUOUS /* may legitimately move them back (raw pages, layout, counter back) */
};

/* The writer: one scripted timekeeper and the conditions left open on it. */
struct vvar_writer {
    struct timekeeper *tk;
    bool no_tsc_mode;    /* map mode TSC to NONE (real images read the real TSC) */
    bool timens;         /* the reader layout the stream asked for */
    bool update_open;    /* SEQ_ODD: a hand-made update holds seq odd */
    bool pv_odd;         /* PV_ODD: the pvclock version is odd */
    bool stale_pending;  /* RAW data or a backward counter until the next ordinary update */
    int32_t domain_mode; /* the clock mode of the timekeeper's own counter (PVCLOCK or HVCLOCK) */
};

/* Apply one non-read operation; returns its effect on monotonic clocks. */
enum vvar_effect vvar_apply(struct vvar_writer *w, const struct vvar_op_rec *r);
/* Close whatever SEQ_ODD or PV_ODD left open (what a writer does eventually). */
void vvar_settle(struct vvar_writer *w);

#endif
