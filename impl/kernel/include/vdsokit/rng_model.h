/*
 * The model of the getrandom vDSO (docs/abi.md §6), in plain C and
 * independent of the reference's code: ChaCha20 (RFC 8439) one block at a
 * time on a 16-word array, and the whole call (params, straddle, fallbacks,
 * re-key by generation, fast key erasure, clamp) on a copy of a state and
 * an emulated kernel's rng page and key stream (tk_rng.h). The oracle of
 * the conformance group and of the tests: run on a copy of a state before
 * a call, it predicts the output, the return value, the syscalls the call
 * makes and the whole state afterwards. Single-threaded: it assumes the
 * generation does not change during the call.
 */
#ifndef VDSOKIT_RNG_MODEL_H
#define VDSOKIT_RNG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <vdsokit/vgetrandom.h>

/* One ChaCha20 block of key at a 64-bit block counter, zero nonce. */
void rng_model_chacha20_block(const uint32_t key[8], uint64_t counter, uint8_t out[64]);

/* The emulated kernel the call sees. */
struct rng_model_kernel {
    uint64_t generation; /* the rng page */
    uint8_t is_ready;
    uint64_t seed;   /* the key stream (tk_rng.h) */
    uint64_t offset; /* where its next syscall starts; advanced by the model */
};

/* What the call did besides its output. */
struct rng_model_trace {
    unsigned key_fetches; /* getrandom(key, 32, 0) syscalls */
    unsigned fallbacks;   /* getrandom(buf, len, flags) syscalls */
    unsigned blocks;      /* ChaCha20 blocks generated */
};

/*
 * The call getrandom(out, len, flags, state, opaque_len) with the state at
 * address state_addr (only its page offset matters) and its contents in
 * *st (updated as the call leaves it). out receives what the call writes
 * (min(len, the clamp) bytes; for a fallback, what the emulated syscall
 * writes). Returns the call's result.
 */
long rng_model_call(struct vgetrandom_state *st, uintptr_t state_addr, size_t opaque_len,
                    struct rng_model_kernel *k, uint8_t *out, size_t len, unsigned flags,
                    struct rng_model_trace *trace);

/*
 * The same call with the page's generation bumped (k->generation + 1)
 * while the bytes of each of its first `superseded` attempts are made
 * (after the attempt's generation check, before its re-check): 1 makes
 * the call re-key once and make the bytes again, the block counter going
 * on; 2 sends it to the syscall after the second attempt. 0 is
 * rng_model_call. k->generation is left at the last published value.
 */
long rng_model_call_raced(struct vgetrandom_state *st, uintptr_t state_addr, size_t opaque_len,
                          struct rng_model_kernel *k, uint8_t *out, size_t len, unsigned flags,
                          unsigned superseded, struct rng_model_trace *trace);

#endif /* VDSOKIT_RNG_MODEL_H */
