/*
 * The image checker on generated images shaped like real kernels of each
 * architecture and era: x86-64 6.18 and 6.1 (14- and 12-byte alternatives,
 * the second also without its `Linux` note), i386 6.1 (ELF32, 12-byte
 * entries), aarch64 and arm 6.12 (DT_GNU_HASH only, no x86 alternatives)
 * and s390x 6.12 (big-endian), and DT_HASH-only images (arm64 before
 * 6.11 links so: a finding only on x86, which links both) and an empty
 * DT_RELA table (riscv and LoongArch link one). Each must have no error, the layout it was
 * judged under and the skipped or consumer findings named. The malformed
 * cases stay errors: an entry pointing outside the image, a table that is
 * not a whole number of the era's entries, and a 6.1 table judged as 6.17,
 * refused naming the field that does not decode.
 */
#include <elf.h>
#include <string.h>

#include <vdsokit/elf.h>
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

/* DT_HASH alone, as arm64 and arm kernels before 6.11 link it: every named
 * consumer reads it, so only x86 (which links both) gets a warning. And an
 * empty DT_RELA table (riscv, LoongArch) is no relocation; one entry is. */
static void sysv_only(void)
{
    struct elfgen_desc d;

    matrix_desc("s390x-sysv", &d);
    d.linux_version = 0x0601c0;
    run("s390x 6.1, DT_HASH only", &d, 0, NULL);
    CHECK(report.errors == 0 && report.warnings == 0, "sysv-only non-x86: %u errors %u warnings",
          report.errors, report.warnings);
    CHECK(has_finding("hash", IMGCHECK_INFO, NEEDLES("no DT_GNU_HASH", "musl")),
          "sysv-only non-x86: an info naming the consumers that read DT_HASH");

    matrix_desc("aarch64-gnu", &d); /* riscv and LoongArch: DT_RELA with DT_RELASZ 0 */
    d.relocations = true;
    d.relocations_empty = true;
    run("empty DT_RELA table", &d, 0, NULL);
    CHECK(report.errors == 0, "an empty DT_RELA table: %u errors", report.errors);
    d.relocations_empty = false;
    run("one DT_RELA entry", &d, 0, NULL);
    CHECK(has_finding("relocations", IMGCHECK_ERROR, NEEDLES("DT_RELA")),
          "a DT_RELA table of one entry is an error");

    matrix_desc("x86_64-sysv", &d);
    run("x86-64, DT_HASH only", &d, 0, NULL);
    CHECK(has_finding("hash", IMGCHECK_WARNING, NEEDLES("no DT_GNU_HASH", "--hash-style=both")),
          "sysv-only x86-64: a warning");
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

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* the generated image is little-endian, as this host */
}

/* One note at p: owner name, type, and a 4-byte desc v when desc. */
static size_t put_note(uint8_t *p, const char *name, uint32_t type, bool desc, uint32_t v)
{
    size_t namesz = strlen(name) + 1, name_pad = (namesz + 3) & ~(size_t)3;

    put32(p, (uint32_t)namesz);
    put32(p + 4, desc ? 4 : 0);
    put32(p + 8, type);
    memcpy(p + 12, name, namesz);
    if (desc)
        put32(p + 12 + name_pad, v);
    return 12 + name_pad + (desc ? 4 : 0);
}

/*
 * The note area of riscv's CFI vDSO (7.x): a 4-aligned note ending at a
 * file offset 4 mod 8, four zero bytes, then an 8-aligned note. Written over
 * the generated build id and Linux note (60 bytes at file offset off).
 */
static void padded_notes(uint8_t *area, uint64_t off)
{
    size_t o;

    memset(area, 0, 60);
    if (off & 4) {
        o = put_note(area, "GNU", 1, false, 0) + 4; /* 16 bytes: ends at 0 mod 8 + 4 */
        o += put_note(area + o, "Linux", 0, true, 0x070213);
        put_note(area + o, "GNU", 1, false, 0);
    } else {
        o = put_note(area, "GNU", 99, true, 0) + 4; /* 20 bytes: ends at 4 mod 8 */
        put_note(area + o, "Linux", 0, true, 0x070213);
    }
}

static void note_padding(void)
{
    struct elfgen_desc d;
    struct elfgen_out out;
    struct elf_image img;
    char err[256];

    matrix_desc("aarch64-gnu", &d);
    d.linux_note = d.build_id = true;
    d.linux_version = 0x060c75;
    if (elfgen_build(&d, &out, err, sizeof err)) {
        CHECK(0, "padded notes: elfgen: %s", err);
        return;
    }
    if (elf_open(&img, out.data, out.size, NULL) || img.nnotes != 1 || img.note_size[0] != 60) {
        CHECK(0, "padded notes: no single 60-byte note area");
        elfgen_free(&out);
        return;
    }
    padded_notes(out.data + img.note_offset[0], img.note_offset[0]);
    imgcheck_run(out.data, out.size, &report);
    printf("--- padded notes\n");
    imgcheck_print(&report, stdout);
    CHECK(report.errors == 0, "padded notes: %u errors", report.errors);
    CHECK(report.has_linux_version && report.linux_version == 0x070213,
          "padded notes: the Linux note after the padding is read (0x%06x)", report.linux_version);
    elfgen_free(&out);
}

int main(void)
{
    clean_shapes();
    sysv_only();
    note_padding();
    malformed();
    return check_finish();
}
