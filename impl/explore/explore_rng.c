/*
 * The explorer on getrandom (explore.h: explore_rng_run): one call of the
 * image's getrandom stepped load by load over its PROT_NONE rng data, a
 * reseed or an unready page injected before a chosen load (or a reseed
 * published by the emulated kernel during its trapped syscalls), and the
 * verdict of the getrandom model (rng_model.h) for the generation the
 * protocol lets the call see. The state is the caller's own memory and is
 * not stepped: a writer acts only through the rng page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdsokit/datapages_era.h>
#include <vdsokit/rng_model.h>
#include <vdsokit/tk_rng.h>
#include <vdsokit/vgetrandom.h>

#include "explore_internal.h"

/* The generation every run starts at (any nonzero value: 0 is never valid). */
#define START_GENERATION 0x5eedull

/* The start pages' rng data: START_GENERATION, ready (every layout's copy). */
static void start_rng(struct explore *x)
{
    struct vdso_rng_data *rng = datapages_rng(&x->l->dp);

    memcpy(x->l->dp.rw, x->start, EXPLORE_FILE_BYTES);
    __atomic_store_n(&rng->generation, START_GENERATION, __ATOMIC_RELEASE);
    __atomic_store_n(&rng->is_ready, 1, __ATOMIC_RELEASE);
    datapages_era_rng(&x->l->dp);
    memcpy(x->start, x->l->dp.rw, EXPLORE_FILE_BYTES);
}

/*
 * The rng data sits 16-byte aligned in every layout (at the start of its
 * own page, or at byte 640 of the time page): generation in the first 8
 * bytes, is_ready in the next.
 */
static int first_load(const struct explore_outcome *o, bool generation)
{
    for (unsigned i = 0; i < o->ntrace; i++)
        if (((o->trace[i].offset & 15) < 8) == generation)
            return (int)i;
    return -1;
}

static int check_args(const struct explore_rng_call *c, const struct explore_schedule *s,
                      unsigned reseeds, struct vdsokit_error *err)
{
    if (!c->state || (c->len && !c->buf))
        return vdsokit_fail(err, "explore_rng_run: a getrandom call with a state and a buffer");
    if (reseeds > 2 || (reseeds && s && s->nactions))
        return vdsokit_fail(err, "explore_rng_run: reseeds %u (0-2, and not with a schedule)",
                            reseeds);
    for (unsigned i = 0; s && i < s->nactions; i++)
        if (s->act[i].update != EXPLORE_RNG_BUMP && s->act[i].update != EXPLORE_RNG_UNREADY)
            return vdsokit_fail(err,
                                "schedule action %u: update %u is not an rng action "
                                "(%u: reseed, %u: unready)",
                                i, s->act[i].update, EXPLORE_RNG_BUMP, EXPLORE_RNG_UNREADY);
    return 0;
}

/* What the model says for the call: kernel k and state *st as it leaves them. */
struct expect {
    struct rng_model_kernel k;
    struct vgetrandom_state st;
    struct rng_model_trace t;
    long ret;
    unsigned superseded;
    uint64_t offset0; /* the key stream's position before the call */
};

/*
 * The generation the call may see: a bump before its first generation
 * load is its generation; a later one (or a reseed during a key fetch)
 * supersedes the attempt under way, which the re-check must notice.
 * is_ready is read once, at the start.
 */
static void expect(const struct explore_rng_call *c, const struct vgetrandom_state *st0,
                   unsigned reseeds, const struct explore_record *r,
                   const struct explore_outcome *o, uint64_t seed, uint64_t offset, uint8_t *out,
                   struct expect *e)
{
    int gen_load = first_load(o, true), ready_load = first_load(o, false);

    e->k = (struct rng_model_kernel){START_GENERATION, 1, seed, offset};
    e->offset0 = offset;
    e->superseded = 0;
    if (r->rng_landed[1] >= 0 && (ready_load < 0 || r->rng_landed[1] <= ready_load))
        e->k.is_ready = 0;
    if (r->rng_landed[0] >= 0 && (gen_load < 0 || r->rng_landed[0] <= gen_load))
        e->k.generation++;
    else if (r->rng_landed[0] >= 0)
        e->superseded = 1;
    if (reseeds) {
        struct rng_model_kernel k = e->k;
        e->st = *st0;
        rng_model_call(&e->st, (uintptr_t)c->state, sizeof e->st, &k, out, c->len, c->flags, &e->t);
        if (e->t.key_fetches)
            e->superseded = reseeds;
    }
    e->st = *st0;
    e->ret = rng_model_call_raced(&e->st, (uintptr_t)c->state, sizeof e->st, &e->k, out, c->len,
                                  c->flags, e->superseded, &e->t);
}

