/*
 * Op-stream parsing and the writer side of the vvar fuzzers (see
 * vvar_ops.h). Arguments are folded into ranges a kernel could plausibly
 * produce, except for the raw operations, whose point is the implausible.
 */
#include "vvar_ops.h"

#include <string.h>

#include <vdsokit/datapages.h>
#include <vdsokit/timespec.h>
#include <vdsokit/timekeeper_raw.h>

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

bool vvar_parse_header(const uint8_t *data, size_t size, struct vvar_header *h)
{
    static const uint32_t seq_starts[] = {0, 0x7ffffff8u, 0xfffffff8u, 0xffffffc0u};

    if (size < VVAR_HEADER_SIZE || !vvar_format_known(data[0]))
        return false;
    h->hvclock = data[1] & 1;
    h->timens = data[1] >> 1 & 1;
    h->seq_start = seq_starts[data[1] >> 2 & 3];
    h->era_given = data[0] >= 3;
    h->era = data[1] >> 4;
    h->shift = data[2] % 33;
    h->tai = (int8_t)data[3];
    h->mult = (uint32_t)le64(data + 4) ? (uint32_t)le64(data + 4) : 1u << (h->shift % 32);
    h->realtime_sec = le64(data + 8) % (1ull << 40);
    return true;
}

bool vvar_record(const uint8_t *data, size_t size, size_t i, struct vvar_op_rec *r)
{
    size_t off = VVAR_HEADER_SIZE + i * VVAR_RECORD_SIZE;

    if (i >= VVAR_MAX_OPS || size < off + VVAR_RECORD_SIZE)
        return false;
    r->op = (enum vvar_op)(data[off] % vvar_op_count(data[0]));
    r->arg = le64(data + off + 1);
    return true;
}

/*
 * The ids a READ may call: the clocks the vDSO serves, the CPU-time and
 * alarm ones it must pass to the syscall, the first and last aux clock,
 * and two ids outside every class (-1 and one past the aux range).
 */
static const int32_t read_clocks[16] = {
    VDSO_CLOCK_REALTIME,
    VDSO_CLOCK_MONOTONIC,
    VDSO_CLOCK_MONOTONIC_RAW,
    VDSO_CLOCK_REALTIME_COARSE,
    VDSO_CLOCK_MONOTONIC_COARSE,
    VDSO_CLOCK_BOOTTIME,
    VDSO_CLOCK_TAI,
    VDSO_CLOCK_PROCESS_CPUTIME,
    VDSO_CLOCK_THREAD_CPUTIME,
    VDSO_CLOCK_REALTIME_ALARM,
    VDSO_CLOCK_BOOTTIME_ALARM,
    VDSO_CLOCK_SGI_CYCLE,
    VDSO_CLOCK_AUX,
    VDSO_CLOCK_AUX_LAST,
    -1,
    VDSO_CLOCK_AUX_LAST + 1,
};

int32_t vvar_read_clock(uint64_t arg)
{
    return read_clocks[arg >> 2 & 15];
}

const struct vdso_clock *vvar_mode_clock(const struct vdso_time_data *t, int32_t clk)
{
    return vdso_clock_bit(clk) & VDSO_AUX ? &t->aux_clock_data[clk - VDSO_CLOCK_AUX]
                                          : &t->clock_data[0];
}

void vvar_script(const struct vvar_header *h, struct tk_script *s)
{
    memset(s, 0, sizeof(*s));
    s->counter = h->hvclock ? TK_COUNTER_HVCLOCK_MANUAL : TK_COUNTER_PVCLOCK_MANUAL;
    s->counter_start = 1000000;
    s->mult = h->mult;
    s->shift = h->shift;
    s->realtime.tv_sec = (time_t)h->realtime_sec;
    s->monotonic.tv_sec = 1000;
    s->boot_offset.tv_sec = 5;
    s->raw.tv_sec = 999;
    s->tai_offset = h->tai;
    s->seq_start = h->seq_start;
    /* One input commits few states between checks: a small log keeps the
     * per-input timekeeper cheap (the default ring is ~600 KB). */
    s->log_entries = 32;
}

void vvar_start_timens(struct timekeeper *tk)
{
    tk_timens_set(tk, (struct timens_offset){100, 5}, (struct timens_offset){200, 7});
}

static void raw_publish(struct timekeeper *tk, uint64_t arg)
{
    struct vdso_clock cd[VDSO_CS_BASES];
    const struct vdso_time_data *page = datapages_time(tk_datapages(tk));
    uint64_t v = arg >> 8;
    struct vdso_clock *c;

    for (int i = 0; i < VDSO_CS_BASES; i++)
        datapages_load_clock(&cd[i], &page->clock_data[i]);
    c = &cd[arg >> 7 & 1];
    switch (arg & 7) {
    case 0:
        c->cycle_last = v;
        break;
    case 1:
        c->max_cycles = v;
        break;
    case 2:
        c->mask = v;
        break;
    case 3:
        c->mult = (uint32_t)v;
        break;
    case 4:
        c->shift = (uint32_t)v % 64;
        break;
    case 5:
        c->basetime[v % VDSO_BASES].nsec = v >> 4;
        break;
    case 6:
        c->basetime[v % VDSO_BASES].sec = v >> 4;
        break;
    default:
        c->cycle_last = tk_counter_now(tk) + (v & 0xffff);
        break;
    }
    tk_publish_raw(tk, cd);
}

