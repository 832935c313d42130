/*
 * Group 5, time namespaces (defect class C7): a child forked into a new
 * time namespace with known offsets reads every clock through the target
 * and through the syscall. The parent brackets the child's readings with
 * its own syscall readings taken before the fork and after the child
 * exits, so the check is exact: before + offset <= child <= after + offset,
 * where the offset is the monotonic one for MONOTONIC, RAW and
 * MONOTONIC_COARSE, the boot one for BOOTTIME and zero for REALTIME,
 * REALTIME_COARSE and TAI. getres, tz, time and gettimeofday must be
 * unchanged. Offsets are positive (with a nanosecond part that carries)
 * and negative. Not permitted here: every test is a SKIP with the reason.
 * In-process targets take the same observations through the loader's
 * namespace layout (page 0 the namespace page with the offsets, page 1
 * the real data), bracketed by the emulated kernel's own root-namespace
 * readings (the oracle) plus the offset.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "inproc.h"
#include "oracle.h"
#include <vdsokit/abi.h>
#include <vdsokit/live_layout.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const clockid_t ns_clocks[] = {
    CLOCK_REALTIME,         CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
    CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,  CLOCK_TAI,
};
#define NCLK (sizeof(ns_clocks) / sizeof(ns_clocks[0]))

struct ns_offsets {
    int64_t mono_sec, mono_nsec, boot_sec, boot_nsec;
};

/* What the child saw, in shared memory. */
struct ns_view {
    int done;
    struct {
        int rs1, rv, rs2;
        struct timespec s1, v, s2;
        int gr_t, gr_s;
        struct timespec res_t, res_s;
    } clk[NCLK];
    int tz_r;
    struct timezone tz_t, tz_s;
    int tv_r;
    struct timeval tv;
    long time_t_val;
    bool layout_checked;
    uint32_t page0_seq, page1_seq;
    int32_t page0_mode, page1_mode;
};

static int64_t expected_offset(clockid_t clk, const struct ns_offsets *o)
{
    if (clk == CLOCK_MONOTONIC || clk == CLOCK_MONOTONIC_RAW || clk == CLOCK_MONOTONIC_COARSE)
        return o->mono_sec * NSEC_PER_SEC + o->mono_nsec;
    if (clk == CLOCK_BOOTTIME)
        return o->boot_sec * NSEC_PER_SEC + o->boot_nsec;
    return 0;
}

static void child_read(const struct conf_target *t, struct ns_view *view)
{
    for (unsigned i = 0; i < NCLK; i++) {
        typeof(view->clk[0]) *c = &view->clk[i];
        c->rs1 = sys_clock_gettime(ns_clocks[i], &c->s1);
        c->rv = t->fn.clock_gettime ? t->fn.clock_gettime(ns_clocks[i], &c->v) : -ENOSYS;
        c->rs2 = sys_clock_gettime(ns_clocks[i], &c->s2);
        c->gr_s = sys_clock_getres(ns_clocks[i], &c->res_s);
        c->gr_t = t->fn.clock_getres ? t->fn.clock_getres(ns_clocks[i], &c->res_t) : -ENOSYS;
    }
    sys_gettimeofday(NULL, &view->tz_s);
    view->tz_r = t->fn.gettimeofday ? t->fn.gettimeofday(&view->tv, &view->tz_t) : -ENOSYS;
    view->tv_r = view->tz_r;
    view->time_t_val = t->fn.time ? t->fn.time(NULL) : -1;
    /*
     * In a child namespace the time page holds the namespace page and the
     * real data moves to the era's namespace slot; the probe snapshots both
     * in the era's format, or neither when the layout is not described.
     */
    struct vdso_time_data p0, p1;
    if ((t->flags & CONF_TARGET_MAPPED) && t->live &&
        live_layout_snapshot(t->live, LIVE_PAGE_TIME, &p0) &&
        live_layout_snapshot(t->live, LIVE_PAGE_NS_REAL, &p1)) {
        view->page0_seq = p0.clock_data[0].seq;
        view->page0_mode = p0.clock_data[0].clock_mode;
        view->page1_seq = p1.clock_data[0].seq;
        view->page1_mode = p1.clock_data[0].clock_mode;
        view->layout_checked = true;
    }
    view->done = 1;
}

