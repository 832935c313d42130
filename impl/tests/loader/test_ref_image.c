/*
 * The reference image is consumable: every export and its weak alias is
 * found under LINUX_2.6 through DT_HASH alone, DT_GNU_HASH alone and a
 * linear scan, all three agreeing on the symbol, and it is a FUNC with a
 * size inside the text; the image checker finds no error; the loader
 * resolves the same offsets; and the alternatives table patches cleanly for
 * every combination of the three features.
 *
 * Usage: test_ref_image REFERENCE-IMAGE
 */
#include "check.h"

#include <vdsokit/elf.h>
#include <vdsokit/imgcheck.h>
#include <vdsokit/loader.h>
#include <vdsokit/loader_prepare.h>

#include <stdlib.h>
#include <string.h>

static const char *const exports[][2] = {
    {"__vdso_clock_gettime", "clock_gettime"},
    {"__vdso_gettimeofday", "gettimeofday"},
    {"__vdso_time", "time"},
    {"__vdso_clock_getres", "clock_getres"},
    {"__vdso_getcpu", "getcpu"},
};

static const char *path_name(enum elf_lookup_path p)
{
    return p == ELF_LOOKUP_SYSV_HASH  ? "DT_HASH"
           : p == ELF_LOOKUP_GNU_HASH ? "DT_GNU_HASH"
                                      : "scan";
}

static void check_lookup(const struct elf_image *img, const char *name, uint64_t *offset)
{
    const enum elf_lookup_path paths[] = {ELF_LOOKUP_SYSV_HASH, ELF_LOOKUP_GNU_HASH,
                                          ELF_LOOKUP_SCAN};
    struct elf_sym first = {0}, s;

    for (unsigned i = 0; i < 3; i++) {
        int rc = elf_lookup(img, name, "LINUX_2.6", paths[i], &s);
        CHECK(rc == ELF_FOUND, "%s@LINUX_2.6 not found through %s (rc %d)", name,
              path_name(paths[i]), rc);
        if (rc != ELF_FOUND)
            continue;
        CHECK(s.type == 2 && s.size > 0, "%s: type %u size %llu", name, s.type,
              (unsigned long long)s.size);
        if (i == 0)
            first = s;
        else
            CHECK(s.index == first.index && s.value == first.value,
                  "%s: %s finds symbol %u at 0x%llx, DT_HASH %u at 0x%llx", name,
                  path_name(paths[i]), s.index, (unsigned long long)s.value, first.index,
                  (unsigned long long)first.value);
    }
    CHECK(elf_symbol_offset(img, &first, offset), "%s: st_value outside the PT_LOAD", name);
}

static void check_exports(const uint8_t *data, size_t size)
{
    struct elf_image img;
    struct vdsokit_error err;
    struct loader_prepared p;
    struct vdsokit_error lerr;

    CHECK(elf_open(&img, data, size, &err) == 0, "elf_open: %s", err.msg);
    CHECK(loader_prepare(data, size, NULL, &p, &lerr) == 0, "prepare: %s", lerr.msg);
    for (unsigned i = 0; i < sizeof exports / sizeof exports[0]; i++) {
        uint64_t off = 0, alias = 1;
        check_lookup(&img, exports[i][0], &off);
        check_lookup(&img, exports[i][1], &alias);
        CHECK(off == alias, "%s at 0x%llx, its alias %s at 0x%llx", exports[i][0],
              (unsigned long long)off, exports[i][1], (unsigned long long)alias);
        CHECK(p.text && p.sym[i] == off, "loader: %s at 0x%llx, resolver 0x%llx", exports[i][0],
              (unsigned long long)p.sym[i], (unsigned long long)off);
    }
    printf("resolver: %zu exports and aliases found through DT_HASH, DT_GNU_HASH and scan\n",
           sizeof exports / sizeof exports[0]);
    loader_prepared_free(&p);
}

static void check_checker(const uint8_t *data, size_t size)
{
    struct imgcheck_report *r = malloc(sizeof *r);

    CHECK(imgcheck_run(data, size, r) == 0, "checker: unreadable");
    imgcheck_print(r, stdout);
    CHECK(r->errors == 0, "checker: %u errors", r->errors);
    CHECK(r->has_alternatives && r->nalt > 0, "checker: no alternatives found");
    free(r);
}

/* Every feature combination patches; the result is a fixed point. */
static void check_alternatives(const uint8_t *data, size_t size)
{
    for (unsigned m = 0; m < 8; m++) {
        const struct alt_cpu cpu = {m & 1, (m >> 1) & 1, (m >> 2) & 1};
        struct loader_prepared p, q;
        struct vdsokit_error err;
        uint8_t *again;

        CHECK(loader_prepare(data, size, &cpu, &p, &err) == 0, "cpu %u: %s", m, err.msg);
        if (!p.text)
            continue;
        again = malloc(size);
        memcpy(again, data, size);
        memcpy(again, p.text, p.image_size);
        CHECK(loader_prepare(again, size, &cpu, &q, &err) == 0, "cpu %u again: %s", m, err.msg);
        CHECK(q.text && !memcmp(p.text, q.text, p.image_size), "cpu %u: patching is not idempotent",
              m);
        loader_prepared_free(&q);
        loader_prepared_free(&p);
        free(again);
    }
}

int main(int argc, char **argv)
{
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
    uint8_t *data;
    size_t size;

    if (!f)
        SKIP("no reference image (argument: %s)", argc > 1 ? argv[1] : "none");
    data = malloc(1 << 20);
    size = fread(data, 1, 1 << 20, f);
    fclose(f);
    check_exports(data, size);
    check_checker(data, size);
    check_alternatives(data, size);
    free(data);
    return check_finish();
}
