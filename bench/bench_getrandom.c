/*
 * ns per getrandom call of 16, 64, 256 and 4096 bytes for: the reference
 * image and this kernel's vDSO image, both loaded on emulated data pages,
 * this process's own vDSO as the kernel mapped it (live), and the
 * getrandom syscall; one run, pinned to one CPU, each on its own state
 * (mapped as the params query says), warmed up (the key fetched) first.
 * Each figure is the best of many short rounds with the targets
 * interleaved, as bench_vdso_calls does. Prints the table and the ratios
 * reference / kernel image and reference / live (goal: <= 1.00).
 *
 * Usage: bench_getrandom
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <vdsokit/loader.h>
#include <vdsokit/vgetrandom.h>

#define CALLS    400
#define ROUNDS   300
#define NSIZES   4
#define NTARGETS 4

static const size_t sizes[NSIZES] = {16, 64, 256, 4096};

static long sys_getrandom(void *buf, size_t len, unsigned flags, void *state, size_t state_len)
{
    (void)state, (void)state_len;
    return syscall(SYS_getrandom, buf, len, flags);
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static vdso_getrandom_fn live_getrandom(void)
{
    void *h = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);

    return h ? (vdso_getrandom_fn)dlvsym(h, "__vdso_getrandom", "LINUX_2.6") : NULL;
}

int main(void)
{
    const char *names[NTARGETS] = {"reference image", "kernel image", "live vDSO", "syscall"};
    vdso_getrandom_fn fn[NTARGETS];
    struct vdso_loaded *ref = NULL, *kern = NULL;
    struct loader_options opt = {.clock = LOADER_CLOCK_HOST};
    struct vdsokit_error err;
    cpu_set_t one;

    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    sched_setaffinity(0, sizeof one, &one);
    if (loader_load_live(&kern, &opt, &err) != 0) {
        fprintf(stderr, "bench_getrandom: %s\n", err.msg);
        return 2;
    }
    opt.linux_version = kern->layout_version;
    if (loader_load_ref(&ref, &opt, &err) != 0) {
        fprintf(stderr, "bench_getrandom: %s\n", err.msg);
        return 2;
    }
    fn[0] = ref->getrandom;
    fn[1] = kern->getrandom;
    fn[2] = live_getrandom();
    fn[3] = sys_getrandom;
    if (!fn[0] || !fn[1] || !fn[2]) {
        fprintf(stderr, "bench_getrandom: no vDSO getrandom here (Linux before 6.11?)\n");
        return 2;
    }
    uint8_t *states = mmap(NULL, 4096, VGETRANDOM_PROT, VGETRANDOM_MAP_FLAGS, -1, 0);
    if (states == MAP_FAILED)
        states = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static uint8_t buf[4096];
    double best[NTARGETS][NSIZES];
    for (int t = 0; t < NTARGETS; t++)
        for (int s = 0; s < NSIZES; s++) {
            best[t][s] = 1e30;
            fn[t](buf, 16, 0, states + 256 * t, sizeof(struct vgetrandom_state));
        }
    for (int round = 0; round < ROUNDS; round++)
        for (int s = 0; s < NSIZES; s++)
            for (int k = 0; k < NTARGETS; k++) {
                int t = (k + round) % NTARGETS;
                void *st = states + 256 * t;
                double t0 = now_ns();
                for (int i = 0; i < CALLS; i++)
                    fn[t](buf, sizes[s], 0, st, sizeof(struct vgetrandom_state));
                double ns = (now_ns() - t0) / CALLS;
                if (ns < best[t][s])
                    best[t][s] = ns;
            }
    printf("%-18s", "ns per call");
    for (int s = 0; s < NSIZES; s++)
        printf(" %9zu B", sizes[s]);
    printf("\n");
    for (int t = 0; t < NTARGETS; t++) {
        printf("%-18s", names[t]);
        for (int s = 0; s < NSIZES; s++)
            printf(" %11.1f", best[t][s]);
        printf("\n");
    }
    printf("%-18s", "ref / kernel image");
    for (int s = 0; s < NSIZES; s++)
        printf(" %11.2f", best[0][s] / best[1][s]);
    printf("\n%-18s", "ref / live");
    for (int s = 0; s < NSIZES; s++)
        printf(" %11.2f", best[0][s] / best[2][s]);
    printf("\n");
    loader_unload(ref);
    loader_unload(kern);
    return 0;
}
