/*
 * The image checker's driver and its image-level rules: ELF type, the
 * single PT_LOAD at offset 0 / vaddr 0 with filesz == memsz (vdso2c),
 * congruent, ordered, page-separated segments (check_vdso), no dynamic
 * relocations, both hash tables, the section view and the notes. Symbol
 * and version rules live in imgcheck_rules.c, the report in
 * imgcheck_report.c.
 */
#include <elf.h>
#include <inttypes.h>
#include <string.h>

#include <vdsokit/abi.h>

#include "imgcheck_internal.h"

/* Rounding to the pages a segment occupies once mapped. */
static uint64_t page_down(uint64_t v)
{
    return v & ~(uint64_t)(VDSO_PAGE_SIZE - 1);
}

static uint64_t page_up(uint64_t v)
{
    return page_down(v + VDSO_PAGE_SIZE - 1);
}

/* PT_LOAD i (i > 0) against the first and the previous one (check_vdso). */
static void check_later_load(const struct elf_image *img, unsigned i, struct imgcheck_report *r)
{
    const struct elf_load *l = &img->loads[i], *l0 = &img->loads[0], *prev = &img->loads[i - 1];
    uint64_t prev_end = prev->vaddr + prev->memsz;

    if (l->vaddr - l0->vaddr != l->offset - l0->offset)
        imgcheck_add(r, IMGCHECK_ERROR, "load-congruent",
                     "PT_LOAD %u: p_vaddr 0x%" PRIx64 " and p_offset 0x%" PRIx64
                     " are not the same distance from the first segment's",
                     i, l->vaddr, l->offset);
    if (l->vaddr < prev_end || page_down(l->vaddr) < page_up(prev_end))
        imgcheck_add(r, IMGCHECK_ERROR, "load-order",
                     "PT_LOAD %u at 0x%" PRIx64 " overlaps or shares a page with PT_LOAD %u", i,
                     l->vaddr, i - 1);
}

static void check_loads(const struct elf_image *img, struct imgcheck_report *r)
{
    const struct elf_load *l0 = &img->loads[0];

    if (img->nloads != 1)
        imgcheck_add(r, IMGCHECK_ERROR, "load-count",
                     "%u PT_LOAD segments; vdso2c requires exactly one (the kernel maps the "
                     "file as one contiguous image)",
                     img->nloads);
    if (l0->offset != 0 || l0->vaddr != 0)
        imgcheck_add(r, IMGCHECK_ERROR, "load-origin",
                     "the first PT_LOAD has p_offset 0x%" PRIx64 " and p_vaddr 0x%" PRIx64
                     "; both must be 0",
                     l0->offset, l0->vaddr);
    for (unsigned i = 0; i < img->nloads; i++) {
        const struct elf_load *l = &img->loads[i];
        if (l->filesz != l->memsz)
            imgcheck_add(r, IMGCHECK_ERROR, "load-size",
                         "PT_LOAD %u has p_filesz 0x%" PRIx64 " != p_memsz 0x%" PRIx64
                         " (no .bss possible in a vDSO)",
                         i, l->filesz, l->memsz);
        if (i)
            check_later_load(img, i, r);
    }
    if (img->type != ET_DYN)
        imgcheck_add(r, IMGCHECK_ERROR, "type", "e_type is %u, not ET_DYN (3)", img->type);
}

static void check_dynamic(const struct elf_image *img, struct imgcheck_report *r)
{
    static const struct {
        uint32_t bit;
        const char *what;
    } relocs[] = {{ELF_DYN_REL, "DT_REL/DT_RELSZ/DT_RELENT"},
                  {ELF_DYN_RELA, "DT_RELA/DT_RELASZ/DT_RELAENT"},
                  {ELF_DYN_JMPREL, "DT_JMPREL/DT_PLTRELSZ"},
                  {ELF_DYN_TEXTREL, "DT_TEXTREL (or DF_TEXTREL)"}};

    for (size_t i = 0; i < sizeof(relocs) / sizeof(relocs[0]); i++)
        if (img->dyn_present & relocs[i].bit)
            imgcheck_add(r, IMGCHECK_ERROR, "relocations",
                         "%s: relocations to apply (a nonzero size, or a table without one); a "
                         "vDSO is mapped unrelocated, so it must need none",
                         relocs[i].what);
    /*
     * x86 kernels link --hash-style=both; arm64 (and its arm compat image)
     * links sysv only before 6.11 and gnu only from it, armhf sysv only, riscv
     * and LoongArch 7.x gnu only: a missing table on a real image is
     * a consumer warning naming who breaks, or no finding at all where
     * every known consumer reads the table that is there.
     */
    bool sysv = img->dyn_present & ELF_DYN_HASH, gnu = img->dyn_present & ELF_DYN_GNU_HASH;
    bool x86 = img->machine == EM_X86_64 || img->machine == EM_386;

    if (!sysv && !gnu)
        imgcheck_add(r, IMGCHECK_ERROR, "hash",
                     "neither DT_HASH nor DT_GNU_HASH: no consumer can look a symbol up");
    else if (!sysv)
        imgcheck_add(r, IMGCHECK_WARNING, "hash",
                     "no DT_HASH: DT_HASH-only consumers find no symbols: musl's __vdsosym and "
                     "parsers derived from the kernel's parse_vdso.c before it read DT_GNU_HASH "
                     "(defect class C28); glibc and Go use DT_GNU_HASH");
    else if (!gnu)
        imgcheck_add(r, x86 ? IMGCHECK_WARNING : IMGCHECK_INFO, "hash",
                     x86 ? "no DT_GNU_HASH: x86 kernels link --hash-style=both; resolvers that "
                           "read only DT_GNU_HASH find no symbols"
                         : "no DT_GNU_HASH (linked --hash-style=sysv, as arm64 kernels before 6.11 "
                           "and armhf kernels are): glibc, musl, Go and parse_vdso read DT_HASH");
    if (!img->soname_name || strcmp(img->soname_name, "linux-vdso.so.1") != 0)
        imgcheck_add(r, img->machine == EM_X86_64 ? IMGCHECK_WARNING : IMGCHECK_INFO, "soname",
                     "DT_SONAME is \"%s\", not \"linux-vdso.so.1\" (glibc names the link map "
                     "after it)",
                     img->soname_name ? img->soname_name : "(none)");
}

