/*
 * The generator's lowest layer, shared by every stage: byte-order aware
 * stores into the image buffer, and the two symbol hash functions, written
 * again here (not taken from the resolver) so that the generator stays an
 * independent oracle for it.
 */
#include "elfgen_internal.h"

void gen_put16(struct gen *g, uint64_t off, uint16_t v)
{
    for (int i = 0; i < 2; i++)
        g->buf[off + (g->msb ? 1 - i : i)] = (uint8_t)(v >> (8 * i));
}

void gen_put32(struct gen *g, uint64_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        g->buf[off + (g->msb ? 3 - i : i)] = (uint8_t)(v >> (8 * i));
}

void gen_put64(struct gen *g, uint64_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        g->buf[off + (g->msb ? 7 - i : i)] = (uint8_t)(v >> (8 * i));
}

void gen_putw(struct gen *g, uint64_t off, uint64_t v)
{
    if (g->is64)
        gen_put64(g, off, v);
    else
        gen_put32(g, off, (uint32_t)v);
}

uint32_t gen_sysv_hash(const char *name)
{
    uint32_t h = 0;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h = (h << 4) + *p;
        h = (h ^ ((h & 0xf0000000u) >> 24)) & 0x0fffffffu;
    }
    return h;
}

uint32_t gen_gnu_hash(const char *name)
{
    uint32_t h = 5381;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h << 5) + h + *p;
    return h;
}
