/*
 * Throughput of the interleaving explorer (vdsokit/explore.h), against the
 * floor of the technique it uses: a bare loop that reads one PROT_NONE
 * page, with a SIGSEGV handler that makes it readable and sets the trap
 * flag and a SIGTRAP handler that protects it again (two signals and two
 * mprotect calls per read). Then the explorer on the embedded reference in
 * TSC mode: traced loads per second of clock_gettime(MONOTONIC) runs with
 * no schedule, and schedules per second over every single-update schedule
 * of that call. Prints the figures and the ratio explorer / floor per load
 * (the goal: within a factor 1.5 of the floor). One CPU, pinned;
 * each figure the best of a few rounds, for a shared machine.
 *
 * Usage: bench_explore [ROUNDS]   (default 5)
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>

#include <vdsokit/explore.h>
#include <vdsokit/loader.h>
#include <vdsokit/loader_trap.h>

#define BARE_READS 20000
#define RUNS       400

static volatile uint8_t *bare_page;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bare_segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    mprotect((void *)bare_page, 4096, PROT_READ);
    ((ucontext_t *)ucv)->uc_mcontext.gregs[REG_EFL] |= 0x100;
}

static void bare_trap(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    mprotect((void *)bare_page, 4096, PROT_NONE);
    ((ucontext_t *)ucv)->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)0x100;
}

/* Reads per second of the bare fault + mprotect + step loop. */
static double bare_rate(void)
{
    struct sigaction sa, old_segv, old_trap;
    unsigned sum = 0;

    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = bare_segv;
    sigaction(SIGSEGV, &sa, &old_segv);
    sa.sa_sigaction = bare_trap;
    sigaction(SIGTRAP, &sa, &old_trap);
    mprotect((void *)bare_page, 4096, PROT_NONE);
    double t0 = now_s();
    for (int i = 0; i < BARE_READS; i++)
        sum += bare_page[i & 4095];
    double t = now_s() - t0;
    mprotect((void *)bare_page, 4096, PROT_READ);
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGTRAP, &old_trap, NULL);
    if (sum == 1)
        puts("");
    return BARE_READS / t;
}

struct count {
    struct explore *x;
    const struct explore_call *c;
    struct explore_outcome *o;
    unsigned schedules, failed;
    uint64_t loads;
};

static int one(const struct explore_schedule *s, void *arg)
{
    struct count *n = arg;

    if (explore_run(n->x, n->c, s, n->o, NULL) != 0 || n->o->verdict != EXPLORE_PASS)
        n->failed++;
    n->schedules++;
    n->loads += n->o->ntrace;
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    struct vdsokit_error err;
    struct vdso_loaded *l;
    struct loader_options opt = {.clock = LOADER_CLOCK_HOST};
    cpu_set_t one_cpu;

    CPU_ZERO(&one_cpu);
    CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one_cpu);
    sched_setaffinity(0, sizeof one_cpu, &one_cpu);
    bare_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (bare_page == MAP_FAILED || loader_trap_install(&err) || loader_load_ref(&l, &opt, &err)) {
        fprintf(stderr, "bench_explore: %s\n", bare_page == MAP_FAILED ? "mmap" : err.msg);
        return 1;
    }
    struct explore *x;
    static struct explore_outcome base, o;
    const struct explore_call c = {EXPLORE_GETTIME, VDSO_CLOCK_MONOTONIC};
    if (explore_open(&x, l, EXPLORE_TSC, &err) || explore_run(x, &c, NULL, &base, &err)) {
        fprintf(stderr, "bench_explore: %s\n", err.msg);
        return 1;
    }
    double bare = 0, loads = 0, scheds = 0;
    unsigned nsched = 0, failed = 0;
    for (int r = 0; r < rounds; r++) {
        double b = bare_rate();
        double t0 = now_s();
        for (int i = 0; i < RUNS; i++)
            explore_run(x, &c, NULL, &o, NULL);
        double lr = RUNS * (double)base.ntrace / (now_s() - t0);
        struct count n = {.x = x, .c = &c, .o = &o};
        t0 = now_s();
        explore_each_single(x, &base, one, &n);
        double sr = n.schedules / (now_s() - t0);
        bare = b > bare ? b : bare;
        loads = lr > loads ? lr : loads;
        scheds = sr > scheds ? sr : scheds;
        nsched = n.schedules;
        failed += n.failed;
    }
    printf("bare fault+mprotect+step loop   %10.0f reads/s   (%.1f us each)\n", bare, 1e6 / bare);
    printf("explorer, unperturbed call      %10.0f loads/s   (%.1f us each, %u loads a call)\n",
           loads, 1e6 / loads, base.ntrace);
    printf("explorer, single-update sweep   %10.0f schedules/s (%u schedules)\n", scheds, nsched);
    printf("ratio floor / explorer per load %10.2f (goal <= 1.5)\n", bare / loads);
    explore_close(x);
    loader_unload(l);
    return failed ? 1 : 0;
}
