/*
 * Internal interface of vdsokit_elf: elf_open() runs header, dynamic, hash
 * and version parsing in that order, each stage filling its part of struct
 * elf_image and handing the segment bounds of the tables it located to the
 * next through struct elf_table_limits; the lookup, symbol, section and note
 * readers share the inline helpers below and the byte readers (elf_read.h).
 */
#ifndef VDSOKIT_ELF_INTERNAL_H
#define VDSOKIT_ELF_INTERNAL_H

#include <elf.h>

#include <vdsokit/elf.h>

#include "elf_read.h"

/* A reader over the image bytes with its class and byte order. */
static inline struct elf_reader elf_image_reader(const struct elf_image *img)
{
    struct elf_reader r = {img->data, img->size, img->elf_class == ELFCLASS64,
                           img->byte_order == ELFDATA2MSB};
    return r;
}

/*
 * The two halves of a DT_VERSYM entry (binutils' names; glibc's <elf.h> has
 * none): the hidden bit of a non-default version, and the verdef index.
 */
#define VERSYM_HIDDEN  0x8000
#define VERSYM_VERSION 0x7fff

/* Record sizes of each class (the parsers copy whole records, then decode). */
#define ELF_EHDR_SIZE(is64) ((is64) ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))
#define ELF_PHDR_SIZE(is64) ((is64) ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))
#define ELF_SHDR_SIZE(is64) ((is64) ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr))
#define ELF_SYM_SIZE(is64)  ((is64) ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym))
#define ELF_DYN_SIZE(is64)  ((is64) ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn))

/* File offset one past the end of the PT_LOAD file bytes holding each table. */
struct elf_table_limits {
    uint64_t strtab_end, symtab_end, hash_end, gnu_hash_end, versym_end, verdef_end;
};

int elf_parse_header(struct elf_image *img, struct vdsokit_error *err);
int elf_parse_dynamic(struct elf_image *img, struct elf_table_limits *lim,
                      struct vdsokit_error *err);
int elf_parse_hash_tables(struct elf_image *img, const struct elf_table_limits *lim,
                          struct vdsokit_error *err);
int elf_parse_versions(struct elf_image *img, const struct elf_table_limits *lim,
                       struct vdsokit_error *err);

/*
 * Map [vaddr, vaddr+len) through the PT_LOAD covering it; on success also
 * give the file offset where that segment's file bytes end. Inline: every
 * table elf_open() locates goes through it.
 */
static inline bool elf_map_vaddr(const struct elf_image *img, uint64_t vaddr, uint64_t len,
                                 uint64_t *offset, uint64_t *segment_end)
{
    for (unsigned i = 0; i < img->nloads; i++) {
        const struct elf_load *l = &img->loads[i];
        if (vaddr < l->vaddr || vaddr - l->vaddr > l->filesz ||
            len > l->filesz - (vaddr - l->vaddr))
            continue;
        *offset = l->offset + (vaddr - l->vaddr);
        *segment_end = l->offset + l->filesz;
        return true;
    }
    return false;
}

/* elf_symbol_offset() and elf_sym_is_exported(), inline for the lookup path. */
static inline bool elf_value_offset(const struct elf_image *img, uint64_t value, uint64_t *offset)
{
    for (unsigned i = 0; i < img->nloads; i++) {
        const struct elf_load *l = &img->loads[i];
        if (value >= l->vaddr && value - l->vaddr < l->memsz) {
            *offset = l->offset + (value - l->vaddr);
            return true;
        }
    }
    return false;
}

static inline bool elf_sym_exportable(const struct elf_sym *sym)
{
    if (sym->index == 0 || sym->shndx == SHN_UNDEF)
        return false;
    if (sym->bind != STB_GLOBAL && sym->bind != STB_WEAK && sym->bind != STB_GNU_UNIQUE)
        return false;
    return sym->type == STT_NOTYPE || sym->type == STT_OBJECT || sym->type == STT_FUNC ||
           sym->type == STT_COMMON;
}

/*
 * Copy the Elf_Sym at file offset `off` (one range check, one copy) and
 * decode it, all but index, name and version; *name gets st_name. False,
 * with sym untouched, when the record is not inside the input. Inline: the
 * lookup reads one per candidate.
 */
static inline bool elf_read_sym_at(const struct elf_reader *r, uint64_t off, struct elf_sym *s,
                                   uint32_t *name)
{
    uint8_t rec[sizeof(Elf64_Sym)], info, other;

    if (r->is64) {
        if (!elf_read_rec(r, off, rec, sizeof(Elf64_Sym)))
            return false;
        info = rec[4];
        other = rec[5];
        s->shndx = elf_rec_u16(r, rec + 6);
        s->value = elf_rec_u64(r, rec + 8);
        s->size = elf_rec_u64(r, rec + 16);
    } else {
        if (!elf_read_rec(r, off, rec, sizeof(Elf32_Sym)))
            return false;
        s->value = elf_rec_u32(r, rec + 4);
        s->size = elf_rec_u32(r, rec + 8);
        info = rec[12];
        other = rec[13];
        s->shndx = elf_rec_u16(r, rec + 14);
    }
    *name = elf_rec_u32(r, rec); /* st_name comes first in both classes */
    /* st_info and st_other pack the same way in both classes. */
    s->type = ELF64_ST_TYPE(info);
    s->bind = ELF64_ST_BIND(info);
    s->visibility = ELF64_ST_VISIBILITY(other);
    return true;
}

/* The verdef with vd_ndx == ndx (hidden bit already masked), or NULL. */
const struct elf_verdef *elf_verdef_by_ndx(const struct elf_image *img, uint16_t ndx);

/* The version name of a DT_VERSYM entry: NULL for indices 0 and 1 or no verdef. */
const char *elf_version_name(const struct elf_image *img, uint16_t versym);

/* The GNU hash of name, and its length, in one pass. */
uint32_t elf_hash_gnu_len(const char *name, size_t *len);

#endif /* VDSOKIT_ELF_INTERNAL_H */
