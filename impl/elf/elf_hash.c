/*
 * The two symbol hash functions of the ELF dynamic section: the SysV ELF
 * hash used by DT_HASH and verdef vd_hash, and the GNU (Bernstein, h*33+c
 * from 5381) hash used by DT_GNU_HASH. Both work on unsigned bytes.
 */
#include "elf_internal.h"

uint32_t elf_hash_sysv(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;
    uint32_t h = 0;

    for (; *p; p++) {
        h = (h << 4) + *p;
        uint32_t top = h & 0xf0000000u;
        /* Fold the top nibble back in, then clear it. */
        h ^= top >> 24;
        h &= ~top;
    }
    return h;
}

uint32_t elf_hash_gnu_len(const char *name, size_t *len)
{
    const unsigned char *p = (const unsigned char *)name;
    uint32_t h = 5381, c0, c1, c2, c3;

    /*
     * Four bytes per step: h*33^4 + c0*33^3 + c1*33^2 + c2*33 + c3 is the
     * same value (mod 2^32) as four single steps, with fewer dependent
     * operations on h. No byte past the NUL is read.
     */
    while ((c0 = p[0]) && (c1 = p[1]) && (c2 = p[2]) && (c3 = p[3])) {
        h = h * (33u * 33 * 33 * 33) + c0 * (33u * 33 * 33) + c1 * (33u * 33) + c2 * 33u + c3;
        p += 4;
    }
    for (; *p; p++)
        h = h * 33 + *p;
    *len = (size_t)(p - (const unsigned char *)name);
    return h;
}

uint32_t elf_hash_gnu(const char *name)
{
    size_t len;

    return elf_hash_gnu_len(name, &len);
}
