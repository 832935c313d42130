/*
 * The timing probes (see probe.h). A batch of calls is timed by the
 * monotonic syscall on either side, less what an empty batch costs, so the
 * timer's own cost is not charged to the entry point; the best batch is
 * the call's cost on a quiet CPU, the median what a loaded one gives. The
 * child sends its numbers back as one struct through a pipe: it is the
 * same binary.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "oracle.h"

const char *const probe_entry_names[PROBE_NENTRY] = {"clock_gettime", "gettimeofday", "time",
                                                     "clock_getres", "getcpu"};

const int probe_clock_ids[PROBE_NCLOCKS] = {
    CLOCK_REALTIME, CLOCK_MONOTONIC,       CLOCK_MONOTONIC_RAW,    CLOCK_BOOTTIME,
    CLOCK_TAI,      CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,
};

#define BATCHES      31
#define VDSO_BATCH   512 /* calls per batch: about 10 us of a 20 ns call */
#define SYS_BATCH    32  /* a syscall costs 10-50 times more */
#define OFFSET_TRIES 16
/* Far above the probe's cost (an image load calibrates for 20 ms). */
#define PROBE_DEADLINE_NS (10 * NSEC_PER_SEC)

static long sys_getcpu3(unsigned *cpu, unsigned *node, void *unused)
{
    (void)unused;
    return sys_getcpu(cpu, node);
}

static const struct conf_vdso_fns syscalls = {sys_clock_gettime, sys_gettimeofday, sys_time,
                                              sys_clock_getres,  sys_getcpu3,      NULL};

static bool has_entry(const struct conf_vdso_fns *f, int e)
{
    const void *p[PROBE_NENTRY] = {(const void *)f->clock_gettime, (const void *)f->gettimeofday,
                                   (const void *)f->time, (const void *)f->clock_getres,
                                   (const void *)f->getcpu};

    return p[e] != NULL;
}

