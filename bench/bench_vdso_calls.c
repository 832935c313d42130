/*
 * ns per call of the vDSO entry points for: this process's own vDSO as the
 * kernel mapped it (the live one; on this host it runs in whatever mode the
 * kernel chose, PVCLOCK under kvm-clock), this kernel's vDSO image loaded on
 * emulated data pages and the reference image loaded the same way, each
 * emulated pair in TSC mode and in PVCLOCK mode (pvclock page scaled from
 * the TSC), all in one run pinned to one CPU. Each figure is the best of
 * many short rounds (short, so that most escape preemption on a loaded
 * machine), the targets interleaved within a round so that frequency
 * and cache effects hit all alike. Prints the table and the ratio reference
 * / kernel per mode (goal: <= 1.00).
 *
 * Usage: bench_vdso_calls [REFERENCE-IMAGE]   (default: the embedded image)
 */
#define _GNU_SOURCE
#include <vdsokit/elf.h>
#include <vdsokit/loader.h>
#include <vdsokit/timespec.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Short rounds and many of them: on a shared machine (fuzzers, other
 * builds) a 20000-call round is often disturbed, and a figure needs only
 * one clean round. The starting target rotates from round to round so that
 * no target always runs first after a context switch.
 */
#define CALLS  4000
#define ROUNDS 400

struct target {
    const char *name;
    vdso_clock_gettime_fn clock_gettime;
    vdso_gettimeofday_fn gettimeofday;
    vdso_time_fn time;
    vdso_getcpu_fn getcpu;
    int mode; /* clock mode of the data pages, -1 unknown (live) */
};

enum call {
    CALL_MONOTONIC,
    CALL_REALTIME,
    CALL_MONOTONIC_RAW,
    CALL_BOOTTIME,
    CALL_MONOTONIC_COARSE,
    CALL_GETTIMEOFDAY,
    CALL_TIME,
    CALL_GETCPU,
    NCALLS
};

static const char *const call_names[NCALLS] = {
    "clock_gettime(MONOTONIC)",
    "clock_gettime(REALTIME)",
    "clock_gettime(MONOTONIC_RAW)",
    "clock_gettime(BOOTTIME)",
    "clock_gettime(MONOTONIC_COARSE)",
    "gettimeofday",
    "time",
    "getcpu",
};

static const int32_t call_clock[] = {VDSO_CLOCK_MONOTONIC, VDSO_CLOCK_REALTIME,
                                     VDSO_CLOCK_MONOTONIC_RAW, VDSO_CLOCK_BOOTTIME,
                                     VDSO_CLOCK_MONOTONIC_COARSE};

static volatile int64_t sink;

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_ns(&ts);
}

/*
 * Results are summed in a register and stored once: a volatile sum updated
 * on every call chains each iteration to the previous one's store (a store
 * forwarding round trip, about 5 cycles), a floor that hid the cost of the
 * shortest calls (time, the coarse clocks).
 */
static double run(const struct target *t, enum call c)
{
    struct vdso_timespec ts;
    struct vdso_timeval tv;
    unsigned cpu;
    int64_t acc = 0;
    int64_t start = now_ns();

    for (int i = 0; i < CALLS; i++) {
        switch (c) {
        case CALL_GETTIMEOFDAY:
            t->gettimeofday(&tv, NULL);
            acc += tv.tv_usec;
            break;
        case CALL_TIME:
            acc += t->time(NULL);
            break;
        case CALL_GETCPU:
            t->getcpu(&cpu, NULL, NULL);
            acc += cpu;
            break;
        default:
            t->clock_gettime(call_clock[c], &ts);
            acc += ts.tv_nsec;
            break;
        }
    }
    sink += acc;
    return (double)(now_ns() - start) / CALLS;
}

/* The live vDSO's entry points, resolved with the project's resolver. */
static int live_target(struct target *t)
{
    const char *names[] = {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
                           "__vdso_getcpu"};
    void *fn[4];
    struct vdsokit_error err;
    struct vdsokit_error eerr;
    struct elf_image img;
    struct elf_sym sym;
    const void *bytes;
    size_t size;
    uint64_t off;

    if (loader_live_image(&bytes, &size, &err) || elf_open(&img, bytes, size, &eerr))
        return -1;
    for (int i = 0; i < 4; i++) {
        if (elf_lookup(&img, names[i], "LINUX_2.6", ELF_LOOKUP_AUTO, &sym) != ELF_FOUND ||
            !elf_symbol_offset(&img, &sym, &off))
            return -1;
        fn[i] = (uint8_t *)bytes + off;
    }
    *t = (struct target){"live (kernel-mapped)",      (vdso_clock_gettime_fn)fn[0],
                         (vdso_gettimeofday_fn)fn[1], (vdso_time_fn)fn[2],
                         (vdso_getcpu_fn)fn[3],       -1};
    return 0;
}

