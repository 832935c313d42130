/*
 * The in-process targets: `ref` (the embedded reference image) and
 * `image:PATH` (any x86-64 Linux-ABI vDSO image file), each run by the
 * loader on six emulated data pages written by a hermetic timekeeper: the
 * host's counter, every constant (epoch, offsets, tz, fractions, per-state
 * slews and shifts, resolution profile, suspends) chosen from the run's
 * seed and unlike the host's, printed as the target's `emulated kernel`
 * line. The spec may end in ",counter=tsc|pvclock|hvclock" to choose
 * the counter the timekeeper publishes (default tsc) and ",hz=N" for the
 * emulated kernel's tick (its writer rate and TICK_NSEC, the coarse
 * clocks' resolution; default: the tick ref was built for, the host's for
 * an image file, with the writer at TICK_HZ) and ",layout=VERSION" (a
 * kernel version such as 6.12 whose layout profile the data pages take;
 * default: the one the image's `Linux` note names; for ref it also picks
 * the reference variant built for that version's era, vdso_ref.h). The
 * parent process loads the image once, without a writer thread, to
 * validate it and name it in the report; every group child then loads its
 * own instance with a writer ticking at TICK_HZ (conf_target_enter_child),
 * because threads, locks and the log do not survive a fork in a usable
 * state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inproc.h"
#include "oracle.h"
#include <vdsokit/alt_layout.h>
#include <vdsokit/counter.h>
#include <vdsokit/loader_trap.h>
#include <vdsokit/tk_syscall.h>

#define TICK_HZ          250 /* the emulated kernel's HZ: coarse clocks advance per tick */
#define CALIB_MS         20  /* TSC calibration per load (the timekeeper's rate source) */
#define MIN_HZ           24  /* the HZ choices Linux offers are 100, 250, 300 and 1000 */
#define MAX_HZ           10000
#define SNAPSHOT_WAIT_NS (2 * NSEC_PER_SEC) /* a writer preempted inside an update */
#define SNAPSHOT_SPINS   100                /* tries before yielding to the writer */

static const struct {
    const char *name;
    enum tk_counter_kind kind;
} counters[] = {
    {"tsc", TK_COUNTER_TSC},
    {"pvclock", TK_COUNTER_PVCLOCK_HOST},
    {"hvclock", TK_COUNTER_HVCLOCK_HOST},
};

/* The instance the oracle answers for: one per process (a group child). */
static struct vdso_loaded *oracle_loaded;

/* A target spec: "ref" or "image:PATH", then ",counter=X" and ",hz=N". */
struct inproc_spec {
    char file[sizeof(((struct conf_target *)0)->name)]; /* image:PATH's PATH; "" for ref */
    enum tk_counter_kind counter;
    unsigned hz;             /* 0: the image's own tick (ref) or the host's */
    uint32_t layout_version; /* 0: the image's note decides */
};

