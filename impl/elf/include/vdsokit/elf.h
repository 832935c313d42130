/*
 * The hardened ELF resolver: the execution view of a vDSO-like shared object
 * (ELF header, program headers, PT_LOAD segments, PT_DYNAMIC and the tables
 * it names) and symbol lookup through DT_GNU_HASH, DT_HASH or a linear scan,
 * with GNU symbol versions. Input is untrusted bytes of any class, byte order
 * and machine; every field is read through bounds-checked readers into local
 * structs, every walk is bounded, and every failure is an error message that
 * names the field, its offset and its value. The section view lives in
 * elf_sections.h and is not needed here; the byte readers are internal.
 */
#ifndef VDSOKIT_ELF_H
#define VDSOKIT_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdsokit/error.h>

#define ELF_MAX_LOADS         16
#define ELF_MAX_VERDEFS       64
#define ELF_MAX_NOTE_SEGMENTS 4 /* PT_NOTE ranges kept; later ones are ignored */

struct elf_load {
    uint64_t offset; /* p_offset */
    uint64_t vaddr;  /* p_vaddr */
    uint64_t filesz;
    uint64_t memsz;
    uint32_t flags; /* PF_R | PF_W | PF_X */
};

/* Which dynamic tags were present (bits of elf_image.dyn_present). */
enum {
    ELF_DYN_STRTAB = 1u << 0,
    ELF_DYN_SYMTAB = 1u << 1,
    ELF_DYN_HASH = 1u << 2,
    ELF_DYN_GNU_HASH = 1u << 3,
    ELF_DYN_VERSYM = 1u << 4,
    ELF_DYN_VERDEF = 1u << 5,
    ELF_DYN_SONAME = 1u << 6,
    /* Relocations to apply: a nonzero size, or the table's address without
     * a size (an empty table, DT_RELASZ 0, sets no bit). */
    ELF_DYN_REL = 1u << 7,      /* DT_RELSZ > 0, or DT_REL alone */
    ELF_DYN_RELA = 1u << 8,     /* DT_RELASZ > 0, or DT_RELA alone */
    ELF_DYN_JMPREL = 1u << 9,   /* DT_PLTRELSZ > 0, or DT_JMPREL alone */
    ELF_DYN_TEXTREL = 1u << 10, /* DT_TEXTREL, or DF_TEXTREL in DT_FLAGS */
};

/* One version definition (DT_VERDEF entry), already bounds-checked. */
struct elf_verdef {
    uint16_t ndx;     /* vd_ndx, what DT_VERSYM entries refer to */
    uint16_t flags;   /* vd_flags: VER_FLG_BASE (1), VER_FLG_WEAK (2) */
    uint32_t hash;    /* vd_hash as stored (the checker compares it) */
    const char *name; /* first verdaux name, inside the string table */
};

/* How elf_image.nsyms was derived (see elf_open()). */
enum elf_nsyms_rule {
    ELF_NSYMS_SYSV_NCHAIN, /* DT_HASH nchain */
    ELF_NSYMS_GNU_CHAINS,  /* end of the longest DT_GNU_HASH chain */
    ELF_NSYMS_DISTANCE,    /* DT_SYMTAB to the next table or the segment end */
};

/* A parsed image. Offsets are file offsets inside data[0, size). */
struct elf_image {
    const uint8_t *data;
    size_t size;

    uint8_t elf_class;  /* ELFCLASS32 (1) or ELFCLASS64 (2) */
    uint8_t byte_order; /* ELFDATA2LSB (1) or ELFDATA2MSB (2) */
    uint16_t type;      /* e_type */
    uint16_t machine;   /* e_machine */
    uint64_t entry;
    uint64_t phoff, shoff;
    uint16_t phnum, phentsize, shnum, shentsize, shstrndx;

    unsigned nloads; /* entries of loads[] (at the end) in use */
    unsigned nnotes; /* PT_NOTE segments kept, at most ELF_MAX_NOTE_SEGMENTS */
    uint64_t note_offset[ELF_MAX_NOTE_SEGMENTS]; /* their file ranges, in header order */
    uint64_t note_size[ELF_MAX_NOTE_SEGMENTS];
    bool has_eh_frame_hdr; /* PT_GNU_EH_FRAME */

    bool has_dynamic;
    uint64_t dyn_offset, dyn_count; /* PT_DYNAMIC entries up to DT_NULL */
    uint64_t dyn_vaddr, dyn_size;   /* p_vaddr and p_filesz of PT_DYNAMIC */
    uint32_t dyn_present;           /* ELF_DYN_* */
    uint64_t dt_flags, dt_flags_1;

    /* Dynamic tables, as file offsets (mapped through PT_LOAD). */
    uint64_t strtab, strsz;
    uint64_t symtab, syment;
    uint64_t versym, verdef, verdefnum;
    uint64_t soname;         /* offset into strtab */
    const char *soname_name; /* NULL without DT_SONAME */

    /* DT_HASH: entry size is 8 on s390x/alpha (64-bit), 4 elsewhere. */
    uint64_t hash, hash_nbucket, hash_nchain;
    unsigned hash_entsize;
    /* DT_GNU_HASH (always 32-bit words; bloom words are class-sized). */
    uint64_t gnu_hash, gnu_nbuckets, gnu_symoffset, gnu_bloom_size;
    uint32_t gnu_bloom_shift;
    uint64_t gnu_buckets, gnu_chains; /* file offsets of the arrays */
    uint32_t gnu_end_index;           /* one past the last symbol in a chain */

