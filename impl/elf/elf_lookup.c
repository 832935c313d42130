/*
 * Symbol lookup by name and optional version through DT_GNU_HASH, DT_HASH
 * or a linear scan, and the GNU bloom filter query the checker asks. All
 * three lookup paths return the lowest matching symbol index, so they agree
 * on every image: GNU chains hold ascending indices (the first match is the
 * lowest), SysV chains have no order (the whole chain is walked), the scan
 * runs upward. Chain walks are bounded by the counts elf_open() validated,
 * so a cyclic or corrupt chain ends as "not found".
 */
#include <string.h>

#include "elf_internal.h"

/* What version a candidate must carry: a vd_ndx > 0, or one of these. */
enum { WANT_DEFAULT = -1, WANT_ANY = 0 };

/* One lookup, prepared once: the name with its length, the version wanted. */
struct query {
    const char *name;
    size_t len;
    int want;
    const struct elf_verdef *def; /* the verdef of `want` when want > 0 */
    struct elf_reader r;          /* over the image, built once */
};

/* Fill q->want (and q->def); false when the image lacks that version. */
static bool want_version(const struct elf_image *img, const char *version, struct query *q)
{
    q->want = WANT_DEFAULT;
    q->def = NULL;
    if (!version)
        return true;
    q->want = WANT_ANY; /* unversioned image: as glibc, accept the plain symbol */
    if (img->nverdefs == 0)
        return true;
    for (unsigned i = 0; i < img->nverdefs; i++) {
        const struct elf_verdef *d = &img->verdefs[i];
        if (!(d->flags & VER_FLG_BASE) && strcmp(d->name, version) == 0) {
            q->want = d->ndx;
            q->def = d;
            return true;
        }
    }
    return false;
}

/*
 * Is the string at st_name exactly the queried name? No strlen: len is
 * known. The terminator and the first byte go first: together they turn
 * away almost every other name of a scan or a chain without a memcmp call.
 */
static bool name_at(const struct elf_image *img, uint32_t st_name, const struct query *q)
{
    const uint8_t *s;

    if (st_name >= img->strsz || q->len >= img->strsz - st_name)
        return false;
    s = img->data + img->strtab + st_name;
    return s[q->len] == 0 && s[0] == (uint8_t)q->name[0] && memcmp(s, q->name, q->len) == 0;
}

/* The version part of a match; fills versym, hidden and version. */
static bool version_matches(const struct elf_image *img, const struct query *q, struct elf_sym *sym)
{
    uint16_t v = 0;

    if (img->dyn_present & ELF_DYN_VERSYM)
        elf_read_u16(&q->r, img->versym + 2ull * sym->index, &v);
    sym->versym = v;
    sym->hidden = (v & VERSYM_HIDDEN) != 0;
    if (q->want == WANT_DEFAULT && sym->hidden)
        return false;
    if (q->want > 0 && (v & VERSYM_VERSION) != q->want)
        return false;
    /* The wanted verdef is already at hand; VER_NDX_GLOBAL names no version. */
    sym->version = q->want > VER_NDX_GLOBAL ? q->def->name
                   : q->want > 0            ? NULL
                                            : elf_version_name(img, v);
    return true;
}

/* Symbol `index` as the answer to q, decoded into sym, or false. */
static bool matches(const struct elf_image *img, uint32_t index, const struct query *q,
                    struct elf_sym *sym)
{
    uint64_t off = img->symtab + (uint64_t)index * img->syment, in_image;
    uint32_t st_name = 0;

    /* st_name alone first: most candidates of a scan or a SysV chain stop here. */
    if (index >= img->nsyms || !elf_read_u32(&q->r, off, &st_name) || !name_at(img, st_name, q) ||
        !elf_read_sym_at(&q->r, off, sym, &st_name))
        return false;
    sym->index = index;
    sym->name = (const char *)img->data + img->strtab + st_name;
    if (!elf_sym_exportable(sym))
        return false;
    /* A consumer adds the load bias to the value: it must be an address in
     * the image (or an absolute number), never a pointer past it. */
    if (sym->shndx != SHN_ABS && !elf_value_offset(img, sym->value, &in_image))
        return false;
    return version_matches(img, q, sym);
}

