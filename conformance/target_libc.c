/*
 * The `libc` target: the C library's clock_gettime, gettimeofday, time,
 * clock_getres and getcpu, adapted to the raw vDSO convention (0 or
 * -errno). The adapters also guard errno: a wrapper that changes errno on
 * success is a defect (defect class C18), reported as -EILSEQ, a value no
 * clock call returns, so that the consistency group sees it.
 */
#define _GNU_SOURCE
#include "target.h"

#include <errno.h>
#include <gnu/libc-version.h>
#include <sched.h>
#include <stdio.h>
#include <sys/auxv.h>

#define ERRNO_SENTINEL 0x7e57

static int finish(int r)
{
    if (r == 0)
        return errno == ERRNO_SENTINEL ? 0 : -EILSEQ;
    return -errno;
}

static int libc_clock_gettime(clockid_t clk, struct timespec *ts)
{
    errno = ERRNO_SENTINEL;
    return finish(clock_gettime(clk, ts));
}

/*
 * glibc declares tv nonnull, yet its wrapper passes NULL on to the vDSO like
 * the kernel does; calling through a plain pointer keeps a sanitizer's
 * nonnull check from turning the NULL-argument test into a crash.
 */
static int (*volatile const libc_gettimeofday_ptr)(struct timeval *, void *) = gettimeofday;

static int libc_gettimeofday(struct timeval *tv, struct timezone *tz)
{
    errno = ERRNO_SENTINEL;
    return finish(libc_gettimeofday_ptr(tv, tz));
}

static long libc_time(long *t)
{
    /* time_t is long on x86-64; time() has no error return. */
    return time((time_t *)t);
}

static int libc_clock_getres(clockid_t clk, struct timespec *res)
{
    errno = ERRNO_SENTINEL;
    return finish(clock_getres(clk, res));
}

static long libc_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
    (void)unused;
    errno = ERRNO_SENTINEL;
    return finish(getcpu(cpu, node));
}

const char *conf_libc_getrandom_why(void)
{
    static char why[200];

    snprintf(why, sizeof why,
             "glibc %s: getrandom(3) is the getrandom syscall here; glibc calls "
             "__vdso_getrandom only from 2.41, and its wrapper takes no state to test",
             gnu_get_libc_version());
    return why;
}

int conf_target_open_libc(struct conf_target *t, char *err, size_t errlen)
{
    t->kind = CONF_TARGET_LIBC;
    t->flags = 0;
    t->fn.clock_gettime = libc_clock_gettime;
    t->fn.gettimeofday = libc_gettimeofday;
    t->fn.time = libc_time;
    t->fn.clock_getres = libc_clock_getres;
    t->fn.getcpu = libc_getcpu;
    /* The C library serves from the kernel's vDSO, so its mode is the kernel's. */
    t->clock_mode = conf_live_clock_mode;
    t->describe_state = conf_live_describe_state;
    /* Without the probe the wrappers still run; only the clock mode stays unknown. */
    if (conf_live_attach(t, err, errlen))
        t->live = NULL;
    snprintf(t->detail, sizeof(t->detail), "C library wrappers (vDSO %s)",
             getauxval(AT_SYSINFO_EHDR) ? "present" : "absent");
    return 0;
}
