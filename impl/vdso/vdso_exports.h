/*
 * Prototypes of the exported entry points under the arch's names
 * (__vdso_* in the image, vdso_hosted_* in the hosted build).
 */
#ifndef VDSO_EXPORTS_H
#define VDSO_EXPORTS_H

#include <stddef.h>
#include <stdint.h>
#include <vdsokit/vdso_entry.h>

#include "vdso_arch.h"

VDSO_EXPORT int VDSO_FN(clock_gettime)(int32_t clk, struct vdso_timespec *ts);
VDSO_EXPORT int VDSO_FN(gettimeofday)(struct vdso_timeval *tv, struct vdso_timezone *tz);
VDSO_EXPORT int64_t VDSO_FN(time)(int64_t *t);
VDSO_EXPORT int VDSO_FN(clock_getres)(int32_t clk, struct vdso_timespec *res);
VDSO_EXPORT long VDSO_FN(getcpu)(unsigned *cpu, unsigned *node, void *unused);
VDSO_EXPORT long VDSO_FN(getrandom)(void *buf, size_t len, unsigned flags, void *opaque,
                                    size_t opaque_len);

#endif /* VDSO_EXPORTS_H */
