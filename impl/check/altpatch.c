/*
 * Applies a vDSO image's x86 alternatives to a private copy of it for one
 * CPU. Entries are decoded from the original (const) bytes and replacement
 * bytes are copied from them too, so a table that points into its own patch
 * sites still gives one deterministic result. The entry format is the one
 * of the image's era (alt_layout.h): s32 site offset and s32 replacement
 * offset, each relative to its own field; a feature word whose upper bits
 * are flags; u8 site length; u8 replacement length; all little-endian.
 */
#include <cpuid.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <vdsokit/abi.h>
#include <vdsokit/altpatch.h>

/* Whether a CPU has a feature the vDSO's alternatives name. */
enum feature_state { FEATURE_UNKNOWN, FEATURE_ABSENT, FEATURE_PRESENT };

/* What to do with one entry for one CPU. */
enum entry_action { ENTRY_APPLY, ENTRY_SKIP_ABSENT, ENTRY_SKIP_UNKNOWN };

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

static enum feature_state state(bool present)
{
    return present ? FEATURE_PRESENT : FEATURE_ABSENT;
}

/* The era's numbers name the features (LFENCE_RDTSC moved in 6.3). */
static enum feature_state cpu_has(const struct alt_layout *l, const struct alt_cpu *cpu,
                                  unsigned feature)
{
    if (feature == l->rdtscp)
        return state(cpu->rdtscp);
    if (feature == l->rdpid)
        return state(cpu->rdpid);
    if (feature == l->lfence_rdtsc)
        return state(cpu->lfence_rdtsc);
    return FEATURE_UNKNOWN;
}

