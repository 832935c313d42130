/*
 * Private to the kernel half: a counter domain's conversion parameters (the
 * kernel's struct clocksource, reduced to what the vDSO data needs), how
 * they are derived from a measured rate, and the host-clock sampling and TSC
 * calibration that measure it.
 */
#ifndef VDSOKIT_KERNEL_CLOCKSOURCE_H
#define VDSOKIT_KERNEL_CLOCKSOURCE_H

#include <stdint.h>
#include <time.h>
#include <vdsokit/timekeeper.h>

struct tk_clocksource {
    enum tk_counter_kind kind;
    uint32_t mult;     /* MONOTONIC rate before slew */
    uint32_t raw_mult; /* MONOTONIC_RAW rate */
    uint32_t shift;
    uint64_t mask;
    uint64_t max_cycles;
};

/* TSC rates measured against the host's clocks. */
struct tsc_rate {
    double raw_ns_per_cycle;  /* CLOCK_MONOTONIC_RAW */
    double mono_ns_per_cycle; /* CLOCK_MONOTONIC (NTP-steered) */
};

/* The largest delta whose 64-bit product with mult (plus 11% adjustment
 * headroom, as the kernel reserves) cannot overflow, capped at mask. */
uint64_t clocksource_max_cycles(uint32_t raw_mult, uint64_t mask);

/* Choose shift (largest that keeps mult in 32 bits and 600 s of counter
 * within a 64-bit product) and the two mults from ns-per-unit rates. */
int clocksource_from_rates(struct tk_clocksource *cs, enum tk_counter_kind kind,
                           double raw_ns_per_unit, double mono_ns_per_unit);

/* One host clock reading paired with the TSC at the same instant (the
 * midpoint of the narrowest of several rdtsc brackets). */
int host_sample(clockid_t clk, uint64_t *tsc, int64_t *ns);
int64_t host_value_at(int64_t ns, uint64_t tsc_sample, uint64_t tsc_at, double ns_per_cycle);

/* Measure the TSC against CLOCK_MONOTONIC_RAW and CLOCK_MONOTONIC over ms. */
int tsc_calibrate(struct tsc_rate *rate, unsigned ms);

#endif /* VDSOKIT_KERNEL_CLOCKSOURCE_H */
