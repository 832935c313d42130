/*
 * Applies a vDSO image's x86 alternatives to a private copy of it for one
 * CPU. Entries are decoded from the original (const) bytes and replacement
 * bytes are copied from them too, so a table that points into its own patch
 * sites still gives one deterministic result. The entry format is the
 * kernel's 14-byte one: s32 site offset and s32 replacement offset, each
 * relative to its own field; u32 feature (low half) and flags (high half);
 * u8 site length; u8 replacement length.
 */
#include "vdsokit/altpatch.h"

#include "vdsokit/abi.h"
#include "vdsokit/elf_read.h"

#include <cpuid.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void alt_cpu_detect(struct alt_cpu *cpu)
{
    unsigned a, b, c, d;

    memset(cpu, 0, sizeof *cpu);
    if (__get_cpuid(1, &a, &b, &c, &d))
        cpu->lfence_rdtsc = (d >> 26) & 1; /* SSE2 brings LFENCE */
    if (__get_cpuid(0x80000001, &a, &b, &c, &d))
        cpu->rdtscp = (d >> 27) & 1;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
        cpu->rdpid = (c >> 22) & 1;
}

int alt_cpu_has(const struct alt_cpu *cpu, unsigned feature)
{
    switch (feature) {
    case X86_FEATURE_RDTSCP:
        return cpu->rdtscp;
    case X86_FEATURE_RDPID:
        return cpu->rdpid;
    case X86_FEATURE_LFENCE_RDTSC:
        return cpu->lfence_rdtsc;
    default:
        return -1;
    }
}

/* base + rel, where base is an offset in the image; false when outside it. */
static bool rel_target(uint64_t base, uint32_t rel, size_t size, uint64_t *out)
{
    int64_t t = (int64_t)base + (int64_t)(int32_t)rel;

    if (t < 0 || (uint64_t)t > size)
        return false;
    *out = (uint64_t)t;
    return true;
}

int alt_entry_read(const uint8_t *image, size_t size, uint64_t table, uint64_t table_len,
                   unsigned idx, struct alt_entry *e, struct vdsokit_error *err)
{
    const struct elf_reader r = {image, size, true, false};
    uint64_t at = table + (uint64_t)idx * VDSO_ALT_ENTRY_SIZE;
    uint32_t site_rel = 0, repl_rel = 0, ft = 0;

    if (!elf_range_ok(&r, table, table_len) || (uint64_t)idx >= table_len / VDSO_ALT_ENTRY_SIZE)
        return vdsokit_fail(err, "alt entry %u: outside the table [0x%llx, +0x%llx) of a 0x%zx-byte image",
                    idx, (unsigned long long)table, (unsigned long long)table_len, size);
    /* The entry lies inside the checked table, so these reads succeed. */
    elf_read_u32(&r, at, &site_rel);
    elf_read_u32(&r, at + 4, &repl_rel);
    elf_read_u32(&r, at + 8, &ft);
    elf_read_u8(&r, at + 12, &e->site_len);
    elf_read_u8(&r, at + 13, &e->repl_len);
    e->where = at;
    e->feature = (uint16_t)ft;
    e->flags = (uint16_t)(ft >> 16);
    if (!rel_target(at, site_rel, size, &e->site))
        return vdsokit_fail(err, "alt entry %u at 0x%llx: instr_offset %d points outside the image", idx,
                    (unsigned long long)at, (int32_t)site_rel);
    if (!rel_target(at + 4, repl_rel, size, &e->repl))
        return vdsokit_fail(err, "alt entry %u at 0x%llx: repl_offset %d points outside the image", idx,
                    (unsigned long long)at, (int32_t)repl_rel);
    if (e->site_len > size - e->site)
        return vdsokit_fail(err,
                    "alt entry %u at 0x%llx: site 0x%llx + instrlen %u runs past the image end "
                    "0x%zx",
                    idx, (unsigned long long)at, (unsigned long long)e->site, e->site_len, size);
    if (e->repl_len > size - e->repl)
        return vdsokit_fail(err,
                    "alt entry %u at 0x%llx: replacement 0x%llx + replacementlen %u runs past the "
                    "image end 0x%zx",
                    idx, (unsigned long long)at, (unsigned long long)e->repl, e->repl_len, size);
    if (e->repl_len > e->site_len)
        return vdsokit_fail(err, "alt entry %u at 0x%llx: replacementlen %u exceeds instrlen %u", idx,
                    (unsigned long long)at, e->repl_len, e->site_len);
    return 0;
}

