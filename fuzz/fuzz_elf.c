/*
 * fuzz_elf: the hardened ELF resolver on arbitrary bytes. A rejected input
 * must come back with a non-empty error sentence. An accepted one must keep
 * the resolver's promises: every file range it reports lies inside the
 * input, the DT_GNU_HASH, DT_HASH and linear-scan lookups agree (exactly,
 * wherever the oracle in elf_oracle.c shows the table really leads to the
 * symbol), AUTO takes the documented preference, and every resolved symbol
 * is a defined one whose value lies inside a loaded segment (SHN_ABS
 * symbols excepted: their value is a number, not an address).
 */
#include "elf_oracle.h"
#include "fuzz_common.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include <vdsokit/elf.h>

/* Bounds the quadratic cost of scanning once per queried name. */
#define MAX_QUERIES 16
#define NFIXED      3

static void check_range(const struct elf_image *img, uint64_t off, uint64_t len, const char *what)
{
    FUZZ_ASSERT(off <= img->size && len <= img->size - off,
                "%s [0x%llx, +0x%llx) outside the %zu-byte input", what, (unsigned long long)off,
                (unsigned long long)len, img->size);
}

static void check_image(const struct elf_image *img)
{
    FUZZ_ASSERT(img->nloads >= 1 && img->nloads <= ELF_MAX_LOADS, "nloads %u", img->nloads);
    for (unsigned i = 0; i < img->nloads; i++)
        check_range(img, img->loads[i].offset, img->loads[i].filesz, "PT_LOAD file range");
    if (img->dyn_present & ELF_DYN_STRTAB)
        check_range(img, img->strtab, img->strsz, "DT_STRTAB");
    if (img->nsyms)
        check_range(img, img->symtab, (uint64_t)img->nsyms * img->syment, "DT_SYMTAB");
}

static void check_defined(const struct elf_image *img, const struct elf_sym *s, const char *name)
{
    uint64_t off;

    FUZZ_ASSERT(s->index < img->nsyms, "found index %u >= nsyms %u", s->index, img->nsyms);
    FUZZ_ASSERT(s->name && strcmp(s->name, name) == 0, "looked up '%s', got '%s'", name,
                s->name ? s->name : "(null)");
    FUZZ_ASSERT(s->shndx != SHN_UNDEF, "'%s' (index %u) is SHN_UNDEF", name, s->index);
    FUZZ_ASSERT(s->bind == STB_GLOBAL || s->bind == STB_WEAK || s->bind == STB_GNU_UNIQUE,
                "'%s' bind %u", name, s->bind);
    FUZZ_ASSERT(s->type == STT_NOTYPE || s->type == STT_OBJECT || s->type == STT_FUNC ||
                    s->type == STT_COMMON,
                "'%s' type %u", name, s->type);
    /* SHN_ABS values (the version-name symbols) are numbers, not addresses. */
    FUZZ_ASSERT(s->shndx == SHN_ABS || elf_symbol_offset(img, s, &off),
                "'%s' value 0x%llx lies in no PT_LOAD", name, (unsigned long long)s->value);
}

/* A hash path versus the scan: never more, exactly equal where the table leads there. */
static void check_hash_path(const struct elf_image *img, const char *name, const char *version,
                            int rs, const struct elf_sym *scan, int rh, const struct elf_sym *hit,
                            bool reaches, const char *path)
{
    if (rh == ELF_FOUND) {
        check_defined(img, hit, name);
        FUZZ_ASSERT(rs == ELF_FOUND, "%s found '%s'@%s at %u, the scan did not", path, name,
                    version ? version : "-", hit->index);
        FUZZ_ASSERT(hit->index >= scan->index, "%s found '%s' at %u below the scan's lowest %u",
                    path, name, hit->index, scan->index);
    }
    if (rs == ELF_FOUND && reaches)
        FUZZ_ASSERT(rh == ELF_FOUND && hit->index == scan->index,
                    "%s: table leads to '%s'@%s at %u but lookup gave rc %d index %u", path, name,
                    version ? version : "-", scan->index, rh, rh == ELF_FOUND ? hit->index : 0);
}

/*
 * All paths for one (name, version). AUTO picks its path from the image
 * alone, never from the name, so it is checked on the queries with_auto
 * marks (the fixed names and the first symbol), not on every one: the
 * lookups are most of this harness's cost.
 */
