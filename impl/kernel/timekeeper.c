/*
 * The timekeeper's life: allocation, the scripted start (every input chosen
 * by the caller), a reset to a new script on the same allocation, and
 * destruction, which stops the writer thread first. The host start, which
 * builds on the same allocation, is in tk_host.c; the time state a start
 * sets up is struct tk_state (tk_internal.h), so a reset clears it at once.
 */
#include "tk_internal.h"
#include <errno.h>
#include <stdlib.h>

static int init_sync(struct timekeeper *tk)
{
    int err = pthread_mutex_init(&tk->lock, NULL);

    if (err)
        return -err;
    err = pthread_cond_init(&tk->hand_done, NULL);
    if (err) {
        pthread_mutex_destroy(&tk->lock);
        return -err;
    }
    return 0;
}

static void fini_sync(struct timekeeper *tk)
{
    pthread_cond_destroy(&tk->hand_done);
    pthread_mutex_destroy(&tk->lock);
}

int tk_alloc(struct timekeeper **tkp, struct vdso_datapages *dp, unsigned log_entries)
{
    struct timekeeper *tk = calloc(1, sizeof(*tk));

    if (!tk)
        return -ENOMEM;
    int err = init_sync(tk);
    if (!err) {
        err = tk_log_init(&tk->log, log_entries);
        if (err)
            fini_sync(tk);
    }
    if (err) {
        free(tk);
        return err;
    }
    tk->dp = dp;
    tk->st.hrtimer_res = DEFAULT_HRTIMER_RES_NS;
    tk->st.low_res_nsec = DEFAULT_LOW_RES_NS;
    *tkp = tk;
    return 0;
}

void tk_destroy(struct timekeeper *tk)
{
    if (!tk)
        return;
    tk_writer_stop(tk);
    tk_log_fini(&tk->log);
    fini_sync(tk);
    free(tk);
}

struct vdso_datapages *tk_datapages(const struct timekeeper *tk)
{
    return tk->dp;
}

uint32_t tk_low_res_nsec(const struct timekeeper *tk)
{
    return tk->st.low_res_nsec;
}

static int check_script(const struct tk_script *s)
{
    if (s->shift > 32 || s->counter > TK_COUNTER_HVCLOCK_HOST)
        return -EINVAL;
    return 0;
}

static void script_clocksource(struct tk_clocksource *cs, const struct tk_script *s)
{
    cs->kind = s->counter;
    cs->mult = s->mult;
    cs->raw_mult = s->raw_mult ? s->raw_mult : s->mult;
    cs->shift = s->shift;
    cs->mask = s->mask ? s->mask : UINT64_MAX;
    cs->max_cycles = s->max_cycles ? s->max_cycles : clocksource_max_cycles(cs->raw_mult, cs->mask);
}

/* The script's clock values at counter_start, on the script's domain. */
static int script_domain(struct timekeeper *tk, const struct tk_script *s)
{
    struct tk_state *st = &tk->st;
    int err = 0;

    script_clocksource(&st->manual_cs, s);
    /* Host-scaled pages need a rate to be programmed; the script's
     * mult/shift still define the conversion. */
    if (s->counter == TK_COUNTER_PVCLOCK_HOST || s->counter == TK_COUNTER_HVCLOCK_HOST)
        err = tk_ensure_rate(tk, 0);
    uint64_t tsc = counter_rdtsc();
    st->cs = st->manual_cs;
    tk_set_bases(tk, s->realtime, s->monotonic, s->boot_offset, s->raw);
    if (!err)
        err = tk_program_domain(tk, s->counter, tsc, s->counter_start);
    if (err)
        return err;
    st->cs = st->manual_cs; /* the script's rates hold for its first domain */
    st->cycle_last = tk_domain_counter(tk, s->counter, tsc);
    return 0;
}

/* The page settings a script chooses (zero fields take the defaults). */
static void script_settings(struct tk_state *st, const struct tk_script *s)
{
    st->tai_offset = s->tai_offset;
    st->hrtimer_res = s->hrtimer_res ? s->hrtimer_res : DEFAULT_HRTIMER_RES_NS;
    st->low_res_nsec = s->low_res_nsec ? s->low_res_nsec : DEFAULT_LOW_RES_NS;
    st->clock_mode = tk_mode_for(s->counter);
    st->shadow.tz_minuteswest = s->tz_minuteswest;
    st->shadow.tz_dsttime = s->tz_dsttime;
    st->shadow.clock_data[VDSO_CS_HRES_COARSE].seq = s->seq_start;
    st->shadow.clock_data[VDSO_CS_RAW].seq = s->seq_start;
}

/* The scripted start on a fresh or just cleared time state. */
static int scripted_start_locked(struct timekeeper *tk, const struct tk_script *s)
{
    int err = script_domain(tk, s);

    if (err)
        return err;
    script_settings(&tk->st, s);
    tk_apply_slew(tk);
    tk_publish_start(tk);
    return 0;
}

int tk_init_scripted(struct timekeeper **tkp, struct vdso_datapages *dp, const struct tk_script *s)
{
    int err = check_script(s);

    if (err)
        return err;
    struct timekeeper *tk;
    err = tk_alloc(&tk, dp, s->log_entries);
    if (err)
        return err;
    tk_lock(tk);
    err = scripted_start_locked(tk, s);
    tk_unlock(tk);
    if (err) {
        tk_destroy(tk);
        return err;
    }
    *tkp = tk;
    return 0;
}

static int reset_locked(struct timekeeper *tk, const struct tk_script *s)
{
    if (tk->writer.running || tk->hand_open)
        return -EBUSY;
    int err = tk_log_reset(&tk->log, s->log_entries);
    if (err)
        return err;
    /* The TSC calibration is the host's, not the script's: it stays. */
    tk->st = (struct tk_state){0};
    __atomic_store_n(&tk->generation, 0, __ATOMIC_RELEASE);
    return scripted_start_locked(tk, s);
}

int tk_reset_scripted(struct timekeeper *tk, const struct tk_script *s)
{
    int err = check_script(s);

    if (err)
        return err;
    tk_lock(tk);
    err = reset_locked(tk, s);
    tk_unlock(tk);
    return err;
}
