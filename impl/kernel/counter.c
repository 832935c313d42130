/*
 * Counter reads and writes for the three x86 vDSO clock sources. The read
 * side mirrors the vDSO's behaviour (seqlocks, stable flag, 63-bit mask);
 * the write side is what a hypervisor does to the shared records.
 */
#include <vdsokit/counter.h>

#define RELAXED_LOAD(p)     __atomic_load_n(p, __ATOMIC_RELAXED)
#define RELAXED_STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELAXED)

uint64_t counter_rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

uint64_t counter_rdtsc_after_stores(void)
{
    uint32_t lo, hi;

    /* mfence drains the store buffer; lfence keeps rdtsc from starting before it. */
    __asm__ __volatile__("mfence\n\tlfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

uint64_t counter_pvclock_scale(const struct pvclock_vcpu_time_info *snap, uint64_t tsc)
{
    uint64_t delta = tsc - snap->tsc_timestamp;
    int shift = snap->tsc_shift;

    /* A TSC behind the stamp means no time elapsed (the kernel clamps). */
    if ((int64_t)delta < 0)
        delta = 0;
    /* Shifts beyond the register width behave as the x86 shift count does. */
    if (shift < 0)
        delta >>= (unsigned)(-shift) & 63;
    else
        delta <<= (unsigned)shift & 63;
    unsigned __int128 product = (unsigned __int128)delta * snap->tsc_to_system_mul;
    return snap->system_time + (uint64_t)(product >> 32);
}

uint64_t counter_hvclock_scale(const struct ms_hyperv_tsc_page *snap, uint64_t tsc)
{
    unsigned __int128 product = (unsigned __int128)tsc * snap->tsc_scale;
    return (uint64_t)(product >> 64) + (uint64_t)snap->tsc_offset;
}

uint64_t counter_read_tsc(void)
{
    return counter_rdtsc() & COUNTER_MASK;
}

static void pvclock_copy(struct pvclock_vcpu_time_info *snap,
                         const struct pvclock_vcpu_time_info *page)
{
    snap->tsc_timestamp = RELAXED_LOAD(&page->tsc_timestamp);
    snap->system_time = RELAXED_LOAD(&page->system_time);
    snap->tsc_to_system_mul = RELAXED_LOAD(&page->tsc_to_system_mul);
    snap->tsc_shift = RELAXED_LOAD(&page->tsc_shift);
    snap->flags = RELAXED_LOAD(&page->flags);
}

void counter_pvclock_snapshot(const struct pvclock_vcpu_time_info *page,
                              struct pvclock_vcpu_time_info *snap)
{
    uint32_t version;

    do {
        version = RELAXED_LOAD(&page->version) & ~1u;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        pvclock_copy(snap, page);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while (RELAXED_LOAD(&page->version) != version);
    snap->version = version;
}

uint64_t counter_read_pvclock(const struct pvclock_vcpu_time_info *page)
{
    struct pvclock_vcpu_time_info snap;
    uint64_t value;
    uint32_t version;

    /* The vDSO takes the TSC inside the version window, so do we. */
    do {
        version = RELAXED_LOAD(&page->version) & ~1u;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        pvclock_copy(&snap, page);
        if (!(snap.flags & PVCLOCK_TSC_STABLE_BIT))
            return COUNTER_INVALID;
        value = counter_pvclock_scale(&snap, counter_rdtsc());
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while (RELAXED_LOAD(&page->version) != version);
    return value & COUNTER_MASK;
}

void counter_hvclock_snapshot(const struct ms_hyperv_tsc_page *page,
                              struct ms_hyperv_tsc_page *snap)
{
    uint32_t sequence;

    do {
        sequence = RELAXED_LOAD(&page->tsc_sequence);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        snap->tsc_scale = RELAXED_LOAD(&page->tsc_scale);
        snap->tsc_offset = RELAXED_LOAD(&page->tsc_offset);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while (RELAXED_LOAD(&page->tsc_sequence) != sequence);
    snap->tsc_sequence = sequence;
}

uint64_t counter_read_hvclock(const struct ms_hyperv_tsc_page *page)
{
    struct ms_hyperv_tsc_page snap;
    uint64_t value;
    uint32_t sequence;

    do {
        sequence = RELAXED_LOAD(&page->tsc_sequence);
        if (sequence == 0)
            return COUNTER_INVALID;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        snap.tsc_scale = RELAXED_LOAD(&page->tsc_scale);
        snap.tsc_offset = RELAXED_LOAD(&page->tsc_offset);
        value = counter_hvclock_scale(&snap, counter_rdtsc());
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while (RELAXED_LOAD(&page->tsc_sequence) != sequence);
    return value & COUNTER_MASK;
}

uint64_t counter_read_for_mode(int32_t mode, const struct pvclock_vcpu_time_info *pv,
                               const struct ms_hyperv_tsc_page *hv)
{
    switch (mode) {
    case VDSO_CLOCKMODE_TSC:
        return counter_read_tsc();
    case VDSO_CLOCKMODE_PVCLOCK:
        return pv ? counter_read_pvclock(pv) : COUNTER_INVALID;
    case VDSO_CLOCKMODE_HVCLOCK:
        return hv ? counter_read_hvclock(hv) : COUNTER_INVALID;
    default:
        return COUNTER_INVALID;
    }
}

void counter_pvclock_write(struct pvclock_vcpu_time_info *page,
                           const struct pvclock_vcpu_time_info *val)
{
    uint32_t version = (RELAXED_LOAD(&page->version) | 1u) + 1u; /* next even */

    RELAXED_STORE(&page->version, version - 1u);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    RELAXED_STORE(&page->tsc_timestamp, val->tsc_timestamp);
    RELAXED_STORE(&page->system_time, val->system_time);
    RELAXED_STORE(&page->tsc_to_system_mul, val->tsc_to_system_mul);
    RELAXED_STORE(&page->tsc_shift, val->tsc_shift);
    RELAXED_STORE(&page->flags, val->flags);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    RELAXED_STORE(&page->version, version);
}

void counter_hvclock_write(struct ms_hyperv_tsc_page *page, uint64_t scale, int64_t offset)
{
    uint32_t sequence = RELAXED_LOAD(&page->tsc_sequence) + 1u;

    if (sequence == 0)
        sequence = 1;
    RELAXED_STORE(&page->tsc_sequence, 0u);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    RELAXED_STORE(&page->tsc_scale, scale);
    RELAXED_STORE(&page->tsc_offset, offset);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    RELAXED_STORE(&page->tsc_sequence, sequence);
}
