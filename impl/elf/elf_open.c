/*
 * elf_open(): runs the four parsing stages over untrusted bytes, and the
 * vaddr to file offset map that every stage and every consumer uses. A
 * range maps only when it lies wholly inside one PT_LOAD's file bytes
 * (filesz, not memsz: bytes past filesz are not in the image).
 */
#include <string.h>

#include "elf_internal.h"

int elf_open(struct elf_image *img, const void *data, size_t size, struct elf_error *err)
{
    struct elf_table_limits lim = {0};

    memset(img, 0, offsetof(struct elf_image, verdefs));
    img->data = data;
    img->size = data ? size : 0;
    if (elf_parse_header(img, err) || elf_parse_dynamic(img, &lim, err) ||
        elf_parse_hash_tables(img, &lim, err) || elf_parse_versions(img, &lim, err))
        return -1;
    return 0;
}

bool elf_map_vaddr(const struct elf_image *img, uint64_t vaddr, uint64_t len, uint64_t *offset,
                   uint64_t *segment_end)
{
    for (unsigned i = 0; i < img->nloads; i++) {
        const struct elf_load *l = &img->loads[i];
        if (vaddr < l->vaddr || vaddr - l->vaddr > l->filesz ||
            len > l->filesz - (vaddr - l->vaddr))
            continue;
        *offset = l->offset + (vaddr - l->vaddr);
        *segment_end = l->offset + l->filesz;
        return true;
    }
    return false;
}

bool elf_vaddr_to_offset(const struct elf_image *img, uint64_t vaddr, uint64_t len,
                         uint64_t *offset)
{
    uint64_t end;

    return elf_map_vaddr(img, vaddr, len, offset, &end);
}

bool elf_symbol_offset(const struct elf_image *img, const struct elf_sym *sym, uint64_t *offset)
{
    for (unsigned i = 0; i < img->nloads; i++) {
        const struct elf_load *l = &img->loads[i];
        if (sym->value >= l->vaddr && sym->value - l->vaddr < l->memsz) {
            *offset = l->offset + (sym->value - l->vaddr);
            return true;
        }
    }
    return false;
}
