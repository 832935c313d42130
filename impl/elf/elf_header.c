/*
 * First parsing stage: e_ident, the ELF header and the program headers.
 * Records every PT_LOAD (the vaddr to file offset map), PT_DYNAMIC, the
 * PT_NOTE ranges and PT_GNU_EH_FRAME, and rejects headers that a loader
 * could not use: wrong sizes, ranges outside the input, filesz > memsz.
 */
#include <elf.h>
#include <inttypes.h>

#include "elf_internal.h"

/* One program header, copied out of the input. */
struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz;
};

static int parse_ident(struct elf_image *img, struct elf_error *err)
{
    const uint8_t *d = img->data;

    if (img->size < EI_NIDENT)
        return elf_fail(err, "image is %zu bytes, shorter than the 16-byte e_ident", img->size);
    if (d[0] != 0x7f || d[1] != 'E' || d[2] != 'L' || d[3] != 'F')
        return elf_fail(err,
                        "e_ident magic at offset 0 is %02x %02x %02x %02x, not 7f 45 4c 46 "
                        "(\"\\177ELF\")",
                        d[0], d[1], d[2], d[3]);
    if (d[EI_CLASS] != ELFCLASS32 && d[EI_CLASS] != ELFCLASS64)
        return elf_fail(err,
                        "e_ident[EI_CLASS] at offset 4 is %u, not ELFCLASS32 (1) or ELFCLASS64 (2)",
                        d[EI_CLASS]);
    if (d[EI_DATA] != ELFDATA2LSB && d[EI_DATA] != ELFDATA2MSB)
        return elf_fail(
            err, "e_ident[EI_DATA] at offset 5 is %u, not ELFDATA2LSB (1) or ELFDATA2MSB (2)",
            d[EI_DATA]);
    if (d[EI_VERSION] != EV_CURRENT)
        return elf_fail(err, "e_ident[EI_VERSION] at offset 6 is %u, not EV_CURRENT (1)",
                        d[EI_VERSION]);
    img->elf_class = d[EI_CLASS];
    img->byte_order = d[EI_DATA];
    return 0;
}

static int parse_ehdr(struct elf_image *img, struct elf_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    bool is64 = r.is64;
    size_t ehsize = is64 ? 64 : 52;
    uint64_t need;

    if (img->size < ehsize)
        return elf_fail(err, "image is %zu bytes, shorter than the %zu-byte ELF%u header",
                        img->size, ehsize, is64 ? 64 : 32);
    /* Field offsets differ only after e_entry, whose width follows the class. */
    elf_read_u16(&r, 16, &img->type);
    elf_read_u16(&r, 18, &img->machine);
    elf_read_word(&r, 24, &img->entry);
    elf_read_word(&r, is64 ? 32 : 28, &img->phoff);
    elf_read_word(&r, is64 ? 40 : 32, &img->shoff);
    elf_read_u16(&r, is64 ? 54 : 42, &img->phentsize);
    elf_read_u16(&r, is64 ? 56 : 44, &img->phnum);
    elf_read_u16(&r, is64 ? 58 : 46, &img->shentsize);
    elf_read_u16(&r, is64 ? 60 : 48, &img->shnum);
    elf_read_u16(&r, is64 ? 62 : 50, &img->shstrndx);

    if (img->phnum == 0)
        return elf_fail(err, "e_phnum at offset 0x%x is 0: no program headers, so no PT_DYNAMIC",
                        is64 ? 56 : 44);
    if (img->phnum == 0xffff)
        return elf_fail(err, "e_phnum at offset 0x%x is PN_XNUM (0xffff), unsupported for a vDSO",
                        is64 ? 56 : 44);
    if (img->phentsize != (is64 ? 56 : 32))
        return elf_fail(err, "e_phentsize at offset 0x%x is %u, not %u for ELFCLASS%u",
                        is64 ? 54 : 42, img->phentsize, is64 ? 56 : 32, is64 ? 64 : 32);
    need = (uint64_t)img->phnum * img->phentsize;
    if (!elf_range_ok(&r, img->phoff, need))
        return elf_fail(err,
                        "program headers (e_phoff 0x%" PRIx64 ", %u x %u bytes) exceed the "
                        "%zu-byte image",
                        img->phoff, img->phnum, img->phentsize, img->size);
    return 0;
}

