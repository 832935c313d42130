/*
 * Bad input: every prefix of the live vDSO (0 .. size bytes), and images
 * (the live one and generated ones of each class and byte order) with each
 * header field, table pointer, count, index and offset set to 0, to the
 * image size, past it and to all-ones. Each must be rejected with an error
 * or parse into something that every reader (symbols, the three lookups,
 * sections, notes, the checker) handles without a fault, and whose found
 * symbols carry the name that was asked for. Run under ASan+UBSan in the
 * asan preset.
 */
#include <elf.h>
#include <stdlib.h>

#include <vdsokit/elf.h>
#include <vdsokit/elf_sections.h>
#include <vdsokit/imgcheck.h>

#include "../check.h"
#include "elfgen.h"
#include "live_image.h"

static unsigned accepted, rejected;
static struct imgcheck_report report;

static const char *const names[] = {"__vdso_clock_gettime",   "__vdso_time",
                                    "__vdso_getcpu",          "clock_gettime",
                                    "__kernel_clock_gettime", "LINUX_2.6"};

static void exercise(const char *label, const struct elf_image *img)
{
    struct elf_sym s;
    struct elf_sections secs;
    struct elf_notes notes;

    for (uint32_t i = 0; i < img->nsyms; i++)
        (void)elf_symbol(img, i, &s, NULL);
    for (unsigned n = 0; n < sizeof(names) / sizeof(names[0]); n++)
        for (int p = ELF_LOOKUP_AUTO; p <= ELF_LOOKUP_SCAN; p++)
            if (elf_lookup(img, names[n], p & 1 ? "LINUX_2.6" : NULL, p, &s) == ELF_FOUND)
                CHECK(s.index < img->nsyms && strcmp(s.name, names[n]) == 0,
                      "%s: lookup %s found index %u named %s", label, names[n], s.index, s.name);
    if (elf_sections_open(&secs, img, NULL) == 0) {
        struct elf_section sec;
        for (uint32_t i = 0; i < secs.count; i++)
            (void)elf_section_get(&secs, i, &sec, NULL);
        (void)elf_notes_read(img, &secs, &notes, NULL);
    }
}

/* Parse an exact-size copy, so that ASan sees any read past the end. */
static void try_image(const char *label, const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    struct elf_image img;
    struct vdsokit_error err;

    memcpy(copy, data, len);
    if (elf_open(&img, copy, len, &err) == 0) {
        accepted++;
        exercise(label, &img);
    } else {
        rejected++;
        CHECK(err.msg[0] != '\0', "%s: rejected without a message", label);
    }
    (void)imgcheck_run(copy, len, &report);
    free(copy);
}

static void put(uint8_t *b, uint64_t off, unsigned width, uint64_t v, bool msb)
{
    for (unsigned i = 0; i < width; i++)
        b[off + (msb ? width - 1 - i : i)] = (uint8_t)(v >> (8 * i));
}

struct field {
    uint64_t off;
    unsigned width;
};

/* Where the interesting fields of a parsed image are. */
static unsigned collect_fields(const struct elf_image *img, struct field *f, unsigned max)
{
    unsigned n = 0, w = img->elf_class == 2 ? 8 : 4;
    bool is64 = w == 8;
#define ADD(o, wd)                              \
    do {                                        \
        if (n < max)                            \
            f[n++] = (struct field){(o), (wd)}; \
    } while (0)

    ADD(is64 ? 32 : 28, w); /* e_phoff */
    ADD(is64 ? 40 : 32, w); /* e_shoff */
    for (unsigned k = 0; k < 6; k++)
        ADD((is64 ? 54 : 42) + 2 * k, 2); /* phentsize .. shstrndx */
    for (unsigned i = 0; i < img->phnum; i++) {
        uint64_t p = img->phoff + (uint64_t)i * img->phentsize;
        ADD(p, 4); /* p_type */
        for (unsigned k = 0; k < 4; k++)
            ADD(is64 ? p + 8 + 8 * k : p + 4 + 4 * k, w); /* offset vaddr paddr filesz */
        ADD(is64 ? p + 40 : p + 20, w);                   /* memsz */
    }
    for (uint64_t i = 0; i <= img->dyn_count; i++) {
        ADD(img->dyn_offset + i * 2 * w, w);
        ADD(img->dyn_offset + i * 2 * w + w, w);
    }
    if (img->dyn_present & ELF_DYN_HASH)
        for (unsigned k = 0; k < 4; k++)
            ADD(img->hash + k * img->hash_entsize, img->hash_entsize);
    if (img->dyn_present & ELF_DYN_GNU_HASH) {
        for (unsigned k = 0; k < 4; k++)
            ADD(img->gnu_hash + 4 * k, 4);
        ADD(img->gnu_buckets, 4);
        ADD(img->gnu_chains, 4);
    }
    for (unsigned i = 0; i < img->nverdefs && img->verdef; i++) {
        for (unsigned k = 0; k < 4; k++)
            ADD(img->verdef + 28 * i + 2 * k, 2);
        for (unsigned k = 0; k < 3; k++)
            ADD(img->verdef + 28 * i + 8 + 4 * k, 4);
        ADD(img->verdef + 28 * i + 20, 4);
    }
    for (uint32_t i = 1; i < img->nsyms && i < 4; i++) {
        uint64_t s = img->symtab + i * img->syment;
        ADD(s, 4);
        ADD(is64 ? s + 6 : s + 14, 2);
        ADD(is64 ? s + 8 : s + 4, w);
        if (img->dyn_present & ELF_DYN_VERSYM)
            ADD(img->versym + 2 * i, 2);
    }
    return n;
#undef ADD
}

