/*
 * The section view of an ELF image, a second reader separate from the
 * resolver's execution view: section headers and their names, the static
 * symbol table (.symtab) when present, and notes from both SHT_NOTE
 * sections and PT_NOTE segments (the `Linux` type 0 kernel version note,
 * the GNU build id). `vdsoimg info` and the image checker use it; loading
 * and symbol lookup never do, because a vDSO's section table need not be
 * right. It reads through the same bounds-checked readers.
 */
#ifndef VDSOKIT_ELF_SECTIONS_H
#define VDSOKIT_ELF_SECTIONS_H

#include <vdsokit/elf.h>

struct elf_section {
    uint32_t index;
    const char *name; /* "" when the image has no section name table */
    uint32_t type;    /* SHT_* */
    uint64_t flags, addr, offset, size;
    uint32_t link, info;
    uint64_t addralign, entsize;
};

struct elf_sections {
    const struct elf_image *img;
    uint32_t count; /* 0 when the image has no section headers */
    uint64_t shstr_offset, shstr_size;
    bool has_names;
};

/*
 * Open the section header table described by img's e_shoff/e_shnum.
 * An image without section headers opens with count 0. Returns 0, or -1
 * with err filled when the table or its name section lies outside the image.
 */
int elf_sections_open(struct elf_sections *s, const struct elf_image *img,
                      struct vdsokit_error *err);

/* Read section `index` (0 .. count-1). Returns 0 or -1 with err filled. */
int elf_section_get(const struct elf_sections *s, uint32_t index, struct elf_section *out,
                    struct vdsokit_error *err);

/* The first section named `name` whose header reads cleanly; false if none. */
bool elf_section_by_name(const struct elf_sections *s, const char *name, struct elf_section *out);

/* The static symbol table (SHT_SYMTAB) and its linked string table. */
struct elf_symtab {
    const struct elf_image *img;
    uint64_t offset, count, strtab, strsz;
};

/* Returns 1 when there is no .symtab, 0 when opened, -1 with err on bad bounds. */
int elf_symtab_open(struct elf_symtab *t, const struct elf_sections *s, struct vdsokit_error *err);

#define ELF_MAX_NOTES      32
#define ELF_NOTE_OWNER_MAX 32

struct elf_note {
    char owner[ELF_NOTE_OWNER_MAX]; /* NUL-terminated copy, truncated if longer */
    uint32_t type;
    uint64_t offset;                 /* of the note header */
    uint64_t desc_offset, desc_size; /* descriptor bytes inside the image */
};

struct elf_notes {
    unsigned count;
    struct elf_note notes[ELF_MAX_NOTES];
    bool has_linux_version;
    uint32_t linux_version; /* LINUX_VERSION_CODE: (major << 16) | (minor << 8) | patch */
    bool has_build_id;
    uint64_t build_id_offset;
    uint32_t build_id_size;
};

/*
 * Collect the notes of every PT_NOTE segment and (when secs is not NULL)
 * every SHT_NOTE section, each note once. Entries are padded to 4 bytes.
 * Returns 0, or -1 with err filled when a note runs past its container.
 */
int elf_notes_read(const struct elf_image *img, const struct elf_sections *secs,
                   struct elf_notes *out, struct vdsokit_error *err);

/* "6.18.44" for a LINUX_VERSION_CODE, into buf (at least 16 bytes). */
void elf_linux_version_format(uint32_t code, char *buf, size_t len);

#endif /* VDSOKIT_ELF_SECTIONS_H */
