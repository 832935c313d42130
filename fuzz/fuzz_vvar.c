/*
 * fuzz_vvar: the data-page state machine under the hosted reference vDSO.
 * The input (vvar_ops.h) is a versioned header and a stream of operations:
 * timekeeper updates, raw page manipulation, manual counter moves and reader
 * calls. A reader call carries a plan of up to three writer steps, each
 * pinned to the n-th read point of the seqcount loops (the hosted build's
 * hook), so the input decides which loads of the reader each write falls
 * between: deterministic interleaving, one thread. After every step:
 *  - the page is consistent (both seqs equal, odd exactly while an update
 *    is open);
 *  - a served result equals the 128-bit model (tk_model.h) of one moment of
 *    the call: a committed state with the counter values current while it
 *    was published; a fallback happens only where the model falls back for
 *    a state of the call (or data an open update had written, which the
 *    kernel's reader also acts on before its retry check) and a counter
 *    reading taken during it;
 *  - tv_nsec < 1e9, tv_usec < 1e6, tz is the page's;
 *  - MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE and BOOTTIME never go back
 *    between calls unless a discontinuous step (vvar_apply) came between,
 *    or the kernel's own arithmetic wraps for the state (in_monotonic_range:
 *    the u32 normalisation carry, the 64-bit product below max_cycles);
 *  - the reader's attempts are bounded by the writer steps it saw (at most
 *    two seq-loop beginnings per attempt: fast path, then general path),
 *    and it spins only while a writer holds the seq odd.
 */
#include "fuzz_common.h"
#include "vvar_ops.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <vdsokit/counter.h>
#include <vdsokit/datapages.h>
#include <vdsokit/timespec.h>
#include <vdsokit/tk_model.h>
#include <vdsokit/vdso_hosted.h>

#define PLAN_STEPS   3
#define MAX_WINDOW   24
#define MAX_COUNTERS (PLAN_STEPS + 4)
#define MAX_OPEN     (PLAN_STEPS + 1)
#define SPIN_SETTLE  2    /* spins before the emulated writer finishes */
#define SPIN_HANG    1000 /* spins with no writer to wait for */

enum entry { E_GETTIME, E_GETTIMEOFDAY, E_TIME, E_GETRES };

struct counters {
    uint64_t pv, hv, tsc;
};

/* A state and the counter values that were current together (between writer steps). */
struct moment {
    uint64_t generation;
    struct counters c;
};

/* One reader call in progress, as the read-point hook sees it. */
struct call {
    struct vvar_writer *w;
    unsigned points, spins, begins, steps;
    unsigned plan_at[PLAN_STEPS];
    struct vvar_op_rec plan[PLAN_STEPS];
    bool plan_done[PLAN_STEPS];
    struct moment seen[MAX_COUNTERS];
    unsigned nseen;
    unsigned nopen; /* entries of open_data[] */
    uint64_t tsc;
    unsigned long *epoch, epoch_at_start;
};

static struct vdso_datapages dp;
static uint8_t *reader_pages; /* both layouts, one after the other: [root][timens] */
static struct timekeeper *tk; /* reset for every input, never freed */
static struct call *current;
static struct tk_log_entry window[MAX_WINDOW];
/* Page contents written inside an open (uncommitted) update, as they stood
 * after each writer step of the current call: a reader may load the mode
 * from them between its seq load and its retry check. */
static struct vdso_time_data open_data[MAX_OPEN];
static size_t op_index; /* which record runs, for the evidence */

static const int32_t mono_clocks[4] = {VDSO_CLOCK_MONOTONIC, VDSO_CLOCK_MONOTONIC_RAW,
                                       VDSO_CLOCK_MONOTONIC_COARSE, VDSO_CLOCK_BOOTTIME};

static struct counters read_counters(uint64_t tsc)
{
    struct pvclock_vcpu_time_info pv;
    struct ms_hyperv_tsc_page hv;
    struct counters c;

