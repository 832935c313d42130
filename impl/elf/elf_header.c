/*
 * First parsing stage: e_ident, the ELF header and the program headers.
 * Records every PT_LOAD (the vaddr to file offset map), PT_DYNAMIC, the
 * PT_NOTE ranges and PT_GNU_EH_FRAME, and rejects headers that a loader
 * could not use: wrong sizes, ranges outside the input, filesz > memsz.
 */
#include <elf.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "elf_internal.h"

/* One program header, copied out of the input. */
struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz;
};

static int parse_ident(struct elf_image *img, struct vdsokit_error *err)
{
    const uint8_t *d = img->data;

    if (img->size < EI_NIDENT)
        return vdsokit_fail(err, "image is %zu bytes, shorter than the 16-byte e_ident", img->size);
    if (memcmp(d, ELFMAG, SELFMAG) != 0)
        return vdsokit_fail(err,
                            "e_ident magic at offset 0 is %02x %02x %02x %02x, not 7f 45 4c 46 "
                            "(\"\\177ELF\")",
                            d[0], d[1], d[2], d[3]);
    if (d[EI_CLASS] != ELFCLASS32 && d[EI_CLASS] != ELFCLASS64)
        return vdsokit_fail(
            err, "e_ident[EI_CLASS] at offset 4 is %u, not ELFCLASS32 (1) or ELFCLASS64 (2)",
            d[EI_CLASS]);
    if (d[EI_DATA] != ELFDATA2LSB && d[EI_DATA] != ELFDATA2MSB)
        return vdsokit_fail(
            err, "e_ident[EI_DATA] at offset 5 is %u, not ELFDATA2LSB (1) or ELFDATA2MSB (2)",
            d[EI_DATA]);
    if (d[EI_VERSION] != EV_CURRENT)
        return vdsokit_fail(err, "e_ident[EI_VERSION] at offset 6 is %u, not EV_CURRENT (1)",
                            d[EI_VERSION]);
    img->elf_class = d[EI_CLASS];
    img->byte_order = d[EI_DATA];
    return 0;
}

/* Where an ELF header field lies in this class (offsets differ after e_entry). */
#define EHDR_OFF(is64, field) \
    ((unsigned)((is64) ? offsetof(Elf64_Ehdr, field) : offsetof(Elf32_Ehdr, field)))

/* The fields a consumer needs, from the header already copied into eh. */
static void decode_ehdr(struct elf_image *img, const struct elf_reader *r, const uint8_t *eh)
{
    bool is64 = r->is64;

    img->type = elf_rec_u16(r, eh + EHDR_OFF(is64, e_type));
    img->machine = elf_rec_u16(r, eh + EHDR_OFF(is64, e_machine));
    img->entry = elf_rec_word(r, eh + EHDR_OFF(is64, e_entry));
    img->phoff = elf_rec_word(r, eh + EHDR_OFF(is64, e_phoff));
    img->shoff = elf_rec_word(r, eh + EHDR_OFF(is64, e_shoff));
    img->phentsize = elf_rec_u16(r, eh + EHDR_OFF(is64, e_phentsize));
    img->phnum = elf_rec_u16(r, eh + EHDR_OFF(is64, e_phnum));
    img->shentsize = elf_rec_u16(r, eh + EHDR_OFF(is64, e_shentsize));
    img->shnum = elf_rec_u16(r, eh + EHDR_OFF(is64, e_shnum));
    img->shstrndx = elf_rec_u16(r, eh + EHDR_OFF(is64, e_shstrndx));
}

/* The program header table the header describes: present, sized for the class, inside. */
static int check_phdr_table(const struct elf_image *img, const struct elf_reader *r,
                            struct vdsokit_error *err)
{
    bool is64 = r->is64;

    if (img->phnum == 0)
        return vdsokit_fail(err,
                            "e_phnum at offset 0x%x is 0: no program headers, so no PT_DYNAMIC",
                            EHDR_OFF(is64, e_phnum));
    if (img->phnum == PN_XNUM)
        return vdsokit_fail(err,
                            "e_phnum at offset 0x%x is PN_XNUM (0xffff), unsupported for a vDSO",
                            EHDR_OFF(is64, e_phnum));
    if (img->phentsize != ELF_PHDR_SIZE(is64))
        return vdsokit_fail(err, "e_phentsize at offset 0x%x is %u, not %u for ELFCLASS%u",
                            EHDR_OFF(is64, e_phentsize), img->phentsize,
                            (unsigned)ELF_PHDR_SIZE(is64), is64 ? 64 : 32);
    /* The gABI's "no program header table", whatever e_phnum says (libelf reads none). */
    if (img->phoff == 0)
        return vdsokit_fail(err,
                            "e_phoff at offset 0x%x is 0: no program header table (e_phnum %u)",
                            EHDR_OFF(is64, e_phoff), img->phnum);
    if (!elf_range_ok(r, img->phoff, (uint64_t)img->phnum * img->phentsize))
        return vdsokit_fail(err,
                            "program headers (e_phoff 0x%" PRIx64 ", %u x %u bytes) exceed the "
                            "%zu-byte image",
                            img->phoff, img->phnum, img->phentsize, img->size);
    return 0;
}

