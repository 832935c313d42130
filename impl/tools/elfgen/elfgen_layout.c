/*
 * Generator stages that decide where things go: the dynamic symbol order
 * (undefined symbols first, then the hashed ones sorted by GNU bucket, as
 * DT_GNU_HASH requires), the string table, and the file layout with the
 * vaddr of every piece.
 */
#include <elf.h>
#include <string.h>

#include "elfgen_internal.h"

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

void gen_order_symbols(struct gen *g)
{
    const struct elfgen_desc *d = g->d;
    unsigned k = 1, ndef = 0;

    g->order[0] = -1;
    for (unsigned i = 0; i < d->nsyms; i++)
        if (d->syms[i].undefined)
            g->order[k++] = (int)i;
        else
            ndef++;
    g->symoffset = k;
    g->gnu_nbuckets = ndef / 4 + 1;
    /* Stable order by bucket: same-bucket symbols keep their described order. */
    for (unsigned b = 0; b < g->gnu_nbuckets; b++)
        for (unsigned i = 0; i < d->nsyms; i++)
            if (!d->syms[i].undefined && ((d->hash_styles & ELFGEN_HASH_GNU)
                                              ? gen_gnu_hash(d->syms[i].name) % g->gnu_nbuckets
                                              : 0) == b)
                g->order[k++] = (int)i;
    g->n = k;
    for (unsigned j = 1; j < g->n; j++)
        g->index_of[g->order[j]] = j;
    g->sysv_nbucket = g->n / 4 + 1;
    g->sysv_entsize = d->sysv_entsize ? d->sysv_entsize
                      : (d->machine == EM_ALPHA || (d->machine == EM_S390 && g->is64)) ? 8
                                                                                       : 4;
}

static uint32_t add_string(struct gen *g, const char *s)
{
    uint32_t off = (uint32_t)g->dynstr_len;
    size_t len = strlen(s) + 1;

    if (g->dynstr_len + len > sizeof(g->dynstr))
        return 0; /* over-long names collapse to "" rather than overflow */
    memcpy(g->dynstr + g->dynstr_len, s, len);
    g->dynstr_len += len;
    return off;
}

static void add_version(struct gen *g, const char *v)
{
    for (unsigned i = 0; i < g->nversions; i++)
        if (strcmp(g->versions[i], v) == 0)
            return;
    if (g->nversions < GEN_MAX_VERSIONS)
        g->versions[g->nversions++] = v;
}

void gen_strings(struct gen *g)
{
    const struct elfgen_desc *d = g->d;

    g->dynstr_len = 1;
    g->soname_off = d->soname ? add_string(g, d->soname) : 0;
    for (unsigned i = 0; i < d->nsyms; i++) {
        g->name_off[i] = add_string(g, d->syms[i].name);
        if (d->versioned && d->syms[i].version)
            add_version(g, d->syms[i].version);
    }
    for (unsigned i = 0; i < g->nversions; i++)
        g->version_off[i] = add_string(g, g->versions[i]);
}

static void place(struct piece *p, uint64_t *off, uint64_t align, uint64_t size)
{
    *off = align_up(*off, align);
    p->off = *off;
    p->size = size;
    *off += size;
}

static void layout_tables(struct gen *g, uint64_t *off)
{
    const struct elfgen_desc *d = g->d;
    unsigned nhashed = g->n - g->symoffset;

    if (d->hash_styles & ELFGEN_HASH_SYSV)
        place(&g->hash, off, 8, (uint64_t)(2 + g->sysv_nbucket + g->n) * g->sysv_entsize);
    if (d->hash_styles & ELFGEN_HASH_GNU)
        place(&g->gnu, off, 8, 16 + g->word + 4ull * g->gnu_nbuckets + 4ull * nhashed);
    place(&g->dynsym, off, 8, (uint64_t)g->n * (g->is64 ? 24 : 16));
    place(&g->dynstr_p, off, 1, g->dynstr_len);
    if (d->versioned) {
        place(&g->versym, off, 2, 2ull * g->n);
        place(&g->verdef, off, 4, 28ull * (1 + g->nversions));
    }
    g->ndyn = 5 + !!d->soname + !!(d->hash_styles & ELFGEN_HASH_SYSV) +
              !!(d->hash_styles & ELFGEN_HASH_GNU) + (d->versioned ? 3 : 0) +
              (d->relocations ? 3 : 0);
    place(&g->dynamic, off, g->word, 2ull * g->word * g->ndyn);
    if (d->linux_note || d->build_id)
        place(&g->note, off, 4, (d->linux_note ? 24 : 0) + (d->build_id ? 36 : 0));
}

