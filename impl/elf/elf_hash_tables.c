/*
 * Third parsing stage: the DT_HASH and DT_GNU_HASH headers, whole-table
 * bounds, and the dynamic symbol count (the rule is documented at
 * elf_open() in elf.h). After this stage every bucket and chain index a
 * lookup can reach is known to lie inside the table's segment, and every
 * chain walk has a bound.
 */
#include <elf.h>
#include <inttypes.h>

#include "elf_internal.h"

/* DT_HASH entries are 8 bytes on 64-bit s390 and on alpha, else 4. */
static unsigned sysv_entsize(const struct elf_image *img)
{
    if (img->machine == EM_ALPHA)
        return 8;
    if (img->machine == EM_S390 && img->elf_class == ELFCLASS64)
        return 8;
    return 4;
}

static uint64_t symbol_capacity(const struct elf_image *img, const struct elf_table_limits *lim)
{
    uint64_t n = (lim->symtab_end - img->symtab) / img->syment;

    return n > UINT32_MAX ? UINT32_MAX : n;
}

static int parse_sysv(struct elf_image *img, const struct elf_table_limits *lim, uint64_t cap,
                      struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    unsigned w = sysv_entsize(img);
    uint64_t nb = 0, nc = 0;

    img->hash_entsize = w;
    if (!elf_range_ok(&r, img->hash, 2 * w) || img->hash + 2 * w > lim->hash_end)
        return vdsokit_fail(
            err, "DT_HASH header (2 x %u bytes) at offset 0x%" PRIx64 " runs past its segment", w,
            img->hash);
    elf_read_entry(&r, img->hash, w, &nb);
    elf_read_entry(&r, img->hash + w, w, &nc);
    if (nb == 0)
        return vdsokit_fail(err, "DT_HASH nbucket at offset 0x%" PRIx64 " is 0", img->hash);
    if (nb > UINT32_MAX || nc > UINT32_MAX)
        return vdsokit_fail(err,
                            "DT_HASH nbucket %" PRIu64 " or nchain %" PRIu64 " at offset 0x%" PRIx64
                            " exceeds 32 bits",
                            nb, nc, img->hash);
    if ((2 + nb + nc) * w > lim->hash_end - img->hash)
        return vdsokit_fail(err,
                            "DT_HASH at offset 0x%" PRIx64 " with nbucket %" PRIu64
                            " and nchain %" PRIu64
                            " (%u-byte entries) runs past its segment end 0x%" PRIx64,
                            img->hash, nb, nc, w, lim->hash_end);
    if (nc > cap)
        return vdsokit_fail(err,
                            "DT_HASH nchain %" PRIu64 " exceeds the %" PRIu64
                            " symbols that fit between DT_SYMTAB (offset 0x%" PRIx64
                            ") and its segment end",
                            nc, cap, img->symtab);
    img->hash_nbucket = nb;
    img->hash_nchain = nc;
    return 0;
}

/* Scan the buckets: each non-empty one must start at or after symoffset. */
static int gnu_max_bucket(const struct elf_image *img, uint64_t cap, uint32_t *max,
                          struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    uint32_t b = 0;

    *max = 0;
    for (uint64_t i = 0; i < img->gnu_nbuckets; i++) {
        elf_read_u32(&r, img->gnu_buckets + 4 * i, &b);
        if (b == 0)
            continue;
        if (b < img->gnu_symoffset || b >= cap)
            return vdsokit_fail(err,
                                "DT_GNU_HASH bucket %" PRIu64 " at offset 0x%" PRIx64
                                " is %u, outside "
                                "[symoffset %" PRIu64 ", %" PRIu64 " symbols)",
                                i, img->gnu_buckets + 4 * i, b, img->gnu_symoffset, cap);
        if (b > *max)
            *max = b;
    }
    return 0;
}

/* Walk the last chain to its odd terminator: that is where hashed symbols end. */
static int gnu_chain_end(struct elf_image *img, const struct elf_table_limits *lim, uint64_t cap,
                         struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    uint32_t start = 0, word = 0;
    uint64_t i;

    if (gnu_max_bucket(img, cap, &start, err))
        return -1;
    if (start == 0) {
        img->gnu_end_index = (uint32_t)img->gnu_symoffset;
        return 0;
    }
    for (i = start;; i++) {
        uint64_t off = img->gnu_chains + 4 * (i - img->gnu_symoffset);
        if (i >= cap || off + 4 > lim->gnu_hash_end)
            return vdsokit_fail(err,
                                "DT_GNU_HASH chain starting at symbol %u has no terminating odd "
                                "word before symbol %" PRIu64 " (offset 0x%" PRIx64 ")",
                                start, i, off);
        elf_read_u32(&r, off, &word);
        if (word & 1)
            break;
    }
    img->gnu_end_index = (uint32_t)(i + 1);
    return 0;
}

