/*
 * Second parsing stage: the dynamic section. Reads the tags a vDSO consumer
 * needs (and the relocation tags the image checker reports), refuses
 * duplicates of the table tags, and maps every table through the PT_LOAD
 * that covers it, remembering where that segment's file bytes end so that
 * the later stages can bound whole tables, not just their first bytes.
 */
#include <elf.h>
#include <inttypes.h>

#include "elf_internal.h"

/* Raw values of the tags we use, before they are mapped to file offsets. */
struct dyn_tags {
    uint64_t strtab, strsz, symtab, syment, hash, gnu_hash, versym, verdef, verdefnum, soname;
};

/* A tag that appears at most once: bit in `seen`, where to store, its name. */
struct dyn_slot {
    uint32_t bit;
    size_t field;
    const char *name;
};

#define SLOT(bit, f, n)                      \
    {                                        \
        bit, offsetof(struct dyn_tags, f), n \
    }

/* ELF_DYN_* for the tables; the bits from SEEN_FIRST up only catch duplicates. */
enum {
    SEEN_FIRST = 1u << 16,
    SEEN_STRSZ = SEEN_FIRST << 0,
    SEEN_SYMENT = SEEN_FIRST << 1,
    SEEN_VERDEFNUM = SEEN_FIRST << 2,
};

static const struct dyn_slot *slot_for(uint64_t tag)
{
    static const struct dyn_slot strtab = SLOT(ELF_DYN_STRTAB, strtab, "DT_STRTAB");
    static const struct dyn_slot strsz = SLOT(SEEN_STRSZ, strsz, "DT_STRSZ");
    static const struct dyn_slot symtab = SLOT(ELF_DYN_SYMTAB, symtab, "DT_SYMTAB");
    static const struct dyn_slot syment = SLOT(SEEN_SYMENT, syment, "DT_SYMENT");
    static const struct dyn_slot hash = SLOT(ELF_DYN_HASH, hash, "DT_HASH");
    static const struct dyn_slot gnu = SLOT(ELF_DYN_GNU_HASH, gnu_hash, "DT_GNU_HASH");
    static const struct dyn_slot versym = SLOT(ELF_DYN_VERSYM, versym, "DT_VERSYM");
    static const struct dyn_slot verdef = SLOT(ELF_DYN_VERDEF, verdef, "DT_VERDEF");
    static const struct dyn_slot vnum = SLOT(SEEN_VERDEFNUM, verdefnum, "DT_VERDEFNUM");
    static const struct dyn_slot soname = SLOT(ELF_DYN_SONAME, soname, "DT_SONAME");

    switch (tag) {
    case DT_STRTAB:
        return &strtab;
    case DT_STRSZ:
        return &strsz;
    case DT_SYMTAB:
        return &symtab;
    case DT_SYMENT:
        return &syment;
    case DT_HASH:
        return &hash;
    case DT_GNU_HASH:
        return &gnu;
    case DT_VERSYM:
        return &versym;
    case DT_VERDEF:
        return &verdef;
    case DT_VERDEFNUM:
        return &vnum;
    case DT_SONAME:
        return &soname;
    default:
        return NULL;
    }
}

/*
 * The relocation tags seen so far, by kind: a kind needs relocating when
 * one of its size tags is nonzero, or its table address comes with no size
 * at all. riscv and LoongArch vDSOs carry DT_RELA with DT_RELASZ 0, an
 * empty table: nothing to relocate.
 */
struct reloc_tags {
    uint32_t addr, sized, nonzero;
};

static void note_reloc_tag(struct reloc_tags *rt, uint64_t tag, uint64_t val)
{
    switch (tag) {
    case DT_REL:
        rt->addr |= ELF_DYN_REL;
        break;
    case DT_RELSZ:
        rt->sized |= ELF_DYN_REL;
        rt->nonzero |= val ? ELF_DYN_REL : 0;
        break;
    case DT_RELA:
        rt->addr |= ELF_DYN_RELA;
        break;
    case DT_RELASZ:
        rt->sized |= ELF_DYN_RELA;
        rt->nonzero |= val ? ELF_DYN_RELA : 0;
        break;
    case DT_JMPREL:
        rt->addr |= ELF_DYN_JMPREL;
        break;
    case DT_PLTRELSZ:
        rt->sized |= ELF_DYN_JMPREL;
        rt->nonzero |= val ? ELF_DYN_JMPREL : 0;
        break;
    case DT_TEXTREL:
        rt->nonzero |= ELF_DYN_TEXTREL;
        break;
    case DT_FLAGS:
        rt->nonzero |= (val & DF_TEXTREL) ? ELF_DYN_TEXTREL : 0;
        break;
    default:
        break;
    }
}

