/*
 * Group 8, getrandom (docs/abi.md §6; defect classes of getrandom in
 * docs/defect-classes.md): the vDSO's getrandom on states mapped as its
 * params query says. Every target: the params; every length from 0 to a
 * few pages (the 2 GiB clamp in the full tier); all flag combinations and
 * unknown flags; wrong opaque lengths; straddling and misaligned states;
 * no syscall in steady state, one key fetch on a fresh state, inside a
 * time namespace too; output that never repeats, differs after fork (the
 * child's wiped state re-keys), after a reseed and a dropped state; a
 * state in use goes to the syscall untouched; re-entry from a signal
 * handler; the old key gone from a state after a refill; and a labelled
 * statistical smoke test of 4 MiB of output. The state layout read by
 * some checks is the kernel's private one, stable on x86-64 since 6.11
 * (vgetrandom.h). In-process targets, exactly: each call's output, state
 * and syscalls equal the model's (rng_model.h) on the emulated kernel's
 * key stream, and a reseed racing the key fetch is retried. Syscalls are
 * counted as in group 6: in-process by the hermetic trap; for live by the
 * clock gate (clock_gate.h) with getrandom gated too, counting those made
 * from the vDSO's text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "clock_gate.h"
#include "conf.h"
#include "inproc.h"
#include "oracle.h"
#include "rng_stats.h"
#include <vdsokit/loader_trap.h>
#include <vdsokit/rng_model.h>
#include <vdsokit/tk_rng.h>
#include <vdsokit/vgetrandom.h>

/* glibc before 2.41 names the SIGEV_THREAD_ID target only by its union member. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define S sizeof(struct vgetrandom_state)

static const struct conf_target *target;
static bool hermetic;
static _Atomic unsigned long vdso_syscalls, all_traps;
static uintptr_t text_lo, text_hi;
static bool droppable; /* states are MAP_DROPPABLE (the kernel wipes them on fork) */

/* ---- counting the target's syscalls ---- */

/* Every gated syscall counts; one made from the target's text is its own. */
static void count_trap(const siginfo_t *si, const greg_t *g)
{
    uintptr_t at = (uintptr_t)si->si_call_addr;
    (void)g;

    atomic_fetch_add(&all_traps, 1);
    if (at >= text_lo && at < text_hi)
        atomic_fetch_add(&vdso_syscalls, 1);
}

static unsigned long syscalls_now(void)
{
    return hermetic ? (unsigned long)loader_trap_thread_count() : atomic_load(&vdso_syscalls);
}

static long gr(void *buf, size_t len, unsigned flags, void *st, size_t opaque_len)
{
    return target->fn.getrandom(buf, len, flags, st, opaque_len);
}

/* The call's result and the syscalls it made. */
#define COUNTED(calls, expr)                    \
    ({                                          \
        unsigned long before_ = syscalls_now(); \
        expr;                                   \
        calls = syscalls_now() - before_;       \
    })