static int write_offsets(const struct ns_offsets *o, char *why, size_t len)
{
    int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(why, len, "open /proc/self/timens_offsets: %s", strerror(errno));
        return -errno;
    }
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "monotonic %lld %lld\nboottime %lld %lld\n",
                     (long long)o->mono_sec, (long long)o->mono_nsec, (long long)o->boot_sec,
                     (long long)o->boot_nsec);
    int r = write(fd, buf, (size_t)n) == n ? 0 : -errno;
    if (r)
        snprintf(why, len, "write \"%s\" to /proc/self/timens_offsets: %s", buf, strerror(-r));
    close(fd);
    return r;
}

static void read_all(struct timespec *ts)
{
    for (unsigned i = 0; i < NCLK; i++)
        sys_clock_gettime(ns_clocks[i], &ts[i]);
}

static void check_clock(struct conf_ctx *ctx, unsigned i, const struct ns_view *v,
                        const struct timespec *before, const struct timespec *after,
                        const struct ns_offsets *o)
{
    const typeof(v->clk[0]) *c = &v->clk[i];
    if (c->rv != 0 || c->rs1 != 0) {
        conf_fail(ctx, "in the namespace: target returned %d, the syscall %d", c->rv, c->rs1);
        return;
    }
    if (!conf_check_ts(ctx, &c->v, "target in the namespace"))
        return;
    if (ts_ns(&c->v) < ts_ns(&c->s1) || ts_ns(&c->v) > ts_ns(&c->s2))
        conf_fail(ctx,
                  "in the namespace the target read %lld.%09ld outside the namespace "
                  "syscall bracket [%lld.%09ld, %lld.%09ld]",
                  (long long)c->v.tv_sec, c->v.tv_nsec, (long long)c->s1.tv_sec, c->s1.tv_nsec,
                  (long long)c->s2.tv_sec, c->s2.tv_nsec);
    int64_t off = expected_offset(ns_clocks[i], o);
    int64_t lo = ts_ns(&before[i]) + off, hi = ts_ns(&after[i]) + off;
    if (ts_ns(&c->v) < lo || ts_ns(&c->v) > hi)
        conf_fail(ctx,
                  "target read %lld ns in the namespace; the root-namespace bracket plus the "
                  "offset %lld ns is [%lld, %lld] (off by %lld ns from its low end)",
                  (long long)ts_ns(&c->v), (long long)off, (long long)lo, (long long)hi,
                  (long long)(ts_ns(&c->v) - lo));
    if (c->gr_t != c->gr_s || (c->gr_t == 0 && (c->res_t.tv_sec != c->res_s.tv_sec ||
                                                c->res_t.tv_nsec != c->res_s.tv_nsec)))
        conf_fail(ctx, "getres in the namespace: target %d {%lld, %ld}, syscall %d {%lld, %ld}",
                  c->gr_t, (long long)c->res_t.tv_sec, c->res_t.tv_nsec, c->gr_s,
                  (long long)c->res_s.tv_sec, c->res_s.tv_nsec);
}

static void check_wall(struct conf_ctx *ctx, const struct ns_view *v, const struct timespec *before,
                       const struct timespec *after)
{
    const struct conf_vdso_fns *f = &ctx->target->fn;

    if (f->gettimeofday) {
        int64_t us = tv_us(&v->tv);
        if (v->tv_r != 0 || !tv_valid(&v->tv) || us < ts_ns(&before[0]) / NSEC_PER_USEC ||
            us > ts_ns(&after[0]) / NSEC_PER_USEC)
            conf_fail(ctx,
                      "gettimeofday in the namespace returned %d, %lld us; REALTIME bracket "
                      "[%lld, %lld] us",
                      v->tv_r, (long long)us, (long long)(ts_ns(&before[0]) / NSEC_PER_USEC),
                      (long long)(ts_ns(&after[0]) / NSEC_PER_USEC));
        if (v->tz_t.tz_minuteswest != v->tz_s.tz_minuteswest ||
            v->tz_t.tz_dsttime != v->tz_s.tz_dsttime)
            conf_fail(ctx, "tz in the namespace {%d, %d}, the syscall's {%d, %d}",
                      v->tz_t.tz_minuteswest, v->tz_t.tz_dsttime, v->tz_s.tz_minuteswest,
                      v->tz_s.tz_dsttime);
    }
    /* ns_clocks[3] is REALTIME_COARSE, which time() follows. */
    if (f->time && (v->time_t_val < before[3].tv_sec || v->time_t_val > after[3].tv_sec))
        conf_fail(ctx,
                  "time() in the namespace %ld outside the REALTIME_COARSE bracket [%lld, %lld]",
                  v->time_t_val, (long long)before[3].tv_sec, (long long)after[3].tv_sec);
}

