/*
 * The generator's working state, shared by its stages: symbol order and
 * hashes, string table, file layout (offset and size of every piece), and
 * the byte-order aware writers. elfgen.c runs the stages top down: layout
 * (elfgen_layout.c), then the writers (elfgen_write.c, elfgen_tables.c,
 * elfgen_text.c); all of them use elfgen_bytes.c, none calls another.
 */
#ifndef VDSOKIT_ELFGEN_INTERNAL_H
#define VDSOKIT_ELFGEN_INTERNAL_H

#include "elfgen.h"

#define GEN_MAX_SYMS     1024
#define GEN_MAX_VERSIONS 16
#define GEN_MAX_SECTIONS 16

/* The DT_VERSYM bit of a non-default (name@version) symbol; <elf.h> has no name for it. */
#define GEN_VERSYM_HIDDEN 0x8000

struct piece {
    uint64_t off, size;
};

struct gen {
    const struct elfgen_desc *d;
    bool is64, msb;
    unsigned word;
    uint8_t *buf;
    uint64_t size;

    /* dynsym order: order[k] is the described symbol at index k (k >= 1) */
    unsigned n; /* dynsym entries including index 0 */
    int order[GEN_MAX_SYMS + 1];
    uint32_t index_of[GEN_MAX_SYMS];
    uint64_t value[GEN_MAX_SYMS];
    uint64_t text_slot[GEN_MAX_SYMS];
    unsigned symoffset, gnu_nbuckets, sysv_nbucket, sysv_entsize;

    /* strings */
    char dynstr[GEN_MAX_SYMS * 64];
    uint64_t dynstr_len;
    uint32_t name_off[GEN_MAX_SYMS];
    uint32_t soname_off;
    unsigned nversions;
    const char *versions[GEN_MAX_VERSIONS]; /* after BASE; index k has vd_ndx k+2 */
    uint32_t version_off[GEN_MAX_VERSIONS];

    /* layout */
    struct piece ehdr, phdr, hash, gnu, dynsym, dynstr_p, versym, verdef, dynamic, note, text, alt,
        altr, shstr, shdr;
    unsigned nphdr, ndyn;
    uint64_t seg2_off, seg2_vaddr; /* seg2_off == 0: one segment */
    uint64_t seg1_end;             /* file end of the first PT_LOAD */

    /* sections */
    unsigned nsec;
    const char *sec_name[GEN_MAX_SECTIONS];
    const struct piece *sec_piece[GEN_MAX_SECTIONS];
    uint32_t sec_type[GEN_MAX_SECTIONS];
    uint32_t sec_name_off[GEN_MAX_SECTIONS];
    unsigned text_shndx;
};

void gen_order_symbols(struct gen *g);
void gen_strings(struct gen *g);
void gen_layout(struct gen *g);
void gen_write_headers(struct gen *g);
void gen_write_tables(struct gen *g);
void gen_write_text(struct gen *g);
void gen_write_sections(struct gen *g);

/* The vaddr at which file offset `off` is loaded (once gen_layout() has run). */
/* Bytes per .altinstructions entry (elfgen_desc.alt_size; 0 means 14). */
static inline unsigned gen_alt_size(const struct elfgen_desc *d)
{
    return d->alt_size ? d->alt_size : 14;
}

static inline uint64_t gen_vaddr(const struct gen *g, uint64_t off)
{
    if (g->seg2_off && off >= g->seg2_off)
        return g->seg2_vaddr + (off - g->seg2_off);
    return g->d->base + off;
}

/* elfgen_bytes.c: stores in the description's byte order, and the hashes. */
void gen_put16(struct gen *g, uint64_t off, uint16_t v);
void gen_put32(struct gen *g, uint64_t off, uint32_t v);
void gen_put64(struct gen *g, uint64_t off, uint64_t v);
void gen_putw(struct gen *g, uint64_t off, uint64_t v); /* class-sized */

uint32_t gen_sysv_hash(const char *name);
uint32_t gen_gnu_hash(const char *name);

#endif /* VDSOKIT_ELFGEN_INTERNAL_H */
