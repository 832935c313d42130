/*
 * The destructive tier's guard (destr_guard.h): the disposable-place check
 * from /proc/self/mountinfo, and the kernel's clock settings read, written
 * back and compared through adjtimex, clock_settime, settimeofday and the
 * clocksource's sysfs file.
 */
#define _GNU_SOURCE
#include "destr_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <vdsokit/timespec.h>

#define CS_DIR       "/sys/devices/system/clocksource/clocksource0/"
#define RATE_TOL_PPM 10

/* One mountinfo line: its mount point, fstype and whether a device backs it. */
struct mount_line {
    char point[256], fstype[64];
    unsigned major;
};

static bool parse_mount(const char *line, struct mount_line *m)
{
    unsigned minor;
    const char *dash = strstr(line, " - ");

    if (sscanf(line, "%*u %*u %u:%u %*s %255s", &m->major, &minor, m->point) != 3 || !dash)
        return false;
    return sscanf(dash + 3, "%63s", m->fstype) == 1;
}

bool destr_place_disposable(bool hypervisor, char *why, size_t len)
{
    if (!hypervisor) {
        snprintf(why, len, "no hypervisor flag in /proc/cpuinfo: this is not a guest");
        return false;
    }
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f) {
        snprintf(why, len, "cannot read /proc/self/mountinfo: %s", strerror(errno));
        return false;
    }
    char line[1024], root[64] = "";
    bool ok = true;
    struct mount_line m;
    while (ok && fgets(line, sizeof(line), f)) {
        if (!parse_mount(line, &m))
            continue;
        if (strcmp(m.point, "/") == 0)
            snprintf(root, sizeof(root), "%s", m.fstype);
        if (m.major != 0) {
            snprintf(why, len, "%s (%s) is a filesystem on a block device: this guest keeps state",
                     m.point, m.fstype);
            ok = false;
        }
    }
    fclose(f);
    if (ok && strcmp(root, "rootfs") != 0) {
        snprintf(why, len, "the root filesystem is %s, not an initramfs (rootfs)",
                 root[0] ? root : "not listed");
        ok = false;
    }
    return ok;
}

static int read_clocksource(char *buf, size_t len)
{
    int fd = open(CS_DIR "current_clocksource", O_RDONLY | O_CLOEXEC);

    buf[0] = 0;
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

static int write_clocksource(const char *name)
{
    int fd = open(CS_DIR "current_clocksource", O_WRONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, name, strlen(name));
    int e = n < 0 ? -errno : 0;
    close(fd);
    return e;
}

int destr_state_read(struct destr_clock_state *s, char *err, size_t len)
{
    struct timespec before;

    memset(s, 0, sizeof(*s));
    clock_gettime(CLOCK_MONOTONIC_RAW, &before);
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &s->realtime);
    clock_gettime(CLOCK_MONOTONIC_RAW, &s->raw);
    s->bracket_ns = ts_diff_ns(&s->raw, &before);
    s->time_state = adjtimex(&s->tx);
    if (s->time_state < 0) {
        snprintf(err, len, "adjtimex (read): %s", strerror(errno));
        return -1;
    }
    if (syscall(SYS_gettimeofday, NULL, &s->tz) != 0) {
        snprintf(err, len, "gettimeofday (tz): %s", strerror(errno));
        return -1;
    }
    read_clocksource(s->clocksource, sizeof(s->clocksource));
    return 0;
}

int destr_can_write(const struct destr_clock_state *s)
{
    struct timex tx = {.modes = ADJ_FREQUENCY, .freq = s->tx.freq};

    return adjtimex(&tx) < 0 ? -errno : 0;
}

/* REALTIME the saved state implies at RAW time `raw`: elapsed at the saved rate. */
static struct timespec expected_realtime(const struct destr_clock_state *s,
                                         const struct timespec *raw)
{
    double rate = 1.0 + (double)s->tx.freq / 65536.0 / 1e6;
    int64_t ns = ts_ns(&s->realtime) + (int64_t)((double)ts_diff_ns(raw, &s->raw) * rate);

    return (struct timespec){ns / NSEC_PER_SEC, ns % NSEC_PER_SEC};
}

static void note_error(char *err, size_t len, const char *what)
{
    if (!err[0])
        snprintf(err, len, "%s: %s", what, strerror(errno));
}

static void adjust(struct timex tx, const char *what, char *err, size_t len)
{
    if (adjtimex(&tx) < 0)
        note_error(err, len, what);
}

/* The PLL offset and the adjtime() slew are cancelled before anything else. */
static void cancel_slews(char *err, size_t len)
{
    adjust((struct timex){.modes = ADJ_STATUS, .status = STA_PLL}, "adjtimex (PLL on)", err, len);
    adjust((struct timex){.modes = ADJ_OFFSET}, "adjtimex (offset 0)", err, len);
    adjust((struct timex){.modes = ADJ_OFFSET_SINGLESHOT}, "adjtimex (adjtime 0)", err, len);
}

