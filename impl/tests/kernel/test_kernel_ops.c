/*
 * Timekeeper operations on a scripted timekeeper with a manual counter, each
 * checked through the model on the published page: the initial bases, ticks,
 * REALTIME steps, TAI, suspend and boot offsets, tz without seq, hrtimer_res,
 * clock modes (NONE keeps the counter-based slots stale; unknown modes fall
 * back), counter domain switches that keep MONOTONIC continuous, the pvclock
 * seqlock and stable flag, the namespace page through a TIMENS reader view,
 * rng and aux clocks, raw publishing and argument checks.
 */
#include "../check.h"
#include "tk_test.h"
#include <errno.h>
#include <sys/mman.h>
#include <vdsokit/timekeeper_raw.h>

static struct timespec now(struct timekeeper *tk, int32_t clk)
{
    struct timespec ts = {-1, -1};
    enum tk_model_outcome o = model_now(tk, clk, &ts);

    CHECK(o == TK_MODEL_OK, "clock %d: %s", clk, tk_model_outcome_name(o));
    return ts;
}

static int64_t now_ns(struct timekeeper *tk, int32_t clk)
{
    struct timespec ts = now(tk, clk);

    return ts_ns(&ts);
}

#define CHECK_TS(ts, esec, ensec)                                                              \
    CHECK((ts).tv_sec == (esec) && (ts).tv_nsec == (ensec),                                    \
          "%s = {%lld, %ld}, expected {%lld, %ld}", #ts, (long long)(ts).tv_sec, (ts).tv_nsec, \
          (long long)(esec), (long)(ensec))

static void test_bases_and_tick(struct timekeeper *tk)
{
    CHECK_TS(now(tk, VDSO_CLOCK_REALTIME), 1700000000, 250000000);
    CHECK_TS(now(tk, VDSO_CLOCK_MONOTONIC), 5000, 125000000);
    CHECK_TS(now(tk, VDSO_CLOCK_BOOTTIME), 5007, 125000005);
    CHECK_TS(now(tk, VDSO_CLOCK_TAI), 1700000037, 250000000);
    CHECK_TS(now(tk, VDSO_CLOCK_MONOTONIC_RAW), 4990, 0);
    CHECK_TS(now(tk, VDSO_CLOCK_REALTIME_COARSE), 1700000000, 250000000);
    CHECK_TS(now(tk, VDSO_CLOCK_MONOTONIC_COARSE), 5000, 125000000);
    /* the counter alone moves HRES clocks, not coarse ones */
    tk_advance_counter(tk, 900000000);
    CHECK_TS(now(tk, VDSO_CLOCK_MONOTONIC), 5001, 25000000);
    CHECK_TS(now(tk, VDSO_CLOCK_MONOTONIC_COARSE), 5000, 125000000);
    tk_accumulate(tk);
    CHECK_TS(now(tk, VDSO_CLOCK_MONOTONIC_COARSE), 5001, 25000000);
    CHECK_TS(now(tk, VDSO_CLOCK_REALTIME_COARSE), 1700000001, 150000000);
    CHECK_TS(now(tk, VDSO_CLOCK_MONOTONIC_RAW), 4990, 900000000);
    const struct vdso_clock *c0 = &datapages_time(tk_datapages(tk))->clock_data[0];
    CHECK_EQ_U64(c0->cycle_last, 1000000 + 900000000);
}

