/*
 * The differential test: the reference image and this kernel's own vDSO
 * (copied out of this process at test time) loaded side by side, each on
 * its own emulated data pages, driven through the same states with the
 * manual counter (PVCLOCK, multiplier 0). First a table of raw states
 * written straight into the pages (diff_states.c), then a sequence of
 * operations of two scripted timekeepers run in lockstep; for each state
 * every clock id in [-20, 40], INT_MIN and INT_MAX goes through
 * clock_gettime and clock_getres (with and without res), and gettimeofday
 * and time in every argument combination (diff_compare.c). Then getcpu on
 * every CPU. Prints the coverage.
 *
 * Usage: test_loader_diff [REFERENCE-IMAGE]  (default: the embedded image)
 */
#define _GNU_SOURCE
#include "check.h"
#include "diff_compare.h"
#include "diff_states.h"

#include <vdsokit/elf.h>
#include <vdsokit/elf_sections.h>
#include <vdsokit/loader.h>
#include <vdsokit/timekeeper_raw.h>

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint32_t low_res_nsec;

static struct vdso_loaded *load_ref(const char *path, const struct loader_options *opt)
{
    struct vdso_loaded *l = NULL;
    struct vdsokit_error err;
    int rc = path ? loader_load_file(&l, path, opt, &err) : loader_load_ref(&l, opt, &err);

    CHECK(rc == 0, "loading the reference image: %s", err.msg);
    return l;
}

/* The data-page layout of docs/abi.md §1.2 is that of kernels 6.17 and later. */
static void require_kernel_layout(void)
{
    struct vdsokit_error err;
    struct vdsokit_error eerr;
    struct elf_image img;
    struct elf_notes notes;
    const void *bytes;
    size_t size;
    char v[16];

    if (loader_live_image(&bytes, &size, &err))
        SKIP("%s", err.msg);
    if (elf_open(&img, bytes, size, &eerr) || elf_notes_read(&img, NULL, &notes, &eerr))
        SKIP("the live vDSO does not parse: %s", eerr.msg);
    if (!notes.has_linux_version || notes.linux_version < 0x061100)
        SKIP("the live vDSO is not from a 6.17+ kernel (Linux note %s): other data layout",
             notes.has_linux_version
                 ? (elf_linux_version_format(notes.linux_version, v, sizeof v), v)
                 : "absent");
    elf_linux_version_format(notes.linux_version, v, sizeof v);
    printf("live vDSO: Linux %s, %zu bytes\n", v, size);
}

/* --- raw states --------------------------------------------------------- */

static void write_state(struct vdso_loaded *l, const struct diff_state *s)
{
    struct vdsokit_error err;

    memcpy(datapages_time(&l->dp), &s->time, sizeof s->time);
    memcpy(datapages_timens(&l->dp), &s->ns, sizeof s->ns);
    memcpy(datapages_pvclock(&l->dp), &s->pv, sizeof s->pv);
    memcpy(datapages_hvclock(&l->dp), &s->hv, sizeof s->hv);
    CHECK(loader_set_layout(l, s->timens ? LOADER_LAYOUT_TIMENS : LOADER_LAYOUT_ROOT, &err) == 0,
          "%s", err.msg);
}

/*
 * Which optional paths this kernel's vDSO was built with: probe an aux
 * clock and the Hyper-V page with valid data; a fallback means "without".
 */
static struct diff_kernel_config probe_kernel(struct vdso_loaded *kern)
{
    static struct diff_state s;
    struct diff_kernel_config k = {false, false};
    struct vdso_timespec ts;

    if (diff_state_find("aux clocks, timens", 0, &s)) {
        write_state(kern, &s);
        k.aux_clocks = kern->clock_gettime(VDSO_CLOCK_AUX, &ts) == 0;
    }
    if (diff_state_find("hvclock seq", 7, &s)) {
        write_state(kern, &s);
        k.hvclock = kern->clock_gettime(VDSO_CLOCK_MONOTONIC_RAW, &ts) == 0 &&
                    ts.tv_sec == (int64_t)s.time.clock_data[1].basetime[4].sec;
    }
    printf("kernel vDSO build: aux clocks %s, HVCLOCK %s (the reference serves both)\n",
           k.aux_clocks ? "served" : "to the syscall", k.hvclock ? "served" : "to the syscall");
    return k;
}

