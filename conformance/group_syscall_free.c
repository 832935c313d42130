/*
 * Group 6, syscall-free (defect class C26: a silent fallback gives right
 * answers slowly). The clock gate (clock_gate.h) in the group's child traps
 * every clock syscall that does not come from the suite's own syscall
 * instruction, wherever it comes from: the vDSO's fallback, the C library's
 * own (glibc falls back from libc.so, not from the vDSO: for `libc` that is
 * a syscall of the target's call all the same), or a mutant's wrapper. Each
 * trap is counted and its origin recorded; the gate performs the call, so
 * the target keeps working. In steady state, each clock call the vDSO can
 * serve in the current clock mode must make no syscall. A positive control
 * (a CPU-time clock, always a syscall) must trap, or the filter is not
 * working and the group proves nothing. Traps raised by a sanitizer runtime
 * are not the target's and are listed but not counted. In-process targets
 * already run under the hermetic trap (loader_trap.h, installed by the group
 * child): a second filter and SIGSYS handler would take the image's
 * syscalls away from the emulated kernel, so there the group counts the
 * hermetic trap's own (per thread).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>

#include "clock_gate.h"
#include "conf.h"
#include "oracle.h"
#include <vdsokit/abi.h>
#include <vdsokit/loader_trap.h>

#define MAX_TRAPS 64

static _Atomic unsigned trap_count;
static bool hermetic; /* the in-process target's own trap counts (this thread's) */
static void *_Atomic trap_addr[MAX_TRAPS];
static _Atomic int trap_nr[MAX_TRAPS];

static void record_trap(const siginfo_t *si, const greg_t *g)
{
    (void)g;
    unsigned k = atomic_fetch_add(&trap_count, 1);

    if (k < MAX_TRAPS) {
        atomic_store(&trap_addr[k], si->si_call_addr);
        atomic_store(&trap_nr[k], si->si_syscall);
    }
}

/* A trap from a sanitizer runtime is not the target's. */
static bool from_sanitizer(void *addr)
{
    Dl_info info;

    if (!dladdr(addr, &info) || !info.dli_fname)
        return false;
    return strstr(info.dli_fname, "libasan") || strstr(info.dli_fname, "libtsan") ||
           strstr(info.dli_fname, "libubsan");
}

static unsigned traps_now(void)
{
    return hermetic ? (unsigned)loader_trap_thread_count() : atomic_load(&trap_count);
}

/* The hermetic trap keeps the last record only: every trap is the image's. */
static unsigned hermetic_traps(struct conf_ctx *ctx, unsigned first, bool report)
{
    unsigned n = traps_now() - first;

    if (report && n) {
        struct loader_trap_record r;
        loader_trap_thread_last(&r);
        conf_note(ctx, "last: %s (syscall %ld) from the image's text, %s answered %ld",
                  loader_trap_call_name(loader_trap_call_of(r.nr)), r.nr,
                  r.emulated ? "the emulated kernel" : "the host", r.ret);
    }
    return n;
}

/* Traps since `first` that count against the target; evidence for each. */
static unsigned target_traps(struct conf_ctx *ctx, unsigned first, bool report)
{
    if (hermetic)
        return hermetic_traps(ctx, first, report);
    unsigned end = atomic_load(&trap_count), counted = 0;

    for (unsigned k = first; k < end; k++) {
        void *addr = k < MAX_TRAPS ? atomic_load(&trap_addr[k]) : NULL;
        int nr = k < MAX_TRAPS ? atomic_load(&trap_nr[k]) : -1;
        bool san = addr && from_sanitizer(addr);
        counted += !san;
        if (report && k < first + 4) {
            Dl_info info = {0};
            dladdr(addr, &info);
            conf_note(ctx, "syscall %d from %p (%s)%s", nr, addr,
                      info.dli_fname ? info.dli_fname : "no object: [vdso] or anonymous",
                      san ? ", sanitizer runtime: not counted" : "");
        }
    }
    return counted;
}

/* Steady state: one warm-up call, then `n` calls that must not trap. */
#define STEADY(ctx, what, call)                                                             \
    do {                                                                                    \
        call;                                                                               \
        unsigned first_ = traps_now();                                                      \
        unsigned n_ = conf_budget_iters(ctx, 2000);                                         \
        for (unsigned i_ = 0; i_ < n_; i_++)                                                \
            call;                                                                           \
        unsigned got_ = target_traps(ctx, first_, false);                                   \
        if (got_) {                                                                         \
            conf_fail(ctx, "%s made %u syscalls in %u steady-state calls", what, got_, n_); \
            target_traps(ctx, first_, true);                                                \
        }                                                                                   \
    } while (0)

static bool mode_serves_hres(int mode)
{
    return mode == VDSO_CLOCKMODE_TSC || mode == VDSO_CLOCKMODE_PVCLOCK ||
           mode == VDSO_CLOCKMODE_HVCLOCK;
}

/*
 * Whether a counter-based call may go to the syscall here: the clock mode is
 * not vDSO-capable, or unknown because the kernel's data-page layout is not
 * described (a SKIP naming the kernel and era). True after recording the SKIP.
 */
