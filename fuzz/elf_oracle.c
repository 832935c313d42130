/*
 * Hash-table reachability oracle (see elf_oracle.h). It reads only through
 * read_word(), which checks the range against the image size and honours
 * the image's byte order, so it is safe on any image elf_open() accepted.
 */
#include "elf_oracle.h"

#include <stddef.h>

static bool read_word(const struct elf_image *img, uint64_t off, unsigned width, uint64_t *out)
{
    uint64_t v = 0;

    if (off > img->size || width > img->size - off)
        return false;
    for (unsigned i = 0; i < width; i++) {
        unsigned shift = img->byte_order == 2 ? 8 * (width - 1 - i) : 8 * i;
        v |= (uint64_t)img->data[off + i] << shift;
    }
    *out = v;
    return true;
}

bool oracle_sysv_reaches(const struct elf_image *img, const char *name, uint32_t index)
{
    uint64_t nbucket = img->hash_nbucket, nchain = img->hash_nchain, w = img->hash_entsize;
    uint64_t bucket_base = img->hash + 2 * w, chain_base, next;

    if (!(img->dyn_present & ELF_DYN_HASH) || nbucket == 0 || index >= nchain || w == 0)
        return false;
    chain_base = bucket_base + nbucket * w;
    if (!read_word(img, bucket_base + (elf_hash_sysv(name) % nbucket) * w, (unsigned)w, &next))
        return false;
    /* A walk that reaches index does so before it can repeat a node. */
    for (uint64_t steps = 0; steps <= nchain && next != 0; steps++) {
        if (next == index)
            return true;
        if (next >= nchain || !read_word(img, chain_base + next * w, (unsigned)w, &next))
            return false;
    }
    return false;
}

static bool bloom_admits(const struct elf_image *img, uint32_t h)
{
    unsigned bits = img->elf_class == 2 ? 64 : 32;
    uint64_t word;

    if (img->gnu_bloom_size == 0)
        return false;
    if (!read_word(img, img->gnu_hash + 16 + ((h / bits) % img->gnu_bloom_size) * (bits / 8),
                   bits / 8, &word))
        return false;
    /* A shift of 32 or more leaves nothing of h (and is undefined in C). */
    uint32_t h2 = img->gnu_bloom_shift < 32 ? h >> img->gnu_bloom_shift : 0;

    return (word >> (h % bits) & 1) && (word >> (h2 % bits) & 1);
}

bool oracle_gnu_reaches(const struct elf_image *img, const char *name, uint32_t index)
{
    uint32_t h = elf_hash_gnu(name);
    uint64_t start, word;

    if (!(img->dyn_present & ELF_DYN_GNU_HASH) || img->gnu_nbuckets == 0 ||
        index < img->gnu_symoffset || index >= img->nsyms || !bloom_admits(img, h))
        return false;
    if (!read_word(img, img->gnu_buckets + (h % img->gnu_nbuckets) * 4, 4, &start))
        return false;
    /* A bucket of 0 is empty, even where symoffset is 0 and index 0 a real slot. */
    if (start == 0 || start < img->gnu_symoffset || start > index)
        return false;
    for (uint64_t k = start; k <= index; k++) {
        if (!read_word(img, img->gnu_chains + (k - img->gnu_symoffset) * 4, 4, &word))
            return false;
        if (k == index)
            return (word | 1) == (h | 1);
        if (word & 1)
            return false; /* the chain ends before index */
    }
    return false;
}
