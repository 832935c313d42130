/*
 * Each era's time page as written out by hand from that era's kernel
 * headers (include/vdso/datapage.h, arch/x86/include/asm/vvar.h,
 * vdso-layout.lds.S of 6.1, 6.12, 6.13, 6.15 and 6.17): the expected byte
 * offsets that the layout tables of impl/live and impl/kernel are checked
 * against, kept apart from those tables on purpose.
 */
#ifndef VDSOKIT_TESTS_ERA_OFFSETS_H
#define VDSOKIT_TESTS_ERA_OFFSETS_H

/* Where an era keeps what: byte offsets inside its time page. */
struct era_offsets {
    const char *era;
    unsigned rec[2];                /* seq of clock_data[0], [1] */
    int max_cycles;                 /* from the record start; -1: absent */
    unsigned mask, mult, shift, bt; /* from the record start */
    unsigned tz, dst, res;          /* page-level fields */
    int rng;                        /* -1: not in the time page */
};

static const struct era_offsets era_offsets[] = {
    /* vdso_data[2] at byte 128, 240 bytes each (no max_cycles); the rng copy at 640 is
     * read only from 6.11 (the profile writes it for the whole era, harmlessly). */
    {"6.1-6.9", {128, 368}, -1, 16, 24, 28, 32, 352, 356, 360, 640},
    /* 248-byte elements with max_cycles; rng at byte 640. */
    {"6.10-6.12", {128, 376}, 16, 24, 32, 36, 40, 360, 364, 368, 640},
    /* The same elements from byte 0: tz 0xe8, hrtimer_res 0xf0. */
    {"6.13-6.14", {0, 248}, 16, 24, 32, 36, 40, 0xe8, 0xec, 0xf0, 640},
    /* vdso_time_data: clock_data[0] 0x000, [1] 0x0e8, tz 0x1d0, res 0x1d8. */
    {"6.15-6.16", {0, 0xe8}, 16, 24, 32, 36, 40, 0x1d0, 0x1d4, 0x1d8, -1},
    /* abi.h's struct: two records, eight aux clocks, then tz at 0x910. */
    {"6.17-6.18", {0, 0xe8}, 16, 24, 32, 36, 40, 0x910, 0x914, 0x918, -1},
};
#define ERA_OFFSETS_COUNT (sizeof(era_offsets) / sizeof(era_offsets[0]))
/* The rows before abi.h's own layout: the ones a serializer writes. */
#define ERA_OFFSETS_FOREIGN (ERA_OFFSETS_COUNT - 1)

#endif /* VDSOKIT_TESTS_ERA_OFFSETS_H */
