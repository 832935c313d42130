/*
 * The loader's first step, on bytes only: the gate that decides whether an
 * image can run safely in this process (the image checker's vdso2c rules
 * plus the class, machine, PF_X and size limits a user-space loader needs,
 * each refusal naming the rule), the heap copy of its text with the
 * alternatives applied for the chosen CPU, and the offsets of its exports.
 * Nothing here maps or executes anything, so it is what the image fuzzer
 * drives with arbitrary bytes.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include <vdsokit/abi.h>
#include <vdsokit/elf.h>
#include <vdsokit/elf_sections.h>
#include <vdsokit/imgcheck.h>
#include <vdsokit/loader_prepare.h>

const char *const loader_symbol_names[LOADER_NSYMS] = {
    "__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
    "__vdso_clock_getres",  "__vdso_getcpu",       "__vdso_getrandom",
};

/* Checker rules whose errors make an image unsafe to run here. */
static const char *const unsafe_rules[] = {
    "elf",        "type",        "load-count",   "load-origin", "load-size", "load-congruent",
    "load-order", "relocations", "alternatives",
};

static bool rule_is_unsafe(const char *rule)
{
    for (size_t i = 0; i < sizeof unsafe_rules / sizeof unsafe_rules[0]; i++)
        if (!strcmp(rule, unsafe_rules[i]))
            return true;
    return false;
}

/*
 * The identity a loader needs before anything else: checked on the raw
 * e_ident bytes, so a 32-bit or big-endian image is named as such rather
 * than as the parse error its fields give when read as ELF64 LSB.
 */
static int check_ident(const uint8_t *bytes, size_t size, struct vdsokit_error *err)
{
    if (size < EI_NIDENT || memcmp(bytes, ELFMAG, SELFMAG))
        return vdsokit_fail(err, "elf: no ELF magic in the first 4 of %zu bytes", size);
    if (bytes[EI_CLASS] != ELFCLASS64 || bytes[EI_DATA] != ELFDATA2LSB)
        return vdsokit_fail(err, "class: e_ident class %u, data %u; need ELFCLASS64 (2) LSB (1)",
                            bytes[EI_CLASS], bytes[EI_DATA]);
    return 0;
}

/* What the checker does not judge but running here needs. */
static int check_header(const struct elf_image *img, struct vdsokit_error *err)
{
    if (img->machine != EM_X86_64)
        return vdsokit_fail(err, "machine: e_machine %u (%s); need EM_X86_64 (62)", img->machine,
                            elf_machine_name(img->machine) ? elf_machine_name(img->machine)
                                                           : "unknown");
    return 0;
}

/*
 * The image checker's verdict: the first error of an unsafe rule refuses
 * the image. Other errors (a missing hash table or export) only make
 * lookups fail, which leaves a NULL entry point, not a hazard.
 */
static int check_image(const uint8_t *bytes, size_t size, uint32_t linux_version,
                       struct loader_prepared *p, struct vdsokit_error *err)
{
    const struct imgcheck_options opt = {.linux_version = linux_version};
    struct imgcheck_report *r = malloc(sizeof *r);
    int rc = 0;

    if (!r)
        return vdsokit_fail(err, "out of memory for the checker report");
    imgcheck_run_with(bytes, size, &opt, r);
    for (unsigned i = 0; i < r->count && !rc; i++)
        if (r->findings[i].severity == IMGCHECK_ERROR && rule_is_unsafe(r->findings[i].rule))
            rc = vdsokit_fail(err, "%s: %s", r->findings[i].rule, r->findings[i].text);
    if (!rc && r->has_alternatives) {
        p->has_alt = true;
        p->alt_offset = r->alt_offset;
        p->alt_len = r->alt_len;
        p->alt_layout = r->alt_layout;
    }
    free(r);
    return rc;
}

static int check_text(const struct elf_image *img, struct vdsokit_error *err)
{
    const struct elf_load *l = &img->loads[0];

    if (!(l->flags & PF_X))
        return vdsokit_fail(err, "load-exec: PT_LOAD p_flags 0x%x lacks PF_X", l->flags);
    if (l->filesz == 0 || l->filesz > LOADER_MAX_TEXT)
        return vdsokit_fail(err, "text-size: PT_LOAD p_filesz 0x%llx outside (0, 0x%x]",
                            (unsigned long long)l->filesz, LOADER_MAX_TEXT);
    if (!img->has_dynamic)
        return vdsokit_fail(err, "dynamic: no PT_DYNAMIC segment");
    return 0;
}

