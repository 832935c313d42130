/*
 * ELF structure-aware mutator (see elf_mutator.h). The walk collects
 * "fields" -- (offset, width) pairs inside the input -- from every structure
 * it can find; it never trusts a count or an offset beyond the input's
 * bounds, and it caps every list, so a hostile input only shrinks the set
 * of fields. A mutation picks a structure kind first (so a big symbol table
 * does not drown the headers), then a field of that kind, then a value.
 */
#include "elf_mutator.h"

#include <stdbool.h>
#include <string.h>

enum field_kind { K_EHDR, K_PHDR, K_DYN, K_SYM, K_HASH, K_GNU, K_VERSYM, K_VERDEF, K_STR, K_N };

#define MAX_FIELDS 512

struct field {
    uint32_t off;
    uint8_t width;
};

struct walk {
    const uint8_t *data;
    size_t size;
    bool is64, msb;
    struct field f[K_N][MAX_FIELDS];
    unsigned n[K_N];
    /* Loads for vaddr -> offset, and the tables the dynamic section names. */
    unsigned nloads;
    uint64_t load_off[16], load_vaddr[16], load_filesz[16];
    uint64_t strtab, strsz, symtab, hash, gnu_hash, versym, verdef, nsyms_hint;
    uint64_t values[64]; /* field values seen, for "copy another field" */
    unsigned nvalues;
};

static bool in_bounds(const struct walk *w, uint64_t off, uint64_t len)
{
    return off <= w->size && len <= w->size - off;
}

static uint64_t get(const uint8_t *p, unsigned width, bool msb)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)p[i] << (msb ? 8 * (width - 1 - i) : 8 * i);
    return v;
}

static void put(uint8_t *p, unsigned width, bool msb, uint64_t v)
{
    for (unsigned i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (msb ? 8 * (width - 1 - i) : 8 * i));
}

static uint64_t rd(const struct walk *w, uint64_t off, unsigned width)
{
    return in_bounds(w, off, width) ? get(w->data + off, width, w->msb) : 0;
}

static void add(struct walk *w, enum field_kind k, uint64_t off, unsigned width)
{
    if (!in_bounds(w, off, width) || w->n[k] >= MAX_FIELDS)
        return;
    w->f[k][w->n[k]++] = (struct field){(uint32_t)off, (uint8_t)width};
    if (w->nvalues < 64)
        w->values[w->nvalues++] = get(w->data + off, width, w->msb);
}

/* Add a record's fields from a {offset, width} layout. */
static void add_record(struct walk *w, enum field_kind k, uint64_t base, const uint8_t (*layout)[2],
                       unsigned count)
{
    for (unsigned i = 0; i < count; i++)
        add(w, k, base + layout[i][0], layout[i][1]);
}

static bool to_offset(const struct walk *w, uint64_t vaddr, uint64_t *off)
{
    for (unsigned i = 0; i < w->nloads; i++) {
        if (vaddr >= w->load_vaddr[i] && vaddr - w->load_vaddr[i] < w->load_filesz[i]) {
            *off = w->load_off[i] + (vaddr - w->load_vaddr[i]);
            return in_bounds(w, *off, 1);
        }
    }
    return false;
}

static const uint8_t ehdr64[][2] = {{4, 1},  {5, 1},  {6, 1},  {16, 2}, {18, 2}, {24, 8}, {32, 8},
                                    {40, 8}, {52, 2}, {54, 2}, {56, 2}, {58, 2}, {60, 2}, {62, 2}};
static const uint8_t ehdr32[][2] = {{4, 1},  {5, 1},  {6, 1},  {16, 2}, {18, 2}, {24, 4}, {28, 4},
                                    {32, 4}, {40, 2}, {42, 2}, {44, 2}, {46, 2}, {48, 2}, {50, 2}};
static const uint8_t phdr64[][2] = {{0, 4}, {4, 4}, {8, 8}, {16, 8}, {32, 8}, {40, 8}, {48, 8}};
static const uint8_t phdr32[][2] = {{0, 4}, {4, 4}, {8, 4}, {16, 4}, {20, 4}, {24, 4}, {28, 4}};
static const uint8_t sym64[][2] = {{0, 4}, {4, 1}, {5, 1}, {6, 2}, {8, 8}, {16, 8}};
static const uint8_t sym32[][2] = {{0, 4}, {4, 4}, {8, 4}, {12, 1}, {13, 1}, {14, 2}};
static const uint8_t verdef[][2] = {{0, 2}, {2, 2}, {4, 2}, {6, 2}, {8, 4}, {12, 4}, {16, 4}};