static unsigned run_raw_states(struct vdso_loaded *ref, struct vdso_loaded *kern,
                               struct diff_kernel_config kcfg)
{
    static struct diff_state s;
    unsigned n = 0;

    for (; diff_state_build(n, &s); n++) {
        struct diff_pair p = {ref, kern, s.name, kcfg};
        struct tk_model_view v = {s.timens ? &s.ns : &s.time, s.timens ? &s.time : NULL,
                                  diff_state_counter(&s), low_res_nsec, LAYOUT_DELTA_6_10};
        write_state(ref, &s);
        write_state(kern, &s);
        diff_all(&p, &v);
    }
    return n;
}

/* --- timekeeper sequence ------------------------------------------------ */

static const struct tk_script script = {
    .counter = TK_COUNTER_PVCLOCK_MANUAL,
    .counter_start = 5000000000000ull,
    .mult = (1u << 24) + 77,
    .shift = 24,
    .realtime = {1700000000, 500000000},
    .monotonic = {1000, 0},
    .boot_offset = {10, 250},
    .raw = {990, 999999999},
    .tai_offset = 37,
    .seq_start = 10,
};

struct tk_op {
    const char *name;
    int (*fn)(struct vdso_loaded *l);
};

static int op_nothing(struct vdso_loaded *l)
{
    return 0;
}
static int op_advance_small(struct vdso_loaded *l)
{
    return tk_advance_counter(l->tk, 999999);
}
static int op_accumulate(struct vdso_loaded *l)
{
    return tk_accumulate(l->tk);
}
static int op_advance_second(struct vdso_loaded *l)
{
    return tk_advance_counter(l->tk, 1000000001);
}
static int op_step_fwd(struct vdso_loaded *l)
{
    return tk_step_realtime(l->tk, 3500000000ll);
}
static int op_step_back(struct vdso_loaded *l)
{
    return tk_step_realtime(l->tk, -10000000007ll);
}
static int op_slew(struct vdso_loaded *l)
{
    return tk_slew_ppm(l->tk, 500);
}
static int op_tai(struct vdso_loaded *l)
{
    return tk_set_tai_offset(l->tk, 38);
}
static int op_sleep(struct vdso_loaded *l)
{
    return tk_inject_sleep(l->tk, 2000000003ll);
}
static int op_res(struct vdso_loaded *l)
{
    return tk_set_hrtimer_res(l->tk, 4000000);
}
static int op_tz(struct vdso_loaded *l)
{
    return tk_set_tz(l->tk, -120, 1);
}
static int op_mode_none(struct vdso_loaded *l)
{
    return tk_set_clock_mode(l->tk, VDSO_CLOCKMODE_NONE);
}
static int op_mode_pv(struct vdso_loaded *l)
{
    return tk_set_clock_mode(l->tk, VDSO_CLOCKMODE_PVCLOCK);
}
static int op_mode_weird(struct vdso_loaded *l)
{
    return tk_set_clock_mode(l->tk, 7);
}
static int op_aux(struct vdso_loaded *l)
{
    return tk_aux_enable(l->tk, 2, (struct timespec){123, 456});
}
static int op_behind(struct vdso_loaded *l)
{
    uint64_t now = tk_counter_now(l->tk);

    return tk_set_counter(l->tk, now - 5000);
}
static int op_unstable(struct vdso_loaded *l)
{
    return tk_pvclock_set_stable(l->tk, false);
}
static int op_stable(struct vdso_loaded *l)
{
    return tk_pvclock_set_stable(l->tk, true);
}
static int op_timens(struct vdso_loaded *l)
{
    struct vdsokit_error err;
    int rc = tk_timens_set(l->tk, (struct timens_offset){86400 * 10, 999999999},
                           (struct timens_offset){-5000, 1});
    return rc ? rc : loader_set_layout(l, LOADER_LAYOUT_TIMENS, &err);
}
static int op_timens_neg(struct vdso_loaded *l)
{
    return tk_timens_set(l->tk, (struct timens_offset){-900, 500000000},
                         (struct timens_offset){-1000, 999999999});
}
static int op_root(struct vdso_loaded *l)
{
    struct vdsokit_error err;

    return loader_set_layout(l, LOADER_LAYOUT_ROOT, &err);
}

