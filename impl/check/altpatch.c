/*
 * Applies a vDSO image's x86 alternatives to a private copy of it for one
 * CPU. Entries are decoded from the original (const) bytes and replacement
 * bytes are copied from them too, so a table that points into its own patch
 * sites still gives one deterministic result. The entry format is the
 * kernel's 14-byte one: s32 site offset and s32 replacement offset, each
 * relative to its own field; u32 feature (low half) and flags (high half);
 * u8 site length; u8 replacement length.
 */
#include <cpuid.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <vdsokit/abi.h>
#include <vdsokit/altpatch.h>

/*
 * One entry as the kernel stores it (its struct alt_instr). The image is
 * x86-64 code and the host that patches it is x86-64 too (CPUID above), so
 * a record copied out of the bounds-checked table reads in host order.
 */
struct alt_record {
    int32_t instr_offset; /* the site, relative to this field */
    int32_t repl_offset;  /* the replacement, relative to this field */
    uint32_t ft_flags;    /* feature (low half) and flags (high half) */
    uint8_t instrlen;
    uint8_t replacementlen;
} __attribute__((packed));

_Static_assert(sizeof(struct alt_record) == VDSO_ALT_ENTRY_SIZE, "14-byte .altinstructions entry");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "x86 images are little-endian");

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

static enum feature_state cpu_has(const struct alt_cpu *cpu, unsigned feature)
{
    switch (feature) {
    case X86_FEATURE_RDTSCP:
        return state(cpu->rdtscp);
    case X86_FEATURE_RDPID:
        return state(cpu->rdpid);
    case X86_FEATURE_LFENCE_RDTSC:
        return state(cpu->lfence_rdtsc);
    default:
        return FEATURE_UNKNOWN;
    }
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

int alt_entry_read(const uint8_t *image, size_t size, uint64_t table, uint64_t table_len,
                   unsigned idx, struct alt_entry *e, struct vdsokit_error *err)
{
    uint64_t at = table + (uint64_t)idx * VDSO_ALT_ENTRY_SIZE;
    struct alt_record rec;

    if (table > size || table_len > size - table ||
        (uint64_t)idx >= table_len / VDSO_ALT_ENTRY_SIZE)
        return vdsokit_fail(err,
                            "alt entry %u: outside the table [0x%llx, +0x%llx) of a 0x%zx-byte "
                            "image",
                            idx, (unsigned long long)table, (unsigned long long)table_len, size);
    /* The entry lies inside the checked table. */
    memcpy(&rec, image + at, sizeof rec);
    e->where = at;
    e->feature = (uint16_t)rec.ft_flags;
    e->flags = (uint16_t)(rec.ft_flags >> 16);
    e->site_len = rec.instrlen;
    e->repl_len = rec.replacementlen;
    if (!rel_target(at + offsetof(struct alt_record, instr_offset), rec.instr_offset, size,
                    &e->site))
        return vdsokit_fail(err, "alt entry %u at 0x%llx: instr_offset %d points outside the image",
                            idx, (unsigned long long)at, rec.instr_offset);
    if (!rel_target(at + offsetof(struct alt_record, repl_offset), rec.repl_offset, size, &e->repl))
        return vdsokit_fail(err, "alt entry %u at 0x%llx: repl_offset %d points outside the image",
                            idx, (unsigned long long)at, rec.repl_offset);
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

static enum entry_action entry_wanted(const struct alt_entry *e, const struct alt_cpu *cpu)
{
    enum feature_state has = cpu_has(cpu, e->feature);

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

static int patch_entries(const uint8_t *src, uint8_t *dst, size_t size, uint64_t table,
                         uint64_t table_len, const struct alt_cpu *cpu, uint8_t *written,
                         struct alt_report *r, struct vdsokit_error *err)
{
    struct alt_entry e;

    for (unsigned i = 0; i < r->entries; i++) {
        if (alt_entry_read(src, size, table, table_len, i, &e, err))
            return -1;
        switch (entry_wanted(&e, cpu)) {
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
static int check_foreign_patches(const uint8_t *src, const uint8_t *dst, size_t size,
                                 uint64_t table, uint64_t table_len, const struct alt_cpu *cpu,
                                 const uint8_t *written, unsigned entries,
                                 struct vdsokit_error *err)
{
    struct alt_entry e;

    for (unsigned i = 0; i < entries; i++) {
        if (alt_entry_read(src, size, table, table_len, i, &e, err))
            return -1;
        if (e.flags || e.repl_len == 0 || cpu_has(cpu, e.feature) != FEATURE_ABSENT ||
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

int alt_apply(const uint8_t *src, uint8_t *dst, size_t size, uint64_t table, uint64_t table_len,
              const struct alt_cpu *cpu, struct alt_report *report, struct vdsokit_error *err)
{
    struct alt_report r = {0};
    uint8_t *written;
    int rc;

    if (table > size || table_len > size - table)
        return vdsokit_fail(err,
                            ".altinstructions [0x%llx, +0x%llx) lies outside the 0x%zx-byte image",
                            (unsigned long long)table, (unsigned long long)table_len, size);
    if (table_len % VDSO_ALT_ENTRY_SIZE)
        return vdsokit_fail(err, ".altinstructions at 0x%llx: size 0x%llx is not a multiple of %d",
                            (unsigned long long)table, (unsigned long long)table_len,
                            VDSO_ALT_ENTRY_SIZE);
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
