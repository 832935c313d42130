/*
 * The reference getrandom on the emulated kernel (hermetic trap): its
 * ChaCha20 block function against a plain one of this test's own (RFC 8439
 * vector, random keys, every split of 128 blocks, the counter carrying into
 * its high word, the output overwriting the key), then the whole call of
 * every era variant that has it, byte for byte and state for state against
 * the model (rng_model.h): the params query, every length up to a few
 * pages, all flag combinations, wrong lengths, straddling and misaligned
 * states, an rng not ready, re-entry (in_use), reseeds and dropped states,
 * with the syscalls each call makes counted by the trap; the clamp of a
 * huge request (with `--huge`: 2 GiB of output, label slow); and the
 * stack below a call scanned for key bytes (`--stack IMAGE`: that scan
 * alone, on an image file).
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vdsokit/loader.h>
#include <vdsokit/loader_trap.h>
#include <vdsokit/rng_model.h>
#include <vdsokit/tk_rng.h>

#include "vdso_chacha.h"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* ---- the block function ---- */

static void test_chacha(void)
{
    /* RFC 8439 A.1 test vector #1: zero key, zero nonce, counter 0. */
    static const uint8_t want0[16] = {0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90,
                                      0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd, 0x28};
    uint32_t zero[8] = {0}, ctr[2] = {0, 0};
    uint8_t b[64], c[64];

    /* The model's plain C block (rng_model.c) is the oracle below. */
    rng_model_chacha20_block(zero, 0, b);
    vdso_chacha20_blocks(c, zero, ctr, 1);
    CHECK(!memcmp(b, want0, 16) && !memcmp(c, want0, 16),
          "RFC 8439 A.1 #1 mismatch (model %02x, vdso %02x)", b[0], c[0]);
    CHECK(ctr[0] == 1 && ctr[1] == 0, "counter after one block: %u %u", ctr[0], ctr[1]);

    static uint8_t want[128 * 64], got[128 * 64];
    unsigned mismatches = 0;
    for (int trial = 0; trial < 4; trial++) {
        uint32_t key[8];
        for (int i = 0; i < 8; i++)
            key[i] = (uint32_t)rnd();
        /* Trial 3 starts just below 2^32: the carry into the high word. */
        uint64_t start = trial == 3 ? 0xfffffffbull + ((uint64_t)7 << 32) : rnd() >> 8;
        for (int i = 0; i < 128; i++)
            rng_model_chacha20_block(key, start + (uint64_t)i, want + 64 * i);
        for (size_t split = 0; split <= 128; split++) {
            uint32_t cnt[2] = {(uint32_t)start, (uint32_t)(start >> 32)};
            memset(got, 0, sizeof got);
            vdso_chacha20_blocks(got, key, cnt, split);
            vdso_chacha20_blocks(got + 64 * split, key, cnt, 128 - split);
            uint64_t end = (uint64_t)cnt[1] << 32 | cnt[0];
            mismatches += memcmp(got, want, sizeof got) != 0 || end != start + 128;
        }
        /* Fast key erasure: two blocks written over a buffer whose tail is the key. */
        uint8_t bk[128];
        uint32_t cnt[2] = {(uint32_t)start, (uint32_t)(start >> 32)};
        memcpy(bk + 96, key, 32);
        vdso_chacha20_blocks(bk, (const uint32_t *)(void *)(bk + 96), cnt, 2);
        CHECK(!memcmp(bk, want, 128), "blocks over their own key differ (trial %d)", trial);
    }
    CHECK(mismatches == 0, "%u of 516 splits differ from the plain ChaCha20", mismatches);
}

/* ---- the call, on the loaded reference ---- */

#define TRAPS(expr)                                    \
    ({                                                 \
        uint64_t before_ = loader_trap_thread_count(); \
        expr;                                          \
        loader_trap_thread_count() - before_;          \
    })

struct fixture {
    struct vdso_loaded *l;
    struct rng_model_kernel k;
    uint8_t *page; /* two pages: states anywhere, straddling too */
};