static void walk_phdrs(struct walk *w)
{
    uint64_t phoff = rd(w, w->is64 ? 32 : 28, w->is64 ? 8 : 4);
    unsigned phnum = (unsigned)rd(w, w->is64 ? 56 : 44, 2);
    unsigned esz = w->is64 ? 56 : 32;

    for (unsigned i = 0; i < phnum && i < 32 && in_bounds(w, phoff + (uint64_t)i * esz, esz); i++) {
        uint64_t p = phoff + (uint64_t)i * esz;
        uint32_t type = (uint32_t)rd(w, p, 4);
        uint64_t off = rd(w, p + (w->is64 ? 8 : 4), w->is64 ? 8 : 4);
        uint64_t vaddr = rd(w, p + (w->is64 ? 16 : 8), w->is64 ? 8 : 4);
        uint64_t filesz = rd(w, p + (w->is64 ? 32 : 16), w->is64 ? 8 : 4);

        add_record(w, K_PHDR, p, w->is64 ? phdr64 : phdr32, 7);
        if (type == 1 && w->nloads < 16) {
            w->load_off[w->nloads] = off;
            w->load_vaddr[w->nloads] = vaddr;
            w->load_filesz[w->nloads++] = filesz;
        }
    }
}

static uint64_t *dyn_slot(struct walk *w, uint64_t tag)
{
    switch (tag) {
    case 5:
        return &w->strtab;
    case 6:
        return &w->symtab;
    case 4:
        return &w->hash;
    case 0x6ffffef5:
        return &w->gnu_hash;
    case 0x6ffffff0:
        return &w->versym;
    case 0x6ffffffc:
        return &w->verdef;
    default:
        return NULL;
    }
}

static void walk_dynamic(struct walk *w)
{
    uint64_t phoff = rd(w, w->is64 ? 32 : 28, w->is64 ? 8 : 4);
    unsigned phnum = (unsigned)rd(w, w->is64 ? 56 : 44, 2), esz = w->is64 ? 56 : 32;
    unsigned dsz = w->is64 ? 16 : 8, half = dsz / 2;

    for (unsigned i = 0; i < phnum && i < 32; i++) {
        uint64_t p = phoff + (uint64_t)i * esz, dyn, len;
        if (rd(w, p, 4) != 2)
            continue;
        dyn = rd(w, p + (w->is64 ? 8 : 4), half);
        len = rd(w, p + (w->is64 ? 32 : 16), half);
        for (uint64_t d = dyn; d - dyn + dsz <= len && in_bounds(w, d, dsz); d += dsz) {
            uint64_t tag = rd(w, d, half), val = rd(w, d + half, half), *slot, off;
            add(w, K_DYN, d, half);
            add(w, K_DYN, d + half, half);
            if (tag == 0)
                break;
            if (tag == 10)
                w->strsz = val;
            if ((slot = dyn_slot(w, tag)) && to_offset(w, val, &off))
                *slot = off;
        }
        return;
    }
}

static void walk_tables(struct walk *w)
{
    unsigned ssz = w->is64 ? 24 : 16, bw = w->is64 ? 8 : 4;

    if (w->hash) {
        uint64_t nb = rd(w, w->hash, 4), nc = rd(w, w->hash + 4, 4);
        w->nsyms_hint = nc;
        for (uint64_t i = 0; i < 2 + nb + nc && i < 128; i++)
            add(w, K_HASH, w->hash + 4 * i, 4);
    }
    if (w->gnu_hash) {
        uint64_t nb = rd(w, w->gnu_hash, 4), bloom = rd(w, w->gnu_hash + 8, 4);
        for (unsigned i = 0; i < 4; i++)
            add(w, K_GNU, w->gnu_hash + 4 * i, 4);
        for (uint64_t i = 0; i < bloom && i < 16; i++)
            add(w, K_GNU, w->gnu_hash + 16 + i * bw, bw);
        for (uint64_t i = 0; i < nb + 64 && i < 128; i++) /* buckets, then chain words */
            add(w, K_GNU, w->gnu_hash + 16 + bloom * bw + 4 * i, 4);
    }
    if (w->symtab) {
        uint64_t n = w->nsyms_hint ? w->nsyms_hint : 32;
        for (uint64_t i = 0; i < n && i < 64; i++)
            add_record(w, K_SYM, w->symtab + i * ssz, w->is64 ? sym64 : sym32, 6);
    }
    if (w->versym)
        for (uint64_t i = 0; i < 64; i++)
            add(w, K_VERSYM, w->versym + 2 * i, 2);
    for (uint64_t vd = w->verdef, i = 0; vd && i < 8 && in_bounds(w, vd, 20); i++) {
        uint64_t aux = vd + rd(w, vd + 12, 4), next = rd(w, vd + 16, 4);
        add_record(w, K_VERDEF, vd, verdef, 7);
        add(w, K_VERDEF, aux, 4);     /* vda_name */
        add(w, K_VERDEF, aux + 4, 4); /* vda_next */
        if (!next)
            break;
        vd += next;
    }
    if (w->strtab)
        for (uint64_t i = 0; i < w->strsz && i < 256; i += 1 + i % 7)
            add(w, K_STR, w->strtab + i, 1);
}

