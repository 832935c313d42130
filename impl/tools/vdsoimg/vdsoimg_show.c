/*
 * vdsoimg symbols, info and check: read an image and print what a
 * consumer sees, a summary of its properties, or the checker's findings.
 */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <vdsokit/abi.h>
#include <vdsokit/elf.h>
#include <vdsokit/elf_sections.h>
#include <vdsokit/imgcheck.h>

#include "vdsoimg.h"

static const char *type_name(uint8_t t)
{
    static const char *const names[] = {"NOTYPE", "OBJECT", "FUNC", "SECTION",
                                        "FILE",   "COMMON", "TLS"};
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : t == STT_GNU_IFUNC ? "IFUNC" : "?";
}

static const char *bind_name(uint8_t b)
{
    return b == STB_LOCAL        ? "LOCAL"
           : b == STB_GLOBAL     ? "GLOBAL"
           : b == STB_WEAK       ? "WEAK"
           : b == STB_GNU_UNIQUE ? "UNIQUE"
                                 : "?";
}

/* Read and open FILE; on failure print why and return NULL. */
static uint8_t *open_image(const char *path, struct elf_image *img)
{
    struct vdsokit_error err;
    size_t size;
    uint8_t *data = vdsoimg_read(path, &size);

    if (!data)
        return NULL;
    if (elf_open(img, data, size, &err)) {
        fprintf(stderr, "vdsoimg: %s: %s\n", path, err.msg);
        free(data);
        return NULL;
    }
    return data;
}

int vdsoimg_symbols(const char *path)
{
    struct elf_image img;
    struct vdsokit_error err;
    struct elf_sym s;
    uint8_t *data = open_image(path, &img);

    if (!data)
        return VDSOIMG_UNREADABLE;
    printf("%5s %-18s %6s %-7s %-6s %s\n", "Num", "Value", "Size", "Type", "Bind", "Name");
    for (uint32_t i = 1; i < img.nsyms; i++) {
        if (elf_symbol(&img, i, &s, &err)) {
            printf("%5u error: %s\n", i, err.msg);
            continue;
        }
        if (!elf_sym_is_exported(&s))
            continue;
        printf("%5u 0x%016" PRIx64 " %6" PRIu64 " %-7s %-6s %s%s%s\n", i, s.value, s.size,
               type_name(s.type), bind_name(s.bind), s.name,
               s.version ? (s.hidden ? "@" : "@@") : "", s.version ? s.version : "");
    }
    free(data);
    return VDSOIMG_OK;
}

static void print_notes(const struct elf_image *img, const struct elf_sections *secs)
{
    struct elf_notes notes;
    struct vdsokit_error err;
    char ver[24];

    if (elf_notes_read(img, secs, &notes, &err)) {
        printf("notes:          unreadable: %s\n", err.msg);
        return;
    }
    if (notes.has_linux_version) {
        elf_linux_version_format(notes.linux_version, ver, sizeof(ver));
        printf("kernel version: %s (0x%06x)\n", ver, notes.linux_version);
    } else {
        printf("kernel version: (no Linux note)\n");
    }
    printf("build id:       ");
    for (uint32_t i = 0; notes.has_build_id && i < notes.build_id_size; i++)
        printf("%02x", img->data[notes.build_id_offset + i]);
    printf("%s\n", notes.has_build_id ? "" : "(none)");
}

static void print_info(const struct elf_image *img, size_t size)
{
    static const char *const rules[] = {
        [ELF_NSYMS_SYSV_NCHAIN] = "DT_HASH nchain",
        [ELF_NSYMS_GNU_CHAINS] = "DT_GNU_HASH chains",
        [ELF_NSYMS_DISTANCE] = "DT_SYMTAB distance",
    };
    const char *m = elf_machine_name(img->machine);
    bool gnu = img->dyn_present & ELF_DYN_GNU_HASH, sysv = img->dyn_present & ELF_DYN_HASH;

    printf("size:           %zu bytes\n", size);
    printf("class:          ELF%u\n", img->elf_class == ELFCLASS64 ? 64 : 32);
    printf("byte order:     %s\n", img->byte_order == ELFDATA2MSB ? "big endian" : "little endian");
    printf("machine:        %s (%u)\n", m ? m : "unknown", img->machine);
    printf("soname:         %s\n", img->soname_name ? img->soname_name : "(none)");
    printf("loads:          %u\n", img->nloads);
    printf("hash styles:    %s%s%s\n", sysv ? "sysv" : "", sysv && gnu ? "+" : "",
           gnu ? "gnu" : (sysv ? "" : "none"));
    printf("symbols:        %u (from %s)\n", img->nsyms, rules[img->nsyms_rule]);
    printf("versions:      ");
    for (unsigned i = 0; i < img->nverdefs; i++)
        printf(" %s%s", img->verdefs[i].name,
               (img->verdefs[i].flags & VER_FLG_BASE) ? "(BASE)" : "");
    printf("%s\n", img->nverdefs ? "" : " (none)");
}

int vdsoimg_info(const char *path)
{
    struct elf_image img;
    struct elf_sections secs;
    struct elf_section alt;
    struct vdsokit_error err;
    uint8_t *data = open_image(path, &img);

    if (!data)
        return VDSOIMG_UNREADABLE;
    print_info(&img, img.size);
    if (elf_sections_open(&secs, &img, &err)) {
        printf("sections:       unreadable: %s\n", err.msg);
        secs.count = 0;
    } else {
        printf("sections:       %u\n", secs.count);
    }
    print_notes(&img, secs.count ? &secs : NULL);
    if (secs.count && elf_section_by_name(&secs, ".altinstructions", &alt))
        printf("alternatives:   0x%" PRIx64 " bytes at 0x%" PRIx64 " (`check` decodes them)\n",
               alt.size, alt.offset);
    else
        printf("alternatives:   (no .altinstructions)\n");
    free(data);
    return VDSOIMG_OK;
}

int vdsoimg_check_as(const char *path, uint32_t linux_version)
{
    static struct imgcheck_report report;
    const struct imgcheck_options opt = {.linux_version = linux_version};
    size_t size;
    uint8_t *data = vdsoimg_read(path, &size);
    int rc;

    if (!data)
        return VDSOIMG_UNREADABLE;
    rc = imgcheck_run_with(data, size, &opt, &report);
    imgcheck_print(&report, stdout);
    free(data);
    if (rc)
        return VDSOIMG_UNREADABLE;
    return imgcheck_has_errors(&report) ? VDSOIMG_FINDINGS : VDSOIMG_OK;
}