static void check_layout(struct conf_ctx *ctx, const struct ns_view *v)
{
    if (!v->layout_checked && (ctx->target->flags & CONF_TARGET_MAPPED) && ctx->target->live) {
        conf_skip(ctx, "the kernel's data pages are not read: %s",
                  conf_live_layout_why(ctx->target));
        return;
    }
    if (!v->layout_checked) {
        conf_skip(ctx, "the target has no kernel [vvar] mapping to inspect");
        return;
    }
    if (v->page0_seq != 1 || v->page0_mode != VDSO_CLOCKMODE_TIMENS)
        conf_fail(ctx, "namespace page: seq %u mode %#x, want seq 1 and mode TIMENS (%#x)",
                  v->page0_seq, v->page0_mode, VDSO_CLOCKMODE_TIMENS);
    if ((v->page1_seq & 1) || v->page1_mode == VDSO_CLOCKMODE_TIMENS)
        conf_fail(ctx,
                  "real data page inside the namespace: seq %u mode %d, want even seq and a "
                  "counter mode",
                  v->page1_seq, v->page1_mode);
}

static void skip_variant(struct conf_ctx *ctx, const char *variant, const char *why)
{
    char buf[32], id[96];

    for (unsigned i = 0; i < NCLK; i++) {
        snprintf(id, sizeof(id), "timens.%s.%s", variant, clock_name(ns_clocks[i], buf, 32));
        conf_test_skip(ctx, id, "%s", why);
    }
    snprintf(id, sizeof(id), "timens.%s.wall_getres_tz", variant);
    conf_test_skip(ctx, id, "%s", why);
    snprintf(id, sizeof(id), "timens.%s.layout", variant);
    conf_test_skip(ctx, id, "%s", why);
    snprintf(id, sizeof(id), "timens.%s.offsets_frozen", variant);
    conf_test_skip(ctx, id, "%s", why);
}

static bool variant_selected(struct conf_ctx *ctx, const char *variant)
{
    char buf[32];

    for (unsigned i = 0; i < NCLK; i++)
        if (conf_test_selected(ctx, "timens.%s.%s", variant, clock_name(ns_clocks[i], buf, 32)))
            return true;
    return conf_test_selected(ctx, "timens.%s.wall_getres_tz", variant) ||
           conf_test_selected(ctx, "timens.%s.layout", variant) ||
           conf_test_selected(ctx, "timens.%s.offsets_frozen", variant);
}

static void record_variant(struct conf_ctx *ctx, const char *variant, const struct ns_view *v,
                           const char *crash, const struct timespec *before,
                           const struct timespec *after, const struct ns_offsets *o, int frozen_err)
{
    char buf[32];

    for (unsigned i = 0; i < NCLK; i++) {
        if (!conf_test_begin(ctx, "timens.%s.%s", variant, clock_name(ns_clocks[i], buf, 32)))
            continue;
        if (crash)
            conf_fail(ctx, "%s", crash);
        else if (conf_require(ctx, ctx->target->fn.clock_gettime, "clock_gettime"))
            check_clock(ctx, i, v, before, after, o);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "timens.%s.wall_getres_tz", variant)) {
        if (crash)
            conf_fail(ctx, "%s", crash);
        else
            check_wall(ctx, v, before, after);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "timens.%s.layout", variant)) {
        if (crash)
            conf_fail(ctx, "%s", crash);
        else
            check_layout(ctx, v);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "timens.%s.offsets_frozen", variant)) {
        if (frozen_err == 1)
            conf_skip(ctx, "an in-process namespace page is the loader's to write: no kernel "
                           "rule freezes it");
        else if (frozen_err != -EACCES)
            conf_fail(ctx,
                      "writing timens_offsets after a task entered the namespace gave %d, "
                      "want -EACCES (%d)",
                      frozen_err, -EACCES);
        conf_test_end(ctx);
    }
}