    memcpy(&pv, datapages_pvclock(&dp), sizeof(pv)); /* one thread: no writer runs */
    memcpy(&hv, datapages_hvclock(&dp), sizeof(hv));
    c.pv = pv.flags & PVCLOCK_TSC_STABLE_BIT ? counter_pvclock_scale(&pv, tsc) & COUNTER_MASK
                                             : COUNTER_INVALID;
    c.hv = hv.tsc_sequence ? counter_hvclock_scale(&hv, tsc) & COUNTER_MASK : COUNTER_INVALID;
    c.tsc = tsc & COUNTER_MASK;
    return c;
}

static void note_counters(struct call *c)
{
    if (c->nseen < MAX_COUNTERS)
        c->seen[c->nseen++] = (struct moment){tk_generation(c->w->tk), read_counters(c->tsc)};
    if (c->w->update_open && c->nopen < MAX_OPEN) {
        struct vdso_time_data *d = &open_data[c->nopen++];

        datapages_load_time_data(d, datapages_time(&dp));
        /* As the reader saw it: with the even seq it loaded before the writer began. */
        for (int i = 0; i < VDSO_CS_BASES; i++)
            d->clock_data[i].seq &= ~1u;
    }
}

static uint64_t hook_tsc(void *ctx)
{
    (void)ctx;
    return current->tsc;
}

static void run_plan_step(struct call *c, unsigned i)
{
    c->plan_done[i] = true;
    c->steps++;
    if (vvar_apply(c->w, &c->plan[i]) == VVAR_DISCONTINUOUS)
        (*c->epoch)++;
    note_counters(c);
}

static void hook_point(void *ctx, enum vdso_read_point at, const volatile void *word)
{
    struct call *c = current;

    (void)ctx;
    (void)word;
    c->points++;
    if (at == VDSO_READ_BEGIN)
        c->begins++;
    if (at == VDSO_READ_SPIN || (at == VDSO_PVCLOCK_RETRY && c->w->pv_odd)) {
        FUZZ_ASSERT(++c->spins < SPIN_HANG, "reader spun %u times with no writer active", c->spins);
        if (c->spins >= SPIN_SETTLE && (c->w->update_open || c->w->pv_odd)) {
            vvar_settle(c->w);
            c->steps++;
            note_counters(c);
        }
    }
    for (unsigned i = 0; i < PLAN_STEPS; i++)
        if (!c->plan_done[i] && c->plan_at[i] == c->points)
            run_plan_step(c, i);
}

/* Both reader layouts are mapped once, side by side: switching is a pointer
 * store, not a remap (an mmap per switch cost more than the input itself). */
static void map_layout(bool timens)
{
    vdso_hosted_set_pages(reader_pages + (timens ? VDSO_DATA_PAGES * VDSO_PAGE_SIZE : 0));
}

static bool setup_once(void)
{
    static const struct vdso_hosted_hooks hooks = {.read_tsc = hook_tsc, .read_point = hook_point};
    const size_t span = VDSO_DATA_PAGES * VDSO_PAGE_SIZE;

    if (reader_pages)
        return true;
    if (datapages_create(&dp) != 0)
        return false;
    reader_pages = mmap(NULL, 2 * span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (reader_pages == MAP_FAILED) {
        reader_pages = NULL;
        return false;
    }
    if (datapages_map_reader(&dp, reader_pages, DATAPAGES_ROOT) != 0 ||
        datapages_map_reader(&dp, reader_pages + span, DATAPAGES_TIMENS) != 0)
        abort();
    vdso_hosted_set_hooks(&hooks);
    map_layout(false);
    return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!setup_once())
        abort();
    return 0;
}