static void kernel_sync(struct fixture *f)
{
    const struct vdso_rng_data *rng = datapages_rng(&f->l->dp);
    uint64_t seed;

    f->k.generation = __atomic_load_n(&rng->generation, __ATOMIC_ACQUIRE);
    f->k.is_ready = __atomic_load_n(&rng->is_ready, __ATOMIC_ACQUIRE);
    tk_rng_stream_position(f->l->tk, &seed, &f->k.offset);
    f->k.seed = seed;
}

/* One call through the image and the model; everything must agree. */
static void call(struct fixture *f, size_t off, size_t len, unsigned flags, size_t opaque_len,
                 const char *what)
{
    static uint8_t got[5 * 4096 + 64], want[sizeof got];
    struct vgetrandom_state *st = (struct vgetrandom_state *)(void *)(f->page + off), model;
    struct rng_model_trace t;

    kernel_sync(f);
    memcpy(&model, st, sizeof model);
    memset(got, 0xee, sizeof got);
    memset(want, 0xee, sizeof want);
    long r_img = 0;
    uint64_t traps = TRAPS(r_img = f->l->getrandom(len ? got : NULL, len, flags, st, opaque_len));
    long r_mod =
        rng_model_call(&model, (uintptr_t)st, opaque_len, &f->k, len ? want : NULL, len, flags, &t);
    CHECK(r_img == r_mod, "%s: len %zu flags %#x: returned %ld, model %ld", what, len, flags, r_img,
          r_mod);
    CHECK(!memcmp(got, want, len + 64), "%s: len %zu flags %#x: output differs from the model",
          what, len, flags);
    CHECK(r_img == -EFAULT || !memcmp(st, &model, sizeof model),
          "%s: len %zu: state differs from the model (gen %llu/%llu pos %u/%u in_use %d/%d)", what,
          len, (unsigned long long)st->generation, (unsigned long long)model.generation, st->pos,
          model.pos, st->in_use, model.in_use);
    CHECK(traps == t.key_fetches + t.fallbacks, "%s: len %zu: %llu syscalls, model %u + %u", what,
          len, (unsigned long long)traps, t.key_fetches, t.fallbacks);
}

static void test_calls(struct fixture *f, const char *era)
{
    const size_t good = 4096 - 144 - 8, S = sizeof(struct vgetrandom_state);
    struct vgetrandom_opaque_params p;

    memset(&p, 0xaa, sizeof p);
    CHECK(f->l->getrandom(NULL, 0, 0, &p, VGETRANDOM_PARAMS_QUERY) == 0, "%s: params", era);
    CHECK(p.size_of_opaque_state == 144 && p.mmap_prot == 3 && p.mmap_flags == 0x28 &&
              p.reserved[0] == 0 && p.reserved[12] == 0,
          "%s: params {%u, %#x, %#x}", era, p.size_of_opaque_state, p.mmap_prot, p.mmap_flags);
    /* A params query needs all four conditions; else it is a call. */
    call(f, good, 0, 1, VGETRANDOM_PARAMS_QUERY, "not a query (flags)");
    memset(f->page, 0, 2 * 4096);
    for (size_t len = 0; len <= 300; len++)
        call(f, good, len, 0, S, "lengths");
    const size_t big[] = {4095, 4096, 4097, 3 * 4096 + 5, 5 * 4096};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        call(f, good, big[i], 0, S, "pages");
    for (unsigned flags = 0; flags < 16; flags++)
        call(f, good, 37, flags, S, "flags");
    call(f, good, 37, 0x100, S, "unknown flag");
    const size_t lens[] = {0, 1, 143, 145, 288, SIZE_MAX};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        call(f, good, 40, 0, lens[i], "opaque length");
    /* Every page offset class: straddling ones are -EFAULT, misaligned ones work. */
    for (size_t off = 4096 - S - 9; off <= 4096 - S + 9; off++)
        call(f, off, 70, 0, S, "offset");
    call(f, 4096 + 1, 70, 0, S, "offset 4097");
    /* Re-entry: a state in use goes to the syscall, untouched. */
    struct vgetrandom_state *st = (struct vgetrandom_state *)(void *)(f->page + good);
    st->in_use = 1;
    call(f, good, 50, 0, S, "in_use");
    call(f, good, 0, 0, S, "in_use len 0");
    st->in_use = 0;
    /* A reseed: the next call fetches a key; then steady state again. */
    tk_rng_bump(f->l->tk);
    call(f, good, 50, 0, S, "after reseed");
    call(f, good, 50, 0, S, "steady");
    /* A dropped (or fork-wiped) state: generation 0, a new key. */
    tk_rng_drop_state(st, S);
    call(f, good, 50, 0, S, "dropped");
    tk_rng_set_ready(f->l->tk, false);
    call(f, good, 50, 0, S, "not ready");
    call(f, good, 0, 0, S, "not ready len 0");
    tk_rng_set_ready(f->l->tk, true);
    for (int i = 0; i < 300; i++) {
        if (rnd() % 16 == 0)
            tk_rng_bump(f->l->tk);
        if (rnd() % 32 == 0)
            tk_rng_drop_state(st, S);
        call(f, good, rnd() % (rnd() % 2 ? 200 : 3 * 4096), (unsigned)rnd() % 8, S, "random");
    }
}

