/*
 * The data-page era the reference is built for (docs/abi.md §0.1, §0.2):
 * one generic algorithm, and here the few facts that differ between x86-64
 * kernels from 6.1 to 6.18, chosen at compile time by the LINUX_VERSION_CODE
 * the image's `Linux` note carries (VDSO_LINUX_VERSION_CODE, default
 * 6.18.0, the native build). Per era: which of the six pages below the text
 * hold the time data, the real data inside a namespace and the clock pages;
 * the record and page layout, declared under abi.h's struct names so that
 * the algorithm's field accesses compile to the era's offsets (the kernel
 * itself renamed vdso_data to vdso_clock the same way when 6.15 changed
 * its store); the delta rule, the counter mask and the pvclock clamp; and
 * whether the aux clocks exist. The
 * alternatives format is vdso_alternative.h's, by the same version. The
 * hosted build is always native.
 */
#ifndef VDSO_ERA_H
#define VDSO_ERA_H

#include <stddef.h>
#include <stdint.h>
#include <vdsokit/abi.h>

#ifndef VDSO_LINUX_VERSION_CODE
#define VDSO_LINUX_VERSION_CODE 0x061200u /* KERNEL_VERSION(6, 18, 0) */
#endif

/* The era holds kernels major.minor and later (the code's own version at least that). */
#define VDSO_ERA_FROM(major, minor) (VDSO_LINUX_VERSION_CODE >= ((major) << 16 | (minor) << 8))

#if !VDSO_ERA_FROM(6, 1) || VDSO_LINUX_VERSION_CODE > 0x0612ffu
#error "VDSO_LINUX_VERSION_CODE: the reference knows the eras of Linux 6.1 to 6.18"
#endif

/*
 * Which page of the six below the text: the time data (the namespace page
 * inside a namespace), the real time data inside a namespace, the KVM
 * pvclock and the Hyper-V page. An era with four data pages (up to 6.14)
 * fills the top of the six, as its kernel maps them directly below the text.
 */
#if !VDSO_ERA_FROM(6, 13)
#define VDSO_ERA_TIME_PAGE    2 /* [vvar] 0: data, 1: pvclock, 2: Hyper-V, 3: namespace slot */
#define VDSO_ERA_NS_REAL_PAGE 5
#define VDSO_ERA_PV_PAGE      3
#define VDSO_ERA_HV_PAGE      4
#elif !VDSO_ERA_FROM(6, 15)
#define VDSO_ERA_TIME_PAGE    2 /* [vvar] 0: data, 1: namespace slot; [vvar_vclock] 0, 1 */
#define VDSO_ERA_NS_REAL_PAGE 3
#define VDSO_ERA_PV_PAGE      VDSO_PVCLOCK_PAGE
#define VDSO_ERA_HV_PAGE      VDSO_HVCLOCK_PAGE
#else
#define VDSO_ERA_TIME_PAGE    VDSO_TIME_PAGE
#define VDSO_ERA_NS_REAL_PAGE VDSO_TIMENS_PAGE
#define VDSO_ERA_PV_PAGE      VDSO_PVCLOCK_PAGE
#define VDSO_ERA_HV_PAGE      VDSO_HVCLOCK_PAGE
#endif

/* From the namespace page to the real time data, in bytes. */
#define VDSO_ERA_NS_REAL_OFFSET ((VDSO_ERA_NS_REAL_PAGE - VDSO_ERA_TIME_PAGE) * VDSO_PAGE_SIZE)

#if !VDSO_ERA_FROM(6, 17)
/*
 * The era's clock record: 6.17's minus max_cycles before 6.10, and before
 * 6.15 followed by the page-level fields (tz, dsttime, hrtimer_res, pad),
 * which only element 0 uses.
 */
struct vdso_era_clock {
    uint32_t seq;
    int32_t clock_mode;
    uint64_t cycle_last;
#if VDSO_ERA_FROM(6, 10)
    uint64_t max_cycles;
#endif
    uint64_t mask;
    uint32_t mult;
    uint32_t shift;
    union {
        struct vdso_timestamp basetime[VDSO_BASES];
        struct timens_offset offset[VDSO_BASES];
    };
#if !VDSO_ERA_FROM(6, 15)
    uint32_t page_fields[4];
#endif
};

/* The era's time page, with the page-level fields under 6.17's names. */
struct vdso_era_time_data {
#if !VDSO_ERA_FROM(6, 13)
    uint8_t arch_data[128]; /* the records follow the x86 arch area */
#endif
#if !VDSO_ERA_FROM(6, 15)
    union {
        struct vdso_era_clock clock_data[VDSO_CS_BASES];
        struct {
            uint8_t record0_head[offsetof(struct vdso_era_clock, page_fields)];
            int32_t tz_minuteswest;
            int32_t tz_dsttime;
            uint32_t hrtimer_res;
        };
    };
#else
    struct vdso_era_clock clock_data[VDSO_CS_BASES];
    int32_t tz_minuteswest;
    int32_t tz_dsttime;
    uint32_t hrtimer_res;
    uint32_t unused_pad;
#endif
};

