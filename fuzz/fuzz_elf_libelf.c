/*
 * fuzz_elf_libelf: our resolver against libelf (elfutils), each reading the
 * execution view of its own copy of the input (libelf's side is
 * libelf_model.c). When both accept, the normalised models must be equal:
 * class, byte order, type, machine, program-header placement, every PT_LOAD
 * (so the load bias), the file offsets of the tables the dynamic section
 * names, and for every symbol its name, value, size, type, bind, section,
 * raw versym and version name. When only one side accepts, the input must
 * fall under the policy allowlist, else the harness aborts:
 *
 *  P1 ours accepts, libelf refuses: allowed only when the linking view is
 *     broken (section header table not fitting the file, wrong e_shentsize,
 *     e_shstrndx out of range, extended numbering through section 0). libelf validates the section
 * table in elf_memory(); a vDSO loader never reads it. P2 ours rejects, libelf reads it: allowed.
 * libelf checks structure, not content; our resolver also demands every table, name and version to
 * be in bounds and consistent (elf.h, elf_open()). That no *good* image is refused is checked by
 * the committed seeds, which must all be accepted (fuzz-mutator-selftest and the replay of
 * corpora/fuzz_elf).
 *
 * Both sides apply one shared reading rule that ELF leaves open: without
 * DT_STRSZ the string table runs to the end of its segment's file bytes.
 *
 * With FUZZ_DIVERGENCE_DIR set, one-sided inputs are saved there as
 * div-ours-only-* / div-libelf-only-* for triage; with FUZZ_DIFF_STATS set,
 * the acceptance counts (how often the comparison really ran) print at exit.
 */
#include "fuzz_common.h"
#include "libelf_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdsokit/elf.h>

#define MAX_COMPARED_SYMS 256
#define DIFF(cond, ...)   FUZZ_ASSERT(cond, "ours vs libelf: " __VA_ARGS__)

static unsigned long n_both, n_ours_only, n_libelf_only, n_neither;

static void print_stats(void)
{
    fprintf(stderr, "fuzz_elf_libelf: both %lu, ours only %lu, libelf only %lu, neither %lu\n",
            n_both, n_ours_only, n_libelf_only, n_neither);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lelf_init();
    if (getenv("FUZZ_DIFF_STATS"))
        atexit(print_stats);
    return 0;
}

static void save_divergence(const char *side, const uint8_t *data, size_t size)
{
    const char *dir = getenv("FUZZ_DIVERGENCE_DIR");
    uint64_t h = 1469598103934665603ull; /* FNV-1a names the file by content */
    char path[4096];
    FILE *f;

    if (!dir)
        return;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    snprintf(path, sizeof(path), "%s/div-%s-%016llx", dir, side, (unsigned long long)h);
    f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, size, f);
        fclose(f);
    }
}

/* P1: libelf refuses section header tables that do not fit the file. */
static bool linking_view_broken(const struct elf_image *img)
{
    uint64_t want = img->elf_class == 2 ? 64 : 40;

    if (img->shoff == 0)
        return false;
    /* e_shnum 0 or e_shstrndx SHN_XINDEX: the real values live in section 0. */
    if (img->shnum == 0 || img->shstrndx == 0xffff)
        return true;
    return img->shentsize != want || img->shoff > img->size ||
           (uint64_t)img->shnum * img->shentsize > img->size - img->shoff ||
           (img->shnum && img->shstrndx >= img->shnum);
}

static void compare_header(const struct elf_image *img, const struct lelf_model *m)
{
    DIFF(img->elf_class == m->elf_class && img->byte_order == m->byte_order,
         "class/byte order %u/%u vs %u/%u", img->elf_class, img->byte_order, m->elf_class,
         m->byte_order);
    DIFF(img->type == m->type && img->machine == m->machine, "type/machine %u/%u vs %u/%u",
         img->type, img->machine, m->type, m->machine);
    DIFF(img->phnum == m->phnum && img->phoff == m->phoff, "phnum/phoff %u/0x%llx vs %u/0x%llx",
         img->phnum, (unsigned long long)img->phoff, m->phnum, (unsigned long long)m->phoff);
    DIFF(img->nloads == m->nloads, "PT_LOAD count %u vs %u", img->nloads, m->nloads);
    for (unsigned i = 0; i < img->nloads; i++) {
        const struct elf_load *o = &img->loads[i];
        const struct lelf_load *p = &m->loads[i];
        DIFF(o->offset == p->offset && o->vaddr == p->vaddr && o->filesz == p->filesz &&
                 o->memsz == p->memsz && o->flags == p->flags,
             "PT_LOAD %u: off 0x%llx vaddr 0x%llx vs off 0x%llx vaddr 0x%llx", i,
             (unsigned long long)o->offset, (unsigned long long)o->vaddr,
             (unsigned long long)p->offset, (unsigned long long)p->vaddr);
    }
}