/* ---- the stack below a call ---- */

/*
 * The stack below this function's frame: painted and scanned inline, with
 * no call in between that could leave a frame of its own there (so the
 * test works the same with the sanitizers' fake stacks).
 */
#define SCAN_BYTES 32768

typedef uint64_t u64_unaligned __attribute__((aligned(1), may_alias));

static inline __attribute__((always_inline)) uintptr_t current_sp(void)
{
    uintptr_t sp;

    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return sp;
}

static inline __attribute__((always_inline)) void paint_below(uintptr_t sp)
{
    uintptr_t at = sp - SCAN_BYTES;
    size_t n = SCAN_BYTES - 256;

    __asm__ volatile("rep stosb" : "+D"(at), "+c"(n) : "a"(0xa5) : "memory");
}

/* How many 8-byte pieces of key are in the stack below sp. */
static inline __attribute__((always_inline)) unsigned count_below(uintptr_t sp,
                                                                  const uint32_t key[8])
{
    const volatile uint8_t *lo = (const uint8_t *)(sp - SCAN_BYTES);
    unsigned found = 0;

    for (int piece = 0; piece < 4; piece++) {
        uint64_t want = *(const u64_unaligned *)(const void *)((const uint8_t *)key + 8 * piece);
        for (size_t i = 0; i + 8 <= SCAN_BYTES; i++)
            if (*(const volatile u64_unaligned *)(lo + i) == want) {
                found++;
                break;
            }
    }
    return found;
}

static __attribute__((noinline)) void test_stack(struct fixture *f)
{
    struct vgetrandom_state *st = (struct vgetrandom_state *)(void *)f->page;
    uint8_t out[300];
    uint32_t old_key[8], new_key[8];

    memset(st, 0, sizeof *st);
    CHECK(f->l->getrandom(out, 10, 0, st, sizeof *st) == 10, "first call");
    memcpy(old_key, st->key, sizeof old_key);
    uintptr_t sp = current_sp();
    /* The positive control: the scan sees a key planted below. */
    paint_below(sp);
    *(volatile u64_unaligned *)(sp - 1000) = *(const u64_unaligned *)(const void *)old_key;
    CHECK(count_below(sp, old_key) == 1, "the stack scan does not find a planted key");
    paint_below(sp);
    uint64_t before = loader_trap_thread_count();
    long r = f->l->getrandom(out, sizeof out, 0, st, sizeof *st);
    unsigned old_found = count_below(sp, old_key);
    uint64_t traps = loader_trap_thread_count() - before;
    memcpy(new_key, st->key, sizeof new_key);
    CHECK(r == sizeof out && traps == 0 && memcmp(old_key, new_key, 32) != 0,
          "the call did not refill (%llu traps)", (unsigned long long)traps);
    CHECK(old_found == 0, "the old key is on the stack below the call (%u pieces)", old_found);
    CHECK(count_below(sp, new_key) == 0, "the new key is on the stack below the call");
}

