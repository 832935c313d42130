/*
 * Group 7, hygiene of the kernel's mappings (defect class C36), for targets
 * that are the kernel's own mappings (live): [vvar] and [vvar_vclock]
 * cannot be made writable; after [vvar], [vvar_vclock] and [vdso] are
 * moved together with mremap the vDSO still answers correctly (checked in a
 * throwaway child, since the C library's own vDSO pointers go stale); the
 * image passes the image checker; and the project's resolver finds the same
 * entry points as the dynamic linker's dlvsym. For in-process targets the
 * same rules apply to the loader's mapping: its reader pages (views of a
 * sealed memfd) cannot be made writable, the data pages and text moved
 * together with mremap (loader_move) still answer exactly as the model
 * says, and the loaded image bytes pass the image checker.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "inproc.h"
#include "oracle.h"
#include <vdsokit/live_layout.h>

#include <vdsokit/imgcheck.h>

static void vvar_readonly(struct conf_ctx *ctx, const struct live_maps *m)
{
    const struct live_range *list[] = {&m->vvar, &m->vclock};
    const char *names[] = {"[vvar]", "[vvar_vclock]"};

    for (int i = 0; i < 2; i++) {
        if (!list[i]->count) {
            conf_note(ctx, "%s is not mapped%s", names[i],
                      i ? " (kernels before 6.13 have no [vvar_vclock])" : "");
            continue;
        }
        int r = mprotect((void *)list[i]->lo, list[i]->hi - list[i]->lo, PROT_READ | PROT_WRITE);
        if (r == 0)
            conf_fail(ctx,
                      "mprotect(%s, PROT_READ|PROT_WRITE) succeeded: the data pages are "
                      "writable from user space",
                      names[i]);
        else if (errno != EACCES)
            conf_note(ctx, "mprotect(%s) failed with %s (Linux gives EACCES)", names[i],
                      strerror(errno));
    }
}

/* What the child saw after the move, in shared memory. */
struct moved_view {
    int stage; /* 1 moved, 2 read */
    int move_err;
    int rv;
    struct timespec s1, v, s2;
    long getcpu_r;
    unsigned cpu, sys_cpu;
};