static int parse_gnu(struct elf_image *img, const struct elf_table_limits *lim, uint64_t cap,
                     struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    uint32_t nb = 0, symoff = 0, bloom = 0, shift = 0;
    uint64_t room = lim->gnu_hash_end - img->gnu_hash, words;

    if (room < 16)
        return vdsokit_fail(
            err, "DT_GNU_HASH header (16 bytes) at offset 0x%" PRIx64 " runs past its segment",
            img->gnu_hash);
    elf_read_u32(&r, img->gnu_hash, &nb);
    elf_read_u32(&r, img->gnu_hash + 4, &symoff);
    elf_read_u32(&r, img->gnu_hash + 8, &bloom);
    elf_read_u32(&r, img->gnu_hash + 12, &shift);
    if (nb == 0)
        return vdsokit_fail(err, "DT_GNU_HASH nbuckets at offset 0x%" PRIx64 " is 0",
                            img->gnu_hash);
    if (symoff > cap)
        return vdsokit_fail(err,
                            "DT_GNU_HASH symoffset %u exceeds the %" PRIu64 " symbols in DT_SYMTAB",
                            symoff, cap);
    words = (uint64_t)bloom * (r.is64 ? 8 : 4) + 4ull * nb;
    if (words > room - 16)
        return vdsokit_fail(err,
                            "DT_GNU_HASH at offset 0x%" PRIx64
                            ": bloom_size %u and nbuckets %u run past "
                            "its segment end 0x%" PRIx64,
                            img->gnu_hash, bloom, nb, lim->gnu_hash_end);
    img->gnu_nbuckets = nb;
    img->gnu_symoffset = symoff;
    img->gnu_bloom_size = bloom;
    img->gnu_bloom_shift = shift;
    img->gnu_buckets = img->gnu_hash + 16 + (uint64_t)bloom * (r.is64 ? 8 : 4);
    img->gnu_chains = img->gnu_buckets + 4ull * nb;
    return gnu_chain_end(img, lim, cap, err);
}

/* Without hash tables: DT_SYMTAB up to the nearest table above it. */
static uint64_t count_by_distance(const struct elf_image *img, const struct elf_table_limits *lim)
{
    uint64_t end = lim->symtab_end;
    const uint64_t starts[] = {img->strtab, img->versym, img->verdef, img->dyn_offset};

    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
        if (starts[i] > img->symtab && starts[i] < end)
            end = starts[i];
    return (end - img->symtab) / img->syment;
}

static int check_versym_room(const struct elf_image *img, const struct elf_table_limits *lim,
                             struct vdsokit_error *err)
{
    if (!(img->dyn_present & ELF_DYN_VERSYM))
        return 0;
    if (2ull * img->nsyms > lim->versym_end - img->versym)
        return vdsokit_fail(err,
                            "DT_VERSYM at offset 0x%" PRIx64 " holds fewer than the %u entries "
                            "of the symbol table (segment ends at 0x%" PRIx64 ")",
                            img->versym, img->nsyms, lim->versym_end);
    return 0;
}

int elf_parse_hash_tables(struct elf_image *img, const struct elf_table_limits *lim,
                          struct vdsokit_error *err)
{
    uint64_t cap = symbol_capacity(img, lim);

    if ((img->dyn_present & ELF_DYN_HASH) && parse_sysv(img, lim, cap, err))
        return -1;
    if ((img->dyn_present & ELF_DYN_GNU_HASH) && parse_gnu(img, lim, cap, err))
        return -1;
    if (img->dyn_present & ELF_DYN_HASH) {
        if ((img->dyn_present & ELF_DYN_GNU_HASH) && img->gnu_end_index > img->hash_nchain)
            return vdsokit_fail(err,
                                "DT_GNU_HASH chains reach symbol %u but DT_HASH nchain is %" PRIu64,
                                img->gnu_end_index - 1, img->hash_nchain);
        img->nsyms = (uint32_t)img->hash_nchain;
        img->nsyms_rule = ELF_NSYMS_SYSV_NCHAIN;
    } else if (img->dyn_present & ELF_DYN_GNU_HASH) {
        img->nsyms = img->gnu_end_index;
        img->nsyms_rule = ELF_NSYMS_GNU_CHAINS;
    } else {
        uint64_t n = count_by_distance(img, lim);
        img->nsyms = n > cap ? (uint32_t)cap : (uint32_t)n;
        img->nsyms_rule = ELF_NSYMS_DISTANCE;
    }
    return check_versym_room(img, lim, err);
}