static void call_n(const struct conf_vdso_fns *f, int e, unsigned n)
{
    struct timespec ts;
    struct timeval tv;
    unsigned cpu, node;

    for (unsigned i = 0; i < n; i++) {
        switch (e) {
        case 0:
            f->clock_gettime(CLOCK_MONOTONIC, &ts);
            break;
        case 1:
            f->gettimeofday(&tv, NULL);
            break;
        case 2:
            f->time(NULL);
            break;
        case 3:
            f->clock_getres(CLOCK_MONOTONIC, &ts);
            break;
        default:
            f->getcpu(&cpu, &node, NULL);
            break;
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* What timing an empty batch costs: the two syscalls around it. */
static int64_t timer_overhead(void)
{
    int64_t best = INT64_MAX;

    for (int i = 0; i < BATCHES; i++) {
        int64_t t0 = mono_now_ns();
        int64_t d = mono_now_ns() - t0;
        if (d < best)
            best = d;
    }
    return best;
}

static struct probe_cost cost_of(const struct conf_vdso_fns *f, int e, unsigned batch,
                                 int64_t overhead)
{
    struct probe_cost c = {.present = has_entry(f, e)};
    double per[BATCHES];

    if (!c.present)
        return c;
    call_n(f, e, batch); /* warm the caches and the page tables */
    for (int b = 0; b < BATCHES; b++) {
        int64_t t0 = mono_now_ns();
        call_n(f, e, batch);
        int64_t d = mono_now_ns() - t0 - overhead;
        per[b] = (double)(d > 0 ? d : 0) / batch;
    }
    qsort(per, BATCHES, sizeof(per[0]), cmp_double);
    c.best = per[0];
    c.median = per[BATCHES / 2];
    return c;
}

static void measure_latency(const struct conf_target *t, void *out)
{
    struct probe_latency *l = out;
    int64_t overhead = timer_overhead();

    for (int e = 0; e < PROBE_NENTRY; e++) {
        l->vdso[e] = cost_of(&t->fn, e, VDSO_BATCH, overhead);
        l->sys[e] = cost_of(&syscalls, e, SYS_BATCH, overhead);
    }
    l->measured = true;
}

static void measure_offsets(const struct conf_target *t, void *out)
{
    struct probe_offsets *o = out;

    for (int k = 0; k < PROBE_NCLOCKS && t->fn.clock_gettime; k++) {
        int64_t best = INT64_MAX;
        for (int i = 0; i < OFFSET_TRIES; i++) {
            struct timespec s0, v, s1;
            sys_clock_gettime(probe_clock_ids[k], &s0);
            int rc = t->fn.clock_gettime(probe_clock_ids[k], &v);
            sys_clock_gettime(probe_clock_ids[k], &s1);
            int64_t width = ts_ns(&s1) - ts_ns(&s0);
            if (rc != 0 || width >= best)
                continue;
            best = width;
            o->present[k] = true;
            o->offset[k] = ts_ns(&v) - (ts_ns(&s0) + width / 2);
        }
    }
    o->measured = true;
}

/* The probe's child: a private instance of the target, the measurement, the struct. */
static void child(const struct conf_target *proto, void (*fn)(const struct conf_target *, void *),
                  void *buf, size_t len, int wfd)
{
    setpgid(0, 0);
    struct conf_target t = *proto;
    char err[512];
    if (conf_target_enter_child(&t, err, sizeof(err)) != 0) {
        fprintf(stderr, "vdsoconf: timing probe of %s: %s\n", t.name, err);
        _exit(2);
    }
    fn(&t, buf);
    ssize_t w = write(wfd, buf, len);
    _exit(w == (ssize_t)len ? 0 : 3);
}

/* Read len bytes from fd until the deadline; true when all came. */
static bool read_all(int fd, void *buf, size_t len, int64_t deadline)
{
    size_t got = 0;

    while (got < len) {
        int64_t left = deadline - mono_now_ns();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left / NSEC_PER_MSEC) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            return false;
        got += n > 0 ? (size_t)n : 0;
    }
    return true;
}

/* Run fn in a child; false with why (len bytes) when it gave no answer. */
static bool in_child(const struct conf_target *t, void (*fn)(const struct conf_target *, void *),
                     void *buf, size_t len, char *why, size_t why_len)
{
    int fds[2];

    if (pipe(fds) != 0) {
        snprintf(why, why_len, "pipe: %s", strerror(errno));
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        child(t, fn, buf, len, fds[1]);
    }
    setpgid(pid, pid);
    close(fds[1]);
    bool ok = read_all(fds[0], buf, len, mono_now_ns() + PROBE_DEADLINE_NS);
    close(fds[0]);
    kill(-pid, SIGKILL); /* a hang, or helpers the target left behind */
    int st = 0;
    waitpid(pid, &st, 0);
    if (ok)
        return true;
    if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
        snprintf(why, why_len, "the probe's child was killed by signal %d (%s)", WTERMSIG(st),
                 strsignal(WTERMSIG(st)));
    else if (WIFEXITED(st))
        snprintf(why, why_len, "the probe's child exited with status %d", WEXITSTATUS(st));
    else
        snprintf(why, why_len, "the probe's child gave no answer in %.0f s (a hang); killed",
                 (double)PROBE_DEADLINE_NS / NSEC_PER_SEC);
    return false;
}

void probe_latency(const struct conf_target *t, struct probe_latency *out)
{
    int64_t t0 = mono_now_ns();

    memset(out, 0, sizeof(*out));
    if (!in_child(t, measure_latency, out, sizeof(*out), out->why, sizeof(out->why))) {
        char why[sizeof(out->why)];
        memcpy(why, out->why, sizeof(why));
        memset(out, 0, sizeof(*out));
        memcpy(out->why, why, sizeof(why));
    }
    out->seconds = (double)(mono_now_ns() - t0) / NSEC_PER_SEC;
}

void probe_offsets(const struct conf_target *t, struct probe_offsets *out)
{
    char why[160];

    memset(out, 0, sizeof(*out));
    if (!in_child(t, measure_offsets, out, sizeof(*out), why, sizeof(why)))
        memset(out, 0, sizeof(*out));
}
