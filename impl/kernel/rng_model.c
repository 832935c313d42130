/*
 * The getrandom model (rng_model.h): the algorithm as docs/abi.md §6 states
 * it, step by step, with the block function written the obvious way
 * (sixteen words, quarter rounds on index quadruples), so that it shares
 * nothing with the reference's vector code but the specification.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <vdsokit/rng_model.h>
#include <vdsokit/tk_rng.h>

static uint32_t rotl32(uint32_t v, int n)
{
    return v << n | v >> (32 - n);
}

static void quarter(uint32_t *x, int a, int b, int c, int d)
{
    x[a] += x[b];
    x[d] = rotl32(x[d] ^ x[a], 16);
    x[c] += x[d];
    x[b] = rotl32(x[b] ^ x[c], 12);
    x[a] += x[b];
    x[d] = rotl32(x[d] ^ x[a], 8);
    x[c] += x[d];
    x[b] = rotl32(x[b] ^ x[c], 7);
}

void rng_model_chacha20_block(const uint32_t key[8], uint64_t counter, uint8_t out[64])
{
    uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
    uint32_t x[16];

    memcpy(in + 4, key, 32);
    in[12] = (uint32_t)counter;
    in[13] = (uint32_t)(counter >> 32);
    in[14] = in[15] = 0;
    memcpy(x, in, sizeof x);
    for (int r = 0; r < 20; r += 2) {
        quarter(x, 0, 4, 8, 12);
        quarter(x, 1, 5, 9, 13);
        quarter(x, 2, 6, 10, 14);
        quarter(x, 3, 7, 11, 15);
        quarter(x, 0, 5, 10, 15);
        quarter(x, 1, 6, 11, 12);
        quarter(x, 2, 7, 8, 13);
        quarter(x, 3, 4, 9, 14);
    }
    for (int i = 0; i < 16; i++) {
        uint32_t v = x[i] + in[i];
        out[4 * i] = (uint8_t)v;
        out[4 * i + 1] = (uint8_t)(v >> 8);
        out[4 * i + 2] = (uint8_t)(v >> 16);
        out[4 * i + 3] = (uint8_t)(v >> 24);
    }
}

/* The emulated syscall: the stream's next bytes, or -EINVAL. */
static long model_syscall(struct rng_model_kernel *k, uint8_t *out, size_t len, unsigned flags)
{
    const unsigned both = VGETRANDOM_GRND_RANDOM | VGETRANDOM_GRND_INSECURE;

    if ((flags & ~VGETRANDOM_GRND_ALL) || (flags & both) == both)
        return -EINVAL;
    size_t n = len < VGETRANDOM_MAX_COUNT ? len : VGETRANDOM_MAX_COUNT;
    if (out)
        tk_rng_stream(k->seed, k->offset, out, n);
    k->offset += n;
    return (long)n;
}

static void params(void *at)
{
    struct vgetrandom_opaque_params p = {
        sizeof(struct vgetrandom_state), VGETRANDOM_PROT, VGETRANDOM_MAP_FLAGS, {0}};

    memcpy(at, &p, sizeof p);
}

/* Bytes from the batch, then blocks, then a refill of batch and key; repeat. */
static void generate(struct vgetrandom_state *st, uint8_t *out, size_t len, uint64_t *counter,
                     struct rng_model_trace *t)
{
    for (;;) {
        while (len && st->pos < VGETRANDOM_BATCH) {
            *out++ = st->batch[st->pos];
            st->batch[st->pos++] = 0;
            len--;
        }
        if (!len)
            return;
        for (; len >= VGETRANDOM_BLOCK; len -= VGETRANDOM_BLOCK, out += VGETRANDOM_BLOCK) {
            rng_model_chacha20_block(st->key, (*counter)++, out);
            t->blocks++;
        }
        uint8_t next[128];
        rng_model_chacha20_block(st->key, (*counter)++, next);
        rng_model_chacha20_block(st->key, (*counter)++, next + 64);
        t->blocks += 2;
        memcpy(st->batch_key, next, sizeof next);
        st->pos = 0;
    }
}

long rng_model_call(struct vgetrandom_state *st, uintptr_t state_addr, size_t opaque_len,
                    struct rng_model_kernel *k, uint8_t *out, size_t len, unsigned flags,
                    struct rng_model_trace *trace)
{
    return rng_model_call_raced(st, state_addr, opaque_len, k, out, len, flags, 0, trace);
}

long rng_model_call_raced(struct vgetrandom_state *st, uintptr_t state_addr, size_t opaque_len,
                          struct rng_model_kernel *k, uint8_t *out, size_t len, unsigned flags,
                          unsigned superseded, struct rng_model_trace *trace)
{
    struct rng_model_trace ignored;
    struct rng_model_trace *t = trace ? trace : &ignored;

    memset(t, 0, sizeof *t);
    if (opaque_len == VGETRANDOM_PARAMS_QUERY && !out && !len && !flags) {
        params(st);
        return 0;
    }
    if ((state_addr & 4095) + sizeof *st > 4096)
        return -EFAULT;
    bool served = !(flags & ~VGETRANDOM_GRND_ALL) && opaque_len == sizeof *st && k->is_ready;
    if (served && !len)
        return 0;
    if (!served || st->in_use) {
        t->fallbacks++;
        return model_syscall(k, out, len, flags);
    }
    size_t count = len < VGETRANDOM_MAX_COUNT ? len : VGETRANDOM_MAX_COUNT;
    uint64_t counter = 0; /* goes on across the retry (§6 step 7) */
    for (unsigned attempt = 0; attempt < 2; attempt++) {
        if (st->generation != k->generation) {
            st->generation = k->generation;
            t->key_fetches++;
            model_syscall(k, (uint8_t *)st->key, sizeof st->key, 0);
            st->pos = VGETRANDOM_BATCH;
        }
        generate(st, out, count, &counter, t);
        if (attempt >= superseded)
            return (long)count;
        k->generation++; /* the reseed the re-check sees */
    }
    t->fallbacks++;
    return model_syscall(k, out, len, flags);
}
