/*
 * The getrandom differential: the reference and a kernel's vDSO (this
 * kernel's own, copied out of this process, or --kernel IMAGE), each on
 * its own emulated data pages and its own emulated kernel, the two key
 * streams equal, driven through the same random call sequences: calls of
 * random lengths (0 to a few pages), flags (valid and not), opaque lengths
 * and state offsets (misaligned, straddling), with reseeds, the rng made
 * unready and ready again, states dropped (zeroed, as a fork or memory
 * pressure leaves a MAP_DROPPABLE page), re-entry (in_use set), and
 * reseeds racing the key fetch (the emulated syscall publishes a new
 * generation first, 1 to 3 times). After every call: the same result,
 * the same output bytes, the same 144-byte state, and the same trapped
 * syscall sequence (number, length, flags, result, which buffer). Prints
 * the sequences, calls and mismatches.
 *
 * Usage: test_loader_diff_rng [--kernel IMAGE] [--sequences N]
 * (default: this kernel's vDSO, 2000 sequences; SKIP when it has no getrandom)
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <vdsokit/loader.h>
#include <vdsokit/loader_trap.h>
#include <vdsokit/tk_rng.h>
#include <vdsokit/vgetrandom.h>

#define STATE_PAGES 2
#define OUT_BYTES   (4 * 4096 + 64)
#define MAX_TRAPS   8

static uint64_t rnd_state;

static uint64_t rnd(void)
{
    uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct side {
    const char *name;
    struct vdso_loaded *l;
    uint8_t *states; /* STATE_PAGES pages */
    uint8_t *out;
};

/* What one call did, comparable across the two sides. */
struct outcome {
    long ret;
    uint8_t state[sizeof(struct vgetrandom_state)];
    unsigned ntraps;
    struct {
        long nr, len, flags, ret;
        long where; /* the buffer argument: 0 the caller's, 1 the state's key, 2 other */
    } trap[MAX_TRAPS];
};

struct call {
    size_t off, len, opaque_len;
    unsigned flags;
    bool query;
};

static void run_call(struct side *s, const struct call *c, struct outcome *o)
{
    uint8_t *st = s->states + c->off;
    struct loader_trap_record r[MAX_TRAPS];

    memset(o, 0, sizeof *o);
    memset(s->out, 0xee, OUT_BYTES);
    uint64_t first = loader_trap_thread_count();
    if (c->query)
        o->ret = s->l->getrandom(NULL, 0, 0, s->out, VGETRANDOM_PARAMS_QUERY);
    else
        o->ret = s->l->getrandom(c->len ? s->out : NULL, c->len, c->flags, st, c->opaque_len);
    o->ntraps = (unsigned)(loader_trap_thread_count() - first);
    unsigned got = loader_trap_thread_since(first, r, MAX_TRAPS);
    for (unsigned i = 0; i < got; i++) {
        o->trap[i].nr = r[i].nr;
        o->trap[i].len = r[i].args[1];
        o->trap[i].flags = r[i].args[2];
        o->trap[i].ret = r[i].ret;
        o->trap[i].where = r[i].args[0] == (long)(uintptr_t)s->out      ? 0
                           : r[i].args[0] == (long)(uintptr_t)(st + 96) ? 1
                                                                        : 2;
    }
    if (c->off + sizeof o->state <= STATE_PAGES * 4096)
        memcpy(o->state, st, sizeof o->state);
}

static unsigned mismatches, calls;

static void compare(struct side *a, struct side *b, const struct call *c, unsigned seq,
                    unsigned step)
{
    struct outcome oa, ob;

    run_call(a, c, &oa);
    run_call(b, c, &ob);
    calls++;
    bool same = oa.ret == ob.ret && !memcmp(a->out, b->out, OUT_BYTES) &&
                !memcmp(oa.state, ob.state, sizeof oa.state) && oa.ntraps == ob.ntraps &&
                !memcmp(oa.trap, ob.trap, sizeof oa.trap);
    if (same)
        return;
    if (mismatches++ < 10)
        fprintf(stderr,
                "sequence %u step %u: len %zu flags %#x opaque %zu off %zu query %d:\n"
                "  %s: ret %ld traps %u (first nr %ld len %ld ret %ld)\n"
                "  %s: ret %ld traps %u (first nr %ld len %ld ret %ld)\n"
                "  output %s, state %s\n",
                seq, step, c->len, c->flags, c->opaque_len, c->off, c->query, a->name, oa.ret,
                oa.ntraps, oa.trap[0].nr, oa.trap[0].len, oa.trap[0].ret, b->name, ob.ret,
                ob.ntraps, ob.trap[0].nr, ob.trap[0].len, ob.trap[0].ret,
                memcmp(a->out, b->out, OUT_BYTES) ? "differs" : "same",
                memcmp(oa.state, ob.state, sizeof oa.state) ? "differs" : "same");
    if (mismatches <= 10)
        for (unsigned i = 0; i < sizeof oa.state; i++)
            if (oa.state[i] != ob.state[i])
                fprintf(stderr, "  state byte %u: %s %#x, %s %#x\n", i, a->name, oa.state[i],
                        b->name, ob.state[i]);
}

static size_t random_len(void)
{
    switch (rnd() % 4) {
    case 0:
        return rnd() % 8;
    case 1:
        return rnd() % 300;
    case 2:
        return 64 * (rnd() % 8) + 96 * (rnd() % 2) + rnd() % 3; /* around batch and block edges */
    default:
        return rnd() % (4 * 4096);
    }
}

static struct call random_call(size_t off)
{
    static const unsigned bad_flags[] = {8, 0x10, 0x100, 0x80000000u, 0xf};
    static const size_t bad_len[] = {0, 1, 143, 145, 4096, VGETRANDOM_PARAMS_QUERY};
    struct call c = {off, random_len(), sizeof(struct vgetrandom_state), 0, false};

