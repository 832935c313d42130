/*
 * The differential test: two images loaded side by side, each on its own
 * emulated data pages with identical contents, driven through the same
 * states with the manual counter (PVCLOCK, multiplier 0). One image is the
 * reference, the other a kernel's vDSO: this kernel's own (copied out of
 * this process at test time) or an image file (--kernel, e.g. a guest's
 * dump from ci/kernel-matrix). The reference is the variant built for the
 * kernel image's era (its `Linux` note; vdso_ref.h), so that both read the
 * same era's data pages, which the emulated kernel lays out by that note.
 * First a table of raw states written straight into the pages
 * (diff_states.c), then --random N seeded random states (diff_random.c),
 * then a sequence of operations of two scripted timekeepers run in
 * lockstep; for each state every clock id in [-20, 40], INT_MIN and
 * INT_MAX goes through clock_gettime and clock_getres (with and without
 * res), and gettimeofday and time in every argument combination
 * (diff_compare.c), each under the era's delta rule. Then getcpu on every
 * CPU. Prints the coverage.
 *
 * Usage: test_loader_diff [--kernel IMAGE] [--random N] [--layout X.Y]
 * [REFERENCE-IMAGE] (default: this kernel's vDSO, 2000 random states, the
 * embedded reference of the kernel image's era). --layout judges a kernel
 * image as version X.Y, e.g. one newer than every era, to see whether it
 * still reads the data pages as the newest era does.
 */
#define _GNU_SOURCE
#include "check.h"
#include "diff_compare.h"
#include "diff_random.h"
#include "diff_states.h"

#include <vdsokit/datapages_era.h>
#include <vdsokit/elf.h>
#include <vdsokit/elf_sections.h>
#include <vdsokit/loader.h>
#include <vdsokit/timekeeper_raw.h>

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint32_t low_res_nsec;

/* The command line. */
static const char *ref_path;  /* NULL: the embedded reference of the kernel's era */
static const char *kern_path; /* NULL: this kernel's vDSO */
static unsigned long random_states = 2000;
static uint32_t layout_version; /* --layout: judge the kernel image as this version; 0: its note */

/* The kernel image: a file, or this process's vDSO. */
static struct vdso_loaded *load_kernel(const struct loader_options *opt)
{
    struct vdso_loaded *l = NULL;
    struct vdsokit_error err;
    int rc =
        kern_path ? loader_load_file(&l, kern_path, opt, &err) : loader_load_live(&l, opt, &err);

    CHECK(rc == 0, "loading the kernel image: %s", err.msg);
    return l;
}

/* The reference: a file, or the embedded variant for the kernel's version (0: native). */
static struct vdso_loaded *load_ref(const struct loader_options *opt, uint32_t version)
{
    struct loader_options o = *opt;
    struct vdso_loaded *l = NULL;
    struct vdsokit_error err;
    int rc;

    o.linux_version = ref_path ? 0 : version;
    rc = ref_path ? loader_load_file(&l, ref_path, &o, &err) : loader_load_ref(&l, &o, &err);
    CHECK(rc == 0, "loading the reference image: %s", err.msg);
    return l;
}

/* This kernel's vDSO must be there and carry a version (its era's data pages). */
static void require_live_image(void)
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
    if (!notes.has_linux_version)
        SKIP("the live vDSO has no `Linux` note: its data-page era is unknown");
    elf_linux_version_format(notes.linux_version, v, sizeof v);
    printf("live vDSO: Linux %s, %zu bytes\n", v, size);
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--kernel") && i + 1 < argc) {
            kern_path = argv[++i];
        } else if (!strcmp(argv[i], "--random") && i + 1 < argc) {
            char *end;
            random_states = strtoul(argv[++i], &end, 10);
            if (*end) {
                fprintf(stderr, "test_loader_diff: --random %s: not a count\n", argv[i]);
                exit(2);
            }
        } else if (!strcmp(argv[i], "--layout") && i + 1 < argc) {
            unsigned major, minor;
            char tail;
            if (sscanf(argv[++i], "%u.%u%c", &major, &minor, &tail) != 2 || major > 255 ||
                minor > 255) {
                fprintf(stderr, "test_loader_diff: --layout %s: not a version X.Y\n", argv[i]);
                exit(2);
            }
            layout_version = major << 16 | minor << 8;
        } else if (argv[i][0] != '-' && !ref_path) {
            ref_path = argv[i];
        } else {
            fprintf(stderr, "usage: test_loader_diff [--kernel IMAGE] [--random N] [--layout X.Y] "
                            "[REFERENCE-IMAGE]\n");
            exit(2);
        }
    }
}

/* --- raw states --------------------------------------------------------- */

