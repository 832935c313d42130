/*
 * The checker's symbol-level rules: every exported symbol reachable through
 * both hash tables (and admitted by the GNU bloom filter, which glibc
 * consults first), the version definitions (BASE, LINUX_2.6, vd_hash), the
 * machine's required exports typed FUNC with a size inside executable code,
 * and the .altinstructions entries decoded by the loader's own reader.
 */
#include <elf.h>
#include <inttypes.h>
#include <string.h>

#include <vdsokit/abi.h>
#include <vdsokit/altpatch.h>

#include "imgcheck_internal.h"

static const char *const path_names[] = {
    [ELF_LOOKUP_GNU_HASH] = "DT_GNU_HASH",
    [ELF_LOOKUP_SYSV_HASH] = "DT_HASH",
};

static void check_bloom(const struct elf_image *img, struct imgcheck_report *r)
{
    struct elf_sym s;

    if (img->gnu_bloom_size == 0 || (img->gnu_bloom_size & (img->gnu_bloom_size - 1))) {
        imgcheck_add(r, IMGCHECK_ERROR, "bloom",
                     "DT_GNU_HASH bloom_size %" PRIu64 " is not a power of two (glibc masks "
                     "with bloom_size - 1)",
                     img->gnu_bloom_size);
        return;
    }
    for (uint32_t i = (uint32_t)img->gnu_symoffset; i < img->gnu_end_index; i++)
        if (elf_symbol(img, i, &s, NULL) == 0 && elf_sym_is_exported(&s) &&
            !elf_gnu_bloom_admits(img, elf_hash_gnu(s.name)))
            imgcheck_add(r, IMGCHECK_ERROR, "bloom",
                         "the DT_GNU_HASH bloom filter rejects '%s' (index %u): glibc would "
                         "not find it",
                         s.name, i);
}

void imgcheck_hash_reach(const struct elf_image *img, struct imgcheck_report *r)
{
    struct elf_sym s, found;
    unsigned missing = 0;

    for (enum elf_lookup_path p = ELF_LOOKUP_GNU_HASH; p <= ELF_LOOKUP_SYSV_HASH; p++) {
        for (uint32_t i = 1; i < img->nsyms; i++) {
            if (elf_symbol(img, i, &s, NULL) || !elf_sym_is_exported(&s))
                continue;
            enum elf_lookup_result rc =
                elf_lookup(img, s.name, s.hidden ? s.version : NULL, p, &found);
            if (rc == ELF_NO_TABLE)
                break;
            if (rc != ELF_FOUND && missing++ < 8)
                imgcheck_add(r, IMGCHECK_ERROR, "hash-reach",
                             "'%s' (index %u) cannot be found through %s", s.name, i,
                             path_names[p]);
        }
    }
    if (img->dyn_present & ELF_DYN_GNU_HASH)
        check_bloom(img, r);
}

void imgcheck_versions(const struct elf_image *img, struct imgcheck_report *r)
{
    bool x86 = img->machine == EM_X86_64, base = false, linux26 = false;

    if (img->nverdefs == 0) {
        imgcheck_add(r, x86 ? IMGCHECK_ERROR : IMGCHECK_WARNING, "version",
                     "no DT_VERDEF: LINUX_2.6 lookups rely on the unversioned fallback, and Go "
                     "dereferences a missing verdef");
        return;
    }
    for (unsigned i = 0; i < img->nverdefs; i++) {
        const struct elf_verdef *d = &img->verdefs[i];
        if (d->hash != elf_hash_sysv(d->name))
            imgcheck_add(r, IMGCHECK_ERROR, "version",
                         "version %s (index %u) has vd_hash 0x%08x, not its ELF hash 0x%08x "
                         "(parse_vdso compares it)",
                         d->name, d->ndx, d->hash, elf_hash_sysv(d->name));
        if (d->flags & VER_FLG_BASE)
            base = true;
        else if (strcmp(d->name, "LINUX_2.6") == 0)
            linux26 = true;
    }
    if (!base)
        imgcheck_add(r, IMGCHECK_WARNING, "version", "no BASE version definition");
    if (x86 && !linux26)
        imgcheck_add(r, IMGCHECK_ERROR, "version",
                     "no LINUX_2.6 version definition: glibc and parse_vdso look every export "
                     "up under LINUX_2.6");
}

struct export_rule {
    const char *name;
    bool required;
};

static const struct export_rule x86_64_exports[] = {
    {"__vdso_clock_gettime", true}, {"__vdso_gettimeofday", true}, {"__vdso_time", true},
    {"__vdso_clock_getres", true},  {"__vdso_getcpu", true},       {"__vdso_getrandom", false},
};

static bool in_exec_segment(const struct elf_image *img, const struct elf_sym *s)
{
    for (unsigned i = 0; i < img->nloads; i++) {
        const struct elf_load *l = &img->loads[i];
        if ((l->flags & PF_X) && s->value >= l->vaddr && s->value - l->vaddr < l->filesz &&
            s->size <= l->filesz - (s->value - l->vaddr))
            return true;
    }
    return false;
}

static void check_export(const struct elf_image *img, const struct export_rule *e,
                         struct imgcheck_report *r)
{
    struct elf_sym s;

