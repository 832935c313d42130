/*
 * fuzz_vvar_kernel: the op streams of fuzz_vvar (vvar_ops.h), without
 * mid-read interleaving, applied to two images at once -- the reference
 * image and this process's own kernel vDSO (its bytes from AT_SYSINFO_EHDR),
 * each loaded once on its own emulated data pages -- and driven by two
 * scripted timekeepers that receive the same operations. Counters are
 * manual (pvclock or Hyper-V page with a zero multiplier; mode TSC is
 * replaced by NONE, since both images would read the real TSC), so both
 * images see identical pages. Every reader call goes to both, and:
 *  - where the 128-bit model says the state is served from the pages, the
 *    two results are identical bit for bit and equal to the model (where
 *    this kernel's build sends mode HVCLOCK or the aux clocks to the
 *    syscall, as probed at start, the reference alone is held to the model);
 *  - where it says fallback, both made the syscall (their results are the
 *    host's clock, far from the script's epoch, so a lone fallback shows);
 *  - time(), tz and the HRES resolution are identical (the COARSE
 *    resolution is each kernel's TICK_NSEC, a build setting, not compared).
 * PV_ODD is settled before each call (without interleaving a reader would
 * wait for ever) and SEQ_ODD is skipped.
 */
#include "fuzz_common.h"
#include "vvar_ops.h"

#include <stdlib.h>
#include <string.h>

#include <vdsokit/counter.h>
#include <vdsokit/loader.h>
#include <vdsokit/timespec.h>
#include <vdsokit/tk_model.h>

/* The script's clocks sit this far from any host clock's value. */
#define SCRIPT_MONOTONIC_SEC 400000000

struct side {
    const char *name;
    struct vdso_loaded *l;
    struct vvar_writer w;
    bool timens;
};

static struct side sides[2] = {{.name = "ref"}, {.name = "live"}};
static size_t op_index;
/* Kernel build options: does this kernel's vDSO read the Hyper-V page
 * (CONFIG_HYPERV_TIMER), and does it serve the aux clocks at all? */
static bool live_serves_hvclock, live_serves_aux;

/* Ask an image once, on a scripted page, whether it serves clk with this
 * counter (aux clocks enabled at the probe value) or makes the syscall. */
static bool probe_serves(struct vdso_loaded *l, enum tk_counter_kind counter, int32_t clk)
{
    struct tk_script s = {.counter = counter,
                          .counter_start = 1000,
                          .mult = 1,
                          .monotonic = {SCRIPT_MONOTONIC_SEC, 0},
                          .raw = {SCRIPT_MONOTONIC_SEC, 7}};
    struct timekeeper *tk;
    struct vdso_timespec ts = {0, 0};
    bool served;

    memset(l->dp.rw, 0, VDSO_DATA_PAGES * VDSO_PAGE_SIZE);
    if (tk_init_scripted(&tk, &l->dp, &s) != 0)
        return false;
    if (clk >= VDSO_CLOCK_AUX)
        tk_aux_enable(tk, (unsigned)(clk - VDSO_CLOCK_AUX),
                      (struct timespec){SCRIPT_MONOTONIC_SEC, 7});
    served =
        l->clock_gettime(clk, &ts) == 0 && ts.tv_sec == SCRIPT_MONOTONIC_SEC && ts.tv_nsec == 7;
    tk_destroy(tk);
    return served;
}

/* Does the live image serve what the model serves for clk (mode HVCLOCK
 * and the aux clocks depend on the kernel's build)? Where it does not,
 * only the reference is held to the model. */
static bool live_serves(int32_t clk)
{
    const struct vdso_clock *vc = vvar_mode_clock(datapages_time(&sides[0].l->dp), clk);

    if ((vdso_clock_bit(clk) & VDSO_AUX) && !live_serves_aux)
        return false;
    return live_serves_hvclock || vc->clock_mode != VDSO_CLOCKMODE_HVCLOCK;
}

static void load_once(void)
{
    struct loader_options opt = {.clock = LOADER_CLOCK_NONE};
    struct vdsokit_error err;

    if (sides[0].l)
        return;
    if (loader_load_ref(&sides[0].l, &opt, &err) != 0)
        fuzz_fail(__FILE__, __LINE__, "load ref", "%s", err.msg);
    if (loader_load_live(&sides[1].l, &opt, &err) != 0)
        fuzz_fail(__FILE__, __LINE__, "load live", "%s", err.msg);
    live_serves_hvclock = probe_serves(sides[1].l, TK_COUNTER_HVCLOCK_MANUAL, 4);
    live_serves_aux = probe_serves(sides[1].l, TK_COUNTER_PVCLOCK_MANUAL, VDSO_CLOCK_AUX);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    load_once();
    return 0;
}

