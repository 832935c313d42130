/*
 * The reference vDSO functions compiled as ordinary, instrumentable code
 * (library vdsokit_vdso_hosted), for unit tests and fuzzers. The sources are
 * the ones the reference image is built from; only the arch hooks differ:
 * the six data pages are wherever the harness says, the TSC read, the
 * syscall fallback and the getcpu read can be replaced, and a hook runs at
 * well-defined points inside every seqcount read loop so a harness can place
 * writer steps between the reader's loads. Configure before calling; the
 * configuration is process-wide and must not change while readers run.
 */
#ifndef VDSOKIT_VDSO_HOSTED_H
#define VDSOKIT_VDSO_HOSTED_H

#include <stddef.h>
#include <stdint.h>
#include <vdsokit/vdso_entry.h>

/* Where a reader is when the read_point hook runs. */
enum vdso_read_point {
    /* Data-page clock (vdso_clock.seq); `word` points at that seq. */
    VDSO_READ_SPIN,  /* seq was odd (not a namespace escape); the reader spins */
    VDSO_READ_BEGIN, /* an even seq was loaded; no data loaded yet */
    VDSO_READ_MID,   /* between the data loads (hres: after the counter read) */
    VDSO_READ_RETRY, /* all data loaded; the seq is re-read next */
    /* pvclock page (pvclock_vcpu_time_info.version); `word` points at it. */
    VDSO_PVCLOCK_BEGIN, /* version loaded (low bit cleared); nothing else yet */
    VDSO_PVCLOCK_RETRY, /* flags, mul, shift, timestamps and TSC read; version next */
    /* Hyper-V TSC page (tsc_sequence); `word` points at it. */
    VDSO_HVCLOCK_BEGIN, /* non-zero sequence loaded */
    VDSO_HVCLOCK_RETRY, /* scale, offset and TSC read; sequence next */
};

struct vdso_hosted_hooks {
    /* The ordered TSC read; NULL = the real lfence; rdtsc. */
    uint64_t (*read_tsc)(void *ctx);
    /* The syscall fallback; NULL = return VDSO_HOSTED_FALLBACK. */
    long (*fallback)(void *ctx, long nr, long arg0, long arg1);
    /* The three-argument syscall getrandom makes (a key fetch or a fallback);
     * NULL = return VDSO_HOSTED_FALLBACK. Counted with the fallbacks. */
    long (*syscall3)(void *ctx, long nr, long arg0, long arg1, long arg2);
    /* Called at each enum vdso_read_point; NULL = nothing. */
    void (*read_point)(void *ctx, enum vdso_read_point at, const volatile void *word);
    /* The (node << 12 | cpu) word getcpu decodes; NULL = lsl of VDSO_CPUNODE_SEG. */
    uint32_t (*read_cpunode)(void *ctx);
    void *ctx;
};

/* What a fallback returns when no fallback hook is set (never a real errno). */
#define VDSO_HOSTED_FALLBACK (-4095)

/* Page 0 of the six data pages (the time or namespace page). */
void vdso_hosted_set_pages(const void *page0);
/* Copies *hooks; NULL restores the defaults. */
void vdso_hosted_set_hooks(const struct vdso_hosted_hooks *hooks);

/* Fallbacks taken since start (all threads), and the last one's syscall number. */
unsigned long vdso_hosted_fallback_count(void);
long vdso_hosted_last_fallback_nr(void);

int vdso_hosted_clock_gettime(int32_t clk, struct vdso_timespec *ts);
int vdso_hosted_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz);
int64_t vdso_hosted_time(int64_t *t);
int vdso_hosted_clock_getres(int32_t clk, struct vdso_timespec *res);
long vdso_hosted_getcpu(unsigned *cpu, unsigned *node, void *unused);
/* The state layout and flags: vdsokit/vgetrandom.h; the rng page is page 2. */
long vdso_hosted_getrandom(void *buf, size_t len, unsigned flags, void *opaque, size_t opaque_len);

#endif /* VDSOKIT_VDSO_HOSTED_H */
