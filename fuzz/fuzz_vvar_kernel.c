/*
 * fuzz_vvar_kernel: the op streams of fuzz_vvar (vvar_ops.h), without
 * mid-read interleaving, applied to two images at once -- a reference image
 * of the era the input's header picks (format 3; older formats run the
 * native era) and this process's own kernel vDSO (its bytes from
 * AT_SYSINFO_EHDR), each loaded once on its own emulated data pages, which
 * the emulated kernel lays out in the image's era -- and driven by two
 * scripted timekeepers that receive the same operations. Counters are
 * manual (pvclock or Hyper-V page with a zero multiplier; mode TSC is
 * replaced by NONE, since both images would read the real TSC), so both
 * images see identical pages, and the pvclock clamp that 6.17 added never
 * matters (a zero multiplier scales any TSC delta to 0). Every reader call
 * goes to the reference, and to this kernel when the era is this kernel's:
 *  - where the 128-bit model under the era's delta rule says the state is
 *    served from the pages, the results are identical bit for bit and equal
 *    to the model (where this kernel's build sends mode HVCLOCK or the aux
 *    clocks to the syscall, as probed at start, the reference alone is held
 *    to the model); an era before 6.17 has no aux clocks and must fall back;
 *  - where it says fallback, both made the syscall (their results are the
 *    host's clock, far from the script's epoch, so a lone fallback shows);
 *  - time(), tz and the HRES resolution are identical, and equal to the
 *    model when the reference runs alone (the COARSE resolution is each
 *    kernel's TICK_NSEC, a build setting, not compared).
 * PV_ODD is settled before each call (without interleaving a reader would
 * wait for ever) and SEQ_ODD is skipped.
 */
#include "fuzz_common.h"
#include "vvar_ops.h"

#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vdsokit/counter.h>
#include <vdsokit/loader.h>
#include <vdsokit/timespec.h>
#include <vdsokit/tk_model.h>
#include <vdsokit/vdso_ref.h>

/* The script's clocks sit this far from any host clock's value. */
#define SCRIPT_MONOTONIC_SEC 400000000
/* Room for the reference's era variants (vdso_ref_eras, checked at start). */
#define MAX_ERAS 8

struct side {
    const char *name;
    struct vdso_loaded *l;
    struct vvar_writer w;
    bool timens;
    /* Build options as probed: does the image read the Hyper-V page
     * (CONFIG_HYPERV_TIMER), and does it serve the aux clocks at all? */
    bool serves_hvclock, serves_aux;
};

/* One reference per era, loaded when an input first picks it. */
static struct side eras[MAX_ERAS];
static struct side live = {.name = "live"};
/* This input's reference, and whether this kernel runs beside it (same era). */
static struct side *ref;
static bool live_on;
static size_t op_index;

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

static void probe_side(struct side *s)
{
    s->serves_hvclock = probe_serves(s->l, TK_COUNTER_HVCLOCK_MANUAL, 4);
    s->serves_aux = probe_serves(s->l, TK_COUNTER_PVCLOCK_MANUAL, VDSO_CLOCK_AUX);
}

/* Aux clocks came with 6.17: an older era's reference must send them to the syscall. */
static bool era_has_aux(const struct vdso_loaded *l)
{
    return l->layout_version >= LAYOUT_PROFILE_VERSION(6, 17);
}

static struct side *load_era(size_t e)
{
    struct loader_options opt = {.clock = LOADER_CLOCK_NONE,
                                 .linux_version = vdso_ref_eras[e].first};
    struct vdsokit_error err;
    struct side *s = &eras[e];

    if (s->l)
        return s;
    s->name = vdso_ref_eras[e].label;
    if (loader_load_ref(&s->l, &opt, &err) != 0)
        fuzz_fail(__FILE__, __LINE__, "load ref era", "%s: %s", s->name, err.msg);
    probe_side(s);
    FUZZ_ASSERT(s->serves_aux == era_has_aux(s->l), "%s (Linux %#x): aux clocks %s", s->name,
                (unsigned)s->l->layout_version, s->serves_aux ? "served" : "to the syscall");
    return s;
}