static int parse_ehdr(struct elf_image *img, struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    uint8_t eh[sizeof(Elf64_Ehdr)];

    /* One copy of the header, of a constant size per class. */
    if (!(r.is64 ? elf_read_rec(&r, 0, eh, sizeof(Elf64_Ehdr))
                 : elf_read_rec(&r, 0, eh, sizeof(Elf32_Ehdr))))
        return vdsokit_fail(err, "image is %zu bytes, shorter than the %zu-byte ELF%u header",
                            img->size, ELF_EHDR_SIZE(r.is64), r.is64 ? 64 : 32);
    decode_ehdr(img, &r, eh);
    return check_phdr_table(img, &r, err);
}

/* False when the header is not inside the input (parse_ehdr rules that out). */
static bool read_phdr(const struct elf_reader *r, uint64_t off, struct phdr *ph)
{
    uint8_t b[sizeof(Elf64_Phdr)];

    if (r->is64) {
        if (!elf_read_rec(r, off, b, sizeof(Elf64_Phdr)))
            return false;
        ph->type = elf_rec_u32(r, b);
        ph->flags = elf_rec_u32(r, b + 4);
        ph->offset = elf_rec_u64(r, b + 8);
        ph->vaddr = elf_rec_u64(r, b + 16);
        ph->filesz = elf_rec_u64(r, b + 32);
        ph->memsz = elf_rec_u64(r, b + 40);
    } else {
        if (!elf_read_rec(r, off, b, sizeof(Elf32_Phdr)))
            return false;
        ph->type = elf_rec_u32(r, b);
        ph->offset = elf_rec_u32(r, b + 4);
        ph->vaddr = elf_rec_u32(r, b + 8);
        ph->filesz = elf_rec_u32(r, b + 16);
        ph->memsz = elf_rec_u32(r, b + 20);
        ph->flags = elf_rec_u32(r, b + 24);
    }
    return true;
}

static int add_load(struct elf_image *img, unsigned i, const struct phdr *ph,
                    struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    struct elf_load *l;

    if (img->nloads == ELF_MAX_LOADS)
        return vdsokit_fail(err, "program header %u: more than %d PT_LOAD segments", i,
                            ELF_MAX_LOADS);
    if (ph->filesz > ph->memsz)
        return vdsokit_fail(err,
                            "program header %u (PT_LOAD): p_filesz 0x%" PRIx64
                            " is larger than p_memsz 0x%" PRIx64,
                            i, ph->filesz, ph->memsz);
    if (!elf_range_ok(&r, ph->offset, ph->filesz))
        return vdsokit_fail(err,
                            "program header %u (PT_LOAD): file range p_offset 0x%" PRIx64
                            " + p_filesz 0x%" PRIx64 " exceeds the %zu-byte image",
                            i, ph->offset, ph->filesz, img->size);
    if (ph->vaddr + ph->memsz < ph->vaddr)
        return vdsokit_fail(err,
                            "program header %u (PT_LOAD): p_vaddr 0x%" PRIx64
                            " + p_memsz 0x%" PRIx64 " wraps around",
                            i, ph->vaddr, ph->memsz);
    l = &img->loads[img->nloads++];
    l->offset = ph->offset;
    l->vaddr = ph->vaddr;
    l->filesz = ph->filesz;
    l->memsz = ph->memsz;
    l->flags = ph->flags;
    return 0;
}

static int add_dynamic(struct elf_image *img, unsigned i, const struct phdr *ph,
                       struct vdsokit_error *err)
{
    if (img->has_dynamic)
        return vdsokit_fail(err, "program header %u: a second PT_DYNAMIC", i);
    img->has_dynamic = true;
    img->dyn_offset = ph->offset;
    img->dyn_vaddr = ph->vaddr;
    img->dyn_size = ph->filesz;
    return 0;
}

int elf_parse_header(struct elf_image *img, struct vdsokit_error *err)
{
    struct elf_reader r;
    struct phdr ph = {0};

    if (parse_ident(img, err) || parse_ehdr(img, err))
        return -1;
    r = elf_image_reader(img);
    for (unsigned i = 0; i < img->phnum; i++) {
        uint64_t off = img->phoff + (uint64_t)i * img->phentsize;
        if (!read_phdr(&r, off, &ph))
            return vdsokit_fail(
                err, "program header %u at offset 0x%" PRIx64 " is outside the image", i, off);
        if (ph.type == PT_LOAD && add_load(img, i, &ph, err))
            return -1;
        if (ph.type == PT_DYNAMIC && add_dynamic(img, i, &ph, err))
            return -1;
        if (ph.type == PT_NOTE && img->nnotes < ELF_MAX_NOTE_SEGMENTS) {
            img->note_offset[img->nnotes] = ph.offset;
            img->note_size[img->nnotes++] = ph.filesz;
        }
        if (ph.type == PT_GNU_EH_FRAME)
            img->has_eh_frame_hdr = true;
    }
    if (img->nloads == 0)
        return vdsokit_fail(err, "no PT_LOAD among the %u program headers", img->phnum);
    if (!img->has_dynamic)
        return vdsokit_fail(err, "no PT_DYNAMIC among the %u program headers", img->phnum);
    return 0;
}
