/*
 * The destructive tier's driver helpers (destr_drive.h): bracketed writes of
 * the kernel's clock state and the dwell after each.
 */
#define _GNU_SOURCE
#include "destr_drive.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <vdsokit/abi.h>

#include "destr_trap.h"
#include "oracle.h"

static const char *const entry_names[DE_N] = {"clock_gettime", "gettimeofday", "time",
                                              "clock_getres", "getcpu"};

bool destr_settle(struct destr_driver *d)
{
    unsigned stuck;

    if (d->aborted)
        return false;
    if (destr_wait_readings(d->sh, DESTR_DWELL, d->hang_ns, &stuck) == 0)
        return true;
    struct destr_reader *r = &d->sh->readers[stuck];
    int e = atomic_load(&r->in_entry);
    conf_fail(d->ctx,
              "reader %u (cpu %d) made no progress for %.1f s, inside %s for %.1f s: a hang "
              "(or a reader starved that long); the tier stops here",
              stuck, d->sh->cpus[stuck], (double)d->hang_ns / NSEC_PER_SEC,
              e >= 0 && e < DE_N ? entry_names[e] : "the harness",
              (double)(dt_mono_ns() - atomic_load(&r->call_start)) / NSEC_PER_SEC);
    d->aborted = true;
    return false;
}

int64_t destr_true_realtime(const struct destr_driver *d)
{
    struct timespec raw;

    clock_gettime(CLOCK_MONOTONIC_RAW, &raw);
    double rate = 1.0 + (double)d->tx0.freq / 65536.0 / 1e6;
    return ts_ns(&d->rt0) + (int64_t)((double)ts_diff_ns(&raw, &d->raw0) * rate);
}

int destr_adjtimex(struct destr_driver *d, struct timex tx, const char *what)
{
    destr_begin(d->sh);
    int r = adjtimex(&tx);
    int e = errno;
    destr_end(d->sh);
    d->transitions++;
    if (r < 0) {
        conf_fail(d->ctx, "adjtimex (%s): %s", what, strerror(e));
        return -1;
    }
    return r;
}

bool destr_set_realtime(struct destr_driver *d, int64_t ns, const char *what)
{
    struct timespec ts = {ns / NSEC_PER_SEC, ns % NSEC_PER_SEC}, v = {-1, -1};

    destr_begin(d->sh);
    int64_t m0 = dt_mono_ns();
    long r = syscall(SYS_clock_settime, CLOCK_REALTIME, &ts);
    int e = errno;
    destr_end(d->sh);
    d->transitions++;
    if (r != 0) {
        conf_fail(d->ctx, "clock_settime (%s, %lld.%09ld): %s", what, (long long)ts.tv_sec,
                  ts.tv_nsec, strerror(e));
        return false;
    }
    int ret = d->sh->target->fn.clock_gettime(CLOCK_REALTIME, &v);
    int64_t dm = dt_mono_ns() - m0;
    if (ret != 0 || ts_ns(&v) < ns || ts_ns(&v) > ns + dm) {
        conf_fail(d->ctx,
                  "step %s to %lld.%09ld: the first clock_gettime(REALTIME) after it returned "
                  "gave %d, %lld.%09ld (want within %lld ns after the value set)",
                  what, (long long)ts.tv_sec, ts.tv_nsec, ret, (long long)v.tv_sec, v.tv_nsec,
                  (long long)dm);
        return false;
    }
    return true;
}

void destr_publish_mode(struct destr_driver *d, int cs_index)
{
    const struct conf_target *t = d->sh->target;
    int mode = t->clock_mode ? t->clock_mode(t) : -1;
    int served = mode < 0 ? -1
                 : mode == VDSO_CLOCKMODE_TSC || mode == VDSO_CLOCKMODE_PVCLOCK ||
                         mode == VDSO_CLOCKMODE_HVCLOCK
                     ? 1
                     : 0;

    if (cs_index >= 0 && cs_index < DESTR_MAX_CS)
        d->cs_mode[cs_index] = mode;
    atomic_store(&d->sh->served, served);
    atomic_store(&d->sh->cs, cs_index);
}