/* The plan of a read: three (read point, writer op) pairs from arg bytes 1-6. */
static void make_plan(struct call *c, uint64_t arg)
{
    for (unsigned i = 0; i < PLAN_STEPS; i++) {
        uint8_t at = arg >> (8 + 16 * i), what = arg >> (16 + 16 * i);
        c->plan_at[i] = at & 7 ? at & 7 : 64; /* 0: never */
        c->plan[i].op = (enum vvar_op)(what % VVAR_READ);
        if (c->plan[i].op == VVAR_TIMENS_ON || c->plan[i].op == VVAR_TIMENS_OFF)
            c->plan[i].op = VVAR_ACCUMULATE; /* no remapping under a reader */
        c->plan[i].arg = (what + 1) * 0x9e3779b97f4a7c15ull;
    }
}

static uint64_t counter_for(int32_t mode, const struct counters *c)
{
    switch (mode) {
    case 1:
        return c->tsc;
    case 2:
        return c->pv;
    case 3:
        return c->hv;
    default:
        return COUNTER_INVALID;
    }
}

/*
 * The model's view of one committed state with one counter reading, for
 * clock clk: an aux clock reads the counter of its own mode, which a
 * hand-made update can leave different from the main clocks' for a while.
 */
static struct tk_model_view view_of(const struct vdso_time_data *state, const struct counters *c,
                                    const struct vvar_writer *w, int32_t clk)
{
    struct tk_model_view v = {.low_res_nsec = tk_low_res_nsec(w->tk)};

    v.page0 = w->timens ? datapages_timens(&dp) : state;
    v.real = w->timens ? state : NULL;
    v.counter = counter_for(vvar_mode_clock(state, clk)->clock_mode, c);
    return v;
}

/* The model's outcome (and value) for one state with one counter reading. */
static enum tk_model_outcome model_of(const struct vdso_time_data *state, const struct counters *cn,
                                      const struct vvar_writer *w, int32_t clk, bool usec,
                                      struct timespec *ts)
{
    struct tk_model_view v = view_of(state, cn, w, usec ? VDSO_CLOCK_REALTIME : clk);
    struct timeval tv;
    enum tk_model_outcome o;

    if (!usec)
        return tk_model_clock_gettime(&v, clk, ts);
    o = tk_model_gettimeofday(&v, &tv, NULL);
    ts->tv_sec = tv.tv_sec;
    ts->tv_nsec = tv.tv_usec;
    return o;
}

/*
 * Does some moment of the call -- a committed state together with the
 * counter values current while it was published -- give this outcome and
 * value? Pairing a state with a counter from another moment would excuse a
 * torn read (counter before a tick, bases after it).
 */
static bool window_explains(const struct call *c, size_t n, int32_t clk, bool fell_back,
                            const struct vdso_timespec *got, bool usec)
{
    struct timespec ts;

    for (unsigned j = 0; j < c->nseen; j++) {
        for (size_t i = 0; i < n; i++) {
            enum tk_model_outcome o;

            /* A fallback decided on a torn (mode, counter) pair is harmless:
             * the syscall answers. Only served values must be one moment's. */
            if (!fell_back && window[i].generation != c->seen[j].generation)
                continue;
            o = model_of(&window[i].data, &c->seen[j].c, c->w, clk, usec, &ts);
            if (fell_back
                    ? o == TK_MODEL_FALLBACK
                    : o == TK_MODEL_OK && ts.tv_sec == got->tv_sec && ts.tv_nsec == got->tv_nsec)
                return true;
        }
        /* The kernel's reader checks the mode right after its seq load and
         * falls back without a retry check, so a mode written inside an
         * update still open (SEQ_ODD, then MODE) sends it to the syscall,
         * as the real update_vsyscall() can mid-update. Harmless, and only
         * a fallback: served values still need a committed state. */
        for (unsigned k = 0; fell_back && k < c->nopen; k++)
            if (model_of(&open_data[k], &c->seen[j].c, c->w, clk, usec, &ts) == TK_MODEL_FALLBACK)
                return true;
    }
    return false;
}

struct mono_track {
    bool valid;
    unsigned long epoch;
    struct vdso_timespec last;
};

