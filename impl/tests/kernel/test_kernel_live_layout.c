/*
 * The ABI layout proven on the running kernel: this process's own [vvar]
 * time page (readable on 6.15+) has a known clock mode, plausible mult and
 * shift, equal seqs on both clocks, and every clock computed from it with
 * the project's model and counter reads (TSC, or the live pvclock / Hyper-V
 * page with the project's formulas) lies between two raw clock_gettime
 * syscalls. The live probe finds the pages; the test skips, saying why,
 * on kernels whose layout this build does not describe or unreadable pages.
 */
#define _GNU_SOURCE
#include "../check.h"
#include "tk_test.h"
#include <vdsokit/live_layout.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

struct live {
    struct live_layout probe;
    const struct vdso_time_data *td;
    const struct pvclock_vcpu_time_info *pv;
    const struct ms_hyperv_tsc_page *hv;
};

/* The probe decides: only a described era's time page is read (vdsokit/live_layout.h). */
static void find_mappings(struct live *l)
{
    struct vdsokit_error err;

    if (live_layout_probe(&l->probe, &err) != 0)
        SKIP("live probe: %s", err.msg);
    printf("%s\n", l->probe.summary);
    if (!l->probe.described || !live_layout_time_data(&l->probe))
        SKIP("%s (the time page is not in the 6.17-6.18 format here)", l->probe.why);
}

/* Readable without risking SIGBUS: a pipe write reports EFAULT instead. */
static int page_readable(uintptr_t addr)
{
    int p[2];
    char c;

    if (pipe2(p, O_CLOEXEC) != 0)
        return 0;
    int ok = write(p[1], (const void *)addr, 1) == 1 && read(p[0], &c, 1) == 1;
    close(p[0]);
    close(p[1]);
    return ok;
}

static void check_geometry(struct live *l)
{
    const struct live_maps *m = &l->probe.maps;
    uintptr_t vclock = m->vclock.lo;

    CHECK_EQ_U64(m->vvar.hi - m->vvar.lo, VDSO_GENERIC_PAGES * VDSO_PAGE_SIZE);
    CHECK(vclock == m->vvar.hi, "[vvar_vclock] at %#lx, expected right after [vvar] %#lx",
          (unsigned long)vclock, (unsigned long)m->vvar.hi);
    CHECK_EQ_U64(getauxval(AT_SYSINFO_EHDR), m->vvar.lo + VDSO_DATA_PAGES * VDSO_PAGE_SIZE);
    l->td = (const void *)live_layout_time_data(&l->probe);
    CHECK_EQ_U64((uintptr_t)l->td, m->vvar.lo);
    if (!l->td || !page_readable((uintptr_t)l->td))
        SKIP("[vvar] page 0 is not readable here");
    const volatile void *pv = live_layout_page(&l->probe, LIVE_PAGE_PVCLOCK);
    const volatile void *hv = live_layout_page(&l->probe, LIVE_PAGE_HVCLOCK);
    if (pv && page_readable((uintptr_t)pv))
        l->pv = (const void *)pv;
    if (hv && page_readable((uintptr_t)hv))
        l->hv = (const void *)hv;
    CHECK(!page_readable(m->vvar.lo + VDSO_PAGE_SIZE), "root namespace: vvar page 1 must not read");
}

static uint64_t live_counter(void *ctx)
{
    const struct live *l = ctx;
    int32_t mode = __atomic_load_n(&l->td->clock_data[0].clock_mode, __ATOMIC_RELAXED);

    return counter_read_for_mode(mode, l->pv, l->hv);
}

static const char *mode_name(int32_t mode)
{
    static const char *names[] = {"NONE", "TSC", "PVCLOCK", "HVCLOCK"};

    return mode >= 0 && mode < VDSO_CLOCKMODE_MAX ? names[mode] : "unknown";
}

static void check_fields(const struct vdso_time_data *snap)
{
    const struct vdso_clock *c0 = &snap->clock_data[0], *c1 = &snap->clock_data[1];

    CHECK(c0->clock_mode >= VDSO_CLOCKMODE_NONE && c0->clock_mode < VDSO_CLOCKMODE_MAX, "mode %d",
          c0->clock_mode);
    CHECK(c0->seq == c1->seq && c0->clock_mode == c1->clock_mode, "clock 1 seq %u mode %d", c1->seq,
          c1->clock_mode);
    for (int i = 0; i < 2; i++) {
        double ns_per_unit = (double)snap->clock_data[i].mult / (double)(1ull << c0->shift);
        CHECK(snap->clock_data[i].shift <= 32 && ns_per_unit > 0.01 && ns_per_unit < 1000,
              "clock %d mult %u shift %u", i, snap->clock_data[i].mult, snap->clock_data[i].shift);
        CHECK(snap->clock_data[i].max_cycles > 0, "max_cycles 0");
    }
    CHECK(c0->basetime[VDSO_CLOCK_MONOTONIC_COARSE].nsec < VDSO_NSEC_PER_SEC, "coarse nsec %llu",
          (unsigned long long)c0->basetime[VDSO_CLOCK_MONOTONIC_COARSE].nsec);
    printf("mode %s, mult %u, shift %u, raw mult %u, max_cycles %#llx, mask %#llx, seq %u, "
           "hrtimer_res %u\n",
           mode_name(c0->clock_mode), c0->mult, c0->shift, c1->mult,
           (unsigned long long)c0->max_cycles, (unsigned long long)c0->mask, c0->seq,
           snap->hrtimer_res);
}