static struct vdso_loaded *load(const char *path, bool live, enum tk_counter_kind kind)
{
    const struct loader_options opt = {.clock = LOADER_CLOCK_HOST, .counter = kind};
    struct vdso_loaded *l = NULL;
    struct vdsokit_error err;
    int rc = live   ? loader_load_live(&l, &opt, &err)
             : path ? loader_load_file(&l, path, &opt, &err)
                    : loader_load_ref(&l, &opt, &err);

    if (rc) {
        fprintf(stderr, "bench_vdso_calls: %s\n", err.msg);
        exit(1);
    }
    return l;
}

static struct target loaded_target(const char *name, const struct vdso_loaded *l)
{
    return (struct target){
        name,    l->clock_gettime, l->gettimeofday,
        l->time, l->getcpu,        datapages_time(&l->dp)->clock_data[0].clock_mode};
}

static void pin_to_current_cpu(void)
{
    cpu_set_t one;
    int cpu = sched_getcpu();

    CPU_ZERO(&one);
    CPU_SET(cpu < 0 ? 0 : cpu, &one);
    sched_setaffinity(0, sizeof one, &one);
}

int main(int argc, char **argv)
{
    const char *ref_path = argc > 1 ? argv[1] : NULL;
    struct vdso_loaded *kern_tsc, *kern_pv, *ref_tsc, *ref_pv;
    struct target t[5];
    double best[5][NCALLS];
    int nt = 0;

    pin_to_current_cpu();
    kern_tsc = load(NULL, true, TK_COUNTER_TSC);
    kern_pv = load(NULL, true, TK_COUNTER_PVCLOCK_HOST);
    ref_tsc = load(ref_path, false, TK_COUNTER_TSC);
    ref_pv = load(ref_path, false, TK_COUNTER_PVCLOCK_HOST);
    if (live_target(&t[nt]) == 0)
        nt++;
    t[nt++] = loaded_target("kernel image, TSC", kern_tsc);
    t[nt++] = loaded_target("ref image, TSC", ref_tsc);
    t[nt++] = loaded_target("kernel image, PVCLOCK", kern_pv);
    t[nt++] = loaded_target("ref image, PVCLOCK", ref_pv);

    for (int i = 0; i < nt; i++)
        for (int c = 0; c < NCALLS; c++)
            best[i][c] = 1e30;
    for (int r = 0; r < ROUNDS; r++)
        for (int c = 0; c < NCALLS; c++)
            for (int k = 0; k < nt; k++) {
                int i = (k + r) % nt;
                double ns = run(&t[i], c);
                if (ns < best[i][c])
                    best[i][c] = ns;
            }

    printf("ns per call, best of %d rounds of %d calls, pinned to CPU %d\n", ROUNDS, CALLS,
           sched_getcpu());
    printf("%-32s", "call");
    for (int i = 0; i < nt; i++)
        printf(" %22s", t[i].name);
    printf(" %10s %10s\n", "ref/kern", "ref/kern");
    printf("%-32s", "");
    for (int i = 0; i < nt; i++)
        printf(" %22s", t[i].mode < 0    ? "(kernel's mode)"
                        : t[i].mode == 1 ? "(mode TSC)"
                                         : "(mode PVCLOCK)");
    printf(" %10s %10s\n", "TSC", "PVCLOCK");
    int k = nt - 4; /* index of "kernel image, TSC" */
    for (int c = 0; c < NCALLS; c++) {
        printf("%-32s", call_names[c]);
        for (int i = 0; i < nt; i++)
            printf(" %22.2f", best[i][c]);
        printf(" %10.2f %10.2f\n", best[k + 1][c] / best[k][c], best[k + 3][c] / best[k + 2][c]);
    }
    loader_unload(kern_tsc);
    loader_unload(kern_pv);
    loader_unload(ref_tsc);
    loader_unload(ref_pv);
    return 0;
}
