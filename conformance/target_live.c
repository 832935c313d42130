/*
 * The `live` target: this process's own vDSO, exactly as the kernel mapped
 * it. The image is found through AT_SYSINFO_EHDR, its size from the [vdso]
 * line of /proc/self/maps, and the entry points are resolved with the
 * project's hardened ELF resolver under version LINUX_2.6 (the cross-check
 * against the dynamic linker's dlvsym lives in the hygiene group).
 */
#define _GNU_SOURCE
#include "target.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

#include <vdsokit/abi.h>
#include <vdsokit/elf.h>

/* The [vdso] mapping that starts at base, or 0 when maps has no such line. */
static size_t vdso_mapping_size(uintptr_t base)
{
    FILE *maps = fopen("/proc/self/maps", "r");

    if (!maps)
        return 0;
    char line[512];
    size_t size = 0;
    while (fgets(line, sizeof(line), maps)) {
        uintptr_t lo, hi;
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2 && lo == base &&
            strstr(line, "[vdso]")) {
            size = hi - lo;
            break;
        }
    }
    fclose(maps);
    return size;
}

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

int conf_target_open_live(struct conf_target *t, char *err, size_t errlen)
{
    t->kind = CONF_TARGET_LIVE;
    t->flags = CONF_TARGET_MAPPED | CONF_TARGET_RAW_ABI;
    t->clock_mode = conf_live_clock_mode;
    t->describe_state = conf_live_describe_state;

    uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (!base) {
        /* No vDSO is a legitimate system: every test becomes a SKIP. */
        snprintf(t->missing, sizeof(t->missing), "no vDSO: AT_SYSINFO_EHDR is absent");
        snprintf(t->detail, sizeof(t->detail), "no vDSO mapped");
        return 0;
    }
    size_t size = vdso_mapping_size(base);
    if (!size) {
        snprintf(err, errlen,
                 "live: AT_SYSINFO_EHDR 0x%" PRIxPTR
                 " is not the start of a [vdso] line in /proc/self/maps",
                 base);
        return 2;
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
    snprintf(t->detail, sizeof(t->detail),
             "kernel vDSO at 0x%" PRIxPTR ", %zu bytes, clock mode %d", base, size,
             conf_live_clock_mode(t));
    return 0;
}

/* The kernel's time data page: six pages below the text (root namespace view). */
static const volatile struct vdso_time_data *live_time_page(const struct conf_target *t)
{
    uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);

    (void)t;
    if (!base)
        return NULL;
    return (const volatile struct vdso_time_data *)(base - VDSO_DATA_PAGES * VDSO_PAGE_SIZE);
}

int conf_live_clock_mode(const struct conf_target *t)
{
    const volatile struct vdso_time_data *d = live_time_page(t);

    if (!d)
        return -1;
    int mode = d->clock_data[0].clock_mode;
    if (mode == VDSO_CLOCKMODE_PVCLOCK) {
        /* Without TSC_STABLE the vDSO must fall back: report that as NONE. */
        const volatile struct pvclock_vcpu_time_info *pv =
            (const volatile struct pvclock_vcpu_time_info *)((uintptr_t)d +
                                                             VDSO_PVCLOCK_PAGE * VDSO_PAGE_SIZE);
        if (!(pv->flags & PVCLOCK_TSC_STABLE_BIT))
            return VDSO_CLOCKMODE_NONE;
    }
    return mode;
}

void conf_live_describe_state(const struct conf_target *t, FILE *out)
{
    const volatile struct vdso_time_data *d = live_time_page(t);

    if (!d)
        return;
    const volatile struct vdso_clock *c = &d->clock_data[0];
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