/* States mapped as the params say; on a kernel without MAP_DROPPABLE, private anonymous. */
static uint8_t *map_states(size_t pages)
{
    void *p = mmap(NULL, pages * 4096, VGETRANDOM_PROT, VGETRANDOM_MAP_FLAGS, -1, 0);

    droppable = p != MAP_FAILED;
    if (p == MAP_FAILED)
        p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* ---- the emulated kernel (in-process targets) ---- */

static void kernel_now(struct vdso_loaded *l, struct rng_model_kernel *k)
{
    const struct vdso_rng_data *rng = datapages_rng(&l->dp);

    k->generation = __atomic_load_n(&rng->generation, __ATOMIC_ACQUIRE);
    k->is_ready = __atomic_load_n(&rng->is_ready, __ATOMIC_ACQUIRE);
    tk_rng_stream_position(l->tk, &k->seed, &k->offset);
}

/* One call against the model: output, result, state and syscalls; false (failed) on a difference.
 */
static bool exact_call(struct conf_ctx *ctx, struct vgetrandom_state *st, size_t len,
                       unsigned flags, const char *what)
{
    static uint8_t got[3 * 4096 + 64], want[sizeof got];
    struct vdso_loaded *l = conf_inproc(target);
    struct rng_model_kernel k;
    struct rng_model_trace t;
    struct vgetrandom_state model;
    unsigned long calls;
    long r;

    kernel_now(l, &k);
    memcpy(&model, st, S);
    memset(got, 0xee, sizeof got);
    memset(want, 0xee, sizeof want);
    COUNTED(calls, r = gr(got, len, flags, st, S));
    long m = rng_model_call(&model, (uintptr_t)st, S, &k, want, len, flags, &t);
    if (r == m && !memcmp(got, want, len + 64) && !memcmp(st, &model, S) &&
        calls == t.key_fetches + t.fallbacks)
        return true;
    conf_fail_ev(ctx, "exact=mismatch",
                 "%s: len %zu flags %#x: got %ld (%lu syscalls), model %ld (%u key fetches, %u "
                 "fallbacks); output %s, state %s",
                 what, len, flags, r, calls, m, t.key_fetches, t.fallbacks,
                 memcmp(got, want, len + 64) ? "differs" : "equal",
                 memcmp(st, &model, S) ? "differs" : "equal");
    return false;
}

/* ---- the tests ---- */

static void test_params(struct conf_ctx *ctx)
{
    struct vgetrandom_opaque_params p;

    if (!conf_test_begin(ctx, "getrandom.params"))
        return;
    memset(&p, 0xaa, sizeof p);
    long r = gr(NULL, 0, 0, &p, VGETRANDOM_PARAMS_QUERY);
    bool zeros = true;
    for (int i = 0; i < 13; i++)
        zeros &= p.reserved[i] == 0;
    if (r != 0 || p.size_of_opaque_state != S || p.mmap_prot != VGETRANDOM_PROT ||
        p.mmap_flags != VGETRANDOM_MAP_FLAGS || !zeros)
        conf_fail_ev(ctx, "params=wrong",
                     "params query returned %ld {size %u, prot %#x, flags %#x, reserved %s}; "
                     "want 0 {144, 0x3, 0x28 (MAP_DROPPABLE|MAP_ANONYMOUS), zeros}",
                     r, p.size_of_opaque_state, p.mmap_prot, p.mmap_flags,
                     zeros ? "zero" : "not zero");
    uint8_t *s = map_states(1);
    if (!s)
        conf_fail(ctx, "mmap with the returned prot/flags and without: %s", strerror(errno));
    else if (!droppable)
        conf_note(ctx, "this kernel refuses MAP_DROPPABLE: states are private anonymous pages");
    if (s)
        munmap(s, 4096);
    conf_test_end(ctx);
}

static void test_lengths(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    static const size_t pages[] = {4095, 4096, 4097, 8191, 8192, 8193, 3 * 4096 + 5};
    static uint8_t buf[3 * 4096 + 128];

    if (!conf_test_begin(ctx, "getrandom.lengths"))
        return;
    for (size_t i = 0; i < 301 + sizeof pages / sizeof pages[0]; i++) {
        size_t len = i < 301 ? i : pages[i - 301];
        memset(buf, 0xee, sizeof buf);
        long r = gr(len ? buf : NULL, len, 0, st, S);
        size_t same = 0;
        while (same < len && buf[same] == 0xee)
            same++;
        if (r != (long)len || buf[len] != 0xee || (len >= 32 && same == len)) {
            conf_fail_ev(ctx, "len=wrong", "len %zu: returned %ld, %s", len, r,
                         buf[len] != 0xee ? "wrote past the end" : "output left unwritten");
            break;
        }
    }
    conf_test_end(ctx);
}

static void test_huge(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    if (!conf_test_begin(ctx, "getrandom.huge"))
        return;
    if (ctx->tier == CONF_TIER_QUICK) {
        conf_skip(ctx, "2 GiB of output: full tier only");
        conf_test_end(ctx);
        return;
    }
    size_t len = VGETRANDOM_MAX_COUNT + 8192;
    uint8_t *buf =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (buf == MAP_FAILED) {
        conf_skip(ctx, "cannot map %zu bytes: %s", len, strerror(errno));
    } else {
        long r = gr(buf, len, 0, st, S);
        if (r != (long)VGETRANDOM_MAX_COUNT || buf[VGETRANDOM_MAX_COUNT] != 0)
            conf_fail_ev(ctx, "clamp=wrong",
                         "getrandom of %zu bytes returned %ld (want 0x7ffff000), byte past it %#x",
                         len, r, buf[VGETRANDOM_MAX_COUNT]);
        munmap(buf, len);
    }
    conf_test_end(ctx);
}

static void test_flags(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    static const unsigned bad[] = {0x8, 0x10, 0x100, 0x80000000u, 0xf};
    uint8_t buf[100];

    if (!conf_test_begin(ctx, "getrandom.flags"))
        return;
    for (unsigned f = 0; f < 8; f++) {
        long r = gr(buf, sizeof buf, f, st, S);
        if (r != (long)sizeof buf)
            conf_fail_ev(ctx, "flags=refused", "flags %#x: returned %ld, want 100", f, r);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned long calls;
        long r;
        COUNTED(calls, r = gr(buf, sizeof buf, bad[i], st, S));
        if (r != -EINVAL || calls != 1)
            conf_fail_ev(ctx, "flags=unknown",
                         "unknown flags %#x: returned %ld with %lu syscalls, want the syscall's "
                         "-EINVAL (one syscall)",
                         bad[i], r, calls);
    }
    conf_test_end(ctx);
}

static void test_opaque_len(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    static const size_t bad[] = {0, 1, 143, 145, 4096};
    uint8_t buf[40];

    if (!conf_test_begin(ctx, "getrandom.opaque_len"))
        return;
    gr(buf, 1, 0, st, S);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct vgetrandom_state before = *st;
        unsigned long calls;
        long r;
        COUNTED(calls, r = gr(buf, sizeof buf, 0, st, bad[i]));
        if (r != (long)sizeof buf || calls != 1 || memcmp(&before, st, S))
            conf_fail_ev(ctx, "opaque_len=served",
                         "opaque_len %zu: returned %ld with %lu syscalls, state %s; want the "
                         "syscall's 40 bytes and the state untouched",
                         bad[i], r, calls, memcmp(&before, st, S) ? "changed" : "untouched");
    }
    conf_test_end(ctx);
}