static void read_phdr(const struct elf_reader *r, uint64_t off, struct phdr *ph)
{
    elf_read_u32(r, off, &ph->type);
    if (r->is64) {
        elf_read_u32(r, off + 4, &ph->flags);
        elf_read_u64(r, off + 8, &ph->offset);
        elf_read_u64(r, off + 16, &ph->vaddr);
        elf_read_u64(r, off + 32, &ph->filesz);
        elf_read_u64(r, off + 40, &ph->memsz);
    } else {
        elf_read_word(r, off + 4, &ph->offset);
        elf_read_word(r, off + 8, &ph->vaddr);
        elf_read_word(r, off + 16, &ph->filesz);
        elf_read_word(r, off + 20, &ph->memsz);
        elf_read_u32(r, off + 24, &ph->flags);
    }
}

static int add_load(struct elf_image *img, unsigned i, const struct phdr *ph, struct elf_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    struct elf_load *l;

    if (img->nloads == ELF_MAX_LOADS)
        return elf_fail(err, "program header %u: more than %d PT_LOAD segments", i, ELF_MAX_LOADS);
    if (ph->filesz > ph->memsz)
        return elf_fail(err,
                        "program header %u (PT_LOAD): p_filesz 0x%" PRIx64
                        " is larger than p_memsz 0x%" PRIx64,
                        i, ph->filesz, ph->memsz);
    if (!elf_range_ok(&r, ph->offset, ph->filesz))
        return elf_fail(err,
                        "program header %u (PT_LOAD): file range p_offset 0x%" PRIx64
                        " + p_filesz 0x%" PRIx64 " exceeds the %zu-byte image",
                        i, ph->offset, ph->filesz, img->size);
    if (ph->vaddr + ph->memsz < ph->vaddr)
        return elf_fail(err,
                        "program header %u (PT_LOAD): p_vaddr 0x%" PRIx64 " + p_memsz 0x%" PRIx64
                        " wraps around",
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
                       struct elf_error *err)
{
    if (img->has_dynamic)
        return elf_fail(err, "program header %u: a second PT_DYNAMIC", i);
    img->has_dynamic = true;
    img->dyn_offset = ph->offset;
    img->dyn_vaddr = ph->vaddr;
    img->dyn_size = ph->filesz;
    return 0;
}

int elf_parse_header(struct elf_image *img, struct elf_error *err)
{
    struct elf_reader r;
    struct phdr ph = {0};

    if (parse_ident(img, err) || parse_ehdr(img, err))
        return -1;
    r = elf_image_reader(img);
    for (unsigned i = 0; i < img->phnum; i++) {
        read_phdr(&r, img->phoff + (uint64_t)i * img->phentsize, &ph);
        if (ph.type == PT_LOAD && add_load(img, i, &ph, err))
            return -1;
        if (ph.type == PT_DYNAMIC && add_dynamic(img, i, &ph, err))
            return -1;
        if (ph.type == PT_NOTE && img->nnotes < 4) {
            img->note_offset[img->nnotes] = ph.offset;
            img->note_size[img->nnotes++] = ph.filesz;
        }
        if (ph.type == PT_GNU_EH_FRAME)
            img->has_eh_frame_hdr = true;
    }
    if (img->nloads == 0)
        return elf_fail(err, "no PT_LOAD among the %u program headers", img->phnum);
    if (!img->has_dynamic)
        return elf_fail(err, "no PT_DYNAMIC among the %u program headers", img->phnum);
    return 0;
}
