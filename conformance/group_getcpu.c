/*
 * Group 3, getcpu (defect classes C23, C24): pinned to each allowed CPU in
 * turn, the target reports that CPU and the node sysfs gives for it; NULL
 * cpu and node pointers are accepted; and while another thread keeps
 * changing the reader's affinity, every answer lies in the union of the
 * masks that were in force during the call and below the CPU count. The
 * churn thread logs each mask before it applies it (`started`) and after
 * (`done`); a call bracketed by done=a and started=b can only have run
 * under masks a..b.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conf.h"
#include "oracle.h"

static void pinned(struct conf_ctx *ctx, int cpu)
{
    int r = pin_to_cpu(cpu);

    if (r) {
        conf_skip(ctx, "cannot pin to cpu %d: error %d", cpu, -r);
        return;
    }
    int want_node = sysfs_cpu_node(cpu);
    for (int i = 0; i < 20; i++) {
        unsigned c = ~0u, n = ~0u;
        long ret = ctx->target->fn.getcpu(&c, &n, NULL);
        if (ret != 0 || c != (unsigned)cpu || (want_node >= 0 && n != (unsigned)want_node)) {
            conf_fail(ctx, "pinned to cpu %d (sysfs node %d): getcpu returned %ld, cpu %u node %u",
                      cpu, want_node, ret, c, n);
            return;
        }
        unsigned sc, sn;
        if (sys_getcpu(&sc, &sn) == 0 && (sc != c || sn != n)) {
            conf_fail(ctx,
                      "pinned to cpu %d: target says cpu %u node %u, the syscall cpu %u node %u",
                      cpu, c, n, sc, sn);
            return;
        }
    }
    if (want_node < 0)
        conf_note(ctx, "sysfs has no node for cpu %d; node compared with the syscall only", cpu);
}

static void null_args(struct conf_ctx *ctx)
{
    conf_getcpu_fn fn = ctx->target->fn.getcpu;
    unsigned c = ~0u, n = ~0u, sc, sn;
    long r1 = fn(NULL, NULL, NULL);
    long r2 = fn(&c, NULL, NULL);
    long r3 = fn(NULL, &n, NULL);

    if (r1 || r2 || r3)
        conf_fail(ctx, "getcpu(NULL,NULL)=%ld, (&cpu,NULL)=%ld, (NULL,&node)=%ld; want 0", r1, r2,
                  r3);
    sys_getcpu(&sc, &sn);
    if (c >= (unsigned)ctx->calib->ncpus)
        conf_fail(ctx, "getcpu(&cpu, NULL) gave cpu %u, not below the %d CPUs", c,
                  ctx->calib->ncpus);
    if (n != sn)
        conf_fail(ctx, "getcpu(NULL, &node) gave node %u, the syscall %u", n, sn);
}

#define CHURN_LOG 256

struct churn {
    pid_t reader_tid;
    int cpus[CPU_SETSIZE];
    int ncpus;
    uint64_t seed;
    _Atomic uint64_t started, done;
    _Atomic int stop;
    _Atomic uint64_t log[CHURN_LOG]; /* bit c = cpu c allowed; ring indexed by generation */
};

static void *churn_thread(void *p)
{
    struct churn *ch = p;
    uint64_t seed = ch->seed;

    while (!atomic_load(&ch->stop)) {
        uint64_t bits = 0;
        cpu_set_t set;
        CPU_ZERO(&set);
        while (!bits) {
            uint64_t r = conf_rand(&seed);
            for (int i = 0; i < ch->ncpus && i < 64; i++)
                if (r >> i & 1)
                    bits |= 1ull << ch->cpus[i];
        }
        for (int c = 0; c < 64; c++)
            if (bits >> c & 1)
                CPU_SET(c, &set);
        uint64_t g = atomic_load(&ch->started) + 1;
        atomic_store(&ch->log[g % CHURN_LOG], bits);
        atomic_store(&ch->started, g);
        sched_setaffinity(ch->reader_tid, sizeof(set), &set);
        atomic_store(&ch->done, g);
        sched_yield();
    }
    return NULL;
}

static void churn(struct conf_ctx *ctx)
{
    static struct churn ch;

    memset(&ch, 0, sizeof(ch));
    for (int c = 0; c < CPU_SETSIZE && c < 64; c++)
        if (CPU_ISSET(c, &ctx->calib->allowed))
            ch.cpus[ch.ncpus++] = c;
    if (ch.ncpus < 2) {
        conf_skip(ctx, "fewer than two CPUs allowed (or none below 64): no churn possible");
        return;
    }
    ch.reader_tid = (pid_t)syscall(SYS_gettid);
    ch.seed = ctx->seed ^ 0x6765746370750aull;
    uint64_t initial = 0;
    for (int i = 0; i < ch.ncpus; i++)
        initial |= 1ull << ch.cpus[i];
    atomic_store(&ch.log[0], initial);
    pthread_t th;
    pthread_create(&th, NULL, churn_thread, &ch);
    int64_t end = mono_now_ns() + conf_budget_ns(ctx, 300000000);
    uint64_t calls = 0, skipped = 0;
    while (mono_now_ns() < end && !ctx->failed) {
        for (int k = 0; k < 64; k++) {
            unsigned c = ~0u;
            uint64_t a = atomic_load(&ch.done);
            long r = ctx->target->fn.getcpu(&c, NULL, NULL);
            uint64_t b = atomic_load(&ch.started);
            calls++;
            if (b - a >= CHURN_LOG - 1) {
                skipped++;
                continue;
            }
            uint64_t mask = 0;
            for (uint64_t g = a; g <= b; g++)
                mask |= atomic_load(&ch.log[g % CHURN_LOG]);
            if (r != 0 || c >= (unsigned)ctx->calib->ncpus || c >= 64 || !(mask >> c & 1)) {
                conf_fail(ctx,
                          "getcpu returned %ld, cpu %u; masks in force during the call "
                          "(generations %llu..%llu) allow %#llx; %d CPUs",
                          r, c, (unsigned long long)a, (unsigned long long)b,
                          (unsigned long long)mask, ctx->calib->ncpus);
                break;
            }
        }
    }
    atomic_store(&ch.stop, 1);
    pthread_join(th, NULL);
    sched_setaffinity(0, sizeof(ctx->calib->allowed), &ctx->calib->allowed);
    conf_note(ctx, "%llu calls under %llu affinity changes (%llu unbracketable)",
              (unsigned long long)calls, (unsigned long long)atomic_load(&ch.done),
              (unsigned long long)skipped);
}

void group_getcpu(struct conf_ctx *ctx)
{
    conf_getcpu_fn fn = ctx->target->fn.getcpu;

    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &ctx->calib->allowed))
            continue;
        if (conf_test_begin(ctx, "getcpu.pinned.cpu%d", cpu)) {
            if (conf_require(ctx, fn, "getcpu"))
                pinned(ctx, cpu);
            sched_setaffinity(0, sizeof(ctx->calib->allowed), &ctx->calib->allowed);
            conf_test_end(ctx);
        }
    }
    if (conf_test_begin(ctx, "getcpu.null")) {
        if (conf_require(ctx, fn, "getcpu"))
            null_args(ctx);
        conf_test_end(ctx);
    }
    if (conf_test_begin(ctx, "getcpu.churn")) {
        if (conf_require(ctx, fn, "getcpu"))
            churn(ctx);
        conf_test_end(ctx);
    }
}
