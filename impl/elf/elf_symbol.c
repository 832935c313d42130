/*
 * Reading one dynamic symbol: the class-specific Elf_Sym layout, its name
 * in the string table and its version through DT_VERSYM and DT_VERDEF.
 * elf_open() has bounded the symbol table, the string table and the
 * version tables, so this only checks the per-symbol name offset.
 */
#include <elf.h>
#include <inttypes.h>

#include "elf_internal.h"

const char *elf_version_name(const struct elf_image *img, uint16_t versym)
{
    uint16_t ndx = versym & VERSYM_VERSION;
    const struct elf_verdef *d;

    /* VER_NDX_LOCAL and VER_NDX_GLOBAL carry no version name. */
    d = ndx > VER_NDX_GLOBAL ? elf_verdef_by_ndx(img, ndx) : NULL;
    return d ? d->name : NULL;
}

static void read_version(const struct elf_image *img, uint32_t index, struct elf_sym *s)
{
    struct elf_reader r = elf_image_reader(img);

    s->versym = 0;
    if (img->dyn_present & ELF_DYN_VERSYM)
        elf_read_u16(&r, img->versym + 2ull * index, &s->versym);
    s->hidden = (s->versym & VERSYM_HIDDEN) != 0;
    s->version = elf_version_name(img, s->versym);
}

int elf_symbol(const struct elf_image *img, uint32_t index, struct elf_sym *sym,
               struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    uint32_t name = 0;

    if (index >= img->nsyms)
        return vdsokit_fail(err, "symbol index %u is not below the symbol count %u", index,
                            img->nsyms);
    if (!elf_read_sym_at(&r, img->symtab + (uint64_t)index * img->syment, sym, &name))
        return vdsokit_fail(err, "symbol %u at offset 0x%" PRIx64 " is outside the image", index,
                            img->symtab + (uint64_t)index * img->syment);
    sym->index = index;
    sym->name =
        name < img->strsz ? elf_read_str(&r, img->strtab + name, img->strtab + img->strsz) : NULL;
    if (!sym->name)
        return vdsokit_fail(err,
                            "symbol %u at offset 0x%" PRIx64 ": st_name %u is not a string inside "
                            "DT_STRSZ %" PRIu64,
                            index, img->symtab + (uint64_t)index * img->syment, name, img->strsz);
    read_version(img, index, sym);
    return 0;
}

bool elf_sym_is_exported(const struct elf_sym *sym)
{
    return elf_sym_exportable(sym);
}
