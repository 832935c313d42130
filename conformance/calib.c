/*
 * Calibration. Latency is the spread of back-to-back clock_gettime
 * syscalls: the minimum is the cost of one call, the 99th percentile is
 * what a loaded VM adds; tolerances use the latter. The cross-CPU TSC skew
 * is measured over every pair of allowed CPUs (vdsokit/tsc_skew.h): it is
 * the only allowance group 4 gives a counter read past a state's end.
 */
#define _GNU_SOURCE
#include "calib.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/timex.h>

#include "oracle.h"
#include <vdsokit/tsc_skew.h>

#define LAT_SAMPLES 2001
#define SKEW_MS     10 /* per CPU pair: thousands of handoffs even on a loaded VM */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static void measure_latency(struct conf_calib *cal)
{
    static int64_t d[LAT_SAMPLES];
    struct timespec a, b;

    for (int i = 0; i < LAT_SAMPLES; i++) {
        sys_clock_gettime(CLOCK_MONOTONIC, &a);
        sys_clock_gettime(CLOCK_MONOTONIC, &b);
        d[i] = ts_ns(&b) - ts_ns(&a);
    }
    qsort(d, LAT_SAMPLES, sizeof(d[0]), cmp_i64);
    cal->sys_lat_min_ns = d[0] > 0 ? d[0] : 1;
    cal->sys_lat_med_ns = d[LAT_SAMPLES / 2];
    cal->sys_lat_p99_ns = d[LAT_SAMPLES * 99 / 100];
}

static bool cpuinfo_has_hypervisor(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");

    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        if (strncmp(line, "flags", 5) == 0 && strstr(line, " hypervisor"))
            found = true;
    fclose(f);
    return found;
}

void conf_calibrate(struct conf_calib *cal)
{
    memset(cal, 0, sizeof(*cal));
    measure_latency(cal);
    for (int id = 0; id < 24; id++) {
        struct timespec r;
        cal->res_ns[id] = sys_clock_getres(id, &r) == 0 ? ts_ns(&r) : 0;
    }
    cal->tick_ns = cal->res_ns[CLOCK_REALTIME_COARSE];
    if (cal->tick_ns <= 0)
        cal->tick_ns = 10000000; /* no coarse clock: assume HZ=100, the lowest x86 HZ */
    cal->ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
    sched_getaffinity(0, sizeof(cal->allowed), &cal->allowed);
    cal->nallowed = CPU_COUNT(&cal->allowed);
    cal->hypervisor = cpuinfo_has_hypervisor();
    struct timex tx = {0};
    if (adjtimex(&tx) >= 0)
        cal->tai_offset = tx.tai;
    struct tsc_skew skew;
    if (tsc_skew_measure(&cal->allowed, SKEW_MS, &skew) == 0) {
        cal->tsc_skew = skew.max_back;
        cal->skew_pairs = skew.pairs;
        cal->skew_handoffs = skew.handoffs;
    }
}

void conf_calib_print(const struct conf_calib *cal, FILE *out)
{
    fprintf(out,
            "calibration: syscall latency min %lld ns, median %lld ns, p99 %lld ns; "
            "hres resolution %lld ns; tick %lld ns; %d CPUs (%d allowed)%s; TAI offset %ld s; "
            "cross-CPU TSC skew %llu cycles (%u CPU pairs, %llu handoffs)\n",
            (long long)cal->sys_lat_min_ns, (long long)cal->sys_lat_med_ns,
            (long long)cal->sys_lat_p99_ns, (long long)cal->res_ns[CLOCK_MONOTONIC],
            (long long)cal->tick_ns, cal->ncpus, cal->nallowed,
            cal->hypervisor ? ", under a hypervisor" : "", cal->tai_offset,
            (unsigned long long)cal->tsc_skew, cal->skew_pairs,
            (unsigned long long)cal->skew_handoffs);
}