static bool skip_for_mode(struct conf_ctx *ctx, int mode)
{
    if (mode < 0 && ctx->target->live) {
        conf_skip(ctx, "the kernel's clock mode is unknown: %s", conf_live_layout_why(ctx->target));
        return true;
    }
    if (!mode_serves_hres(mode)) {
        conf_skip(ctx, "clock mode %d is not vDSO-capable: the syscall is the right answer", mode);
        return true;
    }
    return false;
}

static void clock_test(struct conf_ctx *ctx, clockid_t clk, int mode, bool getres)
{
    const struct conf_vdso_fns *f = &ctx->target->fn;
    bool coarse = clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE;

    if (!coarse && !getres && skip_for_mode(ctx, mode))
        return;
    struct timespec ts;
    char buf[32], what[64];
    snprintf(what, sizeof(what), "%s(%s)", getres ? "clock_getres" : "clock_gettime",
             clock_name(clk, buf, sizeof(buf)));
    if (getres) {
        if (conf_require(ctx, f->clock_getres, "clock_getres"))
            STEADY(ctx, what, f->clock_getres(clk, &ts));
    } else {
        STEADY(ctx, what, f->clock_gettime(clk, &ts));
    }
}

static bool control(struct conf_ctx *ctx)
{
    struct timespec v, s;
    unsigned first = traps_now();
    int r = ctx->target->fn.clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &v);
    unsigned got = traps_now() - first;

    /* The gate's own call: no trap of its own in the counts. */
    clock_gate_syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, (long)&s, 0, 0, 0);
    if (got == 0) {
        conf_fail(ctx, "clock_gettime(PROCESS_CPUTIME) made no trapped syscall: the seccomp "
                       "counter does not work, so no syscall-free result can be trusted");
        return false;
    }
    if (r != 0 || !ts_valid(&v) || ts_ns(&v) > ts_ns(&s))
        conf_fail(ctx,
                  "the emulated syscall answered %d {%lld, %ld}, after it the syscall read "
                  "{%lld, %ld}",
                  r, (long long)v.tv_sec, v.tv_nsec, (long long)s.tv_sec, s.tv_nsec);
    return true;
}

void group_syscall_free(struct conf_ctx *ctx)
{
    static const clockid_t clocks[] = {
        CLOCK_REALTIME, CLOCK_MONOTONIC,       CLOCK_MONOTONIC_RAW,   CLOCK_BOOTTIME,
        CLOCK_TAI,      CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE};
    const unsigned nclocks = sizeof(clocks) / sizeof(clocks[0]);
    const struct conf_vdso_fns *f = &ctx->target->fn;

    /* Listing reads nothing of the target's, not even its clock mode. */
    int mode = ctx->target->clock_mode && !ctx->listing ? ctx->target->clock_mode(ctx->target) : -1;
    bool ready = false;
    char why[320] = "";

    if (!ctx->listing) {
        if (!f->clock_gettime)
            snprintf(why, sizeof(why), "target lacks clock_gettime: %s", ctx->target->missing);
        else if ((ctx->target->flags & CONF_TARGET_IN_PROCESS) && !loader_trap_installed())
            snprintf(why, sizeof(why), "the hermetic trap is not installed in this child");
        else if (ctx->target->flags & CONF_TARGET_IN_PROCESS)
            ready = hermetic = true;
        else if (clock_gate_install(record_trap, false) != 0)
            snprintf(why, sizeof(why), "cannot install the seccomp filter: %s", strerror(errno));
        else
            ready = true;
    }
    if (conf_test_begin(ctx, "syscall_free.control")) {
        if (!ready)
            conf_skip(ctx, "%s", why);
        else
            ready = control(ctx);
        conf_test_end(ctx);
    }
    char buf[32];
    for (int getres = 0; getres < 2; getres++) {
        for (unsigned i = 0; i < nclocks; i++) {
            if (!conf_test_begin(ctx, "syscall_free.%s.%s",
                                 getres ? "clock_getres" : "clock_gettime",
                                 clock_name(clocks[i], buf, sizeof(buf))))
                continue;
            if (!ready)
                conf_skip(ctx, "%s", why[0] ? why : "the positive control failed");
            else
                clock_test(ctx, clocks[i], mode, getres);
            conf_test_end(ctx);
        }
    }
    if (conf_test_begin(ctx, "syscall_free.gettimeofday")) {
        struct timeval tv;
        struct timezone tz;
        if (!ready)
            conf_skip(ctx, "%s", why[0] ? why : "the positive control failed");
        else if (!skip_for_mode(ctx, mode) && conf_require(ctx, f->gettimeofday, "gettimeofday"))
            STEADY(ctx, "gettimeofday", f->gettimeofday(&tv, &tz));
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "syscall_free.time")) {
        long t;
        if (!ready)
            conf_skip(ctx, "%s", why[0] ? why : "the positive control failed");
        else if (conf_require(ctx, f->time, "time"))
            STEADY(ctx, "time", f->time(&t));
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "syscall_free.getcpu")) {
        unsigned c, n;
        if (!ready)
            conf_skip(ctx, "%s", why[0] ? why : "the positive control failed");
        else if (conf_require(ctx, f->getcpu, "getcpu"))
            STEADY(ctx, "getcpu", f->getcpu(&c, &n, NULL));
        conf_test_end(ctx);
    }
}
