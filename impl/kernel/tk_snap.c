/*
 * The emulated syscalls' view of the timekeeper (struct tk_sys_state in
 * tk_internal.h): a copy of the internal time state taken at every unlock,
 * published under a seqcount of its own. The kernel's syscalls read their
 * timekeeper under tk_core.seq; this is that protocol for readers that must
 * not take the timekeeper lock, such as a SIGSYS handler that answers a
 * syscall a loaded image made while its own thread holds the lock.
 */
#include "tk_internal.h"
#include <sched.h>
#include <string.h>

static void fill(const struct timekeeper *tk, struct tk_sys_state *s)
{
    const struct tk_state *st = &tk->st;

    memset(s, 0, sizeof(*s));
    s->generation = __atomic_load_n(&tk->generation, __ATOMIC_RELAXED);
    s->kind = st->cs.kind;
    s->cycle_last = st->cycle_last;
    s->mask = st->cs.mask;
    s->mult = st->mult;
    s->raw_mult = st->cs.raw_mult;
    s->shift = st->cs.shift;
    s->xtime_sec = st->xtime_sec;
    s->xtime_nsec = st->xtime_nsec;
    s->coarse_nsec = st->coarse_nsec;
    s->wtm_sec = st->wall_to_monotonic.tv_sec;
    s->wtm_nsec = st->wall_to_monotonic.tv_nsec;
    s->boot_sec = st->offs_boot.tv_sec;
    s->boot_nsec = st->offs_boot.tv_nsec;
    s->tai_offset = st->tai_offset;
    s->raw_sec = st->raw_sec;
    s->raw_nsec = st->raw_nsec;
    s->hrtimer_res = st->hrtimer_res;
    s->low_res_nsec = st->low_res_nsec;
    s->tz_minuteswest = st->shadow.tz_minuteswest;
    s->tz_dsttime = st->shadow.tz_dsttime;
    for (unsigned i = 0; i < VDSO_MAX_AUX_CLOCKS; i++) {
        s->aux_enabled[i] = st->aux[i].enabled;
        s->aux_mult[i] = st->aux[i].mult;
        s->aux_sec[i] = st->aux[i].sec;
        s->aux_nsec[i] = st->aux[i].nsec;
    }
    s->pv = st->pv;
    s->hv = st->hv;
}

void tk_sys_store(struct timekeeper *tk)
{
    union {
        struct tk_sys_state s;
        uint64_t w[TK_SYS_WORDS];
    } u;

    fill(tk, &u.s);
    uint32_t seq = tk->sys.seq; /* only lock holders write it */
    __atomic_store_n(&tk->sys.seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (size_t i = 0; i < TK_SYS_WORDS; i++)
        __atomic_store_n(&tk->sys.words[i], u.w[i], __ATOMIC_RELAXED);
    __atomic_store_n(&tk->sys.seq, seq + 2, __ATOMIC_RELEASE);
}

void tk_sys_load(const struct timekeeper *tk, struct tk_sys_state *out)
{
    union {
        struct tk_sys_state s;
        uint64_t w[TK_SYS_WORDS];
    } u;

    for (unsigned spins = 1;; spins++) {
        uint32_t seq = __atomic_load_n(&tk->sys.seq, __ATOMIC_ACQUIRE);
        if (seq & 1) {
            /* The writer can be preempted mid-copy (it is not the kernel). */
            if (spins % 1024 == 0)
                sched_yield();
            else
                __builtin_ia32_pause();
            continue;
        }
        for (size_t i = 0; i < TK_SYS_WORDS; i++)
            u.w[i] = __atomic_load_n(&tk->sys.words[i], __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&tk->sys.seq, __ATOMIC_RELAXED) == seq)
            break;
    }
    *out = u.s;
}