static const struct tk_op tk_ops[] = {
    {"start", op_nothing},
    {"counter +999999", op_advance_small},
    {"accumulate", op_accumulate},
    {"counter +1.000000001 s", op_advance_second},
    {"step realtime +3.5 s", op_step_fwd},
    {"step realtime -10 s", op_step_back},
    {"slew +500 ppm", op_slew},
    {"counter +1.000000001 s", op_advance_second},
    {"accumulate", op_accumulate},
    {"tai 38", op_tai},
    {"sleep 2 s", op_sleep},
    {"hrtimer_res 4 ms", op_res},
    {"tz -120/1", op_tz},
    {"mode NONE", op_mode_none},
    {"accumulate", op_accumulate},
    {"mode 7", op_mode_weird},
    {"mode PVCLOCK", op_mode_pv},
    {"aux 2 enabled", op_aux},
    {"counter +999999", op_advance_small},
    {"counter behind cycle_last", op_behind},
    {"pvclock unstable", op_unstable},
    {"pvclock stable", op_stable},
    {"timens +10 d, boot -5000 s", op_timens},
    {"counter +1.000000001 s", op_advance_second},
    {"timens negative", op_timens_neg},
    {"mode NONE in timens", op_mode_none},
    {"mode PVCLOCK in timens", op_mode_pv},
    {"root layout", op_root},
};

static void check_same_pages(const struct vdso_loaded *a, const struct vdso_loaded *b,
                             const char *step)
{
    CHECK(!memcmp(datapages_time(&a->dp), datapages_time(&b->dp), sizeof(struct vdso_time_data)) &&
              !memcmp(datapages_timens(&a->dp), datapages_timens(&b->dp),
                      sizeof(struct vdso_time_data)) &&
              !memcmp(datapages_pvclock(&a->dp), datapages_pvclock(&b->dp),
                      sizeof(struct pvclock_vcpu_time_info)),
          "after \"%s\" the two timekeepers wrote different pages", step);
}

static unsigned run_tk_sequence(const char *ref_path, struct diff_kernel_config kcfg)
{
    const struct loader_options opt = {.clock = LOADER_CLOCK_SCRIPTED, .script = &script};
    struct vdso_loaded *ref = load_ref(ref_path, &opt), *kern = NULL;
    struct vdsokit_error err;
    char name[96];
    unsigned n = 0;

    CHECK(loader_load_live(&kern, &opt, &err) == 0, "%s", err.msg);
    if (!ref || !kern)
        goto out;
    for (; n < sizeof tk_ops / sizeof tk_ops[0]; n++) {
        int ra = tk_ops[n].fn(ref), rb = tk_ops[n].fn(kern);
        bool ns = ref->layout == LOADER_LAYOUT_TIMENS;
        struct vdso_time_data *t = datapages_time(&ref->dp), *z = datapages_timens(&ref->dp);
        struct tk_model_view v = {ns ? z : t, ns ? t : NULL, tk_read_counter(ref->tk), low_res_nsec,
                                  LAYOUT_DELTA_6_10};
        struct diff_pair p = {ref, kern, name, kcfg};

        snprintf(name, sizeof name, "tk step %u \"%s\"", n, tk_ops[n].name);
        CHECK(ra == 0 && rb == 0, "%s: returns %d / %d", name, ra, rb);
        check_same_pages(ref, kern, name);
        diff_all(&p, &v);
    }
out:
    loader_unload(ref);
    loader_unload(kern);
    return n;
}

/* --- getcpu -------------------------------------------------------------- */

