/*
 * The loader's first step on its own: everything decided from an image's
 * bytes (the gate, the mapping plan, the alternatives applied to a heap
 * copy, the exports' offsets) without mapping anything. loader_load() runs
 * it first; the image fuzzer and the loader tests call it directly to
 * judge arbitrary bytes, so it is safe on any input.
 */
#ifndef VDSOKIT_LOADER_PREPARE_H
#define VDSOKIT_LOADER_PREPARE_H

#include <vdsokit/loader.h>

/* Everything decided from the bytes alone. */
struct loader_prepared {
    uint8_t *text;     /* heap copy of the PT_LOAD, zero-padded to text_len, patched */
    size_t image_size; /* PT_LOAD p_filesz: the bytes of the image */
    size_t text_len;   /* image_size rounded up to pages */
    size_t map_len;    /* six data pages + text_len: the one reservation */
    bool has_alt;      /* an .altinstructions section was found */
    uint64_t alt_offset, alt_len;
    const struct alt_layout *alt_layout; /* the era's entry layout (has_alt) */
    struct alt_report alt;
    uint64_t sym[LOADER_NSYMS]; /* offset in the text, or LOADER_SYM_ABSENT */
    bool has_linux_version;     /* the image's `Linux` note (PT_NOTE) names a version */
    uint32_t linux_version;     /* LINUX_VERSION_CODE; it picks the layout profile */
};

/*
 * Check bytes[0, size) as a runnable x86-64 vDSO image and build the plan.
 * Refused, with "<rule>: <finding>" in err: not ELF64 LSB ("class"), not
 * EM_X86_64 ("machine"), unparsable ("elf", e.g. no PT_DYNAMIC), and the
 * image checker's errors that make running unsafe ("type", "load-count",
 * "load-origin", "load-size", "load-congruent", "load-order",
 * "relocations", "alternatives"), a PT_LOAD without PF_X ("load-exec") or
 * with p_filesz 0 or above LOADER_MAX_TEXT ("text-size"), an export that is
 * not a function inside the text ("export"), and an image patched for a CPU
 * feature this one lacks ("alternatives"). Other checker errors (a missing
 * hash table or export) leave NULL entry points instead. Alternatives are
 * applied for cpu (NULL: this CPU). Returns 0, or -1; out is then empty.
 */
int loader_prepare(const void *bytes, size_t size, const struct alt_cpu *cpu,
                   struct loader_prepared *out, struct vdsokit_error *err);

/*
 * The same, judging the image as built for linux_version (a
 * LINUX_VERSION_CODE; 0: the image's `Linux` note), which chooses the
 * .altinstructions layout: a version whose layout does not fit the table is
 * refused with the field that does not decode.
 */
int loader_prepare_as(const void *bytes, size_t size, const struct alt_cpu *cpu,
                      uint32_t linux_version, struct loader_prepared *out,
                      struct vdsokit_error *err);
void loader_prepared_free(struct loader_prepared *p);

#endif /* VDSOKIT_LOADER_PREPARE_H */
