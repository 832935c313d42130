/*
 * What the explorer's parts share: the exploration of one loaded image in
 * one mode (its states as page bytes, its updates as store lists, the
 * reader view's page map) and the record of one traced call, which the
 * stepping engine fills and the judge reads.
 */
#ifndef EXPLORE_INTERNAL_H
#define EXPLORE_INTERNAL_H

#include <stdint.h>
#include <ucontext.h>

#include <vdsokit/datapages.h>
#include <vdsokit/explore.h>
#include <vdsokit/loader_trap.h>

#define EXPLORE_PAGE        ((size_t)VDSO_PAGE_SIZE)
#define EXPLORE_FILE_BYTES  ((size_t)DATAPAGES_FILE_PAGES * EXPLORE_PAGE)
#define EXPLORE_MAX_STATES  (EXPLORE_MAX_UPDATES + 1)
#define EXPLORE_NO_REQUIRES 0xff

struct explore {
    struct vdso_loaded *l;
    enum explore_mode mode;
    int reader_map[VDSO_DATA_PAGES]; /* file page behind each reader page, or -1 */
    bool readable[VDSO_DATA_PAGES];  /* mapped readable in the unprotected view */
    bool attached;                   /* pages protected, handlers installed */
    uint8_t *start;                  /* every file page at the start of each run */
    unsigned nupdates;
    struct explore_update upd[EXPLORE_MAX_UPDATES];
    uint8_t requires[EXPLORE_MAX_UPDATES];  /* the update that must be complete first */
    uint8_t publishes[EXPLORE_MAX_UPDATES]; /* time updates: the state they publish */
    /* Time states in the canonical format: 0 at the start, then one per time update. */
    unsigned nstates;
    struct vdso_time_data state[EXPLORE_MAX_STATES];
    struct vdso_time_data ns_page; /* the namespace page (EXPLORE_TIMENS) */
    /* The counter pages before and after their update (the same when none). */
    struct pvclock_vcpu_time_info pv[2];
    struct ms_hyperv_tsc_page hv[2];
    uint32_t low_res_nsec;
};

/* What one traced call left besides the outcome's trace. */
struct explore_record {
    bool returned;            /* the call returned (else livelock or fault) */
    bool livelock, bad_fault; /* how it did not */
    uint64_t tsc0, tsc1;      /* the raw TSC around the call */
    /* When each store of each update landed (raw TSC; 0: not during the call). */
    uint64_t store_tsc[EXPLORE_MAX_UPDATES][EXPLORE_MAX_STORES];
    unsigned applied[EXPLORE_MAX_UPDATES]; /* stores of each update applied during the call */
    uint8_t open[EXPLORE_MAX_TRACE];       /* per access: updates begun and not finished */
    uint16_t seq_store[EXPLORE_MAX_TRACE]; /* per seq load: the begin store writing its word */
    int rng_landed[2]; /* the load a bump / an unready landed before (-1: none) */
    uint64_t traps;
    struct loader_trap_record last_trap; /* the last one's answer (traps > 0) */
};

/* explore_states.c: set the image's kernel up for the mode and build x's
 * states and updates (x->l, x->mode set). */
int explore_states_build(struct explore *x, struct vdsokit_error *err);

/* explore_step.c: protect the reader pages and install the handlers (attach,
 * at open) or undo that (detach, at close); restore the start pages and run
 * c under s, tracing (call). */
void explore_step_attach(struct explore *x);
void explore_step_detach(struct explore *x);
int explore_step_call(struct explore *x, const struct explore_call *c,
                      const struct explore_schedule *s, struct explore_outcome *o,
                      struct explore_record *r, struct vdsokit_error *err);
/* The same for getrandom (c->entry EXPLORE_GETRANDOM) with arguments g. */
int explore_step_rng(struct explore *x, const struct explore_rng_call *g,
                     const struct explore_schedule *s, struct explore_outcome *o,
                     struct explore_record *r, struct vdsokit_error *err);

/* explore_judge.c: the verdict of a traced call (o->verdict, o->why, o->state). */
void explore_judge(const struct explore *x, const struct explore_call *c,
                   const struct explore_schedule *s, const struct explore_record *r,
                   struct explore_outcome *o);

/* explore_flags.c: the status flags of a - b (logic: a & b) at bits (8, 16,
 * 32, 64) bits, and the result in *result. */
#define FLAG_CF              0x001
#define FLAG_PF              0x004
#define FLAG_AF              0x010
#define FLAG_ZF              0x040
#define FLAG_SF              0x080
#define FLAG_OF              0x800
#define EXPLORE_STATUS_FLAGS (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF)
uint64_t explore_alu_flags(uint64_t a, uint64_t b, unsigned bits, bool logic, uint64_t *result);

/* explore_decode.c: perform the load at the interrupted RIP from file page
 * fp, offset off, into context g (register or flags, RIP moved on) and say
 * its size; false: not an instruction it performs (step it). */
bool explore_perform_load(const struct explore *x, greg_t *g, int fp, unsigned off, uint8_t *size);
/* The operand size of the load at ip, guessed from prefixes and opcode. */
uint8_t explore_operand_size(const uint8_t *ip);

/* Whether access a loads (part of) the word store st writes. */
static inline bool explore_hits(const struct explore *x, const struct explore_access *a,
                                const struct explore_store *st)
{
    unsigned asz = a->size ? a->size : 8;

    return x->reader_map[a->reader_page] == st->file_page && a->offset < st->offset + st->size &&
           st->offset < a->offset + asz;
}

#endif /* EXPLORE_INTERNAL_H */