static void walk(struct walk *w, const uint8_t *data, size_t size)
{
    /* Reset everything but the large field arrays, which n[] bounds. */
    memset(w->n, 0, sizeof(w->n));
    w->nloads = w->nvalues = 0;
    w->is64 = w->msb = false;
    w->strtab = w->strsz = w->symtab = w->hash = w->gnu_hash = 0;
    w->versym = w->verdef = w->nsyms_hint = 0;
    w->data = data;
    w->size = size;
    if (size < 52 || memcmp(data, "\177ELF", 4) != 0)
        return;
    w->is64 = data[4] == 2;
    w->msb = data[5] == 2;
    add_record(w, K_EHDR, 0, w->is64 ? ehdr64 : ehdr32, 14);
    walk_phdrs(w);
    walk_dynamic(w);
    walk_tables(w);
}

static uint64_t new_value(struct walk *w, struct mut_rng *r, uint64_t old, unsigned width)
{
    uint64_t all = width == 8 ? ~0ull : (1ull << (8 * width)) - 1;

    switch (mut_rng_below(r, 11)) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return all;
    case 3:
        return old + 1;
    case 4:
        return old - 1;
    case 5:
        return old ^ (1ull << mut_rng_below(r, 8 * width));
    case 6:
        return w->nvalues ? w->values[mut_rng_below(r, w->nvalues)] : old;
    case 7:
        return w->size - mut_rng_below(r, 64); /* at or near the end */
    case 8:
        return all >> 1; /* the signed maximum */
    case 9:
        return old + mut_rng_below(r, 33) - 16;
    default:
        return mut_rng_below(r, w->size + 1);
    }
}

static bool mutate_field(struct walk *w, struct mut_rng *r, uint8_t *data)
{
    unsigned kinds[K_N], nk = 0;
    const struct field *f;
    enum field_kind k;

    for (unsigned i = 0; i < K_N; i++)
        if (w->n[i])
            kinds[nk++] = i;
    if (!nk)
        return false;
    k = (enum field_kind)kinds[mut_rng_below(r, nk)];
    f = &w->f[k][mut_rng_below(r, w->n[k])];
    if (k == K_STR) { /* names: cut, corrupt or unterminate */
        static const uint8_t chars[] = {0, '_', 'a', 0xff, '.'};
        data[f->off] = chars[mut_rng_below(r, sizeof(chars))];
        return true;
    }
    put(data + f->off, f->width, w->msb,
        new_value(w, r, get(data + f->off, f->width, w->msb), f->width));
    return true;
}

size_t elf_mutate(uint8_t *data, size_t size, size_t max_size, uint32_t seed,
                  mut_fallback_fn fallback)
{
    static struct walk w; /* large; the engines call mutators from one thread */
    struct mut_rng r;
    unsigned rounds;

    mut_rng_seed(&r, seed);
    if (size == 0) {
        data[0] = 0x7f;
        return 1;
    }
    if (mut_rng_one_in(&r, 4)) {
        size = fallback ? fallback(data, size, max_size) : mut_bytes(&r, data, size, max_size);
        return size ? size : 1;
    }
    walk(&w, data, size);
    rounds = 1 + (unsigned)mut_rng_below(&r, 4);
    for (unsigned i = 0; i < rounds; i++)
        if (!mutate_field(&w, &r, data))
            return fallback ? fallback(data, size, max_size) : mut_bytes(&r, data, size, max_size);
    return size;
}
