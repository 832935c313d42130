/*
 * Time units and timespec arithmetic for the hosted code (emulated kernel,
 * conformance runner, tests, fuzzers, benchmarks). The freestanding image
 * keeps its own VDSO_NSEC_PER_* in vdsokit/abi.h; these are the same values
 * with the signed type that timespec arithmetic wants (tv_sec and tv_nsec
 * are signed, so a difference may be negative).
 */
#ifndef VDSOKIT_TIMESPEC_H
#define VDSOKIT_TIMESPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC  1000000000LL
#define NSEC_PER_USEC 1000LL
#define NSEC_PER_MSEC 1000000LL
#define USEC_PER_SEC  1000000LL

/* Nanoseconds of a normalised timespec whose value fits in 63 bits. */
static inline int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

/* a - b in nanoseconds. */
static inline int64_t ts_diff_ns(const struct timespec *a, const struct timespec *b)
{
    return ((int64_t)a->tv_sec - (int64_t)b->tv_sec) * NSEC_PER_SEC + (a->tv_nsec - b->tv_nsec);
}

/* tv_nsec in [0, 1e9) and tv_sec in a range whose ns fit in 63 bits. */
static inline bool ts_valid(const struct timespec *ts)
{
    return ts->tv_nsec >= 0 && ts->tv_nsec < NSEC_PER_SEC && ts->tv_sec >= 0 &&
           ts->tv_sec < INT64_MAX / NSEC_PER_SEC - 1;
}

/* sec + nsec with nsec of any sign brought into [0, 1e9). */
static inline struct timespec ts_normalise(int64_t sec, int64_t nsec)
{
    struct timespec ts;

    sec += nsec / NSEC_PER_SEC;
    nsec %= NSEC_PER_SEC;
    if (nsec < 0) {
        nsec += NSEC_PER_SEC;
        sec--;
    }
    ts.tv_sec = (time_t)sec;
    ts.tv_nsec = (long)nsec;
    return ts;
}

/* A signed nanosecond count as a normalised timespec (floor division). */
static inline struct timespec ts_from_ns(int64_t ns)
{
    return ts_normalise(0, ns);
}

static inline struct timespec ts_add(struct timespec a, struct timespec b)
{
    return ts_normalise((int64_t)a.tv_sec + b.tv_sec, (int64_t)a.tv_nsec + b.tv_nsec);
}

static inline struct timespec ts_sub(struct timespec a, struct timespec b)
{
    return ts_normalise((int64_t)a.tv_sec - b.tv_sec, (int64_t)a.tv_nsec - b.tv_nsec);
}

#endif /* VDSOKIT_TIMESPEC_H */
