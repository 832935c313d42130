/*
 * fuzz_image: the image checker and the loader's preparation step (gate
 * checks, mapping plan, alternatives patched on a private copy, symbol
 * table) on arbitrary bytes. Nothing fuzzed is ever mapped or executed.
 * Invariants:
 *  - the checker's report is well-formed (counts add up, every finding has a
 *    rule and a sentence, an unreadable image has an error saying why, a
 *    reported .altinstructions range lies inside the input);
 *  - the input is never written; preparation is a pure function of it;
 *  - an accepted image meets the documented gate, checked here through the
 *    resolver: ELF64 LSB x86-64 ET_DYN, exactly one executable PT_LOAD at
 *    offset 0 and vaddr 0 with memsz == filesz, PT_DYNAMIC, no relocations;
 *  - the plan adds up (text = image rounded to pages, six data pages in
 *    front), the text copy is zero past the image, and differs from the
 *    input only inside the instruction sites its alternatives name;
 *  - every resolved export is the resolver's LINUX_2.6 FUNC symbol and lies
 *    inside the text;
 *  - patching is idempotent: preparing the patched text again gives the
 *    same bytes (what loading a live, already patched dump relies on).
 * The CPU to patch for is taken from the last input byte, so every feature
 * combination is exercised whatever the host has; so is the version the
 * image is judged as (its note, or one of each .altinstructions era).
 */
#include "fuzz_common.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include <vdsokit/abi.h>
#include <vdsokit/altpatch.h>
#include <vdsokit/elf.h>
#include <vdsokit/imgcheck.h>
#include <vdsokit/loader.h>
#include <vdsokit/loader_prepare.h>

static struct imgcheck_report report; /* large: not on the stack */

static void check_report(int rc, size_t size)
{
    unsigned errors = 0, warnings = 0;

    FUZZ_ASSERT(report.count <= IMGCHECK_MAX_FINDINGS, "%u findings", report.count);
    for (unsigned i = 0; i < report.count; i++) {
        const struct imgcheck_finding *f = &report.findings[i];
        FUZZ_ASSERT(f->rule && f->rule[0] && f->text[0] && memchr(f->text, 0, sizeof(f->text)),
                    "finding %u has no rule or sentence", i);
        errors += f->severity == IMGCHECK_ERROR;
        warnings += f->severity == IMGCHECK_WARNING;
    }
    /* The totals count every finding; past IMGCHECK_MAX_FINDINGS the list
     * stops (truncated) but the totals go on, so has_errors stays right. */
    FUZZ_ASSERT(!report.truncated || report.count == IMGCHECK_MAX_FINDINGS,
                "truncated with %u findings stored", report.count);
    FUZZ_ASSERT(report.truncated ? errors <= report.errors && warnings <= report.warnings
                                 : errors == report.errors && warnings == report.warnings,
                "counted %u errors/%u warnings, report says %u/%u%s", errors, warnings,
                report.errors, report.warnings, report.truncated ? " (truncated)" : "");
    FUZZ_ASSERT(rc == 0 || (rc == -1 && report.errors >= 1), "rc %d with %u errors", rc,
                report.errors);
    if (report.has_alternatives)
        FUZZ_ASSERT(report.alt_offset <= size && report.alt_len <= size - report.alt_offset,
                    ".altinstructions [0x%llx, +0x%llx) outside the %zu-byte input",
                    (unsigned long long)report.alt_offset, (unsigned long long)report.alt_len,
                    size);
}

static void check_gate(const uint8_t *bytes, size_t size)
{
    const uint32_t reloc = ELF_DYN_REL | ELF_DYN_RELA | ELF_DYN_JMPREL | ELF_DYN_TEXTREL;
    struct elf_image img;
    struct vdsokit_error err;

    FUZZ_ASSERT(elf_open(&img, bytes, size, &err) == 0, "accepted, resolver refuses: %s", err.msg);
    FUZZ_ASSERT(img.elf_class == ELFCLASS64 && img.byte_order == ELFDATA2LSB &&
                    img.machine == EM_X86_64 && img.type == ET_DYN,
                "accepted class %u order %u machine %u type %u", img.elf_class, img.byte_order,
                img.machine, img.type);
    FUZZ_ASSERT(img.nloads == 1 && img.loads[0].offset == 0 && img.loads[0].vaddr == 0 &&
                    img.loads[0].memsz == img.loads[0].filesz && (img.loads[0].flags & PF_X),
                "accepted PT_LOAD layout: %u loads, first off 0x%llx vaddr 0x%llx flags 0x%x",
                img.nloads, (unsigned long long)img.loads[0].offset,
                (unsigned long long)img.loads[0].vaddr, img.loads[0].flags);
    FUZZ_ASSERT(img.has_dynamic && !(img.dyn_present & reloc), "accepted dynamic 0x%x",
                img.dyn_present);
}