static void check_monotonic(struct mono_track *t, int32_t clk, const struct vdso_timespec *ts,
                            unsigned long epoch)
{
    for (unsigned k = 0; k < 4; k++) {
        if (mono_clocks[k] != clk)
            continue;
        if (t[k].valid && t[k].epoch == epoch)
            FUZZ_ASSERT(ts->tv_sec > t[k].last.tv_sec ||
                            (ts->tv_sec == t[k].last.tv_sec && ts->tv_nsec >= t[k].last.tv_nsec),
                        "op %zu: clock %d went back: %lld.%09lld after %lld.%09lld", op_index, clk,
                        (long long)ts->tv_sec, (long long)ts->tv_nsec, (long long)t[k].last.tv_sec,
                        (long long)t[k].last.tv_nsec);
        t[k] = (struct mono_track){true, epoch, *ts};
    }
}

/*
 * Within the range the kernel's arithmetic keeps monotonic: the nanoseconds
 * since the bases below 2^32 seconds (the normalisation's carry is a u32),
 * and, up to max_cycles, delta * mult + base below 2^64 (the kernel takes
 * the 64-bit product there; max_cycles leaves room for mult + 11%, not for
 * the shifted base nsec, so with shift 31 or 32 a delta near max_cycles
 * wraps the sum and the kernel's result drops by 2^64 >> shift ns).
 */
static bool pair_in_range(const struct vdso_time_data *state, const struct counters *cn,
                          int32_t clk)
{
    const struct vdso_clock *vc =
        &state->clock_data[clk == VDSO_CLOCK_MONOTONIC_RAW ? VDSO_CS_RAW : VDSO_CS_HRES_COARSE];
    uint64_t delta = (counter_for(vc->clock_mode, cn) - vc->cycle_last) & INT64_MAX;

    unsigned __int128 sum = (unsigned __int128)delta * vc->mult + vc->basetime[clk].nsec;

    if (delta <= vc->max_cycles && sum >> 64)
        return false;
    return sum >> (vc->shift & 127) < (unsigned __int128)NSEC_PER_SEC << 32;
}

/* Every state of the call with every counter value seen in it: the reader
 * may have taken its counter before a move the last moment shows. */
static bool in_monotonic_range(const struct call *c, size_t n, int32_t clk)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        for (unsigned j = 0; j < c->nseen; j++)
            if (!pair_in_range(&window[i].data, &c->seen[j].c, clk))
                return false;
    return true;
}

static void check_gettime(struct call *c, uint64_t g0, int32_t clk, struct mono_track *mono)
{
    struct vdso_timespec ts = {-1, -1};

    unsigned long before = vdso_hosted_fallback_count();
    int rc = vdso_hosted_clock_gettime(clk, &ts);
    bool fell_back = vdso_hosted_fallback_count() != before;

    size_t n = tk_log_copy(c->w->tk, g0, tk_generation(c->w->tk), window, MAX_WINDOW);

    FUZZ_ASSERT(fell_back ? rc == VDSO_HOSTED_FALLBACK : rc == 0, "clock %d rc %d", clk, rc);
    /* COARSE slots are copied verbatim: only a sane writer makes them < 1e9. */
    if (!fell_back && !(c->w->stale_pending &&
                        (clk == VDSO_CLOCK_REALTIME_COARSE || clk == VDSO_CLOCK_MONOTONIC_COARSE)))
        FUZZ_ASSERT(ts.tv_nsec >= 0 && ts.tv_nsec < NSEC_PER_SEC, "op %zu: clock %d tv_nsec %lld",
                    op_index, clk, (long long)ts.tv_nsec);
    FUZZ_ASSERT(window_explains(c, n, clk, fell_back, &ts, false),
                "op %zu: clock %d: %s %lld.%09lld matches no committed state of the window (%zu "
                "states, %u counters, %u writer steps)",
                op_index, clk, fell_back ? "fallback" : "result", (long long)ts.tv_sec,
                (long long)ts.tv_nsec, n, c->nseen, c->steps);
    if (fell_back)
        return;
    /* A discontinuous step inside the call: the result may be from either side. */
    if (*c->epoch != c->epoch_at_start)
        return;
    /* Aux clocks are not followed: enabling one again steps it. */
    if (vdso_clock_bit(clk) & VDSO_AUX)
        return;
    /* Monotonic only where the reader reads the counter the timekeeper
     * accumulates with: a MODE step that points readers at another counter
     * makes every later rate change a jump. */
    if (in_monotonic_range(c, n, clk) &&
        window[n - 1].data.clock_data[0].clock_mode == c->w->domain_mode)
        check_monotonic(mono, clk, &ts, *c->epoch);
    else
        (*c->epoch)++; /* start afresh: carry wrap (2^32 s) or a foreign counter */
}

