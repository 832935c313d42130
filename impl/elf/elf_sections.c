/*
 * The section view: section headers, their names and where the static
 * symbol table lies. Independent of the resolver's tables; it shares only
 * the ELF header fields and the bounds-checked readers.
 */
#include <elf.h>
#include <inttypes.h>
#include <string.h>

#include <vdsokit/elf_sections.h>

#include "elf_internal.h"

static void read_shdr(const struct elf_reader *r, uint64_t off, struct elf_section *s)
{
    elf_read_u32(r, off + 4, &s->type);
    if (r->is64) {
        elf_read_u64(r, off + 8, &s->flags);
        elf_read_u64(r, off + 16, &s->addr);
        elf_read_u64(r, off + 24, &s->offset);
        elf_read_u64(r, off + 32, &s->size);
        elf_read_u32(r, off + 40, &s->link);
        elf_read_u32(r, off + 44, &s->info);
        elf_read_u64(r, off + 48, &s->addralign);
        elf_read_u64(r, off + 56, &s->entsize);
    } else {
        elf_read_word(r, off + 8, &s->flags);
        elf_read_word(r, off + 12, &s->addr);
        elf_read_word(r, off + 16, &s->offset);
        elf_read_word(r, off + 20, &s->size);
        elf_read_u32(r, off + 24, &s->link);
        elf_read_u32(r, off + 28, &s->info);
        elf_read_word(r, off + 32, &s->addralign);
        elf_read_word(r, off + 36, &s->entsize);
    }
}

int elf_sections_open(struct elf_sections *s, const struct elf_image *img,
                      struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    unsigned entsize = ELF_SHDR_SIZE(r.is64);
    struct elf_section names;

    memset(s, 0, sizeof(*s));
    s->img = img;
    if (img->shoff == 0 || img->shnum == 0)
        return 0;
    if (img->shentsize != entsize)
        return vdsokit_fail(err, "e_shentsize is %u, not %u for this class", img->shentsize,
                            entsize);
    if (!elf_range_ok(&r, img->shoff, (uint64_t)img->shnum * entsize))
        return vdsokit_fail(err,
                            "section headers (e_shoff 0x%" PRIx64 ", %u x %u bytes) exceed the "
                            "%zu-byte image",
                            img->shoff, img->shnum, entsize, img->size);
    s->count = img->shnum;
    if (img->shstrndx == SHN_UNDEF)
        return 0;
    if (img->shstrndx >= s->count)
        return vdsokit_fail(err, "e_shstrndx %u is not below e_shnum %u", img->shstrndx, s->count);
    read_shdr(&r, img->shoff + (uint64_t)img->shstrndx * entsize, &names);
    if (!elf_range_ok(&r, names.offset, names.size))
        return vdsokit_fail(err,
                            "section name table (section %u) range 0x%" PRIx64 " + 0x%" PRIx64
                            " exceeds the image",
                            img->shstrndx, names.offset, names.size);
    s->shstr_offset = names.offset;
    s->shstr_size = names.size;
    s->has_names = true;
    return 0;
}

int elf_section_get(const struct elf_sections *s, uint32_t index, struct elf_section *out,
                    struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(s->img);
    uint64_t off = s->img->shoff + (uint64_t)index * s->img->shentsize;
    uint32_t name = 0;

    if (index >= s->count)
        return vdsokit_fail(err, "section index %u is not below e_shnum %u", index, s->count);
    memset(out, 0, sizeof(*out));
    out->index = index;
    read_shdr(&r, off, out);
    elf_read_u32(&r, off, &name);
    out->name = "";
    if (!s->has_names)
        return 0;
    out->name = name < s->shstr_size
                    ? elf_read_str(&r, s->shstr_offset + name, s->shstr_offset + s->shstr_size)
                    : NULL;
    if (!out->name)
        return vdsokit_fail(err,
                            "section %u at offset 0x%" PRIx64 ": sh_name %u is not a string in the "
                            "%" PRIu64 "-byte name table",
                            index, off, name, s->shstr_size);
    return 0;
}

bool elf_section_by_name(const struct elf_sections *s, const char *name, struct elf_section *out)
{
    for (uint32_t i = 1; i < s->count; i++)
        if (elf_section_get(s, i, out, NULL) == 0 && strcmp(out->name, name) == 0)
            return true;
    return false;
}

/* True when a section's bytes (SHT_NOBITS excepted) lie inside the image. */
static bool section_in_file(const struct elf_sections *s, const struct elf_section *sec)
{
    struct elf_reader r = elf_image_reader(s->img);

    return sec->type == SHT_NOBITS || elf_range_ok(&r, sec->offset, sec->size);
}

int elf_symtab_open(struct elf_symtab *t, const struct elf_sections *s, struct vdsokit_error *err)
{
    struct elf_section sym, str;
    unsigned entsize = ELF_SYM_SIZE(s->img->elf_class == ELFCLASS64);
    uint32_t i;

    memset(t, 0, sizeof(*t));
    t->img = s->img;
    for (i = 1; i < s->count; i++)
        if (elf_section_get(s, i, &sym, NULL) == 0 && sym.type == SHT_SYMTAB)
            break;
    if (i >= s->count)
        return 1;
    if (!section_in_file(s, &sym) || sym.link >= s->count || sym.link == 0 ||
        elf_section_get(s, sym.link, &str, err) || !section_in_file(s, &str))
        return vdsokit_fail(err,
                            "SHT_SYMTAB section %u (offset 0x%" PRIx64 ", size 0x%" PRIx64
                            ", sh_link %u) or its string table lies outside the image",
                            i, sym.offset, sym.size, sym.link);
    t->offset = sym.offset;
    t->count = sym.size / entsize;
    t->strtab = str.offset;
    t->strsz = str.size;
    return 0;
}
