/*
 * getcpu of the reference vDSO (docs/abi.md §3): the kernel keeps
 * (node << 12) | cpu in the limit of a per-CPU GDT entry and in TSC_AUX;
 * the arch reads whichever the CPU allows. Always returns 0; NULL pointers
 * are skipped; the cache argument is ignored.
 */
#include <stdint.h>
#include <vdsokit/abi.h>

#include "vdso_arch.h"
#include "vdso_exports.h"

VDSO_EXPORT long VDSO_FN(getcpu)(unsigned *cpu, unsigned *node, void *unused)
{
    uint32_t v = vdso_arch_read_cpunode();

    if (cpu)
        *cpu = v & VDSO_CPUNODE_MASK;
    if (node)
        *node = v >> VDSO_CPUNODE_BITS;
    return 0;
}
VDSO_ALIAS(getcpu);
