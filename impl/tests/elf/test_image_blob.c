/*
 * `vdsoimg c` round trip: the build ran it on the elfgen x86_64-both image
 * and compiled the result in; the blob must hold exactly the generated
 * bytes (page-aligned, zero-padded to a page multiple), the
 * .altinstructions range, and the offset of every exported symbol.
 */
#include <string.h>

#include <vdsokit/elf.h>
#include <vdsokit/image_blob.h>

#include "../check.h"
#include "elfgen.h"

extern const struct vdso_image_blob test_blob;

int main(void)
{
    struct elfgen_desc d;
    struct elfgen_out o;
    struct elf_image img;
    struct elf_sym s;
    char msg[160];
    uint64_t off;

    elfgen_matrix_desc(0, &d);
    if (elfgen_build(&d, &o, msg, sizeof(msg)) || elf_open(&img, o.data, o.size, NULL)) {
        CHECK(0, "cannot build/open the x86_64-both image: %s", msg);
        return check_finish();
    }
    CHECK_EQ_U64(test_blob.file_size, o.size);
    CHECK_EQ_U64(test_blob.size, (o.size + 4095) / 4096 * 4096);
    CHECK_EQ_U64((uintptr_t)test_blob.data % 4096, 0);
    CHECK(memcmp(test_blob.data, o.data, o.size) == 0, "blob bytes differ from the image");
    for (size_t i = o.size; i < test_blob.size; i++)
        CHECK(test_blob.data[i] == 0, "padding byte %zu is 0x%02x", i, test_blob.data[i]);
    CHECK_EQ_U64(test_blob.alt_len, 14 * d.nalt);
    CHECK(test_blob.alt > 0 && test_blob.alt + test_blob.alt_len <= o.size, "alt range");
    CHECK_EQ_U64(test_blob.nsyms, d.nsyms);
    for (size_t i = 0; i < test_blob.nsyms; i++) {
        const struct vdso_image_blob_sym *b = &test_blob.syms[i];
        CHECK(elf_lookup(&img, b->name, b->version, ELF_LOOKUP_SCAN, &s) == ELF_FOUND &&
                  elf_symbol_offset(&img, &s, &off) && off == b->offset,
              "blob symbol %s@%s at 0x%llx does not match the image", b->name,
              b->version ? b->version : "-", (unsigned long long)b->offset);
    }
    elfgen_free(&o);
    return check_finish();
}
