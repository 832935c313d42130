/*
 * Generator stage that writes the dynamic tables: DT_HASH (chains built by
 * pushing each index on its bucket, so chains run downwards as GNU ld
 * writes them), DT_GNU_HASH with a one-word bloom filter, the symbols,
 * strings, versions, the dynamic section and the notes.
 */
#include <elf.h>
#include <string.h>

#include "elfgen_internal.h"

static const struct elfgen_sym *sym_at(const struct gen *g, unsigned k)
{
    return g->order[k] < 0 ? NULL : &g->d->syms[g->order[k]];
}

static void write_sysv(struct gen *g)
{
    unsigned w = g->sysv_entsize, nb = g->sysv_nbucket;
    uint64_t base = g->hash.off;
    uint64_t bucket[GEN_MAX_SYMS + 1] = {0};

    if (!g->hash.size)
        return;
    for (unsigned k = 1; k < g->n; k++) {
        uint32_t b = gen_sysv_hash(sym_at(g, k)->name) % nb;
        uint64_t chain_at = base + (uint64_t)w * (2 + nb + k);
        w == 8 ? gen_put64(g, chain_at, bucket[b]) : gen_put32(g, chain_at, (uint32_t)bucket[b]);
        bucket[b] = k;
    }
    w == 8 ? gen_put64(g, base, nb) : gen_put32(g, base, nb);
    w == 8 ? gen_put64(g, base + w, g->n) : gen_put32(g, base + w, g->n);
    for (unsigned b = 0; b < nb; b++)
        w == 8 ? gen_put64(g, base + (uint64_t)w * (2 + b), bucket[b])
               : gen_put32(g, base + (uint64_t)w * (2 + b), (uint32_t)bucket[b]);
}

static void write_gnu(struct gen *g)
{
    unsigned nb = g->gnu_nbuckets, bits = g->word * 8, shift = g->is64 ? 6 : 5;
    uint64_t base = g->gnu.off, buckets = base + 16 + g->word, chains = buckets + 4ull * nb;
    uint64_t bloom = 0;

    if (!g->gnu.size)
        return;
    gen_put32(g, base, nb);
    gen_put32(g, base + 4, g->symoffset);
    gen_put32(g, base + 8, 1);
    gen_put32(g, base + 12, shift);
    for (unsigned k = g->symoffset; k < g->n; k++) {
        uint32_t h = gen_gnu_hash(sym_at(g, k)->name), b = h % nb;
        bool last = k + 1 == g->n || gen_gnu_hash(sym_at(g, k + 1)->name) % nb != b;
        bloom |= (1ull << (h % bits)) | (1ull << ((h >> shift) % bits));
        if (k == g->symoffset || gen_gnu_hash(sym_at(g, k - 1)->name) % nb != b)
            gen_put32(g, buckets + 4ull * b, k);
        gen_put32(g, chains + 4ull * (k - g->symoffset), last ? (h | 1) : (h & ~1u));
    }
    gen_putw(g, base + 16, bloom);
}

static uint16_t version_index(const struct gen *g, const char *v)
{
    for (unsigned i = 0; v && i < g->nversions; i++)
        if (strcmp(g->versions[i], v) == 0)
            return (uint16_t)(i + 2);
    return 1;
}

/* The DT_VERSYM entry of a symbol: 0 (local) when undefined. */
static uint16_t versym_of(const struct gen *g, const struct elfgen_sym *s)
{
    if (s->undefined)
        return 0;
    return (uint16_t)(version_index(g, s->version) | (s->hidden ? GEN_VERSYM_HIDDEN : 0));
}

static void write_symbols(struct gen *g)
{
    unsigned es = g->is64 ? 24 : 16;

    for (unsigned k = 1; k < g->n; k++) {
        const struct elfgen_sym *s = sym_at(g, k);
        int i = g->order[k], src = s->alias_of >= 0 ? s->alias_of : i;
        uint64_t o = g->dynsym.off + (uint64_t)k * es, value = 0, size = s->size;
        uint16_t shndx = s->undefined ? SHN_UNDEF : s->absolute ? SHN_ABS : (uint16_t)g->text_shndx;
        uint8_t info = (uint8_t)((s->bind << 4) | (s->type & 0xf));

        if (!s->undefined && !s->absolute)
            value = gen_vaddr(g, g->text.off + g->text_slot[src]);
        if (s->alias_of >= 0)
            size = g->d->syms[src].size;
        g->value[i] = value;
        gen_put32(g, o, g->name_off[i]);
        if (g->is64) {
            g->buf[o + 4] = info;
            gen_put16(g, o + 6, shndx);
            gen_put64(g, o + 8, value);
            gen_put64(g, o + 16, size);
        } else {
            gen_put32(g, o + 4, (uint32_t)value);
            gen_put32(g, o + 8, (uint32_t)size);
            g->buf[o + 12] = info;
            gen_put16(g, o + 14, shndx);
        }
        if (g->versym.size)
            gen_put16(g, g->versym.off + 2ull * k, versym_of(g, s));
    }
    memcpy(g->buf + g->dynstr_p.off, g->dynstr, g->dynstr_len);
}