    if (elf_lookup(img, e->name, "LINUX_2.6", ELF_LOOKUP_AUTO, &s) != ELF_FOUND) {
        imgcheck_add(r, e->required ? IMGCHECK_ERROR : IMGCHECK_INFO, "exports",
                     "%s@LINUX_2.6 is not exported%s", e->name,
                     e->required ? "" : " (optional: kernels before 6.11 lack it)");
        return;
    }
    if (s.type != STT_FUNC)
        imgcheck_add(r, IMGCHECK_ERROR, "exports", "%s has type %u, not STT_FUNC (2)", e->name,
                     s.type);
    if (s.size == 0)
        imgcheck_add(r, IMGCHECK_ERROR, "exports", "%s has st_size 0", e->name);
    if (s.bind != STB_GLOBAL)
        imgcheck_add(r, IMGCHECK_WARNING, "exports", "%s has binding %u, not STB_GLOBAL", e->name,
                     s.bind);
    if (!in_exec_segment(img, &s))
        imgcheck_add(r, IMGCHECK_ERROR, "exports",
                     "%s [0x%" PRIx64 ", +%" PRIu64 ") is not inside an executable PT_LOAD",
                     e->name, s.value, s.size);
}

void imgcheck_exports(const struct elf_image *img, struct imgcheck_report *r)
{
    const char *m = elf_machine_name(img->machine);
    unsigned n = sizeof(x86_64_exports) / sizeof(x86_64_exports[0]);

    if (img->machine != EM_X86_64) {
        imgcheck_add(r, IMGCHECK_INFO, "exports", "no export list for machine %s (%u)",
                     m ? m : "unknown", img->machine);
        return;
    }
    unsigned before = r->errors;
    for (unsigned i = 0; i < n; i++)
        check_export(img, &x86_64_exports[i], r);
    if (r->errors == before)
        imgcheck_add(r, IMGCHECK_INFO, "exports",
                     "the x86-64 exports resolve under LINUX_2.6 as FUNC with a size");
}

/*
 * The era's layout: from the version (note or override), else inferred from
 * the table. NULL, with an error finding, when neither gives one.
 */
static const struct alt_layout *
choose_layout(const struct elf_image *img, const struct elf_section *s, struct imgcheck_report *r)
{
    const struct alt_layout *l = NULL;
    struct vdsokit_error err;
    char ver[24];

    if (r->has_linux_version) {
        l = alt_layout_for_version(r->linux_version);
        if (l)
            return l;
        elf_linux_version_format(r->linux_version, ver, sizeof ver);
        imgcheck_add(r, IMGCHECK_INFO, "alternatives",
                     "no .altinstructions layout is known for Linux %s: inferring it from the "
                     "table",
                     ver);
    }
    if (alt_layout_infer(img->data, img->size, s->offset, s->size, &l, &err)) {
        imgcheck_add(r, IMGCHECK_ERROR, "alternatives", ".altinstructions at 0x%" PRIx64 ": %s",
                     s->offset, err.msg);
        return NULL;
    }
    r->alt_layout_inferred = true;
    return l;
}

static void decode_entries(const struct elf_image *img, const struct elf_section *s,
                           const struct alt_layout *l, struct imgcheck_report *r)
{
    struct alt_entry e;
    struct vdsokit_error aerr;
    unsigned bad = 0, n = (unsigned)(s->size / l->entry_size);

    if (s->size % l->entry_size)
        imgcheck_add(r, IMGCHECK_ERROR, "alternatives",
                     ".altinstructions size 0x%" PRIx64 " is not a multiple of %u (the %s entry "
                     "size)",
                     s->size, l->entry_size, l->name);
    for (unsigned i = 0; i < n; i++)
        if (alt_entry_read(l, img->data, img->size, s->offset, s->size, i, &e, &aerr) && bad++ < 4)
            imgcheck_add(r, IMGCHECK_ERROR, "alternatives", "%s (layout %s)", aerr.msg, l->name);
    r->nalt = n;
    if (!bad)
        imgcheck_add(r, IMGCHECK_INFO, "alternatives",
                     "%u .altinstructions entries at 0x%" PRIx64
                     " under the %s layout (%s, %s), every site and replacement inside the image",
                     n, s->offset, l->name, l->what,
                     r->alt_layout_inferred ? "inferred from the table" : "from the version");
}

/* Only x86 (x86-64 and i386) vDSOs carry alternatives in the x86 struct alt_instr. */
static bool is_x86(uint16_t machine)
{
    return machine == EM_X86_64 || machine == EM_386;
}

void imgcheck_alternatives(const struct elf_image *img, const struct elf_sections *secs,
                           struct imgcheck_report *r)
{
    struct elf_section s;
    const struct elf_load *l0 = &img->loads[0];
    const char *m = elf_machine_name(img->machine);
    bool present = secs->count && elf_section_by_name(secs, ".altinstructions", &s);

    if (!is_x86(img->machine)) {
        imgcheck_add(r, IMGCHECK_INFO, "alternatives", "skipped: no x86 alternatives on %s%s",
                     m ? m : "this machine",
                     present ? " (its .altinstructions is in that architecture's own format, "
                               "not decoded)"
                             : "");
        return;
    }
    if (!present) {
        imgcheck_add(r, IMGCHECK_INFO, "alternatives", "no .altinstructions section");
        return;
    }
    if (s.offset < l0->offset || s.offset - l0->offset > l0->filesz ||
        s.size > l0->filesz - (s.offset - l0->offset)) {
        imgcheck_add(r, IMGCHECK_ERROR, "alternatives",
                     ".altinstructions [0x%" PRIx64 ", +0x%" PRIx64
                     ") is not inside the first PT_LOAD",
                     s.offset, s.size);
        return;
    }
    r->has_alternatives = true;
    r->alt_offset = s.offset;
    r->alt_len = s.size;
    r->alt_layout = choose_layout(img, &s, r);
    if (r->alt_layout)
        decode_entries(img, &s, r->alt_layout, r);
}
