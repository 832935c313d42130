/*
 * The image checker on generated images shaped like real kernels of each
 * architecture and era: x86-64 6.18 and 6.1 (14- and 12-byte alternatives,
 * the second also without its `Linux` note), i386 6.1 (ELF32, 12-byte
 * entries), aarch64 and arm 6.12 (DT_GNU_HASH only, no x86 alternatives)
 * and s390x 6.12 (big-endian). Each must have no error, the layout it was
 * judged under and the skipped or consumer findings named. The malformed
 * cases stay errors: an entry pointing outside the image, a table that is
 * not a whole number of the era's entries, and a 6.1 table judged as 6.17,
 * refused naming the field that does not decode.
 */
#include <elf.h>
#include <string.h>

#include <vdsokit/imgcheck.h>

#include "../check.h"
#include "elfgen.h"

static struct imgcheck_report report;

/* The matrix description named name (elfgen_matrix.c). */
static void matrix_desc(const char *name, struct elfgen_desc *d)
{
    for (unsigned i = 0; i < elfgen_matrix_count(); i++)
        if (!strcmp(elfgen_matrix_name(i), name)) {
            elfgen_matrix_desc(i, d);
            d->soname = "linux-vdso.so.1";
            return;
        }
    CHECK(0, "no matrix entry %s", name);
    elfgen_desc_x86_64(d);
}

/* Whether a finding of rule with severity s contains every needle (NULL-terminated). */
static bool has_finding(const char *rule, enum imgcheck_severity s, const char *const *needles)
{
    for (unsigned i = 0; i < report.count; i++) {
        const struct imgcheck_finding *f = &report.findings[i];
        bool all = f->severity == s && !strcmp(f->rule, rule);
        for (const char *const *n = needles; all && *n; n++)
            all = strstr(f->text, *n) != NULL;
        if (all)
            return true;
    }
    return false;
}

