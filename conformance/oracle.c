/*
 * Raw syscalls and small reading helpers for the checks. The syscalls go
 * through syscall(2) so that neither the C library's vDSO use nor a
 * sanitizer interceptor can stand between the test and the kernel.
 */
#define _GNU_SOURCE
#include "oracle.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>

static int neg_errno(long r)
{
    return r < 0 ? -errno : (int)r;
}

int sys_clock_gettime(clockid_t clk, struct timespec *ts)
{
    return neg_errno(syscall(SYS_clock_gettime, clk, ts));
}

int sys_gettimeofday(struct timeval *tv, struct timezone *tz)
{
    return neg_errno(syscall(SYS_gettimeofday, tv, tz));
}

long sys_time(long *t)
{
    long r = syscall(SYS_time, t);

    return r < 0 ? -errno : r;
}

int sys_clock_getres(clockid_t clk, struct timespec *res)
{
    return neg_errno(syscall(SYS_clock_getres, clk, res));
}

int sys_getcpu(unsigned *cpu, unsigned *node)
{
    return neg_errno(syscall(SYS_getcpu, cpu, node, NULL));
}

int64_t mono_now_ns(void)
{
    struct timespec ts;

    sys_clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_ns(&ts);
}

const char *clock_name(clockid_t clk, char *buf, unsigned len)
{
    static const char *const names[] = {
        "realtime",       "monotonic",       "process_cputime",  "thread_cputime",
        "monotonic_raw",  "realtime_coarse", "monotonic_coarse", "boottime",
        "realtime_alarm", "boottime_alarm",  "sgi_cycle",        "tai",
    };
    if (clk >= 0 && clk < (clockid_t)(sizeof(names) / sizeof(names[0])))
        return names[clk];
    if (clk >= 16 && clk <= 23)
        snprintf(buf, len, "aux%d", clk - 16);
    else if (clk == INT_MIN)
        snprintf(buf, len, "int_min");
    else if (clk == INT_MAX)
        snprintf(buf, len, "int_max");
    else if (clk == -2)
        snprintf(buf, len, "cpu_thread_self");
    else if (clk == -6)
        snprintf(buf, len, "cpu_process_self");
    else if (clk == -3)
        snprintf(buf, len, "cpu_thread_virt");
    else if (clk == -5)
        snprintf(buf, len, "clockfd0");
    else if (clk < -8 && (pid_t) ~(clk >> 3) == getpid())
        snprintf(buf, len, "cpu_process_pid_self");
    else if (clk < -8)
        snprintf(buf, len, "cpu_process_pid%d", (int)~(clk >> 3));
    else
        snprintf(buf, len, "id%d", (int)clk);
    return buf;
}

int pin_to_cpu(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

int sysfs_cpu_node(int cpu)
{
    /* nodeN/cpuM exists exactly when CPU M belongs to node N. */
    for (int node = 0; node < 1024; node++) {
        char path[96];
        snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
        if (access(path, F_OK) != 0)
            continue;
        snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpu%d", node, cpu);
        if (access(path, F_OK) == 0)
            return node;
    }
    return -1;
}