static void check_query(const struct elf_image *img, const char *name, const char *version,
                        bool with_auto)
{
    struct elf_sym s, g, h, a;
    int rs = elf_lookup(img, name, version, ELF_LOOKUP_SCAN, &s);
    int rg = elf_lookup(img, name, version, ELF_LOOKUP_GNU_HASH, &g);
    int rh = elf_lookup(img, name, version, ELF_LOOKUP_SYSV_HASH, &h);

    FUZZ_ASSERT(rs == ELF_FOUND || rs == ELF_NOT_FOUND, "scan rc %d for '%s'", rs, name);
    if (rs == ELF_FOUND)
        check_defined(img, &s, name);
    check_hash_path(img, name, version, rs, &s, rg, &g,
                    rs == ELF_FOUND && oracle_gnu_reaches(img, name, s.index), "GNU hash");
    check_hash_path(img, name, version, rs, &s, rh, &h,
                    rs == ELF_FOUND && oracle_sysv_reaches(img, name, s.index), "SysV hash");
    if (with_auto) {
        int ra = elf_lookup(img, name, version, ELF_LOOKUP_AUTO, &a);
        int want_ra = rg != ELF_NO_TABLE ? rg : rh != ELF_NO_TABLE ? rh : rs;
        const struct elf_sym *want_a = rg != ELF_NO_TABLE ? &g : rh != ELF_NO_TABLE ? &h : &s;

        FUZZ_ASSERT(ra == want_ra && (ra != ELF_FOUND || a.index == want_a->index),
                    "AUTO gave rc %d for '%s', the preferred table gave rc %d", ra, name, want_ra);
    }
}

/* The (name, version) questions asked so far: a repeated one asks nothing new. */
struct asked {
    const char *name[2 * MAX_QUERIES + 2 * NFIXED], *version[2 * MAX_QUERIES + 2 * NFIXED];
    unsigned n;
};

static bool ask_once(struct asked *q, const struct elf_image *img, const char *name,
                     const char *version, bool with_auto)
{
    for (unsigned i = 0; i < q->n; i++)
        if (strcmp(q->name[i], name) == 0 &&
            (q->version[i] && version ? strcmp(q->version[i], version) == 0
                                      : q->version[i] == version))
            return false;
    check_query(img, name, version, with_auto);
    q->name[q->n] = name;
    q->version[q->n++] = version;
    return true;
}

/*
 * The fixed names first (with AUTO: they are what a consumer asks), then
 * the image's own symbols, of which the first query also checks AUTO on a
 * name the image surely has. A vDSO's own __vdso_* exports are then not
 * asked twice.
 */
static void check_symbols(const struct elf_image *img)
{
    static const char *const fixed[NFIXED] = {"__vdso_clock_gettime", "__vdso_getcpu",
                                              "clock_gettime"};
    struct asked asked = {.n = 0};
    unsigned queried = 0;
    struct vdsokit_error err;
    struct elf_sym sym;

    for (size_t i = 0; i < NFIXED; i++) {
        ask_once(&asked, img, fixed[i], "LINUX_2.6", true);
        ask_once(&asked, img, fixed[i], NULL, true);
    }
    for (uint32_t i = 0; i < img->nsyms && queried < MAX_QUERIES; i++) {
        memset(&err, 0, sizeof(err));
        if (elf_symbol(img, i, &sym, &err) < 0) {
            FUZZ_ASSERT(err.msg[0] && memchr(err.msg, 0, sizeof(err.msg)),
                        "elf_symbol(%u) failed without a message", i);
            continue;
        }
        FUZZ_ASSERT(sym.index == i, "elf_symbol(%u) returned index %u", i, sym.index);
        FUZZ_ASSERT(sym.name >= (const char *)img->data &&
                        sym.name < (const char *)img->data + img->size,
                    "symbol %u name outside the input", i);
        if (!sym.name[0])
            continue;
        /* An unversioned symbol's own query is the NULL-version one. */
        bool fresh = sym.version && ask_once(&asked, img, sym.name, sym.version, queried == 0);
        if (ask_once(&asked, img, sym.name, NULL, queried == 0) || fresh)
            queried++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct elf_image img, again;
    struct vdsokit_error err;
    const uint8_t *input;
    int rc;

    if (size == 0)
        return 0;
    input = fuzz_input(data, size);
    memset(&err, 0, sizeof(err));
    rc = elf_open(&img, input, size, &err);
    if (rc < 0) {
        FUZZ_ASSERT(rc == -1 && err.msg[0] && memchr(err.msg, 0, sizeof(err.msg)),
                    "elf_open rejected (rc %d) without a message", rc);
    } else {
        FUZZ_ASSERT(rc == 0, "elf_open rc %d", rc);
        FUZZ_ASSERT(elf_open(&again, input, size, &err) == 0 && again.nsyms == img.nsyms &&
                        again.nloads == img.nloads && again.dyn_present == img.dyn_present &&
                        again.symtab == img.symtab && again.strtab == img.strtab,
                    "elf_open is not a pure function of the bytes");
        check_image(&img);
        check_symbols(&img);
    }
    fuzz_input_done(input, data);
    return 0;
}