static void compare_tables(const struct elf_image *img, const struct lelf_model *m)
{
    static const struct {
        uint32_t ours, theirs;
        const char *what;
    } bits[] = {
        {ELF_DYN_STRTAB, LELF_STRTAB, "DT_STRTAB"},
        {ELF_DYN_SYMTAB, LELF_SYMTAB, "DT_SYMTAB"},
        {ELF_DYN_HASH, LELF_HASH, "DT_HASH"},
        {ELF_DYN_GNU_HASH, LELF_GNU_HASH, "DT_GNU_HASH"},
        {ELF_DYN_VERSYM, LELF_VERSYM, "DT_VERSYM"},
        {ELF_DYN_VERDEF, LELF_VERDEF, "DT_VERDEF"},
    };
    const uint64_t ours[] = {img->strtab,   img->symtab, img->hash,
                             img->gnu_hash, img->versym, img->verdef};
    const uint64_t theirs[] = {m->strtab, m->symtab, m->hash, m->gnu_hash, m->versym, m->verdef};

    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        DIFF(!(img->dyn_present & bits[i].ours) || (m->present & bits[i].theirs),
             "%s: ours maps it, libelf does not", bits[i].what);
        if ((img->dyn_present & bits[i].ours) && (m->present & bits[i].theirs))
            DIFF(ours[i] == theirs[i], "%s at 0x%llx vs 0x%llx", bits[i].what,
                 (unsigned long long)ours[i], (unsigned long long)theirs[i]);
    }
}

static void compare_symbol(struct lelf *l, const struct elf_sym *s)
{
    struct lelf_sym ls;
    uint16_t lv;
    const char *lver;

    DIFF(lelf_symbol(l, s->index, &ls), "libelf cannot read symbol %u", s->index);
    DIFF(ls.name && strcmp(ls.name, s->name) == 0, "symbol %u name '%s' vs '%s'", s->index, s->name,
         ls.name ? ls.name : "(outside the string table)");
    DIFF(s->value == ls.value && s->size == ls.size && s->shndx == ls.shndx && s->type == ls.type &&
             s->bind == ls.bind,
         "symbol %u '%s': value/size/shndx/type/bind 0x%llx/%llu/%u/%u/%u vs 0x%llx/%llu/%u/%u/%u",
         s->index, s->name, (unsigned long long)s->value, (unsigned long long)s->size, s->shndx,
         s->type, s->bind, (unsigned long long)ls.value, (unsigned long long)ls.size, ls.shndx,
         ls.type, ls.bind);
    if (!lelf_versym(l, s->index, &lv))
        return;
    DIFF(s->versym == lv, "symbol %u versym 0x%x vs 0x%x", s->index, s->versym, lv);
    lver = (lv & 0x7fff) >= 2 ? lelf_version_name(l, lv & 0x7fff) : NULL;
    if (s->version && lver)
        DIFF(strcmp(s->version, lver) == 0, "symbol %u version '%s' vs '%s'", s->index, s->version,
             lver);
}

static void compare_symbols(struct lelf *l, const struct elf_image *img)
{
    uint32_t n = img->nsyms < MAX_COMPARED_SYMS ? img->nsyms : MAX_COMPARED_SYMS;

    if (n == 0)
        return;
    DIFF(lelf_symbols(l, img->symtab, n), "libelf cannot read the %u symbols at 0x%llx", n,
         (unsigned long long)img->symtab);
    for (uint32_t i = 0; i < n; i++) {
        struct elf_sym s;
        if (elf_symbol(img, i, &s, NULL) == 0)
            compare_symbol(l, &s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    uint8_t *ours_copy, *libelf_copy;
    struct elf_image img;
    struct vdsokit_error err;
    struct lelf_model m;
    struct lelf *l;
    bool ours_ok, libelf_ok;

    if (size == 0)
        return 0;
    if (!ready)
        ready = LLVMFuzzerInitialize(NULL, NULL) == 0;
    ours_copy = fuzz_copy_input(data, size);
    libelf_copy = fuzz_copy_input(data, size);
    ours_ok = elf_open(&img, ours_copy, size, &err) == 0;
    l = lelf_open(libelf_copy, size);
    libelf_ok = l && lelf_model(l, &m);

    if (ours_ok && libelf_ok) {
        n_both++;
        compare_header(&img, &m);
        compare_tables(&img, &m);
        compare_symbols(l, &img);
    } else if (ours_ok) {
        n_ours_only++;
        save_divergence("ours-only", data, size);
        FUZZ_ASSERT(linking_view_broken(&img), "P1: libelf refused an image ours accepted: %s",
                    lelf_error());
    } else if (libelf_ok) {
        n_libelf_only++;
        save_divergence("libelf-only", data, size); /* P2 */
    } else {
        n_neither++;
    }
    lelf_close(l);
    free(libelf_copy);
    free(ours_copy);
    return 0;
}
