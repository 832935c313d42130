/*
 * The op-stream format of the vvar fuzzers, without any dependency, so the
 * op-stream mutator (built alone for AFL++) shares it. The layout is
 * described in vvar_ops.h.
 */
#ifndef VDSOKIT_FUZZ_VVAR_FORMAT_H
#define VDSOKIT_FUZZ_VVAR_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

/* Format 2 added VVAR_AUX, format 3 the era (header byte 1, bits 4-7);
 * format 1 and 2 streams still replay as they were (the native era). */
#define VVAR_FORMAT      3
#define VVAR_FORMAT_V2   2
#define VVAR_FORMAT_V1   1
#define VVAR_HEADER_SIZE 16
#define VVAR_RECORD_SIZE 9
#define VVAR_MAX_OPS     256

enum vvar_op {
    /* timekeeper operations (each one committed update) */
    VVAR_ACCUMULATE, /* counter += arg % 2^32, then a tick */
    VVAR_STEP,       /* REALTIME += (int64)arg % 2^40 ns */
    VVAR_SLEW,       /* ppm = (int32)arg % 1000 */
    VVAR_TAI,        /* tai offset = (int8)arg */
    VVAR_BOOT,       /* BOOTTIME += arg % 2^44 ns */
    VVAR_SLEEP,      /* suspend for arg % 2^44 ns */
    VVAR_MODE,       /* clock_mode = one of NONE, TSC, PVCLOCK, HVCLOCK, 7, -1 */
    VVAR_SWITCH,     /* clocksource: manual pvclock or manual Hyper-V page */
    VVAR_TIMENS_ON,  /* namespace offsets from arg, reader layout TIMENS */
    VVAR_TIMENS_OFF, /* reader layout ROOT */
    VVAR_RNG,        /* rng generation + 1 */
    VVAR_HRES,       /* hrtimer_res = 1 or LOW_RES */
    VVAR_TZ,         /* tz from arg, no seq */
    /* raw page manipulation */
    VVAR_SEQ_ODD,   /* open a hand-made update: seq odd until the reader has spun */
    VVAR_SEQ_WRAP,  /* both seqs jump forward to 2^32 - 2 * (1 + arg % 8), near the wrap */
    VVAR_PV_ODD,    /* pvclock version odd until the reader has spun */
    VVAR_PV_STABLE, /* pvclock TSC_STABLE = arg & 1 */
    VVAR_RAW,       /* publish clock_data with one field rewritten from arg */
    /* manual counter */
    VVAR_FORWARD,  /* counter += arg % 2^40 */
    VVAR_BACKWARD, /* counter -= arg % 2^32 */
    VVAR_PAST_MAX, /* counter += max_cycles + arg % 2^20 */
    /* a reader call (fuzz_vvar interleaves writer steps into it) */
    VVAR_READ,
    /* format 2: aux clock idx = arg & 1 ? 7 : 0 (the ids readers call),
     * enabled (arg bit 1) at (arg >> 8) % 2^26 s, (arg >> 34) % 1e9 ns, or disabled */
    VVAR_AUX,
    VVAR_OP_COUNT
};

#define VVAR_OPS_V1 VVAR_AUX /* format 1 knew the opcodes below VVAR_AUX */

/* Is this a format byte the op-stream readers accept? */
static inline bool vvar_format_known(uint8_t format)
{
    return format >= VVAR_FORMAT_V1 && format <= VVAR_FORMAT;
}

/* How many opcodes a format has: opcode bytes are taken modulo this. */
static inline unsigned vvar_op_count(uint8_t format)
{
    return format == VVAR_FORMAT_V1 ? VVAR_OPS_V1 : VVAR_OP_COUNT;
}

struct vvar_header {
    bool hvclock, timens;
    bool era_given; /* format 3: era picks the reference's era; else the native one */
    uint8_t era;    /* header byte 1, bits 4-7: an index into the eras, modulo their count */
    uint32_t seq_start, mult, shift;
    int32_t tai;
    uint64_t realtime_sec;
};

struct vvar_op_rec {
    enum vvar_op op;
    uint64_t arg;
};

#endif