/* ---- the clamp ---- */

static void test_huge(struct fixture *f)
{
    size_t len = VGETRANDOM_MAX_COUNT + 8192;
    uint8_t *buf =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    struct vgetrandom_state *st = (struct vgetrandom_state *)(void *)f->page;

    CHECK(buf != MAP_FAILED, "mmap of %zu bytes: %s", len, strerror(errno));
    if (buf == MAP_FAILED)
        return;
    long r = f->l->getrandom(buf, len, 0, st, sizeof *st);
    CHECK(r == (long)VGETRANDOM_MAX_COUNT, "huge request returned %ld", r);
    CHECK(buf[VGETRANDOM_MAX_COUNT] == 0 &&
              buf[VGETRANDOM_MAX_COUNT - 1] | buf[VGETRANDOM_MAX_COUNT - 2],
          "bytes past the clamp written or the last ones not");
    munmap(buf, len);
}

static bool run_huge; /* --huge: the 2 GiB clamp (native reference only) */

static void run_era(uint32_t version, const char *era, bool huge)
{
    const struct tk_script s = {.counter = TK_COUNTER_PVCLOCK_MANUAL,
                                .mult = 1u << 24,
                                .shift = 24,
                                .realtime = {1700000000, 0},
                                .monotonic = {5000, 0}};

    const struct loader_options opt = {
        .clock = LOADER_CLOCK_SCRIPTED, .script = &s, .linux_version = version};
    struct fixture f = {0};
    struct vdsokit_error err;

    CHECK(loader_load_ref(&f.l, &opt, &err) == 0, "%s: %s", era, err.msg);
    if (!f.l)
        return;
    if (version && version < 0x060b00) {
        CHECK(f.l->getrandom == NULL, "%s exports getrandom", era);
        loader_unload(f.l);
        return;
    }
    CHECK(f.l->getrandom != NULL, "%s lacks getrandom", era);
    f.page = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (f.l->getrandom && f.page != MAP_FAILED) {
        tk_rng_stream_reset(f.l->tk, version + 77);
        test_calls(&f, era);
        /* Inside a time namespace the rng data is found as well (before 6.15 it moves). */
        CHECK(loader_set_layout(f.l, LOADER_LAYOUT_TIMENS, &err) == 0, "%s: %s", era, err.msg);
        call(&f, 64, 100, 0, sizeof(struct vgetrandom_state), "timens");
        call(&f, 64, 100, 0, sizeof(struct vgetrandom_state), "timens steady");
        loader_set_layout(f.l, LOADER_LAYOUT_ROOT, &err);
        test_stack(&f);
        if (huge && run_huge)
            test_huge(&f);
    }
    munmap(f.page, 2 * 4096);
    loader_unload(f.l);
}

/* --stack IMAGE: only the stack scan, on an image file (a mutant must fail it). */
static int stack_only(const char *path)
{
    const struct loader_options opt = {.clock = LOADER_CLOCK_HOST};
    struct fixture f = {0};
    struct vdsokit_error err;

    CHECK(loader_load_file(&f.l, path, &opt, &err) == 0, "%s", err.msg);
    f.page = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (f.l && f.l->getrandom && f.page != MAP_FAILED)
        test_stack(&f);
    CHECK(f.l && f.l->getrandom, "%s: no getrandom", path);
    loader_unload(f.l);
    return check_finish();
}

int main(int argc, char **argv)
{
    struct vdsokit_error err;

    if (loader_trap_install(&err) != 0)
        SKIP("%s", err.msg);
    if (argc == 3 && !strcmp(argv[1], "--stack"))
        return stack_only(argv[2]);
    run_huge = argc == 2 && !strcmp(argv[1], "--huge");
    test_chacha();
    run_era(0, "ref", true);
    const uint32_t eras[] = {0x060900, 0x060c00, 0x060e00, 0x061000};
    for (size_t i = 0; i < sizeof eras / sizeof eras[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "ref@%u.%u", eras[i] >> 16, (eras[i] >> 8) & 0xff);
        run_era(eras[i], name, false);
    }
    return check_finish();
}
