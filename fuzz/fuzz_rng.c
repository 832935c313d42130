/*
 * fuzz_rng: getrandom state transitions on two images at once -- the
 * reference image and this process's own kernel vDSO, each loaded once on
 * its own emulated data pages under the hermetic trap, their key streams
 * reset to the same seed for every input -- and on the model
 * (rng_model.h). The input: 8 bytes of stream seed, then operations:
 * calls (length up to 16 KiB, any flags, right or wrong state lengths),
 * reseeds, the rng made unready or ready, the state dropped (zeroed),
 * calls on a state in use, calls during which the key fetch races 1-3
 * reseeds, params queries, and moves of the state anywhere in two pages
 * (straddling too). Invariants, after every call:
 *  - both images return the same value, write the same bytes, leave the
 *    same 144-byte state and make the same number of syscalls;
 *  - where no reseed races the call, the reference equals the model in
 *    all four.
 * Without a vDSO getrandom on this host every input is accepted unrun.
 */
#include "fuzz_common.h"

#include <string.h>
#include <sys/mman.h>

#include <vdsokit/loader.h>
#include <vdsokit/loader_trap.h>
#include <vdsokit/rng_model.h>
#include <vdsokit/tk_rng.h>
#include <vdsokit/vgetrandom.h>

#define OUT_BYTES (16384 + 64)
#define S         sizeof(struct vgetrandom_state)

struct side {
    struct vdso_loaded *l;
    uint8_t *states; /* two pages */
    uint8_t out[OUT_BYTES];
    long ret;
    unsigned long calls;
};

static struct side sides[2];
static bool ready_to_run;

static struct tk_script script(void)
{
    const struct tk_script s = {.counter = TK_COUNTER_PVCLOCK_MANUAL,
                                .mult = 1u << 24,
                                .shift = 24,
                                .realtime = {1700000000, 0},
                                .monotonic = {5000, 0}};

    return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct tk_script s = script();
    struct loader_options opt = {.clock = LOADER_CLOCK_SCRIPTED, .script = &s};
    struct vdsokit_error err;
    (void)argc, (void)argv;

    if (loader_trap_install(&err) != 0 || loader_load_live(&sides[1].l, &opt, &err) != 0 ||
        !sides[1].l->getrandom)
        return 0;
    opt.linux_version = sides[1].l->layout_version;
    if (loader_load_ref(&sides[0].l, &opt, &err) != 0 || !sides[0].l->getrandom)
        return 0;
    for (int i = 0; i < 2; i++) {
        sides[i].states =
            mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (sides[i].states == MAP_FAILED)
            return 0;
    }
    ready_to_run = true;
    return 0;
}

struct call {
    size_t off, len, opaque_len;
    unsigned flags;
    bool query;
};

static void run(struct side *s, const struct call *c)
{
    uint64_t first = loader_trap_thread_count();

    memset(s->out, 0xee, sizeof s->out);
    if (c->query)
        s->ret = s->l->getrandom(NULL, 0, 0, s->out, VGETRANDOM_PARAMS_QUERY);
    else
        s->ret = s->l->getrandom(c->len ? s->out : NULL, c->len, c->flags, s->states + c->off,
                                 c->opaque_len);
    s->calls = loader_trap_thread_count() - first;
}

static void kernel_of(struct vdso_loaded *l, struct rng_model_kernel *k)
{
    const struct vdso_rng_data *rng = datapages_rng(&l->dp);

    k->generation = __atomic_load_n(&rng->generation, __ATOMIC_ACQUIRE);
    k->is_ready = __atomic_load_n(&rng->is_ready, __ATOMIC_ACQUIRE);
    tk_rng_stream_position(l->tk, &k->seed, &k->offset);
}