static void test_straddle(struct conf_ctx *ctx, uint8_t *page)
{
    uint8_t buf[70];

    if (!conf_test_begin(ctx, "getrandom.straddle"))
        return;
    memset(page, 0, 2 * 4096);
    for (size_t off = 4096 - S - 3; off < 4096 + 5; off++) {
        bool straddles = off % 4096 + S > 4096;
        unsigned long calls;
        long r;
        COUNTED(calls, r = gr(buf, sizeof buf, 0, page + off, S));
        if (straddles && (r != -EFAULT || calls))
            conf_fail_ev(ctx, "straddle=served",
                         "state at page offset %zu straddles: returned %ld (%lu syscalls), want "
                         "-EFAULT and no syscall",
                         off % 4096, r, calls);
        if (!straddles && r != (long)sizeof buf)
            conf_fail_ev(ctx, "misaligned=refused", "state at page offset %zu: returned %ld",
                         off % 4096, r);
    }
    conf_test_end(ctx);
}

/* A fresh state: one key fetch; then `n` calls with no syscall. Retried once (a periodic reseed).
 */
static bool steady(struct conf_ctx *ctx, struct vgetrandom_state *st, unsigned n, bool report)
{
    static uint8_t buf[4096];
    unsigned long first_calls, calls = 0;

    for (int attempt = 0; attempt < 2; attempt++) {
        memset(st, 0, S);
        COUNTED(first_calls, gr(buf, 16, 0, st, S));
        COUNTED(calls, for (unsigned i = 0; i < n; i++) gr(buf, 1 + i * 37 % sizeof buf, 0, st, S));
        if (first_calls == 1 && calls == 0)
            return true;
    }
    if (report)
        conf_fail_ev(ctx, "syscalls=steady",
                     "a fresh state made %lu syscalls on its first call (want 1: the key "
                     "fetch), then %lu in %u steady-state calls (want 0), twice in a row",
                     first_calls, calls, n);
    return false;
}

