/*
 * The hermetic trap (loader_trap.h). The filter checks the architecture,
 * the syscall number and the top 32 bits of the instruction pointer (the
 * window is 4 GiB and 4 GiB-aligned, so they are one compare). The handler
 * reads the arguments from the interrupted registers, answers from the
 * image's timekeeper through tk_syscall.h and writes the return value into
 * RAX. Results reach user memory through process_vm_writev on this process
 * (the kernel's own copy, which reports -EFAULT for a bad pointer instead
 * of faulting); where a sandbox forbids that call, through a pipe the
 * handler writes the bytes into and reads them back out to the pointer,
 * which reports -EFAULT the same way. The counters are initial-exec TLS
 * (async-signal-safe) and process-wide atomics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include <vdsokit/loader_trap.h>
#include <vdsokit/tk_rng.h>

#include "loader_internal.h"

static const long call_nr[LOADER_TRAP_NCALLS] = {
    SYS_clock_gettime, SYS_gettimeofday, SYS_time, SYS_clock_getres, SYS_getcpu, SYS_getrandom};
static const char *const call_names[LOADER_TRAP_NCALLS] = {
    "clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu", "getrandom"};

static struct {
    pthread_mutex_t lock;
    bool installed;
    bool use_pipe; /* process_vm_writev is forbidden here */
    int pipe[2];
    int pipe_busy; /* atomic: one copy through the pipe at a time */
    uint64_t total, foreign, by_call[LOADER_TRAP_NCALLS]; /* atomic */
} trap = {.lock = PTHREAD_MUTEX_INITIALIZER, .pipe = {-1, -1}};

static __thread struct {
    uint64_t count; /* atomic against this thread's own handler */
    struct loader_trap_record last;
    struct loader_trap_record recent[LOADER_TRAP_RECENT]; /* record n at [n % RECENT] */
} self __attribute__((tls_model("initial-exec")));

enum loader_trap_call loader_trap_call_of(long nr)
{
    for (int c = 0; c < LOADER_TRAP_NCALLS; c++)
        if (call_nr[c] == nr)
            return (enum loader_trap_call)c;
    return LOADER_TRAP_NCALLS;
}

const char *loader_trap_call_name(enum loader_trap_call c)
{
    return c < LOADER_TRAP_NCALLS ? call_names[c] : "?";
}

/* ---- the handler's part ---- */

static long host(long nr, const long *a)
{
    long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);

    return r < 0 ? -errno : r;
}

static int copy_by_pipe(long dst, const void *src, size_t n)
{
    char drain[64];

    while (__atomic_exchange_n(&trap.pipe_busy, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    int rc = -EFAULT;
    if (write(trap.pipe[1], src, n) == (ssize_t)n) {
        if (read(trap.pipe[0], (void *)dst, n) == (ssize_t)n)
            rc = 0;
        else
            while (read(trap.pipe[0], drain, sizeof drain) > 0)
                ;
    }
    __atomic_store_n(&trap.pipe_busy, 0, __ATOMIC_RELEASE);
    return rc;
}

/* copy_to_user: 0, or -EFAULT for a pointer the process cannot write. */
static int copy_out(long dst, const void *src, size_t n)
{
    if (trap.use_pipe)
        return copy_by_pipe(dst, src, n);
    struct iovec local = {(void *)src, n}, remote = {(void *)dst, n};
    long w = syscall(SYS_process_vm_writev, getpid(), &local, 1, &remote, 1, 0);
    return w == (long)n ? 0 : -EFAULT;
}

static long gettime(struct timekeeper *tk, const long *a, struct loader_trap_record *r)
{
    int rc = tk_sys_clock_gettime(tk, (clockid_t)a[0], &r->ts, &r->trace);

    if (rc == TK_SYS_HOST) {
        r->emulated = false;
        return host(SYS_clock_gettime, a);
    }
    return rc ? rc : copy_out(a[1], &r->ts, sizeof r->ts);
}

static long getres(struct timekeeper *tk, const long *a, struct loader_trap_record *r)
{
    int rc = tk_sys_clock_getres(tk, (clockid_t)a[0], &r->ts, &r->trace);

    if (rc == TK_SYS_HOST) {
        r->emulated = false;
        return host(SYS_clock_getres, a);
    }
    /* A NULL res is not written and not an error. */
    return rc ? rc : a[1] ? copy_out(a[1], &r->ts, sizeof r->ts) : 0;
}

static long gettimeofday_(struct timekeeper *tk, const long *a, struct loader_trap_record *r)
{
    tk_sys_gettimeofday(tk, &r->tv, &r->tz, &r->trace);
    if (a[0] && copy_out(a[0], &r->tv, sizeof r->tv))
        return -EFAULT;
    if (a[1] && copy_out(a[1], &r->tz, sizeof r->tz))
        return -EFAULT;
    return 0;
}

static long time_(struct timekeeper *tk, const long *a, struct loader_trap_record *r)
{
    r->t = tk_sys_time(tk, &r->trace);
    if (a[0] && copy_out(a[0], &r->t, sizeof r->t))
        return -EFAULT;
    return (long)r->t;
}

/* The emulated getrandom: the stream's bytes, copied out a chunk at a time. */
static long getrandom_(struct timekeeper *tk, const long *a, struct loader_trap_record *r)
{
    uint64_t seed, offset, ignored;
    uint8_t chunk[16384];
    long n = tk_sys_getrandom(tk, (size_t)a[1], (unsigned)a[2], &offset);

    r->rng_offset = offset;
    tk_rng_stream_position(tk, &seed, &ignored);
    for (long done = 0; done < n;) {
        size_t k = (size_t)(n - done) < sizeof chunk ? (size_t)(n - done) : sizeof chunk;
        tk_rng_stream(seed, offset + (uint64_t)done, chunk, k);
        if (copy_out(a[0] + done, chunk, k))
            return done ? done : -EFAULT;
        done += (long)k;
    }
    return n;
}

static long answer(struct timekeeper *tk, enum loader_trap_call c, const long *a,
                   struct loader_trap_record *r)
{
    r->emulated = true;
    switch (c) {
    case LOADER_TRAP_CLOCK_GETTIME:
        return gettime(tk, a, r);
    case LOADER_TRAP_CLOCK_GETRES:
        return getres(tk, a, r);
    case LOADER_TRAP_GETTIMEOFDAY:
        return gettimeofday_(tk, a, r);
    case LOADER_TRAP_TIME:
        return time_(tk, a, r);
    case LOADER_TRAP_GETRANDOM:
        return getrandom_(tk, a, r);
    default:
        r->emulated = false;
        return host(r->nr, a);
    }
}

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
    int saved = errno;
    greg_t *g = ((ucontext_t *)ucv)->uc_mcontext.gregs;
    struct loader_trap_record r;
    (void)sig;

    memset(&r, 0, sizeof r);
    r.nr = si->si_syscall;
    long a[6] = {g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9]};
    memcpy(r.args, a, sizeof a);
    enum loader_trap_call c = loader_trap_call_of(r.nr);
    struct vdso_loaded *l = loader_window_owner((uintptr_t)si->si_call_addr);
    if (l && l->tk && c < LOADER_TRAP_NCALLS) {
        r.ret = answer(l->tk, c, a, &r);
    } else {
        r.ret = host(r.nr, a);
        __atomic_fetch_add(&trap.foreign, 1, __ATOMIC_RELAXED);
    }
    r.number = self.count + 1;
    self.last = r;
    self.recent[r.number % LOADER_TRAP_RECENT] = r;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&self.count, r.number, __ATOMIC_RELAXED);
    __atomic_fetch_add(&trap.total, 1, __ATOMIC_RELAXED);
    if (c < LOADER_TRAP_NCALLS)
        __atomic_fetch_add(&trap.by_call[c], 1, __ATOMIC_RELAXED);
    g[REG_RAX] = r.ret;
    errno = saved;
}

