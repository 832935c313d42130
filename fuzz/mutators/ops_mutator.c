/*
 * Op-stream mutator (see ops_mutator.h). The record size, header size and
 * opcode count are the format's (vvar_ops.h); keep them in step.
 */
#include "ops_mutator.h"

#include <string.h>

#include "../vvar_format.h"

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static uint64_t interesting_arg(struct mut_rng *r)
{
    static const uint64_t values[] = {0,
                                      1,
                                      2,
                                      7,
                                      255,
                                      1u << 16,
                                      1ull << 32,
                                      1ull << 40,
                                      ~0ull,
                                      1ull << 63,
                                      0x7fffffffffffffffull};
    return mut_rng_one_in(r, 2) ? values[mut_rng_below(r, sizeof(values) / sizeof(values[0]))]
                                : mut_rng_next(r);
}

static void random_record(struct mut_rng *r, uint8_t *rec, unsigned ops)
{
    /* Reader calls are a third of all ops: they are where the oracles run. */
    rec[0] = mut_rng_one_in(r, 3) ? VVAR_READ : (uint8_t)mut_rng_below(r, ops);
    put_le64(rec + 1, interesting_arg(r));
}

static size_t fresh_header(struct mut_rng *r, uint8_t *data, size_t max_size)
{
    if (max_size < VVAR_HEADER_SIZE)
        return max_size ? (data[0] = VVAR_FORMAT, 1) : 0;
    for (size_t i = 0; i < VVAR_HEADER_SIZE; i++)
        data[i] = (uint8_t)mut_rng_next(r);
    data[0] = VVAR_FORMAT;
    return VVAR_HEADER_SIZE;
}

static size_t mutate_record(struct mut_rng *r, uint8_t *data, size_t n, size_t cap)
{
    unsigned ops = vvar_op_count(data[0]);
    uint8_t *recs = data + VVAR_HEADER_SIZE;
    size_t i = mut_rng_below(r, n ? n : 1), j = mut_rng_below(r, n ? n : 1);
    uint8_t tmp[VVAR_RECORD_SIZE];

    switch (n ? mut_rng_below(r, 7) : 0) {
    case 0: /* insert */
        if (n >= cap)
            return n;
        memmove(recs + (i + 1) * VVAR_RECORD_SIZE, recs + i * VVAR_RECORD_SIZE,
                (n - i) * VVAR_RECORD_SIZE);
        random_record(r, recs + i * VVAR_RECORD_SIZE, ops);
        return n + 1;
    case 1: /* delete */
        memmove(recs + i * VVAR_RECORD_SIZE, recs + (i + 1) * VVAR_RECORD_SIZE,
                (n - i - 1) * VVAR_RECORD_SIZE);
        return n - 1;
    case 2: /* duplicate */
        if (n >= cap)
            return n;
        memmove(recs + (i + 1) * VVAR_RECORD_SIZE, recs + i * VVAR_RECORD_SIZE,
                (n - i) * VVAR_RECORD_SIZE);
        return n + 1;
    case 3: /* swap */
        memcpy(tmp, recs + i * VVAR_RECORD_SIZE, VVAR_RECORD_SIZE);
        memcpy(recs + i * VVAR_RECORD_SIZE, recs + j * VVAR_RECORD_SIZE, VVAR_RECORD_SIZE);
        memcpy(recs + j * VVAR_RECORD_SIZE, tmp, VVAR_RECORD_SIZE);
        return n;
    case 4: /* opcode */
        recs[i * VVAR_RECORD_SIZE] = (uint8_t)mut_rng_below(r, ops);
        return n;
    case 5: /* one argument byte: read plans and clock ids live in single bytes */
        recs[i * VVAR_RECORD_SIZE + 1 + mut_rng_below(r, 8)] = (uint8_t)mut_rng_next(r);
        return n;
    default:
        put_le64(recs + i * VVAR_RECORD_SIZE + 1, interesting_arg(r));
        return n;
    }
}

size_t ops_mutate(uint8_t *data, size_t size, size_t max_size, uint32_t seed,
                  mut_fallback_fn fallback)
{
    struct mut_rng r;
    size_t n, cap, rounds;

    mut_rng_seed(&r, seed);
    if (size < VVAR_HEADER_SIZE || !vvar_format_known(data[0]))
        return fresh_header(&r, data, max_size);
    if (max_size < VVAR_HEADER_SIZE + VVAR_RECORD_SIZE)
        return size;
    if (mut_rng_one_in(&r, 16)) { /* the header, rarely */
        if (data[0] < VVAR_FORMAT && mut_rng_one_in(&r, 2))
            data[0]++; /* the same stream, one format up: format 2's opcodes, format 3's era */
        else
            data[1 + mut_rng_below(&r, VVAR_HEADER_SIZE - 1)] = (uint8_t)mut_rng_next(&r);
        return size;
    }
    if (mut_rng_one_in(&r, 5)) { /* the engine's own mutation, on the tail only */
        size_t tail = size - VVAR_HEADER_SIZE, room = max_size - VVAR_HEADER_SIZE;
        tail = fallback ? fallback(data + VVAR_HEADER_SIZE, tail, room)
                        : mut_bytes(&r, data + VVAR_HEADER_SIZE, tail, room);
        return VVAR_HEADER_SIZE + tail;
    }
    n = (size - VVAR_HEADER_SIZE) / VVAR_RECORD_SIZE;
    cap = (max_size - VVAR_HEADER_SIZE) / VVAR_RECORD_SIZE;
    if (cap > VVAR_MAX_OPS)
        cap = VVAR_MAX_OPS;
    if (n > cap)
        n = cap;
    rounds = 1 + mut_rng_below(&r, 3);
    for (size_t k = 0; k < rounds; k++)
        n = mutate_record(&r, data, n, cap);
    return VVAR_HEADER_SIZE + n * VVAR_RECORD_SIZE;
}