static int move_all(const struct live_maps *m, intptr_t *delta)
{
    uintptr_t lo = m->vvar.count ? m->vvar.lo : m->vdso.lo;
    uintptr_t hi = m->vdso.hi;
    void *dst = mmap(NULL, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (dst == MAP_FAILED)
        return -errno;
    *delta = (intptr_t)((uintptr_t)dst - lo);
    const struct live_range *list[] = {&m->vvar, &m->vclock, &m->vdso};
    for (int i = 0; i < 3; i++) {
        if (!list[i]->count)
            continue;
        size_t len = list[i]->hi - list[i]->lo;
        void *r = mremap((void *)list[i]->lo, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
                         (void *)(list[i]->lo + *delta));
        if (r == MAP_FAILED)
            return -errno;
    }
    return 0;
}

static void moved_child(const struct conf_target *t, const struct live_maps *m,
                        struct moved_view *v)
{
    intptr_t delta = 0;

    v->move_err = move_all(m, &delta);
    v->stage = 1;
    if (v->move_err)
        return;
    /* Only raw syscalls and the moved entry points from here on. */
    conf_clock_gettime_fn gt = (conf_clock_gettime_fn)((uintptr_t)t->fn.clock_gettime + delta);
    conf_getcpu_fn gc = (conf_getcpu_fn)((uintptr_t)t->fn.getcpu + delta);
    sys_clock_gettime(CLOCK_MONOTONIC, &v->s1);
    v->rv = gt(CLOCK_MONOTONIC, &v->v);
    sys_clock_gettime(CLOCK_MONOTONIC, &v->s2);
    unsigned node;
    v->getcpu_r = t->fn.getcpu ? gc(&v->cpu, NULL, NULL) : 0;
    sys_getcpu(&v->sys_cpu, &node);
    v->stage = 2;
}

static void mremap_together(struct conf_ctx *ctx, const struct live_maps *m)
{
    if (!m->vdso.count || !ctx->target->fn.clock_gettime) {
        conf_skip(ctx, "no [vdso] mapping or no clock_gettime to call after the move");
        return;
    }
    struct moved_view *v =
        mmap(NULL, sizeof(*v), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (v == MAP_FAILED) {
        conf_skip(ctx, "mmap of the shared result page failed");
        return;
    }
    memset(v, 0, sizeof(*v));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        moved_child(ctx->target, m, v);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        conf_fail(ctx,
                  "the child that moved the mappings was killed by signal %d (%s) at stage %d "
                  "(0 moving, 1 calling the moved vDSO)",
                  WTERMSIG(st), strsignal(WTERMSIG(st)), v->stage);
    else if (v->move_err)
        conf_fail(ctx, "mremap of the three mappings failed: %s", strerror(-v->move_err));
    else if (v->stage != 2)
        conf_fail(ctx, "the child stopped at stage %d", v->stage);
    else if (v->rv != 0 || !ts_valid(&v->v) || ts_ns(&v->v) < ts_ns(&v->s1) ||
             ts_ns(&v->v) > ts_ns(&v->s2))
        conf_fail(ctx,
                  "moved clock_gettime(MONOTONIC) returned %d, %lld.%09ld; syscall bracket "
                  "[%lld.%09ld, %lld.%09ld]",
                  v->rv, (long long)v->v.tv_sec, v->v.tv_nsec, (long long)v->s1.tv_sec,
                  v->s1.tv_nsec, (long long)v->s2.tv_sec, v->s2.tv_nsec);
    else if (v->getcpu_r != 0 || v->cpu >= (unsigned)ctx->calib->ncpus)
        conf_fail(ctx, "moved getcpu returned %ld, cpu %u (syscall: %u)", v->getcpu_r, v->cpu,
                  v->sys_cpu);
    munmap(v, sizeof(*v));
}

static void image_check(struct conf_ctx *ctx)
{
    static struct imgcheck_report rep;

    if (imgcheck_run(ctx->target->text, ctx->target->text_size, &rep) != 0 ||
        imgcheck_has_errors(&rep)) {
        conf_fail(ctx, "the image checker reports %u error(s):", rep.errors);
        for (unsigned i = 0; i < rep.count && i < IMGCHECK_MAX_FINDINGS; i++)
            if (rep.findings[i].severity == IMGCHECK_ERROR)
                conf_fail(ctx, "%s: %s", rep.findings[i].rule, rep.findings[i].text);
    }
    for (unsigned i = 0; i < rep.count && i < IMGCHECK_MAX_FINDINGS; i++)
        if (rep.findings[i].severity == IMGCHECK_WARNING)
            conf_note(ctx, "warning %s: %s", rep.findings[i].rule, rep.findings[i].text);
}

static void dlvsym_agrees(struct conf_ctx *ctx)
{
#ifdef VDSOCONF_STATIC
    conf_skip(ctx, "static build: no dynamic linker to cross-check with");
#else
    void *h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!h) {
        conf_skip(ctx, "the dynamic linker does not know linux-vdso.so.1: %s", dlerror());
        return;
    }
    const struct conf_vdso_fns *f = &ctx->target->fn;
    const struct {
        const char *name;
        const void *ours;
    } syms[] = {
        {"__vdso_clock_gettime", (const void *)f->clock_gettime},
        {"__vdso_gettimeofday", (const void *)f->gettimeofday},
        {"__vdso_time", (const void *)f->time},
        {"__vdso_clock_getres", (const void *)f->clock_getres},
        {"__vdso_getcpu", (const void *)f->getcpu},
    };
    for (unsigned i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        void *theirs = dlvsym(h, syms[i].name, "LINUX_2.6");
        if (theirs != syms[i].ours)
            conf_fail(ctx, "%s@LINUX_2.6: resolver %p, dlvsym %p", syms[i].name, syms[i].ours,
                      theirs);
    }
    dlclose(h);
#endif
}

/* Every reader page of the loader, backed or not, must refuse PROT_WRITE. */
static void inproc_vvar_readonly(struct conf_ctx *ctx, struct vdso_loaded *l)
{
    for (int i = 0; i < VDSO_DATA_PAGES; i++) {
        uint8_t *page = l->base + (size_t)i * VDSO_PAGE_SIZE;
        if (mprotect(page, VDSO_PAGE_SIZE, PROT_READ | PROT_WRITE) == 0)
            conf_fail(ctx,
                      "mprotect(data page %d at %p, PROT_READ|PROT_WRITE) succeeded: the "
                      "loader's reader view is writable",
                      i, (void *)page);
        else if (errno != EACCES)
            conf_fail(ctx,
                      "mprotect(data page %d, PROT_READ|PROT_WRITE) failed with %s, not "
                      "EACCES as on [vvar]",
                      i, strerror(errno));
    }
}

/*
 * Move data pages and text together, then the moved clock_gettime must be
 * exact against the emulated kernel (bracketed by the model of "now") and
 * getcpu sane. The target's own entry points are stale afterwards: this is
 * the group's last call into the target (its child then exits).
 */
static void inproc_mremap_together(struct conf_ctx *ctx, struct vdso_loaded *l)
{
    struct vdsokit_error err;
    uint8_t *old = l->base;

    if (loader_move(l, &err) != 0) {
        conf_fail(ctx, "loader_move: %s", err.msg);
        return;
    }
    if (!l->clock_gettime) {
        conf_skip(ctx, "the image exports no clock_gettime to call after the move");
        return;
    }
    struct timespec o1, o2;
    struct vdso_timespec v = {0, 0};
    conf_inproc_oracle_gettime(CLOCK_MONOTONIC, &o1);
    int rv = l->clock_gettime(CLOCK_MONOTONIC, &v);
    conf_inproc_oracle_gettime(CLOCK_MONOTONIC, &o2);
    struct timespec got = {(time_t)v.tv_sec, (long)v.tv_nsec};
    if (rv != 0 || !ts_valid(&got) || ts_ns(&got) < ts_ns(&o1) || ts_ns(&got) > ts_ns(&o2))
        conf_fail(ctx,
                  "moved from %p to %p: clock_gettime(MONOTONIC) returned %d, %lld.%09ld; "
                  "emulated kernel bracket [%lld.%09ld, %lld.%09ld]",
                  (void *)old, (void *)l->base, rv, (long long)got.tv_sec, got.tv_nsec,
                  (long long)o1.tv_sec, o1.tv_nsec, (long long)o2.tv_sec, o2.tv_nsec);
    unsigned cpu = ~0u;
    long gr = l->getcpu ? l->getcpu(&cpu, NULL, NULL) : 0;
    if (l->getcpu && (gr != 0 || cpu >= (unsigned)ctx->calib->ncpus))
        conf_fail(ctx, "moved getcpu returned %ld, cpu %u (%d CPUs)", gr, cpu, ctx->calib->ncpus);
}

static void group_hygiene_inproc(struct conf_ctx *ctx, struct vdso_loaded *l,
                                 const char *const ids[4])
{
    if (conf_test_begin(ctx, "%s", ids[0])) {
        inproc_vvar_readonly(ctx, l);
        conf_test_end(ctx);
    }
    /* Before the move: the checker reads the target's view of the text. */
    if (conf_test_begin(ctx, "%s", ids[2])) {
        image_check(ctx);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "%s", ids[1])) {
        inproc_mremap_together(ctx, l);
        conf_test_end(ctx);
    }
    conf_test_skip(ctx, ids[3], "in-process image %s: no dynamic linker knows it",
                   ctx->target->name);
}