static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;

    while (i < n && a[i] == b[i])
        i++;
    return i;
}

static void judge(const struct explore_rng_call *c, const struct explore_record *r,
                  const struct expect *e, const uint8_t *out, uint64_t offset_after,
                  struct explore_outcome *o)
{
    size_t n = e->ret > 0 ? (size_t)e->ret : 0;
    unsigned want_traps = e->t.key_fetches + e->t.fallbacks;
    size_t at;

    o->verdict = EXPLORE_PASS;
    o->why[0] = 0;
    o->state = e->superseded;
    if (r->livelock || r->bad_fault) {
        o->verdict = r->livelock ? EXPLORE_LIVELOCK : EXPLORE_BAD_FAULT;
        snprintf(o->why, sizeof o->why, "%s",
                 r->livelock ? "the call did not return" : "a load from an unmapped data page");
    } else if (o->ret != e->ret || r->traps != want_traps || offset_after != e->k.offset) {
        o->verdict = EXPLORE_BAD_TRAP;
        snprintf(
            o->why, sizeof o->why,
            "returned %ld after %llu syscalls taking %llu key-stream bytes; the model "
            "(generation %#llx, ready %u, %u attempt(s) superseded) returns %ld after %u "
            "(%u key fetches, %u fallbacks) taking %llu",
            o->ret, (unsigned long long)r->traps, (unsigned long long)(offset_after - e->offset0),
            (unsigned long long)e->k.generation, e->k.is_ready, e->superseded, e->ret, want_traps,
            e->t.key_fetches, e->t.fallbacks, (unsigned long long)(e->k.offset - e->offset0));
    } else if ((at = first_diff(c->buf, out, n)) < n) {
        o->verdict = EXPLORE_TORN;
        snprintf(o->why, sizeof o->why,
                 "output byte %zu of %zu is %#x, the model's %#x (generation %#llx, %u "
                 "attempt(s) superseded): bytes of a key the protocol does not allow",
                 at, n, ((const uint8_t *)c->buf)[at], out[at], (unsigned long long)e->k.generation,
                 e->superseded);
    } else if ((at = first_diff(c->state, (const uint8_t *)&e->st, sizeof e->st)) < sizeof e->st) {
        o->verdict = EXPLORE_TORN;
        snprintf(o->why, sizeof o->why,
                 "the state afterwards differs from the model's at byte %zu (generation %#llx "
                 "vs %#llx, pos %u vs %u)",
                 at, (unsigned long long)((const struct vgetrandom_state *)c->state)->generation,
                 (unsigned long long)e->st.generation,
                 (unsigned)((const struct vgetrandom_state *)c->state)->pos, (unsigned)e->st.pos);
    }
}

int explore_rng_run(struct explore *x, const struct explore_rng_call *c,
                    const struct explore_schedule *s, unsigned reseeds, struct explore_outcome *o,
                    struct vdsokit_error *err)
{
    static struct explore_record r;
    struct vgetrandom_state st0;
    uint64_t seed, offset, offset_after, ignored;
    struct expect e;

    if (check_args(c, s, reseeds, err))
        return -1;
    uint8_t *out = malloc(c->len ? c->len : 1);
    if (!out)
        return vdsokit_fail(err, "explore_rng_run: out of memory");
    start_rng(x);
    memcpy(&st0, c->state, sizeof st0);
    tk_rng_stream_position(x->l->tk, &seed, &offset);
    tk_rng_reseed_on_syscall(x->l->tk, reseeds);
    int rc = explore_step_rng(x, c, s, o, &r, err);
    tk_rng_reseed_on_syscall(x->l->tk, 0);
    tk_rng_stream_position(x->l->tk, &ignored, &offset_after);
    if (rc == 0) {
        o->traps = r.traps;
        expect(c, &st0, reseeds, &r, o, seed, offset, out, &e);
        judge(c, &r, &e, out, offset_after, o);
    }
    free(out);
    return rc;
}