static void pv_version(struct timekeeper *tk, bool odd)
{
    uint32_t v = __atomic_load_n(&datapages_pvclock(tk_datapages(tk))->version, __ATOMIC_RELAXED);

    tk_pvclock_set_version(tk, odd ? v | 1 : (v | 1) + 1);
}

static enum vvar_effect apply_counter(struct vvar_writer *w, const struct vvar_op_rec *r)
{
    struct timekeeper *tk = w->tk;
    uint64_t now = tk_counter_now(tk);
    const struct vdso_time_data *page = datapages_time(tk_datapages(tk));
    uint64_t max = __atomic_load_n(&page->clock_data[0].max_cycles, __ATOMIC_RELAXED);

    switch (r->op) {
    case VVAR_FORWARD:
        tk_advance_counter(tk, r->arg % (1ull << 40));
        return VVAR_CONTINUOUS;
    case VVAR_BACKWARD: {
        /* Never below zero: a wrapped 64-bit counter is no machine's. */
        uint64_t back = r->arg % (1ull << 32);
        tk_set_counter(tk, now - (back < now ? back : now));
        return VVAR_DISCONTINUOUS;
    }
    default: /* VVAR_PAST_MAX */
        tk_advance_counter(tk, (max < (1ull << 40) ? max : 1ull << 40) + r->arg % (1u << 20));
        return VVAR_CONTINUOUS;
    }
}

/* Enable (at a base from arg) or disable aux clock 0 or 7. */
static void apply_aux(struct vvar_writer *w, uint64_t arg)
{
    unsigned idx = arg & 1 ? 7 : 0;
    struct timespec base = {(time_t)(arg >> 8 & 0x3ffffff), (long)((arg >> 34) % NSEC_PER_SEC)};

    if (arg & 2)
        tk_aux_enable(w->tk, idx, base);
    else
        tk_aux_disable(w->tk, idx);
}

/*
 * The modes VVAR_MODE writes: the four a vDSO knows, then two it must
 * treat as unknown (fall back): one above VDSO_CLOCKMODE_MAX, one negative.
 */
static const int32_t vvar_modes[] = {
    VDSO_CLOCKMODE_NONE, VDSO_CLOCKMODE_TSC, VDSO_CLOCKMODE_PVCLOCK, VDSO_CLOCKMODE_HVCLOCK, 7, -1,
};

static enum vvar_effect apply_op(struct vvar_writer *w, const struct vvar_op_rec *r)
{
    struct timekeeper *tk = w->tk;
    int64_t sarg = (int64_t)r->arg;