static void write_verdef(struct gen *g, unsigned k, uint16_t flags, uint32_t name_off,
                         const char *name, bool last)
{
    uint64_t o = g->verdef.off + 28ull * k;

    gen_put16(g, o, 1);
    gen_put16(g, o + 2, flags);
    gen_put16(g, o + 4, (uint16_t)(k + 1));
    gen_put16(g, o + 6, 1);
    gen_put32(g, o + 8, gen_sysv_hash(name));
    gen_put32(g, o + 12, 20);
    gen_put32(g, o + 16, last ? 0 : 28);
    gen_put32(g, o + 20, name_off);
    gen_put32(g, o + 24, 0);
}

static void write_versions(struct gen *g)
{
    const char *soname = g->d->soname ? g->d->soname : "";

    if (!g->verdef.size)
        return;
    write_verdef(g, 0, VER_FLG_BASE, g->soname_off, soname, g->nversions == 0);
    for (unsigned i = 0; i < g->nversions; i++)
        write_verdef(g, i + 1, 0, g->version_off[i], g->versions[i], i + 1 == g->nversions);
}

static void put_dyn(struct gen *g, unsigned *i, uint64_t tag, uint64_t val)
{
    uint64_t o = g->dynamic.off + 2ull * g->word * (*i)++;

    gen_putw(g, o, tag);
    gen_putw(g, o + g->word, val);
}

static void write_dynamic(struct gen *g)
{
    const struct elfgen_desc *d = g->d;
    unsigned i = 0;

    if (d->soname)
        put_dyn(g, &i, DT_SONAME, g->soname_off);
    if (g->hash.size)
        put_dyn(g, &i, DT_HASH, gen_vaddr(g, g->hash.off));
    if (g->gnu.size)
        put_dyn(g, &i, DT_GNU_HASH, gen_vaddr(g, g->gnu.off));
    put_dyn(g, &i, DT_STRTAB, gen_vaddr(g, g->dynstr_p.off));
    put_dyn(g, &i, DT_SYMTAB, gen_vaddr(g, g->dynsym.off));
    put_dyn(g, &i, DT_STRSZ, g->dynstr_len);
    put_dyn(g, &i, DT_SYMENT, g->is64 ? 24 : 16);
    if (d->versioned) {
        put_dyn(g, &i, DT_VERSYM, gen_vaddr(g, g->versym.off));
        put_dyn(g, &i, DT_VERDEF, gen_vaddr(g, g->verdef.off));
        put_dyn(g, &i, DT_VERDEFNUM, 1 + g->nversions);
    }
    if (d->relocations) {
        put_dyn(g, &i, DT_RELA, gen_vaddr(g, g->dynsym.off));
        put_dyn(g, &i, DT_RELASZ, d->relocations_empty ? 0 : (g->is64 ? 24 : 12));
        put_dyn(g, &i, DT_RELAENT, g->is64 ? 24 : 12);
    }
    put_dyn(g, &i, DT_NULL, 0);
}

static void write_notes(struct gen *g)
{
    uint64_t o = g->note.off;

    if (g->d->linux_note) {
        gen_put32(g, o, 6);
        gen_put32(g, o + 4, 4);
        gen_put32(g, o + 8, 0);
        memcpy(g->buf + o + 12, "Linux", 6);
        gen_put32(g, o + 20, g->d->linux_version);
        o += 24;
    }
    if (g->d->build_id) {
        gen_put32(g, o, 4);
        gen_put32(g, o + 4, 20);
        gen_put32(g, o + 8, NT_GNU_BUILD_ID);
        memcpy(g->buf + o + 12, "GNU", 4);
        for (unsigned i = 0; i < 20; i++)
            g->buf[o + 16 + i] = (uint8_t)(0xb0 + i);
    }
}

void gen_write_tables(struct gen *g)
{
    write_sysv(g);
    write_gnu(g);
    write_symbols(g);
    write_versions(g);
    write_dynamic(g);
    write_notes(g);
}