/* The offsets of docs/abi.md §1.2 (and vdsokit_live's layout_era.c rows). */
#if !VDSO_ERA_FROM(6, 10)
_Static_assert(sizeof(struct vdso_era_clock) == 240, "6.1-6.9 record size");
_Static_assert(offsetof(struct vdso_era_time_data, tz_minuteswest) == 352, "6.1-6.9 tz");
#elif !VDSO_ERA_FROM(6, 13)
_Static_assert(sizeof(struct vdso_era_clock) == 248, "6.10-6.12 record size");
_Static_assert(offsetof(struct vdso_era_time_data, tz_minuteswest) == 360, "6.10-6.12 tz");
#elif !VDSO_ERA_FROM(6, 15)
_Static_assert(sizeof(struct vdso_era_clock) == 248, "6.13-6.14 record size");
_Static_assert(offsetof(struct vdso_era_time_data, tz_minuteswest) == 232, "6.13-6.14 tz");
#else
_Static_assert(sizeof(struct vdso_era_clock) == 232, "6.15-6.16 record size");
_Static_assert(offsetof(struct vdso_era_time_data, tz_minuteswest) == 464, "6.15-6.16 tz");
#endif
_Static_assert(offsetof(struct vdso_era_time_data, hrtimer_res) ==
                   offsetof(struct vdso_era_time_data, tz_minuteswest) + 8,
               "hrtimer_res follows tz");
_Static_assert(offsetof(struct vdso_era_clock, basetime) == (VDSO_ERA_FROM(6, 10) ? 0x28 : 0x20),
               "basetime");

/* The reference's sources read the era's structs under abi.h's names. */
#define vdso_clock     vdso_era_clock
#define vdso_time_data vdso_era_time_data
#endif /* before 6.17 */

/*
 * The delta of a counter reading against cycle_last, and the delta above
 * which the 128-bit path and its backwards clamp apply (docs/abi.md §2.4).
 * 6.10+: the plain difference and max_cycles. 6.5-6.9: the difference cut
 * to 63 bits, 0 when bit 62 says the counter went backwards. Up to 6.4: the
 * difference only when the counter moved forward, else 0. Before 6.10 the
 * product is always 64-bit: there is no limit.
 */
static inline uint64_t vdso_era_delta(uint64_t cycles, uint64_t last)
{
#if VDSO_ERA_FROM(6, 10)
    return cycles - last;
#elif VDSO_ERA_FROM(6, 5)
    uint64_t delta = (cycles - last) & INT64_MAX;

    return delta & (1ull << 62) ? 0 : delta;
#else
    return cycles > last ? cycles - last : 0;
#endif
}

#if VDSO_ERA_FROM(6, 10)
#define vdso_era_max_cycles(vc) __atomic_load_n(&(vc)->max_cycles, __ATOMIC_RELAXED)
#else
#define vdso_era_max_cycles(vc) ((void)(vc), UINT64_MAX)
#endif

/*
 * Counter reads are cut to 63 bits from 6.5; before, a reading with bit 63
 * set (never on hardware) is unusable and goes to the syscall.
 */
#if VDSO_ERA_FROM(6, 5)
#define VDSO_ERA_COUNTER_MASK ((uint64_t)INT64_MAX)
#else
#define VDSO_ERA_COUNTER_MASK UINT64_MAX
#endif

/*
 * The pvclock read clamps a TSC behind the record's stamp to no time
 * elapsed in 6.18 (and so 6.17, same era); 6.12 scales the wrapped delta
 * (the kernel matrix's differential shows both). 6.13-6.16 are not
 * verified and built without it.
 */
#define VDSO_ERA_PVCLOCK_CLAMP VDSO_ERA_FROM(6, 17)

/*
 * The aux clocks (ids 16-23) exist from 6.17; before, every id from
 * MAX_CLOCKS on goes to the syscall, so their class bits are cleared.
 */
#if VDSO_ERA_FROM(6, 17)
#define VDSO_ERA_AUX                VDSO_AUX
#define vdso_era_aux_clock(vd, idx) (&(vd)->aux_clock_data[idx])
#else
#define VDSO_ERA_AUX                0u
#define vdso_era_aux_clock(vd, idx) ((void)(vd), (void)(idx), (const struct vdso_clock *)0)
#endif

static inline uint32_t vdso_era_clock_bit(int32_t clk)
{
    return vdso_clock_bit(clk) & (~VDSO_AUX | VDSO_ERA_AUX);
}

#endif /* VDSO_ERA_H */
