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

static void apply_due(struct step *c)
{
    for (unsigned i = 0; c->s && i < c->s->nactions; i++) {
        const struct explore_action *a = &c->s->act[i];
        if (a->at == c->n && a->update < c->x->nupdates)
            apply_upto(c, a->update, a->to);
    }
    if (c->n == c->rest_at)
        for (unsigned u = 0; u < c->x->nupdates; u++)
            if (c->touched & (1u << u))
                apply_upto(c, u, c->x->upd[u].nstores);
}

/* A plain load the handler can perform itself instead of stepping it. */
struct plain_load {
    unsigned len;  /* instruction bytes */
    unsigned reg;  /* destination, x86 numbering 0-15 */
    unsigned size; /* bytes loaded */
    enum { LOAD_MOV, LOAD_ZX, LOAD_SX, LOAD_SXD } kind;
    bool wide, half; /* REX.W, 66h */
};

/* Bytes of the ModRM memory operand at m (ModRM, SIB, displacement); 0: a register. */
static unsigned modrm_len(const uint8_t *m)
{
    unsigned mod = m[0] >> 6, rm = m[0] & 7, n = 1;

    if (mod == 3)
        return 0;
    if (rm == 4) {
        n++;
        if (mod == 0 && (m[1] & 7) == 5)
            n += 4;
    }
    if (mod == 0 && rm == 5)
        n += 4;
    return n + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

/*
 * Decode the loads the vDSO is made of: mov r16/32/64 (8B), movzx and
 * movsx (0F B6/B7/BE/BF), movsxd (REX.W 63), after 66h and REX prefixes
 * only. Anything
 * else (a compare, an arithmetic operand, a byte mov) is stepped instead.
 */
static bool decode_plain(const uint8_t *ip, struct plain_load *d)
{
    unsigned i = 0, rex = 0;

    memset(d, 0, sizeof *d);
    if (ip[i] == 0x66) {
        d->half = true;
        i++;
    }
    if ((ip[i] & 0xf0) == 0x40)
        rex = ip[i++];
    d->wide = (rex & 8) != 0;
    if (ip[i] == 0x8b) {
        d->kind = LOAD_MOV;
        d->size = d->wide ? 8 : d->half ? 2 : 4;
        i++;
    } else if (ip[i] == 0x0f && (ip[i + 1] & 0xf6) == 0xb6 && !d->half) {
        d->kind = (ip[i + 1] & 8) ? LOAD_SX : LOAD_ZX;
        d->size = (ip[i + 1] & 1) ? 2 : 1;
        i += 2;
    } else if (ip[i] == 0x63 && d->wide) {
        d->kind = LOAD_SXD;
        d->size = 4;
        i++;
    } else {
        return false;
    }
    unsigned m = modrm_len(ip + i);
    if (!m)
        return false;
    d->reg = ((ip[i] >> 3) & 7) | ((rex & 4) << 1);
    d->len = i + m;
    return true;
}

static const int greg_of[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                REG_R12, REG_R13, REG_R14, REG_R15};

/* Perform load d of `size` bytes at file page fp, offset off, into the interrupted context. */
static bool emulate(const struct explore *x, const struct plain_load *d, int fp, unsigned off,
                    greg_t *g)
{
    uint64_t v = 0;

    if (fp < 0 || off + d->size > EXPLORE_PAGE)
        return false;
    memcpy(&v, x->l->dp.rw + (size_t)fp * EXPLORE_PAGE + off, d->size);
    greg_t *r = &g[greg_of[d->reg]];
    if (d->kind == LOAD_SXD)
        *r = (greg_t)(int64_t)(int32_t)(uint32_t)v;
    else if (d->kind == LOAD_SX)
        *r =
            (greg_t)(d->wide ? (uint64_t)(d->size == 1 ? (int64_t)(int8_t)v : (int64_t)(int16_t)v)
                             : (uint32_t)(d->size == 1 ? (int32_t)(int8_t)v : (int32_t)(int16_t)v));
    else if (d->kind == LOAD_MOV && d->half)
        *r = (greg_t)(((uint64_t)*r & ~0xffffull) | v);
    else
        *r = (greg_t)v; /* 32-bit and zero-extending loads clear the upper half */
    g[REG_RIP] += d->len;
    return true;
}

/*
 * The arithmetic forms the vDSO reads its pages with: sub r, m (2B); cmp r,
 * m (3B) and cmp m, r (39); test m, r (85); test m8, imm8 (F6 /0); cmp m,
 * imm8 (80 /7 byte, 83 /7 sign-extended). With REX only (no 66h): 8, 32 or
 * 64 bits. The handler computes the result and the six status flags as the
 * CPU does.
 */
enum alu_op { ALU_SUB, ALU_CMP_RM, ALU_CMP_MR, ALU_TEST, ALU_TEST_IMM, ALU_CMP_IMM };

struct alu_load {
    unsigned len, reg, size;
    enum alu_op op;
    uint64_t imm;
};

static bool decode_alu(const uint8_t *ip, struct alu_load *d)
{
    unsigned i = 0, rex = 0;

    memset(d, 0, sizeof *d);
    if ((ip[i] & 0xf0) == 0x40)
        rex = ip[i++];
    uint8_t op = ip[i++], ext = (ip[i] >> 3) & 7;
    unsigned m = modrm_len(ip + i);
    if (!m)
        return false;
    d->size = (rex & 8) ? 8 : 4;
    d->reg = ext | ((rex & 4) << 1);
    d->len = i + m;
    switch (op) {
    case 0x2b:
        d->op = ALU_SUB;
        return true;
    case 0x3b:
        d->op = ALU_CMP_RM;
        return true;
    case 0x39:
        d->op = ALU_CMP_MR;
        return true;
    case 0x85:
        d->op = ALU_TEST;
        return true;
    case 0xf6:
    case 0x80:
        if (op == 0xf6 ? ext != 0 : ext != 7)
            return false;
        d->op = op == 0xf6 ? ALU_TEST_IMM : ALU_CMP_IMM;
        d->size = 1;
        d->imm = ip[d->len++];
        return true;
    case 0x83:
        if (ext != 7)
            return false;
        d->op = ALU_CMP_IMM;
        d->imm = (uint64_t)(int64_t)(int8_t)ip[d->len++];
        return true;
    default:
        return false;
    }
}

static bool emulate_alu(const struct explore *x, const struct alu_load *d, int fp, unsigned off,
                        greg_t *g)
{
    uint64_t m = 0, r;

    if (fp < 0 || off + d->size > EXPLORE_PAGE)
        return false;
    memcpy(&m, x->l->dp.rw + (size_t)fp * EXPLORE_PAGE + off, d->size);
    greg_t *reg = &g[greg_of[d->reg]];
    uint64_t rv = (uint64_t)*reg, f;
    unsigned bits = d->size * 8;
    switch (d->op) {
    case ALU_SUB:
        f = explore_alu_flags(rv, m, bits, false, &r);
        *reg = (greg_t)r; /* a 32-bit result clears the upper half */
        break;
    case ALU_CMP_RM:
        f = explore_alu_flags(rv, m, bits, false, &r);
        break;
    case ALU_CMP_MR:
        f = explore_alu_flags(m, rv, bits, false, &r);
        break;
    case ALU_TEST:
        f = explore_alu_flags(m, rv, bits, true, &r);
        break;
    case ALU_TEST_IMM:
        f = explore_alu_flags(m, d->imm, bits, true, &r);
        break;
    default:
        f = explore_alu_flags(m, d->imm, bits, false, &r);
        break;
    }
    uint64_t keep = ~(uint64_t)EXPLORE_STATUS_FLAGS;
    g[REG_EFL] = (greg_t)(((uint64_t)g[REG_EFL] & keep) | f);
    g[REG_RIP] += d->len;
    return true;
}

/* The operand size of the load at ip: byte forms, 66h, REX.W; else 4. */
static uint8_t operand_size(const uint8_t *ip)
{
    bool wide = false, half = false;
    int i = 0;

    for (; i < 8; i++) {
        uint8_t b = ip[i];
        if (b == 0x66)
            half = true;
        else if (b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x3e || b == 0x64 || b == 0x65)
            continue;
        else if ((b & 0xf0) == 0x40)
            wide = (b & 8) != 0;
        else
            break;
    }
    uint8_t op = ip[i];
    if (op == 0x0f)
        return ip[i + 1] == 0xb6 || ip[i + 1] == 0xbe   ? 1
               : ip[i + 1] == 0xb7 || ip[i + 1] == 0xbf ? 2
               : wide                                   ? 8
               : half                                   ? 2
                                                        : 4;
    if ((op < 0x40 && (op & 7) <= 2 && !(op & 1)) || op == 0x8a || op == 0x88 || op == 0x84 ||
        op == 0x86 || op == 0xc6 || op == 0xf6 || op == 0x80)
        return 1;
    return wide ? 8 : half ? 2 : 4;
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
    a->size = operand_size((const uint8_t *)g[REG_RIP]);
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
    struct plain_load d;
    struct alu_load alu;
    unsigned off = (unsigned)(addr & (EXPLORE_PAGE - 1));
    const uint8_t *ip = (const uint8_t *)g[REG_RIP];
    if (!c->stepping && decode_plain(ip, &d)) {
        c->o->trace[c->n - 1].size = (uint8_t)d.size;
        if (emulate(c->x, &d, c->x->reader_map[rp], off, g))
            return;
    } else if (!c->stepping && decode_alu(ip, &alu)) {
        c->o->trace[c->n - 1].size = (uint8_t)alu.size;
        if (emulate_alu(c->x, &alu, c->x->reader_map[rp], off, g))
            return;
    }
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
static void call(struct vdso_loaded *l, const struct explore_call *c, struct explore_outcome *o)
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

int explore_step_call(struct explore *x, const struct explore_call *c,
                      const struct explore_schedule *s, struct explore_outcome *o,
                      struct explore_record *r, struct vdsokit_error *err)
{
    static struct step st;

    if (!entry_fn(x->l, c->entry))
        return vdsokit_fail(err, "%s: %s is not exported", x->l->name,
                            explore_entry_name(c->entry));
    memcpy(x->l->dp.rw, x->start, EXPLORE_FILE_BYTES);
    memset(r, 0, sizeof *r);
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
        call(x->l, c, o);
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
