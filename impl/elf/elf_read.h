/*
 * Bounds-checked readers for untrusted ELF bytes, internal to vdsokit_elf.
 * Every multi-byte field of an input image is read through these: they copy
 * the bytes (no cast of the input, no unaligned access), convert from the
 * file's byte order, and return false instead of reading outside [0, size).
 * The resolver, the section view and the notes share them; code outside
 * impl/elf asks the resolver's API (elf.h, elf_sections.h) instead.
 */
#ifndef VDSOKIT_ELF_READ_H
#define VDSOKIT_ELF_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct elf_reader {
    const uint8_t *data;
    size_t size;
    bool is64; /* ELFCLASS64: class-sized words are 8 bytes */
    bool msb;  /* ELFDATA2MSB */
};

/* True when [off, off+len) lies inside the input; overflow-safe. */
static inline bool elf_range_ok(const struct elf_reader *r, uint64_t off, uint64_t len)
{
    return off <= r->size && len <= r->size - off;
}

/* Whether the file's byte order differs from the host's: its fields need a byte swap. */
static inline bool elf_swapped(const struct elf_reader *r)
{
    return r->msb != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
}

/*
 * Copy a whole record (a program header, a symbol, a dynamic entry ...)
 * into a local buffer with one range check; its fields are then decoded
 * with elf_rec_*(). This is the fast path: one check and one copy per
 * record instead of one per field. Pass len as a constant (branch on the
 * class in the caller): a variable length compiles to a copy loop.
 */
static inline bool elf_read_rec(const struct elf_reader *r, uint64_t off, void *rec, size_t len)
{
    if (!elf_range_ok(r, off, len))
        return false;
    memcpy(rec, r->data + off, len);
    return true;
}

/* A field of a record already copied out, converted from the file's byte order. */
static inline uint16_t elf_rec_u16(const struct elf_reader *r, const uint8_t *field)
{
    uint16_t v;

    memcpy(&v, field, 2);
    return elf_swapped(r) ? __builtin_bswap16(v) : v;
}

static inline uint32_t elf_rec_u32(const struct elf_reader *r, const uint8_t *field)
{
    uint32_t v;

    memcpy(&v, field, 4);
    return elf_swapped(r) ? __builtin_bswap32(v) : v;
}

static inline uint64_t elf_rec_u64(const struct elf_reader *r, const uint8_t *field)
{
    uint64_t v;

    memcpy(&v, field, 8);
    return elf_swapped(r) ? __builtin_bswap64(v) : v;
}

/* A class-sized field (Elf32_Addr/Off/Word vs Elf64_Addr/Off/Xword). */
static inline uint64_t elf_rec_word(const struct elf_reader *r, const uint8_t *field)
{
    return r->is64 ? elf_rec_u64(r, field) : elf_rec_u32(r, field);
}

static inline bool elf_read_u8(const struct elf_reader *r, uint64_t off, uint8_t *out)
{
    if (!elf_range_ok(r, off, 1))
        return false;
    *out = r->data[off];
    return true;
}

static inline bool elf_read_u16(const struct elf_reader *r, uint64_t off, uint16_t *out)
{
    if (!elf_range_ok(r, off, 2))
        return false;
    *out = elf_rec_u16(r, r->data + off);
    return true;
}

static inline bool elf_read_u32(const struct elf_reader *r, uint64_t off, uint32_t *out)
{
    if (!elf_range_ok(r, off, 4))
        return false;
    *out = elf_rec_u32(r, r->data + off);
    return true;
}

static inline bool elf_read_u64(const struct elf_reader *r, uint64_t off, uint64_t *out)
{
    if (!elf_range_ok(r, off, 8))
        return false;
    *out = elf_rec_u64(r, r->data + off);
    return true;
}

/* A u32 or u64 entry of the given width (DT_HASH entries are 4 or 8 bytes). */
static inline bool elf_read_entry(const struct elf_reader *r, uint64_t off, unsigned width,
                                  uint64_t *out)
{
    uint32_t v32;

    if (width == 8)
        return elf_read_u64(r, off, out);
    if (!elf_read_u32(r, off, &v32))
        return false;
    *out = v32;
    return true;
}

/* A class-sized word (Elf32_Addr/Off/Word vs Elf64_Addr/Off/Xword). */
static inline bool elf_read_word(const struct elf_reader *r, uint64_t off, uint64_t *out)
{
    return elf_read_entry(r, off, r->is64 ? 8 : 4, out);
}

/*
 * The NUL-terminated string at [off, limit) or NULL when it is not
 * terminated before limit (or limit lies outside the input).
 */
static inline const char *elf_read_str(const struct elf_reader *r, uint64_t off, uint64_t limit)
{
    if (limit > r->size || off >= limit)
        return NULL;
    if (!memchr(r->data + off, '\0', limit - off))
        return NULL;
    return (const char *)(r->data + off);
}

#endif /* VDSOKIT_ELF_READ_H */
