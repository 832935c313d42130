/*
 * The 128-bit reference model of the x86-64 vDSO time functions (kernel
 * 6.17/6.18 semantics, docs/abi.md §2.3-§2.8): pure functions, no I/O. Given
 * one committed state as a reader sees it and the counter value the vDSO
 * would read, they return the exact result every entry point produces, or
 * say that the vDSO would fall back to the syscall, spin on an odd seq, or
 * fault on an unbacked page. The arithmetic is the kernel's, including its
 * 64-bit wrap, the negative-delta clamp, the 128-bit path above max_cycles,
 * the u32 quotient of the iterative normalisation, and the x86 shift count
 * (mod 64, mod 128 on the 128-bit path) for shifts a fuzzer may write.
 */
#ifndef VDSOKIT_TK_MODEL_H
#define VDSOKIT_TK_MODEL_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>
#include <vdsokit/abi.h>
#include <vdsokit/layout_profile.h>

enum tk_model_outcome {
    TK_MODEL_OK = 0,       /* served from the data pages; the result is exact */
    TK_MODEL_FALLBACK = 1, /* the vDSO makes the syscall with the original arguments */
    TK_MODEL_SPIN = 2,     /* seq is odd and not a namespace page: the reader waits */
    TK_MODEL_FAULT = 3,    /* the vDSO would touch an unbacked page (real page absent) */
};

/* One reader's view of a committed state. */
struct tk_model_view {
    const struct vdso_time_data *page0; /* reader page 0: time data or namespace page */
    const struct vdso_time_data *real;  /* reader page 1 in a namespace, NULL in the root */
    uint64_t counter;                   /* what the vDSO reads in the mode of the clock read */
    uint32_t low_res_nsec;              /* the host's TICK_NSEC, for COARSE getres */
    enum layout_delta_rule delta;       /* the image's era (0: 6.10+, the reference's) */
};

/* The x86 cycles-to-shifted-ns step (6.10+), returning ns >> shift. */
uint64_t tk_model_calc_ns(const struct vdso_clock *vc, uint64_t cycles, uint64_t base_nsec);

/* The same under an era's delta rule (docs/abi.md §2.4): before 6.10
 * there is no max_cycles and no 128-bit path; the product wraps. */
uint64_t tk_model_calc_ns_rule(enum layout_delta_rule rule, const struct vdso_clock *vc,
                               uint64_t cycles, uint64_t base_nsec);

/* sec + (u32)(ns / 1e9), ns % 1e9: the kernel's iterative normalisation. */
void tk_model_normalise(uint64_t sec, uint64_t ns, struct timespec *ts);

/* The entry points. Outputs are written only on TK_MODEL_OK; NULL output
 * pointers are accepted where the vDSO accepts them (getres res, tv, tz). */
enum tk_model_outcome tk_model_clock_gettime(const struct tk_model_view *v, int32_t clk,
                                             struct timespec *ts);
enum tk_model_outcome tk_model_gettimeofday(const struct tk_model_view *v, struct timeval *tv,
                                            struct timezone *tz);
enum tk_model_outcome tk_model_clock_getres(const struct tk_model_view *v, int32_t clk,
                                            struct timespec *res);
/* time(): the REALTIME slot's seconds, no seq loop, never falls back;
 * TK_MODEL_FAULT only when a namespace page points at an absent real page. */
enum tk_model_outcome tk_model_time(const struct tk_model_view *v, int64_t *t);

const char *tk_model_outcome_name(enum tk_model_outcome o);

#endif /* VDSOKIT_TK_MODEL_H */