static void test_syscall_free(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    if (!conf_test_begin(ctx, "getrandom.syscall_free"))
        return;
    unsigned long traps = atomic_load(&all_traps);
    if (!hermetic && syscall(SYS_getrandom, st, 1, 0) != 1)
        conf_fail(ctx, "the positive control getrandom(2) failed: %s", strerror(errno));
    if (!hermetic && atomic_load(&all_traps) == traps)
        conf_fail(
            ctx, "the seccomp filter did not trap a direct getrandom(2): the count proves nothing");
    steady(ctx, st, conf_budget_iters(ctx, 2000), true);
    conf_test_end(ctx);
}

/* Inside a time namespace (the powerpc bug of defect row 12 fell back there silently). */
static void test_timens(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    if (!conf_test_begin(ctx, "getrandom.timens"))
        return;
    if (hermetic) {
        conf_skip(ctx, "in-process targets: the namespace layout is test_vdso_getrandom's");
        conf_test_end(ctx);
        return;
    }
    pid_t outer = fork();
    if (outer == 0) {
        if (unshare(CLONE_NEWTIME) != 0)
            _exit(3);
        pid_t inner = fork();
        if (inner == 0)
            _exit(steady(ctx, st, 500, false) ? 0 : 1);
        int status = 0;
        waitpid(inner, &status, 0);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 2);
    }
    int status = 0;
    waitpid(outer, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
    if (code == 3)
        conf_skip(ctx, "unshare(CLONE_NEWTIME) is not permitted here");
    else if (code)
        conf_fail_ev(ctx, "syscalls=timens",
                     "inside a time namespace the steady state made syscalls (or the child "
                     "crashed: status %#x)",
                     status);
    conf_test_end(ctx);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* No 8-byte window repeats anywhere in the output of a run of calls. */
static void test_unique(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    static const size_t lens[] = {1, 7, 63, 64, 65, 95, 96, 97, 128, 200, 1000, 4096};
    static uint8_t out[3 * 7000];
    static uint64_t win[sizeof out];
    size_t n = 0;

    if (!conf_test_begin(ctx, "getrandom.unique"))
        return;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            gr(out + n, lens[i], 0, st, S);
            n += lens[i];
        }
    for (size_t i = 0; i + 8 <= n; i++)
        memcpy(&win[i], out + i, 8);
    qsort(win, n - 7, sizeof win[0], cmp_u64);
    size_t dups = 0;
    for (size_t i = 1; i < n - 7; i++)
        dups += win[i] == win[i - 1];
    if (dups)
        conf_fail_ev(ctx, "repeats=yes",
                     "%zu repeated 8-byte windows in %zu bytes of output (a uniform generator "
                     "repeats one with probability below 1e-10): a block or key reused",
                     dups, n);
    conf_test_end(ctx);
}

struct fork_report {
    long r;
    unsigned long calls;
    uint8_t out[64];
    bool exact;
};

