/*
 * The destructive tier's reader threads (destr_readers.h). A reading is one
 * call of one entry point between two syscalls (and two MONOTONIC
 * syscalls outside those, bounding how far any clock moved meanwhile). With
 * no transition in the bracket the checks are exact: the call lies between
 * the syscalls, TAI is REALTIME plus the offset last set, tz is the one last
 * set, a HRES call is served or falls back as the clock mode says. A bracket
 * that a step overlapped can only hold the time before it or after it: the
 * reading lies within dm (the MONOTONIC time of the bracket) after the first
 * syscall or within dm before the second. MONOTONIC, RAW, BOOTTIME and the
 * coarse clocks are exact and never go back whatever the transition.
 */
#define _GNU_SOURCE
#include "destr_readers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "destr_trap.h"
#include "oracle.h"

static const clockid_t clocks[] = {CLOCK_REALTIME,        CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
                                   CLOCK_BOOTTIME,        CLOCK_TAI,       CLOCK_REALTIME_COARSE,
                                   CLOCK_MONOTONIC_COARSE};
#define NCLOCKS (sizeof(clocks) / sizeof(clocks[0]))

/* A reader's own state: only its thread touches it. */
struct rstate {
    struct destr_shared *sh;
    struct destr_reader *r;
    uint64_t i, seed;
    int kind;
    uint64_t g1;
    int pinned; /* the CPU this thread pinned itself to, -1 when not pinned */
    int pin_kind;
    struct timespec last[16];     /* per clock id: the previous reading */
    struct timespec last_sys[16]; /* and the syscall's after it */
    bool last_ok[16];             /* and whether it lay between its syscalls */
};

