/*
 * The smoke statistics (rng_stats.h), computed in doubles over the bits in
 * byte order, least significant bit first.
 */
#include <math.h>

#include "rng_stats.h"

static double p_monobit(const uint8_t *buf, size_t n, double *ones_frac)
{
    uint64_t ones = 0;

    for (size_t i = 0; i < n; i++)
        ones += (uint64_t)__builtin_popcount(buf[i]);
    double bits = 8.0 * (double)n, s = 2.0 * (double)ones - bits;
    *ones_frac = (double)ones / bits;
    return erfc(fabs(s) / sqrt(bits) / sqrt(2.0));
}

static double p_runs(const uint8_t *buf, size_t n, double pi)
{
    double bits = 8.0 * (double)n;
    uint64_t runs = 1;
    unsigned prev = buf[0] & 1;

    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++) {
            unsigned bit = buf[i] >> b & 1;
            runs += bit != prev;
            prev = bit;
        }
    double expect = 2.0 * bits * pi * (1.0 - pi);
    return erfc(fabs((double)runs - expect) / (2.0 * sqrt(2.0 * bits) * pi * (1.0 - pi)));
}

static double p_chi2(const uint8_t *buf, size_t n)
{
    uint64_t count[256] = {0};
    double expect = (double)n / 256.0, x2 = 0, k = 255.0;

    for (size_t i = 0; i < n; i++)
        count[buf[i]]++;
    for (int v = 0; v < 256; v++)
        x2 += ((double)count[v] - expect) * ((double)count[v] - expect) / expect;
    double z = (cbrt(x2 / k) - (1.0 - 2.0 / (9.0 * k))) / sqrt(2.0 / (9.0 * k));
    return 0.5 * erfc(z / sqrt(2.0));
}

void rng_stats_compute(const uint8_t *buf, size_t n, struct rng_stats *out)
{
    double pi;

    out->p_monobit = p_monobit(buf, n, &pi);
    out->p_runs = p_runs(buf, n, pi);
    out->p_chi2 = p_chi2(buf, n);
}