static void set_layout(struct side *s, bool timens)
{
    struct vdsokit_error err;

    if (s->timens == timens)
        return;
    FUZZ_ASSERT(loader_set_layout(s->l, timens ? LOADER_LAYOUT_TIMENS : LOADER_LAYOUT_ROOT, &err) ==
                    0,
                "%s: layout: %s", s->name, err.msg);
    s->timens = timens;
}

/* The counter the images read from the ref side's pages (both sides' pages are equal). */
static uint64_t page_counter(void)
{
    struct vdso_datapages *dp = &sides[0].l->dp;
    const struct vdso_time_data *t = datapages_time(dp);
    struct pvclock_vcpu_time_info pv;
    struct ms_hyperv_tsc_page hv;

    memcpy(&pv, datapages_pvclock(dp), sizeof(pv));
    memcpy(&hv, datapages_hvclock(dp), sizeof(hv));
    if (t->clock_data[0].clock_mode == VDSO_CLOCKMODE_PVCLOCK &&
        (pv.flags & PVCLOCK_TSC_STABLE_BIT))
        return counter_pvclock_scale(&pv, 0) & COUNTER_MASK; /* mul 0: the TSC is moot */
    if (t->clock_data[0].clock_mode == VDSO_CLOCKMODE_HVCLOCK && hv.tsc_sequence)
        return counter_hvclock_scale(&hv, 0) & COUNTER_MASK;
    return COUNTER_INVALID;
}

/*
 * The kernel normalises by repeated subtraction, one iteration per second
 * of ns; a state with centuries of ns since its bases (raw fields, a
 * backward counter with max_cycles >= 2^62) keeps it busy for minutes.
 * Such reads go to the reference only.
 */
static bool kernel_loop_too_long(int32_t clk)
{
    const struct vdso_time_data *t = datapages_time(&sides[0].l->dp);
    const struct vdso_clock *vc =
        &t->clock_data[clk == VDSO_CLOCK_MONOTONIC_RAW ? VDSO_CS_RAW : VDSO_CS_HRES_COARSE];
    uint64_t counter = page_counter();

    if (clk < 0 || clk >= VDSO_BASES || counter == COUNTER_INVALID)
        return false;
    return tk_model_calc_ns(vc, counter, vc->basetime[clk].nsec) / NSEC_PER_SEC > (1u << 20);
}

/* The model of the ref side's current state. */
static enum tk_model_outcome model_gettime(int32_t clk, struct timespec *ts)
{
    struct vdso_datapages *dp = &sides[0].l->dp;
    const struct vdso_time_data *t = datapages_time(dp);
    struct tk_model_view v = {.low_res_nsec = tk_low_res_nsec(sides[0].w.tk)};

    v.page0 = sides[0].timens ? datapages_timens(dp) : t;
    v.real = sides[0].timens ? t : NULL;
    v.counter = page_counter();
    return tk_model_clock_gettime(&v, clk, ts);
}

static void compare_gettime(int32_t clk)
{
    struct vdso_timespec a = {-1, -1}, b = {-1, -1};
    struct timespec want;
    enum tk_model_outcome o = model_gettime(clk, &want);
    int ra = sides[0].l->clock_gettime(clk, &a), rb = sides[1].l->clock_gettime(clk, &b);

    if (o == TK_MODEL_OK && !live_serves(clk)) {
        FUZZ_ASSERT(ra == 0 && a.tv_sec == want.tv_sec && a.tv_nsec == want.tv_nsec,
                    "op %zu: clock %d (not served by this kernel): ref rc %d %lld.%09lld, model "
                    "%lld.%09lld",
                    op_index, clk, ra, (long long)a.tv_sec, (long long)a.tv_nsec,
                    (long long)want.tv_sec, (long long)want.tv_nsec);
    } else if (o == TK_MODEL_OK) {
        FUZZ_ASSERT(ra == 0 && rb == 0 && a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec &&
                        a.tv_sec == want.tv_sec && a.tv_nsec == want.tv_nsec,
                    "op %zu: clock %d: ref rc %d %lld.%09lld, live rc %d %lld.%09lld, model "
                    "%lld.%09lld",
                    op_index, clk, ra, (long long)a.tv_sec, (long long)a.tv_nsec, rb,
                    (long long)b.tv_sec, (long long)b.tv_nsec, (long long)want.tv_sec,
                    (long long)want.tv_nsec);
    } else if (o == TK_MODEL_FALLBACK) {
        /* Both asked the host: same rc, and values within a second of each other. */
        FUZZ_ASSERT(ra == rb && (ra != 0 || (a.tv_sec - b.tv_sec <= 1 && b.tv_sec - a.tv_sec <= 1)),
                    "op %zu: clock %d: fallback expected, ref rc %d %lld s, live rc %d %lld s",
                    op_index, clk, ra, (long long)a.tv_sec, rb, (long long)b.tv_sec);
    }
}

