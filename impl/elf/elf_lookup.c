/*
 * Symbol lookup by name and optional version through DT_GNU_HASH, DT_HASH
 * or a linear scan. All three return the lowest matching symbol index, so
 * they agree on every image: GNU chains hold ascending indices (the first
 * match is the lowest), SysV chains have no order (the whole chain is
 * walked), the scan runs upward. Chain walks are bounded by the counts
 * elf_open() validated, so a cyclic or corrupt chain ends as "not found".
 */
#include <string.h>

#include "elf_internal.h"

#define SHN_ABS_INDEX 0xfff1

/* What version a candidate must carry. */
enum { WANT_DEFAULT = -1, WANT_ANY = 0 };

/* The vd_ndx to match, or WANT_*; -2 when the image lacks that version. */
static int wanted_ndx(const struct elf_image *img, const char *version)
{
    if (!version)
        return WANT_DEFAULT;
    if (img->nverdefs == 0)
        return WANT_ANY; /* unversioned image: as glibc, accept the plain symbol */
    for (unsigned i = 0; i < img->nverdefs; i++) {
        const struct elf_verdef *d = &img->verdefs[i];
        if (!(d->flags & 1) && strcmp(d->name, version) == 0)
            return d->ndx;
    }
    return -2;
}

/* Cheap pre-check: is symbol `index` named `name` (len bytes + NUL)? */
static bool name_is(const struct elf_image *img, uint32_t index, const char *name, size_t len)
{
    struct elf_reader r = elf_image_reader(img);
    uint32_t off = 0;

    if (!elf_read_u32(&r, img->symtab + (uint64_t)index * img->syment, &off))
        return false;
    return off < img->strsz && len < img->strsz - off &&
           memcmp(img->data + img->strtab + off, name, len + 1) == 0;
}

static bool matches(const struct elf_image *img, uint32_t index, const char *name, int want,
                    struct elf_sym *sym)
{
    if (index >= img->nsyms || !name_is(img, index, name, strlen(name)))
        return false;
    if (elf_symbol(img, index, sym, NULL) || !elf_sym_is_exported(sym))
        return false;
    /* A consumer adds the load bias to the value: it must be an address in
     * the image (or an absolute number), never a pointer past it. */
    uint64_t off;
    if (sym->shndx != SHN_ABS_INDEX && !elf_symbol_offset(img, sym, &off))
        return false;
    if (want == WANT_DEFAULT)
        return !sym->hidden;
    if (want == WANT_ANY)
        return true;
    return (sym->versym & 0x7fff) == want;
}

static int lookup_gnu(const struct elf_image *img, const char *name, int want, struct elf_sym *out)
{
    struct elf_reader r = elf_image_reader(img);
    uint32_t h = elf_hash_gnu(name), start = 0, word = 0;

    elf_read_u32(&r, img->gnu_buckets + 4ull * (h % img->gnu_nbuckets), &start);
    if (start == 0)
        return ELF_NOT_FOUND;
    for (uint32_t i = start; i < img->gnu_end_index; i++) {
        elf_read_u32(&r, img->gnu_chains + 4ull * (i - img->gnu_symoffset), &word);
        if ((word | 1) == (h | 1) && matches(img, i, name, want, out))
            return ELF_FOUND;
        if (word & 1)
            break;
    }
    return ELF_NOT_FOUND;
}

static int lookup_sysv(const struct elf_image *img, const char *name, int want, struct elf_sym *out)
{
    struct elf_reader r = elf_image_reader(img);
    unsigned w = img->hash_entsize;
    uint64_t i = 0, steps = 0, h = elf_hash_sysv(name);
    uint64_t best = 0;
    struct elf_sym cand;

    elf_read_entry(&r, img->hash + w * (2 + h % img->hash_nbucket), w, &i);
    for (; i != 0 && i < img->hash_nchain && steps < img->hash_nchain; steps++) {
        if ((best == 0 || i < best) && matches(img, (uint32_t)i, name, want, &cand)) {
            best = i;
            *out = cand;
        }
        elf_read_entry(&r, img->hash + w * (2 + img->hash_nbucket + i), w, &i);
    }
    return best ? ELF_FOUND : ELF_NOT_FOUND;
}

static int lookup_scan(const struct elf_image *img, const char *name, int want, struct elf_sym *out)
{
    for (uint32_t i = 1; i < img->nsyms; i++)
        if (matches(img, i, name, want, out))
            return ELF_FOUND;
    return ELF_NOT_FOUND;
}

int elf_lookup(const struct elf_image *img, const char *name, const char *version,
               enum elf_lookup_path path, struct elf_sym *out)
{
    bool gnu = img->dyn_present & ELF_DYN_GNU_HASH, sysv = img->dyn_present & ELF_DYN_HASH;
    int want;

    if (path == ELF_LOOKUP_AUTO)
        path = gnu ? ELF_LOOKUP_GNU_HASH : sysv ? ELF_LOOKUP_SYSV_HASH : ELF_LOOKUP_SCAN;
    if ((path == ELF_LOOKUP_GNU_HASH && !gnu) || (path == ELF_LOOKUP_SYSV_HASH && !sysv))
        return ELF_NO_TABLE;
    want = wanted_ndx(img, version);
    if (want == -2)
        return ELF_NOT_FOUND;
    switch (path) {
    case ELF_LOOKUP_GNU_HASH:
        return lookup_gnu(img, name, want, out);
    case ELF_LOOKUP_SYSV_HASH:
        return lookup_sysv(img, name, want, out);
    default:
        return lookup_scan(img, name, want, out);
    }
}