void group_hygiene(struct conf_ctx *ctx)
{
    static const char *const ids[] = {"hygiene.vvar_readonly", "hygiene.mremap_together",
                                      "hygiene.image_check", "hygiene.resolver_vs_dlvsym"};
    struct vdso_loaded *l = conf_inproc(ctx->target);

    if (l && !ctx->listing) {
        group_hygiene_inproc(ctx, l, ids);
        return;
    }
    if (!(ctx->target->flags & CONF_TARGET_MAPPED) || !ctx->target->text || !ctx->target->live) {
        for (unsigned i = 0; i < 4; i++)
            conf_test_skip(ctx, ids[i], "target %s is not the kernel's own vDSO mapping%s%s",
                           ctx->target->name, ctx->target->missing[0] ? ": " : "",
                           ctx->target->missing);
        return;
    }
    /* The mappings as the probe found them when the target opened (fork keeps them). */
    const struct live_maps *m = &ctx->target->live->maps;
    if (conf_test_begin(ctx, "%s", ids[0])) {
        vvar_readonly(ctx, m);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "%s", ids[1])) {
        mremap_together(ctx, m);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "%s", ids[2])) {
        image_check(ctx);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "%s", ids[3])) {
        dlvsym_agrees(ctx);
        conf_test_end(ctx);
    }
}
