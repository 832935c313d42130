/*
 * Reading one dynamic symbol: the class-specific Elf_Sym layout, its name
 * in the string table and its version through DT_VERSYM and DT_VERDEF.
 * elf_open() has bounded the symbol table, the string table and the
 * version tables, so this only checks the per-symbol name offset.
 */
#include <elf.h>
#include <inttypes.h>

#include "elf_internal.h"

void elf_read_sym_at(const struct elf_reader *r, uint64_t off, struct elf_sym *s, uint32_t *name)
{
    uint8_t info = 0, other = 0;

    elf_read_u32(r, off, name);
    if (r->is64) {
        elf_read_u8(r, off + 4, &info);
        elf_read_u8(r, off + 5, &other);
        elf_read_u16(r, off + 6, &s->shndx);
        elf_read_u64(r, off + 8, &s->value);
        elf_read_u64(r, off + 16, &s->size);
    } else {
        elf_read_word(r, off + 4, &s->value);
        elf_read_word(r, off + 8, &s->size);
        elf_read_u8(r, off + 12, &info);
        elf_read_u8(r, off + 13, &other);
        elf_read_u16(r, off + 14, &s->shndx);
    }
    s->type = info & 0xf;
    s->bind = info >> 4;
    s->visibility = other & 0x3;
}

static void read_version(const struct elf_image *img, uint32_t index, struct elf_sym *s)
{
    struct elf_reader r = elf_image_reader(img);
    const struct elf_verdef *d;

    s->versym = 0;
    s->hidden = false;
    s->version = NULL;
    if (!(img->dyn_present & ELF_DYN_VERSYM))
        return;
    elf_read_u16(&r, img->versym + 2ull * index, &s->versym);
    s->hidden = (s->versym & 0x8000) != 0;
    /* Indices 0 (local) and 1 (global) carry no version name. */
    d = (s->versym & 0x7fff) >= 2 ? elf_verdef_by_ndx(img, s->versym & 0x7fff) : NULL;
    s->version = d ? d->name : NULL;
}

int elf_symbol(const struct elf_image *img, uint32_t index, struct elf_sym *sym,
               struct elf_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    uint32_t name = 0;

    if (index >= img->nsyms)
        return elf_fail(err, "symbol index %u is not below the symbol count %u", index, img->nsyms);
    elf_read_sym_at(&r, img->symtab + (uint64_t)index * img->syment, sym, &name);
    sym->index = index;
    sym->name =
        name < img->strsz ? elf_read_str(&r, img->strtab + name, img->strtab + img->strsz) : NULL;
    if (!sym->name)
        return elf_fail(err,
                        "symbol %u at offset 0x%" PRIx64 ": st_name %u is not a string inside "
                        "DT_STRSZ %" PRIu64,
                        index, img->symtab + (uint64_t)index * img->syment, name, img->strsz);
    read_version(img, index, sym);
    return 0;
}

bool elf_sym_is_exported(const struct elf_sym *sym)
{
    if (sym->index == 0 || sym->shndx == SHN_UNDEF)
        return false;
    if (sym->bind != STB_GLOBAL && sym->bind != STB_WEAK && sym->bind != STB_GNU_UNIQUE)
        return false;
    return sym->type == STT_NOTYPE || sym->type == STT_OBJECT || sym->type == STT_FUNC ||
           sym->type == STT_COMMON;
}