static void compare_others(int e, int32_t clk)
{
    if (e == 1) {
        struct vdso_timeval a = {-1, -1}, b = {-1, -1};
        struct vdso_timezone za = {-1, -1}, zb = {-1, -1};
        int ra = sides[0].l->gettimeofday(&a, &za), rb = sides[1].l->gettimeofday(&b, &zb);
        struct timespec want;
        bool served = model_gettime(0, &want) == TK_MODEL_OK && live_serves(0);
        FUZZ_ASSERT((ra == rb || !served) &&
                        (!served || (a.tv_sec == b.tv_sec && a.tv_usec == b.tv_usec &&
                                     za.tz_minuteswest == zb.tz_minuteswest &&
                                     za.tz_dsttime == zb.tz_dsttime)),
                    "op %zu: gettimeofday: ref %lld.%06lld tz %d, live %lld.%06lld tz %d", op_index,
                    (long long)a.tv_sec, (long long)a.tv_usec, za.tz_minuteswest,
                    (long long)b.tv_sec, (long long)b.tv_usec, zb.tz_minuteswest);
    } else if (e == 2) {
        int64_t ta = -1, tb = -1, a = sides[0].l->time(&ta), b = sides[1].l->time(&tb);
        FUZZ_ASSERT(a == b && ta == tb && a == ta, "op %zu: time(): ref %lld, live %lld", op_index,
                    (long long)a, (long long)b);
    } else if (clk != 5 && clk != 6) {
        struct vdso_timespec a = {-1, -1}, b = {-1, -1};
        int ra = sides[0].l->clock_getres(clk, &a), rb = sides[1].l->clock_getres(clk, &b);
        FUZZ_ASSERT(ra == rb && a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec,
                    "op %zu: getres(%d): ref rc %d {%lld, %lld}, live rc %d {%lld, %lld}", op_index,
                    clk, ra, (long long)a.tv_sec, (long long)a.tv_nsec, rb, (long long)b.tv_sec,
                    (long long)b.tv_nsec);
    }
}

static void read_both(uint64_t arg)
{
    int32_t clk = vvar_read_clock(arg);

    for (int i = 0; i < 2; i++) {
        vvar_settle(&sides[i].w);
        set_layout(&sides[i], sides[i].w.timens);
    }
    if ((arg & 3) <= 1 && kernel_loop_too_long((arg & 3) ? 0 : clk))
        return;
    if ((arg & 3) == 0)
        compare_gettime(clk);
    else
        compare_others((int)(arg & 3), clk);
}

static bool start(const struct vvar_header *h)
{
    struct tk_script script;

    vvar_script(h, &script);
    script.monotonic.tv_sec = SCRIPT_MONOTONIC_SEC;
    script.raw.tv_sec = SCRIPT_MONOTONIC_SEC - 1;
    for (int i = 0; i < 2; i++) {
        struct side *s = &sides[i];
        /* One timekeeper per side for the whole run, reset for every input. */
        struct timekeeper *tk = s->w.tk;

        memset(s->l->dp.rw, 0, VDSO_DATA_PAGES * VDSO_PAGE_SIZE);
        if ((tk ? tk_reset_scripted(tk, &script) : tk_init_scripted(&tk, &s->l->dp, &script)) != 0)
            return false;
        s->w = (struct vvar_writer){.tk = tk, .no_tsc_mode = true, .timens = h->timens};
        if (h->timens)
            vvar_start_timens(tk);
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vvar_header h;
    struct vvar_op_rec r;

    if (!vvar_parse_header(data, size, &h))
        return 0;
    load_once();
    if (!start(&h))
        return 0;
    for (size_t i = 0; vvar_record(data, size, i, &r); i++) {
        op_index = i;
        if (r.op == VVAR_READ) {
            read_both(r.arg);
            continue;
        }
        /* SEQ_ODD would hold both timekeeper locks across the two sides (in
         * either order); without interleaving its only effect is to merge the
         * updates before the next read, which the stream can do anyway. */
        if (r.op == VVAR_SEQ_ODD)
            continue;
        vvar_apply(&sides[0].w, &r);
        vvar_apply(&sides[1].w, &r);
    }
    for (int i = 0; i < 2; i++)
        vvar_settle(&sides[i].w);
    return 0;
}
