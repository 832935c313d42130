/*
 * AFL++ custom-mutator glue (AFL_CUSTOM_MUTATOR_LIBRARY=<this .so>): one
 * source, compiled once per structure-aware core with AFL_MUTATE naming the
 * core's entry point (elf_mutate or ops_mutate). afl-fuzz calls
 * afl_custom_fuzz with its current input; we copy it into our own buffer of
 * max_size bytes and mutate that, as the API requires (the input buffer
 * belongs to afl-fuzz). AFL++'s own havoc stages still run unless
 * AFL_CUSTOM_MUTATOR_ONLY is set. Built without sanitizers or AFL
 * instrumentation: it is loaded into afl-fuzz itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutator_rng.h"

#ifndef AFL_MUTATE
#error "define AFL_MUTATE to the core's mutate function"
#endif

size_t AFL_MUTATE(uint8_t *data, size_t size, size_t max_size, uint32_t seed,
                  mut_fallback_fn fallback);

struct afl_mutator {
    struct mut_rng rng;
    uint8_t *buf;
    size_t cap;
};

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *state, uint8_t *in, size_t in_size, uint8_t **out, uint8_t *add,
                       size_t add_size, size_t max_size);
void afl_custom_deinit(void *state);

void *afl_custom_init(void *afl, unsigned int seed)
{
    struct afl_mutator *m = calloc(1, sizeof(*m));

    (void)afl;
    if (m)
        mut_rng_seed(&m->rng, seed);
    return m;
}

size_t afl_custom_fuzz(void *state, uint8_t *in, size_t in_size, uint8_t **out, uint8_t *add,
                       size_t add_size, size_t max_size)
{
    struct afl_mutator *m = state;
    size_t size = in_size < max_size ? in_size : max_size;

    (void)add;
    (void)add_size;
    if (max_size > m->cap) {
        uint8_t *grown = realloc(m->buf, max_size);
        if (!grown) {
            *out = in;
            return in_size;
        }
        m->buf = grown;
        m->cap = max_size;
    }
    memcpy(m->buf, in, size);
    *out = m->buf;
    return AFL_MUTATE(m->buf, size, max_size, (uint32_t)mut_rng_next(&m->rng), NULL);
}

void afl_custom_deinit(void *state)
{
    struct afl_mutator *m = state;

    free(m->buf);
    free(m);
}
