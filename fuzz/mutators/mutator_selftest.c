/*
 * Self-test of the mutator cores. ELF, on the committed seeds: every seed is
 * accepted by the resolver; mutation is deterministic for a given seed, stays
 * inside its capacity (ASan watches the exact-size buffers), changes the
 * input, and keeps a useful share of mutants acceptable to elf_open() --
 * the point of a structure-aware mutator. Op streams: a format 1 stream
 * stays a stream of a known format, keeps its record structure, and is now
 * and then upgraded to format 2 without any other change. Prints the
 * measured shares.
 */
#include "check.h"
#include "elf_mutator.h"
#include "ops_mutator.h"
#include "../vvar_format.h"

#include <string.h>

#include <vdsokit/elf.h>

#define ROUNDS 400

static uint8_t *load(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long len;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
        if (f)
            fclose(f);
        return NULL;
    }
    buf = malloc((size_t)len);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return buf;
}

static void one_seed(const char *path, unsigned *accepted, unsigned *changed, unsigned *total)
{
    size_t size, cap;
    uint8_t *seed = load(path, &size), *a, *b;
    struct elf_image img;
    struct vdsokit_error err;

    CHECK(seed != NULL, "cannot read %s", path);
    if (!seed)
        return;
    CHECK(elf_open(&img, seed, size, &err) == 0, "seed %s rejected: %s", path, err.msg);
    cap = size + 64;
    a = malloc(cap);
    b = malloc(cap);
    for (uint32_t s = 0; s < ROUNDS; s++) {
        size_t na, nb;
        memcpy(a, seed, size);
        memcpy(b, seed, size);
        na = elf_mutate(a, size, cap, s, NULL);
        nb = elf_mutate(b, size, cap, s, NULL);
        CHECK(na >= 1 && na <= cap, "%s seed %u: size %zu outside [1, %zu]", path, s, na, cap);
        CHECK(na == nb && memcmp(a, b, na) == 0, "%s seed %u: not deterministic", path, s);
        *changed += na != size || memcmp(a, seed, size) != 0;
        *accepted += elf_open(&img, a, na, &err) == 0;
        (*total)++;
    }
    free(a);
    free(b);
    free(seed);
}

static void ops_streams(void)
{
    enum { NREC = 12, SIZE = VVAR_HEADER_SIZE + NREC * VVAR_RECORD_SIZE, CAP = SIZE + 64 };
    uint8_t v1[SIZE], *m = malloc(CAP);
    unsigned upgraded = 0;

    for (size_t i = 0; i < SIZE; i++)
        v1[i] = (uint8_t)(i * 37 + 11);
    v1[0] = VVAR_FORMAT_V1;
    for (uint32_t s = 0; s < 64 * ROUNDS; s++) {
        memcpy(m, v1, SIZE);
        size_t n = ops_mutate(m, SIZE, CAP, s, NULL);
        CHECK(n >= VVAR_HEADER_SIZE && n <= CAP && vvar_format_known(m[0]),
              "op seed %u: size %zu, format byte %u", s, n, m[0]);
        if (m[0] == VVAR_FORMAT_V2) {
            upgraded++;
            CHECK(n == SIZE && memcmp(m + 1, v1 + 1, SIZE - 1) == 0,
                  "op seed %u: the upgrade changed more than the format", s);
        }
    }
    printf("op streams: %u mutants, %u upgraded to format %d\n", 64 * ROUNDS, upgraded,
           VVAR_FORMAT_V2);
    CHECK(upgraded > 0 && upgraded * 16 < 64 * ROUNDS, "%u upgrades", upgraded);
    free(m);
}

int main(int argc, char **argv)
{
    unsigned accepted = 0, changed = 0, total = 0;

    if (argc < 2)
        SKIP("no seeds given");
    for (int i = 1; i < argc; i++)
        one_seed(argv[i], &accepted, &changed, &total);
    printf("mutants: %u, changed %u (%.1f%%), accepted by elf_open %u (%.1f%%)\n", total, changed,
           100.0 * changed / total, accepted, 100.0 * accepted / total);
    /* A mutation that changes nothing wastes an execution; a mutator that
     * breaks every image never reaches the lookups. */
    CHECK(changed * 10 >= total * 8, "only %u of %u mutants differ from their seed", changed,
          total);
    CHECK(accepted * 10 >= total * 2, "only %u of %u mutants are accepted", accepted, total);
    CHECK(accepted < total, "every mutant accepted: the mutator never reaches the error paths");
    ops_streams();
    return check_finish();
}
