/*
 * getrandom of the reference vDSO (docs/abi.md §6), for the eras that have
 * it (6.11 on; the 6.10-6.12 variant is built as 6.12 and so has it too).
 * A params query answers the state's size and how to map it; a state
 * straddling a page is -EFAULT; anything the vDSO does not serve (an
 * unknown flag, a wrong state length, an rng not ready yet, a state
 * already in use by an interrupted call on this thread) is the syscall's.
 * Otherwise the output comes from the caller's state: a key fetched by the
 * syscall whenever the rng page's generation differs from the state's (a
 * reseed, a state wiped by fork or dropped under memory pressure), then
 * ChaCha20 with fast key erasure: buffered bytes first, whole blocks
 * straight into the buffer, and the batch refilled together with the next
 * key, which overwrites the one that made it. A generation that moved
 * while the bytes were made throws them away and starts over, once; if it
 * moves again, the syscall answers (as the 6.18 image does: the
 * differential test races reseeds with the key fetch).
 */
#include <stdbool.h>
#include <stdint.h>
#include <vdsokit/abi.h>
#include <vdsokit/vgetrandom.h>

#include "vdso_arch.h"
#include "vdso_exports.h"
#include "vdso_seq.h"

#if VDSO_ERA_FROM(6, 11)

#include "vdso_chacha.h"

#define VDSO_EFAULT 14

/*
 * The rng data: its own page from 6.15; before, byte 640 of the time page,
 * of the real one inside a time namespace (the namespace page is mapped
 * where the time page was, and has clock mode TIMENS).
 */
static inline const struct vdso_rng_data *vdso_rng_data(void)
{
#if VDSO_ERA_FROM(6, 15)
    return vdso_arch_rng_page();
#else
    const char *vd = (const char *)vdso_arch_time_data();
    const struct vdso_time_data *td = (const struct vdso_time_data *)(const void *)vd;

    if (VDSO_READ(td->clock_data[VDSO_CS_HRES_COARSE].clock_mode) == VDSO_CLOCKMODE_TIMENS)
        vd += VDSO_ERA_NS_REAL_OFFSET;
    return (const struct vdso_rng_data *)(const void *)(vd + 640);
#endif
}

static long vdso_getrandom_syscall(void *buf, size_t len, unsigned flags)
{
    return vdso_arch_syscall3(VGETRANDOM_NR, (long)buf, (long)len, (long)flags);
}

static void vdso_write_params(void *opaque)
{
    struct vgetrandom_opaque_params *p = opaque;

    p->size_of_opaque_state = sizeof(struct vgetrandom_state);
    p->mmap_prot = VGETRANDOM_PROT;
    p->mmap_flags = VGETRANDOM_MAP_FLAGS;
    for (unsigned i = 0; i < sizeof(p->reserved) / sizeof(p->reserved[0]); i++)
        p->reserved[i] = 0;
}

typedef uint64_t vdso_u64_unaligned __attribute__((aligned(1), may_alias));

/* Copies the unused batch bytes, up to len, and zeroes them in the state. */
static size_t vdso_drain_batch(struct vgetrandom_state *st, uint8_t *out, size_t len)
{
    size_t pos = st->pos, n = VGETRANDOM_BATCH - pos;

    size_t i = 0;

    if (n > len)
        n = len;
    /* Eight bytes at a time, then the tail; volatile so that no call to memset appears. */
    for (; i + 8 <= n; i += 8) {
        *(vdso_u64_unaligned *)(out + i) = *(const vdso_u64_unaligned *)(st->batch + pos + i);
        *(volatile vdso_u64_unaligned *)(st->batch + pos + i) = 0;
    }
    for (; i < n; i++) {
        out[i] = st->batch[pos + i];
        ((volatile uint8_t *)st->batch)[pos + i] = 0;
    }
    st->pos = (uint8_t)(pos + n);
    return n;
}

/*
 * Fills out[0, len) from the state's key; leaves the next key in the state.
 * The block counter is the call's: a retry goes on counting from where the
 * first attempt stopped (the 6.18 image's states after a retry show it).
 */
static void vdso_generate(struct vgetrandom_state *st, uint8_t *out, size_t len,
                          uint32_t counter[2])
{
    for (;;) {
        size_t n = vdso_drain_batch(st, out, len);
        out += n;
        len -= n;
        if (!len)
            return;
        size_t blocks = len / VGETRANDOM_BLOCK;
        if (blocks) {
            vdso_chacha20_blocks(out, st->key, counter, blocks);
            out += blocks * VGETRANDOM_BLOCK;
            len -= blocks * VGETRANDOM_BLOCK;
        }
        /* The counter goes on: the refill's blocks follow the direct ones. */
        vdso_chacha20_blocks(st->batch_key, st->key, counter,
                             sizeof(st->batch_key) / VGETRANDOM_BLOCK);
        st->pos = 0;
    }
}

/*
 * A key for the current generation, fetched by the syscall when the state's
 * is older. The new generation is stored first, so that a fork between the
 * fetch and the store cannot leave a child's wiped state looking current.
 */
static bool vdso_rekey(struct vgetrandom_state *st, const struct vdso_rng_data *rng)
{
    uint64_t current = __atomic_load_n(&rng->generation, __ATOMIC_ACQUIRE);

    if (VDSO_READ(st->generation) == current)
        return true;
    __atomic_store_n(&st->generation, current, __ATOMIC_RELAXED);
    vdso_read_barrier();
    if (vdso_getrandom_syscall(st->key, sizeof(st->key), 0) != (long)sizeof(st->key)) {
        __atomic_store_n(&st->generation, 0, __ATOMIC_RELAXED);
        return false;
    }
    st->pos = VGETRANDOM_BATCH;
    return true;
}

VDSO_EXPORT long VDSO_FN(getrandom)(void *buf, size_t len, unsigned flags, void *opaque,
                                    size_t opaque_len)
{
    struct vgetrandom_state *st = opaque;

    if (opaque_len == VGETRANDOM_PARAMS_QUERY && !buf && !len && !flags) {
        vdso_write_params(opaque);
        return 0;
    }
    if (((uintptr_t)opaque & (VDSO_PAGE_SIZE - 1)) + sizeof(*st) > VDSO_PAGE_SIZE)
        return -VDSO_EFAULT;
    const struct vdso_rng_data *rng = vdso_rng_data();
    if (flags & ~VGETRANDOM_GRND_ALL || opaque_len != sizeof(*st) || !VDSO_READ(rng->is_ready))
        return vdso_getrandom_syscall(buf, len, flags);
    if (!len)
        return 0;
    if (VDSO_READ(st->in_use))
        return vdso_getrandom_syscall(buf, len, flags);
    __atomic_store_n(&st->in_use, 1, __ATOMIC_RELAXED);

    size_t count = len < VGETRANDOM_MAX_COUNT ? len : VGETRANDOM_MAX_COUNT;
    uint32_t counter[2] = {0, 0};
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!vdso_rekey(st, rng))
            break;
        vdso_generate(st, buf, count, counter);
        vdso_read_barrier();
        /* A reseed, fork or drop meanwhile: these bytes may be the old key's.
         * Once more from the start with a new key; a second time, the syscall. */
        if (VDSO_READ(st->generation) == __atomic_load_n(&rng->generation, __ATOMIC_RELAXED)) {
            __atomic_store_n(&st->in_use, 0, __ATOMIC_RELAXED);
            return (long)count;
        }
    }
    __atomic_store_n(&st->in_use, 0, __ATOMIC_RELAXED);
    return vdso_getrandom_syscall(buf, len, flags);
}
VDSO_ALIAS(getrandom);

#endif /* 6.11 on */
