/*
 * The interleaving explorer on the embedded reference: schedules parse and
 * print back, bad ones are refused with a sentence; the unperturbed call
 * traces its seq loads; an update applied before the first load moves the
 * result by the update's 7.5 s; an update left open makes the reference
 * wait (more loads) and still end exact; a flip to NONE makes it take the
 * trapped syscall; every single-update schedule passes. getrandom: a
 * fresh state's call loads is_ready, the generation and the re-check; a
 * reseed before the re-check makes it re-key (two fetches), reseeds during
 * both fetches send it to the syscall, an unready page before its first
 * load too, each as the raced model says; bad arguments are refused.
 */
#include <string.h>

#include <vdsokit/explore.h>
#include <vdsokit/loader.h>
#include <vdsokit/loader_trap.h>
#include <vdsokit/vgetrandom.h>

#include "check.h"

static void test_parse(void)
{
    struct explore_schedule s;
    struct vdsokit_error err;
    char buf[64];

    CHECK(explore_schedule_parse("3.0.0-2+9.1.2-20", &s, &err) == 0, "%s", err.msg);
    CHECK_EQ_U64(s.nactions, 2);
    explore_schedule_format(&s, buf, sizeof buf);
    CHECK(strcmp(buf, "3.0.0-2+9.1.2-20") == 0, "formatted as %s", buf);
    CHECK(explore_schedule_parse("-", &s, &err) == 0 && s.nactions == 0, "none");
    const char *bad[] = {"3.0", "3.2.0-1",  "1.0.5-2",
                         "x",   "1.0.0-1+", "1.0.0-1+2.0.0-1+3.0.0-1+4.0.0-1+5.0.0-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        CHECK(explore_schedule_parse(bad[i], &s, &err) != 0 && strstr(err.msg, "schedule"),
              "'%s' accepted (%s)", bad[i], err.msg);
    }
}

struct count {
    struct explore *x;
    const struct explore_call *c;
    struct explore_outcome *o;
    unsigned n, failed;
};

static int one(const struct explore_schedule *s, void *arg)
{
    struct count *k = arg;
    char sched[64];

    k->n++;
    if (explore_run(k->x, k->c, s, k->o, NULL) != 0 || k->o->verdict != EXPLORE_PASS) {
        explore_schedule_format(s, sched, sizeof sched);
        if (!k->failed++)
            fprintf(stderr, "schedule %s: %s %s\n", sched, explore_verdict_name(k->o->verdict),
                    k->o->why);
    }
    return 0;
}