/* After fork the child's state is wiped (MAP_DROPPABLE): it must re-key, not reuse. */
static void test_fork(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    struct fork_report child = {0};
    uint8_t parent[64], zero_stream[64] = {0};
    const uint32_t zero_key[8] = {0};
    int fds[2];

    if (!conf_test_begin(ctx, "getrandom.fork"))
        return;
    memset(st, 0, S);
    gr(parent, 10, 0, st, S);
    if (pipe(fds) != 0) {
        conf_fail(ctx, "pipe: %s", strerror(errno));
        conf_test_end(ctx);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        struct fork_report rep = {0};
        struct vgetrandom_state model = *st;
        uint8_t want[64];
        struct rng_model_kernel k;
        struct rng_model_trace t;
        if (hermetic)
            kernel_now(conf_inproc(target), &k);
        COUNTED(rep.calls, rep.r = gr(rep.out, sizeof rep.out, 0, st, S));
        rep.exact =
            !hermetic || (rng_model_call(&model, (uintptr_t)st, S, &k, want, 64, 0, &t) == rep.r &&
                          !memcmp(want, rep.out, 64) && t.key_fetches == rep.calls);
        _exit(write(fds[1], &rep, sizeof rep) == sizeof rep ? 0 : 1);
    }
    close(fds[1]);
    gr(parent, sizeof parent, 0, st, S);
    ssize_t got = read(fds[0], &child, sizeof child);
    close(fds[0]);
    waitpid(pid, NULL, 0);
    rng_model_chacha20_block(zero_key, 0, zero_stream);
    uint8_t zeros[64] = {0};
    if (got != sizeof child || child.r != 64)
        conf_fail(ctx, "the child's call failed (read %zd, returned %ld)", got, child.r);
    else if (!memcmp(child.out, parent, 64))
        conf_fail_ev(ctx, "fork=shared", "parent and child got the same 64 bytes after fork");
    else if (!memcmp(child.out, zeros, 64) || !memcmp(child.out, zero_stream, 64))
        conf_fail_ev(ctx, "fork=wiped_state_used",
                     "the child's output is the wiped state's (zeros or ChaCha20 of the zero key)");
    else if (droppable && child.calls != 1)
        conf_fail_ev(ctx, "fork=no_rekey",
                     "the child's first call on its wiped state made %lu syscalls, want 1 (the "
                     "key fetch)",
                     child.calls);
    else if (!child.exact)
        conf_fail_ev(ctx, "exact=mismatch", "the child's call differs from the model");
    if (!droppable)
        conf_note(ctx, "states are not MAP_DROPPABLE here: the fork wipe was not exercised");
    conf_test_end(ctx);
}

/* A reseed: in-process the emulated kernel's; live RNDRESEEDCRNG (needs CAP_SYS_ADMIN). */
static int reseed(void)
{
    if (hermetic)
        return tk_rng_bump(conf_inproc(target)->tk);
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    int rc = fd < 0 || ioctl(fd, RNDRESEEDCRNG) != 0 ? -errno : 0;

    if (fd >= 0)
        close(fd);
    return rc;
}

/* A change the state must notice: one key fetch on the next call, then the exact output. */
static void test_rekey(struct conf_ctx *ctx, struct vgetrandom_state *st, const char *id, bool drop)
{
    uint8_t buf[64];
    unsigned long calls = 0;

    if (!conf_test_begin(ctx, "%s", id))
        return;
    for (int attempt = 0; attempt < 3; attempt++) {
        gr(buf, 10, 0, st, S);
        if (drop) {
            tk_rng_drop_state(st, S);
        } else if (reseed() != 0) {
            conf_skip(ctx, "RNDRESEEDCRNG: %s", strerror(errno));
            conf_test_end(ctx);
            return;
        }
        if (hermetic) {
            exact_call(ctx, st, 100, 0, id);
            conf_test_end(ctx);
            return;
        }
        COUNTED(calls, gr(buf, sizeof buf, 0, st, S));
        if (calls == 1)
            break;
    }
    if (calls != 1)
        conf_fail_ev(ctx, "rekey=missing",
                     "the call after the %s made %lu syscalls (want 1: the key fetch), 3 times",
                     drop ? "dropped state" : "reseed", calls);
    conf_test_end(ctx);
}