static void rlog_to(struct rstate *s, bool finding, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Single writer: the entry is complete before the count publishes it. */
static void vlog(struct rstate *s, bool finding, const char *fmt, va_list ap)
{
    _Atomic unsigned *count = finding ? &s->r->nfind[s->kind] : &s->r->nfail[s->kind];
    struct destr_failure *log = finding ? s->r->find[s->kind] : s->r->log[s->kind];
    unsigned n = atomic_load_explicit(count, memory_order_relaxed);

    if (n < DESTR_LOG)
        vsnprintf(log[n].text, sizeof(log[n].text), fmt, ap);
    atomic_store_explicit(count, n + 1, memory_order_release);
}

static void rlog_to(struct rstate *s, bool finding, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(s, finding, fmt, ap);
    va_end(ap);
}

#define rlog(s, ...) rlog_to(s, false, __VA_ARGS__)

static bool stable(const struct rstate *s)
{
    return !(s->g1 & 1) && atomic_load(&s->sh->gen) == s->g1;
}

static bool monotone_clock(clockid_t clk)
{
    return clk != CLOCK_REALTIME && clk != CLOCK_REALTIME_COARSE && clk != CLOCK_TAI;
}

/* A stepped clock's reading: before the step (near lo) or after it (near hi). */
static bool within_step(int64_t v, int64_t lo, int64_t hi, int64_t dm)
{
    return (v >= lo && v <= lo + dm) || (v >= hi - dm && v <= hi);
}

static void count_served(struct rstate *s, const char *what, bool served)
{
    int cs = atomic_load(&s->sh->cs), want = atomic_load(&s->sh->served);

    /* Counted at rest only: mid-switch, the kernel's mode and the index published differ. */
    if (cs >= 0 && cs < DESTR_MAX_CS && stable(s))
        atomic_fetch_add_explicit(served ? &s->r->served[cs] : &s->r->fell_back[cs], 1,
                                  memory_order_relaxed);
    if (want >= 0 && served != (want == 1) && stable(s))
        rlog(s, "%s was %s, but the kernel's clock mode says it must %s (clocksource #%d)", what,
             served ? "served without a syscall" : "answered by the syscall",
             want ? "be served" : "fall back to the syscall", cs);
}

/*
 * A clock that never goes back: exactly between the syscalls, unless the
 * syscall itself went back inside the bracket (MONOTONIC_COARSE does on 6.1
 * and 6.12 when NTP changes the multiplier): then on either side of that, and a
 * finding about the kernel. A reading below the reader's previous one with
 * both readings between their syscalls means the syscall went back too: a
 * finding as well; the target going back on its own fails the bracket.
 */
static bool check_monotone(struct rstate *s, clockid_t clk, const struct timespec *v,
                           const struct timespec *s1, const struct timespec *s2, int64_t dm,
                           const char *name)
{
    int64_t lo = ts_ns(s1), hi = ts_ns(s2), got = ts_ns(v);
    bool kernel_back = hi < lo;
    bool ok = kernel_back ? within_step(got, hi, lo, dm) : got >= lo && got <= hi;

    if (kernel_back)
        rlog_to(s, true, "the syscall's %s went back by %lld ns inside one reading", name,
                (long long)(lo - hi));
    if (!ok)
        rlog(s, "%s = %lld.%09ld outside the syscall's [%lld.%09ld, %lld.%09ld]", name,
             (long long)v->tv_sec, v->tv_nsec, (long long)s1->tv_sec, s1->tv_nsec,
             (long long)s2->tv_sec, s2->tv_nsec);
    else if (s->last_ok[clk] && got < ts_ns(&s->last[clk]))
        rlog_to(s, true,
                "%s went back by %lld ns between two readings, and the syscall from %lld.%09ld to "
                "%lld.%09ld",
                name, (long long)(ts_ns(&s->last[clk]) - got), (long long)s->last_sys[clk].tv_sec,
                s->last_sys[clk].tv_nsec, (long long)s1->tv_sec, s1->tv_nsec);
    s->last[clk] = *v;
    s->last_sys[clk] = *s2;
    s->last_ok[clk] = ok;
    return ok;
}

static void check_gettime(struct rstate *s)
{
    clockid_t clk = clocks[(s->i / DE_N) % NCLOCKS];
    clockid_t ref = clk == CLOCK_TAI ? CLOCK_REALTIME : clk;
    bool coarse = clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE;
    int64_t off = clk == CLOCK_TAI ? atomic_load(&s->sh->tai) * NSEC_PER_SEC : 0;
    struct timespec s1, s2, v = {-1, -1};
    char name[48], buf[32];

    snprintf(name, sizeof(name), "clock_gettime(%s)", clock_name(clk, buf, sizeof(buf)));
    int64_t m1 = dt_mono_ns();
    dt_clock_gettime(ref, &s1);
    unsigned t0 = destr_trap_count();
    int ret = s->sh->target->fn.clock_gettime(clk, &v);
    unsigned t1 = destr_trap_count();
    dt_clock_gettime(ref, &s2);
    int64_t dm = dt_mono_ns() - m1 + (coarse ? s->sh->calib->tick_ns : 0);
    if (ret != 0 || !ts_valid(&v)) {
        rlog(s, "%s returned %d {%lld, %ld}", name, ret, (long long)v.tv_sec, v.tv_nsec);
        return;
    }
    if (!coarse)
        count_served(s, name, t0 == t1);
    if (monotone_clock(clk)) {
        check_monotone(s, clk, &v, &s1, &s2, dm, name);
        return;
    }
    int64_t lo = ts_ns(&s1) + off, hi = ts_ns(&s2) + off, got = ts_ns(&v);
    if (stable(s) && (got < lo || got > hi))
        rlog(s,
             "%s = %lld.%09ld outside the syscall's [%lld.%09ld, %lld.%09ld]%s (no transition in "
             "between)",
             name, (long long)v.tv_sec, v.tv_nsec, (long long)(lo / NSEC_PER_SEC),
             (long)(lo % NSEC_PER_SEC), (long long)(hi / NSEC_PER_SEC), (long)(hi % NSEC_PER_SEC),
             off ? " plus the TAI offset last set" : "");
    else if (!stable(s) && clk != CLOCK_TAI && !within_step(got, lo, hi, dm))
        rlog(s,
             "%s = %lld.%09ld during a transition: neither within %lld ns after the syscall "
             "before (%lld.%09ld) nor before the syscall after (%lld.%09ld)",
             name, (long long)v.tv_sec, v.tv_nsec, (long long)dm, (long long)s1.tv_sec, s1.tv_nsec,
             (long long)s2.tv_sec, s2.tv_nsec);
}

static void check_gettimeofday(struct rstate *s)
{
    struct timeval s1, s2, v = {-1, -1};
    struct timezone tz = {-12345, -12345};
    int want_min = atomic_load(&s->sh->tz_min), want_dst = atomic_load(&s->sh->tz_dst);

    int64_t m1 = dt_mono_ns();
    dt_gettimeofday(&s1, NULL);
    unsigned t0 = destr_trap_count();
    int ret = s->sh->target->fn.gettimeofday(&v, &tz);
    unsigned t1 = destr_trap_count();
    dt_gettimeofday(&s2, NULL);
    int64_t dm = (dt_mono_ns() - m1) / NSEC_PER_USEC + 1;
    if (ret != 0 || !tv_valid(&v)) {
        rlog(s, "gettimeofday returned %d {%lld, %ld}", ret, (long long)v.tv_sec, v.tv_usec);
        return;
    }
    count_served(s, "gettimeofday", t0 == t1);
    int64_t lo = tv_us(&s1), hi = tv_us(&s2), got = tv_us(&v);
    if (stable(s)) {
        if (got < lo || got > hi)
            rlog(s, "gettimeofday = %lld.%06ld outside the syscall's [%lld.%06ld, %lld.%06ld]",
                 (long long)v.tv_sec, v.tv_usec, (long long)s1.tv_sec, s1.tv_usec,
                 (long long)s2.tv_sec, s2.tv_usec);
        if (tz.tz_minuteswest != want_min || tz.tz_dsttime != want_dst)
            rlog(s, "gettimeofday tz = %d/%d, the tz last set is %d/%d", tz.tz_minuteswest,
                 tz.tz_dsttime, want_min, want_dst);
    } else if (!within_step(got, lo, hi, dm)) {
        rlog(s,
             "gettimeofday = %lld.%06ld during a transition: outside both sides of "
             "[%lld.%06ld, %lld.%06ld]",
             (long long)v.tv_sec, v.tv_usec, (long long)s1.tv_sec, s1.tv_usec, (long long)s2.tv_sec,
             s2.tv_usec);
    }
}

/*
 * time() is the coarse second. It is bracketed by the REALTIME_COARSE
 * syscall: the time syscall reads the timekeeper's second without its
 * seqcount and can show a step before the data page has it.
 */
static long coarse_sec(void)
{
    struct timespec ts = {-1, 0};

    dt_clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (long)ts.tv_sec;
}

static void check_time(struct rstate *s)
{
    long out = -1;
    int64_t m1 = dt_mono_ns();
    long s1 = coarse_sec();
    long v = s->sh->target->fn.time(&out);
    long s2 = coarse_sec();
    int64_t dm = (dt_mono_ns() - m1 + s->sh->calib->tick_ns) / NSEC_PER_SEC + 1;

    if (v != out)
        rlog(s, "time returned %ld but stored %ld", v, out);
    else if (stable(s) ? v < s1 || v > s2 : !within_step(v, s1, s2, dm))
        rlog(s, "time = %ld outside the REALTIME_COARSE syscall's [%ld, %ld]%s", v, s1, s2,
             stable(s) ? "" : " on both sides of a transition");
}

static void check_getres(struct rstate *s)
{
    clockid_t clk = clocks[(s->i / DE_N) % NCLOCKS];
    struct timespec s1, s2, v = {-1, -1};
    char buf[32];

    dt_clock_getres(clk, &s1);
    int ret = s->sh->target->fn.clock_getres(clk, &v);
    dt_clock_getres(clk, &s2);
    if (ret != 0 || (ts_ns(&v) != ts_ns(&s1) && ts_ns(&v) != ts_ns(&s2)))
        rlog(s, "clock_getres(%s) returned %d, %lld ns; the syscall %lld ns then %lld ns",
             clock_name(clk, buf, sizeof(buf)), ret, (long long)ts_ns(&v), (long long)ts_ns(&s1),
             (long long)ts_ns(&s2));
}

static int node_of(const struct destr_shared *sh, unsigned cpu)
{
    for (unsigned i = 0; i < sh->nreaders; i++)
        if (sh->cpus[i] == (int)cpu)
            return sh->nodes[i];
    return -1;
}

static bool in_set(unsigned cpu, const cpu_set_t *set)
{
    return cpu < CPU_SETSIZE && CPU_ISSET(cpu, set);
}

/* Hotplug: a random subset of the CPUs, set by the reader itself. */
static void check_getcpu_churn(struct rstate *s)
{
    const struct destr_shared *sh = s->sh;
    cpu_set_t want, now;
    uint64_t bits = conf_rand(&s->seed);

    CPU_ZERO(&want);
    for (unsigned i = 0; i < sh->nreaders; i++)
        if (bits >> i & 1 || i == bits % sh->nreaders)
            CPU_SET(sh->cpus[i], &want);
    s->pinned = -1;
    sched_setaffinity(0, sizeof(want), &want); /* EINVAL when all are offline: kept */
    uint64_t offline = atomic_load(&s->sh->offline);
    unsigned c = ~0u, n = ~0u;
    long ret = sh->target->fn.getcpu(&c, &n, NULL);
    sched_getaffinity(0, sizeof(now), &now);
    if (ret != 0 || (!in_set(c, &want) && !in_set(c, &now)))
        rlog(s,
             "getcpu returned %ld, cpu %u: in neither the mask set (%#lx) nor the one in force "
             "after",
             ret, c, (unsigned long)bits);
    else if (c < 64 && (offline >> c & 1) && stable(s))
        rlog(s, "getcpu named cpu %u, which is offline", c);
    else if (node_of(sh, c) >= 0 && n != (unsigned)node_of(sh, c))
        rlog(s, "getcpu: cpu %u node %u, sysfs says node %d", c, n, node_of(sh, c));
}

/* Pinned: reader i sits on CPU (i + kind) mod n, a new CPU each kind. */
static void check_getcpu_pinned(struct rstate *s)
{
    const struct destr_shared *sh = s->sh;
    unsigned slot = (s->r->index + (unsigned)s->kind) % sh->nreaders;
    int want = sh->cpus[slot];

    if (s->pinned != want || s->pin_kind != s->kind) {
        s->pin_kind = s->kind;
        s->pinned = pin_to_cpu(want) == 0 ? want : -1;
    }
    if (s->pinned < 0)
        return;
    unsigned c = ~0u, n = ~0u;
    long ret = sh->target->fn.getcpu(&c, &n, NULL);
    if (ret != 0 || c != (unsigned)want || (sh->nodes[slot] >= 0 && n != (unsigned)sh->nodes[slot]))
        rlog(s, "pinned to cpu %d (sysfs node %d): getcpu returned %ld, cpu %u node %u", want,
             sh->nodes[slot], ret, c, n);
}

static void reading(struct rstate *s)
{
    struct destr_reader *r = s->r;
    enum destr_entry e = (enum destr_entry)(s->i % DE_N);

    s->kind = atomic_load(&s->sh->kind);
    s->g1 = atomic_load(&s->sh->gen);
    atomic_store(&r->call_start, dt_mono_ns());
    atomic_store(&r->in_entry, (int)e);
    switch (e) {
    case DE_GETTIME:
        check_gettime(s);
        break;
    case DE_GETTIMEOFDAY:
        check_gettimeofday(s);
        break;
    case DE_TIME:
        check_time(s);
        break;
    case DE_GETRES:
        check_getres(s);
        break;
    default:
        if (atomic_load(&s->sh->churn))
            check_getcpu_churn(s);
        else
            check_getcpu_pinned(s);
        break;
    }
    atomic_store(&r->in_entry, -1);
    atomic_fetch_add_explicit(&r->readings[s->kind][e], 1, memory_order_relaxed);
    atomic_fetch_add(&r->progress, 1);
    s->i++;
}

static void *reader_main(void *p)
{
    struct destr_reader *r = p;
    struct destr_shared *sh = r->sh;
    struct rstate s = {.sh = sh,
                       .r = r,
                       .seed = 0x9e3779b97f4a7c15ull * (r->index + 1),
                       .pinned = -1,
                       .pin_kind = -1};

    while (!atomic_load(&sh->stop))
        reading(&s);
    return NULL;
}

int destr_readers_start(struct destr_shared *sh)
{
    for (unsigned i = 0; i < sh->nreaders; i++) {
        struct destr_reader *r = &sh->readers[i];
        r->index = i;
        r->sh = sh;
        atomic_store(&r->in_entry, -1);
        int e = pthread_create(&r->thread, NULL, reader_main, r);
        if (e) {
            sh->nreaders = i;
            destr_readers_stop(sh);
            return -e;
        }
    }
    return 0;
}

void destr_readers_stop(struct destr_shared *sh)
{
    atomic_store(&sh->stop, 1);
    for (unsigned i = 0; i < sh->nreaders; i++)
        pthread_join(sh->readers[i].thread, NULL);
}

void destr_begin(struct destr_shared *sh)
{
    atomic_fetch_add(&sh->gen, 1);
}

void destr_end(struct destr_shared *sh)
{
    atomic_fetch_add(&sh->gen, 1);
}

int destr_wait_readings(struct destr_shared *sh, unsigned n, int64_t hang_ns, unsigned *stuck)
{
    uint64_t start[DESTR_MAX_READERS], seen[DESTR_MAX_READERS];
    int64_t since[DESTR_MAX_READERS], now = dt_mono_ns();

    for (unsigned i = 0; i < sh->nreaders; i++) {
        start[i] = seen[i] = atomic_load(&sh->readers[i].progress);
        since[i] = now;
    }
    for (;;) {
        bool all = true;
        now = dt_mono_ns();
        for (unsigned i = 0; i < sh->nreaders; i++) {
            uint64_t p = atomic_load(&sh->readers[i].progress);
            if (p != seen[i]) {
                seen[i] = p;
                since[i] = now;
            } else if (now - since[i] > hang_ns) {
                *stuck = i;
                return -1;
            }
            all &= p - start[i] >= n;
        }
        if (all)
            return 0;
        struct timespec nap = {0, 2000000};
        nanosleep(&nap, NULL);
    }
}

uint64_t destr_readings(const struct destr_shared *sh, enum destr_kind k, enum destr_entry e)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < sh->nreaders; i++)
        n += atomic_load_explicit(&sh->readers[i].readings[k][e], memory_order_relaxed);
    return n;
}
