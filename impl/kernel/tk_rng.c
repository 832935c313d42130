/*
 * The emulated getrandom syscall and its key stream (tk_rng.h). The stream
 * position is one atomic word of the timekeeper, so concurrent callers
 * (threads, a signal handler) get disjoint ranges without a lock.
 */
#include <errno.h>

#include "tk_internal.h"
#include <vdsokit/datapages_era.h>
#include <vdsokit/tk_rng.h>
#include <vdsokit/vgetrandom.h>

/* splitmix64's finaliser over the seed and the word index. */
static uint64_t stream_word(uint64_t seed, uint64_t index)
{
    uint64_t z = seed + (index + 1) * 0x9e3779b97f4a7c15ull;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void tk_rng_stream(uint64_t seed, uint64_t offset, void *out, size_t n)
{
    uint8_t *o = out;
    uint64_t word = 0;

    for (size_t i = 0; i < n; i++) {
        uint64_t at = offset + i;
        if (i == 0 || (at & 7) == 0)
            word = stream_word(seed, at >> 3);
        o[i] = (uint8_t)(word >> ((at & 7) * 8));
    }
}

void tk_rng_stream_reset(struct timekeeper *tk, uint64_t seed)
{
    __atomic_store_n(&tk->rng_seed, seed, __ATOMIC_RELAXED);
    __atomic_store_n(&tk->rng_offset, 0, __ATOMIC_RELEASE);
}

void tk_rng_stream_position(struct timekeeper *tk, uint64_t *seed, uint64_t *offset)
{
    *offset = __atomic_load_n(&tk->rng_offset, __ATOMIC_ACQUIRE);
    *seed = __atomic_load_n(&tk->rng_seed, __ATOMIC_RELAXED);
}

void tk_rng_reseed_on_syscall(struct timekeeper *tk, unsigned n)
{
    __atomic_store_n(&tk->rng_reseeds, n, __ATOMIC_RELAXED);
}

static void reseed_if_asked(struct timekeeper *tk)
{
    unsigned left = __atomic_load_n(&tk->rng_reseeds, __ATOMIC_RELAXED);

    while (left && !__atomic_compare_exchange_n(&tk->rng_reseeds, &left, left - 1, false,
                                                __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    if (!left)
        return;
    struct vdso_rng_data *rng = datapages_rng(tk->dp);
    __atomic_store_n(&rng->generation, __atomic_load_n(&rng->generation, __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELEASE);
    datapages_era_rng(tk->dp);
}

long tk_sys_getrandom(struct timekeeper *tk, size_t len, unsigned flags, uint64_t *offset)
{
    if (flags & ~VGETRANDOM_GRND_ALL)
        return -EINVAL;
    if ((flags & (VGETRANDOM_GRND_RANDOM | VGETRANDOM_GRND_INSECURE)) ==
        (VGETRANDOM_GRND_RANDOM | VGETRANDOM_GRND_INSECURE))
        return -EINVAL;
    reseed_if_asked(tk);
    size_t count = len < VGETRANDOM_MAX_COUNT ? len : VGETRANDOM_MAX_COUNT;
    *offset = __atomic_fetch_add(&tk->rng_offset, count, __ATOMIC_ACQ_REL);
    return (long)count;
}

void tk_rng_drop_state(void *state, size_t len)
{
    volatile uint8_t *s = state;

    for (size_t i = 0; i < len; i++)
        s[i] = 0;
}