/* In-process: reseeds racing the key fetch: retried once, then the syscall. */
static void test_reseed_race(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    struct vdso_loaded *l = conf_inproc(target);
    uint8_t buf[100];

    if (!conf_test_begin(ctx, "getrandom.reseed_race"))
        return;
    if (!l) {
        conf_skip(ctx, "needs the emulated kernel (in-process targets)");
        conf_test_end(ctx);
        return;
    }
    for (unsigned races = 1; races <= 2; races++) {
        unsigned long calls;
        long r;
        memset(st, 0, S);
        tk_rng_reseed_on_syscall(l->tk, races);
        COUNTED(calls, r = gr(buf, sizeof buf, 0, st, S));
        tk_rng_reseed_on_syscall(l->tk, 0);
        uint64_t gen = __atomic_load_n(&datapages_rng(&l->dp)->generation, __ATOMIC_ACQUIRE);
        bool ok =
            r == (long)sizeof buf && calls == races + 1 && (races == 2 || st->generation == gen);
        if (!ok)
            conf_fail_ev(ctx, "retry=wrong",
                         "%u reseed(s) during the key fetch: returned %ld with %lu syscalls "
                         "(want 100 with %u: %s), state generation %llu, page %llu",
                         races, r, calls, races + 1,
                         races == 1 ? "two key fetches" : "two key fetches and the syscall",
                         (unsigned long long)st->generation, (unsigned long long)gen);
    }
    conf_test_end(ctx);
}

static void test_in_use(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    uint8_t buf[50];
    unsigned long calls;
    long r;

    if (!conf_test_begin(ctx, "getrandom.in_use"))
        return;
    gr(buf, 10, 0, st, S);
    st->in_use = 1;
    struct vgetrandom_state before = *st;
    COUNTED(calls, r = gr(buf, sizeof buf, 0, st, S));
    if (r != (long)sizeof buf || calls != 1 || memcmp(&before, st, S))
        conf_fail_ev(ctx, "in_use=ignored",
                     "a state in use: returned %ld with %lu syscalls, state %s; want the "
                     "syscall's 50 bytes and the state untouched",
                     r, calls, memcmp(&before, st, S) ? "changed" : "untouched");
    st->in_use = 0;
    conf_test_end(ctx);
}

static struct vgetrandom_state *volatile reentry_state;
static _Atomic unsigned reentry_calls, reentry_inside, reentry_short;

static void on_alarm(int sig)
{
    uint8_t buf[48];
    int saved = errno;
    (void)sig;

    atomic_fetch_add(&reentry_calls, 1);
    if (reentry_state->in_use)
        atomic_fetch_add(&reentry_inside, 1);
    if (gr(buf, sizeof buf, 0, reentry_state, S) != (long)sizeof buf)
        atomic_fetch_add(&reentry_short, 1);
    errno = saved;
}