static void mutate_all(const char *label, const uint8_t *data, size_t size)
{
    struct elf_image img;
    struct vdsokit_error err;
    struct field fields[256];
    uint8_t *b = malloc(size);
    unsigned n;

    if (elf_open(&img, data, size, &err)) {
        CHECK(0, "%s: pristine image rejected: %s", label, err.msg);
        free(b);
        return;
    }
    n = collect_fields(&img, fields, 256);
    for (unsigned i = 0; i < n; i++) {
        const uint64_t values[] = {0, size, size + 1, 0xffffffffull, ~0ull, 1, 0x7fff, 0x8000};
        if (fields[i].off + fields[i].width > size)
            continue;
        for (unsigned v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
            memcpy(b, data, size);
            put(b, fields[i].off, fields[i].width, values[v], img.byte_order == 2);
            try_image(label, b, size);
        }
    }
    printf("%s: %u fields x 8 values mutated\n", label, n);
    free(b);
}

/* e_phoff 0 is the gABI's "no program header table", even with e_phnum set:
 * rejected by name (reading the headers at offset 0 was a fuzz_elf_libelf
 * divergence: libelf reads none there). */
static void phoff_zero(void)
{
    struct elfgen_desc d;
    struct elfgen_out o;
    struct elf_image img;
    struct vdsokit_error err;
    char msg[160];

    elfgen_matrix_desc(0, &d);
    CHECK(elfgen_build(&d, &o, msg, sizeof(msg)) == 0, "elfgen: %s", msg);
    put(o.data, o.data[4] == 2 ? 32 : 28, o.data[4] == 2 ? 8 : 4, 0, o.data[5] == 2);
    CHECK(elf_open(&img, o.data, o.size, &err) == -1 && strstr(err.msg, "e_phoff") != NULL,
          "e_phoff 0: %s", err.msg);
    elfgen_free(&o);
}

int main(void)
{
    size_t size;
    const uint8_t *live = live_image(&size);
    uint8_t *copy;

    if (live) {
        copy = malloc(size);
        memcpy(copy, live, size);
        for (size_t len = 0; len <= size; len++)
            try_image("live prefix", copy, len);
        printf("live: %zu prefixes, %u accepted, %u rejected\n", size + 1, accepted, rejected);
        CHECK(accepted > 0 && rejected > 0, "prefixes: %u accepted, %u rejected", accepted,
              rejected);
        mutate_all("live", copy, size);
        free(copy);
    } else {
        printf("no live vDSO: prefixes skipped\n");
    }
    for (unsigned i = 0; i < elfgen_matrix_count(); i++) {
        struct elfgen_desc d;
        struct elfgen_out o;
        char msg[160];
        elfgen_matrix_desc(i, &d);
        if (elfgen_build(&d, &o, msg, sizeof(msg)) == 0) {
            mutate_all(elfgen_matrix_name(i), o.data, o.size);
            elfgen_free(&o);
        }
    }
    phoff_zero();
    printf("total: %u accepted, %u rejected\n", accepted, rejected);
    return check_finish();
}
