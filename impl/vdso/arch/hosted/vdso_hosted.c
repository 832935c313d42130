/*
 * The hosted build's side of the arch hooks: where the data pages are, the
 * hooks a harness installed, and the fallback bookkeeping. Configuration is
 * written before readers start and only read afterwards; the fallback
 * counters are atomics because readers on several threads update them.
 */
#include "vdso_arch.h"

#include <stddef.h>

static const unsigned char *hosted_page0;
static struct vdso_hosted_hooks hosted_hooks;
static unsigned long hosted_fallbacks;
static long hosted_last_nr = -1;

void vdso_hosted_set_pages(const void *page0)
{
    hosted_page0 = page0;
}

void vdso_hosted_set_hooks(const struct vdso_hosted_hooks *hooks)
{
    static const struct vdso_hosted_hooks defaults;

    hosted_hooks = hooks ? *hooks : defaults;
}

unsigned long vdso_hosted_fallback_count(void)
{
    return __atomic_load_n(&hosted_fallbacks, __ATOMIC_RELAXED);
}

long vdso_hosted_last_fallback_nr(void)
{
    return __atomic_load_n(&hosted_last_nr, __ATOMIC_RELAXED);
}

const unsigned char *vdso_hosted_page(unsigned index)
{
    return hosted_page0 + (size_t)index * VDSO_PAGE_SIZE;
}

uint64_t vdso_hosted_rdtsc_ordered(void)
{
    uint32_t lo, hi;

    if (hosted_hooks.read_tsc)
        return hosted_hooks.read_tsc(hosted_hooks.ctx);
    __asm__ volatile("lfence\n rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return (uint64_t)hi << 32 | lo;
}

long vdso_hosted_fallback(long nr, long arg0, long arg1)
{
    __atomic_fetch_add(&hosted_fallbacks, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&hosted_last_nr, nr, __ATOMIC_RELAXED);
    if (hosted_hooks.fallback)
        return hosted_hooks.fallback(hosted_hooks.ctx, nr, arg0, arg1);
    return VDSO_HOSTED_FALLBACK;
}

long vdso_hosted_syscall3(long nr, long arg0, long arg1, long arg2)
{
    __atomic_fetch_add(&hosted_fallbacks, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&hosted_last_nr, nr, __ATOMIC_RELAXED);
    if (hosted_hooks.syscall3)
        return hosted_hooks.syscall3(hosted_hooks.ctx, nr, arg0, arg1, arg2);
    return VDSO_HOSTED_FALLBACK;
}

uint32_t vdso_hosted_read_cpunode(void)
{
    uint32_t v;

    if (hosted_hooks.read_cpunode)
        return hosted_hooks.read_cpunode(hosted_hooks.ctx);
    /* Not patchable here: the segment-limit read works on every x86-64 Linux. */
    __asm__ volatile("lsl %1, %0" : "=r"(v) : "r"((uint32_t)VDSO_CPUNODE_SEG));
    return v;
}

void vdso_hosted_read_point(enum vdso_read_point at, const volatile void *word)
{
    if (hosted_hooks.read_point)
        hosted_hooks.read_point(hosted_hooks.ctx, at, word);
}