    uint32_t nsyms; /* dynamic symbol count, derived and bounds-checked */
    enum elf_nsyms_rule nsyms_rule;

    unsigned nverdefs;        /* DT_VERDEF chain, in file order */
    uint64_t verdef_ndx_mask; /* bit n: some verdef has vd_ndx n (n < 64) */

    /* The arrays come last: elf_open() clears only the fields above them. */
    struct elf_load loads[ELF_MAX_LOADS];
    struct elf_verdef verdefs[ELF_MAX_VERDEFS];
};

/* One dynamic symbol as a consumer sees it. */
struct elf_sym {
    uint32_t index;
    const char *name;    /* NUL-terminated, inside the string table */
    const char *version; /* verdef name, or NULL when unversioned */
    uint16_t versym;     /* raw DT_VERSYM entry (0 when absent) */
    bool hidden;         /* VERSYM_HIDDEN was set */
    uint64_t value;
    uint64_t size;
    uint8_t type; /* STT_* */
    uint8_t bind; /* STB_* */
    uint8_t visibility;
    uint16_t shndx;
};

/* Lookup path; they must agree on every well-formed image. */
enum elf_lookup_path {
    ELF_LOOKUP_AUTO,      /* GNU hash, else SysV hash, else scan */
    ELF_LOOKUP_GNU_HASH,  /* DT_GNU_HASH only */
    ELF_LOOKUP_SYSV_HASH, /* DT_HASH only */
    ELF_LOOKUP_SCAN,      /* linear scan of all nsyms */
};

/* What elf_lookup() found. */
enum elf_lookup_result {
    ELF_NO_TABLE = -1, /* the requested path's table is absent or unusable */
    ELF_FOUND = 0,
    ELF_NOT_FOUND = 1,
};

/*
 * Parse data[0, size) as an ELF image. The bytes are not copied: they must
 * outlive img. Returns 0, or -1 with err filled (err may be NULL).
 *
 * What is required: a valid ident (class, byte order, EV_CURRENT), program
 * headers of the class's size inside the input, at most ELF_MAX_LOADS
 * PT_LOADs whose file ranges lie inside the input with filesz <= memsz, one
 * PT_DYNAMIC whose vaddr maps through a PT_LOAD to its own p_offset,
 * DT_STRTAB and DT_SYMTAB, and every table the dynamic section names mapped
 * through a PT_LOAD with all of its entries inside the file bytes of that
 * segment. A table with a bad header is an error, not silently skipped.
 *
 * The symbol count: DT_HASH nchain when DT_HASH is present; else the end of
 * the last DT_GNU_HASH chain (the highest bucket start walked to its
 * terminating odd word), or symoffset when every bucket is empty; else the
 * distance from DT_SYMTAB to the nearest table start above it in the same
 * segment (or the segment's file end), divided by the entry size. Whatever
 * the rule, the count never exceeds the entries that fit in the segment, and
 * a GNU chain that runs past nchain is an error.
 */
int elf_open(struct elf_image *img, const void *data, size_t size, struct vdsokit_error *err);

/*
 * Read dynamic symbol `index` (0 .. nsyms-1). Returns 0, or -1 with err
 * filled when the entry, its name or its version is out of bounds.
 */
int elf_symbol(const struct elf_image *img, uint32_t index, struct elf_sym *sym,
               struct vdsokit_error *err);

/*
 * Find a defined symbol (st_shndx != SHN_UNDEF; bind GLOBAL, WEAK or
 * GNU_UNIQUE; type NOTYPE, OBJECT, FUNC or COMMON) by name and version.
 * version == NULL matches unversioned symbols and default (non-hidden)
 * versions; a version string matches the non-BASE verdef of that name (the
 * hidden bit masked), and on an image without versioning it matches the
 * unversioned symbol, as glibc does. A symbol whose value lies in no PT_LOAD
 * (and is not SHN_ABS) is never returned: it would resolve to an address
 * outside the image. Among several matches the lowest symbol index wins, so
 * the three paths agree.
 */
enum elf_lookup_result elf_lookup(const struct elf_image *img, const char *name,
                                  const char *version, enum elf_lookup_path path,
                                  struct elf_sym *out);

/*
 * Whether the DT_GNU_HASH bloom filter admits a GNU hash, as glibc tests it
 * before walking a chain (elf_lookup() does not consult the filter; the
 * image checker uses this to find names the filter would hide). False when
 * the image has no DT_GNU_HASH or an empty filter.
 */
bool elf_gnu_bloom_admits(const struct elf_image *img, uint32_t gnu_hash);

/*
 * Where a symbol lives relative to the image start as it is mapped from file
 * offset 0: st_value - p_vaddr + p_offset of the PT_LOAD containing it.
 * False when no loaded segment holds it.
 */
bool elf_symbol_offset(const struct elf_image *img, const struct elf_sym *sym, uint64_t *offset);

/*
 * Whether a symbol can be found by elf_lookup(): defined, bind GLOBAL, WEAK
 * or GNU_UNIQUE, type NOTYPE, OBJECT, FUNC or COMMON, index not 0.
 */
bool elf_sym_is_exported(const struct elf_sym *sym);

/* The ELF hash (SysV) and the GNU hash of a name. */
uint32_t elf_hash_sysv(const char *name);
uint32_t elf_hash_gnu(const char *name);

/* Short name of e_machine ("x86_64", "aarch64", ...) or NULL. */
const char *elf_machine_name(uint16_t machine);

#endif /* VDSOKIT_ELF_H */