static unsigned run_getcpu(struct vdso_loaded *ref, struct vdso_loaded *kern)
{
    cpu_set_t all, one;
    unsigned tested = 0;

    CHECK(ref->getcpu && kern->getcpu, "getcpu exported: ref %p kernel %p", (void *)ref->getcpu,
          (void *)kern->getcpu);
    if (!ref->getcpu || !kern->getcpu || sched_getaffinity(0, sizeof all, &all))
        return 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        unsigned sc = ~0u, sn = ~0u, rc = ~0u, rn = ~0u, kc = ~0u, kn = ~0u, sc2 = ~0u;
        if (!CPU_ISSET(cpu, &all))
            continue;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one))
            continue;
        syscall(SYS_getcpu, &sc, &sn, NULL);
        long r1 = ref->getcpu(&rc, &rn, NULL), r2 = kern->getcpu(&kc, &kn, NULL);
        syscall(SYS_getcpu, &sc2, NULL, NULL);
        CHECK(r1 == 0 && r2 == 0, "cpu %d: getcpu returns ref %ld kernel %ld", cpu, r1, r2);
        CHECK(sc == (unsigned)cpu && sc2 == sc, "cpu %d: pinned, but getcpu(2) says %u then %u",
              cpu, sc, sc2);
        CHECK(rc == sc && kc == sc && rn == sn && kn == sn,
              "cpu %d: getcpu(2) {%u, %u}, ref {%u, %u}, kernel {%u, %u}", cpu, sc, sn, rc, rn, kc,
              kn);
        CHECK(ref->getcpu(NULL, NULL, NULL) == 0 && kern->getcpu(NULL, NULL, NULL) == 0,
              "cpu %d: getcpu(NULL, NULL, NULL)", cpu);
        CHECK(ref->getcpu(&rc, NULL, NULL) == 0 && rc == sc, "cpu %d: getcpu(cpu, NULL)", cpu);
        tested++;
    }
    sched_setaffinity(0, sizeof all, &all);
    return tested;
}

int main(int argc, char **argv)
{
    const struct loader_options raw = {.clock = LOADER_CLOCK_NONE};
    const char *ref_path = argc > 1 ? argv[1] : NULL;
    struct vdso_loaded *ref, *kern = NULL;
    struct vdsokit_error err;
    struct vdso_timespec res;
    struct diff_kernel_config kcfg;
    unsigned raw_states, tk_states, cpus;

    require_kernel_layout();
    diff_guard_init();
    syscall(SYS_clock_getres, VDSO_CLOCK_MONOTONIC_COARSE, &res);
    low_res_nsec = (uint32_t)res.tv_nsec;
    ref = load_ref(ref_path, &raw);
    CHECK(loader_load_live(&kern, &raw, &err) == 0, "%s", err.msg);
    if (!ref || !kern)
        return check_finish();
    printf("reference: %s at %p, kernel: %s at %p\n", ref->name, (void *)ref->text, kern->name,
           (void *)kern->text);

    kcfg = probe_kernel(kern);
    raw_states = run_raw_states(ref, kern, kcfg);
    cpus = run_getcpu(ref, kern);
    loader_unload(ref);
    loader_unload(kern);
    tk_states = run_tk_sequence(ref_path, kcfg);

    printf("coverage: %u raw states + %u timekeeper states = %u states x %d clock ids\n",
           raw_states, tk_states, raw_states + tk_states, DIFF_NCLOCKS);
    printf("  clock_gettime %lu, clock_getres %lu (res and NULL), gettimeofday %lu (4 argument "
           "forms), time %lu comparisons\n",
           diff_stats.gettime, diff_stats.getres, diff_stats.gettimeofday, diff_stats.time);
    printf("  model outcome: %lu served from the pages, %lu fallback, %lu fault, %lu spin "
           "(skipped)\n",
           diff_stats.served, diff_stats.fallback, diff_stats.fault, diff_stats.skipped);
    printf("  %lu calls served by the reference where this kernel's build falls back\n",
           diff_stats.config_diff);
    printf("  %lu calls the model says fault where neither image reads the absent page (both "
           "identical)\n",
           diff_stats.fault_not_taken);
    printf("  getcpu: %u CPUs pinned in turn\n", cpus);
    check_passed += diff_checks_passed();
    check_failed += diff_checks_failed();
    return check_finish();
}
