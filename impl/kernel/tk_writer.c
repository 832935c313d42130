/*
 * The writer thread: the emulated tick. At a given HZ it sleeps to absolute
 * deadlines on CLOCK_MONOTONIC and accumulates (tk_accumulate, a public
 * operation: the thread is one more caller of the locked API); with HZ 0 it
 * publishes back to back (an update storm). A callback after each tick lets
 * a test inject operations from the writer's own thread.
 */
#include "tk_internal.h"
#include <errno.h>

static void next_deadline(struct timespec *t, unsigned hz)
{
    *t = ts_add(*t, ts_from_ns(NSEC_PER_SEC / hz));
}

static void wait_tick(struct timespec *deadline, unsigned hz)
{
    next_deadline(deadline, hz);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL) == EINTR)
        ;
}

static void *writer_main(void *arg)
{
    struct timekeeper *tk = arg;
    struct tk_writer *w = &tk->writer;
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    uint64_t ticks = 0;
    while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
        if (w->hz)
            wait_tick(&deadline, w->hz);
        tk_accumulate(tk);
        if (w->fn)
            w->fn(tk, ticks, w->arg);
        ticks++;
    }
    w->ticks = ticks;
    return NULL;
}

int tk_writer_start_cb(struct timekeeper *tk, unsigned hz, tk_tick_fn fn, void *arg)
{
    struct tk_writer *w = &tk->writer;

    if (w->running)
        return -EBUSY;
    w->hz = hz;
    w->fn = fn;
    w->arg = arg;
    w->ticks = 0;
    __atomic_store_n(&w->stop, 0, __ATOMIC_RELAXED);
    int err = pthread_create(&w->thread, NULL, writer_main, tk);
    if (err)
        return -err;
    w->running = true;
    return 0;
}

int tk_writer_start(struct timekeeper *tk, unsigned hz)
{
    return tk_writer_start_cb(tk, hz, NULL, NULL);
}

int64_t tk_writer_stop(struct timekeeper *tk)
{
    struct tk_writer *w = &tk->writer;

    if (!w->running)
        return -EINVAL;
    __atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
    int err = pthread_join(w->thread, NULL);
    w->running = false;
    return err ? -err : (int64_t)w->ticks;
}
