/*
 * The getrandom vDSO ABI of x86-64 Linux 6.11+ (docs/abi.md §6), shared by
 * the reference image, the emulated kernel, the tests and the conformance
 * oracle: the parameters a params query returns, the layout of the opaque
 * per-thread state (kernel-private, but fixed on x86-64 and observable:
 * the oracle and the mutant checks read it), the flags the vDSO serves and
 * the clamp of a request. Freestanding: the reference image includes it.
 */
#ifndef VDSOKIT_VGETRANDOM_H
#define VDSOKIT_VGETRANDOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VGETRANDOM_NR 318 /* __NR_getrandom on x86-64 */

/* getrandom(2) flags; the vDSO serves any combination of these three. */
#define VGETRANDOM_GRND_NONBLOCK 0x1u
#define VGETRANDOM_GRND_RANDOM   0x2u
#define VGETRANDOM_GRND_INSECURE 0x4u
#define VGETRANDOM_GRND_ALL      0x7u

/* What the params query returns for mmap of the states. */
#define VGETRANDOM_PROT          0x3u  /* PROT_READ | PROT_WRITE */
#define VGETRANDOM_MAP_FLAGS     0x28u /* MAP_DROPPABLE (0x08) | MAP_ANONYMOUS (0x20) */
#define VGETRANDOM_MAP_DROPPABLE 0x08u

/* The largest count one call returns: INT_MAX rounded down to a page (MAX_RW_COUNT). */
#define VGETRANDOM_MAX_COUNT 0x7ffff000ul

/* The opaque_len of a params query. */
#define VGETRANDOM_PARAMS_QUERY (~0ul)

#define VGETRANDOM_BLOCK     64u /* one ChaCha20 block */
#define VGETRANDOM_BATCH     96u /* buffered output: 1.5 blocks */
#define VGETRANDOM_KEY_BYTES 32u

struct vgetrandom_opaque_params {
    uint32_t size_of_opaque_state;
    uint32_t mmap_prot;
    uint32_t mmap_flags;
    uint32_t reserved[13];
};

/*
 * One thread's state (144 bytes). batch and key are generated together as
 * two ChaCha20 blocks, so the next key overwrites the one that made it
 * (fast key erasure). pos indexes the first unused batch byte (96: empty);
 * generation is the rng page's generation the key was fetched under (0:
 * none: fresh, wiped by fork or dropped under memory pressure); in_use is
 * set during a call (a re-entrant call falls back to the syscall).
 */
struct vgetrandom_state {
    union {
        struct {
            uint8_t batch[VGETRANDOM_BATCH];
            uint32_t key[VGETRANDOM_KEY_BYTES / 4];
        };
        uint8_t batch_key[VGETRANDOM_BATCH + VGETRANDOM_KEY_BYTES];
    };
    uint64_t generation;
    uint8_t pos;
    uint8_t
        in_use; /* a C bool in the kernel; a byte here, since a stray state may hold any value */
};

_Static_assert(sizeof(struct vgetrandom_opaque_params) == 64, "params size");
_Static_assert(sizeof(struct vgetrandom_state) == 144, "state size");
_Static_assert(offsetof(struct vgetrandom_state, key) == 96, "state key");
_Static_assert(offsetof(struct vgetrandom_state, generation) == 128, "state generation");
_Static_assert(offsetof(struct vgetrandom_state, pos) == 136, "state pos");
_Static_assert(offsetof(struct vgetrandom_state, in_use) == 137, "state in_use");

#endif /* VDSOKIT_VGETRANDOM_H */
