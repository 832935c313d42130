/*
 * Arch hooks for the hosted build: the same generic sources as the image,
 * compiled as ordinary (sanitizer- and fuzzer-instrumentable) code. The data
 * pages are wherever vdso_hosted_set_pages() says, and the TSC read, the
 * fallback, the CPU/node read and the read-loop observer go through the
 * hooks of vdsokit/vdso_hosted.h (implemented in vdso_hosted.c).
 */
#ifndef VDSO_ARCH_HOSTED_H
#define VDSO_ARCH_HOSTED_H

#include <stdint.h>
#include <vdsokit/abi.h>
#include <vdsokit/vdso_hosted.h>

#include "vdso_era.h"

#define VDSO_FN(name) vdso_hosted_##name
#define VDSO_EXPORT

/* No unprefixed aliases: they would collide with the C library. */
#define VDSO_ALIAS(name) _Static_assert(1, #name)

const unsigned char *vdso_hosted_page(unsigned index);
uint64_t vdso_hosted_rdtsc_ordered(void);
long vdso_hosted_fallback(long nr, long arg0, long arg1);
long vdso_hosted_syscall3(long nr, long arg0, long arg1, long arg2);
uint32_t vdso_hosted_read_cpunode(void);
void vdso_hosted_read_point(enum vdso_read_point at, const volatile void *word);

static inline const struct vdso_time_data *vdso_arch_time_data(void)
{
    return (const struct vdso_time_data *)vdso_hosted_page(VDSO_TIME_PAGE);
}

static inline const struct pvclock_vcpu_time_info *vdso_arch_pvclock(void)
{
    return (const struct pvclock_vcpu_time_info *)vdso_hosted_page(VDSO_PVCLOCK_PAGE);
}

static inline const struct ms_hyperv_tsc_page *vdso_arch_hvclock(void)
{
    return (const struct ms_hyperv_tsc_page *)vdso_hosted_page(VDSO_HVCLOCK_PAGE);
}

static inline uint64_t vdso_arch_rdtsc_ordered(void)
{
    return vdso_hosted_rdtsc_ordered();
}

static inline const struct vdso_rng_data *vdso_arch_rng_page(void)
{
    return (const struct vdso_rng_data *)vdso_hosted_page(VDSO_RNG_PAGE);
}

static inline long vdso_arch_syscall3(long nr, long arg0, long arg1, long arg2)
{
    return vdso_hosted_syscall3(nr, arg0, arg1, arg2);
}

static inline long vdso_arch_fallback(long nr, long arg0, long arg1)
{
    return vdso_hosted_fallback(nr, arg0, arg1);
}

static inline uint32_t vdso_arch_read_cpunode(void)
{
    return vdso_hosted_read_cpunode();
}

static inline void vdso_arch_cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

#define vdso_arch_read_point(at, word) vdso_hosted_read_point(at, word)

#endif /* VDSO_ARCH_HOSTED_H */
