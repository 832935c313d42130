/*
 * The eras of the x86 struct alt_instr (docs/abi.md §4.3): one row per
 * era, found from an image's LINUX_VERSION_CODE or, for an image without a
 * `Linux` note, inferred from its table. The checker and the patcher
 * (altpatch.h) read entries through a row, never through a fixed struct.
 */
#ifndef VDSOKIT_ALT_LAYOUT_H
#define VDSOKIT_ALT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include <vdsokit/error.h>

/*
 * How one kernel era stores struct alt_instr. Every era has s32 site and
 * replacement offsets (each relative to its own field) at 0 and 4, a
 * feature word at 8 and the two u8 lengths closing the entry; they differ
 * in the width of the feature word, where its flags start and how the
 * kernel numbers the features the vDSO uses. i386 images use the same
 * struct (no field depends on the pointer width).
 */
struct alt_layout {
    const char *name;     /* "x86-6.1", "x86-6.3": the first kernel of the era */
    const char *what;     /* one line for reports */
    uint32_t first, last; /* LINUX_VERSION_CODEs covered, inclusive */
    uint8_t entry_size;   /* bytes per entry */
    uint8_t word_size;    /* bytes of the feature word at offset 8: 2 or 4 */
    uint8_t flags_shift;  /* word >> flags_shift are the flags, the bits below the feature */
    uint16_t rdtscp, rdpid, lfence_rdtsc; /* this era's X86_FEATURE_* numbers */
};

/* The eras, oldest first. */
const struct alt_layout *alt_layouts(unsigned *count);

/* The era of a LINUX_VERSION_CODE, or NULL when no row covers it. */
const struct alt_layout *alt_layout_for_version(uint32_t linux_version);

/*
 * The one layout under which every entry of the table decodes (an image
 * without a `Linux` note). Returns 0, or -1 with err saying why: no layout
 * decodes (with the newest one's first complaint) or more than one does.
 */
int alt_layout_infer(const uint8_t *image, size_t size, uint64_t table, uint64_t table_len,
                     const struct alt_layout **out, struct vdsokit_error *err);

/* A version such as "6.1", "6.12.117" or "0x060c75" as a LINUX_VERSION_CODE; 0 if malformed. */
uint32_t alt_parse_version(const char *s);

#endif /* VDSOKIT_ALT_LAYOUT_H */
