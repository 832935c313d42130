/*
 * The cross-CPU TSC skew, measured: how far a TSC read on one CPU can be
 * below one read earlier on another CPU, where "earlier" is proven by a
 * memory handoff between them. Two threads pinned to the two CPUs of a
 * pair take strict turns; each reads the TSC (ordered after it saw its
 * turn) and compares it with the reading the other CPU left behind, as a timekeeper's supersede
 * point and a vDSO reader's counter are compared. The largest apparent step back over every pair is
 * the bound an oracle allows between counters read on different CPUs.
 */
#ifndef VDSOKIT_TSC_SKEW_H
#define VDSOKIT_TSC_SKEW_H

#include <sched.h> /* cpu_set_t: the includer defines _GNU_SOURCE */
#include <stdint.h>

struct tsc_skew {
    uint64_t max_back; /* the largest apparent step back seen, in TSC cycles */
    unsigned pairs;    /* CPU pairs measured */
    uint64_t handoffs; /* comparisons across CPUs */
};

/*
 * Measure over the CPUs in `cpus`: every pair when there are at most 8,
 * else each CPU against the first (and the bound doubled: skew(a, b) is at
 * most skew(a, first) + skew(first, b)), for `ms_per_pair` each (0 = 10),
 * again (up to 8 times) while the pair made fewer than 1000 handoffs.
 * A pair whose threads cannot be pinned is left out. 0 or -errno.
 */
int tsc_skew_measure(const cpu_set_t *cpus, unsigned ms_per_pair, struct tsc_skew *out);

#endif /* VDSOKIT_TSC_SKEW_H */