/* The canonical pages, then (for an older era) their mirror in the era's format. */
static void write_state(struct vdso_loaded *l, const struct diff_state *s)
{
    struct vdsokit_error err;

    memcpy(datapages_time(&l->dp), &s->time, sizeof s->time);
    memcpy(datapages_timens(&l->dp), &s->ns, sizeof s->ns);
    memcpy(datapages_pvclock(&l->dp), &s->pv, sizeof s->pv);
    memcpy(datapages_hvclock(&l->dp), &s->hv, sizeof s->hv);
    datapages_era_seqs(&l->dp);
    datapages_era_data(&l->dp);
    datapages_era_timens(&l->dp);
    CHECK(loader_set_layout(l, s->timens ? LOADER_LAYOUT_TIMENS : LOADER_LAYOUT_ROOT, &err) == 0,
          "%s", err.msg);
}

/*
 * Which optional paths an image was built with: probe an aux clock and the
 * Hyper-V page with valid data; a fallback means "without".
 */
/*
 * Whether an image clamps a TSC behind the pvclock's stamp to no time
 * elapsed: a build property, not an era's (this host's 6.18.44 does,
 * Debian's 6.17-7.3 builds do not; docs/abi.md §2.3). Clamped, the
 * stamped-ahead state reads exactly the model at the record's own time.
 */
static bool probe_pvclock_clamp(struct vdso_loaded *l)
{
    static struct diff_state s;
    struct vdso_timespec ts;
    struct timespec m;

    if (!diff_state_find("pvclock stamp ahead", 0, &s))
        return false;
    struct tk_model_view v = {&s.time, NULL, diff_state_counter(&s), low_res_nsec, l->delta};
    write_state(l, &s);
    return l->clock_gettime(VDSO_CLOCK_MONOTONIC, &ts) == 0 &&
           tk_model_clock_gettime(&v, VDSO_CLOCK_MONOTONIC, &m) == TK_MODEL_OK &&
           ts.tv_sec == m.tv_sec && ts.tv_nsec == m.tv_nsec;
}

static struct diff_kernel_config probe_build(struct vdso_loaded *kern, const char *who)
{
    static struct diff_state s;
    struct diff_kernel_config k = {false, false, false};
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
    k.pvclock_clamp = probe_pvclock_clamp(kern);
    printf("%s build: aux clocks %s, HVCLOCK %s, a TSC behind the pvclock stamp %s\n", who,
           k.aux_clocks ? "served" : "to the syscall", k.hvclock ? "served" : "to the syscall",
           k.pvclock_clamp ? "clamped" : "scaled as it wraps");
    return k;
}

/* States whose counter depends on when each image reads the TSC: not compared. */
static unsigned long tsc_dependent;

/*
 * The counter as the era reads it: up to 6.4 a reading with bit 63 set is
 * not cut to 63 bits but unusable (diff_state_counter() cuts it).
 */
static uint64_t era_counter(const struct diff_state *s, enum layout_delta_rule rule)
{
    uint64_t raw = s->time.clock_data[0].clock_mode == VDSO_CLOCKMODE_HVCLOCK
                       ? (uint64_t)s->hv.tsc_offset
                       : s->pv.system_time;
    uint64_t c = diff_state_counter(s);

    return rule == LAYOUT_DELTA_6_1 && c != UINT64_MAX && (raw >> 63) ? UINT64_MAX : c;
}

/*
 * A pvclock record stamped ahead of the TSC with a nonzero multiplier: an
 * image that does not clamp the pvclock's delta at 0 (before 6.17, and
 * some later builds: probe_pvclock_clamp) scales the wrapped delta, so the
 * counter depends on the TSC at each read. Compared only where both the
 * reference and the kernel image clamp.
 */
static bool counter_is_tsc_dependent(const struct diff_state *s, struct diff_kernel_config rcfg,
                                     struct diff_kernel_config kcfg)
{
    return !(rcfg.pvclock_clamp && kcfg.pvclock_clamp) &&
           s->time.clock_data[0].clock_mode == VDSO_CLOCKMODE_PVCLOCK && s->pv.tsc_to_system_mul &&
           (int64_t)(__builtin_ia32_rdtsc() - s->pv.tsc_timestamp) < 0;
}

static void run_state(struct vdso_loaded *ref, struct vdso_loaded *kern,
                      struct diff_kernel_config rcfg, struct diff_kernel_config kcfg,
                      const struct diff_state *s)
{
    struct diff_pair p = {ref, kern, s->name, kcfg, rcfg};
    struct tk_model_view v = {s->timens ? &s->ns : &s->time, s->timens ? &s->time : NULL,
                              era_counter(s, kern->delta), low_res_nsec, kern->delta};

    if (counter_is_tsc_dependent(s, rcfg, kcfg)) {
        tsc_dependent++;
        return;
    }
    write_state(ref, s);
    write_state(kern, s);
    diff_all(&p, &v);
}

static unsigned run_raw_states(struct vdso_loaded *ref, struct vdso_loaded *kern,
                               struct diff_kernel_config rcfg, struct diff_kernel_config kcfg)
{
    static struct diff_state s;
    unsigned n = 0;

