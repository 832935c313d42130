/*
 * The two symbol hash functions of the ELF dynamic section: the SysV ELF
 * hash used by DT_HASH and verdef vd_hash, and the GNU (Bernstein, h*33+c
 * from 5381) hash used by DT_GNU_HASH. Both work on unsigned bytes.
 */
#include <vdsokit/elf.h>

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

uint32_t elf_hash_gnu(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;
    uint32_t h = 5381;

    for (; *p; p++)
        h = h * 33 + *p;
    return h;
}
