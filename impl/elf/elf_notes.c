/*
 * Notes from PT_NOTE segments and SHT_NOTE sections, each note once (the
 * two views usually describe the same bytes). Recognises the `Linux` note
 * of type 0 (LINUX_VERSION_CODE, which tells the kernel version a vDSO was
 * built for) and the GNU build id (type 3).
 */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <vdsokit/elf_sections.h>

#include "elf_internal.h"

/* The `Linux` note that carries LINUX_VERSION_CODE (the kernel's ELFNOTE(Linux, 0, ...)). */
#define NOTE_LINUX_VERSION 0

static uint64_t pad4(uint64_t n)
{
    return (n + 3) & ~(uint64_t)3;
}

static bool seen_before(const struct elf_notes *out, uint64_t offset)
{
    for (unsigned i = 0; i < out->count; i++)
        if (out->notes[i].offset == offset)
            return true;
    return false;
}

static void recognise(const struct elf_reader *r, struct elf_notes *out, const struct elf_note *n)
{
    if (strcmp(n->owner, "Linux") == 0 && n->type == NOTE_LINUX_VERSION && n->desc_size == 4) {
        out->has_linux_version = elf_read_u32(r, n->desc_offset, &out->linux_version);
    } else if (strcmp(n->owner, "GNU") == 0 && n->type == NT_GNU_BUILD_ID && !out->has_build_id) {
        out->has_build_id = true;
        out->build_id_offset = n->desc_offset;
        out->build_id_size = (uint32_t)n->desc_size;
    }
}

/* A note header at off whose named owner (NUL-terminated) and desc fit before end. */
static bool note_fits(const struct elf_reader *r, const struct elf_image *img, uint64_t off,
                      uint64_t end)
{
    uint32_t namesz = 0, descsz = 0;

    if (end - off < 12 || !elf_read_u32(r, off, &namesz) || !elf_read_u32(r, off + 4, &descsz))
        return false;
    uint64_t name_off = off + 12;
    return namesz > 0 && pad4(namesz) <= end - name_off &&
           pad4(descsz) <= end - name_off - pad4(namesz) && img->data[name_off + namesz - 1] == 0;
}

/*
 * A note area linked from 4- and 8-aligned inputs has zero padding before
 * each 8-aligned note (riscv's CFI vDSO: a GNU property note after the
 * build id): four zero bytes at an offset 4 mod 8, followed by a whole
 * note, are that padding, not a nameless note.
 */
static uint64_t skip_padding(const struct elf_reader *r, const struct elf_image *img, uint64_t off,
                             uint64_t end)
{
    uint32_t word = 1;

    if ((off & 7) == 4 && end - off >= 16 && elf_read_u32(r, off, &word) && word == 0 &&
        note_fits(r, img, off + 4, end))
        return off + 4;
    return off;
}

/* Parse the notes in file range [off, off+size). */
static int read_range(const struct elf_image *img, uint64_t off, uint64_t size,
                      struct elf_notes *out, struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    uint64_t end = off + size;
    uint32_t namesz = 0, descsz = 0, type = 0;

    if (!elf_range_ok(&r, off, size))
        return vdsokit_fail(err, "note range 0x%" PRIx64 " + 0x%" PRIx64 " exceeds the image", off,
                            size);
    while (end - off >= 12) {
        off = skip_padding(&r, img, off, end);
        elf_read_u32(&r, off, &namesz);
        elf_read_u32(&r, off + 4, &descsz);
        elf_read_u32(&r, off + 8, &type);
        uint64_t name_off = off + 12, desc_off = name_off + pad4(namesz);
        if (pad4(namesz) > end - name_off || pad4(descsz) > end - desc_off)
            return vdsokit_fail(err,
                                "note at offset 0x%" PRIx64 ": namesz %u + descsz %u run past the "
                                "note area end 0x%" PRIx64,
                                off, namesz, descsz, end);
        if (!seen_before(out, off)) {
            if (out->count == ELF_MAX_NOTES)
                return vdsokit_fail(err, "more than %d notes", ELF_MAX_NOTES);
            struct elf_note *n = &out->notes[out->count++];
            size_t copy = namesz < sizeof(n->owner) ? namesz : sizeof(n->owner) - 1;
            memcpy(n->owner, img->data + name_off, copy);
            n->owner[copy] = '\0';
            n->type = type;
            n->offset = off;
            n->desc_offset = desc_off;
            n->desc_size = descsz;
            recognise(&r, out, n);
        }
        off = desc_off + pad4(descsz);
    }
    return 0;
}

int elf_notes_read(const struct elf_image *img, const struct elf_sections *secs,
                   struct elf_notes *out, struct vdsokit_error *err)
{
    struct elf_section sec;

    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < img->nnotes; i++)
        if (read_range(img, img->note_offset[i], img->note_size[i], out, err))
            return -1;
    for (uint32_t i = 1; secs && i < secs->count; i++) {
        if (elf_section_get(secs, i, &sec, NULL) || sec.type != SHT_NOTE)
            continue;
        if (read_range(img, sec.offset, sec.size, out, err))
            return -1;
    }
    return 0;
}

void elf_linux_version_format(uint32_t code, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u", code >> 16, (code >> 8) & 0xff, code & 0xff);
}