    switch (r->op) {
    case VVAR_ACCUMULATE:
        tk_advance_counter(tk, r->arg % (1ull << 32));
        tk_accumulate(tk);
        return VVAR_CONTINUOUS;
    case VVAR_STEP:
        tk_step_realtime(tk, sarg % (1ll << 40));
        return VVAR_CONTINUOUS;
    case VVAR_SLEW:
        tk_slew_ppm(tk, (int32_t)(sarg % 1000));
        return VVAR_CONTINUOUS;
    case VVAR_TAI:
        tk_set_tai_offset(tk, (int8_t)r->arg);
        return VVAR_CONTINUOUS;
    case VVAR_BOOT:
        tk_add_boot_offset(tk, (int64_t)(r->arg % (1ull << 44)));
        return VVAR_CONTINUOUS;
    case VVAR_SLEEP:
        tk_inject_sleep(tk, (int64_t)(r->arg % (1ull << 44)));
        return VVAR_CONTINUOUS;
    case VVAR_MODE: {
        int32_t mode = vvar_modes[r->arg % (sizeof(vvar_modes) / sizeof(vvar_modes[0]))];
        if (w->no_tsc_mode && mode == VDSO_CLOCKMODE_TSC)
            mode = VDSO_CLOCKMODE_NONE;
        tk_set_clock_mode(tk, mode);
        return VVAR_DISCONTINUOUS;
    }
    case VVAR_SWITCH:
        if (tk_switch_counter(tk, r->arg & 1 ? TK_COUNTER_HVCLOCK_MANUAL
                                             : TK_COUNTER_PVCLOCK_MANUAL) == 0)
            w->domain_mode = r->arg & 1 ? VDSO_CLOCKMODE_HVCLOCK : VDSO_CLOCKMODE_PVCLOCK;
        return VVAR_DISCONTINUOUS;
    case VVAR_TIMENS_ON: {
        struct timens_offset mono = {(int64_t)(r->arg >> 32) % 100000,
                                     (uint32_t)r->arg % NSEC_PER_SEC};
        struct timens_offset boot = {mono.sec + (int64_t)(r->arg >> 56), mono.nsec};
        tk_timens_set(tk, mono, boot);
        w->timens = true;
        return VVAR_DISCONTINUOUS;
    }
    case VVAR_TIMENS_OFF:
        w->timens = false;
        return VVAR_DISCONTINUOUS;
    case VVAR_RNG:
        tk_rng_bump(tk);
        return VVAR_CONTINUOUS;
    case VVAR_HRES:
        tk_set_hrtimer_res(tk, r->arg & 1 ? 1 : 4000000);
        return VVAR_CONTINUOUS;
    case VVAR_TZ:
        tk_set_tz(tk, (int32_t)(sarg % 1441), (int32_t)(r->arg >> 32) % 2);
        return VVAR_CONTINUOUS;
    case VVAR_SEQ_ODD:
        if (!w->update_open && tk_update_begin(tk) == 0)
            w->update_open = true;
        return VVAR_CONTINUOUS;
    case VVAR_SEQ_WRAP: {
        /* Only forward, as a burst of updates would: a seq that returns to
         * a value a reader began with is no writer's (ABA), not a finding. */
        const struct vdso_time_data *page = datapages_time(tk_datapages(tk));
        uint32_t cur = __atomic_load_n(&page->clock_data[0].seq, __ATOMIC_RELAXED);
        uint32_t target = 0u - 2u * (1u + (uint32_t)(r->arg % 8));
        if (!w->update_open && target - cur >= 2 && target - cur < 1u << 31)
            tk_set_seq(tk, target);
        return VVAR_CONTINUOUS;
    }
    case VVAR_PV_ODD:
        if (!w->pv_odd)
            pv_version(tk, true);
        w->pv_odd = true;
        return VVAR_CONTINUOUS;
    case VVAR_PV_STABLE:
        tk_pvclock_set_stable(tk, r->arg & 1);
        return VVAR_DISCONTINUOUS;
    case VVAR_RAW:
        raw_publish(tk, r->arg);
        return VVAR_DISCONTINUOUS;
    case VVAR_FORWARD:
    case VVAR_BACKWARD:
    case VVAR_PAST_MAX:
        return apply_counter(w, r);
    case VVAR_AUX:
        apply_aux(w, r->arg);
        return VVAR_CONTINUOUS; /* the clocks the monotonic check follows stay as they were */
    default:
        return VVAR_CONTINUOUS; /* VVAR_READ is the reader's */
    }
}

/*
 * Did the operation publish the timekeeper's own counter-based state over
 * the page? Every tk_publish does, except in mode NONE, where (like the
 * kernel) only REALTIME and the coarse bases are refreshed and cycle_last,
 * mult and the other bases stay as they were. TIMENS_ON writes only the
 * namespace page: whatever RAW left on the time page is still there.
 */
static bool publishes_state(const struct vvar_writer *w, enum vvar_op op)
{
    const struct vdso_clock *c0 = &datapages_time(tk_datapages(w->tk))->clock_data[0];

    if (!(op <= VVAR_SWITCH || op == VVAR_HRES))
        return false;
    return __atomic_load_n(&c0->clock_mode, __ATOMIC_RELAXED) != VDSO_CLOCKMODE_NONE;
}

enum vvar_effect vvar_apply(struct vvar_writer *w, const struct vvar_op_rec *r)
{
    enum vvar_effect e = apply_op(w, r);
    uint32_t v;

    /*
     * After RAW data or a counter moved below cycle_last, readers may see
     * anything the arithmetic gives (the x86 negative-motion clamp needs
     * max_cycles < 2^62, which a script with mult 1 does not give), until
     * an ordinary update publishes the timekeeper's state at a counter at
     * or past cycle_last. Every step until then is discontinuous.
     */
    if (r->op == VVAR_RAW || r->op == VVAR_BACKWARD)
        w->stale_pending = true;
    if (w->stale_pending) {
        const struct vdso_clock *c0 = &datapages_time(tk_datapages(w->tk))->clock_data[0];
        if (publishes_state(w, r->op) &&
            tk_counter_now(w->tk) >= __atomic_load_n(&c0->cycle_last, __ATOMIC_RELAXED))
            w->stale_pending = false;
        e = VVAR_DISCONTINUOUS;
    }
    v = __atomic_load_n(&datapages_pvclock(tk_datapages(w->tk))->version, __ATOMIC_RELAXED);
    /* Any pvclock write (a counter move, TSC_STABLE) completes a PV_ODD write. */
    w->pv_odd = v & 1;
    return e;
}

void vvar_settle(struct vvar_writer *w)
{
    if (w->update_open) {
        tk_update_end(w->tk);
        w->update_open = false;
    }
    if (w->pv_odd) {
        pv_version(w->tk, false);
        w->pv_odd = false;
    }
}
