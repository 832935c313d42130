/*
 * The oracle: the kernel's own answers through the raw syscalls (returning
 * 0 or -errno like a vDSO entry point, never going through the C library or
 * the vDSO), plus the arithmetic on readings that the checks share.
 */
#ifndef VDSOCONF_ORACLE_H
#define VDSOCONF_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/time.h>

#include <vdsokit/timespec.h>

int sys_clock_gettime(clockid_t clk, struct timespec *ts);
int sys_gettimeofday(struct timeval *tv, struct timezone *tz);
long sys_time(long *t);
int sys_clock_getres(clockid_t clk, struct timespec *res);
int sys_getcpu(unsigned *cpu, unsigned *node);

/* Microseconds of a timeval, the unit gettimeofday readings are compared in. */
static inline int64_t tv_us(const struct timeval *tv)
{
    return (int64_t)tv->tv_sec * USEC_PER_SEC + tv->tv_usec;
}

static inline bool tv_valid(const struct timeval *tv)
{
    return tv->tv_usec >= 0 && tv->tv_usec < USEC_PER_SEC && tv->tv_sec >= 0 &&
           tv->tv_sec < INT64_MAX / NSEC_PER_SEC - 1;
}

/* Monotonic nanoseconds from the syscall, for budgets and deadlines. */
int64_t mono_now_ns(void);

/* A short name for a clock id, used in test ids ("monotonic", "aux3", "id-1"). */
const char *clock_name(clockid_t clk, char *buf, unsigned len);

/* Pin the calling thread to one CPU; 0 or -errno. */
int pin_to_cpu(int cpu);

/* The NUMA node sysfs gives for a CPU, or -1 when sysfs has no answer. */
int sysfs_cpu_node(int cpu);

#endif /* VDSOCONF_ORACLE_H */
