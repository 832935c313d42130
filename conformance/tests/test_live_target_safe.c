/*
 * The live target never reads outside its mappings. On this host it opens
 * with the described layout and reads the clock mode and the data page; in
 * throwaway children whose mappings are reshaped like another kernel era
 * ([vvar] directly below [vdso] as on 6.1-6.12, no [vvar] at all, no
 * [vvar_vclock]) open, clock mode and describe_state must neither fault
 * nor read a page: the clock mode is unknown (-1), the state says why, the
 * report line names the kernel and its layout, and the entry points are
 * still resolved, so the tests that need no layout run. Where the vDSO
 * still works after the reshape (TSC mode without [vvar_vclock]) a call
 * through the target must answer. The old code read six pages below the
 * text, which the first reshape leaves unmapped (checked), so it would
 * have died with SIGSEGV here.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

#include "check.h"
#include "live/live_reshape.h"
#include "target.h"

/* describe_state's text, malloc'd. */
static char *describe(const struct conf_target *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    t->describe_state(t, f);
    fclose(f);
    return buf;
}

static void test_host(void)
{
    struct conf_target t;
    char err[256] = "";

    memset(&t, 0, sizeof(t));
    CHECK(conf_target_open_live(&t, err, sizeof(err)) == 0, "open: %s", err);
    printf("host: %s\n", t.detail);
    if (!t.live || !t.live->described)
        SKIP("%s", t.live ? t.live->why : "no probe");
    int mode = conf_live_clock_mode(&t);
    CHECK(mode >= VDSO_CLOCKMODE_NONE && mode < VDSO_CLOCKMODE_MAX, "clock mode %d", mode);
    CHECK(strstr(t.detail, "6.17-6.18 layout") && strstr(t.detail, "clock mode "), "detail: %s",
          t.detail);
    char *state = describe(&t);
    CHECK(state && strstr(state, "kernel data page: seq="), "state: %s", state ? state : "");
    free(state);
}

struct child_case {
    enum live_reshape how;
    bool call; /* the vDSO still works after this reshape: call it */
};

static int reshaped(void *arg)
{
    const struct child_case *c = arg;
    struct live_layout before;
    struct vdsokit_error e;

    if (live_layout_probe(&before, &e) || live_reshape(&before.maps, c->how))
        return 4;
    struct conf_target t;
    char err[256] = "";
    memset(&t, 0, sizeof(t));
    CHECK(conf_target_open_live(&t, err, sizeof(err)) == 0, "open after reshape %d: %s", c->how,
          err);
    CHECK(t.live && !t.live->described, "reshape %d: the layout is still described", c->how);
    CHECK(conf_live_clock_mode(&t) == -1, "reshape %d: clock mode %d", c->how,
          conf_live_clock_mode(&t));
    char *state = describe(&t);
    CHECK(state && strstr(state, "not read") && strstr(state, "6.17-6.18 era"),
          "reshape %d: state \"%s\"", c->how, state ? state : "");
    free(state);
    CHECK(strstr(t.detail, "clock mode unknown") && strstr(t.detail, "data pages not read"),
          "reshape %d: detail %s", c->how, t.detail);
    CHECK(t.fn.clock_gettime && t.fn.getcpu && !t.missing[0], "reshape %d: missing \"%s\"", c->how,
          t.missing);
    if (c->call && t.fn.clock_gettime) {
        struct timespec ts = {0, -1};
        int r = t.fn.clock_gettime(CLOCK_MONOTONIC, &ts);
        CHECK(r == 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L, "clock_gettime %d {%ld}", r,
              ts.tv_nsec);
    }
    printf("reshape %d: %s\n", c->how, t.detail);
    return check_finish();
}

static void test_reshaped(struct child_case c)
{
    int st = reshape_in_child(reshaped, &c);

    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reshape %d child: %s %d", c.how,
          WIFSIGNALED(st) ? "killed by signal" : "exit",
          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

int main(void)
{
    struct live_layout l;
    struct vdsokit_error e;

    if (!getauxval(AT_SYSINFO_EHDR))
        SKIP("no vDSO in this process");
    if (live_layout_probe(&l, &e) || !l.described || !l.maps.vclock.count)
        SKIP("reshaping starts from the 6.17-6.18 layout: %s", l.why);
    uintptr_t fixed = l.base - VDSO_DATA_PAGES * VDSO_PAGE_SIZE;
    struct vdso_time_data snap;
    if (!live_layout_snapshot(&l, LIVE_PAGE_TIME, &snap))
        SKIP("the time page never settled");
    int mode = snap.clock_data[0].clock_mode;
    if (LIVE_RESHAPE_SANITIZED) {
        printf("%s\n", LIVE_RESHAPE_SANITIZED_WHY);
    } else {
        test_reshaped((struct child_case){RESHAPE_PRE_6_13, false});
        test_reshaped((struct child_case){RESHAPE_NO_VVAR, false});
        /* Only the TSC mode never touches [vvar_vclock]: elsewhere the call would fault. */
        test_reshaped((struct child_case){RESHAPE_NO_VCLOCK, mode == VDSO_CLOCKMODE_TSC});
        CHECK(reshape_readable(fixed), "the parent's fixed offset must still be mapped");
    }
    test_host();
    return check_finish();
}