static bool run(const char *what, const struct elfgen_desc *d, uint32_t version,
                void (*mutate)(uint8_t *, size_t))
{
    const struct imgcheck_options opt = {.linux_version = version};
    struct elfgen_out out;
    char err[256];
    int rc;

    if (elfgen_build(d, &out, err, sizeof err)) {
        CHECK(0, "%s: elfgen: %s", what, err);
        return false;
    }
    if (mutate) {
        CHECK(imgcheck_run(out.data, out.size, &report) == 0 && report.has_alternatives,
              "%s: no alternatives to mutate", what);
        mutate(out.data + report.alt_offset, report.alt_len);
    }
    rc = imgcheck_run_with(out.data, out.size, &opt, &report);
    printf("--- %s\n", what);
    imgcheck_print(&report, stdout);
    elfgen_free(&out);
    CHECK(rc == 0, "%s: unreadable", what);
    return rc == 0;
}

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void clean_shapes(void)
{
    struct elfgen_desc d;

    elfgen_desc_x86_64(&d); /* 6.18.44, 11 entries of 14 bytes */
    d.soname = "linux-vdso.so.1";
    run("x86-64 6.18", &d, 0, NULL);
    CHECK(report.errors == 0 && report.warnings == 0, "x86-64 6.18: %u errors %u warnings",
          report.errors, report.warnings);
    CHECK(has_finding("alternatives", IMGCHECK_INFO, NEEDLES("11 ", "x86-6.3", "from the version")),
          "x86-64 6.18: judged under x86-6.3 from the version");

    d.linux_version = 0x0601c0; /* 6.1.192: 7 entries of 12 bytes, as Debian's image */
    d.alt_size = 12;
    d.nalt = 7;
    run("x86-64 6.1", &d, 0, NULL);
    CHECK(report.errors == 0 && report.warnings == 0, "x86-64 6.1: %u errors %u warnings",
          report.errors, report.warnings);
    CHECK(has_finding("alternatives", IMGCHECK_INFO, NEEDLES("7 ", "x86-6.1", "from the version")),
          "x86-64 6.1: judged under x86-6.1");

    d.linux_note = false; /* 84 bytes: a multiple of 12 and of 14, told apart by decoding */
    run("x86-64 6.1 without its note", &d, 0, NULL);
    CHECK(report.errors == 0 && report.warnings == 1, "no note: %u errors %u warnings",
          report.errors, report.warnings);
    CHECK(has_finding("alternatives", IMGCHECK_INFO, NEEDLES("x86-6.1", "inferred")),
          "no note: x86-6.1 inferred from the table");

    matrix_desc("i386-both", &d); /* ELF32; 0xf0 bytes = 20 entries of 12 */
    d.linux_version = 0x0601c0;
    d.alt_size = 12;
    d.nalt = 20;
    run("i386 6.1", &d, 0, NULL);
    CHECK(report.errors == 0, "i386 6.1: %u errors", report.errors);
    CHECK(has_finding("alternatives", IMGCHECK_INFO, NEEDLES("20 ", "x86-6.1")),
          "i386 6.1: the x86 struct, 6.1 layout");

    matrix_desc("aarch64-gnu", &d);
    d.linux_version = 0x060c75;
    run("aarch64 6.12", &d, 0, NULL);
    CHECK(report.errors == 0, "aarch64 6.12: %u errors", report.errors);
    CHECK(has_finding("hash", IMGCHECK_WARNING, NEEDLES("no DT_HASH", "musl")),
          "aarch64: a missing DT_HASH is a warning naming musl");
    CHECK(has_finding("alternatives", IMGCHECK_INFO, NEEDLES("skipped: no x86 alternatives")),
          "aarch64: alternatives skipped, and said so");

    d.elf_class = ELFCLASS32; /* arm 6.12: ELF32, DT_GNU_HASH only too */
    d.machine = EM_ARM;
    run("arm 6.12", &d, 0, NULL);
    CHECK(report.errors == 0, "arm 6.12: %u errors", report.errors);
    CHECK(has_finding("hash", IMGCHECK_WARNING, NEEDLES("no DT_HASH")), "arm: DT_HASH warning");

    matrix_desc("s390x-both", &d);
    d.linux_version = 0x060c75;
    run("s390x 6.12", &d, 0, NULL);
    CHECK(report.errors == 0, "s390x 6.12: %u errors", report.errors);
}

static void site_outside(uint8_t *table, size_t len)
{
    (void)len;
    table[0] = table[1] = table[2] = 0xff;
    table[3] = 0x7f;
}

static void malformed(void)
{
    struct elfgen_desc d;

    elfgen_desc_x86_64(&d);
    run("x86-64 6.18, entry 0 pointing outside", &d, 0, site_outside);
    CHECK(has_finding("alternatives", IMGCHECK_ERROR, NEEDLES("alt entry 0", "instr_offset")),
          "an entry pointing outside the image is an error naming instr_offset");

    d.nalt = 5; /* 70 bytes: no whole number of 12-byte entries */
    run("x86-64 6.18 entries judged as 6.1", &d, 0x060100, NULL);
    CHECK(has_finding("alternatives", IMGCHECK_ERROR, NEEDLES("not a multiple of 12", "x86-6.1")),
          "14-byte entries under the 6.1 layout: size error");

    d.linux_version = 0x0601c0;
    d.alt_size = 12;
    d.nalt = 7;
    run("x86-64 6.1 judged as 6.17", &d, 0x061100, NULL);
    CHECK(report.errors > 0 && has_finding("linux-note", IMGCHECK_INFO, NEEDLES("6.17.0")),
          "a 6.1 table judged as 6.17: %u errors", report.errors);
    bool named = false;
    for (unsigned i = 0; i < report.count; i++)
        if (report.findings[i].severity == IMGCHECK_ERROR)
            named |= strstr(report.findings[i].text, "instr_offset") ||
                     strstr(report.findings[i].text, "repl_offset") ||
                     strstr(report.findings[i].text, "instrlen") ||
                     strstr(report.findings[i].text, "replacementlen");
    CHECK(named, "the mismatched layout's errors name a field");
}

int main(void)
{
    clean_shapes();
    malformed();
    return check_finish();
}
