/*
 * Arch hooks for the real image (x86-64, freestanding, position independent).
 * The data pages are reached PC-relatively through symbols the linker script
 * places six to one pages below the image (which of them holds what is the
 * era's choice, vdso_era.h), the fallback is an inline
 * `syscall` whose raw result is returned, and the CPU-dependent reads (the
 * ordered TSC read, the CPU/node word) are alternatives sites that a loader
 * patches for the running CPU (vdso_alternative.h).
 */
#ifndef VDSO_ARCH_X86_64_H
#define VDSO_ARCH_X86_64_H

#include <stdint.h>
#include <vdsokit/abi.h>

#include "vdso_alternative.h"
#include "vdso_era.h"

#define VDSO_FN(name) __vdso_##name
/*
 * Entry points start on a cache line: where a short hot path (a coarse
 * clock is a dozen instructions) falls relative to the fetch blocks was
 * measured to cost up to 10% of a call.
 */
#define VDSO_EXPORT __attribute__((visibility("default"), aligned(64)))

/* The unprefixed weak alias every export has, as in the kernel's image. */
#define VDSO_ALIAS(name)                  \
    extern __typeof__(__vdso_##name) name \
        __attribute__((weak, alias("__vdso_" #name), visibility("default")))

/*
 * The six data pages, defined by vdso.lds just below the image start.
 * Hidden, so the compiler addresses them RIP-relatively and the image needs
 * no relocation; one object spanning all six pages, so the compiler knows
 * the namespace path's "next page" is inside it. Not const: the kernel (or
 * a test's writer) changes them under our feet.
 */
extern unsigned char vdso_ref_data_pages[VDSO_DATA_PAGES * VDSO_PAGE_SIZE]
    __attribute__((visibility("hidden")));

static inline const struct vdso_time_data *vdso_arch_time_data(void)
{
    return (const struct vdso_time_data *)&vdso_ref_data_pages[VDSO_ERA_TIME_PAGE * VDSO_PAGE_SIZE];
}

static inline const struct pvclock_vcpu_time_info *vdso_arch_pvclock(void)
{
    return (const struct pvclock_vcpu_time_info
                *)&vdso_ref_data_pages[VDSO_ERA_PV_PAGE * VDSO_PAGE_SIZE];
}

static inline const struct ms_hyperv_tsc_page *vdso_arch_hvclock(void)
{
    return (
        const struct ms_hyperv_tsc_page *)&vdso_ref_data_pages[VDSO_ERA_HV_PAGE * VDSO_PAGE_SIZE];
}

/* The rng data page of the generic store (6.15 on; older eras: vdso_getrandom.c). */
static inline const struct vdso_rng_data *vdso_arch_rng_page(void)
{
    return (const struct vdso_rng_data *)&vdso_ref_data_pages[VDSO_RNG_PAGE * VDSO_PAGE_SIZE];
}

/* The syscall the kernel would have served; its raw result, never errno. */
static inline long vdso_arch_fallback(long nr, long arg0, long arg1)
{
    long ret;

    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(nr), "D"(arg0), "S"(arg1)
                     : "rcx", "r11", "memory");
    return ret;
}

/* As vdso_arch_fallback, with three arguments (getrandom). */
static inline long vdso_arch_syscall3(long nr, long arg0, long arg1, long arg2)
{
    long ret;

    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(nr), "D"(arg0), "S"(arg1), "d"(arg2)
                     : "rcx", "r11", "memory");
    return ret;
}

/* One step of a spin on an odd sequence count. */
static inline void vdso_arch_cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

/* The image has no observer inside its read loops. */
#define vdso_arch_read_point(at, word) ((void)(word))

#endif /* VDSO_ARCH_X86_64_H */