static void test_reentry(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    static uint8_t buf[16384];
    const struct itimerspec on = {{0, 200000}, {0, 200000}};
    /* To this thread only: an in-process target's writer thread must not take them. */
    struct sigevent to_me = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM};
    unsigned bad = 0, calls = 0;
    timer_t timer;

    if (!conf_test_begin(ctx, "getrandom.reentry"))
        return;
    to_me.sigev_notify_thread_id = gettid();
    reentry_state = st;
    signal(SIGALRM, on_alarm);
    if (timer_create(CLOCK_MONOTONIC, &to_me, &timer) != 0) {
        conf_fail(ctx, "timer_create: %s", strerror(errno));
        conf_test_end(ctx);
        return;
    }
    unsigned long first = syscalls_now();
    timer_settime(timer, 0, &on, NULL);
    int64_t end = mono_now_ns() + conf_budget_ns(ctx, 500000000);
    while (mono_now_ns() < end && atomic_load(&reentry_inside) < 50) {
        bad += gr(buf, sizeof buf, 0, st, S) != (long)sizeof buf;
        calls++;
    }
    timer_delete(timer);
    signal(SIGALRM, SIG_DFL);
    unsigned long made = syscalls_now() - first;
    conf_metric(ctx, "calls=%u signals=%u inside=%u", calls, atomic_load(&reentry_calls),
                atomic_load(&reentry_inside));
    if (bad || atomic_load(&reentry_short))
        conf_fail_ev(ctx, "reentry=short",
                     "%u of %u interrupted calls and %u of %u calls from the handler returned "
                     "less than asked",
                     bad, calls, atomic_load(&reentry_short), atomic_load(&reentry_calls));
    else if (!atomic_load(&reentry_inside))
        conf_skip(ctx, "no signal landed inside a call (%u signals)", atomic_load(&reentry_calls));
    else if (made < atomic_load(&reentry_inside))
        conf_fail_ev(ctx, "reentry=served",
                     "%u calls from a handler found the state in use, but only %lu syscalls were "
                     "made: a re-entrant call was served from the state under the interrupted one",
                     atomic_load(&reentry_inside), made);
    if (st->in_use)
        conf_fail(ctx, "in_use still set after the calls returned");
    conf_test_end(ctx);
}

static void test_exact(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    struct vdso_loaded *l = conf_inproc(target);
    uint64_t rnd = ctx->seed ^ 0x67657472616e64ull;

    if (!conf_test_begin(ctx, "getrandom.exact"))
        return;
    if (!l) {
        conf_skip(ctx, "needs the emulated kernel's key stream (in-process targets)");
        conf_test_end(ctx);
        return;
    }
    memset(st, 0, S);
    unsigned n = conf_budget_iters(ctx, 200);
    for (unsigned i = 0; i < n; i++) {
        uint64_t r = conf_rand(&rnd);
        if (r % 16 == 0)
            tk_rng_bump(l->tk);
        if (r % 32 == 1)
            tk_rng_drop_state(st, S);
        size_t len = (r >> 8) % (r & 0x80 ? 300 : 3 * 4096);
        if (!exact_call(ctx, st, len, (unsigned)(r >> 40) % 8, "exact"))
            break;
    }
    conf_test_end(ctx);
}

static void test_key_erasure(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    uint8_t buf[200];
    uint32_t old[8];

    if (!conf_test_begin(ctx, "getrandom.key_erasure"))
        return;
    gr(buf, 10, 0, st, S);
    memcpy(old, st->key, sizeof old);
    gr(buf, sizeof buf, 0, st, S); /* more than the batch holds: a refill */
    bool consumed_zero = true;
    for (unsigned i = 0; i < st->pos && i < VGETRANDOM_BATCH; i++)
        consumed_zero &= st->batch[i] == 0;
    if (memmem(st, S, old, 16) || memmem(st, S, (uint8_t *)old + 16, 16))
        conf_fail_ev(ctx, "key=kept",
                     "after a call that refilled the batch, the old key is still in the state "
                     "(fast key erasure: the refill overwrites it)");
    if (!consumed_zero)
        conf_fail_ev(ctx, "batch=kept", "bytes handed out are still in the state's batch");
    conf_test_end(ctx);
}