static uint32_t reloc_kinds(const struct reloc_tags *rt)
{
    return rt->nonzero | (rt->addr & ~rt->sized);
}

/* A tag that is not a table slot: the flags and the relocation kinds. */
static void note_other_tag(struct elf_image *img, struct reloc_tags *rt, uint64_t tag, uint64_t val)
{
    if (tag == DT_FLAGS)
        img->dt_flags = val;
    if (tag == DT_FLAGS_1)
        img->dt_flags_1 = val;
    note_reloc_tag(rt, tag, val);
}

/* One Elf_Dyn; constant-size copies, so that they compile to plain loads. */
static bool read_dyn(const struct elf_reader *r, uint64_t off, uint64_t *tag, uint64_t *val)
{
    uint8_t e[sizeof(Elf64_Dyn)];

    if (r->is64) {
        if (!elf_read_rec(r, off, e, sizeof(Elf64_Dyn)))
            return false;
        *tag = elf_rec_u64(r, e);
        *val = elf_rec_u64(r, e + 8);
    } else {
        if (!elf_read_rec(r, off, e, sizeof(Elf32_Dyn)))
            return false;
        *tag = elf_rec_u32(r, e);
        *val = elf_rec_u32(r, e + 4);
    }
    return true;
}

static int read_tags(struct elf_image *img, struct dyn_tags *t, uint32_t *seen,
                     struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    unsigned entsize = ELF_DYN_SIZE(r.is64);
    uint64_t n = img->dyn_size / entsize, tag = 0, val = 0, i;
    struct reloc_tags rt = {0, 0, 0};

    /* check_dynamic_segment() put all n entries inside the input. */
    for (i = 0; i < n && read_dyn(&r, img->dyn_offset + i * entsize, &tag, &val); i++) {
        if (tag == DT_NULL)
            break;
        const struct dyn_slot *s = slot_for(tag);
        if (!s) {
            note_other_tag(img, &rt, tag, val);
            continue;
        }
        if (*seen & s->bit)
            return vdsokit_fail(err,
                                "dynamic entry %" PRIu64 " at offset 0x%" PRIx64
                                ": a second %s (0x%" PRIx64 ")",
                                i, img->dyn_offset + i * entsize, s->name, val);
        *seen |= s->bit;
        *(uint64_t *)((char *)t + s->field) = val;
    }
    img->dyn_count = i;
    img->dyn_present |= (*seen & (SEEN_FIRST - 1)) | reloc_kinds(&rt);
    return 0;
}

/* Map one table's vaddr to a file offset; `len` bytes must be in one segment. */
static inline int map_table(const struct elf_image *img, const char *name, uint64_t vaddr,
                            uint64_t len, uint64_t *offset, uint64_t *end,
                            struct vdsokit_error *err)
{
    if (!elf_map_vaddr(img, vaddr, len, offset, end))
        return vdsokit_fail(err,
                            "%s 0x%" PRIx64 " (+0x%" PRIx64
                            " bytes) is not inside the file bytes of any PT_LOAD",
                            name, vaddr, len);
    return 0;
}

static int check_dynamic_segment(struct elf_image *img, struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    uint64_t off = 0, end = 0;

    if (!elf_range_ok(&r, img->dyn_offset, img->dyn_size))
        return vdsokit_fail(err,
                            "PT_DYNAMIC file range p_offset 0x%" PRIx64 " + p_filesz 0x%" PRIx64
                            " exceeds the %zu-byte image",
                            img->dyn_offset, img->dyn_size, img->size);
    /* Loaders find it by vaddr (glibc) or by offset (parse_vdso): both must agree. */
    if (!elf_map_vaddr(img, img->dyn_vaddr, img->dyn_size, &off, &end) || off != img->dyn_offset)
        return vdsokit_fail(err,
                            "PT_DYNAMIC p_vaddr 0x%" PRIx64 " (0x%" PRIx64
                            " bytes) does not map through a PT_LOAD to its p_offset 0x%" PRIx64,
                            img->dyn_vaddr, img->dyn_size, img->dyn_offset);
    return 0;
}

