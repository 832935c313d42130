/*
 * Target selection: parse a --target spec, hand it to the kind's opener
 * (target_live.c, target_libc.c, target_image.c for `ref` and `image:PATH`,
 * target_mutant.c) and give every target the kernel's syscalls as its
 * oracle unless the opener chose another (in-process targets do).
 */
#include "target.h"

#include <stdio.h>
#include <string.h>

#include "oracle.h"

static void default_oracle(struct conf_target *t)
{
    struct conf_vdso_fns *o = &t->oracle;

    if (!o->clock_gettime)
        o->clock_gettime = sys_clock_gettime;
    if (!o->gettimeofday)
        o->gettimeofday = sys_gettimeofday;
    if (!o->time)
        o->time = sys_time;
    if (!o->clock_getres)
        o->clock_getres = sys_clock_getres;
}

static int open_kind(struct conf_target *t, const char *spec, char *err, size_t errlen)
{
    if (strcmp(spec, "live") == 0)
        return conf_target_open_live(t, err, errlen);
    if (strcmp(spec, "libc") == 0)
        return conf_target_open_libc(t, err, errlen);
    if (strcmp(spec, "ref") == 0 || strncmp(spec, "ref,", 4) == 0)
        return conf_target_open_image(t, NULL, err, errlen);
    if (strncmp(spec, "image:", 6) == 0 && spec[6])
        return conf_target_open_image(t, spec + 6, err, errlen);
    if (strncmp(spec, "mutant:", 7) == 0)
        return conf_target_open_mutant(t, spec + 7, err, errlen);
    snprintf(err, errlen, "--target %s: unknown target (live, libc, ref, image:PATH)", spec);
    return 2;
}

int conf_target_open(struct conf_target *t, const char *spec, unsigned long long seed, char *err,
                     size_t errlen)
{
    memset(t, 0, sizeof(*t));
    t->seed = seed;
    if (strlen(spec) >= sizeof(t->name)) {
        snprintf(err, errlen, "--target %.40s...: spec too long", spec);
        return 2;
    }
    strcpy(t->name, spec);
    int rc = open_kind(t, spec, err, errlen);
    if (rc == 0)
        default_oracle(t);
    return rc;
}
