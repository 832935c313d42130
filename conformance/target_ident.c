/*
 * Target identity for waivers (target_ident.h): uname for targets that are
 * this kernel, the image's notes (read with the project's ELF reader) for
 * the ones that are an image.
 */
#define _GNU_SOURCE
#include "target_ident.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <vdsokit/elf.h>
#include <vdsokit/elf_sections.h>

#define VERSION_PART_MAX 255u

size_t conf_kernel_version_parse(const char *s, bool upper, uint32_t *code)
{
    unsigned long part[3] = {0, 0, upper ? VERSION_PART_MAX : 0};
    const char *p = s;
    int n = 0;

    for (; n < 3; n++) {
        char *end;
        if (*p < '0' || *p > '9')
            break;
        part[n] = strtoul(p, &end, 10);
        if (part[n] > VERSION_PART_MAX)
            part[n] = VERSION_PART_MAX;
        p = end;
        if (n < 2 && p[0] == '.' && p[1] >= '0' && p[1] <= '9')
            p++;
        else {
            n++;
            break;
        }
    }
    if (n < 2)
        return 0; /* MAJOR.MINOR at least */
    *code = (uint32_t)(part[0] << 16 | part[1] << 8 | part[2]);
    return (size_t)(p - s);
}

static void from_uname(struct conf_target_ident *id)
{
    struct utsname u;

    if (uname(&u) == 0 && conf_kernel_version_parse(u.release, false, &id->kernel)) {
        id->has_kernel = true;
        id->kernel_src = "uname";
    }
}

static void from_image(struct conf_target_ident *id, const struct conf_target *t)
{
    struct elf_image img;
    struct elf_notes notes;
    struct vdsokit_error err;

    if (!t->text || elf_open(&img, t->text, t->text_size, &err) != 0 ||
        elf_notes_read(&img, NULL, &notes, &err) != 0)
        return;
    if (notes.has_linux_version) {
        id->has_kernel = true;
        id->kernel = notes.linux_version;
        id->kernel_src = "Linux note";
    }
    if (notes.has_build_id && notes.build_id_size * 2 < sizeof(id->build_id)) {
        const uint8_t *b = img.data + notes.build_id_offset;
        for (uint32_t i = 0; i < notes.build_id_size; i++)
            snprintf(id->build_id + 2 * i, 3, "%02x", b[i]);
    }
}

void conf_target_identify(const struct conf_target *t, struct conf_target_ident *id)
{
    memset(id, 0, sizeof(*id));
    id->name = t->name;
    id->is_image = t->kind == CONF_TARGET_IMAGE;
    if (t->kind == CONF_TARGET_REF || t->kind == CONF_TARGET_IMAGE)
        from_image(id, t);
    else
        from_uname(id);
}

void conf_target_ident_print(FILE *out, const struct conf_target_ident *id)
{
    char v[16] = "unknown";

    if (id->has_kernel)
        elf_linux_version_format(id->kernel, v, sizeof(v));
    fprintf(out, "kernel %s%s%s%s", v, id->has_kernel ? " (" : "",
            id->has_kernel ? id->kernel_src : "", id->has_kernel ? ")" : "");
    if (id->build_id[0])
        fprintf(out, ", build-id %s", id->build_id);
}
