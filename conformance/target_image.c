/*
 * The in-process targets: `ref` (the embedded reference image) and
 * `image:PATH` (any x86-64 Linux-ABI vDSO image file), each run by the
 * loader on six emulated data pages written by a timekeeper that follows
 * the host. The spec may end in ",counter=tsc|pvclock|hvclock" to choose
 * the counter the timekeeper publishes (default tsc). The parent process
 * loads the image once, without a writer thread, to validate it and name
 * it in the report; every group child then loads its own instance with a
 * writer ticking at TICK_HZ (conf_target_enter_child), because threads,
 * locks and the log do not survive a fork in a usable state.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "inproc.h"
#include "oracle.h"
#include <vdsokit/counter.h>

#define TICK_HZ  250 /* the emulated kernel's HZ: coarse clocks advance per tick */
#define CALIB_MS 20  /* TSC calibration per load (the timekeeper's rate source) */

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

/* Split "PATH,counter=X" (or "ref,counter=X"); returns -1 on an unknown X. */
static int parse_counter(const char *spec_tail, enum tk_counter_kind *kind)
{
    *kind = TK_COUNTER_TSC;
    const char *opt = strstr(spec_tail, ",counter=");
    if (!opt)
        return 0;
    for (unsigned i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
        if (strcmp(opt + 9, counters[i].name) == 0) {
            *kind = counters[i].kind;
            return 0;
        }
    return -1;
}

enum tk_counter_kind conf_inproc_counter(const struct conf_target *t)
{
    enum tk_counter_kind kind;

    return parse_counter(t->name, &kind) == 0 ? kind : TK_COUNTER_TSC;
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
            " mul=%u shift=%d; page seq now %u; layout %s",
            pv.version, pv.flags, pv.tsc_timestamp, pv.system_time, pv.tsc_to_system_mul,
            pv.tsc_shift,
            __atomic_load_n(&datapages_time(&l->dp)->clock_data[0].seq, __ATOMIC_RELAXED),
            l->layout == LOADER_LAYOUT_TIMENS ? "timens" : "root");
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
    t->missing[0] = 0;
    for (int s = 0; s < LOADER_SYM_GETRANDOM; s++) {
        if (l->sym[s] != LOADER_SYM_ABSENT)
            continue;
        size_t n = strlen(t->missing);
        snprintf(t->missing + n, sizeof(t->missing) - n, "%s%s@LINUX_2.6 not exported",
                 n ? ", " : "", loader_symbol_names[s]);
    }
}

static int load(struct conf_target *t, unsigned tick_hz, char *err, size_t errlen)
{
    enum tk_counter_kind kind;
    const char *path = t->kind == CONF_TARGET_IMAGE ? t->name + 6 : NULL;
    char file[sizeof(t->name)];

    if (parse_counter(t->name, &kind) != 0) {
        snprintf(err, errlen, "--target %s: unknown counter (tsc, pvclock, hvclock)", t->name);
        return 2;
    }
    if (path) {
        snprintf(file, sizeof(file), "%s", path);
        char *opt = strstr(file, ",counter=");
        if (opt)
            *opt = 0;
    }
    struct loader_options opt = {
        .clock = LOADER_CLOCK_HOST, .counter = kind, .calib_ms = CALIB_MS, .tick_hz = tick_hz};
    struct vdsokit_error lerr;
    struct vdso_loaded *l;
    int rc = path ? loader_load_file(&l, file, &opt, &lerr) : loader_load_ref(&l, &opt, &lerr);
    if (rc) {
        snprintf(err, errlen, "--target %s: %s", t->name, lerr.msg);
        return 2;
    }
    bind(t, l);
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
    int rc = load(t, 0, err, errlen);
    if (rc)
        return rc;
    struct vdso_loaded *l = t->inproc;
    snprintf(t->detail, sizeof(t->detail),
             "%s, %zu bytes on emulated data pages (counter %s, clock mode %d, writer at %d Hz "
             "in each group), %u alternatives applied",
             path ? "vDSO image file" : "embedded reference image", l->image_size,
             counter_name(conf_inproc_counter(t)), inproc_clock_mode(t), TICK_HZ, l->alt.applied);
    return 0;
}

int conf_target_enter_child(struct conf_target *t, char *err, size_t errlen)
{
    if (!(t->flags & CONF_TARGET_IN_PROCESS))
        return 0;
    /* The parent's instance has no thread; drop this copy of its mappings. */
    loader_unload(t->inproc);
    t->inproc = NULL;
    int rc = load(t, TICK_HZ, err, errlen);
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
                                  .low_res_nsec = tk_low_res_nsec(l->tk)};
}

bool conf_inproc_snapshot(struct vdso_loaded *l, struct conf_inproc_now *now)
{
    for (int tries = 0; tries < 100000; tries++) {
        uint64_t g = tk_generation(l->tk);
        if (tk_log_copy(l->tk, g, g, &now->state, 1) != 1)
            continue;
        /* Read as the vDSO would in that state's mode (its own seqlocks). */
        now->counter = counter_read_for_mode(now->state.data.clock_data[0].clock_mode,
                                             datapages_pvclock(&l->dp), datapages_hvclock(&l->dp));
        if (tk_generation(l->tk) == g)
            return true;
    }
    return false;
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

int conf_inproc_oracle_gettime(clockid_t clk, struct timespec *ts)
{
    struct conf_inproc_now now;

    if (oracle_loaded && conf_inproc_snapshot(oracle_loaded, &now)) {
        struct tk_model_view v = conf_inproc_view(oracle_loaded, &now.state, now.counter);
        if (tk_model_clock_gettime(&v, clk, ts) == TK_MODEL_OK)
            return 0;
    }
    return sys_clock_gettime(clk, ts);
}

int conf_inproc_oracle_gettimeofday(struct timeval *tv, struct timezone *tz)
{
    struct conf_inproc_now now;

    if (oracle_loaded && conf_inproc_snapshot(oracle_loaded, &now)) {
        struct tk_model_view v = conf_inproc_view(oracle_loaded, &now.state, now.counter);
        if (tk_model_gettimeofday(&v, tv, tz) == TK_MODEL_OK)
            return 0;
    }
    return sys_gettimeofday(tv, tz);
}

long conf_inproc_oracle_time(long *t)
{
    struct conf_inproc_now now;
    int64_t v;

    if (oracle_loaded && conf_inproc_snapshot(oracle_loaded, &now)) {
        struct tk_model_view mv = conf_inproc_view(oracle_loaded, &now.state, now.counter);
        if (tk_model_time(&mv, &v) == TK_MODEL_OK) {
            if (t)
                *t = (long)v;
            return (long)v;
        }
    }
    return sys_time(t);
}
