/*
 * Leap seconds (destr_kinds.h): REALTIME set 3 s before the next UTC
 * midnight with STA_INS or STA_DEL armed, and watched through midnight by
 * the driver with the target's calls and, beside them, the syscall's. The
 * offset REALTIME - MONOTONIC of each pair is known to within the MONOTONIC
 * readings around the REALTIME one; it may change only at the leap, by -1 s
 * (inserted: 23:59:59 repeats) or +1 s (deleted: 23:59:59 is skipped), and
 * the target must see the same single change as the syscall. MONOTONIC
 * itself goes on. The readers check every call meanwhile.
 */
#define _GNU_SOURCE
#include "destr_kinds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "destr_trap.h"
#include "oracle.h"

#define DAY_NS     (86400 * NSEC_PER_SEC)
#define LEAD_NS    (3 * NSEC_PER_SEC)
#define WATCH_NS   (20 * NSEC_PER_SEC) /* a loaded emulator needs a few seconds per second */
#define MAX_CHANGE 4

/* The offset REALTIME - MONOTONIC as it is known, and where it changed. */
struct offset_track {
    int64_t lo, hi;    /* the offset lies in [lo, hi] */
    int64_t last_rt;   /* the last REALTIME reading */
    int64_t last_mono; /* the last MONOTONIC reading */
    bool any;
    unsigned changes;
    int64_t change[MAX_CHANGE], before[MAX_CHANGE], after[MAX_CHANGE], width[MAX_CHANGE];
    bool mono_back;
};

/* One pair: MONOTONIC ma, REALTIME rt, MONOTONIC mb (1 ns of rounding each side). */
static void track(struct offset_track *t, int64_t ma, int64_t rt, int64_t mb)
{
    int64_t lo = rt - mb - 1, hi = rt - ma + 1;

    if (t->any && ma < t->last_mono)
        t->mono_back = true;
    if (t->any && (lo > t->hi || hi < t->lo)) {
        if (t->changes < MAX_CHANGE) {
            t->change[t->changes] = (lo + hi) / 2 - (t->lo + t->hi) / 2;
            t->width[t->changes] = (hi - lo) + (t->hi - t->lo);
            t->before[t->changes] = t->last_rt;
            t->after[t->changes] = rt;
        }
        t->changes++;
        t->lo = lo;
        t->hi = hi;
    } else if (t->any) {
        t->lo = lo > t->lo ? lo : t->lo;
        t->hi = hi < t->hi ? hi : t->hi;
    } else {
        t->lo = lo;
        t->hi = hi;
        t->any = true;
    }
    t->last_rt = rt;
    t->last_mono = mb;
}

static int64_t target_ns(const struct conf_target *t, clockid_t clk)
{
    struct timespec ts = {0, 0};

    t->fn.clock_gettime(clk, &ts);
    return ts_ns(&ts);
}

static int64_t sys_ns(clockid_t clk)
{
    struct timespec ts = {0, 0};

    dt_clock_gettime(clk, &ts);
    return ts_ns(&ts);
}

/* Watch through midnight until REALTIME is 1 s past it, or the watch ends. */
static void watch(const struct conf_target *tg, int64_t midnight, struct offset_track *target,
                  struct offset_track *kernel)
{
    int64_t end = dt_mono_ns() + WATCH_NS;

    while (dt_mono_ns() < end) {
        int64_t ma = target_ns(tg, CLOCK_MONOTONIC);
        int64_t rt = target_ns(tg, CLOCK_REALTIME);
        track(target, ma, rt, target_ns(tg, CLOCK_MONOTONIC));
        ma = sys_ns(CLOCK_MONOTONIC);
        int64_t srt = sys_ns(CLOCK_REALTIME);
        track(kernel, ma, srt, sys_ns(CLOCK_MONOTONIC));
        if (srt > midnight + NSEC_PER_SEC && rt > midnight + NSEC_PER_SEC)
            return;
    }
}

static void print_changes(struct conf_ctx *ctx, const char *who, const struct offset_track *t,
                          int64_t midnight)
{
    conf_note(ctx, "%s: %u change(s) of REALTIME - MONOTONIC%s", who, t->changes,
              t->mono_back ? "; MONOTONIC went back" : "");
    for (unsigned i = 0; i < t->changes && i < MAX_CHANGE; i++)
        conf_note(ctx, "  %+lld ns (+-%lld): REALTIME midnight%+.6f s then midnight%+.6f s",
                  (long long)t->change[i], (long long)t->width[i],
                  (double)(t->before[i] - midnight) / NSEC_PER_SEC,
                  (double)(t->after[i] - midnight) / NSEC_PER_SEC);
}