    for (; diff_state_build(n, &s); n++)
        run_state(ref, kern, rcfg, kcfg, &s);
    return n;
}

/* The random states that run (see diff_random.h); *drawn counts the seeds tried. */
static unsigned run_random_states(struct vdso_loaded *ref, struct vdso_loaded *kern,
                                  struct diff_kernel_config rcfg, struct diff_kernel_config kcfg,
                                  unsigned long *drawn)
{
    static struct diff_state s;
    unsigned n = 0;

    for (*drawn = 0; n < random_states; (*drawn)++)
        if (diff_random_state(*drawn, kern->delta, &s)) {
            run_state(ref, kern, rcfg, kcfg, &s);
            n++;
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

static unsigned run_tk_sequence(struct diff_kernel_config rcfg, struct diff_kernel_config kcfg)
{
    const struct loader_options opt = {
        .clock = LOADER_CLOCK_SCRIPTED, .script = &script, .linux_version = layout_version};
    struct vdso_loaded *kern = load_kernel(&opt);
    struct vdso_loaded *ref = kern ? load_ref(&opt, kern->layout_version) : NULL;
    char name[96];
    unsigned n = 0;

    if (!ref || !kern)
        goto out;
    for (; n < sizeof tk_ops / sizeof tk_ops[0]; n++) {
        int ra = tk_ops[n].fn(ref), rb = tk_ops[n].fn(kern);
        bool ns = ref->layout == LOADER_LAYOUT_TIMENS;
        struct vdso_time_data *t = datapages_time(&ref->dp), *z = datapages_timens(&ref->dp);
        struct tk_model_view v = {ns ? z : t, ns ? t : NULL, tk_read_counter(ref->tk), low_res_nsec,
                                  kern->delta};
        struct diff_pair p = {ref, kern, name, kcfg, rcfg};

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
    struct loader_options raw = {.clock = LOADER_CLOCK_NONE};
    struct vdso_loaded *ref = NULL, *kern;
    struct vdso_timespec res;
    struct diff_kernel_config rcfg, kcfg;
    unsigned raw_states, rnd_states, tk_states, cpus;
    unsigned long drawn;

    parse_args(argc, argv);
    raw.linux_version = layout_version;
    if (!kern_path)
        require_live_image();
    diff_guard_init();
    syscall(SYS_clock_getres, VDSO_CLOCK_MONOTONIC_COARSE, &res);
    low_res_nsec = (uint32_t)res.tv_nsec;
    kern = load_kernel(&raw);
    if (kern)
        ref = load_ref(&raw, kern->layout_version);
    if (!ref || !kern)
        return check_finish();
    printf("reference: %s at %p, kernel: %s at %p; layout %s, delta rule of %s\n", ref->name,
           (void *)ref->text, kern->name, (void *)kern->text, kern->profile->era,
           kern->delta == LAYOUT_DELTA_6_10  ? "6.10+"
           : kern->delta == LAYOUT_DELTA_6_5 ? "6.5-6.9"
                                             : "6.1-6.4");
    CHECK(ref->profile == kern->profile && ref->delta == kern->delta,
          "the reference (%s) and the kernel image (%s) read different eras", ref->profile->era,
          kern->profile->era);

    rcfg = probe_build(ref, "reference");
    kcfg = probe_build(kern, "kernel vDSO");
    raw_states = run_raw_states(ref, kern, rcfg, kcfg);
    rnd_states = run_random_states(ref, kern, rcfg, kcfg, &drawn);
    cpus = run_getcpu(ref, kern);
    loader_unload(ref);
    loader_unload(kern);
    tk_states = run_tk_sequence(rcfg, kcfg);

    printf("coverage: %u raw states + %u random states (of %lu drawn) + %u timekeeper states = "
           "%u states x %d clock ids\n",
           raw_states, rnd_states, drawn, tk_states, raw_states + rnd_states + tk_states,
           DIFF_NCLOCKS);
    printf("  clock_gettime %lu, clock_getres %lu (res and NULL), gettimeofday %lu (4 argument "
           "forms), time %lu comparisons\n",
           diff_stats.gettime, diff_stats.getres, diff_stats.gettimeofday, diff_stats.time);
    printf("  model outcome: %lu served from the pages, %lu fallback, %lu fault, %lu spin "
           "(skipped)\n",
           diff_stats.served, diff_stats.fallback, diff_stats.fault, diff_stats.skipped);
    printf("  %lu calls served by one image where the other's build falls back\n",
           diff_stats.config_diff);
    printf("  %lu calls the model says fault where neither image reads the absent page (both "
           "identical)\n",
           diff_stats.fault_not_taken);
    printf("  %lu states not compared: a pvclock stamped ahead of the TSC, which this era does "
           "not clamp (the counter depends on the TSC at each read)\n",
           tsc_dependent);
    printf("  getcpu: %u CPUs pinned in turn\n", cpus);
    check_passed += diff_checks_passed();
    check_failed += diff_checks_failed();
    return check_finish();
}