static uint32_t le(const uint8_t *p, unsigned width)
{
    uint32_t v = 0;

    for (unsigned i = width; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* base + rel, where base is an offset in the image; false when outside it. */
static bool rel_target(uint64_t base, int32_t rel, size_t size, uint64_t *out)
{
    int64_t t = (int64_t)base + rel;

    if (t < 0 || (uint64_t)t > size)
        return false;
    *out = (uint64_t)t;
    return true;
}

/* Where an entry's site and replacement lie, and that they fit the image. */
static int check_entry(const struct alt_entry *e, unsigned idx, size_t size,
                       struct vdsokit_error *err)
{
    unsigned long long at = e->where;

    if (e->site_len > size - e->site)
        return vdsokit_fail(err,
                            "alt entry %u at 0x%llx: site 0x%llx + instrlen %u runs past the image "
                            "end 0x%zx",
                            idx, at, (unsigned long long)e->site, e->site_len, size);
    if (e->repl_len > size - e->repl)
        return vdsokit_fail(err,
                            "alt entry %u at 0x%llx: replacement 0x%llx + replacementlen %u runs "
                            "past the image end 0x%zx",
                            idx, at, (unsigned long long)e->repl, e->repl_len, size);
    if (e->repl_len > e->site_len)
        return vdsokit_fail(err, "alt entry %u at 0x%llx: replacementlen %u exceeds instrlen %u",
                            idx, at, e->repl_len, e->site_len);
    return 0;
}

/* Offsets of the fields every era has (alt_layout.h). */
enum { ALT_INSTR_OFFSET = 0, ALT_REPL_OFFSET = 4, ALT_WORD = 8 };

int alt_entry_read(const struct alt_layout *l, const uint8_t *image, size_t size, uint64_t table,
                   uint64_t table_len, unsigned idx, struct alt_entry *e, struct vdsokit_error *err)
{
    uint64_t at = table + (uint64_t)idx * l->entry_size;
    int32_t instr, repl;
    uint32_t word;
    const uint8_t *p;

    if (table > size || table_len > size - table || (uint64_t)idx >= table_len / l->entry_size)
        return vdsokit_fail(err,
                            "alt entry %u: outside the table [0x%llx, +0x%llx) of a 0x%zx-byte "
                            "image",
                            idx, (unsigned long long)table, (unsigned long long)table_len, size);
    /* The entry lies inside the checked table. */
    p = image + at;
    instr = (int32_t)le(p + ALT_INSTR_OFFSET, 4);
    repl = (int32_t)le(p + ALT_REPL_OFFSET, 4);
    word = le(p + ALT_WORD, l->word_size);
    e->where = at;
    e->feature = (uint16_t)(word & ((1u << l->flags_shift) - 1));
    e->flags = (uint16_t)(word >> l->flags_shift);
    e->site_len = p[l->entry_size - 2];
    e->repl_len = p[l->entry_size - 1];
    if (!rel_target(at + ALT_INSTR_OFFSET, instr, size, &e->site))
        return vdsokit_fail(err, "alt entry %u at 0x%llx: instr_offset %d points outside the image",
                            idx, (unsigned long long)at, instr);
    if (!rel_target(at + ALT_REPL_OFFSET, repl, size, &e->repl))
        return vdsokit_fail(err, "alt entry %u at 0x%llx: repl_offset %d points outside the image",
                            idx, (unsigned long long)at, repl);
    return check_entry(e, idx, size, err);
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

/* Fill dst[0, len) with the fewest recommended multi-byte NOPs. */
static void fill_nops(uint8_t *dst, size_t len)
{
    while (len) {
        size_t n = len > 8 ? 8 : len;
        memcpy(dst, nops[n - 1], n);
        dst += n;
        len -= n;
    }
}

static enum entry_action entry_wanted(const struct alt_layout *l, const struct alt_entry *e,
                                      const struct alt_cpu *cpu)
{
    enum feature_state has = cpu_has(l, cpu, e->feature);

    if (has == FEATURE_UNKNOWN || (e->flags & ~ALT_FLAG_NOT))
        return ENTRY_SKIP_UNKNOWN;
    /* ALT_FLAG_NOT: the replacement is for CPUs without the feature. */
    return (has == FEATURE_PRESENT) != !!(e->flags & ALT_FLAG_NOT) ? ENTRY_APPLY
                                                                   : ENTRY_SKIP_ABSENT;
}

static bool bit_test(const uint8_t *map, uint64_t i)
{
    return map[i / 8] >> (i % 8) & 1;
}

static void bit_set(uint8_t *map, uint64_t i)
{
    map[i / 8] |= (uint8_t)(1u << (i % 8));
}

static int patch_entries(const struct alt_layout *l, const uint8_t *src, uint8_t *dst, size_t size,
                         uint64_t table, uint64_t table_len, const struct alt_cpu *cpu,
                         uint8_t *written, struct alt_report *r, struct vdsokit_error *err)
{
    struct alt_entry e;

    for (unsigned i = 0; i < r->entries; i++) {
        if (alt_entry_read(l, src, size, table, table_len, i, &e, err))
            return -1;
        switch (entry_wanted(l, &e, cpu)) {
        case ENTRY_APPLY:
            memcpy(dst + e.site, src + e.repl, e.repl_len);
            fill_nops(dst + e.site + e.repl_len, (size_t)e.site_len - e.repl_len);
            bit_set(written, e.site);
            r->applied++;
            break;
        case ENTRY_SKIP_ABSENT:
            r->skipped_absent++;
            break;
        case ENTRY_SKIP_UNKNOWN:
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
static int check_foreign_patches(const struct alt_layout *l, const uint8_t *src, const uint8_t *dst,
                                 size_t size, uint64_t table, uint64_t table_len,
                                 const struct alt_cpu *cpu, const uint8_t *written,
                                 unsigned entries, struct vdsokit_error *err)
{
    struct alt_entry e;

    for (unsigned i = 0; i < entries; i++) {
        if (alt_entry_read(l, src, size, table, table_len, i, &e, err))
            return -1;
        if (e.flags || e.repl_len == 0 || cpu_has(l, cpu, e.feature) != FEATURE_ABSENT ||
            bit_test(written, e.site))
            continue;
        if (memcmp(dst + e.site, src + e.repl, e.repl_len) == 0)
            return vdsokit_fail(
                err,
                "alt entry %u at 0x%llx: site 0x%llx already holds the replacement for "
                "feature %u:%u, which this CPU lacks (image patched for another CPU)",
                i, (unsigned long long)e.where, (unsigned long long)e.site, e.feature / 32,
                e.feature % 32);
    }
    return 0;
}

int alt_apply(const struct alt_layout *l, const uint8_t *src, uint8_t *dst, size_t size,
              uint64_t table, uint64_t table_len, const struct alt_cpu *cpu,
              struct alt_report *report, struct vdsokit_error *err)
{
    struct alt_report r = {0};
    uint8_t *written;
    int rc;

    if (table > size || table_len > size - table)
        return vdsokit_fail(err,
                            ".altinstructions [0x%llx, +0x%llx) lies outside the 0x%zx-byte image",
                            (unsigned long long)table, (unsigned long long)table_len, size);
    if (table_len % l->entry_size)
        return vdsokit_fail(err,
                            ".altinstructions at 0x%llx: size 0x%llx is not a multiple of %u (the "
                            "%s entry size)",
                            (unsigned long long)table, (unsigned long long)table_len, l->entry_size,
                            l->name);
    r.entries = (unsigned)(table_len / l->entry_size);
    written = calloc(size / 8 + 1, 1);
    if (!written)
        return vdsokit_fail(err, "out of memory for the alternatives site map");
    rc = patch_entries(l, src, dst, size, table, table_len, cpu, written, &r, err);
    if (!rc)
        rc = check_foreign_patches(l, src, dst, size, table, table_len, cpu, written, r.entries,
                                   err);
    free(written);
    if (!rc && report)
        *report = r;
    return rc;
}