/* One change of want (+-1 s) landing in the second the kernel repeats or skips to. */
static bool as_expected(const struct offset_track *t, int64_t midnight, bool insert)
{
    int64_t want = insert ? -NSEC_PER_SEC : NSEC_PER_SEC;

    if (t->changes != 1 || t->mono_back || llabs(t->change[0] - want) > t->width[0])
        return false;
    if (insert)
        return t->after[0] >= midnight - NSEC_PER_SEC && t->after[0] < midnight;
    return t->after[0] >= midnight && t->before[0] < midnight;
}

static void check_leap(struct destr_driver *d, bool insert, int64_t midnight,
                       const struct offset_track *target, const struct offset_track *kernel)
{
    bool t_ok = as_expected(target, midnight, insert), k_ok = as_expected(kernel, midnight, insert);

    if (t_ok && k_ok)
        return;
    conf_fail(d->ctx, "leap second %s: %s", insert ? "inserted" : "deleted",
              !k_ok ? "the syscall did not show one as the kernel defines it (see its changes)"
                    : "the target did not see it as the syscall did");
    print_changes(d->ctx, "target", target, midnight);
    print_changes(d->ctx, "syscall", kernel, midnight);
}

/*
 * After a leap the kernel waits (TIME_WAIT) until the leap bits are clear at
 * a second's end; a leap armed before that would never happen. With
 * STA_UNSYNC clear adjtimex reports the state itself. False after 3 s.
 */
static bool wait_time_ok(int synced)
{
    /* maxerror 0 too: at its limit the kernel sets STA_UNSYNC again each second. */
    struct timex tx = {.modes = ADJ_STATUS | ADJ_MAXERROR, .status = synced, .maxerror = 0};
    int64_t end = dt_mono_ns() + 3 * NSEC_PER_SEC;

    if (adjtimex(&tx) == TIME_OK)
        return true;
    while (dt_mono_ns() < end) {
        usleep(20000);
        struct timex q = {0};
        if (adjtimex(&q) == TIME_OK)
            return true;
    }
    return false;
}

void destr_kind_leap(struct destr_driver *d, bool insert)
{
    int plain = d->tx0.status & ~STA_RONLY & ~(STA_INS | STA_DEL);
    int synced = plain & ~STA_UNSYNC;
    int64_t midnight = (destr_true_realtime(d) / DAY_NS + 1) * DAY_NS;
    struct timespec set = {(midnight - LEAD_NS) / NSEC_PER_SEC, 0};
    struct timex arm = {.modes = ADJ_STATUS, .status = synced | (insert ? STA_INS : STA_DEL)};
    struct timex disarm = {.modes = ADJ_STATUS, .status = plain};
    struct offset_track target = {0}, kernel = {0};

    if (!wait_time_ok(synced)) {
        conf_fail(d->ctx, "the kernel's leap state did not return to TIME_OK within 3 s");
        return;
    }
    /* The whole window is one transition: the kernel steps at its own time. */
    destr_begin(d->sh);
    long r = syscall(SYS_clock_settime, CLOCK_REALTIME, &set);
    int e = errno;
    if (r == 0 && adjtimex(&arm) < 0)
        e = errno, r = -1;
    if (r == 0)
        watch(d->sh->target, midnight, &target, &kernel);
    adjtimex(&disarm);
    /* The kernel moves the TAI offset with the leap: readers check the new one. */
    long tai_before = atomic_load(&d->sh->tai);
    struct timex now = {0};
    adjtimex(&now);
    atomic_store(&d->sh->tai, now.tai);
    destr_end(d->sh);
    d->transitions += 3; /* the step, the arming, the leap */
    if (r != 0)
        conf_fail(d->ctx, "arming the leap second (clock_settime, adjtimex): %s", strerror(e));
    else
        check_leap(d, insert, midnight, &target, &kernel);
    if (r == 0 && now.tai != tai_before + (insert ? 1 : -1))
        conf_fail(d->ctx, "the TAI offset is %d s after the leap second, it was %ld s before",
                  now.tai, tai_before);
    destr_settle(d);
    destr_set_realtime(d, destr_true_realtime(d), "back to the true time");
    destr_settle(d);
}