static void check_notes(const struct elf_image *img, const struct elf_sections *secs,
                        struct imgcheck_report *r)
{
    struct elf_notes notes;
    struct vdsokit_error err;
    char ver[24];

    if (elf_notes_read(img, secs, &notes, &err)) {
        imgcheck_add(r, IMGCHECK_ERROR, "notes", "%s", err.msg);
        return;
    }
    r->has_linux_version = notes.has_linux_version;
    r->linux_version = notes.linux_version;
    if (notes.has_linux_version) {
        elf_linux_version_format(notes.linux_version, ver, sizeof(ver));
        imgcheck_add(r, IMGCHECK_INFO, "linux-note",
                     "built for Linux %s (`Linux` note type 0, LINUX_VERSION_CODE 0x%06x)", ver,
                     notes.linux_version);
    } else {
        imgcheck_add(r, IMGCHECK_WARNING, "linux-note",
                     "no `Linux` note of type 0: the kernel version (and so the data-page "
                     "layout) cannot be told from the image");
    }
    if (notes.has_build_id)
        imgcheck_add(r, IMGCHECK_INFO, "build-id", "GNU build id of %u bytes", notes.build_id_size);
}

/* The caller's version replaces the note's for every era-dependent rule. */
static void apply_override(uint32_t version, struct imgcheck_report *r)
{
    char ver[24];

    if (!version)
        return;
    elf_linux_version_format(version, ver, sizeof(ver));
    imgcheck_add(r, IMGCHECK_INFO, "linux-note",
                 "judged as built for Linux %s (0x%06x), as the caller asked", ver, version);
    r->has_linux_version = true;
    r->linux_version = version;
}

static void check_sections(const struct elf_image *img, const struct elf_sections *secs,
                           struct imgcheck_report *r)
{
    struct elf_symtab symtab;
    struct elf_section s;

    if (secs->count == 0) {
        imgcheck_add(r, IMGCHECK_INFO, "sections", "no section headers");
        return;
    }
    if (elf_symtab_open(&symtab, secs, NULL) == 0)
        imgcheck_add(r, IMGCHECK_INFO, "symtab", ".symtab present with %" PRIu64 " entries",
                     symtab.count);
    if ((elf_section_by_name(secs, ".data", &s) || elf_section_by_name(secs, ".bss", &s)) && s.size)
        imgcheck_add(r, IMGCHECK_WARNING, "writable-data",
                     "non-empty %s (0x%" PRIx64 " bytes): vDSO pages are shared read-only", s.name,
                     s.size);
    (void)img;
}

int imgcheck_run(const void *data, size_t size, struct imgcheck_report *out)
{
    return imgcheck_run_with(data, size, NULL, out);
}

int imgcheck_run_with(const void *data, size_t size, const struct imgcheck_options *opt,
                      struct imgcheck_report *out)
{
    struct elf_image img;
    struct elf_sections secs;
    struct vdsokit_error err;

    memset(out, 0, sizeof(*out));
    if (elf_open(&img, data, size, &err)) {
        imgcheck_add(out, IMGCHECK_ERROR, "elf", "unreadable: %s", err.msg);
        return -1;
    }
    check_loads(&img, out);
    check_dynamic(&img, out);
    imgcheck_hash_reach(&img, out);
    imgcheck_versions(&img, out);
    imgcheck_exports(&img, out);
    if (elf_sections_open(&secs, &img, &err)) {
        imgcheck_add(out, IMGCHECK_WARNING, "sections", "section view unreadable: %s", err.msg);
        secs.count = 0;
        secs.img = &img;
    } else {
        check_sections(&img, &secs, out);
    }
    /* The notes first: the version chooses the alternatives layout. */
    check_notes(&img, &secs, out);
    apply_override(opt ? opt->linux_version : 0, out);
    imgcheck_alternatives(&img, &secs, out);
    return 0;
}
