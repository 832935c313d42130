/*
 * Generator stages for the code and the section view: .text holds int3
 * filler with a ret closing each function, .altinstructions entries point
 * at the first function's `rdtsc; nop` site with an `rdtscp` replacement
 * (the x86 entry of 6.3+, 14 bytes with a u32 feature word, or of 6.1-6.2,
 * 12 bytes with a u16 one; offsets relative to each field), and the section
 * headers describe every piece that was laid out.
 */
#include <elf.h>
#include <string.h>

#include "elfgen_internal.h"

#define FEATURE_RDTSCP (1 * 32 + 27)

static void write_alternatives(struct gen *g)
{
    static const uint8_t site[3] = {0x0f, 0x31, 0x90}, repl[3] = {0x0f, 0x01, 0xf9};

    memcpy(g->buf + g->text.off, site, sizeof(site));
    unsigned size = gen_alt_size(g->d);

    for (unsigned i = 0; i < g->d->nalt; i++) {
        uint64_t e = g->alt.off + (uint64_t)size * i, r = g->altr.off + 3ull * i;
        uint64_t ev = gen_vaddr(g, e);
        memcpy(g->buf + r, repl, sizeof(repl));
        gen_put32(g, e, (uint32_t)(gen_vaddr(g, g->text.off) - ev));
        gen_put32(g, e + 4, (uint32_t)(gen_vaddr(g, r) - (ev + 4)));
        if (size == 14)
            gen_put32(g, e + 8, FEATURE_RDTSCP);
        else
            gen_put16(g, e + 8, FEATURE_RDTSCP);
        g->buf[e + size - 2] = 3;
        g->buf[e + size - 1] = 3;
    }
}

void gen_write_text(struct gen *g)
{
    const struct elfgen_desc *d = g->d;

    memset(g->buf + g->text.off, 0xcc, g->text.size);
    for (unsigned i = 0; i < d->nsyms; i++) {
        const struct elfgen_sym *s = &d->syms[i];
        if (!s->undefined && !s->absolute && s->alias_of < 0 && s->size)
            g->buf[g->text.off + g->text_slot[i] + s->size - 1] = 0xc3;
    }
    if (d->nalt)
        write_alternatives(g);
}

static unsigned section_index(const struct gen *g, const struct piece *p)
{
    for (unsigned i = 0; i < g->nsec; i++)
        if (g->sec_piece[i] == p)
            return i;
    return 0;
}

static void put_shdr(struct gen *g, unsigned i, uint64_t flags, uint32_t link, uint32_t info,
                     uint64_t entsize)
{
    const struct piece *p = g->sec_piece[i];
    uint64_t o = g->shdr.off + (uint64_t)i * (g->is64 ? 64 : 40);
    bool alloc = flags & SHF_ALLOC;

    gen_put32(g, o, g->sec_name_off[i]);
    gen_put32(g, o + 4, g->sec_type[i]);
    if (g->is64) {
        gen_put64(g, o + 8, flags);
        gen_put64(g, o + 16, alloc ? gen_vaddr(g, p->off) : 0);
        gen_put64(g, o + 24, p->off);
        gen_put64(g, o + 32, p->size);
        gen_put32(g, o + 40, link);
        gen_put32(g, o + 44, info);
        gen_put64(g, o + 48, 1);
        gen_put64(g, o + 56, entsize);
    } else {
        gen_put32(g, o + 8, (uint32_t)flags);
        gen_put32(g, o + 12, alloc ? (uint32_t)gen_vaddr(g, p->off) : 0);
        gen_put32(g, o + 16, (uint32_t)p->off);
        gen_put32(g, o + 20, (uint32_t)p->size);
        gen_put32(g, o + 24, link);
        gen_put32(g, o + 28, info);
        gen_put32(g, o + 32, 1);
        gen_put32(g, o + 36, (uint32_t)entsize);
    }
}

void gen_write_sections(struct gen *g)
{
    unsigned dynsym = section_index(g, &g->dynsym), dynstr = section_index(g, &g->dynstr_p);

    if (!g->d->section_headers)
        return;
    for (unsigned i = 1; i < g->nsec; i++) {
        const struct piece *p = g->sec_piece[i];
        uint32_t type = g->sec_type[i];
        uint32_t link = 0, info = 0;
        uint64_t flags = SHF_ALLOC, entsize = 0;
        memcpy(g->buf + g->shstr.off + g->sec_name_off[i], g->sec_name[i],
               strlen(g->sec_name[i]) + 1);
        if (type == SHT_HASH || type == SHT_GNU_HASH || type == SHT_GNU_versym)
            link = dynsym;
        if (type == SHT_HASH)
            entsize = g->sysv_entsize;
        if (type == SHT_DYNSYM) {
            link = dynstr;
            info = 1;
            entsize = g->is64 ? 24 : 16;
        }
        if (type == SHT_GNU_verdef || type == SHT_DYNAMIC) {
            link = dynstr;
            info = type == SHT_GNU_verdef ? 1 + g->nversions : 0;
        }
        if (type == SHT_DYNAMIC)
            entsize = 2ull * g->word;
        if (type == SHT_GNU_versym)
            entsize = 2;
        if (p == &g->text || p == &g->altr)
            flags |= SHF_EXECINSTR;
        if (p == &g->shstr)
            flags = 0;
        put_shdr(g, i, flags, link, info, entsize);
    }
}
