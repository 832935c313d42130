/*
 * What a target is, for waivers: the kernel version it stands for (uname's
 * release for live, libc and mutant targets; the image's own `Linux` note,
 * LINUX_VERSION_CODE, for ref and image:PATH) and, where the image carries
 * one, its GNU build id. A waiver's kernel= range and its
 * image@build-id=HEX target are compared with these, never with a path.
 */
#ifndef VDSOCONF_TARGET_IDENT_H
#define VDSOCONF_TARGET_IDENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "target.h"

struct conf_target_ident {
    const char *name; /* the --target spec */
    bool is_image;    /* image:PATH: image@... waiver targets apply */
    bool has_kernel;
    uint32_t kernel;        /* (major << 16) | (minor << 8) | patch (patch capped at 255) */
    const char *kernel_src; /* "uname" or "Linux note" */
    char build_id[81];      /* lower-case hex, "" when the image has none */
};

void conf_target_identify(const struct conf_target *t, struct conf_target_ident *id);

/* One line: "kernel 6.18.44 (uname), build-id 1f2e..." for the report header. */
void conf_target_ident_print(FILE *out, const struct conf_target_ident *id);

/*
 * Parse "MAJOR.MINOR[.PATCH]" at s into a version code; as an upper bound
 * (upper true) a missing part means "any". Returns the characters used, 0
 * when s does not start with a version.
 */
size_t conf_kernel_version_parse(const char *s, bool upper, uint32_t *code);

#endif /* VDSOCONF_TARGET_IDENT_H */
