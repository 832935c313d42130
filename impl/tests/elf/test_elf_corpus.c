/*
 * The resolver on a corpus: with no arguments, every elfgen matrix variant
 * (checked against the generator's own record of where each symbol went
 * and against the documented lookup semantics); with file arguments, those
 * files (ld.lld-linked objects, the live dump). On every image: libelf and
 * readelf agree with the symbols we read, and the GNU hash, SysV hash and
 * scan lookups agree on every name under every version.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vdsokit/elf.h>

#include "../check.h"
#include "corpus_oracles.h"
#include "elfgen.h"

static void run_oracles(const char *label, const char *path, const struct elf_image *img)
{
    int r;

    CHECK(oracle_paths(label, img) == 0, "%s: lookup paths disagree (see above)", label);
    CHECK(oracle_libelf(label, img) == 0, "%s: libelf disagrees (see above)", label);
    r = oracle_readelf(label, path, img);
    CHECK(r <= 0, "%s: readelf disagrees in %d places (see above)", label, r);
    if (r < 0)
        printf("%s: readelf could not read it (not counted)\n", label);
}

static bool exported(const struct elfgen_sym *s)
{
    return !s->undefined &&
           (s->bind == STB_GLOBAL || s->bind == STB_WEAK || s->bind == STB_GNU_UNIQUE) &&
           (s->type == STT_NOTYPE || s->type == STT_OBJECT || s->type == STT_FUNC ||
            s->type == STT_COMMON);
}

/* The documented semantics, computed from the description alone. */
static int expected_index(const struct elfgen_desc *d, const struct elfgen_out *o, const char *name,
                          const char *version)
{
    int best = -1;

    for (unsigned i = 0; i < d->nsyms; i++) {
        const struct elfgen_sym *s = &d->syms[i];
        bool vmatch = !version        ? !s->hidden
                      : !d->versioned ? true
                                      : (s->version && strcmp(s->version, version) == 0);
        if (exported(s) && strcmp(s->name, name) == 0 && vmatch &&
            (best < 0 || o->sym_index[i] < (unsigned)best))
            best = (int)o->sym_index[i];
    }
    return best;
}

static void check_against_generator(const char *label, const struct elfgen_desc *d,
                                    const struct elfgen_out *o, const struct elf_image *img)
{
    struct elf_sym s;

    CHECK_EQ_U64(img->nsyms, d->nsyms + 1);
    for (unsigned i = 0; i < d->nsyms; i++) {
        const struct elfgen_sym *g = &d->syms[i];
        const char *want_ver = d->versioned && !g->undefined ? g->version : NULL;
        if (elf_symbol(img, o->sym_index[i], &s, NULL)) {
            CHECK(0, "%s: symbol %s unreadable", label, g->name);
            continue;
        }
        CHECK(strcmp(s.name, g->name) == 0, "%s: index %u is %s, expected %s", label,
              o->sym_index[i], s.name, g->name);
        CHECK(s.value == o->sym_value[i], "%s: %s value 0x%llx, expected 0x%llx", label, g->name,
              (unsigned long long)s.value, (unsigned long long)o->sym_value[i]);
        CHECK((!want_ver && !s.version) || (want_ver && s.version && !strcmp(want_ver, s.version)),
              "%s: %s version %s, expected %s", label, g->name, s.version ? s.version : "-",
              want_ver ? want_ver : "-");
        CHECK(s.hidden == (d->versioned && g->hidden), "%s: %s hidden %d", label, g->name,
              s.hidden);
        const char *queries[] = {NULL, g->version, "LINUX_2.6", "LINUX_0.0"};
        for (unsigned q = 0; q < 4; q++) {
            int want = expected_index(d, o, g->name, queries[q]);
            int rc = elf_lookup(img, g->name, queries[q], ELF_LOOKUP_AUTO, &s);
            CHECK((want < 0 && rc == ELF_NOT_FOUND) ||
                      (want >= 0 && rc == ELF_FOUND && s.index == (unsigned)want),
                  "%s: lookup %s@%s: rc %d index %u, expected index %d", label, g->name,
                  queries[q] ? queries[q] : "(none)", rc, rc ? 0 : s.index, want);
        }
    }
}

static void run_matrix(void)
{
    char path[] = "/tmp/vdsokit-corpus-XXXXXX";
    int fd = mkstemp(path);

    CHECK(fd >= 0, "mkstemp");
    for (unsigned i = 0; i < elfgen_matrix_count(); i++) {
        const char *label = elfgen_matrix_name(i);
        struct elfgen_desc d;
        struct elfgen_out o;
        struct elf_image img;
        struct vdsokit_error err;
        char msg[160];

        elfgen_matrix_desc(i, &d);
        if (elfgen_build(&d, &o, msg, sizeof(msg))) {
            CHECK(0, "%s: generator: %s", label, msg);
            continue;
        }
        if (elf_open(&img, o.data, o.size, &err)) {
            CHECK(0, "%s: elf_open: %s", label, err.msg);
        } else {
            check_against_generator(label, &d, &o, &img);
            CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, o.data, o.size, 0) == (ssize_t)o.size,
                  "write %s", path);
            run_oracles(label, path, &img);
        }
        elfgen_free(&o);
    }
    close(fd);
    unlink(path);
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 22];
    size_t n;
    struct elf_image img;
    struct vdsokit_error err;

    if (!f) {
        CHECK(0, "cannot open %s", path);
        return;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    uint8_t *copy = malloc(n);
    memcpy(copy, buf, n);
    if (elf_open(&img, copy, n, &err))
        CHECK(0, "%s: elf_open: %s", path, err.msg);
    else
        run_oracles(path, path, &img);
    printf("%s: %u symbols checked\n", path, img.nsyms);
    free(copy);
}

int main(int argc, char **argv)
{
    if (argc == 1)
        run_matrix();
    for (int i = 1; i < argc; i++)
        run_file(argv[i]);
    return check_finish();
}
