/*
 * Test-side data pages for the reference vDSO tests: six pages laid out as
 * the kernel presents them (ROOT: page 1 and 3 inaccessible; TIMENS: page 0
 * is the namespace page, page 1 the real data) and helpers that write one
 * self-consistent state. Single-threaded tests write plain fields; the
 * stress test uses its own atomic writer.
 */
#ifndef VDSO_TEST_PAGES_H
#define VDSO_TEST_PAGES_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <vdsokit/abi.h>

#include "../check.h"

struct test_pages {
    uint8_t *base; /* page 0 of the six */
};

static inline struct vdso_time_data *tp_page(struct test_pages *p, unsigned index)
{
    return (struct vdso_time_data *)(p->base + (size_t)index * VDSO_PAGE_SIZE);
}

static inline struct pvclock_vcpu_time_info *tp_pvclock(struct test_pages *p)
{
    return (struct pvclock_vcpu_time_info *)(p->base + VDSO_PVCLOCK_PAGE * VDSO_PAGE_SIZE);
}

static inline struct ms_hyperv_tsc_page *tp_hvclock(struct test_pages *p)
{
    return (struct ms_hyperv_tsc_page *)(p->base + VDSO_HVCLOCK_PAGE * VDSO_PAGE_SIZE);
}

/* Six zeroed read-write pages at `at` (MAP_FIXED) or anywhere (at == NULL). */
static inline int tp_create_at(struct test_pages *p, void *at)
{
    void *m = mmap(at, VDSO_DATA_PAGES * VDSO_PAGE_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED : 0), -1, 0);
    if (m == MAP_FAILED)
        return -1;
    p->base = m;
    return 0;
}

static inline void tp_destroy(struct test_pages *p)
{
    munmap(p->base, VDSO_DATA_PAGES * VDSO_PAGE_SIZE);
}

/* Make page `index` unreadable (as the kernel's SIGBUS pages) or readable again. */
static inline void tp_protect(struct test_pages *p, unsigned index, int readable)
{
    int rc = mprotect(p->base + (size_t)index * VDSO_PAGE_SIZE, VDSO_PAGE_SIZE,
                      readable ? PROT_READ | PROT_WRITE : PROT_NONE);
    if (rc != 0) {
        perror("mprotect");
        abort();
    }
}

/* The counter parameters and bases of one clock, in the kernel's form. */
struct tp_clock {
    int32_t mode;
    uint64_t cycle_last, max_cycles, mult, shift;
};

static inline void tp_set_clock(struct vdso_clock *vc, uint32_t seq, const struct tp_clock *c)
{
    vc->seq = seq;
    vc->clock_mode = c->mode;
    vc->cycle_last = c->cycle_last;
    vc->max_cycles = c->max_cycles;
    vc->mask = UINT64_MAX;
    vc->mult = (uint32_t)c->mult;
    vc->shift = (uint32_t)c->shift;
}

static inline void tp_set_base(struct vdso_clock *vc, int clk, uint64_t sec, uint64_t nsec)
{
    vc->basetime[clk].sec = sec;
    vc->basetime[clk].nsec = nsec;
}

/* The pvclock page as the manual counter: the counter reads `value`. */
static inline void tp_set_manual_counter(struct test_pages *p, uint64_t value)
{
    struct pvclock_vcpu_time_info *pv = tp_pvclock(p);

    pv->tsc_to_system_mul = 0;
    pv->tsc_shift = 0;
    pv->tsc_timestamp = 0;
    pv->flags = PVCLOCK_TSC_STABLE_BIT;
    pv->system_time = value;
    pv->version += 2;
}

/* Turn page 0 into a namespace page over the real data now in page 1. */
static inline void tp_make_timens(struct test_pages *p, int64_t mono_sec, uint64_t mono_nsec,
                                  int64_t boot_sec, uint64_t boot_nsec)
{
    struct vdso_time_data *ns = tp_page(p, VDSO_TIME_PAGE);

    memset(ns, 0, sizeof(*ns));
    for (int i = 0; i < VDSO_CS_BASES + VDSO_MAX_AUX_CLOCKS; i++) {
        struct vdso_clock *vc =
            i < VDSO_CS_BASES ? &ns->clock_data[i] : &ns->aux_clock_data[i - VDSO_CS_BASES];
        vc->seq = 1;
        vc->clock_mode = VDSO_CLOCKMODE_TIMENS;
        vc->offset[VDSO_CLOCK_MONOTONIC] = (struct timens_offset){mono_sec, mono_nsec};
        vc->offset[VDSO_CLOCK_MONOTONIC_RAW] = (struct timens_offset){mono_sec, mono_nsec};
        vc->offset[VDSO_CLOCK_MONOTONIC_COARSE] = (struct timens_offset){mono_sec, mono_nsec};
        vc->offset[VDSO_CLOCK_BOOTTIME] = (struct timens_offset){boot_sec, boot_nsec};
        vc->offset[VDSO_CLOCK_BOOTTIME_ALARM] = (struct timens_offset){boot_sec, boot_nsec};
    }
}

#define CHECK_TS(ts, s, ns)                                                      \
    CHECK((ts).tv_sec == (int64_t)(s) && (ts).tv_nsec == (int64_t)(ns),          \
          "got {%" PRId64 ", %" PRId64 "}, expected {%" PRId64 ", %" PRId64 "}", \
          (int64_t)(ts).tv_sec, (int64_t)(ts).tv_nsec, (int64_t)(s), (int64_t)(ns))

#endif /* VDSO_TEST_PAGES_H */
