/*
 * The reader side of the data pages' seqcount protocol (docs/abi.md §2.2).
 * Every data-page word is loaded exactly once per use with a relaxed atomic
 * load (a plain `mov` on x86, and race-free for ThreadSanitizer in the
 * hosted build); acquire fences order the seq loads around the data loads
 * (compiler-only barriers on x86, as the kernel's smp_rmb()).
 */
#ifndef VDSO_SEQ_H
#define VDSO_SEQ_H

#include <stdbool.h>
#include <stdint.h>
#include <vdsokit/abi.h>

#include "vdso_arch.h"

#define VDSO_READ(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static inline void vdso_read_barrier(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

/* Keeps the compiler from hoisting loads of an optional page above a check. */
static inline void vdso_compiler_barrier(void)
{
    __asm__ volatile("" ::: "memory");
}

/* Wait for an even sequence count and return it. */
static inline uint32_t vdso_read_begin(const struct vdso_clock *vc)
{
    uint32_t seq;

    while ((seq = VDSO_READ(vc->seq)) & 1) {
        vdso_arch_read_point(VDSO_READ_SPIN, &vc->seq);
        vdso_arch_cpu_relax();
    }
    vdso_read_barrier();
    vdso_arch_read_point(VDSO_READ_BEGIN, &vc->seq);
    return seq;
}

/*
 * As vdso_read_begin(), but an odd count on a clock in mode TIMENS is the
 * namespace page (its seq is 1 for ever): return false instead of spinning.
 * Tasks outside a time namespace never see it, so they pay nothing.
 */
static inline bool vdso_read_begin_or_timens(const struct vdso_clock *vc, uint32_t *seq)
{
    uint32_t s;

    while ((s = VDSO_READ(vc->seq)) & 1) {
        if (VDSO_READ(vc->clock_mode) == VDSO_CLOCKMODE_TIMENS)
            return false;
        vdso_arch_read_point(VDSO_READ_SPIN, &vc->seq);
        vdso_arch_cpu_relax();
    }
    vdso_read_barrier();
    vdso_arch_read_point(VDSO_READ_BEGIN, &vc->seq);
    *seq = s;
    return true;
}

/* True when a writer ran since vdso_read_begin(): the loads must be redone. */
static inline bool vdso_read_retry(const struct vdso_clock *vc, uint32_t seq)
{
    vdso_arch_read_point(VDSO_READ_RETRY, &vc->seq);
    vdso_read_barrier();
    return __builtin_expect(VDSO_READ(vc->seq) != seq, 0);
}

#endif /* VDSO_SEQ_H */