static void run_variant(struct conf_ctx *ctx, const char *variant, const struct ns_offsets *o)
{
    if (!variant_selected(ctx, variant) || ctx->listing) {
        record_variant(ctx, variant, NULL, "not run", NULL, NULL, o, 0);
        return;
    }
    char why[256];
    if (unshare(CLONE_NEWTIME) != 0) {
        snprintf(why, sizeof(why),
                 "unshare(CLONE_NEWTIME): %s (needs CAP_SYS_ADMIN and "
                 "CONFIG_TIME_NS)",
                 strerror(errno));
        skip_variant(ctx, variant, why);
        return;
    }
    if (write_offsets(o, why, sizeof(why)) != 0) {
        skip_variant(ctx, variant, why);
        return;
    }
    struct ns_view *view =
        mmap(NULL, sizeof(*view), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (view == MAP_FAILED) {
        skip_variant(ctx, variant, "mmap of the shared result page failed");
        return;
    }
    struct timespec before[NCLK], after[NCLK];
    read_all(before);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        child_read(ctx->target, view);
        _exit(0);
    }
    int st = 0;
    if (pid > 0)
        waitpid(pid, &st, 0);
    read_all(after);
    char crash[160] = "";
    if (pid < 0)
        snprintf(crash, sizeof(crash), "fork into the namespace failed: %s", strerror(errno));
    else if (WIFSIGNALED(st))
        snprintf(crash, sizeof(crash), "the child in the namespace was killed by signal %d (%s)",
                 WTERMSIG(st), strsignal(WTERMSIG(st)));
    else if (!view->done)
        snprintf(crash, sizeof(crash), "the child in the namespace exited (%d) before reading",
                 WEXITSTATUS(st));
    char dummy[64];
    int frozen = write_offsets(o, dummy, sizeof(dummy));
    record_variant(ctx, variant, view, crash[0] ? crash : NULL, before, after, o, frozen);
    munmap(view, sizeof(*view));
}

/* Root-namespace readings of every clock from the emulated kernel. */
static void oracle_all(const struct conf_target *t, struct timespec *ts)
{
    for (unsigned i = 0; i < NCLK; i++)
        t->oracle.clock_gettime(ns_clocks[i], &ts[i]);
}

static struct timespec shifted(struct timespec ts, int64_t off)
{
    return ts_from_ns(ts_ns(&ts) + off);
}

/*
 * getres between two of the emulated kernel's that agree: its hrtimer_res
 * changes from state to state (the low-resolution profile), so a pair
 * that straddles a change is taken again.
 */
static void inproc_getres(const struct conf_target *t, clockid_t clk,
                          typeof(((struct ns_view *)0)->clk[0]) *c)
{
    for (int i = 0; i < 16; i++) {
        struct timespec again;
        c->gr_s = t->oracle.clock_getres(clk, &c->res_s);
        c->gr_t = t->fn.clock_getres ? t->fn.clock_getres(clk, &c->res_t) : -ENOSYS;
        int gr = t->oracle.clock_getres(clk, &again);
        if (gr == c->gr_s && (gr != 0 || again.tv_nsec == c->res_s.tv_nsec))
            return;
    }
}