static int map_strings(struct elf_image *img, const struct dyn_tags *t, uint32_t seen,
                       struct elf_table_limits *lim, struct vdsokit_error *err)
{
    uint64_t off = 0, end = 0;

    if (!(seen & ELF_DYN_STRTAB))
        return vdsokit_fail(err, "no DT_STRTAB in the %" PRIu64 " dynamic entries", img->dyn_count);
    if (map_table(img, "DT_STRTAB", t->strtab, 1, &off, &end, err))
        return -1;
    img->strtab = off;
    /* Without DT_STRSZ the table may extend to its segment's end. */
    img->strsz = (seen & SEEN_STRSZ) ? t->strsz : end - off;
    if (img->strsz > end - off)
        return vdsokit_fail(err,
                            "DT_STRSZ %" PRIu64 " runs past the end (file offset 0x%" PRIx64
                            ") of the segment holding DT_STRTAB 0x%" PRIx64,
                            img->strsz, end, t->strtab);
    lim->strtab_end = off + img->strsz;
    if (seen & ELF_DYN_SONAME) {
        struct elf_reader r = elf_image_reader(img);
        img->soname = t->soname;
        img->soname_name = t->soname < img->strsz
                               ? elf_read_str(&r, img->strtab + t->soname, lim->strtab_end)
                               : NULL;
        if (!img->soname_name)
            return vdsokit_fail(err,
                                "DT_SONAME %" PRIu64 " is not a string inside DT_STRSZ %" PRIu64,
                                t->soname, img->strsz);
    }
    return 0;
}

static int map_tables(struct elf_image *img, const struct dyn_tags *t, uint32_t seen,
                      struct elf_table_limits *lim, struct vdsokit_error *err)
{
    unsigned sym_size = ELF_SYM_SIZE(img->elf_class == ELFCLASS64);

    if (!(seen & ELF_DYN_SYMTAB))
        return vdsokit_fail(err, "no DT_SYMTAB in the %" PRIu64 " dynamic entries", img->dyn_count);
    if ((seen & SEEN_SYMENT) && t->syment != sym_size)
        return vdsokit_fail(err, "DT_SYMENT is %" PRIu64 ", not %u for ELFCLASS%u", t->syment,
                            sym_size, img->elf_class == ELFCLASS64 ? 64 : 32);
    img->syment = sym_size;
    if (map_table(img, "DT_SYMTAB", t->symtab, sym_size, &img->symtab, &lim->symtab_end, err))
        return -1;
    if ((seen & ELF_DYN_HASH) &&
        map_table(img, "DT_HASH", t->hash, 8, &img->hash, &lim->hash_end, err))
        return -1;
    if ((seen & ELF_DYN_GNU_HASH) &&
        map_table(img, "DT_GNU_HASH", t->gnu_hash, 16, &img->gnu_hash, &lim->gnu_hash_end, err))
        return -1;
    if ((seen & ELF_DYN_VERSYM) &&
        map_table(img, "DT_VERSYM", t->versym, 2, &img->versym, &lim->versym_end, err))
        return -1;
    if ((seen & ELF_DYN_VERDEF) &&
        map_table(img, "DT_VERDEF", t->verdef, 20, &img->verdef, &lim->verdef_end, err))
        return -1;
    if ((seen & SEEN_VERDEFNUM) && !(seen & ELF_DYN_VERDEF))
        return vdsokit_fail(err, "DT_VERDEFNUM %" PRIu64 " without DT_VERDEF", t->verdefnum);
    img->verdefnum = (seen & SEEN_VERDEFNUM) ? t->verdefnum : 0;
    return 0;
}

int elf_parse_dynamic(struct elf_image *img, struct elf_table_limits *lim,
                      struct vdsokit_error *err)
{
    struct dyn_tags t = {0};
    uint32_t seen = 0;

    if (check_dynamic_segment(img, err) || read_tags(img, &t, &seen, err))
        return -1;
    if (map_strings(img, &t, seen, lim, err) || map_tables(img, &t, seen, lim, err))
        return -1;
    return 0;
}
