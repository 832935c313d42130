/*
 * The loader's window: one process-wide PROT_NONE reservation of 4 GiB,
 * aligned to 4 GiB, that every loaded image and every move of one lies in,
 * so that a seccomp filter can tell the image's syscalls from everyone
 * else's by the top 32 bits of the instruction pointer alone
 * (loader_trap.c). It is cut into 2 MiB slots, one per loaded image (the
 * text is at most 1 MiB plus six data pages); an image takes a random
 * free slot at a random page offset inside it, so placements stay
 * randomised. A slot given back is mapped PROT_NONE again, never unmapped,
 * so nothing else can be mapped inside the window; a slot whose range
 * another mapping took in the instant after a move is never used again.
 * A lock-free table maps each slot to its image for the SIGSYS handler.
 */
#define _GNU_SOURCE /* MAP_FIXED_NOREPLACE */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "loader_internal.h"

#define WINDOW_BYTES (1ull << 32)
#define SLOT_BYTES   (2ull << 20)
#define NSLOTS       (WINDOW_BYTES / SLOT_BYTES)
#define PAGE         ((uint64_t)VDSO_PAGE_SIZE)

/* Hints fall in [1 TiB, 64 TiB): inside the 47-bit user half. */
#define HINT_LOW  (1ull << 40)
#define HINT_SPAN (63ull << 40)

enum slot_state { SLOT_FREE, SLOT_USED, SLOT_LOST };

static struct {
    pthread_mutex_t lock;
    uintptr_t base; /* atomic: 0 until reserved */
    unsigned char state[NSLOTS];
    struct vdso_loaded *owner[NSLOTS]; /* atomic: read by the SIGSYS handler */
} win = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t random_u64(void)
{
    uint64_t r = 0;

    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
        r = (uint64_t)(uintptr_t)&r * 0x9e3779b97f4a7c15ull; /* ASLR's entropy at least */
    return r;
}

/* Twice the window at a random hint, then the aligned 4 GiB kept. */
static int reserve(struct vdsokit_error *err)
{
    void *hint = (void *)(uintptr_t)((HINT_LOW + random_u64() % HINT_SPAN) & ~(PAGE - 1));
    uint8_t *big =
        mmap(hint, 2 * WINDOW_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (big == MAP_FAILED)
        return vdsokit_fail(err, "reserving the loader's 4 GiB window: %s", strerror(errno));
    uintptr_t lo = ((uintptr_t)big + WINDOW_BYTES - 1) & ~(uintptr_t)(WINDOW_BYTES - 1);
    if (lo > (uintptr_t)big)
        munmap(big, lo - (uintptr_t)big);
    uintptr_t end = (uintptr_t)big + 2 * WINDOW_BYTES;
    if (end > lo + WINDOW_BYTES)
        munmap((void *)(lo + WINDOW_BYTES), end - (lo + WINDOW_BYTES));
    __atomic_store_n(&win.base, lo, __ATOMIC_RELEASE);
    return 0;
}

int loader_window_ensure(struct vdsokit_error *err)
{
    int rc = 0;

    pthread_mutex_lock(&win.lock);
    if (!win.base)
        rc = reserve(err);
    pthread_mutex_unlock(&win.lock);
    return rc;
}

uintptr_t loader_window_base(void)
{
    return __atomic_load_n(&win.base, __ATOMIC_ACQUIRE);
}

int loader_window_claim(struct vdso_loaded *l, size_t len, uint8_t **addr,
                        struct vdsokit_error *err)
{
    if (len > SLOT_BYTES)
        return vdsokit_fail(err, "%s: 0x%zx bytes do not fit a 2 MiB slot", l->name, len);
    if (loader_window_ensure(err))
        return -1;
    pthread_mutex_lock(&win.lock);
    uint64_t start = random_u64() % NSLOTS, i;
    for (i = 0; i < NSLOTS; i++)
        if (win.state[(start + i) % NSLOTS] == SLOT_FREE)
            break;
    if (i == NSLOTS) {
        pthread_mutex_unlock(&win.lock);
        return vdsokit_fail(err, "%s: the loader's window has no free slot (%llu images loaded)",
                            l->name, (unsigned long long)NSLOTS);
    }
    uint64_t slot = (start + i) % NSLOTS;
    win.state[slot] = SLOT_USED;
    __atomic_store_n(&win.owner[slot], l, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&win.lock);
    uint64_t pages = (SLOT_BYTES - ((len + PAGE - 1) & ~(PAGE - 1))) / PAGE + 1;
    *addr = (uint8_t *)(win.base + slot * SLOT_BYTES + (random_u64() % pages) * PAGE);
    return 0;
}

/*
 * Give back [addr, addr + len): PROT_NONE again. After a move the range is
 * a hole (mremap took its pages): fill it without replacing anything that
 * may have been mapped there since, and retire the slot if something was.
 */
void loader_window_release(uint8_t *addr, size_t len, bool moved_away)
{
    uintptr_t base = loader_window_base();

    if (!base || (uintptr_t)addr < base || (uintptr_t)addr >= base + WINDOW_BYTES)
        return;
    uint64_t slot = ((uintptr_t)addr - base) / SLOT_BYTES;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                (moved_away ? MAP_FIXED_NOREPLACE : MAP_FIXED);
    void *p = mmap(addr, len, PROT_NONE, flags, -1, 0);
    bool ok = p == addr;
    if (p != MAP_FAILED && !ok)
        munmap(p, len); /* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
    pthread_mutex_lock(&win.lock);
    __atomic_store_n(&win.owner[slot], NULL, __ATOMIC_RELEASE);
    win.state[slot] = ok ? SLOT_FREE : SLOT_LOST;
    pthread_mutex_unlock(&win.lock);
}

struct vdso_loaded *loader_window_owner(uintptr_t ip)
{
    uintptr_t base = loader_window_base();

    if (!base || ip < base || ip >= base + WINDOW_BYTES)
        return NULL;
    return __atomic_load_n(&win.owner[(ip - base) / SLOT_BYTES], __ATOMIC_ACQUIRE);
}
