/*
 * Group 4's storm engine: one scenario run on an in-process target. The
 * scenario says how the writer thread ticks (its rate and an operation
 * after each tick) and what the readers may accept; the engine starts the
 * writer, one reader pinned to each allowed CPU, keeps to the budget and
 * the deadlines, has the verifier judge every reading and reports the
 * test's counts, failures and livelocks through conf.h.
 */
#ifndef VDSOCONF_CONCURRENT_STORM_H
#define VDSOCONF_CONCURRENT_STORM_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "concurrent_verify.h"

/* What a writer operation (the scenario's tick function) gets as its arg. */
struct conc_writer {
    struct vdso_loaded *l;
    unsigned hz;  /* the scenario's writer rate; 0 = back to back */
    uint64_t rng; /* the writer thread's own random state */
};

struct conc_scenario {
    const char *id;
    unsigned hz;        /* writer rate; 0 = back to back */
    tk_tick_fn tick;    /* run by the writer after each tick, with a struct conc_writer */
    unsigned mono_mask; /* bit per clock id */
    enum conc_mono_policy policy;
    bool need_fallback;  /* the scenario must show both served and fallen-back calls */
    double min_fraction; /* of readings verified */
    void (*setup)(struct timekeeper *tk);
    bool lead_ok; /* the writer publishes cycle_last ahead of the counter */
    bool churn;   /* a reader moves to the next allowed CPU before each getcpu */
    /* Before 6.10 a delta this large wraps the 64-bit product and the clock
     * goes back on the era's kernel too: EXPLAIN for an image of that era. */
    bool wraps_before_6_10;
    /* The scenario brings the seq back to a value it had after this many
     * updates (0: never, as the kernel's 32-bit seq within any call): a
     * call spanning that many may pass its re-check across them (ABA), so
     * a correct reader can return a torn value there: not judged. */
    unsigned seq_repeats_after;
};

/* Run scenario sc as the current test on l, the target's loaded image. */
void conc_storm_run(struct conf_ctx *ctx, struct vdso_loaded *l, const struct conc_scenario *sc);

#endif /* VDSOCONF_CONCURRENT_STORM_H */
