/*
 * The counter read for a clock mode (docs/abi.md §2.3): the ordered TSC, the KVM
 * pvclock page of vCPU0, or the Hyper-V TSC page, each masked to 63 bits
 * (from 6.5; before, a reading with bit 63 set is unusable, vdso_era.h);
 * all-ones (which the caller treats as "use the syscall") for an unstable
 * pvclock, an invalid Hyper-V page or any other mode. The optional pages are
 * touched only after the mode says they are in use: they may be unmapped.
 */
#ifndef VCLOCK_READ_H
#define VCLOCK_READ_H

#include <stdbool.h>
#include <stdint.h>
#include <vdsokit/abi.h>

#include "vdso_arch.h"
#include "vdso_era.h"
#include "vdso_hotcold.h"
#include "vdso_seq.h"

#define VCLOCK_INVALID UINT64_MAX

/*
 * A TSC behind the record's stamp (a stale record, or TSC skew) counts as
 * no time elapsed: the 6.18 kernel image clamps the delta at 0, as a
 * differential state shows (6.12's does not: there the wrapped delta is
 * scaled as it is; VDSO_ERA_PVCLOCK_CLAMP). Shift counts are taken modulo
 * the operand width, as the x86 shift instructions the kernel's code
 * compiles to do, so that no page content makes the reference's arithmetic
 * undefined.
 */
static inline uint64_t vclock_pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (VDSO_ERA_PVCLOCK_CLAMP && (int64_t)delta < 0)
        delta = 0;
    if (shift < 0)
        delta >>= (unsigned)-shift & 63;
    else
        delta <<= (unsigned)shift & 63;
    return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/* The pvclock's nanoseconds, not yet masked; false when the TSC is not stable. */
VDSO_HOT_INLINE bool vclock_pvclock_ns(uint64_t *ns)
{
    const struct pvclock_vcpu_time_info *pvti = vdso_arch_pvclock();
    uint32_t version;

    do {
        /* An odd (in-update) version can never match the re-read below. */
        version = VDSO_READ(pvti->version) & ~1u;
        vdso_read_barrier();
        vdso_arch_read_point(VDSO_PVCLOCK_BEGIN, &pvti->version);
        if (!(VDSO_READ(pvti->flags) & PVCLOCK_TSC_STABLE_BIT))
            return false;
        uint64_t tsc = vdso_arch_rdtsc_ordered();
        *ns = VDSO_READ(pvti->system_time) +
              vclock_pvclock_scale(tsc - VDSO_READ(pvti->tsc_timestamp),
                                   VDSO_READ(pvti->tsc_to_system_mul), VDSO_READ(pvti->tsc_shift));
        vdso_arch_read_point(VDSO_PVCLOCK_RETRY, &pvti->version);
        vdso_read_barrier();
    } while (VDSO_UNLIKELY(VDSO_READ(pvti->version) != version));
    return true;
}

VDSO_HOT_INLINE uint64_t vclock_read_pvclock(void)
{
    uint64_t ns;

    if (!vclock_pvclock_ns(&ns))
        return VCLOCK_INVALID;
    return ns & VDSO_ERA_COUNTER_MASK;
}

static inline uint64_t vclock_read_hvclock(void)
{
    const struct ms_hyperv_tsc_page *tp = vdso_arch_hvclock();
    uint32_t sequence;
    uint64_t scale, tsc;
    int64_t offset;

    do {
        sequence = VDSO_READ(tp->tsc_sequence);
        if (sequence == 0)
            return VCLOCK_INVALID;
        vdso_read_barrier();
        vdso_arch_read_point(VDSO_HVCLOCK_BEGIN, &tp->tsc_sequence);
        scale = VDSO_READ(tp->tsc_scale);
        offset = VDSO_READ(tp->tsc_offset);
        tsc = vdso_arch_rdtsc_ordered();
        vdso_arch_read_point(VDSO_HVCLOCK_RETRY, &tp->tsc_sequence);
        vdso_read_barrier();
    } while (VDSO_UNLIKELY(VDSO_READ(tp->tsc_sequence) != sequence));
    return ((uint64_t)(((unsigned __int128)tsc * scale) >> 64) + (uint64_t)offset) &
           VDSO_ERA_COUNTER_MASK;
}

VDSO_HOT_INLINE uint64_t vclock_read(int32_t mode)
{
    if (VDSO_LIKELY(mode == VDSO_CLOCKMODE_TSC))
        return vdso_arch_rdtsc_ordered() & VDSO_ERA_COUNTER_MASK;
    if (mode == VDSO_CLOCKMODE_PVCLOCK) {
        vdso_compiler_barrier();
        return vclock_read_pvclock();
    }
    if (mode == VDSO_CLOCKMODE_HVCLOCK) {
        vdso_compiler_barrier();
        return vclock_read_hvclock();
    }
    /* NONE and any unknown mode. */
    return VCLOCK_INVALID;
}

/*
 * vclock_read() for a mode known at compile time, minus the 63-bit mask:
 * false when the counter is unusable, else *raw as read, for the caller to
 * check bit 63 (never set on hardware) and mask only then. That spares the
 * fast path a 64-bit mask constant held in a register. In an era without
 * the mask, bit 63 makes the reading unusable here already.
 */
VDSO_HOT_INLINE bool vclock_read_unmasked(int32_t mode, uint64_t *raw)
{
    if (mode == VDSO_CLOCKMODE_TSC) {
        *raw = vdso_arch_rdtsc_ordered();
        return VDSO_ERA_COUNTER_MASK == INT64_MAX || (int64_t)*raw >= 0;
    }
    if (mode == VDSO_CLOCKMODE_PVCLOCK) {
        vdso_compiler_barrier();
        return vclock_pvclock_ns(raw) && (VDSO_ERA_COUNTER_MASK == INT64_MAX || (int64_t)*raw >= 0);
    }
    *raw = vclock_read(mode);
    return (int64_t)*raw >= 0;
}

/* A reading the time can be computed from (x86: bit 63 clear). */
static inline bool vclock_ok(uint64_t cycles)
{
    return (int64_t)cycles >= 0;
}

#endif /* VCLOCK_READ_H */