static void test_steps_and_offsets(struct timekeeper *tk)
{
    struct timespec mono = now(tk, VDSO_CLOCK_MONOTONIC), rt = now(tk, VDSO_CLOCK_REALTIME);

    tk_step_realtime(tk, -2500000000ll);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_REALTIME) - ts_ns(&rt), -2500000000ll);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_MONOTONIC) - ts_ns(&mono), 0);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_REALTIME_COARSE) - ts_ns(&rt), -2500000000ll);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_MONOTONIC_COARSE) - ts_ns(&mono), 0);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_TAI) - now_ns(tk, VDSO_CLOCK_REALTIME), 37000000000ll);
    tk_set_tai_offset(tk, -3);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_TAI) - now_ns(tk, VDSO_CLOCK_REALTIME), -3000000000ll);

    struct timespec boot = now(tk, VDSO_CLOCK_BOOTTIME);
    rt = now(tk, VDSO_CLOCK_REALTIME);
    tk_inject_sleep(tk, 10000000001ll);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_BOOTTIME) - ts_ns(&boot), 10000000001ll);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_REALTIME) - ts_ns(&rt), 10000000001ll);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_MONOTONIC) - ts_ns(&mono), 0);
    /* a large boot offset stays exact (defect class C13) */
    tk_add_boot_offset(tk, 1000000000ll * 1000000000ll);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_BOOTTIME) - now_ns(tk, VDSO_CLOCK_MONOTONIC),
                 1000000000ll * 1000000000ll + 10000000001ll + 7000000005ll);
    CHECK(tk_inject_sleep(tk, -1) == -EINVAL, "negative sleep must be refused");
}

static void test_tz_res(struct timekeeper *tk)
{
    struct vdso_time_data *page = datapages_time(tk_datapages(tk));
    uint32_t seq = page->clock_data[0].seq;

    tk_set_tz(tk, -120, 1);
    CHECK(page->tz_minuteswest == -120 && page->tz_dsttime == 1, "tz %d/%d", page->tz_minuteswest,
          page->tz_dsttime);
    CHECK_EQ_U64(page->clock_data[0].seq, seq);
    tk_set_hrtimer_res(tk, 4000000);
    CHECK_EQ_U64(page->hrtimer_res, 4000000);
    CHECK_EQ_U64(page->clock_data[0].seq, seq + 2);
    tk_set_hrtimer_res(tk, 1);
}

static void test_modes(struct timekeeper *tk)
{
    struct timespec ts;
    const struct vdso_clock *c0 = &datapages_time(tk_datapages(tk))->clock_data[0];
    struct timespec mono = now(tk, VDSO_CLOCK_MONOTONIC);

    tk_set_clock_mode(tk, VDSO_CLOCKMODE_NONE);
    CHECK(model_now(tk, VDSO_CLOCK_MONOTONIC, &ts) == TK_MODEL_FALLBACK, "NONE falls back");
    CHECK_EQ_U64(tk_read_counter(tk), COUNTER_INVALID);
    uint64_t last = c0->cycle_last;
    struct vdso_timestamp mono_slot = c0->basetime[VDSO_CLOCK_MONOTONIC];
    tk_advance_counter(tk, 1000);
    tk_accumulate(tk);
    CHECK(c0->cycle_last == last && c0->basetime[1].sec == mono_slot.sec &&
              c0->basetime[1].nsec == mono_slot.nsec,
          "mode NONE must leave cycle_last and MONOTONIC stale");
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_MONOTONIC_COARSE) - ts_ns(&mono), 1000);
    tk_set_clock_mode(tk, 7);
    CHECK(model_now(tk, VDSO_CLOCK_REALTIME, &ts) == TK_MODEL_FALLBACK, "mode 7 falls back");
    tk_set_clock_mode(tk, VDSO_CLOCKMODE_PVCLOCK);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_MONOTONIC) - ts_ns(&mono), 1000);
}

