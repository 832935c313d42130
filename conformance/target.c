/*
 * Target selection: parse a --target spec and hand it to the kind's opener.
 * `ref` and `image:PATH` need the loader (emulated data pages, a copy of the
 * image text, alternatives, the function table); until it is linked in
 * they are a setup error that says so, and conf_target_open_image is the
 * one place to wire it.
 */
#include "target.h"

#include <stdio.h>
#include <string.h>

int conf_target_open(struct conf_target *t, const char *spec, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    if (strlen(spec) >= sizeof(t->name)) {
        snprintf(err, errlen, "--target %.40s...: spec too long", spec);
        return 2;
    }
    strcpy(t->name, spec);
    if (strcmp(spec, "live") == 0)
        return conf_target_open_live(t, err, errlen);
    if (strcmp(spec, "libc") == 0)
        return conf_target_open_libc(t, err, errlen);
    if (strcmp(spec, "ref") == 0)
        return conf_target_open_image(t, NULL, err, errlen);
    if (strncmp(spec, "image:", 6) == 0 && spec[6])
        return conf_target_open_image(t, spec + 6, err, errlen);
    if (strncmp(spec, "mutant:", 7) == 0)
        return conf_target_open_mutant(t, spec + 7, err, errlen);
    snprintf(err, errlen, "--target %s: unknown target (live, libc, ref, image:PATH)", spec);
    return 2;
}

void conf_target_close(struct conf_target *t)
{
    /* live and libc own nothing; the loader will release its mappings here. */
    (void)t;
}

int conf_target_open_image(struct conf_target *t, const char *path, char *err, size_t errlen)
{
    /*
     * TODO(loader): map the data pages and a copy of the image (the embedded
     * reference when path is NULL), resolve the five entry points into t->fn,
     * set kind, flags = CONF_TARGET_IN_PROCESS | CONF_TARGET_RAW_ABI,
     * clock_mode, describe_state and inproc.
     */
    t->kind = path ? CONF_TARGET_IMAGE : CONF_TARGET_REF;
    snprintf(err, errlen,
             "--target %s: not available in this build yet (needs the image loader and "
             "the emulated data pages); use --target live or --target libc",
             t->name);
    return 2;
}
