/*
 * An embedded vDSO image as `vdsoimg c` emits it (the vdso2c analogue):
 * the bytes in a page-aligned array whose length is rounded up to 4096,
 * the file size, the .altinstructions range and the image offsets of the
 * exported symbols. The build compiles such a file for the reference image.
 */
#ifndef VDSOKIT_IMAGE_BLOB_H
#define VDSOKIT_IMAGE_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct vdso_image_blob_sym {
    const char *name;
    const char *version; /* NULL when unversioned */
    uint64_t offset;     /* from the image start, as mapped from file offset 0 */
};

struct vdso_image_blob {
    const uint8_t *data;
    size_t size;           /* array length: file_size rounded up to 4096 */
    size_t file_size;      /* bytes of the ELF file; the rest is zero */
    uint64_t alt, alt_len; /* .altinstructions file offset and length (0, 0 if none) */
    size_t nsyms;
    const struct vdso_image_blob_sym *syms;
};

#endif /* VDSOKIT_IMAGE_BLOB_H */