static void test_tsc(struct vdso_loaded *l)
{
    static struct explore_outcome base, o;
    const struct explore_call mono = {EXPLORE_GETTIME, VDSO_CLOCK_MONOTONIC};
    struct explore_schedule s;
    struct vdsokit_error err;
    struct explore *x;

    if (explore_open(&x, l, EXPLORE_TSC, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    const struct explore_update *u = explore_update(x, 0);
    CHECK(u && u->begin_end == 2 && u->nstores > u->data_end, "update 0's phases");
    CHECK(explore_run(x, &mono, NULL, &base, &err) == 0, "%s", err.msg);
    CHECK(base.verdict == EXPLORE_PASS, "%s", base.why);
    CHECK(base.ntrace >= 4 && base.trace[base.ntrace - 1].seq_word, "%u loads", base.ntrace);
    CHECK_EQ_U64(base.traps, 0);
    CHECK_EQ_U64(base.trace[base.ntrace - 1].size, 4);

    /* The whole update before the first load: the result of the next state. */
    s = (struct explore_schedule){1, {{0, 0, 0, (uint16_t)u->nstores}}};
    CHECK(explore_run(x, &mono, &s, &o, &err) == 0 && o.verdict == EXPLORE_PASS, "%s", o.why);
    CHECK(o.sec - base.sec == 7 || o.sec - base.sec == 8, "moved from %lld to %lld s",
          (long long)base.sec, (long long)o.sec);

    /* Seqs odd before the first load, the rest only where the unperturbed
     * call has no load left: the reference waits, then reads the new state. */
    s = (struct explore_schedule){2,
                                  {{0, 0, 0, (uint16_t)u->begin_end},
                                   {base.ntrace, 0, (uint16_t)u->begin_end, (uint16_t)u->nstores}}};
    CHECK(explore_run(x, &mono, &s, &o, &err) == 0 && o.verdict == EXPLORE_PASS, "%s", o.why);
    CHECK(o.ntrace > base.ntrace, "%u loads, unperturbed %u", o.ntrace, base.ntrace);
    CHECK_EQ_U64(o.state, 1);

    /* A store index past the update is refused. */
    s = (struct explore_schedule){1, {{0, 0, 0, (uint16_t)(u->nstores + 1)}}};
    CHECK(explore_run(x, &mono, &s, &o, &err) != 0 && strstr(err.msg, "stores"), "%s", err.msg);

    struct count k = {.x = x, .c = &mono, .o = &o};
    explore_each_single(x, &base, one, &k);
    CHECK(k.n >= 50 && k.failed == 0, "%u schedules, %u failed", k.n, k.failed);
    explore_close(x);
}

static void test_none(struct vdso_loaded *l)
{
    static struct explore_outcome o;
    const struct explore_call mono = {EXPLORE_GETTIME, VDSO_CLOCK_MONOTONIC};
    struct vdsokit_error err;
    struct explore *x;

    if (explore_open(&x, l, EXPLORE_NONE, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    const struct explore_update *u = explore_update(x, 0);
    struct explore_schedule s = {1, {{0, 0, 0, (uint16_t)u->nstores}}};
    CHECK(explore_run(x, &mono, &s, &o, &err) == 0 && o.verdict == EXPLORE_PASS, "%s", o.why);
    CHECK_EQ_U64(o.traps, 1);
    explore_close(x);
}

static void rng_case(struct explore *x, const struct explore_schedule *s, unsigned reseeds,
                     unsigned superseded, unsigned traps, unsigned loads)
{
    static struct explore_outcome o;
    static _Alignas(256) struct vgetrandom_state st;
    static uint8_t buf[100];
    struct explore_rng_call c = {buf, sizeof buf, 0, &st};
    struct vdsokit_error err;

    memset(&st, 0, sizeof st);
    CHECK(explore_rng_run(x, &c, s, reseeds, &o, &err) == 0 && o.verdict == EXPLORE_PASS, "%s%s",
          s ? "" : err.msg, o.why);
    CHECK_EQ_U64(o.ret, sizeof buf);
    CHECK_EQ_U64(o.ntrace, loads);
    CHECK_EQ_U64(o.state, superseded);
    CHECK_EQ_U64(o.traps, traps);
}

static void test_rng(struct vdso_loaded *l)
{
    static struct explore_outcome o;
    static struct vgetrandom_state st;
    struct explore_rng_call c = {NULL, 0, 0, &st};
    struct vdsokit_error err;
    struct explore *x;

    if (explore_open(&x, l, EXPLORE_TSC, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    rng_case(x, NULL, 0, 0, 1, 3);
    const struct explore_schedule recheck = {1, {{2, EXPLORE_RNG_BUMP, 0, 1}}};
    rng_case(x, &recheck, 0, 1, 2, 5);
    const struct explore_schedule first = {1, {{0, EXPLORE_RNG_BUMP, 0, 1}}};
    rng_case(x, &first, 0, 0, 1, 3);
    rng_case(x, NULL, 2, 2, 3, 5);
    const struct explore_schedule unready = {1, {{0, EXPLORE_RNG_UNREADY, 0, 1}}};
    rng_case(x, &unready, 0, 0, 1, 1);
    const struct explore_schedule time = {1, {{0, 0, 0, 1}}};
    CHECK(explore_rng_run(x, &c, &time, 0, &o, &err) != 0 && strstr(err.msg, "rng action"),
          "a time update accepted: %s", err.msg);
    CHECK(explore_rng_run(x, &c, NULL, 3, &o, &err) != 0 && strstr(err.msg, "reseeds"),
          "3 reseeds accepted: %s", err.msg);
    explore_close(x);
}

int main(void)
{
    struct vdsokit_error err;
    struct vdso_loaded *l;
    struct loader_options opt = {.clock = LOADER_CLOCK_HOST};

    test_parse();
    if (loader_trap_install(&err) || loader_load_ref(&l, &opt, &err)) {
        CHECK(0, "%s", err.msg);
        return check_finish();
    }
    test_tsc(l);
    test_none(l);
    test_rng(l);
    loader_unload(l);
    return check_finish();
}
