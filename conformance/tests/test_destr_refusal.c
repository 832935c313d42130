/*
 * --tier destructive on this (shared, persistent) machine: refused without
 * --allow-clock-writes, refused with it because this is not a disposable
 * guest, exit status 2 each time with the reason, and the clock left as it
 * was: REALTIME against MONOTONIC_RAW (no step: within the bracket of the
 * reads plus 500 ppm of the elapsed time, the most an NTP daemon on the host
 * may slew meanwhile), the tick, the TAI offset, the timezone and the
 * clocksource equal. The frequency and status are printed, not compared: a
 * host NTP daemon may change them at any moment. Where the place check finds
 * this machine disposable (the test run inside a matrix guest), SKIP (77)
 * before running anything that could write the clock.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <vdsokit/timespec.h>

#include "destr_guard.h"

static int failures;

#define CHECK(cond, ...)                  \
    do {                                  \
        if (!(cond)) {                    \
            printf("FAIL: " __VA_ARGS__); \
            putchar('\n');                \
            failures++;                   \
        }                                 \
    } while (0)

/* Run vdsoconf with args; its exit status, its stderr into err. */
static int run(const char *vdsoconf, const char *extra, char *err, size_t len)
{
    int fds[2];

    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        dup2(fds[1], 1);
        close(fds[0]);
        execl(vdsoconf, vdsoconf, "--target", "live", "--tier", "destructive", extra, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < len && (r = read(fds[0], err + n, len - 1 - n)) > 0)
        n += (size_t)r;
    err[n] = 0;
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void refused(const char *vdsoconf, const char *extra, const char *reason)
{
    char err[8192];
    int rc = run(vdsoconf, extra, err, sizeof(err));

    printf("vdsoconf --tier destructive %s: exit %d\n%s", extra ? extra : "", rc, err);
    CHECK(rc == 2, "exit %d, want 2", rc);
    CHECK(strstr(err, "refused") && strstr(err, reason), "no refusal naming \"%s\"", reason);
    CHECK(strstr(err, "nothing was changed"), "the refusal does not say nothing was changed");
    CHECK(!strstr(err, "saved clock state"), "it saved (so meant to write) the clock state");
}

static void unchanged(const struct destr_clock_state *a, const struct destr_clock_state *b)
{
    int64_t raw = ts_diff_ns(&b->raw, &a->raw), rt = ts_diff_ns(&b->realtime, &a->realtime);
    int64_t tol = a->bracket_ns + b->bracket_ns + raw / 2000;

    printf("REALTIME moved %lld ns in %lld ns of MONOTONIC_RAW (tolerance %lld ns); frequency "
           "%ld -> %ld, status %#x -> %#x\n",
           (long long)rt, (long long)raw, (long long)tol, a->tx.freq, b->tx.freq, a->tx.status,
           b->tx.status);
    CHECK(llabs(rt - raw) <= tol, "REALTIME was stepped by about %lld ns", (long long)(rt - raw));
    CHECK(a->tx.tick == b->tx.tick, "tick %ld -> %ld", a->tx.tick, b->tx.tick);
    CHECK(a->tx.tai == b->tx.tai, "TAI offset %d -> %d", a->tx.tai, b->tx.tai);
    CHECK(a->tz.tz_minuteswest == b->tz.tz_minuteswest && a->tz.tz_dsttime == b->tz.tz_dsttime,
          "tz %d/%d -> %d/%d", a->tz.tz_minuteswest, a->tz.tz_dsttime, b->tz.tz_minuteswest,
          b->tz.tz_dsttime);
    CHECK(strcmp(a->clocksource, b->clocksource) == 0, "clocksource %s -> %s", a->clocksource,
          b->clocksource);
}

int main(int argc, char **argv)
{
    struct destr_clock_state before, after;
    char why[320];

    if (argc != 2) {
        fprintf(stderr, "usage: test_destr_refusal VDSOCONF\n");
        return 2;
    }
    /* Both the hypervisor flag and its absence must lead to a refusal here. */
    if (destr_place_disposable(true, why, sizeof(why))) {
        printf("SKIP: this machine looks disposable (an initramfs root): not run here\n");
        return 77;
    }
    printf("not disposable: %s\n", why);
    if (destr_state_read(&before, why, sizeof(why)) != 0) {
        printf("FAIL: %s\n", why);
        return 1;
    }
    refused(argv[1], NULL, "--allow-clock-writes");
    refused(argv[1], "--allow-clock-writes", "disposable guest");
    if (destr_state_read(&after, why, sizeof(why)) != 0) {
        printf("FAIL: %s\n", why);
        return 1;
    }
    unchanged(&before, &after);
    printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