static enum elf_lookup_result lookup_gnu(const struct elf_image *img, struct query *q,
                                         struct elf_sym *out)
{
    const struct elf_reader *r = &q->r;
    uint32_t h = elf_hash_gnu_len(q->name, &q->len), start = 0, word = 0;

    elf_read_u32(r, img->gnu_buckets + 4ull * (h % img->gnu_nbuckets), &start);
    if (start == 0)
        return ELF_NOT_FOUND;
    for (uint32_t i = start; i < img->gnu_end_index; i++) {
        elf_read_u32(r, img->gnu_chains + 4ull * (i - img->gnu_symoffset), &word);
        if ((word | 1) == (h | 1) && matches(img, i, q, out))
            return ELF_FOUND;
        if (word & 1)
            break;
    }
    return ELF_NOT_FOUND;
}

static enum elf_lookup_result lookup_sysv(const struct elf_image *img, struct query *q,
                                          struct elf_sym *out)
{
    const struct elf_reader *r = &q->r;
    unsigned w = img->hash_entsize;
    uint64_t i = 0, steps = 0, h = elf_hash_sysv(q->name);
    uint64_t best = 0;
    struct elf_sym cand;

    q->len = strlen(q->name);
    elf_read_entry(r, img->hash + w * (2 + h % img->hash_nbucket), w, &i);
    for (; i != 0 && i < img->hash_nchain && steps < img->hash_nchain; steps++) {
        if ((best == 0 || i < best) && matches(img, (uint32_t)i, q, &cand)) {
            best = i;
            *out = cand;
        }
        elf_read_entry(r, img->hash + w * (2 + img->hash_nbucket + i), w, &i);
    }
    return best ? ELF_FOUND : ELF_NOT_FOUND;
}

static enum elf_lookup_result lookup_scan(const struct elf_image *img, struct query *q,
                                          struct elf_sym *out)
{
    q->len = strlen(q->name);
    for (uint32_t i = 1; i < img->nsyms; i++)
        if (matches(img, i, q, out))
            return ELF_FOUND;
    return ELF_NOT_FOUND;
}

enum elf_lookup_result elf_lookup(const struct elf_image *img, const char *name,
                                  const char *version, enum elf_lookup_path path,
                                  struct elf_sym *out)
{
    bool gnu = img->dyn_present & ELF_DYN_GNU_HASH, sysv = img->dyn_present & ELF_DYN_HASH;
    struct query q = {name, 0, WANT_DEFAULT, NULL, elf_image_reader(img)};

    if (path == ELF_LOOKUP_AUTO)
        path = gnu ? ELF_LOOKUP_GNU_HASH : sysv ? ELF_LOOKUP_SYSV_HASH : ELF_LOOKUP_SCAN;
    if ((path == ELF_LOOKUP_GNU_HASH && !gnu) || (path == ELF_LOOKUP_SYSV_HASH && !sysv))
        return ELF_NO_TABLE;
    if (!want_version(img, version, &q))
        return ELF_NOT_FOUND;
    switch (path) {
    case ELF_LOOKUP_GNU_HASH:
        return lookup_gnu(img, &q, out);
    case ELF_LOOKUP_SYSV_HASH:
        return lookup_sysv(img, &q, out);
    default:
        return lookup_scan(img, &q, out);
    }
}

bool elf_gnu_bloom_admits(const struct elf_image *img, uint32_t gnu_hash)
{
    struct elf_reader r = elf_image_reader(img);
    unsigned bits = r.is64 ? 64 : 32;
    uint64_t word, at;
    uint32_t h2;

    if (!(img->dyn_present & ELF_DYN_GNU_HASH) || img->gnu_bloom_size == 0)
        return false;
    /* The filter words follow the 16-byte header; the second bit comes from h >> shift. */
    at = img->gnu_hash + 16 + (bits / 8) * ((gnu_hash / bits) % img->gnu_bloom_size);
    h2 = img->gnu_bloom_shift < 32 ? gnu_hash >> img->gnu_bloom_shift : 0;
    if (!elf_read_word(&r, at, &word))
        return false;
    return ((word >> (gnu_hash % bits)) & 1) && ((word >> (h2 % bits)) & 1);
}