static int parse_option(const char *opt, struct inproc_spec *s)
{
    if (strncmp(opt, "counter=", 8) == 0) {
        for (unsigned i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
            if (strcmp(opt + 8, counters[i].name) == 0) {
                s->counter = counters[i].kind;
                return 0;
            }
        return -1;
    }
    if (strncmp(opt, "layout=", 7) == 0) {
        s->layout_version = alt_parse_version(opt + 7);
        return s->layout_version ? 0 : -1;
    }
    if (strncmp(opt, "hz=", 3) == 0) {
        char *end;
        unsigned long hz = strtoul(opt + 3, &end, 10);
        if (end == opt + 3 || *end || hz < MIN_HZ || hz > MAX_HZ)
            return -1;
        s->hz = (unsigned)hz;
        return 0;
    }
    return -1;
}

/* Split the spec at its commas (a PATH cannot contain one); -1 names no option. */
static int parse_spec(const struct conf_target *t, struct inproc_spec *s)
{
    char buf[sizeof(t->name)];

    *s = (struct inproc_spec){.counter = TK_COUNTER_TSC};
    snprintf(buf, sizeof(buf), "%s", t->kind == CONF_TARGET_IMAGE ? t->name + 6 : t->name);
    char *save = NULL;
    char *part = strtok_r(buf, ",", &save);
    if (t->kind == CONF_TARGET_IMAGE)
        snprintf(s->file, sizeof(s->file), "%s", part ? part : "");
    while ((part = strtok_r(NULL, ",", &save)))
        if (parse_option(part, s) != 0)
            return -1;
    return 0;
}

enum tk_counter_kind conf_inproc_counter(const struct conf_target *t)
{
    struct inproc_spec s;

    return parse_spec(t, &s) == 0 ? s.counter : TK_COUNTER_TSC;
}

static const char *counter_name(enum tk_counter_kind kind)
{
    for (unsigned i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
        if (counters[i].kind == kind)
            return counters[i].name;
    return "?";
}

static int inproc_clock_mode(const struct conf_target *t)
{
    struct vdso_loaded *l = conf_inproc(t);

    if (!l)
        return -1;
    const struct vdso_time_data *d = datapages_time(&l->dp);
    int mode = __atomic_load_n(&d->clock_data[0].clock_mode, __ATOMIC_RELAXED);
    if (mode == VDSO_CLOCKMODE_PVCLOCK &&
        !(__atomic_load_n(&datapages_pvclock(&l->dp)->flags, __ATOMIC_RELAXED) &
          PVCLOCK_TSC_STABLE_BIT))
        return VDSO_CLOCKMODE_NONE; /* the vDSO must fall back: say so */
    return mode;
}

void conf_inproc_print_state(FILE *out, const struct tk_log_entry *e)
{
    const struct vdso_clock *c = &e->data.clock_data[0], *r = &e->data.clock_data[1];

    fprintf(out,
            "generation %" PRIu64 " seq=%u mode=%d cycle_last=%" PRIu64 " mult=%u raw_mult=%u "
            "shift=%u max_cycles=%#" PRIx64 " realtime=%" PRIu64 "s+%#" PRIx64 " monotonic=%" PRIu64
            "s+%#" PRIx64 " boottime=%" PRIu64 "s raw=%" PRIu64 "s+%#" PRIx64
            " realtime_coarse=%" PRIu64 ".%09" PRIu64 " hrtimer_res=%u",
            e->generation, e->seq, c->clock_mode, c->cycle_last, c->mult, r->mult, c->shift,
            c->max_cycles, c->basetime[VDSO_CLOCK_REALTIME].sec,
            c->basetime[VDSO_CLOCK_REALTIME].nsec, c->basetime[VDSO_CLOCK_MONOTONIC].sec,
            c->basetime[VDSO_CLOCK_MONOTONIC].nsec, c->basetime[VDSO_CLOCK_BOOTTIME].sec,
            r->basetime[VDSO_CLOCK_MONOTONIC_RAW].sec, r->basetime[VDSO_CLOCK_MONOTONIC_RAW].nsec,
            c->basetime[VDSO_CLOCK_REALTIME_COARSE].sec,
            c->basetime[VDSO_CLOCK_REALTIME_COARSE].nsec, e->data.hrtimer_res);
}

static void inproc_describe(const struct conf_target *t, FILE *out)
{
    struct vdso_loaded *l = conf_inproc(t);

    if (!l || !l->tk)
        return;
    struct tk_log_entry e;
    uint64_t g = tk_generation(l->tk);
    if (tk_log_copy(l->tk, g, g, &e, 1) == 1) {
        fprintf(out, "emulated data page, newest committed state: ");
        conf_inproc_print_state(out, &e);
    }
    struct pvclock_vcpu_time_info pv;
    counter_pvclock_snapshot(datapages_pvclock(&l->dp), &pv);
    fprintf(out,
            "\npvclock page: version=%u flags=%#x tsc_timestamp=%" PRIu64 " system_time=%" PRIu64
            " mul=%u shift=%d; page seq now %u; layout %s, %s era",
            pv.version, pv.flags, pv.tsc_timestamp, pv.system_time, pv.tsc_to_system_mul,
            pv.tsc_shift,
            __atomic_load_n(&datapages_time(&l->dp)->clock_data[0].seq, __ATOMIC_RELAXED),
            l->layout == LOADER_LAYOUT_TIMENS ? "timens" : "root", l->profile->era);
}

static void bind(struct conf_target *t, struct vdso_loaded *l)
{
    t->inproc = l;
    t->text = l->text;
    t->text_size = l->image_size;
    t->fn.clock_gettime = (conf_clock_gettime_fn)l->clock_gettime;
    t->fn.gettimeofday = (conf_gettimeofday_fn)l->gettimeofday;
    t->fn.time = (conf_time_fn)l->time;
    t->fn.clock_getres = (conf_clock_getres_fn)l->clock_getres;
    t->fn.getcpu = (conf_getcpu_fn)l->getcpu;
    t->fn.getrandom = (conf_getrandom_fn)l->getrandom;
    t->missing[0] = 0;
    for (int s = 0; s < LOADER_SYM_GETRANDOM; s++) {
        if (l->sym[s] != LOADER_SYM_ABSENT)
            continue;
        size_t n = strlen(t->missing);
        snprintf(t->missing + n, sizeof(t->missing) - n, "%s%s@LINUX_2.6 not exported",
                 n ? ", " : "", loader_symbol_names[s]);
    }
}

/* The kernel's TICK_NSEC for a HZ: the tick rounded to the nearest ns. */
static uint32_t tick_nsec(unsigned hz)
{
    return (uint32_t)((NSEC_PER_SEC + hz / 2) / hz);
}

/*
 * with_writer: the group children's instance, whose writer thread ticks.
 * The parsed spec is left in s for the caller.
 */
static int load(struct conf_target *t, bool with_writer, struct inproc_spec *out, char *err,
                size_t errlen)
{
    struct inproc_spec s;

    if (parse_spec(t, &s) != 0) {
        snprintf(err, errlen,
                 "--target %s: options are ,counter=tsc|pvclock|hvclock, ,hz=N (%d-%d) and "
                 ",layout=VERSION (e.g. 6.12)",
                 t->name, MIN_HZ, MAX_HZ);
        return 2;
    }
    struct loader_options opt = {.clock = LOADER_CLOCK_HOST,
                                 .counter = s.counter,
                                 .calib_ms = CALIB_MS,
                                 .seeded = true,
                                 .seed = t->seed,
                                 .tick_hz = with_writer ? (s.hz ? s.hz : TICK_HZ) : 0,
                                 .tick_nsec = s.hz ? tick_nsec(s.hz) : 0,
                                 .linux_version = s.layout_version};
    struct vdsokit_error lerr;
    struct vdso_loaded *l;
    int rc = t->kind == CONF_TARGET_IMAGE ? loader_load_file(&l, s.file, &opt, &lerr)
                                          : loader_load_ref(&l, &opt, &lerr);
    if (rc) {
        snprintf(err, errlen, "--target %s: %s", t->name, lerr.msg);
        return 2;
    }
    bind(t, l);
    if (out)
        *out = s;
    return 0;
}

int conf_target_open_image(struct conf_target *t, const char *path, char *err, size_t errlen)
{
    t->kind = path ? CONF_TARGET_IMAGE : CONF_TARGET_REF;
    t->flags = CONF_TARGET_IN_PROCESS | CONF_TARGET_RAW_ABI;
    t->clock_mode = inproc_clock_mode;
    t->describe_state = inproc_describe;
    t->oracle.clock_gettime = conf_inproc_oracle_gettime;
    t->oracle.gettimeofday = conf_inproc_oracle_gettimeofday;
    t->oracle.time = conf_inproc_oracle_time;
    t->oracle.clock_getres = conf_inproc_oracle_getres;
    struct inproc_spec s;
    int rc = load(t, false, &s, err, errlen);
    if (rc)
        return rc;
    struct vdso_loaded *l = t->inproc;
    snprintf(t->detail, sizeof(t->detail),
             "%s%s, %zu bytes on emulated data pages (counter %s, clock mode %d, writer at %u Hz "
             "in each group, tick %u ns, layout %s%s), %u alternatives applied",
             path ? "vDSO image file" : "embedded reference image ", path ? "" : l->name,
             l->image_size, counter_name(s.counter), inproc_clock_mode(t), s.hz ? s.hz : TICK_HZ,
             tk_low_res_nsec(l->tk), l->profile->era, s.layout_version ? " by override" : "",
             l->alt.applied);
    tk_constants_describe(tk_constants_of(l->tk), tk_low_res_nsec(l->tk), t->emulated,
                          sizeof(t->emulated));
    return 0;
}

int conf_target_enter_child(struct conf_target *t, char *err, size_t errlen)
{
    if (!(t->flags & CONF_TARGET_IN_PROCESS))
        return 0;
    /* The parent's instance has no thread; drop this copy of its mappings. */
    loader_unload(t->inproc);
    t->inproc = NULL;
    /* Hermetic: the image's time syscalls go to the emulated kernel, before
     * any of its code runs (threads created later inherit the filter). */
    struct vdsokit_error lerr;
    if (loader_trap_install(&lerr) != 0) {
        snprintf(err, errlen, "--target %s: %s", t->name, lerr.msg);
        return 2;
    }
    int rc = load(t, true, NULL, err, errlen);
    if (rc == 0)
        oracle_loaded = t->inproc;
    return rc;
}

void conf_target_close(struct conf_target *t)
{
    if (t->flags & CONF_TARGET_IN_PROCESS)
        loader_unload(t->inproc);
    t->inproc = NULL;
}

/* ---- the oracle: the model of "now" ---- */

struct tk_model_view conf_inproc_view(struct vdso_loaded *l, const struct tk_log_entry *e,
                                      uint64_t counter)
{
    return (struct tk_model_view){.page0 = &e->data,
                                  .real = NULL,
                                  .counter = counter,
                                  .low_res_nsec = tk_low_res_nsec(l->tk),
                                  .delta = l->delta};
}

/* The time page's seq as a reader loads it (odd: an update is in flight). */
static uint32_t page_seq(struct vdso_loaded *l)
{
    return __atomic_load_n(&datapages_time(&l->dp)->clock_data[0].seq, __ATOMIC_ACQUIRE);
}

/*
 * The reader's protocol on the log: a state counts as now only while the
 * page's seq is even and unchanged around the counter read, so a counter
 * read during an update (whose new rate starts at a cycle_last before it)
 * is never paired with the old state. The writer may be preempted inside
 * an update on a loaded machine: the wait is bounded in time.
 */
bool conf_inproc_snapshot(struct vdso_loaded *l, struct conf_inproc_now *now)
{
    int64_t give_up = 0; /* the clock is a syscall: read only once the first tries failed */

    for (unsigned tries = 0;; tries++) {
        uint32_t seq = page_seq(l);
        uint64_t g = tk_generation(l->tk);
        if (!(seq & 1) && tk_log_copy(l->tk, g, g, &now->state, 1) == 1) {
            /* Read as the vDSO would in that state's mode (its own seqlocks). */
            now->counter =
                counter_read_for_mode(now->state.data.clock_data[0].clock_mode,
                                      datapages_pvclock(&l->dp), datapages_hvclock(&l->dp));
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if (page_seq(l) == seq && tk_generation(l->tk) == g)
                return true;
        }
        if (tries < SNAPSHOT_SPINS)
            continue;
        if (!give_up)
            give_up = mono_now_ns() + SNAPSHOT_WAIT_NS;
        else if (mono_now_ns() > give_up)
            return false;
        sched_yield();
    }
}

int64_t conf_inproc_state_age_ns(const struct conf_target *t, clockid_t clk)
{
    struct vdso_loaded *l = conf_inproc(t);
    struct conf_inproc_now now;

    if (!l || !l->tk || !conf_inproc_snapshot(l, &now))
        return 0;
    struct timespec then, cur;
    struct tk_model_view v = conf_inproc_view(l, &now.state, now.counter);
    if (tk_model_clock_gettime(&v, clk, &cur) != TK_MODEL_OK)
        return 0;
    v.counter = now.state.data.clock_data[0].cycle_last;
    if (tk_model_clock_gettime(&v, clk, &then) != TK_MODEL_OK)
        return 0;
    return ts_ns(&cur) - ts_ns(&then);
}

/*
 * Where the model says the image falls back, the answer is the emulated
 * kernel's syscall (tk_syscall.h) with the kernel's copy-out rules (a NULL
 * timespec is -EFAULT for gettime, no error for getres); only the clocks
 * it does not own (CPU time) are the host's.
 */
static int emulated_gettime(clockid_t clk, struct timespec *ts)
{
    struct timespec k;
    int r = tk_sys_clock_gettime(oracle_loaded->tk, clk, &k, NULL);

    if (r == TK_SYS_HOST)
        return sys_clock_gettime(clk, ts);
    if (r == 0 && !ts)
        return -EFAULT;
    if (r == 0)
        *ts = k;
    return r;
}

static int emulated_getres(clockid_t clk, struct timespec *res)
{
    struct timespec k;
    int r = tk_sys_clock_getres(oracle_loaded->tk, clk, &k, NULL);

    if (r == TK_SYS_HOST)
        return sys_clock_getres(clk, res);
    if (r == 0 && res)
        *res = k;
    return r;
}

int conf_inproc_oracle_gettime(clockid_t clk, struct timespec *ts)
{
    struct conf_inproc_now now;
    struct timespec v;

    if (!oracle_loaded)
        return -ENXIO;
    if (ts && conf_inproc_snapshot(oracle_loaded, &now)) {
        struct tk_model_view mv = conf_inproc_view(oracle_loaded, &now.state, now.counter);
        if (tk_model_clock_gettime(&mv, clk, &v) == TK_MODEL_OK) {
            *ts = v;
            return 0;
        }
    }
    return emulated_gettime(clk, ts);
}

int conf_inproc_oracle_gettimeofday(struct timeval *tv, struct timezone *tz)
{
    struct conf_inproc_now now;

    if (!oracle_loaded)
        return -ENXIO;
    if (conf_inproc_snapshot(oracle_loaded, &now)) {
        struct tk_model_view v = conf_inproc_view(oracle_loaded, &now.state, now.counter);
        if (tk_model_gettimeofday(&v, tv, tz) == TK_MODEL_OK)
            return 0;
    }
    return tk_sys_gettimeofday(oracle_loaded->tk, tv, tz, NULL);
}

int conf_inproc_oracle_getres(clockid_t clk, struct timespec *res)
{
    struct conf_inproc_now now;

    if (!oracle_loaded)
        return -ENXIO;
    if ((vdso_clock_bit(clk) & (VDSO_HRES | VDSO_RAW | VDSO_COARSE)) &&
        conf_inproc_snapshot(oracle_loaded, &now)) {
        struct tk_model_view v = conf_inproc_view(oracle_loaded, &now.state, now.counter);
        if (tk_model_clock_getres(&v, clk, res) == TK_MODEL_OK)
            return 0;
    }
    return emulated_getres(clk, res);
}

long conf_inproc_oracle_time(long *t)
{
    struct conf_inproc_now now;
    int64_t v;

    if (!oracle_loaded)
        return -ENXIO;
    if (conf_inproc_snapshot(oracle_loaded, &now)) {
        struct tk_model_view mv = conf_inproc_view(oracle_loaded, &now.state, now.counter);
        if (tk_model_time(&mv, &v) == TK_MODEL_OK) {
            if (t)
                *t = (long)v;
            return (long)v;
        }
    }
    v = tk_sys_time(oracle_loaded->tk, NULL);
    if (t)
        *t = (long)v;
    return (long)v;
}
