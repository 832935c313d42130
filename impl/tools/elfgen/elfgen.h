/*
 * The test-image generator: writes vDSO-like ELF shared objects from a
 * description (class, byte order, machine, hash styles, versions, load
 * layout, section headers, notes, alternatives, symbol set). It produces
 * the resolver's test images and the fuzzers' seeds, and it is an oracle:
 * it reports where each described symbol ended up. Images are built in
 * memory; nothing here reads untrusted input.
 */
#ifndef VDSOKIT_ELFGEN_H
#define VDSOKIT_ELFGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elfgen_sym {
    const char *name;
    const char *version; /* NULL: unversioned (versym 1) */
    bool hidden;         /* a non-default version, name@version */
    uint8_t type, bind;  /* STT_*, STB_* */
    bool undefined;      /* SHN_UNDEF (a consumer must never match it) */
    bool absolute;       /* SHN_ABS with value 0, like the version-name symbol */
    uint32_t size;       /* st_size; that many bytes of code in .text */
    int alias_of;        /* index in syms of the symbol whose code it shares, or -1 */
};

enum { ELFGEN_HASH_SYSV = 1, ELFGEN_HASH_GNU = 2, ELFGEN_HASH_BOTH = 3 };

struct elfgen_desc {
    uint8_t elf_class;     /* 1 ELFCLASS32, 2 ELFCLASS64 */
    uint8_t byte_order;    /* 1 LSB, 2 MSB */
    uint16_t machine;      /* e_machine */
    unsigned hash_styles;  /* ELFGEN_HASH_* (0: no hash table) */
    unsigned sysv_entsize; /* 0: the machine's (8 on s390x-64 and alpha), or force 4/8 */
    bool versioned;        /* DT_VERSYM + DT_VERDEF with BASE = soname */
    const char *soname;
    unsigned nloads;   /* 1, or 2 (headers and tables | text) */
    uint64_t base;     /* p_vaddr of the first PT_LOAD */
    uint64_t load_gap; /* extra vaddr before the second PT_LOAD, multiple of 4096 */
    bool section_headers;
    bool linux_note;
    uint32_t linux_version;
    bool build_id;
    unsigned nalt;    /* .altinstructions entries */
    uint8_t alt_size; /* their size: 14 (0 too: the 6.3+ layout) or 12 (6.1-6.2, u16 feature) */
    bool relocations; /* DT_RELA/DT_RELASZ/DT_RELAENT naming one entry (the bytes of dynsym) */
    bool relocations_empty; /* with relocations: DT_RELASZ 0, as riscv and LoongArch link */
    const struct elfgen_sym *syms;
    unsigned nsyms;
};

struct elfgen_out {
    uint8_t *data;
    size_t size;
    uint32_t *sym_index; /* per described symbol: its dynsym index */
    uint64_t *sym_value; /* per described symbol: st_value */
};

/* Build an image; returns 0, or -1 with a message in err. Free with elfgen_free(). */
int elfgen_build(const struct elfgen_desc *d, struct elfgen_out *out, char *err, size_t errlen);
void elfgen_free(struct elfgen_out *out);

/* A description like the x86-64 kernel vDSO: both hashes, LINUX_2.6, one load. */
void elfgen_desc_x86_64(struct elfgen_desc *d);

/* The named variants that make up the test matrix and the fuzz seeds. */
unsigned elfgen_matrix_count(void);
const char *elfgen_matrix_name(unsigned i);
void elfgen_matrix_desc(unsigned i, struct elfgen_desc *d);

#endif /* VDSOKIT_ELFGEN_H */
