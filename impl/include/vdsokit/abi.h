/*
 * The Linux x86-64 vDSO data area of kernels 6.15 to 6.18, as user space sees
 * it: the six data pages below the image text, the records the kernel's
 * update_vsyscall() writes into them, the clock ids the vDSO serves and the
 * clock modes. Every offset docs/abi.md §1.2 gives is pinned by a static assert,
 * so a layout mistake is a build error, not a wrong time. This header is
 * freestanding: the reference vDSO image includes it too.
 */
#ifndef VDSOKIT_ABI_H
#define VDSOKIT_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Page geometry: six data pages precede the image text (AT_SYSINFO_EHDR). */
#define VDSO_PAGE_SIZE     4096u
#define VDSO_DATA_PAGES    6
#define VDSO_TIME_PAGE     0 /* vdso_time_data, or the namespace page */
#define VDSO_TIMENS_PAGE   1 /* real time data inside a child time namespace */
#define VDSO_RNG_PAGE      2 /* vdso_rng_data */
#define VDSO_ARCH_PAGE     3 /* arch data; none on x86 */
#define VDSO_PVCLOCK_PAGE  4 /* [vvar_vclock] page 0: KVM pvclock of vCPU0 */
#define VDSO_HVCLOCK_PAGE  5 /* [vvar_vclock] page 1: Hyper-V TSC page */
#define VDSO_GENERIC_PAGES 4 /* the [vvar] VMA */
#define VDSO_VCLOCK_PAGES  2 /* the [vvar_vclock] VMA */

/* Clock ids (uapi/linux/time.h) and the aux range of 6.17+. */
#define VDSO_CLOCK_REALTIME         0
#define VDSO_CLOCK_MONOTONIC        1
#define VDSO_CLOCK_PROCESS_CPUTIME  2
#define VDSO_CLOCK_THREAD_CPUTIME   3
#define VDSO_CLOCK_MONOTONIC_RAW    4
#define VDSO_CLOCK_REALTIME_COARSE  5
#define VDSO_CLOCK_MONOTONIC_COARSE 6
#define VDSO_CLOCK_BOOTTIME         7
#define VDSO_CLOCK_REALTIME_ALARM   8
#define VDSO_CLOCK_BOOTTIME_ALARM   9
#define VDSO_CLOCK_SGI_CYCLE        10
#define VDSO_CLOCK_TAI              11
#define VDSO_MAX_CLOCKS             16
#define VDSO_CLOCK_AUX              16
#define VDSO_MAX_AUX_CLOCKS         8
#define VDSO_CLOCK_AUX_LAST         23

/* Which ids the vDSO serves from which data (bit n = clock id n). */
#define VDSO_HRES                                                                               \
    ((1u << VDSO_CLOCK_REALTIME) | (1u << VDSO_CLOCK_MONOTONIC) | (1u << VDSO_CLOCK_BOOTTIME) | \
     (1u << VDSO_CLOCK_TAI))
#define VDSO_COARSE ((1u << VDSO_CLOCK_REALTIME_COARSE) | (1u << VDSO_CLOCK_MONOTONIC_COARSE))
#define VDSO_RAW    (1u << VDSO_CLOCK_MONOTONIC_RAW)
#define VDSO_AUX    (0xffu << VDSO_CLOCK_AUX)
_Static_assert(VDSO_HRES == 0x883, "HRES class");
_Static_assert(VDSO_COARSE == 0x060, "COARSE class");
_Static_assert(VDSO_RAW == 0x010, "RAW class");
_Static_assert(VDSO_AUX == 0xff0000, "AUX class");

/* clock_data[] indices and the per-clock timestamp slots. */
#define VDSO_CS_HRES_COARSE 0
#define VDSO_CS_RAW         1
#define VDSO_CS_BASES       2
#define VDSO_BASES          (VDSO_CLOCK_TAI + 1)
#define VDSO_BASE_AUX       0

/* Clock modes: how the vDSO reads the counter. */
#define VDSO_CLOCKMODE_NONE    0
#define VDSO_CLOCKMODE_TSC     1
#define VDSO_CLOCKMODE_PVCLOCK 2
#define VDSO_CLOCKMODE_HVCLOCK 3
#define VDSO_CLOCKMODE_MAX     4
#define VDSO_CLOCKMODE_TIMENS  0x7fffffff

#define VDSO_NSEC_PER_SEC  1000000000ull
#define VDSO_NSEC_PER_USEC 1000u
#define VDSO_CPUNODE_BITS  12
#define VDSO_CPUNODE_MASK  0xfffu
#define VDSO_CPUNODE_SEG   (15 * 8 + 3) /* GDT_ENTRY_CPUNODE, RPL 3 */

/* sec/nsec base; nsec is shifted (ns << shift) for HRES and RAW slots. */
struct vdso_timestamp {
    uint64_t sec;
    uint64_t nsec;
};

/* The namespace page overlays basetime[] with these offsets. */
struct timens_offset {
    int64_t sec;
    uint64_t nsec;
};

struct vdso_clock {
    uint32_t seq;
    int32_t clock_mode;
    uint64_t cycle_last;
    uint64_t max_cycles;
    uint64_t mask;
    uint32_t mult;
    uint32_t shift;
    union {
        struct vdso_timestamp basetime[VDSO_BASES];
        struct timens_offset offset[VDSO_BASES];
    };
};

