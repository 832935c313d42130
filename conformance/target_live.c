/*
 * The `live` target: this process's own vDSO, exactly as the kernel mapped
 * it. The live layout probe (vdsokit/live_layout.h) finds the image at
 * AT_SYSINFO_EHDR, its size from the [vdso] line of /proc/self/maps and the
 * layout era of the data pages; the entry points are resolved with the
 * project's hardened ELF resolver under version LINUX_2.6 (the cross-check
 * against the dynamic linker's dlvsym lives in the hygiene group). The data
 * pages are read only through the probe, as snapshots converted from the
 * era's format: on a kernel whose layout this build does not describe, the
 * clock mode is unknown and the tests that need it skip with the probe's
 * sentence.
 */
#define _GNU_SOURCE
#include "target.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vdsokit/abi.h>
#include <vdsokit/elf.h>
#include <vdsokit/live_layout.h>

/* One probe per process: the runner never moves its own mappings (children may). */
static struct live_layout layout;

static void *resolve(const struct elf_image *img, const uint8_t *base, const char *name,
                     struct conf_target *t)
{
    struct elf_sym sym;
    uint64_t off;

    if (elf_lookup(img, name, "LINUX_2.6", ELF_LOOKUP_AUTO, &sym) != ELF_FOUND ||
        !elf_symbol_offset(img, &sym, &off) || off >= img->size) {
        size_t n = strlen(t->missing);
        snprintf(t->missing + n, sizeof(t->missing) - n, "%s%s@LINUX_2.6 not exported",
                 n ? "; " : "", name);
        return NULL;
    }
    return (void *)(base + off);
}

int conf_live_attach(struct conf_target *t, char *err, size_t errlen)
{
    struct vdsokit_error e;

    t->live = NULL;
    if (live_layout_probe(&layout, &e) != 0) {
        snprintf(err, errlen, "live: %s", e.msg);
        return 2;
    }
    t->live = &layout;
    return 0;
}

const char *conf_live_layout_why(const struct conf_target *t)
{
    if (!t->live)
        return "the live layout was not probed (/proc/self/maps unreadable)";
    return t->live->why[0] ? t->live->why : "the data pages are readable";
}

/* The report header: where the image is, its kernel and era, the clock mode when known. */
static void live_detail(struct conf_target *t, uintptr_t base, size_t size)
{
    int mode = conf_live_clock_mode(t);
    char how[32] = "clock mode unknown";

    if (mode >= 0)
        snprintf(how, sizeof(how), "clock mode %d", mode);
    snprintf(t->detail, sizeof(t->detail), "kernel vDSO at 0x%" PRIxPTR ", %zu bytes, %s, %s%s%s",
             base, size, how, layout.summary, layout.why[0] ? "; data pages not read: " : "",
             layout.why);
}

int conf_target_open_live(struct conf_target *t, char *err, size_t errlen)
{
    t->kind = CONF_TARGET_LIVE;
    t->flags = CONF_TARGET_MAPPED | CONF_TARGET_RAW_ABI;
    t->clock_mode = conf_live_clock_mode;
    t->describe_state = conf_live_describe_state;

    if (conf_live_attach(t, err, errlen))
        return 2;
    size_t size;
    uintptr_t base = (uintptr_t)live_layout_vdso(&layout, &size);
    if (!base) {
        /* No vDSO is a legitimate system: every test becomes a SKIP. */
        snprintf(t->missing, sizeof(t->missing), "no vDSO: AT_SYSINFO_EHDR is absent");
        snprintf(t->detail, sizeof(t->detail), "no vDSO mapped");
        return 0;
    }
    struct elf_image img;
    struct vdsokit_error eerr;
    if (elf_open(&img, (const void *)base, size, &eerr) != 0) {
        snprintf(err, errlen,
                 "live: the vDSO at 0x%" PRIxPTR " (%zu bytes) is not a valid ELF "
                 "image: %s",
                 base, size, eerr.msg);
        return 2;
    }
    const uint8_t *p = (const uint8_t *)base;
    t->text = p;
    t->text_size = size;
    t->fn.clock_gettime = (conf_clock_gettime_fn)resolve(&img, p, "__vdso_clock_gettime", t);
    t->fn.gettimeofday = (conf_gettimeofday_fn)resolve(&img, p, "__vdso_gettimeofday", t);
    t->fn.time = (conf_time_fn)resolve(&img, p, "__vdso_time", t);
    t->fn.clock_getres = (conf_clock_getres_fn)resolve(&img, p, "__vdso_clock_getres", t);
    t->fn.getcpu = (conf_getcpu_fn)resolve(&img, p, "__vdso_getcpu", t);
    /* Optional (6.11+): its absence is not a missing entry point. */
    char missing[sizeof t->missing];
    memcpy(missing, t->missing, sizeof missing);
    t->fn.getrandom = (conf_getrandom_fn)resolve(&img, p, "__vdso_getrandom", t);
    memcpy(t->missing, missing, sizeof missing);
    live_detail(t, base, size);
    return 0;
}

/*
 * A snapshot of the kernel's time data page (root namespace view) in the
 * 6.17 view, converted from the era's format; false where the probe gives
 * none (the layout is not described, or the page never settled).
 */
static bool live_time_page(const struct conf_target *t, struct vdso_time_data *d)
{
    return t->live && live_layout_snapshot(t->live, LIVE_PAGE_TIME, d);
}

int conf_live_clock_mode(const struct conf_target *t)
{
    struct vdso_time_data d;

    if (!live_time_page(t, &d))
        return -1;
    int mode = d.clock_data[0].clock_mode;
    if (mode == VDSO_CLOCKMODE_PVCLOCK) {
        /* Without TSC_STABLE the vDSO must fall back: report that as NONE. */
        const volatile struct pvclock_vcpu_time_info *pv =
            live_layout_page(t->live, LIVE_PAGE_PVCLOCK);
        if (!pv || !(pv->flags & PVCLOCK_TSC_STABLE_BIT))
            return VDSO_CLOCKMODE_NONE;
    }
    return mode;
}

void conf_live_describe_state(const struct conf_target *t, FILE *out)
{
    struct vdso_time_data snap;
    const struct vdso_time_data *d = &snap;

    if (!live_time_page(t, &snap)) {
        if (t->live && t->live->base)
            fprintf(out, "kernel data page: not read: %s", conf_live_layout_why(t));
        return;
    }
    const struct vdso_clock *c = &d->clock_data[0];
    fprintf(out,
            "kernel data page: seq=%u clock_mode=%d cycle_last=%" PRIu64 " mult=%u shift=%u "
            "max_cycles=%#" PRIx64 " hrtimer_res=%u tz=%d/%d",
            c->seq, c->clock_mode, c->cycle_last, c->mult, c->shift, c->max_cycles, d->hrtimer_res,
            d->tz_minuteswest, d->tz_dsttime);
    if (c->clock_mode == VDSO_CLOCKMODE_TIMENS)
        return; /* namespace page: the bases below would be offsets */
    fprintf(
        out,
        "\nbases: realtime=%" PRIu64 "s+%" PRIu64 "(<<%u) monotonic=%" PRIu64 "s boottime=%" PRIu64
        "s realtime_coarse=%" PRIu64 ".%09" PRIu64 " monotonic_coarse=%" PRIu64 ".%09" PRIu64,
        c->basetime[0].sec, c->basetime[0].nsec, c->shift, c->basetime[1].sec, c->basetime[7].sec,
        c->basetime[5].sec, c->basetime[5].nsec, c->basetime[6].sec, c->basetime[6].nsec);
}