/* The child's observations, taken here through the namespace layout. */
static void inproc_read(const struct conf_target *t, struct vdso_loaded *l,
                        const struct ns_offsets *o, struct ns_view *view)
{
    for (unsigned i = 0; i < NCLK; i++) {
        typeof(view->clk[0]) *c = &view->clk[i];
        int64_t off = expected_offset(ns_clocks[i], o);
        c->rs1 = t->oracle.clock_gettime(ns_clocks[i], &c->s1);
        c->rv = t->fn.clock_gettime ? t->fn.clock_gettime(ns_clocks[i], &c->v) : -ENOSYS;
        c->rs2 = t->oracle.clock_gettime(ns_clocks[i], &c->s2);
        c->s1 = shifted(c->s1, off);
        c->s2 = shifted(c->s2, off);
        inproc_getres(t, ns_clocks[i], c);
    }
    t->oracle.gettimeofday(NULL, &view->tz_s);
    view->tz_r = t->fn.gettimeofday ? t->fn.gettimeofday(&view->tv, &view->tz_t) : -ENOSYS;
    view->tv_r = view->tz_r;
    view->time_t_val = t->fn.time ? t->fn.time(NULL) : -1;
    /* The era's namespace page and real page, wherever its layout puts them. */
    const struct vdso_clock *p0 = loader_reader_record(l, LOADER_SLOT_TIME, 0);
    const struct vdso_clock *p1 = loader_reader_record(l, LOADER_SLOT_NS_REAL, 0);
    view->page0_seq = __atomic_load_n(&p0->seq, __ATOMIC_RELAXED);
    view->page0_mode = __atomic_load_n(&p0->clock_mode, __ATOMIC_RELAXED);
    view->page1_seq = __atomic_load_n(&p1->seq, __ATOMIC_RELAXED);
    view->page1_mode = __atomic_load_n(&p1->clock_mode, __ATOMIC_RELAXED);
    view->layout_checked = true;
    view->done = 1;
}

static struct timens_offset ns_offset(int64_t sec, int64_t nsec)
{
    return (struct timens_offset){.sec = sec, .nsec = (uint64_t)nsec};
}

static void run_inproc_variant(struct conf_ctx *ctx, const char *variant,
                               const struct ns_offsets *o)
{
    if (!variant_selected(ctx, variant) || ctx->listing) {
        record_variant(ctx, variant, NULL, "not run", NULL, NULL, o, 1);
        return;
    }
    struct vdso_loaded *l = conf_inproc(ctx->target);
    struct vdsokit_error err;
    int rc = tk_timens_set(l->tk, ns_offset(o->mono_sec, o->mono_nsec),
                           ns_offset(o->boot_sec, o->boot_nsec));
    if (rc || loader_set_layout(l, LOADER_LAYOUT_TIMENS, &err)) {
        char why[VDSOKIT_ERROR_MAX + 64];
        snprintf(why, sizeof(why), "cannot enter the namespace layout: %s",
                 rc ? strerror(-rc) : err.msg);
        record_variant(ctx, variant, NULL, why, NULL, NULL, o, 1);
        return;
    }
    static struct ns_view view;
    memset(&view, 0, sizeof(view));
    struct timespec before[NCLK], after[NCLK];
    oracle_all(ctx->target, before);
    inproc_read(ctx->target, l, o, &view);
    oracle_all(ctx->target, after);
    loader_set_layout(l, LOADER_LAYOUT_ROOT, &err);
    record_variant(ctx, variant, &view, NULL, before, after, o, 1);
}

void group_timens(struct conf_ctx *ctx)
{
    /* Positive, with nanosecond parts that force a carry. */
    struct ns_offsets pos = {1000, 999999999, 2000, 500};
    bool inproc = conf_inproc(ctx->target) != NULL;

    (inproc ? run_inproc_variant : run_variant)(ctx, "positive", &pos);
    /* Negative: half the current uptime back (the emulated one in-process), so the clocks stay >=
     * 0. */
    struct timespec m;
    ctx->target->oracle.clock_gettime(CLOCK_MONOTONIC, &m);
    int64_t back = m.tv_sec / 2;
    if (back < 2) {
        skip_variant(ctx, "negative", "uptime below 4 s: no room for a negative offset");
        return;
    }
    struct ns_offsets neg = {-back, 123456789, -back, 987654321};
    (inproc ? run_inproc_variant : run_variant)(ctx, "negative", &neg);
}