/* Bytes outside every instruction site must be the input's. */
static void check_patch_sites(const uint8_t *bytes, const struct loader_prepared *p)
{
    uint8_t *in_site = calloc(1, p->image_size);
    struct alt_entry e;
    struct vdsokit_error err;

    FUZZ_ASSERT(in_site != NULL, "out of memory");
    for (unsigned i = 0; p->has_alt && alt_entry_read(p->alt_layout, bytes, p->image_size,
                                                      p->alt_offset, p->alt_len, i, &e, &err) == 0;
         i++)
        memset(in_site + e.site, 1, e.site_len);
    for (size_t k = 0; k < p->image_size; k++)
        FUZZ_ASSERT(in_site[k] || p->text[k] == bytes[k], "byte 0x%zx patched outside any site", k);
    for (size_t k = p->image_size; k < p->text_len; k++)
        FUZZ_ASSERT(p->text[k] == 0, "text padding byte 0x%zx is 0x%02x", k, p->text[k]);
    free(in_site);
}

static void check_symbols(const uint8_t *bytes, size_t size, const struct loader_prepared *p)
{
    struct elf_image img;
    struct elf_sym sym;
    uint64_t off;

    FUZZ_ASSERT(elf_open(&img, bytes, size, NULL) == 0, "resolver refuses an accepted image");
    for (unsigned i = 0; i < LOADER_NSYMS; i++) {
        if (p->sym[i] == LOADER_SYM_ABSENT)
            continue;
        FUZZ_ASSERT(p->sym[i] < p->image_size, "%s at 0x%llx outside the 0x%zx-byte text",
                    loader_symbol_names[i], (unsigned long long)p->sym[i], p->image_size);
        FUZZ_ASSERT(elf_lookup(&img, loader_symbol_names[i], "LINUX_2.6", ELF_LOOKUP_AUTO, &sym) ==
                            ELF_FOUND &&
                        sym.type == 2 && elf_symbol_offset(&img, &sym, &off) && off == p->sym[i],
                    "%s: loader says 0x%llx, the resolver disagrees", loader_symbol_names[i],
                    (unsigned long long)p->sym[i]);
    }
}

static void check_prepared(const uint8_t *bytes, size_t size, const struct loader_prepared *p,
                           const struct alt_cpu *cpu, uint32_t version)
{
    struct loader_prepared again;
    struct vdsokit_error err;

    FUZZ_ASSERT(p->image_size > 0 && p->image_size <= size && p->image_size <= LOADER_MAX_TEXT,
                "image size 0x%zx of a %zu-byte input", p->image_size, size);
    FUZZ_ASSERT(p->text_len ==
                        ((p->image_size + VDSO_PAGE_SIZE - 1) & ~(size_t)(VDSO_PAGE_SIZE - 1)) &&
                    p->map_len == VDSO_DATA_PAGES * VDSO_PAGE_SIZE + p->text_len,
                "plan: image 0x%zx text 0x%zx map 0x%zx", p->image_size, p->text_len, p->map_len);
    FUZZ_ASSERT(p->alt.applied + p->alt.skipped_absent + p->alt.skipped_unknown <= p->alt.entries,
                "alternatives report %u applied, %u absent, %u unknown of %u", p->alt.applied,
                p->alt.skipped_absent, p->alt.skipped_unknown, p->alt.entries);
    check_gate(bytes, size);
    check_patch_sites(bytes, p);
    check_symbols(bytes, size, p);
    /* The patched image, prepared again, must come out unchanged. */
    FUZZ_ASSERT(!p->has_alt || p->alt_layout, "alternatives accepted without a layout");
    if (loader_prepare_as(p->text, p->image_size, cpu, version, &again, &err) == 0) {
        FUZZ_ASSERT(again.image_size == p->image_size &&
                        memcmp(again.text, p->text, p->image_size) == 0,
                    "patching the patched text changed it");
        loader_prepared_free(&again);
    }
}

/* Bits 3-4 of the last byte: the image's note, or a version of each alternatives era. */
static uint32_t version_from(uint8_t b)
{
    static const uint32_t versions[4] = {0, 0x0601c0, 0x061100, 0};

    return versions[b >> 3 & 3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct imgcheck_options opt;
    struct alt_cpu cpu;
    struct loader_prepared p;
    struct vdsokit_error err;
    uint8_t *copy;
    int rc;

    if (size == 0)
        return 0;
    copy = fuzz_copy_input(data, size);
    cpu = (struct alt_cpu){.rdtscp = data[size - 1] & 1,
                           .rdpid = data[size - 1] >> 1 & 1,
                           .lfence_rdtsc = data[size - 1] >> 2 & 1};
    opt = (struct imgcheck_options){.linux_version = version_from(data[size - 1])};
    rc = imgcheck_run_with(copy, size, &opt, &report);
    check_report(rc, size);
    if (loader_prepare_as(copy, size, &cpu, opt.linux_version, &p, &err) == 0) {
        check_prepared(copy, size, &p, &cpu, opt.linux_version);
        loader_prepared_free(&p);
    } else {
        FUZZ_ASSERT(err.msg[0] && memchr(err.msg, 0, sizeof(err.msg)), "refused without a reason");
    }
    FUZZ_ASSERT(memcmp(copy, data, size) == 0, "the input bytes were written");
    free(copy);
    return 0;
}