/* ---- installation ---- */

/* Whether process_vm_writev reaches this process's own memory here. */
static bool vm_writev_works(void)
{
    long probe = 0, one = 1;
    struct iovec local = {&one, sizeof one}, remote = {&probe, sizeof probe};

    return syscall(SYS_process_vm_writev, getpid(), &local, 1, &remote, 1, 0) == sizeof one &&
           __atomic_load_n(&probe, __ATOMIC_RELAXED) == 1;
}

static int install_filter(uint32_t window_hi)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 6, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_time, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_getres, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getcpu, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getrandom, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* A time syscall: trapped when the instruction lies in the window. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, window_hi, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        return -errno;
    return 0;
}

static int install_locked(struct vdsokit_error *err)
{
    if (loader_window_ensure(err))
        return -1;
    trap.use_pipe = !vm_writev_works();
    if (trap.use_pipe && pipe2(trap.pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return vdsokit_fail(err,
                            "hermetic trap: process_vm_writev is forbidden and pipe2 "
                            "failed: %s",
                            strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    /* Every other signal waits for the handler: one whose handler called the
     * image would trap again with SIGSYS blocked, which kills the process
     * (the getrandom group's re-entry test does exactly that). */
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) != 0)
        return vdsokit_fail(err, "hermetic trap: sigaction(SIGSYS): %s", strerror(errno));
    int rc = install_filter((uint32_t)(loader_window_base() >> 32));
    if (rc)
        return vdsokit_fail(err, "hermetic trap: installing the seccomp filter: %s", strerror(-rc));
    trap.installed = true;
    return 0;
}

int loader_trap_install(struct vdsokit_error *err)
{
    pthread_mutex_lock(&trap.lock);
    int rc = trap.installed ? 0 : install_locked(err);
    pthread_mutex_unlock(&trap.lock);
    return rc;
}

bool loader_trap_installed(void)
{
    pthread_mutex_lock(&trap.lock);
    bool on = trap.installed;
    pthread_mutex_unlock(&trap.lock);
    return on;
}

uint64_t loader_trap_thread_count(void)
{
    return __atomic_load_n(&self.count, __ATOMIC_RELAXED);
}

void loader_trap_thread_last(struct loader_trap_record *out)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    *out = self.last;
}

unsigned loader_trap_thread_since(uint64_t first, struct loader_trap_record *out, unsigned max)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    uint64_t count = __atomic_load_n(&self.count, __ATOMIC_RELAXED), n = 0;

    for (uint64_t k = first + 1; k <= count && n < max; k++)
        if (count - k < LOADER_TRAP_RECENT)
            out[n++] = self.recent[k % LOADER_TRAP_RECENT];
    return (unsigned)n;
}

void loader_trap_totals(struct loader_trap_counts *out)
{
    out->total = __atomic_load_n(&trap.total, __ATOMIC_RELAXED);
    out->foreign = __atomic_load_n(&trap.foreign, __ATOMIC_RELAXED);
    for (int c = 0; c < LOADER_TRAP_NCALLS; c++)
        out->by_call[c] = __atomic_load_n(&trap.by_call[c], __ATOMIC_RELAXED);
}
