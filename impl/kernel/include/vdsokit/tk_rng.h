/*
 * The emulated kernel's random half for the getrandom vDSO: its getrandom
 * syscall, which answers from a key stream the tests know (so that every
 * byte a vDSO derives from a key it fetched is predictable), the reseed
 * and readiness of its rng data page (timekeeper.h: tk_rng_bump,
 * tk_rng_set_ready), and what the kernel does to a state in MAP_DROPPABLE
 * memory on fork or under memory pressure (it reads back as zeroes).
 *
 * The stream is a pure function of a seed: byte i is byte i % 8 (little
 * endian) of a 64-bit mix of the seed and i / 8. Each syscall takes the
 * next bytes of the timekeeper's stream, reserved atomically, so it is
 * async-signal-safe (the hermetic trap calls it from its SIGSYS handler).
 * Not a CSPRNG: a test fixture that is exactly reproducible.
 */
#ifndef VDSOKIT_TK_RNG_H
#define VDSOKIT_TK_RNG_H

#include <stddef.h>
#include <stdint.h>

#include <vdsokit/timekeeper.h>

/* Bytes [offset, offset + n) of the stream of seed. */
void tk_rng_stream(uint64_t seed, uint64_t offset, void *out, size_t n);

/* Restart the timekeeper's stream: seed, offset 0. */
void tk_rng_stream_reset(struct timekeeper *tk, uint64_t seed);
/* Its seed and the offset the next syscall starts at. */
void tk_rng_stream_position(struct timekeeper *tk, uint64_t *seed, uint64_t *offset);

/*
 * The getrandom syscall's checks and reservation: -EINVAL for an unknown
 * flag or GRND_RANDOM with GRND_INSECURE (as Linux); else the count (len
 * clamped to VGETRANDOM_MAX_COUNT), whose bytes are the stream's from
 * *offset on (reserved: the next call starts after them). The caller
 * copies them out. Never blocks: an rng that is not ready answers too.
 */
long tk_sys_getrandom(struct timekeeper *tk, size_t len, unsigned flags, uint64_t *offset);

/*
 * The next n emulated getrandom syscalls each publish a new generation
 * (as a reseed would) before answering: a reseed racing a vDSO's key
 * fetch. Lock-free, for a harness without a writer thread.
 */
void tk_rng_reseed_on_syscall(struct timekeeper *tk, unsigned n);

/* A state in MAP_DROPPABLE memory after fork or a drop: all zero. */
void tk_rng_drop_state(void *state, size_t len);

#endif /* VDSOKIT_TK_RNG_H */