static void load_once(void)
{
    struct loader_options opt = {.clock = LOADER_CLOCK_NONE};
    struct vdsokit_error err;

    if (live.l)
        return;
    if (vdso_ref_era_count > MAX_ERAS)
        fuzz_fail(__FILE__, __LINE__, "eras", "%zu eras, room for %d", vdso_ref_era_count,
                  MAX_ERAS);
    if (loader_load_live(&live.l, &opt, &err) != 0)
        fuzz_fail(__FILE__, __LINE__, "load live", "%s", err.msg);
    probe_side(&live);
    load_era(vdso_ref_era_count - 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    load_once();
    return 0;
}

/* Does the live image serve what the model serves for clk (mode HVCLOCK
 * and the aux clocks depend on the kernel's build)? Where it does not,
 * only the reference is held to the model. */
static bool live_serves(int32_t clk)
{
    const struct vdso_clock *vc = vvar_mode_clock(datapages_time(&ref->l->dp), clk);

    if ((vdso_clock_bit(clk) & VDSO_AUX) && !live.serves_aux)
        return false;
    return live.serves_hvclock || vc->clock_mode != VDSO_CLOCKMODE_HVCLOCK;
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

/*
 * The counter the images read from the reference's pages (both sides'
 * pages are equal), under the era's rule: 6.5 and later cut a reading to
 * 63 bits, before 6.5 a reading with bit 63 set is unusable.
 */
static uint64_t page_counter(void)
{
    struct vdso_datapages *dp = &ref->l->dp;
    const struct vdso_time_data *t = datapages_time(dp);
    struct pvclock_vcpu_time_info pv;
    struct ms_hyperv_tsc_page hv;
    uint64_t c;

    memcpy(&pv, datapages_pvclock(dp), sizeof(pv));
    memcpy(&hv, datapages_hvclock(dp), sizeof(hv));
    if (t->clock_data[0].clock_mode == VDSO_CLOCKMODE_PVCLOCK &&
        (pv.flags & PVCLOCK_TSC_STABLE_BIT))
        c = counter_pvclock_scale(&pv, 0); /* mul 0: the TSC is moot */
    else if (t->clock_data[0].clock_mode == VDSO_CLOCKMODE_HVCLOCK && hv.tsc_sequence)
        c = counter_hvclock_scale(&hv, 0);
    else
        return COUNTER_INVALID;
    if (c == COUNTER_INVALID)
        return c;
    return ref->l->delta == LAYOUT_DELTA_6_1 && (c >> 63) ? COUNTER_INVALID : c & COUNTER_MASK;
}

/*
 * The kernel normalises by repeated subtraction, one iteration per second
 * of ns; a state with centuries of ns since its bases (raw fields, a
 * backward counter with max_cycles >= 2^62) keeps it busy for minutes.
 * Such reads are skipped.
 */
static bool kernel_loop_too_long(int32_t clk)
{
    const struct vdso_time_data *t = datapages_time(&ref->l->dp);
    const struct vdso_clock *vc =
        &t->clock_data[clk == VDSO_CLOCK_MONOTONIC_RAW ? VDSO_CS_RAW : VDSO_CS_HRES_COARSE];
    uint64_t counter = page_counter();

    if (clk < 0 || clk >= VDSO_BASES || counter == COUNTER_INVALID)
        return false;
    return tk_model_calc_ns_rule(ref->l->delta, vc, counter, vc->basetime[clk].nsec) /
               NSEC_PER_SEC >
           (1u << 20);
}

/* The model view of the reference's current state, under its era's delta rule. */
static struct tk_model_view model_view(void)
{
    struct vdso_datapages *dp = &ref->l->dp;
    const struct vdso_time_data *t = datapages_time(dp);
    struct tk_model_view v = {.low_res_nsec = tk_low_res_nsec(ref->w.tk), .delta = ref->l->delta};

    v.page0 = ref->timens ? datapages_timens(dp) : t;
    v.real = ref->timens ? t : NULL;
    v.counter = page_counter();
    return v;
}

static void compare_gettime(int32_t clk)
{
    struct vdso_timespec a = {-1, -1}, b = {-1, -1};
    struct timespec want;
    struct tk_model_view v = model_view();
    enum tk_model_outcome o = tk_model_clock_gettime(&v, clk, &want);
    int ra = ref->l->clock_gettime(clk, &a), rb = live_on ? live.l->clock_gettime(clk, &b) : ra;
    bool ref_equal = ra == 0 && a.tv_sec == want.tv_sec && a.tv_nsec == want.tv_nsec;

    if (o == TK_MODEL_OK && (vdso_clock_bit(clk) & VDSO_AUX) && !ref->serves_aux) {
        FUZZ_ASSERT(!ref_equal, "op %zu: %s served aux clock %d from the pages: %lld.%09lld",
                    op_index, ref->name, clk, (long long)a.tv_sec, (long long)a.tv_nsec);
    } else if (o == TK_MODEL_OK && (!live_on || !live_serves(clk))) {
        FUZZ_ASSERT(ref_equal, "op %zu: clock %d (%s alone): rc %d %lld.%09lld, model %lld.%09lld",
                    op_index, clk, ref->name, ra, (long long)a.tv_sec, (long long)a.tv_nsec,
                    (long long)want.tv_sec, (long long)want.tv_nsec);
    } else if (o == TK_MODEL_OK) {
        FUZZ_ASSERT(ref_equal && rb == 0 && a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec,
                    "op %zu: clock %d: %s rc %d %lld.%09lld, live rc %d %lld.%09lld, model "
                    "%lld.%09lld",
                    op_index, clk, ref->name, ra, (long long)a.tv_sec, (long long)a.tv_nsec, rb,
                    (long long)b.tv_sec, (long long)b.tv_nsec, (long long)want.tv_sec,
                    (long long)want.tv_nsec);
    } else if (o == TK_MODEL_FALLBACK && live_on) {
        /* Both asked the host: same rc, and values within a second of each other. */
        FUZZ_ASSERT(ra == rb && (ra != 0 || (a.tv_sec - b.tv_sec <= 1 && b.tv_sec - a.tv_sec <= 1)),
                    "op %zu: clock %d: fallback expected, %s rc %d %lld s, live rc %d %lld s",
                    op_index, clk, ref->name, ra, (long long)a.tv_sec, rb, (long long)b.tv_sec);
    } else if (o == TK_MODEL_FALLBACK) {
        /* Alone it must have asked the host: the host's answer, within a second. */
        struct timespec host;
        bool host_ok = syscall(SYS_clock_gettime, clk, &host) == 0;
        FUZZ_ASSERT((ra == 0) == host_ok &&
                        (!host_ok || (a.tv_sec - host.tv_sec <= 1 && host.tv_sec - a.tv_sec <= 1)),
                    "op %zu: clock %d: fallback expected, %s rc %d %lld s, host %s %lld s",
                    op_index, clk, ref->name, ra, (long long)a.tv_sec, host_ok ? "ok" : "error",
                    (long long)host.tv_sec);
    }
}

static void compare_gettimeofday(void)
{
    struct vdso_timeval a = {-1, -1}, b = {-1, -1};
    struct vdso_timezone za = {-1, -1}, zb = {-1, -1};
    struct tk_model_view v = model_view();
    struct timeval want;
    struct timezone wz;
    bool model_ok = tk_model_gettimeofday(&v, &want, &wz) == TK_MODEL_OK;
    int ra = ref->l->gettimeofday(&a, &za);

    if (!live_on) {
        FUZZ_ASSERT(!model_ok ||
                        (ra == 0 && a.tv_sec == want.tv_sec && a.tv_usec == want.tv_usec &&
                         za.tz_minuteswest == wz.tz_minuteswest && za.tz_dsttime == wz.tz_dsttime),
                    "op %zu: gettimeofday: %s %lld.%06lld tz %d, model %lld.%06lld tz %d", op_index,
                    ref->name, (long long)a.tv_sec, (long long)a.tv_usec, za.tz_minuteswest,
                    (long long)want.tv_sec, (long long)want.tv_usec, wz.tz_minuteswest);
        return;
    }
    int rb = live.l->gettimeofday(&b, &zb);
    bool served = model_ok && live_serves(0);
    FUZZ_ASSERT(
        (ra == rb || !served) &&
            (!served || (a.tv_sec == b.tv_sec && a.tv_usec == b.tv_usec &&
                         za.tz_minuteswest == zb.tz_minuteswest && za.tz_dsttime == zb.tz_dsttime)),
        "op %zu: gettimeofday: %s %lld.%06lld tz %d, live %lld.%06lld tz %d", op_index, ref->name,
        (long long)a.tv_sec, (long long)a.tv_usec, za.tz_minuteswest, (long long)b.tv_sec,
        (long long)b.tv_usec, zb.tz_minuteswest);
}

static void compare_time(void)
{
    struct tk_model_view v = model_view();
    int64_t ta = -1, tb = -1, want = -1, a = ref->l->time(&ta);
    int64_t b = live_on ? live.l->time(&tb) : a;

    tb = live_on ? tb : ta;
    FUZZ_ASSERT(a == b && ta == tb && a == ta, "op %zu: time(): %s %lld, live %lld", op_index,
                ref->name, (long long)a, (long long)b);
    FUZZ_ASSERT(live_on || (tk_model_time(&v, &want) == TK_MODEL_OK && want == a),
                "op %zu: time(): %s %lld, model %lld", op_index, ref->name, (long long)a,
                (long long)want);
}

static void compare_getres(int32_t clk)
{
    struct vdso_timespec a = {-1, -1}, b = {-1, -1};
    struct tk_model_view v = model_view();
    struct timespec want;
    int ra = ref->l->clock_getres(clk, &a);

    if (clk == 5 || clk == 6)
        return;
    if ((vdso_clock_bit(clk) & VDSO_AUX) && !ref->serves_aux) {
        /* An era without aux clocks asks the host, whose answer we repeat. */
        struct timespec host;
        bool host_ok = syscall(SYS_clock_getres, clk, &host) == 0;
        FUZZ_ASSERT((ra == 0) == host_ok, "op %zu: getres(%d): %s rc %d, host %s", op_index, clk,
                    ref->name, ra, host_ok ? "ok" : "error");
        return;
    }
    if (!live_on) {
        FUZZ_ASSERT(tk_model_clock_getres(&v, clk, &want) != TK_MODEL_OK ||
                        (ra == 0 && a.tv_sec == want.tv_sec && a.tv_nsec == want.tv_nsec),
                    "op %zu: getres(%d): %s rc %d {%lld, %lld}, model {%lld, %lld}", op_index, clk,
                    ref->name, ra, (long long)a.tv_sec, (long long)a.tv_nsec,
                    (long long)want.tv_sec, (long long)want.tv_nsec);
        return;
    }
    int rb = live.l->clock_getres(clk, &b);
    FUZZ_ASSERT(ra == rb && a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec,
                "op %zu: getres(%d): %s rc %d {%lld, %lld}, live rc %d {%lld, %lld}", op_index, clk,
                ref->name, ra, (long long)a.tv_sec, (long long)a.tv_nsec, rb, (long long)b.tv_sec,
                (long long)b.tv_nsec);
}

static void read_both(uint64_t arg)
{
    int32_t clk = vvar_read_clock(arg);

    vvar_settle(&ref->w);
    set_layout(ref, ref->w.timens);
    if (live_on) {
        vvar_settle(&live.w);
        set_layout(&live, live.w.timens);
    }
    if ((arg & 3) <= 1 && kernel_loop_too_long((arg & 3) ? 0 : clk))
        return;
    if ((arg & 3) == 0)
        compare_gettime(clk);
    else if ((arg & 3) == 1)
        compare_gettimeofday();
    else if ((arg & 3) == 2)
        compare_time();
    else
        compare_getres(clk);
}

static bool start_side(struct side *s, const struct vvar_header *h, const struct tk_script *script)
{
    /* One timekeeper per side for the whole run, reset for every input. */
    struct timekeeper *tk = s->w.tk;

    memset(s->l->dp.rw, 0, VDSO_DATA_PAGES * VDSO_PAGE_SIZE);
    if ((tk ? tk_reset_scripted(tk, script) : tk_init_scripted(&tk, &s->l->dp, script)) != 0)
        return false;
    s->w = (struct vvar_writer){.tk = tk, .no_tsc_mode = true, .timens = h->timens};
    if (h->timens)
        vvar_start_timens(tk);
    return true;
}

static bool start(const struct vvar_header *h)
{
    struct tk_script script;

    ref = load_era(h->era < vdso_ref_era_count ? h->era : vdso_ref_era_count - 1);
    live_on = ref->l->profile == live.l->profile && ref->l->delta == live.l->delta;
    vvar_script(h, &script);
    script.monotonic.tv_sec = SCRIPT_MONOTONIC_SEC;
    script.raw.tv_sec = SCRIPT_MONOTONIC_SEC - 1;
    return start_side(ref, h, &script) && (!live_on || start_side(&live, h, &script));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vvar_header h;
    struct vvar_op_rec r;

    if (!vvar_parse_header(data, size, &h))
        return 0;
    load_once();
    h.era = h.era_given ? h.era % (uint8_t)vdso_ref_era_count : (uint8_t)(vdso_ref_era_count - 1);
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
        vvar_apply(&ref->w, &r);
        if (live_on)
            vvar_apply(&live.w, &r);
    }
    vvar_settle(&ref->w);
    if (live_on)
        vvar_settle(&live.w);
    return 0;
}
