/*
 * Generator stage that writes the ELF header and the program headers (one
 * or two PT_LOADs, PT_DYNAMIC, PT_NOTE) in the description's class and
 * byte order. The tables, text and sections have their own stages.
 */
#include <elf.h>
#include <string.h>

#include "elfgen_internal.h"

static void put_phdr(struct gen *g, unsigned i, uint32_t type, uint32_t flags,
                     const struct piece *p, uint64_t align)
{
    uint64_t o = g->phdr.off + (uint64_t)i * (g->is64 ? 56 : 32), va = gen_vaddr(g, p->off);

    gen_put32(g, o, type);
    if (g->is64) {
        gen_put32(g, o + 4, flags);
        gen_put64(g, o + 8, p->off);
        gen_put64(g, o + 16, va);
        gen_put64(g, o + 24, va);
        gen_put64(g, o + 32, p->size);
        gen_put64(g, o + 40, p->size);
        gen_put64(g, o + 48, align);
    } else {
        gen_put32(g, o + 4, (uint32_t)p->off);
        gen_put32(g, o + 8, (uint32_t)va);
        gen_put32(g, o + 12, (uint32_t)va);
        gen_put32(g, o + 16, (uint32_t)p->size);
        gen_put32(g, o + 20, (uint32_t)p->size);
        gen_put32(g, o + 24, flags);
        gen_put32(g, o + 28, (uint32_t)align);
    }
}

void gen_write_headers(struct gen *g)
{
    const struct elfgen_desc *d = g->d;
    uint8_t *e = g->buf;
    unsigned i = 0;

    memcpy(e, "\177ELF", 4);
    e[EI_CLASS] = d->elf_class;
    e[EI_DATA] = d->byte_order;
    e[EI_VERSION] = EV_CURRENT;
    gen_put16(g, 16, ET_DYN);
    gen_put16(g, 18, d->machine);
    gen_put32(g, 20, EV_CURRENT);
    gen_putw(g, g->is64 ? 32 : 28, g->phdr.off);
    gen_putw(g, g->is64 ? 40 : 32, g->shdr.off);
    gen_put16(g, g->is64 ? 52 : 40, g->is64 ? 64 : 52);
    gen_put16(g, g->is64 ? 54 : 42, g->is64 ? 56 : 32);
    gen_put16(g, g->is64 ? 56 : 44, (uint16_t)g->nphdr);
    gen_put16(g, g->is64 ? 58 : 46, d->section_headers ? (g->is64 ? 64 : 40) : 0);
    gen_put16(g, g->is64 ? 60 : 48, (uint16_t)g->nsec);
    gen_put16(g, g->is64 ? 62 : 50, d->section_headers ? (uint16_t)(g->nsec - 1) : 0);

    struct piece seg1 = {0, g->seg1_end}, seg2 = {g->seg2_off, g->text.off + g->text.size};
    if (d->nloads == 2) {
        seg2.size = (g->altr.size ? g->altr.off + g->altr.size : seg2.size) - g->seg2_off;
        put_phdr(g, i++, PT_LOAD, PF_R, &seg1, 4096);
        put_phdr(g, i++, PT_LOAD, PF_R | PF_X, &seg2, 4096);
    } else {
        put_phdr(g, i++, PT_LOAD, PF_R | PF_X, &seg1, 4096);
    }
    put_phdr(g, i++, PT_DYNAMIC, PF_R, &g->dynamic, g->word);
    if (g->note.size)
        put_phdr(g, i++, PT_NOTE, PF_R, &g->note, 4);
}