static void restore_ntp(const struct destr_clock_state *s, char *err, size_t len)
{
    struct timex tx = s->tx;

    /* In microsecond mode the kernel adds 4 to a time constant written: write it in ns mode. */
    adjust((struct timex){.modes = ADJ_NANO | ADJ_TIMECONST, .constant = s->tx.constant},
           "adjtimex (time constant)", err, len);
    tx.modes = ADJ_STATUS | ADJ_FREQUENCY | ADJ_TICK | ADJ_MAXERROR | ADJ_ESTERROR |
               (s->tx.status & STA_NANO ? ADJ_NANO : ADJ_MICRO);
    tx.status &= ~STA_RONLY;
    adjust(tx, "adjtimex (status, frequency, tick)", err, len);
    adjust((struct timex){.modes = ADJ_TAI, .constant = s->tx.tai}, "adjtimex (TAI)", err, len);
}

/* After a leap second the kernel leaves TIME_WAIT at its next second. */
static void wait_leap_state(int want)
{
    struct timespec t0, now;

    clock_gettime(CLOCK_MONOTONIC_RAW, &t0);
    for (;;) {
        struct timex tx = {0};
        clock_gettime(CLOCK_MONOTONIC_RAW, &now);
        if (adjtimex(&tx) == want || ts_diff_ns(&now, &t0) > 3 * NSEC_PER_SEC)
            return;
        usleep(20000);
    }
}

int destr_restore(const struct destr_clock_state *s, int64_t *set_bracket_ns, char *err, size_t len)
{
    struct timespec before, after;

    err[0] = 0;
    cancel_slews(err, len);
    clock_gettime(CLOCK_MONOTONIC_RAW, &before);
    struct timespec rt = expected_realtime(s, &before);
    if (syscall(SYS_clock_settime, CLOCK_REALTIME, &rt) != 0)
        note_error(err, len, "clock_settime (REALTIME)");
    clock_gettime(CLOCK_MONOTONIC_RAW, &after);
    *set_bracket_ns = ts_diff_ns(&after, &before);
    restore_ntp(s, err, len);
    if (syscall(SYS_settimeofday, NULL, &s->tz) != 0)
        note_error(err, len, "settimeofday (tz)");
    int e = s->clocksource[0] ? write_clocksource(s->clocksource) : 0;
    if (e && !err[0])
        snprintf(err, len, "writing %s to current_clocksource: %s", s->clocksource, strerror(-e));
    wait_leap_state(s->time_state);
    return err[0] ? -1 : 0;
}

static bool same(FILE *out, const char *what, long long saved, long long now)
{
    if (saved != now)
        fprintf(out, "  differs: %s saved %lld, now %lld\n", what, saved, now);
    return saved == now;
}

bool destr_state_matches(const struct destr_clock_state *saved, const struct destr_clock_state *now,
                         int64_t set_bracket_ns, FILE *out)
{
    const struct timex *a = &saved->tx, *b = &now->tx;
    bool ok = same(out, "frequency (scaled ppm)", a->freq, b->freq);

    ok &= same(out, "tick (us)", a->tick, b->tick);
    ok &= same(out, "status", a->status & ~STA_RONLY, b->status & ~STA_RONLY);
    ok &= same(out, "time constant", a->constant, b->constant);
    ok &= same(out, "TAI offset", a->tai, b->tai);
    ok &= same(out, "leap state", saved->time_state, now->time_state);
    if (a->offset == 0)
        ok &= same(out, "offset", 0, b->offset);
    ok &= same(out, "tz minuteswest", saved->tz.tz_minuteswest, now->tz.tz_minuteswest);
    ok &= same(out, "tz dsttime", saved->tz.tz_dsttime, now->tz.tz_dsttime);
    if (strcmp(saved->clocksource, now->clocksource) != 0) {
        fprintf(out, "  differs: clocksource saved %s, now %s\n", saved->clocksource,
                now->clocksource);
        ok = false;
    }
    struct timespec want = expected_realtime(saved, &now->raw);
    int64_t off = ts_diff_ns(&now->realtime, &want);
    int64_t elapsed = ts_diff_ns(&now->raw, &saved->raw);
    int64_t tol =
        saved->bracket_ns + now->bracket_ns + set_bracket_ns + elapsed / (1000000 / RATE_TOL_PPM);
    fprintf(out,
            "  realtime: %+" PRId64 " ns from the saved one plus the raw time since (%.3f s), "
            "tolerance %" PRId64 " ns (read brackets, the restore's clock_settime, %d ppm)\n",
            off, (double)elapsed / NSEC_PER_SEC, tol, RATE_TOL_PPM);
    return ok && llabs(off) <= tol;
}

void destr_state_print(FILE *out, const char *label, const struct destr_clock_state *s)
{
    const struct timex *t = &s->tx;

    fprintf(out,
            "%s: realtime %lld.%09ld (raw %lld.%09ld); freq %.3f ppm, offset %ld, tick %ld us, "
            "status %#x, constant %ld, tai %d s, leap state %d; tz %d/%d; clocksource %s\n",
            label, (long long)s->realtime.tv_sec, s->realtime.tv_nsec, (long long)s->raw.tv_sec,
            s->raw.tv_nsec, (double)t->freq / 65536.0, t->offset, t->tick, t->status, t->constant,
            t->tai, s->time_state, s->tz.tz_minuteswest, s->tz.tz_dsttime,
            s->clocksource[0] ? s->clocksource : "(none)");
}
