/*
 * The stepping engine: one call of the image with its readable data pages
 * PROT_NONE. Each load faults; the SIGSEGV handler records it, applies the
 * stores the schedule puts before it (and the rest of every update the
 * schedule touched, EXPLORE_REST_AFTER loads after its last action), then
 * performs the load itself if it decodes it (a mov, movzx, movsx, movsxd,
 * or a sub, cmp or test with a memory source: the value comes from the
 * writer's mapping, the register or the flags go into the interrupted
 * context, RIP skips the instruction: one signal, no mprotect), or makes
 * the page readable and sets the trap flag, and the SIGTRAP that follows
 * the one instruction protects the page again. A load from a page that is
 * not mapped at all, or a call still running after EXPLORE_STEP_BUDGET
 * loads, leaves the call by siglongjmp (the image's code holds no state of
 * ours). Faults outside the data pages go to the handler that was
 * installed before.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <vdsokit/counter.h>
#include <vdsokit/datapages_era.h>
#include <vdsokit/vgetrandom.h>

#include "explore_internal.h"

#define TRAP_FLAG 0x100

struct step {
    struct explore *x;
    const struct explore_schedule *s;
    struct explore_outcome *o;
    struct explore_record *r;
    uint8_t *base;
    unsigned n;       /* loads so far */
    unsigned rest_at; /* the load before which every touched update completes */
    unsigned touched; /* updates the schedule names (bit mask) */
    unsigned open_pages;
    bool stepping;
    sigjmp_buf env;
};

static struct step *cur; /* atomic: read by the handlers */
static struct sigaction old_segv, old_trap;

static void store(const struct explore *x, const struct explore_store *st)
{
    uint8_t *at = x->l->dp.rw + st->file_page * EXPLORE_PAGE + st->offset;

    if (st->size == 8)
        __atomic_store_n((uint64_t *)at, st->value, __ATOMIC_RELAXED);
    else
        __atomic_store_n((uint32_t *)at, (uint32_t)st->value, __ATOMIC_RELAXED);
}

/* Apply update u's stores up to `to`, after completing the update it requires. */
static void apply_upto(struct step *c, unsigned u, unsigned to)
{
    struct explore *x = c->x;
    struct explore_record *r = c->r;
    unsigned req = x->requires[u];

    if (req != EXPLORE_NO_REQUIRES)
        apply_upto(c, req, x->upd[req].nstores);
    if (to > x->upd[u].nstores)
        to = x->upd[u].nstores;
    for (unsigned i = r->applied[u]; i < to; i++) {
        r->store_tsc[u][i] = counter_rdtsc();
        store(x, &x->upd[u].stores[i]);
    }
    if (to > r->applied[u])
        r->applied[u] = to;
}

/* A reseed (the generation + 1, store-release as the kernel publishes it)
 * or the rng made unready, on the writer's mapping and the era's copy. */
static void rng_action(struct step *c, unsigned what)
{
    struct vdso_datapages *dp = &c->x->l->dp;
    struct vdso_rng_data *rng = datapages_rng(dp);

    if (what == EXPLORE_RNG_BUMP) {
        __atomic_store_n(&rng->generation, __atomic_load_n(&rng->generation, __ATOMIC_RELAXED) + 1,
                         __ATOMIC_RELEASE);
        c->r->rng_landed[0] = (int)c->n;
    } else {
        __atomic_store_n(&rng->is_ready, 0, __ATOMIC_RELEASE);
        c->r->rng_landed[1] = (int)c->n;
    }
    datapages_era_rng(dp);
}

static void apply_due(struct step *c)
{
    for (unsigned i = 0; c->s && i < c->s->nactions; i++) {
        const struct explore_action *a = &c->s->act[i];
        if (a->at == c->n && a->update < c->x->nupdates)
            apply_upto(c, a->update, a->to);
        else if (a->at == c->n &&
                 (a->update == EXPLORE_RNG_BUMP || a->update == EXPLORE_RNG_UNREADY))
            rng_action(c, a->update);
    }
    if (c->n == c->rest_at)
        for (unsigned u = 0; u < c->x->nupdates; u++)
            if (c->touched & (1u << u))
                apply_upto(c, u, c->x->upd[u].nstores);
}

/*
 * A load of a seq word: the state it shows is the one whose even value the
 * word holds now (an odd value: the one before the update in progress).
 */
