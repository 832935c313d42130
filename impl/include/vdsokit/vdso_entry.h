/*
 * The entry points of an x86-64 Linux vDSO as a caller sees them: the kernel
 * ABI types they take (spelled out here so freestanding code needs no libc
 * header) and one function-pointer type per export. The reference image
 * exports these as __vdso_* under LINUX_2.6; the hosted build of the same
 * sources exports them as vdso_hosted_*. All return 0 or the raw syscall
 * result (-errno) and never touch errno.
 */
#ifndef VDSOKIT_VDSO_ENTRY_H
#define VDSOKIT_VDSO_ENTRY_H

#include <stdint.h>

/* struct __kernel_timespec */
struct vdso_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};

/* struct __kernel_old_timeval */
struct vdso_timeval {
    int64_t tv_sec;
    int64_t tv_usec;
};

/* struct timezone */
struct vdso_timezone {
    int32_t tz_minuteswest;
    int32_t tz_dsttime;
};

_Static_assert(sizeof(struct vdso_timespec) == 16, "timespec ABI");
_Static_assert(sizeof(struct vdso_timeval) == 16, "timeval ABI");
_Static_assert(sizeof(struct vdso_timezone) == 8, "timezone ABI");

typedef int (*vdso_clock_gettime_fn)(int32_t clk, struct vdso_timespec *ts);
typedef int (*vdso_gettimeofday_fn)(struct vdso_timeval *tv, struct vdso_timezone *tz);
typedef int64_t (*vdso_time_fn)(int64_t *t);
typedef int (*vdso_clock_getres_fn)(int32_t clk, struct vdso_timespec *res);
typedef long (*vdso_getcpu_fn)(unsigned *cpu, unsigned *node, void *unused);

/* The syscalls the time entry points fall back to (x86-64 numbers). */
#define VDSO_NR_GETTIMEOFDAY  96
#define VDSO_NR_CLOCK_GETTIME 228
#define VDSO_NR_CLOCK_GETRES  229

/*
 * CLOCK_*_COARSE resolution reported by clock_getres: the kernel's
 * LOW_RES_NSEC, i.e. TICK_NSEC = (1e9 + HZ/2) / HZ of the kernel being
 * mirrored. Fixed at build time (VDSOKIT_LOW_RES_NSEC); 4 000 000 is HZ=250.
 */
#ifndef VDSO_LOW_RES_NSEC
#define VDSO_LOW_RES_NSEC 4000000u
#endif

#endif /* VDSOKIT_VDSO_ENTRY_H */