    c.flags = rnd() % 10 ? (unsigned)(rnd() % 8) : bad_flags[rnd() % 5];
    if (rnd() % 20 == 0)
        c.opaque_len = bad_len[rnd() % 6];
    return c;
}

/* Both sides' emulated kernels take the same step. */
#define BOTH(a, b, op) \
    do {               \
        op((a)->l);    \
        op((b)->l);    \
    } while (0)

static void sequence(struct side *a, struct side *b, unsigned seq)
{
    /* Mostly a well-placed state; sometimes misaligned, sometimes straddling. */
    size_t off = rnd() % 4 ? 64 * (rnd() % 60) : 4096 - 144 + (size_t)(rnd() % 24) - 12;
    /* Bytes, not struct pointers: the state may be misaligned. */
    uint8_t *sa = a->states + off, *sb = b->states + off;
    const size_t in_use = offsetof(struct vgetrandom_state, in_use);
    uint64_t seed = rnd();

    memset(a->states, 0, STATE_PAGES * 4096);
    memset(b->states, 0, STATE_PAGES * 4096);
    tk_rng_stream_reset(a->l->tk, seed);
    tk_rng_stream_reset(b->l->tk, seed);
    unsigned steps = 10 + (unsigned)(rnd() % 30);
    for (unsigned step = 0; step < steps; step++) {
        unsigned op = (unsigned)(rnd() % 100);
        struct call c = random_call(off);
        if (op < 8) {
            tk_rng_bump(a->l->tk);
            tk_rng_bump(b->l->tk);
        } else if (op < 12) {
            bool ready = rnd() % 3 == 0 ? false : true;
            tk_rng_set_ready(a->l->tk, ready);
            tk_rng_set_ready(b->l->tk, ready);
        } else if (op < 17) {
            if (off + 144 <= 4096) {
                tk_rng_drop_state(sa, 144);
                tk_rng_drop_state(sb, 144);
            }
        } else if (op < 21) {
            unsigned n = 1 + (unsigned)(rnd() % 3);
            tk_rng_reseed_on_syscall(a->l->tk, n);
            tk_rng_reseed_on_syscall(b->l->tk, n);
            compare(a, b, &c, seq, step);
            tk_rng_reseed_on_syscall(a->l->tk, 0);
            tk_rng_reseed_on_syscall(b->l->tk, 0);
        } else if (op < 25) {
            if (off + 144 <= 4096) {
                /* Any non-zero byte: the kernel's bool test is byte-wide or not. */
                static const uint8_t marks[] = {1, 2, 0x80, 0xff};
                sa[in_use] = sb[in_use] = marks[rnd() % 4];
                compare(a, b, &c, seq, step);
                sa[in_use] = sb[in_use] = 0;
            }
        } else if (op < 28) {
            c.query = true;
            compare(a, b, &c, seq, step);
        } else {
            compare(a, b, &c, seq, step);
        }
    }
    tk_rng_set_ready(a->l->tk, true);
    tk_rng_set_ready(b->l->tk, true);
}

static void open_side(struct side *s, const char *name, const char *path, bool live,
                      const struct loader_options *opt)
{
    struct vdsokit_error err;
    int rc;

    s->name = name;
    if (path)
        rc = loader_load_file(&s->l, path, opt, &err);
    else if (live)
        rc = loader_load_live(&s->l, opt, &err);
    else
        rc = loader_load_ref(&s->l, opt, &err);
    if (rc != 0)
        SKIP("loading %s: %s", name, err.msg);
    s->states =
        mmap(NULL, STATE_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    s->out = malloc(OUT_BYTES);
    if (s->states == MAP_FAILED || !s->out)
        SKIP("out of memory");
}

int main(int argc, char **argv)
{
    const char *kern_path = NULL;
    unsigned long nseq = 2000;
    struct vdsokit_error err;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--kernel") && i + 1 < argc)
            kern_path = argv[++i];
        else if (!strcmp(argv[i], "--sequences") && i + 1 < argc)
            nseq = strtoul(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: %s [--kernel IMAGE] [--sequences N]\n", argv[0]);
            return 2;
        }
    }
    if (loader_trap_install(&err) != 0)
        SKIP("%s", err.msg);
    const struct tk_script s = {.counter = TK_COUNTER_PVCLOCK_MANUAL,
                                .mult = 1u << 24,
                                .shift = 24,
                                .realtime = {1700000000, 0},
                                .monotonic = {5000, 0}};
    struct loader_options opt = {.clock = LOADER_CLOCK_SCRIPTED, .script = &s};
    struct side kern, ref;
    open_side(&kern, "kernel", kern_path, !kern_path, &opt);
    if (!kern.l->getrandom)
        SKIP("the kernel image (%s) does not export __vdso_getrandom", kern.l->name);
    opt.linux_version = kern.l->layout_version;
    open_side(&ref, "ref", NULL, false, &opt);
    CHECK(ref.l->getrandom != NULL, "the reference for Linux %#x lacks getrandom",
          kern.l->layout_version);
    if (!ref.l->getrandom)
        return check_finish();
    for (unsigned seq = 0; seq < nseq; seq++) {
        rnd_state = 0x5eed0000ull + seq;
        sequence(&ref, &kern, seq);
    }
    printf("%lu sequences, %u calls, %u mismatches (reference vs %s, Linux %#x)\n", nseq, calls,
           mismatches, kern.l->name, kern.l->layout_version);
    CHECK(mismatches == 0, "%u of %u calls differ", mismatches, calls);
    CHECK(calls > nseq * 5, "only %u calls", calls);
    loader_unload(kern.l);
    loader_unload(ref.l);
    return check_finish();
}