static void layout_text(struct gen *g, uint64_t *off)
{
    const struct elfgen_desc *d = g->d;
    uint64_t t = 0;

    for (unsigned i = 0; i < d->nsyms; i++) {
        const struct elfgen_sym *s = &d->syms[i];
        if (s->undefined || s->absolute || s->alias_of >= 0)
            continue;
        t = align_up(t, 16);
        g->text_slot[i] = t;
        t += s->size ? s->size : 1;
    }
    place(&g->text, off, 32, t < 16 ? 16 : t);
    if (d->nalt) {
        place(&g->alt, off, 1, (uint64_t)gen_alt_size(d) * d->nalt);
        place(&g->altr, off, 1, 3ull * d->nalt);
    }
}

static void add_section(struct gen *g, const char *name, const struct piece *p, uint32_t type)
{
    if (p->size == 0 && type != SHT_NULL)
        return;
    g->sec_name[g->nsec] = name;
    g->sec_piece[g->nsec] = p;
    g->sec_type[g->nsec++] = type;
}

static void list_sections(struct gen *g)
{
    static const struct piece none;

    add_section(g, "", &none, SHT_NULL);
    add_section(g, ".hash", &g->hash, SHT_HASH);
    add_section(g, ".gnu.hash", &g->gnu, SHT_GNU_HASH);
    add_section(g, ".dynsym", &g->dynsym, SHT_DYNSYM);
    add_section(g, ".dynstr", &g->dynstr_p, SHT_STRTAB);
    add_section(g, ".gnu.version", &g->versym, SHT_GNU_versym);
    add_section(g, ".gnu.version_d", &g->verdef, SHT_GNU_verdef);
    add_section(g, ".dynamic", &g->dynamic, SHT_DYNAMIC);
    add_section(g, ".note", &g->note, SHT_NOTE);
    g->text_shndx = g->nsec;
    add_section(g, ".text", &g->text, SHT_PROGBITS);
    add_section(g, ".altinstructions", &g->alt, SHT_PROGBITS);
    add_section(g, ".altinstr_replacement", &g->altr, SHT_PROGBITS);
    add_section(g, ".shstrtab", &g->shstr, SHT_STRTAB);
}

void gen_layout(struct gen *g)
{
    const struct elfgen_desc *d = g->d;
    uint64_t off = 0, names = 1;

    g->nphdr = d->nloads + 1 + ((d->linux_note || d->build_id) ? 1 : 0);
    place(&g->ehdr, &off, 1, g->is64 ? 64 : 52);
    place(&g->phdr, &off, 8, (uint64_t)g->nphdr * (g->is64 ? 56 : 32));
    layout_tables(g, &off);
    if (d->nloads == 2) {
        g->seg1_end = off;
        off = align_up(off, 4096);
        g->seg2_off = off;
        g->seg2_vaddr = d->base + off + d->load_gap;
    }
    layout_text(g, &off);
    if (d->nloads == 1)
        g->seg1_end = off;
    g->text_shndx = 1;
    if (d->section_headers) {
        g->shstr.size = 1; /* sized below, once the list is known */
        list_sections(g);
        for (unsigned i = 1; i < g->nsec; i++) {
            g->sec_name_off[i] = (uint32_t)names;
            names += strlen(g->sec_name[i]) + 1;
        }
        place(&g->shstr, &off, 1, names);
        place(&g->shdr, &off, 8, (uint64_t)g->nsec * (g->is64 ? 64 : 40));
    }
    g->size = off;
}
