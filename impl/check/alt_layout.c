/*
 * The table of x86 struct alt_instr eras and the choice of a row: by the
 * image's LINUX_VERSION_CODE, or, without one, the only row under which
 * every entry of the table decodes. The facts come from the kernels'
 * arch/x86/include/asm/alternative.h and cpufeatures.h (docs/abi.md §4.3).
 */
#include <stdlib.h>

#include <vdsokit/altpatch.h>

#define KV(a, b, c) ((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))
#define KV_MAX      0xffffffu

/*
 * 6.3 widened the u16 cpuid (bit 15: ALT_NOT) to a u32 ft_flags word with
 * the flags in its upper half (bit 0: NOT, bit 1: direct call), and moved
 * LFENCE_RDTSC from the scattered word 3 to CPUID 0x80000021 EAX (word 20).
 * The 6.3 layout is unchanged through 6.18. Kernels before 6.1 are not in
 * the table: their images are inferred.
 */
static const struct alt_layout layouts[] = {
    {"x86-6.1", "6.1-6.2: 12-byte entries, u16 cpuid (bit 15 = not)", KV(6, 1, 0), KV(6, 2, 255),
     12, 2, 15, 1 * 32 + 27, 16 * 32 + 22, 3 * 32 + 18},
    {"x86-6.3", "6.3 and later: 14-byte entries, u32 ft_flags (flags in the upper half)",
     KV(6, 3, 0), KV_MAX, 14, 4, 16, 1 * 32 + 27, 16 * 32 + 22, 20 * 32 + 2},
};

#define NLAYOUTS (sizeof layouts / sizeof layouts[0])

const struct alt_layout *alt_layouts(unsigned *count)
{
    *count = NLAYOUTS;
    return layouts;
}

const struct alt_layout *alt_layout_for_version(uint32_t linux_version)
{
    for (size_t i = 0; i < NLAYOUTS; i++)
        if (linux_version >= layouts[i].first && linux_version <= layouts[i].last)
            return &layouts[i];
    return NULL;
}

/* Whether every entry of the table decodes under l; err holds the first complaint. */
static bool decodes(const struct alt_layout *l, const uint8_t *image, size_t size, uint64_t table,
                    uint64_t table_len, struct vdsokit_error *err)
{
    struct alt_entry e;

    if (table_len % l->entry_size) {
        vdsokit_fail(err, "size 0x%llx is not a multiple of %u", (unsigned long long)table_len,
                     l->entry_size);
        return false;
    }
    for (unsigned i = 0; i < table_len / l->entry_size; i++)
        if (alt_entry_read(l, image, size, table, table_len, i, &e, err))
            return false;
    return true;
}

int alt_layout_infer(const uint8_t *image, size_t size, uint64_t table, uint64_t table_len,
                     const struct alt_layout **out, struct vdsokit_error *err)
{
    struct vdsokit_error why = {{0}};
    const char *why_layout = NULL;
    const struct alt_layout *found = NULL;

    for (size_t i = NLAYOUTS; i-- > 0;) {
        struct vdsokit_error e;
        if (!decodes(&layouts[i], image, size, table, table_len, &e)) {
            if (!why_layout) {
                why_layout = layouts[i].name;
                why = e;
            }
            continue;
        }
        if (found)
            return vdsokit_fail(err,
                                "both the %s and the %s layout decode every entry: the era "
                                "cannot be told without the `Linux` note",
                                found->name, layouts[i].name);
        found = &layouts[i];
    }
    if (!found)
        return vdsokit_fail(err, "no layout decodes every entry (%s: %.200s)", why_layout, why.msg);
    *out = found;
    return 0;
}

/* One decimal component, at most max, followed by '.' or the end. */
static bool component(const char **s, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v;

    if (**s < '0' || **s > '9')
        return false;
    v = strtoul(*s, &end, 10);
    if (v > max || (*end && *end != '.'))
        return false;
    *out = (unsigned)v;
    *s = *end ? end + 1 : end;
    return true;
}

uint32_t alt_parse_version(const char *s)
{
    unsigned major, minor, patch = 0;
    char *end;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        unsigned long v = strtoul(s + 2, &end, 16);
        return *end || end == s + 2 || v > KV_MAX ? 0 : (uint32_t)v;
    }
    if (!component(&s, 255, &major) || !component(&s, 255, &minor))
        return 0;
    /* The kernel clamps the patch level to 255 in LINUX_VERSION_CODE. */
    if (*s && !component(&s, 1u << 20, &patch))
        return 0;
    return *s ? 0 : KV(major, minor, patch > 255 ? 255 : patch);
}