static void test_counter_switch(struct timekeeper *tk)
{
    struct timespec mono = now(tk, VDSO_CLOCK_MONOTONIC);
    uint64_t counter = tk_read_counter(tk);

    uint64_t breaks = tk_counter_page_breaks(tk);
    CHECK(tk_switch_counter(tk, TK_COUNTER_HVCLOCK_MANUAL) == 0, "to HVCLOCK manual");
    CHECK_EQ_U64(tk_counter_page_breaks(tk), breaks + 2); /* a Hyper-V rewrite: one break */
    CHECK_EQ_U64(datapages_time(tk_datapages(tk))->clock_data[0].clock_mode,
                 VDSO_CLOCKMODE_HVCLOCK);
    CHECK_EQ_U64(tk_read_counter(tk), counter);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_MONOTONIC) - ts_ns(&mono), 0);
    breaks = tk_counter_page_breaks(tk);
    tk_advance_counter(tk, 5);
    CHECK_EQ_U64(tk_counter_page_breaks(tk), breaks + 2);
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_MONOTONIC) - ts_ns(&mono), 5);
    CHECK(tk_switch_counter(tk, TK_COUNTER_PVCLOCK_MANUAL) == 0, "back to PVCLOCK manual");
    CHECK_EQ_I64(now_ns(tk, VDSO_CLOCK_MONOTONIC) - ts_ns(&mono), 5);

    /* Into the real TSC and back: continuity within the switch's own cost. */
    struct timespec before = now(tk, VDSO_CLOCK_MONOTONIC);
    CHECK(tk_switch_counter(tk, TK_COUNTER_TSC) == 0, "to TSC (calibrates)");
    struct timespec after = now(tk, VDSO_CLOCK_MONOTONIC);
    int64_t jump = ts_diff_ns(&after, &before);
    CHECK(jump >= 0 && jump < 1000000, "MONOTONIC moved %lld ns across the switch to TSC",
          (long long)jump);
    CHECK(tk_set_counter(tk, 1) == -EINVAL, "no manual counter in the TSC domain");
    before = now(tk, VDSO_CLOCK_MONOTONIC);
    CHECK(tk_switch_counter(tk, TK_COUNTER_PVCLOCK_MANUAL) == 0, "TSC to PVCLOCK manual");
    after = now(tk, VDSO_CLOCK_MONOTONIC);
    jump = ts_diff_ns(&after, &before);
    CHECK(jump >= 0 && jump < 1000000, "MONOTONIC moved %lld ns across the switch back",
          (long long)jump);
    printf("TSC round trip: last jump %lld ns\n", (long long)jump);
}

static void test_pvclock_levers(struct timekeeper *tk)
{
    const struct pvclock_vcpu_time_info *pv = datapages_pvclock(tk_datapages(tk));
    uint32_t version = pv->version;

    CHECK(version % 2 == 0, "pvclock version %u even", version);
    tk_pvclock_set_version(tk, version + 1);
    CHECK_EQ_U64(pv->version, version + 1);
    tk_pvclock_set_version(tk, version + 2);
    uint64_t breaks = tk_counter_page_breaks(tk);
    CHECK(breaks % 2 == 0, "no page broken: break count %" PRIu64 " even", breaks);
    tk_pvclock_set_stable(tk, false);
    CHECK_EQ_U64(tk_counter_page_breaks(tk), breaks + 1); /* odd while it lasts */
    tk_pvclock_set_stable(tk, false);
    CHECK_EQ_U64(tk_counter_page_breaks(tk), breaks + 1);
    CHECK_EQ_U64(tk_read_counter(tk), COUNTER_INVALID);
    struct timespec ts;
    CHECK(model_now(tk, VDSO_CLOCK_MONOTONIC, &ts) == TK_MODEL_FALLBACK,
          "unstable pvclock falls back");
    tk_pvclock_set_stable(tk, true);
    CHECK_EQ_U64(tk_counter_page_breaks(tk), breaks + 2); /* healed: even again */
    CHECK(model_now(tk, VDSO_CLOCK_MONOTONIC, &ts) == TK_MODEL_OK, "stable again");
}

