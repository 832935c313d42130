/*
 * Helpers shared by the kernel-half tests: a seqcount reader over a data
 * page (relaxed loads, acquire fences, the counter read inside the window,
 * as the vDSO does), a default script with a manual counter counting
 * nanoseconds, and the model's reading of the current page (timespec
 * arithmetic comes from vdsokit/timespec.h).
 */
#ifndef VDSOKIT_TEST_TK_TEST_H
#define VDSOKIT_TEST_TK_TEST_H

#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <vdsokit/counter.h>
#include <vdsokit/datapages.h>
#include <vdsokit/timekeeper.h>
#include <vdsokit/timespec.h>
#include <vdsokit/tk_model.h>

typedef uint64_t (*test_counter_fn)(void *ctx);

/* A consistent copy of page (both clock seqs even and unchanged across the
 * copy and the counter read). Returns the number of retries. */
static inline unsigned snapshot_page(const struct vdso_time_data *page, struct vdso_time_data *out,
                                     test_counter_fn fn, void *ctx, uint64_t *counter)
{
    for (unsigned retries = 0;; retries++) {
        uint32_t s0 = __atomic_load_n(&page->clock_data[0].seq, __ATOMIC_RELAXED);
        uint32_t s1 = __atomic_load_n(&page->clock_data[1].seq, __ATOMIC_RELAXED);
        if ((s0 | s1) & 1) {
            /* Unlike the kernel's, the emulated writer can be preempted with
             * seq odd; on a single free core spinning would starve it. */
            if (retries % 1024 == 1023)
                sched_yield();
            else
                __builtin_ia32_pause();
            continue;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        datapages_load_time_data(out, page);
        if (fn)
            *counter = fn(ctx);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&page->clock_data[0].seq, __ATOMIC_RELAXED) == s0 &&
            __atomic_load_n(&page->clock_data[1].seq, __ATOMIC_RELAXED) == s1) {
            out->clock_data[0].seq = s0;
            out->clock_data[1].seq = s1;
            return retries;
        }
    }
}

static inline uint64_t tk_counter_fn(void *ctx)
{
    return tk_read_counter(ctx);
}

/* A deterministic start: pvclock manual counter in ns (mult 2^24, shift 24). */
static inline struct tk_script test_script(void)
{
    struct tk_script s;

    memset(&s, 0, sizeof(s));
    s.counter = TK_COUNTER_PVCLOCK_MANUAL;
    s.counter_start = 1000000;
    s.mult = 1u << 24;
    s.shift = 24;
    s.realtime = (struct timespec){1700000000, 250000000};
    s.monotonic = (struct timespec){5000, 125000000};
    s.boot_offset = (struct timespec){7, 5};
    s.raw = (struct timespec){4990, 0};
    s.tai_offset = 37;
    s.low_res_nsec = 4000000;
    return s;
}

/* Model result for one clock on the current page 0 of a root-layout writer. */
static inline enum tk_model_outcome model_now(struct timekeeper *tk, int32_t clk,
                                              struct timespec *ts)
{
    struct vdso_time_data snap;
    uint64_t counter = 0;

    snapshot_page(datapages_time(tk_datapages(tk)), &snap, tk_counter_fn, tk, &counter);
    struct tk_model_view v = {
        .page0 = &snap, .counter = counter, .low_res_nsec = tk_low_res_nsec(tk)};
    return tk_model_clock_gettime(&v, clk, ts);
}

#endif /* VDSOKIT_TEST_TK_TEST_H */
