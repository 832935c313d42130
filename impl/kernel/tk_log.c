/*
 * The log of committed states: a ring indexed by generation, filled by the
 * writer at each commit and copied out under a mutex of its own, so an
 * oracle in another thread never holds up the timekeeper lock.
 */
#include "tk_internal.h"
#include <errno.h>
#include <stdlib.h>

int tk_log_init(struct tk_log *log, unsigned entries)
{
    log->size = entries ? entries : TK_LOG_ENTRIES;
    log->ring = calloc(log->size, sizeof(*log->ring));
    if (!log->ring)
        return -ENOMEM;
    log->newest = 0;
    log->open_from = 1;
    int err = pthread_mutex_init(&log->lock, NULL);
    if (err) {
        free(log->ring);
        return -err;
    }
    return 0;
}

/* Empty the log for a fresh start; the ring is reused unless its size changes
 * (stale slots are never read: a copy stops at the newest generation). */
int tk_log_reset(struct tk_log *log, unsigned entries)
{
    uint64_t size = entries ? entries : TK_LOG_ENTRIES;
    int err = 0;

    pthread_mutex_lock(&log->lock);
    if (size != log->size) {
        struct tk_log_entry *ring = calloc(size, sizeof(*ring));
        if (ring) {
            free(log->ring);
            log->ring = ring;
            log->size = size;
        } else {
            err = -ENOMEM;
        }
    }
    log->newest = 0;
    log->open_from = 1;
    pthread_mutex_unlock(&log->lock);
    return err;
}

void tk_log_fini(struct tk_log *log)
{
    pthread_mutex_destroy(&log->lock);
    free(log->ring);
    log->ring = NULL;
}

void tk_log_append(struct tk_log *log, uint64_t generation, uint32_t seq,
                   const struct vdso_time_data *data)
{
    pthread_mutex_lock(&log->lock);
    struct tk_log_entry *e = &log->ring[generation % log->size];
    e->generation = generation;
    e->seq = seq;
    e->data = *data;
    e->superseded_tsc = TK_NOT_SUPERSEDED;
    log->newest = generation;
    pthread_mutex_unlock(&log->lock);
}

/*
 * Aux-only commits between two updates of the main clocks carry the main
 * clocks' data unchanged, so they all end at the same point.
 */
void tk_log_supersede(struct tk_log *log, uint64_t tsc)
{
    pthread_mutex_lock(&log->lock);
    uint64_t oldest = log->newest >= log->size ? log->newest - log->size + 1 : 1;
    for (uint64_t g = log->open_from > oldest ? log->open_from : oldest; g <= log->newest; g++)
        log->ring[g % log->size].superseded_tsc = tsc;
    log->open_from = log->newest + 1;
    pthread_mutex_unlock(&log->lock);
}

uint64_t tk_generation(const struct timekeeper *tk)
{
    return __atomic_load_n(&tk->generation, __ATOMIC_ACQUIRE);
}

size_t tk_log_copy(struct timekeeper *tk, uint64_t lo, uint64_t hi, struct tk_log_entry *out,
                   size_t max)
{
    struct tk_log *log = &tk->log;
    size_t n = 0;

    pthread_mutex_lock(&log->lock);
    uint64_t oldest = log->newest >= log->size ? log->newest - log->size + 1 : 1;
    if (lo < oldest)
        lo = oldest;
    if (hi > log->newest)
        hi = log->newest;
    for (uint64_t g = lo; g <= hi && n < max; g++)
        out[n++] = log->ring[g % log->size];
    pthread_mutex_unlock(&log->lock);
    return n;
}
