/*
 * tk_reset_scripted: a used timekeeper started afresh from a script must be
 * indistinguishable from a new one on zeroed pages -- the same six page
 * bytes after the start and after the same operations, generations from 1,
 * a log holding only the new states at its new size -- whatever state the
 * first run left (slew, another counter domain, aux clocks, raw data, a
 * namespace page). It refuses (-EBUSY) while the writer thread runs or a
 * hand-made update is open, and rejects a bad script (-EINVAL) untouched.
 */
#include "../check.h"
#include "tk_test.h"
#include <errno.h>
#include <vdsokit/timekeeper_raw.h>

#define PAGES_SIZE (VDSO_DATA_PAGES * VDSO_PAGE_SIZE)

/* Leave as much non-default state behind as the API can make. */
static void dirty(struct timekeeper *tk)
{
    struct vdso_clock cd[VDSO_CS_BASES];

    tk_slew_ppm(tk, 250);
    tk_advance_counter(tk, 123456789);
    tk_accumulate(tk);
    tk_aux_enable(tk, 2, (struct timespec){42, 7});
    tk_switch_counter(tk, TK_COUNTER_HVCLOCK_MANUAL);
    tk_step_realtime(tk, -987654321);
    tk_add_boot_offset(tk, 5555);
    tk_set_tz(tk, 60, 1);
    tk_set_hrtimer_res(tk, 4000000);
    tk_timens_set(tk, (struct timens_offset){100, 5}, (struct timens_offset){200, 7});
    tk_rng_bump(tk);
    tk_set_clock_mode(tk, VDSO_CLOCKMODE_NONE);
    memcpy(cd, datapages_time(tk_datapages(tk))->clock_data, sizeof(cd));
    cd[0].cycle_last = 77;
    tk_publish_raw(tk, cd);
    tk_pvclock_set_stable(tk, false);
}

/* The same operations on both: a second run that must stay in step. */
static void run(struct timekeeper *tk)
{
    tk_advance_counter(tk, 1000000007);
    tk_accumulate(tk);
    tk_slew_ppm(tk, -100);
    tk_advance_counter(tk, 333);
    tk_switch_counter(tk, TK_COUNTER_PVCLOCK_MANUAL);
    tk_aux_enable(tk, 0, (struct timespec){1, 2});
    for (int i = 0; i < 10; i++) {
        tk_advance_counter(tk, 4000000);
        tk_accumulate(tk);
    }
}

static void check_same(struct vdso_datapages *a, struct timekeeper *ta, struct vdso_datapages *b,
                       struct timekeeper *tb, const char *when)
{
    static struct tk_log_entry la[64], lb[64];
    size_t na = tk_log_copy(ta, 0, UINT64_MAX, la, 64), nb = tk_log_copy(tb, 0, UINT64_MAX, lb, 64);
    size_t first_diff = PAGES_SIZE;

    for (size_t i = 0; i < PAGES_SIZE && first_diff == PAGES_SIZE; i++)
        if (a->rw[i] != b->rw[i])
            first_diff = i;
    CHECK(first_diff == PAGES_SIZE, "%s: pages differ first at file offset 0x%zx (%02x vs %02x)",
          when, first_diff, first_diff < PAGES_SIZE ? a->rw[first_diff] : 0,
          first_diff < PAGES_SIZE ? b->rw[first_diff] : 0);
    CHECK_EQ_U64(tk_generation(ta), tk_generation(tb));
    CHECK(na == nb, "%s: log holds %zu states after the reset, %zu when new", when, na, nb);
    for (size_t i = 0; i < na && i < nb; i++)
        CHECK(la[i].generation == lb[i].generation && la[i].seq == lb[i].seq &&
                  memcmp(&la[i].data, &lb[i].data, sizeof(la[i].data)) == 0,
              "%s: log entry %zu: generation %llu/%llu seq %u/%u", when, i,
              (unsigned long long)la[i].generation, (unsigned long long)lb[i].generation, la[i].seq,
              lb[i].seq);
}

static struct tk_script second_script(void)
{
    struct tk_script s = test_script();

    s.counter = TK_COUNTER_HVCLOCK_MANUAL;
    s.counter_start = 5000;
    s.mult = 16659200;
    s.shift = 0;
    s.seq_start = 0xfffffff8u;
    s.tai_offset = -5;
    s.log_entries = 8;
    return s;
}

static void test_reset_equals_new(void)
{
    struct vdso_datapages a, b;
    struct timekeeper *ta, *tb;
    struct tk_script first = test_script(), second = second_script();

    CHECK(datapages_create(&a) == 0 && datapages_create(&b) == 0, "datapages_create");
    first.log_entries = 16;
    CHECK(tk_init_scripted(&ta, &a, &first) == 0, "first start");
    dirty(ta);
    CHECK(tk_generation(ta) > 8, "the first run committed %llu states",
          (unsigned long long)tk_generation(ta));

    memset(a.rw, 0, PAGES_SIZE);
    CHECK(tk_reset_scripted(ta, &second) == 0, "reset");
    CHECK(tk_init_scripted(&tb, &b, &second) == 0, "new start");
    CHECK_EQ_U64(tk_generation(ta), 1);
    check_same(&a, ta, &b, tb, "after the start");
    run(ta);
    run(tb);
    check_same(&a, ta, &b, tb, "after the same operations");
    /* The log is at its new size: 8 of the 13 states remain. */
    CHECK(tk_log_copy(ta, 0, UINT64_MAX, (struct tk_log_entry[16]){0}, 16) == 8,
          "the reset log keeps 8 states");

    /* Back to the default log size, and the first script again. */
    memset(a.rw, 0, PAGES_SIZE);
    memset(b.rw, 0, PAGES_SIZE);
    tk_destroy(tb);
    first.log_entries = 0;
    CHECK(tk_reset_scripted(ta, &first) == 0, "second reset");
    CHECK(tk_init_scripted(&tb, &b, &first) == 0, "second new start");
    run(ta);
    run(tb);
    check_same(&a, ta, &b, tb, "after a reset to the default log");
    tk_destroy(ta);
    tk_destroy(tb);
    datapages_destroy(&a);
    datapages_destroy(&b);
}

static void test_refusals(void)
{
    struct vdso_datapages dp;
    struct timekeeper *tk;
    struct tk_script s = test_script(), bad = test_script();

    CHECK(datapages_create(&dp) == 0, "datapages_create");
    CHECK(tk_init_scripted(&tk, &dp, &s) == 0, "start");
    tk_accumulate(tk);
    uint64_t generation = tk_generation(tk);

    bad.shift = 33;
    CHECK_EQ_I64(tk_reset_scripted(tk, &bad), -EINVAL);
    CHECK_EQ_U64(tk_generation(tk), generation);

    CHECK(tk_update_begin(tk) == 0, "hand-made update");
    CHECK_EQ_I64(tk_reset_scripted(tk, &s), -EBUSY);
    CHECK(tk_update_end(tk) == 0, "hand-made update end");

    CHECK(tk_writer_start(tk, 1000) == 0, "writer start");
    CHECK_EQ_I64(tk_reset_scripted(tk, &s), -EBUSY);
    CHECK(tk_writer_stop(tk) >= 0, "writer stop");

    CHECK_EQ_I64(tk_reset_scripted(tk, &s), 0);
    CHECK_EQ_U64(tk_generation(tk), 1);
    tk_destroy(tk);
    datapages_destroy(&dp);
}

int main(void)
{
    test_reset_equals_new();
    test_refusals();
    return check_finish();
}
