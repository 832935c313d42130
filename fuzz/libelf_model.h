/*
 * libelf's side of the differential harness, behind an interface that
 * includes neither <libelf.h> nor <vdsokit/elf.h>: the two headers declare
 * elf_gnu_hash() with different types, so no translation unit can see both.
 * The model is the execution view as gelf reads it: header, PT_LOADs,
 * PT_DYNAMIC, the tables the dynamic section names (mapped through the first
 * PT_LOAD whose file part covers the address), symbols, versym entries and
 * version names, all converted to host order by libelf.
 */
#ifndef VDSOKIT_FUZZ_LIBELF_MODEL_H
#define VDSOKIT_FUZZ_LIBELF_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LELF_MAX_LOADS 16

/* Which tables the dynamic section named (and mapped). */
enum {
    LELF_STRTAB = 1u << 0,
    LELF_SYMTAB = 1u << 1,
    LELF_HASH = 1u << 2,
    LELF_GNU_HASH = 1u << 3,
    LELF_VERSYM = 1u << 4,
    LELF_VERDEF = 1u << 5,
};

struct lelf_load {
    uint64_t offset, vaddr, filesz, memsz;
    uint32_t flags;
};

struct lelf_model {
    uint8_t elf_class, byte_order;
    uint16_t type, machine, phnum, phentsize;
    uint64_t phoff;
    unsigned nloads;
    struct lelf_load loads[LELF_MAX_LOADS];
    bool has_dynamic;
    uint32_t present; /* LELF_* */
    uint64_t strtab, strsz, symtab, hash, gnu_hash, versym, verdef, verdefnum;
};

struct lelf_sym {
    const char *name; /* NULL when the name is outside the string table */
    uint64_t value, size;
    uint16_t shndx;
    uint8_t type, bind;
};

struct lelf;

void lelf_init(void);
/* Open a private copy (libelf's elf_memory wants writable bytes); NULL if libelf refuses. */
struct lelf *lelf_open(uint8_t *bytes, size_t size);
const char *lelf_error(void);
/* The model; false when libelf cannot read the execution view. */
bool lelf_model(struct lelf *l, struct lelf_model *m);
/* Read `count` symbols at file offset symtab; false when libelf cannot. */
bool lelf_symbols(struct lelf *l, uint64_t symtab, uint32_t count);
bool lelf_symbol(struct lelf *l, uint32_t index, struct lelf_sym *s);
/* The raw versym of index, when the model has DT_VERSYM and libelf reads it. */
bool lelf_versym(struct lelf *l, uint32_t index, uint16_t *versym);
/* The first verdaux name of the non-BASE verdef with vd_ndx == ndx, or NULL. */
const char *lelf_version_name(struct lelf *l, unsigned ndx);
void lelf_close(struct lelf *l);

#endif