static void compare(const struct call *c, unsigned races, size_t op)
{
    static uint8_t want[OUT_BYTES];
    struct vgetrandom_state model;
    struct rng_model_kernel k;
    struct rng_model_trace t;
    bool in_pages = c->off + S <= 2 * 4096;

    if (in_pages)
        memcpy(&model, sides[0].states + c->off, S);
    kernel_of(sides[0].l, &k);
    for (int i = 0; i < 2; i++)
        tk_rng_reseed_on_syscall(sides[i].l->tk, races);
    run(&sides[0], c);
    run(&sides[1], c);
    for (int i = 0; i < 2; i++)
        tk_rng_reseed_on_syscall(sides[i].l->tk, 0);
    FUZZ_ASSERT(sides[0].ret == sides[1].ret && sides[0].calls == sides[1].calls,
                "op %zu: ref returned %ld with %lu syscalls, kernel %ld with %lu", op, sides[0].ret,
                sides[0].calls, sides[1].ret, sides[1].calls);
    FUZZ_ASSERT(!memcmp(sides[0].out, sides[1].out, OUT_BYTES), "op %zu: outputs differ (len %zu)",
                op, c->len);
    FUZZ_ASSERT(!in_pages || !memcmp(sides[0].states + c->off, sides[1].states + c->off, S),
                "op %zu: states differ", op);
    if (races || c->query || !in_pages)
        return;
    memset(want, 0xee, sizeof want);
    long m = rng_model_call(&model, (uintptr_t)(sides[0].states + c->off), c->opaque_len, &k,
                            c->len ? want : NULL, c->len, c->flags, &t);
    FUZZ_ASSERT(m == sides[0].ret && t.key_fetches + t.fallbacks == sides[0].calls,
                "op %zu: ref %ld with %lu syscalls, model %ld with %u + %u", op, sides[0].ret,
                sides[0].calls, m, t.key_fetches, t.fallbacks);
    FUZZ_ASSERT(!memcmp(want, sides[0].out, OUT_BYTES) &&
                    (m == -14 || !memcmp(&model, sides[0].states + c->off, S)),
                "op %zu: output or state differs from the model", op);
}

static const size_t opaque_lens[4] = {S, S, S, 0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready_to_run || size < 8)
        return 0;
    const uint8_t *in = fuzz_input(data, size);
    uint64_t seed;
    size_t off = 64, at = 8;

    memcpy(&seed, in, 8);
    for (int i = 0; i < 2; i++) {
        memset(sides[i].states, 0, 2 * 4096);
        tk_rng_stream_reset(sides[i].l->tk, seed);
        tk_rng_set_ready(sides[i].l->tk, true);
    }
    for (size_t op = 0; at + 4 <= size && op < 64; op++, at += 4) {
        const uint8_t *a = in + at;
        struct call c = {off, (size_t)(a[1] | a[2] << 8) % 16385, opaque_lens[a[3] >> 6],
                         a[3] & 0x3f ? a[3] & 7 : 0x100, false};
        if (c.opaque_len == 0)
            c.opaque_len = (a[3] & 1) ? S + 1 : VGETRANDOM_PARAMS_QUERY;
        switch (a[0] % 8) {
        case 0:
            compare(&c, 0, op);
            break;
        case 1:
            for (int i = 0; i < 2; i++)
                tk_rng_bump(sides[i].l->tk);
            break;
        case 2:
            for (int i = 0; i < 2; i++)
                tk_rng_set_ready(sides[i].l->tk, a[1] & 1);
            break;
        case 3:
            if (off + S <= 2 * 4096)
                for (int i = 0; i < 2; i++)
                    tk_rng_drop_state(sides[i].states + off, S);
            break;
        case 4:
            if (off + S <= 2 * 4096) {
                for (int i = 0; i < 2; i++)
                    sides[i].states[off + offsetof(struct vgetrandom_state, in_use)] = 1;
                compare(&c, 0, op);
                for (int i = 0; i < 2; i++)
                    sides[i].states[off + offsetof(struct vgetrandom_state, in_use)] = 0;
            }
            break;
        case 5:
            compare(&c, 1 + a[0] / 8 % 3, op);
            break;
        case 6:
            c.query = true;
            compare(&c, 0, op);
            break;
        default:
            off = (size_t)(a[1] | a[2] << 8) % (2 * 4096 - S + 1);
            break;
        }
    }
    fuzz_input_done(in, data);
    return 0;
}