static void check_gettimeofday(struct call *c, uint64_t g0)
{
    struct vdso_timeval tv = {-1, -1};
    struct vdso_timezone tz = {-1, -1};
    const struct vdso_time_data *page = datapages_time(&dp);

    unsigned long before = vdso_hosted_fallback_count();
    int rc = vdso_hosted_gettimeofday(&tv, &tz);
    bool fell_back = vdso_hosted_fallback_count() != before;
    struct vdso_timespec as_ts = {tv.tv_sec, tv.tv_usec};
    size_t n = tk_log_copy(c->w->tk, g0, tk_generation(c->w->tk), window, MAX_WINDOW);

    FUZZ_ASSERT(fell_back ? rc == VDSO_HOSTED_FALLBACK : rc == 0, "gettimeofday rc %d", rc);
    if (!fell_back) {
        FUZZ_ASSERT(tv.tv_usec >= 0 && tv.tv_usec < USEC_PER_SEC, "tv_usec %lld",
                    (long long)tv.tv_usec);
        FUZZ_ASSERT(tz.tz_minuteswest == page->tz_minuteswest && tz.tz_dsttime == page->tz_dsttime,
                    "tz %d/%d, page %d/%d", tz.tz_minuteswest, tz.tz_dsttime, page->tz_minuteswest,
                    page->tz_dsttime);
    }
    FUZZ_ASSERT(window_explains(c, n, 0, fell_back, &as_ts, true),
                "gettimeofday: %s %lld.%06lld matches no committed state of the window",
                fell_back ? "fallback" : "result", (long long)tv.tv_sec, (long long)tv.tv_usec);
}

/* time() and clock_getres() read without the seq loop: compare with the page as it is. */
static void check_unlooped(struct call *c, enum entry e, int32_t clk, uint64_t g0)
{
    struct vdso_time_data now;
    struct tk_model_view v;

    unsigned long before = vdso_hosted_fallback_count();

    datapages_load_time_data(&now, datapages_time(&dp));
    v = view_of(&now, &c->seen[0].c, c->w, clk);
    if (e == E_TIME) {
        int64_t stored = -1, ret = vdso_hosted_time(&stored), want = 0;
        size_t n = tk_log_copy(c->w->tk, g0, tk_generation(c->w->tk), window, MAX_WINDOW);
        bool ok = tk_model_time(&v, &want) == TK_MODEL_OK && want == ret;
        for (size_t i = 0; i < n && !ok; i++) {
            v = view_of(&window[i].data, &c->seen[0].c, c->w, clk);
            ok = tk_model_time(&v, &want) == TK_MODEL_OK && want == ret;
        }
        FUZZ_ASSERT(ret == stored, "time() returned %lld, stored %lld", (long long)ret,
                    (long long)stored);
        FUZZ_ASSERT(ok && vdso_hosted_fallback_count() == before,
                    "time() = %lld: no state of the window has it", (long long)ret);
    } else {
        struct vdso_timespec res = {-1, -1};
        struct timespec want;
        int rc = vdso_hosted_clock_getres(clk, &res);
        bool fell_back = vdso_hosted_fallback_count() != before;
        enum tk_model_outcome o = tk_model_clock_getres(&v, clk, &want);
        FUZZ_ASSERT(fell_back ? o == TK_MODEL_FALLBACK
                              : rc == 0 && o == TK_MODEL_OK && want.tv_sec == res.tv_sec &&
                                    want.tv_nsec == res.tv_nsec,
                    "getres(%d): rc %d {%lld, %lld}, model %s {%lld, %lld}", clk, rc,
                    (long long)res.tv_sec, (long long)res.tv_nsec, tk_model_outcome_name(o),
                    (long long)want.tv_sec, (long long)want.tv_nsec);
    }
}

