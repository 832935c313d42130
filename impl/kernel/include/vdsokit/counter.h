/*
 * The x86 counters the vDSO reads (docs/abi.md §2.3): the TSC, the KVM pvclock
 * record of vCPU0 and the Hyper-V reference TSC page. Pure scaling formulas
 * (for models and oracles), reads that follow each page's own seqlock
 * exactly as the vDSO does, and writers that update a page under that
 * seqlock. A record's fields are accessed with relaxed atomics and fences,
 * so readers and writers may live in different threads.
 */
#ifndef VDSOKIT_COUNTER_H
#define VDSOKIT_COUNTER_H

#include <stdint.h>
#include <vdsokit/abi.h>

#define COUNTER_INVALID UINT64_MAX /* what the vDSO reads when it must fall back */
#define COUNTER_MASK    INT64_MAX  /* vDSO counter reads are masked to 63 bits */

/* lfence; rdtsc: the full 64-bit TSC, ordered against earlier loads. */
uint64_t counter_rdtsc(void);
/* mfence; lfence; rdtsc: the TSC read after every earlier store of this
 * thread is globally visible (a writer's "after my seq store" point). */
uint64_t counter_rdtsc_after_stores(void);

/* Pure formulas on a consistent snapshot, no masking:
 * pvclock: system_time + ((tsc - tsc_timestamp) shifted by tsc_shift) * mul >> 32
 *          (u64 wrap of the difference, 128-bit product);
 * hvclock: ((u128)tsc * tsc_scale >> 64) + tsc_offset. */
uint64_t counter_pvclock_scale(const struct pvclock_vcpu_time_info *snap, uint64_t tsc);
uint64_t counter_hvclock_scale(const struct ms_hyperv_tsc_page *snap, uint64_t tsc);

/* What the vDSO reads in each mode: the TSC masked to 63 bits; the pvclock
 * value under its version seqlock (spins while the version is odd), or
 * COUNTER_INVALID when TSC_STABLE is clear; the Hyper-V value under its
 * sequence, COUNTER_INVALID when the sequence is 0. */
uint64_t counter_read_tsc(void);
uint64_t counter_read_pvclock(const struct pvclock_vcpu_time_info *page);
uint64_t counter_read_hvclock(const struct ms_hyperv_tsc_page *page);

/* Dispatch on a clock mode the way x86 __arch_get_hw_counter does; any mode
 * other than TSC, PVCLOCK, HVCLOCK reads COUNTER_INVALID. A NULL page reads
 * COUNTER_INVALID for its mode. */
uint64_t counter_read_for_mode(int32_t mode, const struct pvclock_vcpu_time_info *pv,
                               const struct ms_hyperv_tsc_page *hv);

/* Snapshot a record under its seqlock (pvclock: until the version is even
 * and unchanged; Hyper-V: until the sequence is unchanged). */
void counter_pvclock_snapshot(const struct pvclock_vcpu_time_info *page,
                              struct pvclock_vcpu_time_info *snap);
void counter_hvclock_snapshot(const struct ms_hyperv_tsc_page *page,
                              struct ms_hyperv_tsc_page *snap);

/* Writers. pvclock: version odd, fields, version even (the new version is
 * page version + 2, rounded to even). Hyper-V: sequence 0 (invalid) while
 * the fields change, then the next non-zero sequence. */
void counter_pvclock_write(struct pvclock_vcpu_time_info *page,
                           const struct pvclock_vcpu_time_info *val);
void counter_hvclock_write(struct ms_hyperv_tsc_page *page, uint64_t scale, int64_t offset);

#endif /* VDSOKIT_COUNTER_H */
