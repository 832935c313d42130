/*
 * Internal interface between the resolver's parsing stages: elf_open() runs
 * header, dynamic, hash and version parsing in that order, each stage
 * filling its part of struct elf_image and handing the segment bounds of the
 * tables it located to the next through struct elf_table_limits.
 */
#ifndef VDSOKIT_ELF_INTERNAL_H
#define VDSOKIT_ELF_INTERNAL_H

#include <vdsokit/elf.h>

/* File offset one past the end of the PT_LOAD file bytes holding each table. */
struct elf_table_limits {
    uint64_t strtab_end, symtab_end, hash_end, gnu_hash_end, versym_end, verdef_end;
};

/* Fill err (if any) with a formatted message and return -1. */
int elf_fail(struct elf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int elf_parse_header(struct elf_image *img, struct elf_error *err);
int elf_parse_dynamic(struct elf_image *img, struct elf_table_limits *lim, struct elf_error *err);
int elf_parse_hash_tables(struct elf_image *img, const struct elf_table_limits *lim,
                          struct elf_error *err);
int elf_parse_versions(struct elf_image *img, const struct elf_table_limits *lim,
                       struct elf_error *err);

/*
 * Map [vaddr, vaddr+len) through the PT_LOAD covering it; on success also
 * give the file offset where that segment's file bytes end.
 */
bool elf_map_vaddr(const struct elf_image *img, uint64_t vaddr, uint64_t len, uint64_t *offset,
                   uint64_t *segment_end);

/*
 * Copy the Elf_Sym at file offset `off` (bounds already checked by the
 * caller) into sym, all but name and version; *name gets st_name.
 */
void elf_read_sym_at(const struct elf_reader *r, uint64_t off, struct elf_sym *sym, uint32_t *name);

#endif /* VDSOKIT_ELF_INTERNAL_H */
