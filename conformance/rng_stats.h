/*
 * The statistics of the getrandom group's smoke test: three classic tests
 * over a buffer of random bytes, each giving a p-value (the chance that a
 * uniform generator gives a result at least this extreme): monobit (the
 * count of one bits), runs (the number of runs of equal bits, NIST SP
 * 800-22 §2.3) and a chi-square of the 256 byte values (255 degrees of
 * freedom, Wilson-Hilferty's normal approximation). A smoke test: it
 * catches a stuck, biased or repeating output, not a weak generator.
 */
#ifndef VDSOCONF_RNG_STATS_H
#define VDSOCONF_RNG_STATS_H

#include <stddef.h>
#include <stdint.h>

struct rng_stats {
    double p_monobit, p_runs, p_chi2;
};

void rng_stats_compute(const uint8_t *buf, size_t n, struct rng_stats *out);

#endif /* VDSOCONF_RNG_STATS_H */