/* The Intel-recommended NOP of each length 1..8 (SDM vol. 2B, "NOP"). */
static const uint8_t nops[8][8] = {
    {0x90},
    {0x66, 0x90},
    {0x0f, 0x1f, 0x00},
    {0x0f, 0x1f, 0x40, 0x00},
    {0x0f, 0x1f, 0x44, 0x00, 0x00},
    {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
    {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
    {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
};

void alt_fill_nops(uint8_t *dst, size_t len)
{
    while (len) {
        size_t n = len > 8 ? 8 : len;
        memcpy(dst, nops[n - 1], n);
        dst += n;
        len -= n;
    }
}

/* 1 apply, 0 condition false, -1 unknown feature or flag. */
static int entry_wanted(const struct alt_entry *e, const struct alt_cpu *cpu)
{
    int has = alt_cpu_has(cpu, e->feature);

    if (has < 0 || (e->flags & ~ALT_FLAG_NOT))
        return -1;
    return (e->flags & ALT_FLAG_NOT) ? !has : has;
}

static bool bit_test(const uint8_t *map, uint64_t i)
{
    return map[i / 8] >> (i % 8) & 1;
}

static void bit_set(uint8_t *map, uint64_t i)
{
    map[i / 8] |= (uint8_t)(1u << (i % 8));
}

static int patch_entries(const uint8_t *src, uint8_t *dst, size_t size, uint64_t table,
                         uint64_t table_len, const struct alt_cpu *cpu, uint8_t *written,
                         struct alt_report *r, struct vdsokit_error *err)
{
    struct alt_entry e;

    for (unsigned i = 0; i < r->entries; i++) {
        if (alt_entry_read(src, size, table, table_len, i, &e, err))
            return -1;
        switch (entry_wanted(&e, cpu)) {
        case 1:
            memcpy(dst + e.site, src + e.repl, e.repl_len);
            alt_fill_nops(dst + e.site + e.repl_len, (size_t)e.site_len - e.repl_len);
            bit_set(written, e.site);
            r->applied++;
            break;
        case 0:
            r->skipped_absent++;
            break;
        default:
            r->skipped_unknown++;
            break;
        }
    }
    return 0;
}

/*
 * A site nobody rewrote that still holds the replacement of a feature this
 * CPU lacks was patched for another CPU (a dump from another host): running
 * it would raise #UD, so refuse the image.
 */
static int check_foreign_patches(const uint8_t *src, const uint8_t *dst, size_t size,
                                 uint64_t table, uint64_t table_len, const struct alt_cpu *cpu,
                                 const uint8_t *written, unsigned entries, struct vdsokit_error *err)
{
    struct alt_entry e;

    for (unsigned i = 0; i < entries; i++) {
        if (alt_entry_read(src, size, table, table_len, i, &e, err))
            return -1;
        if (e.flags || e.repl_len == 0 || alt_cpu_has(cpu, e.feature) != 0 ||
            bit_test(written, e.site))
            continue;
        if (memcmp(dst + e.site, src + e.repl, e.repl_len) == 0)
            return vdsokit_fail(err,
                        "alt entry %u at 0x%llx: site 0x%llx already holds the replacement for "
                        "feature %u:%u, which this CPU lacks (image patched for another CPU)",
                        i, (unsigned long long)e.where, (unsigned long long)e.site, e.feature / 32,
                        e.feature % 32);
    }
    return 0;
}

int alt_apply(const uint8_t *src, uint8_t *dst, size_t size, uint64_t table, uint64_t table_len,
              const struct alt_cpu *cpu, struct alt_report *report, struct vdsokit_error *err)
{
    struct alt_report r = {0};
    uint8_t *written;
    int rc;

    if (table > size || table_len > size - table)
        return vdsokit_fail(err, ".altinstructions [0x%llx, +0x%llx) lies outside the 0x%zx-byte image",
                    (unsigned long long)table, (unsigned long long)table_len, size);
    if (table_len % VDSO_ALT_ENTRY_SIZE)
        return vdsokit_fail(err, ".altinstructions at 0x%llx: size 0x%llx is not a multiple of %d",
                    (unsigned long long)table, (unsigned long long)table_len, VDSO_ALT_ENTRY_SIZE);
    r.entries = (unsigned)(table_len / VDSO_ALT_ENTRY_SIZE);
    written = calloc(size / 8 + 1, 1);
    if (!written)
        return vdsokit_fail(err, "out of memory for the alternatives site map");
    rc = patch_entries(src, dst, size, table, table_len, cpu, written, &r, err);
    if (!rc)
        rc = check_foreign_patches(src, dst, size, table, table_len, cpu, written, r.entries, err);
    free(written);
    if (!rc && report)
        *report = r;
    return rc;
}