static void do_read(struct vvar_writer *w, uint64_t arg, unsigned long *epoch,
                    struct mono_track *mono)
{
    struct call c = {
        .w = w, .epoch = epoch, .epoch_at_start = *epoch, .tsc = tk_counter_now(w->tk) + 12345};
    enum entry e = (enum entry)(arg & 3);
    int32_t clk = vvar_read_clock(arg);
    uint64_t g0 = tk_generation(w->tk);

    make_plan(&c, arg);
    note_counters(&c);
    current = &c;
    if (e == E_GETTIME)
        check_gettime(&c, g0, clk, mono);
    else if (e == E_GETTIMEOFDAY)
        check_gettimeofday(&c, g0);
    else
        check_unlooped(&c, e, clk, g0);
    current = NULL;
    /* Each attempt may begin twice (a fast path that hands over to the general
     * one); only writer steps may cause another attempt. */
    FUZZ_ASSERT(c.begins <= 2 * (1 + c.steps), "op %zu: reader began %u times for %u writer steps",
                op_index, c.begins, c.steps);
}

static void check_page(const struct vvar_writer *w)
{
    const struct vdso_time_data *t = datapages_time(&dp);
    uint32_t s0 = t->clock_data[0].seq, s1 = t->clock_data[1].seq;

    FUZZ_ASSERT(s0 == s1, "clock seqs differ: %u vs %u", s0, s1);
    FUZZ_ASSERT((s0 & 1) == w->update_open, "seq %u with an update %s", s0,
                w->update_open ? "open" : "closed");
}

static void run_stream(const uint8_t *data, size_t size, struct vvar_writer *w)
{
    struct mono_track mono[4] = {{0}};

    unsigned long epoch = 0;
    struct vvar_op_rec r;
    bool layout = w->timens;

    for (size_t i = 0; vvar_record(data, size, i, &r); i++) {
        op_index = i;
        if (r.op == VVAR_READ) {
            do_read(w, r.arg, &epoch, mono);
        } else if (vvar_apply(w, &r) == VVAR_DISCONTINUOUS) {
            epoch++;
        }
        if (w->timens != layout) {
            layout = w->timens;
            map_layout(layout);
        }
        check_page(w);
    }
}

/* The timekeeper for this input's script, on zeroed pages. */
static bool start(const struct vvar_header *h, struct vvar_writer *w)
{
    struct tk_script script;

    memset(dp.rw, 0, VDSO_DATA_PAGES * VDSO_PAGE_SIZE); /* every input starts from zero pages */
    vvar_script(h, &script);
    if ((tk ? tk_reset_scripted(tk, &script) : tk_init_scripted(&tk, &dp, &script)) != 0)
        return false;
    *w = (struct vvar_writer){.tk = tk,
                              .timens = h->timens,
                              .domain_mode =
                                  h->hvclock ? VDSO_CLOCKMODE_HVCLOCK : VDSO_CLOCKMODE_PVCLOCK};
    if (h->timens)
        vvar_start_timens(tk);
    map_layout(h->timens);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vvar_header h;
    struct vvar_writer w;
    const uint8_t *input;

    if (!vvar_parse_header(data, size, &h) || !setup_once())
        return 0;
    input = fuzz_input(data, size);
    if (start(&h, &w)) {
        run_stream(input, size, &w);
        vvar_settle(&w);
    }
    fuzz_input_done(input, data);
    return 0;
}
