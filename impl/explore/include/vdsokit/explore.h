/*
 * The interleaving explorer: it runs one call of a loaded vDSO image (any
 * image the loader runs: the reference, the kernel's own dumped from
 * memory, a file) in the calling thread with the image's data pages mapped
 * PROT_NONE, so that every load from them faults. The SIGSEGV handler
 * records the access (reader page, offset, size, index, rip), applies the
 * writer stores a schedule puts before this access, and then performs the
 * load itself when it can decode it (mov, movzx, movsx, movsxd; sub, cmp
 * and test with their status flags: the page stays protected), or makes
 * the page readable and sets the trap flag, and the SIGTRAP after that one
 * instruction protects the page again. Nothing is compiled into the image: counter
 * reads and syscall instructions run natively (the hermetic trap of
 * loader_trap.h answers the syscalls from the emulated kernel).
 *
 * Writers act at store granularity. An update is the page bytes of one
 * published state turned into the next, split into the stores the
 * protocol makes: the seqs odd, each changed word, the seqs even (the
 * pvclock page: version odd, fields, version even; the Hyper-V page:
 * sequence 0, fields, the new sequence). A schedule says "before access k,
 * apply stores [a, b) of update u"; whatever it leaves unapplied is applied
 * EXPLORE_REST_AFTER accesses after its last action (the enumerated
 * schedules always say when), so a reader that waits sees the update
 * finish, and one that still runs EXPLORE_STEP_BUDGET accesses later is a
 * livelock. The verdict is exact: the model of the one state the protocol
 * allows, at a counter the call could have read, or the emulated kernel's
 * answer where that state falls back. getrandom (explore_rng_run) is
 * stepped over the rng data likewise, its writer a reseed or an unready
 * page, its verdict the getrandom model's (rng_model.h).
 *
 * One exploration at a time per process (the handlers are process-wide);
 * from explore_open to explore_close the image's reader pages stay
 * PROT_NONE and the handlers installed (faults elsewhere go to the handler
 * installed before); the caller's loaded image must have no writer thread.
 */
#ifndef VDSOKIT_EXPLORE_H
#define VDSOKIT_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdsokit/error.h>
#include <vdsokit/loader.h>

/* Accesses after a schedule's last action before the rest of every update is applied. */
#define EXPLORE_REST_AFTER 16
/* Accesses after which a call that has not returned is a livelock. */
#define EXPLORE_STEP_BUDGET 2048
#define EXPLORE_MAX_TRACE   EXPLORE_STEP_BUDGET
#define EXPLORE_MAX_STORES  160
#define EXPLORE_MAX_UPDATES 2
#define EXPLORE_MAX_ACTIONS 4

/* The clock mode (and reader view) a run is explored in. */
enum explore_mode {
    EXPLORE_TSC,     /* clock mode TSC; updates: two time updates */
    EXPLORE_PVCLOCK, /* KVM pvclock; updates: a time update, a pvclock page update */
    EXPLORE_HVCLOCK, /* Hyper-V page; updates: a time update, a TSC page rewrite */
    EXPLORE_NONE,    /* TSC, then an update that flips the mode to NONE (and one back) */
    EXPLORE_TIMENS,  /* TSC read through a time-namespace page; two time updates */
    EXPLORE_NMODES
};

/* The entry point and clock of a call. */
enum explore_entry {
    EXPLORE_GETTIME,
    EXPLORE_GETTIMEOFDAY,
    EXPLORE_TIME,
    EXPLORE_GETRES,
    EXPLORE_GETRANDOM, /* explore_rng_run only (its arguments: explore_rng_call) */
    EXPLORE_NENTRIES
};

struct explore_call {
    enum explore_entry entry;
    int32_t clk; /* clock_gettime and clock_getres */
};

/* getrandom(buf, len, flags, state, sizeof(struct vgetrandom_state)) */
struct explore_rng_call {
    void *buf;
    size_t len;
    unsigned flags;
    void *state;
};

/* One writer store, in the data-page memfd's coordinates. */
struct explore_store {
    uint8_t file_page; /* datapages.h file page */
    uint8_t size;      /* 4 or 8 */
    uint16_t offset;
    uint64_t value;
};

enum explore_update_kind {
    EXPLORE_UPDATE_TIME,    /* a new time state under the seqcount */
    EXPLORE_UPDATE_PVCLOCK, /* the pvclock record under its version */
    EXPLORE_UPDATE_HVCLOCK, /* the Hyper-V page under its sequence */
};

struct explore_update {
    enum explore_update_kind kind;
    unsigned nstores;
    unsigned begin_end, data_end; /* stores [0, begin_end): open; [data_end, n): close */
    struct explore_store stores[EXPLORE_MAX_STORES];
};

/* Writer actions on the rng page, as an action's `update` (from, to unused):
 * the generation + 1 (store-release, a reseed), is_ready set to 0. */
#define EXPLORE_RNG_BUMP    0xf0
#define EXPLORE_RNG_UNREADY 0xf1