static int resolve_symbols(const struct elf_image *img, struct loader_prepared *p,
                           struct vdsokit_error *err)
{
    struct elf_sym sym;
    uint64_t off;

    for (unsigned i = 0; i < LOADER_NSYMS; i++) {
        p->sym[i] = LOADER_SYM_ABSENT;
        if (elf_lookup(img, loader_symbol_names[i], "LINUX_2.6", ELF_LOOKUP_AUTO, &sym) !=
            ELF_FOUND)
            continue;
        if (sym.type != STT_FUNC)
            return vdsokit_fail(err, "export: %s (symbol %u) has type %u, not STT_FUNC",
                                loader_symbol_names[i], sym.index, sym.type);
        if (!elf_symbol_offset(img, &sym, &off) || off >= p->image_size)
            return vdsokit_fail(err,
                                "export: %s (symbol %u): st_value 0x%llx lies outside the text",
                                loader_symbol_names[i], sym.index, (unsigned long long)sym.value);
        p->sym[i] = off;
    }
    return 0;
}

static int patch_copy(const uint8_t *bytes, struct loader_prepared *p, const struct alt_cpu *cpu,
                      struct vdsokit_error *err)
{
    struct alt_cpu here;
    struct vdsokit_error aerr;

    p->text = calloc(1, p->text_len);
    if (!p->text)
        return vdsokit_fail(err, "out of memory for a 0x%zx-byte text copy", p->text_len);
    memcpy(p->text, bytes, p->image_size);
    if (!p->has_alt)
        return 0;
    if (!cpu) {
        alt_cpu_detect(&here);
        cpu = &here;
    }
    if (alt_apply(p->alt_layout, bytes, p->text, p->image_size, p->alt_offset, p->alt_len, cpu,
                  &p->alt, &aerr))
        return vdsokit_fail(err, "alternatives: %s", aerr.msg);
    return 0;
}

/* The note's version, if any; a malformed note is the checker's business. */
static void read_version(const struct elf_image *img, struct loader_prepared *p)
{
    struct elf_notes notes;

    if (elf_notes_read(img, NULL, &notes, NULL) == 0 && notes.has_linux_version) {
        p->has_linux_version = true;
        p->linux_version = notes.linux_version;
    }
}

static int prepare(const uint8_t *bytes, size_t size, const struct alt_cpu *cpu,
                   uint32_t linux_version, struct loader_prepared *p, struct vdsokit_error *err)
{
    struct elf_image img;
    struct vdsokit_error eerr;

    if (check_ident(bytes, size, err))
        return -1;
    if (elf_open(&img, bytes, size, &eerr))
        return vdsokit_fail(err, "elf: unreadable: %s", eerr.msg);
    if (check_header(&img, err) || check_image(bytes, size, linux_version, p, err) ||
        check_text(&img, err))
        return -1;
    p->image_size = (size_t)img.loads[0].filesz;
    p->text_len = (p->image_size + VDSO_PAGE_SIZE - 1) & ~(size_t)(VDSO_PAGE_SIZE - 1);
    p->map_len = VDSO_DATA_PAGES * (size_t)VDSO_PAGE_SIZE + p->text_len;
    if (resolve_symbols(&img, p, err))
        return -1;
    read_version(&img, p);
    return patch_copy(bytes, p, cpu, err);
}

int loader_prepare(const void *bytes, size_t size, const struct alt_cpu *cpu,
                   struct loader_prepared *out, struct vdsokit_error *err)
{
    return loader_prepare_as(bytes, size, cpu, 0, out, err);
}

int loader_prepare_as(const void *bytes, size_t size, const struct alt_cpu *cpu,
                      uint32_t linux_version, struct loader_prepared *out,
                      struct vdsokit_error *err)
{
    memset(out, 0, sizeof *out);
    if (prepare(bytes, size, cpu, linux_version, out, err) == 0)
        return 0;
    loader_prepared_free(out);
    return -1;
}

void loader_prepared_free(struct loader_prepared *p)
{
    free(p->text);
    memset(p, 0, sizeof *p);
}