static void raw_gettime(int32_t clk, struct timespec *ts)
{
    syscall(SYS_clock_gettime, clk, ts);
}

/* One sandwich: syscall, model on a fresh snapshot, syscall. */
static int64_t sandwich(struct live *l, int32_t clk, int64_t *width)
{
    struct timespec a, m, b;
    struct vdso_time_data snap;
    uint64_t counter = 0;

    raw_gettime(clk, &a);
    snapshot_page(l->td, &snap, live_counter, l, &counter);
    struct tk_model_view v = {.page0 = &snap, .counter = counter};
    enum tk_model_outcome o = tk_model_clock_gettime(&v, clk, &m);
    raw_gettime(clk, &b);
    *width = ts_diff_ns(&b, &a);
    if (o != TK_MODEL_OK) {
        CHECK(0, "clock %d: model says %s on the live page", clk, tk_model_outcome_name(o));
        return 0;
    }
    int64_t below = ts_diff_ns(&a, &m), above = ts_diff_ns(&m, &b);
    CHECK(below <= 0 && above <= 0,
          "clock %d: model {%lld, %ld} outside [{%lld, %ld}, {%lld, %ld}] (counter %llu)", clk,
          (long long)m.tv_sec, m.tv_nsec, (long long)a.tv_sec, a.tv_nsec, (long long)b.tv_sec,
          b.tv_nsec, (unsigned long long)counter);
    return below > 0 ? below : above > 0 ? above : 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

#define ROUNDS 500

int main(void)
{
    struct live l = {0};

    find_mappings(&l);
    check_geometry(&l);
    struct vdso_time_data snap;
    uint64_t counter = 0;
    unsigned retries = snapshot_page(l.td, &snap, live_counter, &l, &counter);
    check_fields(&snap);
    printf("snapshot took %u retries; counter %llu, cycle_last %llu\n", retries,
           (unsigned long long)counter, (unsigned long long)snap.clock_data[0].cycle_last);
    if ((int64_t)counter < 0)
        SKIP("mode %s cannot be read from user space here",
             mode_name(snap.clock_data[0].clock_mode));

    static const int32_t clocks[] = {VDSO_CLOCK_MONOTONIC,      VDSO_CLOCK_REALTIME,
                                     VDSO_CLOCK_BOOTTIME,       VDSO_CLOCK_TAI,
                                     VDSO_CLOCK_MONOTONIC_RAW,  VDSO_CLOCK_MONOTONIC_COARSE,
                                     VDSO_CLOCK_REALTIME_COARSE};
    static int64_t widths[ROUNDS];
    for (size_t c = 0; c < sizeof(clocks) / sizeof(clocks[0]); c++) {
        int64_t worst = 0;
        for (int i = 0; i < ROUNDS; i++) {
            int64_t miss = sandwich(&l, clocks[c], &widths[i]);
            worst = miss > worst ? miss : worst;
        }
        qsort(widths, ROUNDS, sizeof(widths[0]), cmp_i64);
        printf("clock %2d: %d sandwiches, bracket width min %lld / median %lld / max %lld ns, "
               "worst miss %lld ns\n",
               clocks[c], ROUNDS, (long long)widths[0], (long long)widths[ROUNDS / 2],
               (long long)widths[ROUNDS - 1], (long long)worst);
    }
    struct tk_model_view v = {.page0 = &snap, .low_res_nsec = 0};
    struct timespec res_model, res_sys;
    tk_model_clock_getres(&v, VDSO_CLOCK_MONOTONIC, &res_model);
    syscall(SYS_clock_getres, VDSO_CLOCK_MONOTONIC, &res_sys);
    CHECK(res_model.tv_nsec == res_sys.tv_nsec, "hrtimer_res %ld, syscall getres %ld",
          res_model.tv_nsec, res_sys.tv_nsec);
    return check_finish();
}