struct vdso_time_data {
    _Alignas(64) struct vdso_clock clock_data[VDSO_CS_BASES];
    struct vdso_clock aux_clock_data[VDSO_MAX_AUX_CLOCKS];
    int32_t tz_minuteswest;
    int32_t tz_dsttime;
    uint32_t hrtimer_res;
    uint32_t unused_pad;
};

struct vdso_rng_data {
    uint64_t generation;
    uint8_t is_ready;
};

/* KVM pvclock_vcpu_time_info: vCPU0's record at the start of the page. */
#define PVCLOCK_TSC_STABLE_BIT 0x01
struct pvclock_vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags;
    uint8_t pad[2];
};

/* Hyper-V reference TSC page (TLFS): time = (tsc * scale) >> 64 + offset. */
struct ms_hyperv_tsc_page {
    uint32_t tsc_sequence; /* 0 = invalid, use the syscall */
    uint32_t reserved1;
    uint64_t tsc_scale;
    int64_t tsc_offset;
};

/* Kernel 6.18 x86 feature numbers used by the vDSO's alternatives. */
#define X86_FEATURE_RDTSCP       (1 * 32 + 27)
#define X86_FEATURE_RDPID        (16 * 32 + 22)
#define X86_FEATURE_LFENCE_RDTSC (20 * 32 + 2)

/* One .altinstructions entry as stored in the image (14 bytes, packed). */
#define VDSO_ALT_ENTRY_SIZE 14
#define VDSO_ALT_FLAG_NOT   (1u << 16) /* apply when the feature is absent */

/* Layout of kernels 6.17/6.18 (docs/abi.md §1.2). */
_Static_assert(sizeof(struct vdso_timestamp) == 16, "vdso_timestamp size");
_Static_assert(sizeof(struct timens_offset) == 16, "timens_offset size");
_Static_assert(offsetof(struct vdso_clock, seq) == 0x00, "seq");
_Static_assert(offsetof(struct vdso_clock, clock_mode) == 0x04, "clock_mode");
_Static_assert(offsetof(struct vdso_clock, cycle_last) == 0x08, "cycle_last");
_Static_assert(offsetof(struct vdso_clock, max_cycles) == 0x10, "max_cycles");
_Static_assert(offsetof(struct vdso_clock, mask) == 0x18, "mask");
_Static_assert(offsetof(struct vdso_clock, mult) == 0x20, "mult");
_Static_assert(offsetof(struct vdso_clock, shift) == 0x24, "shift");
_Static_assert(offsetof(struct vdso_clock, basetime) == 0x28, "basetime");
_Static_assert(offsetof(struct vdso_clock, offset) == 0x28, "offset");
_Static_assert(sizeof(struct vdso_clock) == 0xe8, "vdso_clock size");
_Static_assert(offsetof(struct vdso_time_data, clock_data[VDSO_CS_HRES_COARSE]) == 0x000,
               "clock 0");
_Static_assert(offsetof(struct vdso_time_data, clock_data[VDSO_CS_RAW]) == 0x0e8, "clock 1");
_Static_assert(offsetof(struct vdso_time_data, aux_clock_data) == 0x1d0, "aux clocks");
_Static_assert(offsetof(struct vdso_time_data, tz_minuteswest) == 0x910, "tz_minuteswest");
_Static_assert(offsetof(struct vdso_time_data, tz_dsttime) == 0x914, "tz_dsttime");
_Static_assert(offsetof(struct vdso_time_data, hrtimer_res) == 0x918, "hrtimer_res");
_Static_assert(offsetof(struct vdso_time_data, unused_pad) == 0x91c, "__unused");
_Static_assert(sizeof(struct vdso_time_data) == 2368, "vdso_time_data size (cacheline aligned)");
_Static_assert(offsetof(struct vdso_rng_data, generation) == 0, "rng generation");
_Static_assert(offsetof(struct vdso_rng_data, is_ready) == 8, "rng is_ready");
_Static_assert(offsetof(struct pvclock_vcpu_time_info, version) == 0x00, "pvclock version");
_Static_assert(offsetof(struct pvclock_vcpu_time_info, tsc_timestamp) == 0x08,
               "pvclock tsc_timestamp");
_Static_assert(offsetof(struct pvclock_vcpu_time_info, system_time) == 0x10, "pvclock system_time");
_Static_assert(offsetof(struct pvclock_vcpu_time_info, tsc_to_system_mul) == 0x18, "pvclock mul");
_Static_assert(offsetof(struct pvclock_vcpu_time_info, tsc_shift) == 0x1c, "pvclock tsc_shift");
_Static_assert(offsetof(struct pvclock_vcpu_time_info, flags) == 0x1d, "pvclock flags");
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock record size");
_Static_assert(offsetof(struct ms_hyperv_tsc_page, tsc_scale) == 0x08, "hv tsc_scale");
_Static_assert(offsetof(struct ms_hyperv_tsc_page, tsc_offset) == 0x10, "hv tsc_offset");
_Static_assert(sizeof(struct vdso_time_data) <= VDSO_PAGE_SIZE, "time data fits its page");

/* Classify a clock id the way the 6.17+ vDSO does; bit tests on u32. */
static inline uint32_t vdso_clock_bit(int32_t clk)
{
    return (uint32_t)clk > VDSO_CLOCK_AUX_LAST ? 0 : 1u << (uint32_t)clk;
}

#endif /* VDSOKIT_ABI_H */