static void test_timens(struct timekeeper *tk)
{
    struct vdso_datapages *dp = tk_datapages(tk);

    tk_timens_set(tk, (struct timens_offset){1000, 0}, (struct timens_offset){-2000, 500});
    const struct vdso_time_data *ns = datapages_timens(dp);
    CHECK(ns->clock_data[0].seq == 1 && ns->clock_data[1].clock_mode == VDSO_CLOCKMODE_TIMENS &&
              ns->aux_clock_data[7].seq == 1 && ns->clock_data[0].offset[9].sec == -2000,
          "namespace page fields");
    uint8_t *reader =
        mmap(NULL, VDSO_DATA_PAGES * VDSO_PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(datapages_map_reader(dp, reader, DATAPAGES_TIMENS) == 0, "timens reader");
    const struct vdso_time_data *p0 = (const void *)reader;
    const struct vdso_time_data *p1 = (const void *)(reader + VDSO_PAGE_SIZE);
    struct vdso_time_data real;
    uint64_t counter = 0;
    snapshot_page(p1, &real, tk_counter_fn, tk, &counter);
    struct tk_model_view root = {.page0 = &real, .counter = counter};
    struct tk_model_view inns = {.page0 = p0, .real = &real, .counter = counter};
    static const struct {
        int32_t clk;
        int64_t off;
    } cases[] = {{0, 0},
                 {1, 1000000000000ll},
                 {4, 1000000000000ll},
                 {6, 1000000000000ll},
                 {7, -1999999999500ll},
                 {11, 0},
                 {5, 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct timespec a, b;
        tk_model_clock_gettime(&root, cases[i].clk, &a);
        CHECK(tk_model_clock_gettime(&inns, cases[i].clk, &b) == TK_MODEL_OK &&
                  ts_diff_ns(&b, &a) == cases[i].off,
              "timens clock %d offset %lld, expected %lld", cases[i].clk,
              (long long)ts_diff_ns(&b, &a), (long long)cases[i].off);
    }
    munmap(reader, VDSO_DATA_PAGES * VDSO_PAGE_SIZE);
}

static void test_rng_aux(struct timekeeper *tk)
{
    const struct vdso_rng_data *rng = datapages_rng(tk_datapages(tk));

    CHECK(rng->generation == 1 && rng->is_ready == 1, "rng starts at 1, ready");
    tk_rng_bump(tk);
    tk_rng_set_ready(tk, false);
    CHECK(rng->generation == 2 && rng->is_ready == 0, "rng %llu ready %u",
          (unsigned long long)rng->generation, rng->is_ready);
    tk_rng_set_ready(tk, true);

    struct timespec ts;
    struct tk_log_entry e;
    uint64_t g = tk_generation(tk);
    CHECK(model_now(tk, VDSO_CLOCK_AUX + 2, &ts) == TK_MODEL_FALLBACK, "disabled aux");
    CHECK(tk_aux_enable(tk, 2, (struct timespec){50, 999999999}) == 0, "aux enable");
    CHECK_TS(now(tk, VDSO_CLOCK_AUX + 2), 50, 999999999);
    /* The enable is a committed state of its own: oracles find it in the log. */
    CHECK(tk_generation(tk) == g + 1 && tk_log_copy(tk, g + 1, g + 1, &e, 1) == 1 &&
              e.data.aux_clock_data[2].clock_mode != VDSO_CLOCKMODE_NONE &&
              e.data.aux_clock_data[2].seq ==
                  datapages_time(tk_datapages(tk))->aux_clock_data[2].seq,
          "aux enable logged as generation %llu (now %llu)", (unsigned long long)g + 1,
          (unsigned long long)tk_generation(tk));
    tk_advance_counter(tk, 1000000001);
    CHECK_TS(now(tk, VDSO_CLOCK_AUX + 2), 52, 0);
    tk_accumulate(tk);
    const struct vdso_clock *aux = &datapages_time(tk_datapages(tk))->aux_clock_data[2];
    CHECK(aux->seq % 2 == 0 && aux->seq >= 4, "aux seq %u", aux->seq);
    CHECK_TS(now(tk, VDSO_CLOCK_AUX + 2), 52, 0);
    g = tk_generation(tk);
    tk_aux_disable(tk, 2);
    CHECK(model_now(tk, VDSO_CLOCK_AUX + 2, &ts) == TK_MODEL_FALLBACK, "aux disabled again");
    CHECK(tk_generation(tk) == g + 1 && tk_log_copy(tk, g + 1, g + 1, &e, 1) == 1 &&
              e.data.aux_clock_data[2].clock_mode == VDSO_CLOCKMODE_NONE,
          "aux disable logged");
    CHECK(tk_aux_enable(tk, 8, (struct timespec){0, 0}) == -EINVAL, "aux index 8");

    /* Inside an open hand-made update an aux publish is committed for aux
     * readers (its own seq is even): it is logged at once, with the main
     * clocks as last committed, not as half written. */
    const struct vdso_time_data *page = datapages_time(tk_datapages(tk));
    tk_aux_enable(tk, 3, (struct timespec){9, 0});
    CHECK(tk_update_begin(tk) == 0, "hand-made update");
    g = tk_generation(tk);
    tk_set_clock_mode(tk, page->clock_data[0].clock_mode);
    CHECK(page->clock_data[0].seq % 2 == 1 && page->aux_clock_data[3].seq % 2 == 0, "seqs %u/%u",
          page->clock_data[0].seq, page->aux_clock_data[3].seq);
    CHECK(tk_generation(tk) == g + 1 && tk_log_copy(tk, g + 1, g + 1, &e, 1) == 1 &&
              e.seq % 2 == 0 && e.data.clock_data[0].seq == e.seq &&
              e.data.aux_clock_data[3].seq == page->aux_clock_data[3].seq,
          "aux publish in an open update: generation %llu, logged seq %u",
          (unsigned long long)tk_generation(tk), e.seq);
    tk_update_end(tk);
    tk_aux_disable(tk, 3);
}

static void test_raw_publish(struct timekeeper *tk)
{
    struct vdso_clock cd[2] = {0};

    cd[0].clock_mode = cd[1].clock_mode = VDSO_CLOCKMODE_PVCLOCK;
    cd[0].cycle_last = tk_read_counter(tk) + 10; /* counter behind: clamp */
    cd[0].max_cycles = 100;
    cd[0].mult = 1;
    cd[0].basetime[VDSO_CLOCK_MONOTONIC] = (struct vdso_timestamp){42, 7};
    uint64_t gen = tk_generation(tk);
    tk_publish_raw(tk, cd);
    CHECK_TS(now(tk, VDSO_CLOCK_MONOTONIC), 42, 7);
    CHECK_EQ_U64(tk_generation(tk), gen + 1);
    tk_accumulate(tk); /* an ordinary update restores the timekeeper's view */
    struct timespec ts = now(tk, VDSO_CLOCK_MONOTONIC);
    CHECK(ts.tv_sec > 5000, "accumulate after raw publish: %lld", (long long)ts.tv_sec);
}

int main(void)
{
    struct vdso_datapages dp;

    if (datapages_create(&dp) != 0)
        SKIP("memfd_create failed");
    struct tk_script s = test_script();
    struct timekeeper *tk;
    int err = tk_init_scripted(&tk, &dp, &s);
    CHECK(err == 0, "tk_init_scripted: %d", err);
    if (err)
        return check_finish();
    struct tk_script bad = s;
    bad.shift = 33;
    struct timekeeper *tk2;
    CHECK(tk_init_scripted(&tk2, &dp, &bad) == -EINVAL, "shift 33 must be refused");
    test_bases_and_tick(tk);
    test_steps_and_offsets(tk);
    test_tz_res(tk);
    test_modes(tk);
    test_counter_switch(tk);
    test_pvclock_levers(tk);
    test_timens(tk);
    test_rng_aux(tk);
    test_raw_publish(tk);
    tk_destroy(tk);
    datapages_destroy(&dp);
    return check_finish();
}
