/*
 * The image's "Linux" ELF note of type 0: the LINUX_VERSION_CODE of the
 * kernel whose vDSO ABI the image implements (6.18.0, or the era's version
 * it is built for, vdso_era.h). Loaders and the image checker read it to
 * pick the data-page layout and the alternatives format.
 */
#include <stdint.h>

#include "vdso_era.h"

/* The kernel's version note has type 0, a number <elf.h> gives no name. */
#define VDSO_NOTE_LINUX_VERSION 0

struct vdso_linux_note {
    uint32_t namesz;
    uint32_t descsz;
    uint32_t type;
    char name[8]; /* "Linux\0" padded to 4 bytes */
    uint32_t version;
};

__attribute__((section(".note.Linux"), aligned(4),
               used)) static const struct vdso_linux_note vdso_linux_note = {
    .namesz = sizeof("Linux"),
    .descsz = sizeof(uint32_t),
    .type = VDSO_NOTE_LINUX_VERSION,
    .name = "Linux",
    .version = VDSO_LINUX_VERSION_CODE,
};