static void seq_state(struct step *c, struct explore_access *a)
{
    const struct explore *x = c->x;

    a->seq_word = false;
    for (unsigned u = 0; u < x->nupdates; u++) {
        const struct explore_update *up = &x->upd[u];
        if (up->kind != EXPLORE_UPDATE_TIME)
            continue;
        for (unsigned k = 0; k < up->begin_end; k++) {
            const struct explore_store *st = &up->stores[k];
            if (!explore_hits(x, a, st))
                continue;
            uint32_t now = __atomic_load_n(
                (const uint32_t *)(x->l->dp.rw + st->file_page * EXPLORE_PAGE + st->offset),
                __ATOMIC_RELAXED);
            if (!a->seq_word)
                a->published = 0;
            a->seq_word = true;
            c->r->seq_store[a->index] = (uint16_t)k;
            if (now == (uint32_t)st->value + 1)
                a->published = x->publishes[u];
            else if (now == (uint32_t)st->value)
                a->published = (uint8_t)(x->publishes[u] - 1);
        }
    }
}

static void record(struct step *c, unsigned rp, uintptr_t addr, const greg_t *g)
{
    struct explore *x = c->x;
    struct explore_access *a = &c->o->trace[c->n];
    uint8_t open = 0, published = 0;

    for (unsigned u = 0; u < x->nupdates; u++) {
        unsigned n = c->r->applied[u];
        if (n && n < x->upd[u].nstores)
            open |= (uint8_t)(1u << u);
        if (x->upd[u].kind == EXPLORE_UPDATE_TIME && n == x->upd[u].nstores)
            published++;
    }
    a->index = c->n;
    a->reader_page = (uint8_t)rp;
    a->offset = (uint16_t)(addr & (EXPLORE_PAGE - 1));
    a->size = explore_operand_size((const uint8_t *)g[REG_RIP]);
    a->rip = (uint64_t)g[REG_RIP] - (uint64_t)(uintptr_t)x->l->text;
    a->published = published;
    seq_state(c, a);
    c->r->open[c->n] = open;
    c->o->ntrace = ++c->n;
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    struct step *c = __atomic_load_n(&cur, __ATOMIC_RELAXED);
    uintptr_t addr = (uintptr_t)si->si_addr;
    greg_t *g = ((ucontext_t *)ucv)->uc_mcontext.gregs;
    (void)sig;

    if (!c || addr < (uintptr_t)c->base || addr >= (uintptr_t)c->base + 6 * EXPLORE_PAGE) {
        sigaction(SIGSEGV, &old_segv, NULL); /* not ours: the fault repeats under it */
        return;
    }
    unsigned rp = (unsigned)((addr - (uintptr_t)c->base) / EXPLORE_PAGE);
    if (!c->x->readable[rp]) {
        c->r->bad_fault = true;
        siglongjmp(c->env, 1);
    }
    if (c->n >= EXPLORE_STEP_BUDGET) {
        c->r->livelock = true;
        siglongjmp(c->env, 1);
    }
    apply_due(c);
    record(c, rp, addr, g);
    /* A plain load is done here (the page stays protected): half the
     * signals and no mprotect; any other instruction is stepped. */
    unsigned off = (unsigned)(addr & (EXPLORE_PAGE - 1));
    if (!c->stepping &&
        explore_perform_load(c->x, g, c->x->reader_map[rp], off, &c->o->trace[c->n - 1].size))
        return;
    mprotect(c->base + rp * EXPLORE_PAGE, EXPLORE_PAGE, PROT_READ);
    c->open_pages |= 1u << rp;
    c->stepping = true;
    g[REG_EFL] |= TRAP_FLAG;
}

static void protect_open(struct step *c)
{
    for (unsigned rp = 0; rp < VDSO_DATA_PAGES; rp++)
        if (c->open_pages & (1u << rp))
            mprotect(c->base + rp * EXPLORE_PAGE, EXPLORE_PAGE, PROT_NONE);
    c->open_pages = 0;
}

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
    struct step *c = __atomic_load_n(&cur, __ATOMIC_RELAXED);
    greg_t *g = ((ucontext_t *)ucv)->uc_mcontext.gregs;

    if (!c || !c->stepping) {
        sigaction(SIGTRAP, &old_trap, NULL);
        raise(sig); /* not ours: deliver it as before */
        (void)si;
        return;
    }
    protect_open(c);
    c->stepping = false;
    g[REG_EFL] &= ~(greg_t)TRAP_FLAG;
}

static void set_protection(const struct explore *x, int prot)
{
    for (unsigned rp = 0; rp < VDSO_DATA_PAGES; rp++)
        if (x->readable[rp])
            mprotect(x->l->base + rp * EXPLORE_PAGE, EXPLORE_PAGE, prot);
}

static void install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    /* SA_NODEFER: the mask stays as it was, so leaving a handler by
     * siglongjmp needs no saved mask (one syscall less per run). */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sa.sa_sigaction = on_segv;
    sigaction(SIGSEGV, &sa, &old_segv);
    sa.sa_sigaction = on_trap;
    sigaction(SIGTRAP, &sa, &old_trap);
}

static void uninstall(void)
{
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGTRAP, &old_trap, NULL);
}

static int64_t as_i64(uint64_t v)
{
    return (int64_t)v;
}

