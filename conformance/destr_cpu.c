/*
 * Clocksource switches and CPU hotplug (destr_kinds.h). A clocksource decides
 * the vDSO's clock mode: after each switch the driver reads the mode from the
 * kernel's data page and publishes whether HRES calls must be served or fall
 * back; the readers' trap counts (destr_trap.h) say which they did. For
 * hotplug the readers churn their own affinity over every CPU while one CPU
 * goes offline and comes back; getcpu must name a CPU of the mask in force,
 * never one that is offline.
 */
#define _GNU_SOURCE
#include "destr_kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "destr_trap.h"

#define CS_FILE "/sys/devices/system/clocksource/clocksource0/current_clocksource"

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = n < 0 ? -errno : 0;
    close(fd);
    return e;
}

static void read_current(char *buf, size_t len)
{
    FILE *f = fopen(CS_FILE, "r");

    buf[0] = 0;
    if (f && fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = 0;
    if (f)
        fclose(f);
}

static void switch_to(struct destr_driver *d, unsigned i)
{
    char now[64];

    destr_begin(d->sh);
    int e = write_file(CS_FILE, d->cs_names[i]);
    read_current(now, sizeof(now));
    int cur = -1;
    for (unsigned k = 0; k < d->ncs; k++)
        if (strcmp(d->cs_names[k], now) == 0)
            cur = (int)k;
    destr_publish_mode(d, cur);
    destr_end(d->sh);
    d->transitions++;
    if (e)
        conf_note(d->ctx, "switching to %s: %s (%s stays)", d->cs_names[i], strerror(-e), now);
    else if (cur != (int)i)
        conf_fail(d->ctx, "wrote %s to current_clocksource, it reads %s", d->cs_names[i], now);
    destr_settle(d);
    destr_settle(d);
}

void destr_kind_clocksource(struct destr_driver *d)
{
    char start[64];

    read_current(start, sizeof(start));
    if (d->ncs == 0) {
        conf_skip(d->ctx, "no clocksource in sysfs (available_clocksource unreadable)");
        return;
    }
    int first = -1;
    for (unsigned i = 0; i < d->ncs && !d->aborted; i++) {
        if (strcmp(d->cs_names[i], start) == 0) {
            first = (int)i;
            continue;
        }
        switch_to(d, i);
    }
    if (first >= 0 && !d->aborted)
        switch_to(d, (unsigned)first);
    if (d->ncs < 2)
        conf_note(d->ctx, "only %s is available: the clock mode could not flip", start);
}

/* The CPU to take offline: the highest allowed one but CPU 0, with an online file. */
static int hotplug_cpu(const struct destr_shared *sh, char *path, size_t len)
{
    for (int i = (int)sh->nreaders - 1; i >= 0; i--) {
        if (sh->cpus[i] == 0)
            continue;
        snprintf(path, len, "/sys/devices/system/cpu/cpu%d/online", sh->cpus[i]);
        if (access(path, W_OK) == 0)
            return sh->cpus[i];
    }
    return -1;
}

static bool set_online(struct destr_driver *d, const char *path, int cpu, bool online)
{
    destr_begin(d->sh);
    int e = write_file(path, online ? "1" : "0");
    if (e == 0 && cpu < 64) {
        uint64_t bit = UINT64_C(1) << cpu;
        if (online)
            atomic_fetch_and(&d->sh->offline, ~bit);
        else
            atomic_fetch_or(&d->sh->offline, bit);
    }
    destr_end(d->sh);
    d->transitions++;
    if (e) {
        conf_note(d->ctx, "writing %d to %s: %s", online, path, strerror(-e));
        return false;
    }
    destr_settle(d);
    return true;
}

void destr_kind_hotplug(struct destr_driver *d)
{
    char path[96];
    int cpu = d->sh->nreaders < 2 ? -1 : hotplug_cpu(d->sh, path, sizeof(path));

    if (cpu < 0) {
        conf_skip(d->ctx, d->sh->nreaders < 2 ? "only one CPU allowed: none can go offline"
                                              : "no CPU but 0 has a writable online file (no "
                                                "CPU hotplug in this kernel)");
        return;
    }
    atomic_store(&d->sh->churn, 1);
    destr_settle(d);
    for (int round = 0; round < 2 && !d->aborted; round++) {
        if (!set_online(d, path, cpu, false)) {
            if (round == 0)
                conf_skip(d->ctx, "cpu %d cannot go offline (see the note): hotplug unsupported",
                          cpu);
            break;
        }
        if (!set_online(d, path, cpu, true)) {
            conf_fail(d->ctx, "cpu %d went offline but does not come back", cpu);
            break;
        }
    }
    atomic_store(&d->sh->churn, 0);
    destr_settle(d);
}
