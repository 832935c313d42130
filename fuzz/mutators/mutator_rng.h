/*
 * The mutators' random source: xorshift64*, seeded by the engine so that a
 * mutation sequence is reproducible from the engine's seed. Header-only
 * because the AFL++ custom-mutator libraries are built from the cores alone.
 */
#ifndef VDSOKIT_FUZZ_MUTATOR_RNG_H
#define VDSOKIT_FUZZ_MUTATOR_RNG_H

#include <stddef.h>
#include <stdint.h>

struct mut_rng {
    uint64_t s;
};

static inline void mut_rng_seed(struct mut_rng *r, uint64_t seed)
{
    r->s = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
    if (!r->s)
        r->s = 1;
}

static inline uint64_t mut_rng_next(struct mut_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n); n == 0 gives 0. */
static inline uint64_t mut_rng_below(struct mut_rng *r, uint64_t n)
{
    return n ? mut_rng_next(r) % n : 0;
}

/* True with probability 1/n. */
static inline int mut_rng_one_in(struct mut_rng *r, uint64_t n)
{
    return mut_rng_below(r, n) == 0;
}

/*
 * The engine's own mutation (libFuzzer's LLVMFuzzerMutate), or NULL for the
 * mutators' built-in byte-level one. Returns the new size (<= max_size).
 */
typedef size_t (*mut_fallback_fn)(uint8_t *data, size_t size, size_t max_size);

/* Built-in byte-level mutation: flips, interesting bytes, runs, copies. */
size_t mut_bytes(struct mut_rng *r, uint8_t *data, size_t size, size_t max_size);

#endif