/* "before access `at`, apply stores [from, to) of update `update`" */
struct explore_action {
    uint32_t at;
    uint8_t update;
    uint16_t from, to;
};

struct explore_schedule {
    unsigned nactions;
    struct explore_action act[EXPLORE_MAX_ACTIONS];
};

/* One traced load from a data page. */
struct explore_access {
    uint32_t index;
    uint8_t reader_page; /* 0-5 below the text */
    uint8_t size;        /* decoded operand size (1, 2, 4, 8; 0 unknown) */
    uint16_t offset;
    uint64_t rip;      /* offset of the instruction in the image text */
    uint8_t published; /* time updates complete before this access */
    bool seq_word;     /* a word the time updates' seq stores write */
};

enum explore_verdict {
    EXPLORE_PASS,
    EXPLORE_TORN,      /* served a value no allowed state gives */
    EXPLORE_BAD_TRAP,  /* a syscall where the allowed state serves, or a wrong answer */
    EXPLORE_NO_TRAP,   /* served where the allowed state falls back */
    EXPLORE_LIVELOCK,  /* still running EXPLORE_STEP_BUDGET accesses in */
    EXPLORE_BAD_FAULT, /* a load from a page that is not mapped */
};

struct explore_outcome {
    enum explore_verdict verdict;
    long ret;
    /* The result as returned: tv_sec and tv_nsec (gettime, getres), tv_sec
     * and tv_usec (gettimeofday), the seconds and 0 (time). */
    int64_t sec, frac;
    uint64_t traps;
    unsigned ntrace;
    struct explore_access trace[EXPLORE_MAX_TRACE];
    unsigned state; /* the time state judged against */
    char why[1024];
};

struct explore;

/*
 * Take over l (its timekeeper restarted from a script for the mode, its
 * reader view switched to the mode's layout) and build the mode's states
 * and updates. l must stay loaded, with no writer thread, until
 * explore_close; loader_trap_install() must have run. Returns 0 or -1 with
 * err (a mode the image's layout cannot show, e.g. no pvclock page).
 */
int explore_open(struct explore **out, struct vdso_loaded *l, enum explore_mode mode,
                 struct vdsokit_error *err);
void explore_close(struct explore *x);

unsigned explore_nupdates(const struct explore *x);
const struct explore_update *explore_update(const struct explore *x, unsigned u);

/* Run one call under schedule s (NULL: none) and judge it. Returns 0, or -1
 * with err when the call cannot be made (the entry point is absent). */
int explore_run(struct explore *x, const struct explore_call *c, const struct explore_schedule *s,
                struct explore_outcome *o, struct vdsokit_error *err);

/*
 * The schedules of one update (single) or of two in order (pairs) for a
 * call whose unperturbed trace is `base`: every access index, every split
 * of the update between store boundaries that change a word the reader
 * loads (splits inside runs of stores it never reads cannot be told
 * apart), completed before a later load of one of the remaining words or
 * before the first load past the unperturbed trace.
 * Calls fn for each; stops when fn returns nonzero and returns that.
 */
typedef int (*explore_schedule_fn)(const struct explore_schedule *s, void *arg);
int explore_each_single(const struct explore *x, const struct explore_outcome *base,
                        explore_schedule_fn fn, void *arg);
int explore_each_pair(const struct explore *x, const struct explore_outcome *base,
                      explore_schedule_fn fn, void *arg);

/*
 * One getrandom call (c->state holding the state before the call) with the rng page at a fixed
 * generation and ready, under schedule s (rng actions only; NULL: none), the emulated kernel
 * publishing a reseed during each of its first `reseeds` trapped syscalls (0-2). Judged against
 * rng_model_call_raced for the generation the protocol lets the call see: a bump that lands before
 * the call's first load of the generation is the call's generation; one that lands later (a later
 * load, or a syscall) must make the call re-key and make its bytes again; is_ready 0 before its
 * load is the syscall. Output, result, state afterwards and trapped syscall count must all equal
 * the model's. o->state is the number of superseded attempts judged against.
 */
int explore_rng_run(struct explore *x, const struct explore_rng_call *c,
                    const struct explore_schedule *s, unsigned reseeds, struct explore_outcome *o,
                    struct vdsokit_error *err);

/* Text forms: a schedule "K.U.A-B+K.U.A-B" ("-" for none); a mode by name. */
void explore_schedule_format(const struct explore_schedule *s, char *buf, size_t len);
int explore_schedule_parse(const char *text, struct explore_schedule *s, struct vdsokit_error *err);
const char *explore_mode_name(enum explore_mode m);
int explore_mode_parse(const char *name, enum explore_mode *m);
const char *explore_entry_name(enum explore_entry e);
int explore_entry_parse(const char *name, enum explore_entry *e);
const char *explore_verdict_name(enum explore_verdict v);

/* The trace, one access per line ("#3 page 0 +0x20 8 bytes rip +0x61a ..."). */
void explore_trace_format(const struct explore_outcome *o, char *buf, size_t len);

#endif /* VDSOKIT_EXPLORE_H */