/* A smoke test, not a randomness proof: a stuck, biased or repeating output fails it. */
static void test_smoke(struct conf_ctx *ctx, struct vgetrandom_state *st)
{
    const size_t n = 4u << 20;
    struct rng_stats s;

    if (!conf_test_begin(ctx, "getrandom.smoke"))
        return;
    uint8_t *buf = malloc(n);
    if (!buf) {
        conf_skip(ctx, "out of memory");
        conf_test_end(ctx);
        return;
    }
    for (size_t at = 0; at < n; at += 4096)
        gr(buf + at, 4096, 0, st, S);
    rng_stats_compute(buf, n, &s);
    conf_metric(ctx, "p_monobit=%.6g p_runs=%.6g p_chi2=%.6g bytes=%zu", s.p_monobit, s.p_runs,
                s.p_chi2, n);
    conf_note(ctx,
              "statistical smoke test over %zu bytes: p monobit %.4g, runs %.4g, byte chi2 %.4g", n,
              s.p_monobit, s.p_runs, s.p_chi2);
    /* A correct generator falls below 1e-6 in one of three tests once in ~330000 runs. */
    if (s.p_monobit < 1e-6 || s.p_runs < 1e-6 || s.p_chi2 < 1e-6)
        conf_fail_ev(ctx, "smoke=fail", "statistical smoke test: a p-value below 1e-6");
    free(buf);
    conf_test_end(ctx);
}

static const char *const test_ids[] = {
    "getrandom.params",       "getrandom.lengths",     "getrandom.huge",
    "getrandom.flags",        "getrandom.opaque_len",  "getrandom.straddle",
    "getrandom.syscall_free", "getrandom.timens",      "getrandom.unique",
    "getrandom.fork",         "getrandom.reseed",      "getrandom.reseed_race",
    "getrandom.dropped",      "getrandom.in_use",      "getrandom.reentry",
    "getrandom.exact",        "getrandom.key_erasure", "getrandom.smoke",
};

static void skip_all(struct conf_ctx *ctx, const char *why)
{
    for (size_t i = 0; i < sizeof test_ids / sizeof test_ids[0]; i++)
        conf_test_skip(ctx, test_ids[i], "%s", why);
}

void group_getrandom(struct conf_ctx *ctx)
{
    char why[400];

    target = ctx->target;
    hermetic = conf_inproc(target) != NULL;
    if (!target->fn.getrandom) {
        if (target->kind == CONF_TARGET_LIBC)
            snprintf(why, sizeof why, "%s", conf_libc_getrandom_why());
        else
            snprintf(why, sizeof why,
                     "%s exports no __vdso_getrandom@LINUX_2.6 (Linux before 6.11)", target->name);
        skip_all(ctx, why);
        return;
    }
    if (ctx->listing) {
        skip_all(ctx, "listing");
        return;
    }
    text_lo = (uintptr_t)target->text;
    text_hi = text_lo + target->text_size;
    int rc = hermetic ? 0 : clock_gate_install(count_trap, true);
    if (rc) {
        snprintf(why, sizeof why, "cannot count syscalls: seccomp: %s", strerror(-rc));
        skip_all(ctx, why);
        return;
    }
    if (hermetic)
        tk_rng_stream_reset(conf_inproc(target)->tk, ctx->seed);
    uint8_t *pages = map_states(2);
    if (!pages) {
        conf_test_skip(ctx, "getrandom.params", "cannot map states: %s", strerror(errno));
        return;
    }
    struct vgetrandom_state *st = (struct vgetrandom_state *)(void *)(pages + 64);
    test_params(ctx);
    test_lengths(ctx, st);
    test_huge(ctx, st);
    test_flags(ctx, st);
    test_opaque_len(ctx, st);
    test_straddle(ctx, pages);
    test_syscall_free(ctx, st);
    test_timens(ctx, st);
    test_unique(ctx, st);
    test_fork(ctx, st);
    test_rekey(ctx, st, "getrandom.reseed", false);
    test_reseed_race(ctx, st);
    test_rekey(ctx, st, "getrandom.dropped", true);
    test_in_use(ctx, st);
    test_reentry(ctx, st);
    test_exact(ctx, st);
    test_key_erasure(ctx, st);
    test_smoke(ctx, st);
    munmap(pages, 2 * 4096);
}