/* The call itself; results land in o. */
static void call(struct vdso_loaded *l, const struct explore_call *c,
                 const struct explore_rng_call *g, struct explore_outcome *o)
{
    struct vdso_timespec ts = {0, 0};
    struct vdso_timeval tv = {0, 0};
    int64_t t = 0;

    switch (c->entry) {
    case EXPLORE_GETTIME:
        o->ret = l->clock_gettime(c->clk, &ts);
        o->sec = ts.tv_sec;
        o->frac = ts.tv_nsec;
        break;
    case EXPLORE_GETTIMEOFDAY:
        o->ret = l->gettimeofday(&tv, NULL);
        o->sec = tv.tv_sec;
        o->frac = tv.tv_usec;
        break;
    case EXPLORE_TIME:
        o->ret = (long)l->time(&t);
        o->sec = as_i64((uint64_t)t);
        o->frac = 0;
        break;
    case EXPLORE_GETRANDOM:
        o->ret = l->getrandom(g->buf, g->len, g->flags, g->state, sizeof(struct vgetrandom_state));
        break;
    default:
        o->ret = l->clock_getres(c->clk, &ts);
        o->sec = ts.tv_sec;
        o->frac = ts.tv_nsec;
        break;
    }
}

static const void *entry_fn(const struct vdso_loaded *l, enum explore_entry e)
{
    switch (e) {
    case EXPLORE_GETTIME:
        return (const void *)l->clock_gettime;
    case EXPLORE_GETTIMEOFDAY:
        return (const void *)l->gettimeofday;
    case EXPLORE_TIME:
        return (const void *)l->time;
    case EXPLORE_GETRANDOM:
        return (const void *)l->getrandom;
    default:
        return (const void *)l->clock_getres;
    }
}

static void plan(struct step *st)
{
    unsigned last = 0;

    st->rest_at = UINT_MAX;
    for (unsigned i = 0; st->s && i < st->s->nactions; i++) {
        const struct explore_action *a = &st->s->act[i];
        if (a->update >= EXPLORE_MAX_UPDATES)
            continue; /* an rng action: one store, nothing left to finish */
        st->touched |= 1u << a->update;
        if (a->at > last)
            last = a->at;
    }
    if (st->touched)
        st->rest_at = last + EXPLORE_REST_AFTER;
}

/*
 * From attach to detach the reader pages stay PROT_NONE and the handlers
 * installed (only the image reads those pages, and only inside a run), so
 * a run costs the call's own faults and nothing else.
 */
void explore_step_attach(struct explore *x)
{
    install();
    set_protection(x, PROT_NONE);
}

void explore_step_detach(struct explore *x)
{
    set_protection(x, PROT_READ);
    uninstall();
}

static int step_call(struct explore *x, const struct explore_call *c,
                     const struct explore_rng_call *g, const struct explore_schedule *s,
                     struct explore_outcome *o, struct explore_record *r, struct vdsokit_error *err)
{
    static struct step st;

    if (!entry_fn(x->l, c->entry))
        return vdsokit_fail(err, "%s: %s is not exported", x->l->name,
                            explore_entry_name(c->entry));
    memcpy(x->l->dp.rw, x->start, EXPLORE_FILE_BYTES);
    memset(r, 0, sizeof *r);
    r->rng_landed[0] = r->rng_landed[1] = -1;
    memset(&st, 0, sizeof st);
    o->ntrace = 0;
    o->ret = 0;
    o->sec = o->frac = 0;
    st.x = x;
    st.s = s;
    st.o = o;
    st.r = r;
    st.base = x->l->base;
    plan(&st);
    uint64_t traps0 = loader_trap_thread_count();
    __atomic_store_n(&cur, &st, __ATOMIC_RELAXED);
    if (sigsetjmp(st.env, 0) == 0) {
        r->tsc0 = counter_rdtsc();
        call(x->l, c, g, o);
        r->tsc1 = counter_rdtsc();
        r->returned = true;
    } else {
        r->tsc1 = counter_rdtsc();
        protect_open(&st); /* a page a stepped load had opened */
    }
    __atomic_store_n(&cur, NULL, __ATOMIC_RELAXED);
    r->traps = loader_trap_thread_count() - traps0;
    if (r->traps)
        loader_trap_thread_last(&r->last_trap);
    return 0;
}

int explore_step_call(struct explore *x, const struct explore_call *c,
                      const struct explore_schedule *s, struct explore_outcome *o,
                      struct explore_record *r, struct vdsokit_error *err)
{
    return step_call(x, c, NULL, s, o, r, err);
}

int explore_step_rng(struct explore *x, const struct explore_rng_call *g,
                     const struct explore_schedule *s, struct explore_outcome *o,
                     struct explore_record *r, struct vdsokit_error *err)
{
    const struct explore_call c = {EXPLORE_GETRANDOM, 0};

    return step_call(x, &c, g, s, o, r, err);
}
