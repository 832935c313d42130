/*
 * The resolver on this process's live vDSO: every exported symbol resolves
 * under LINUX_2.6 (and unversioned) through all three paths, and its
 * address equals what glibc's dlvsym() returns for linux-vdso.so.1; the
 * dump written by the live_dump fixture (argv[1]) holds the same bytes.
 */
#define _GNU_SOURCE /* dlvsym */
#include <dlfcn.h>
#include <stdlib.h>

#include <vdsokit/elf.h>

#include "../check.h"
#include "live_image.h"

static const char *const required[] = {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
                                       "__vdso_clock_getres", "__vdso_getcpu"};

static void check_symbol(const struct elf_image *img, void *handle, const uint8_t *base,
                         const struct elf_sym *s)
{
    const enum elf_lookup_path paths[] = {ELF_LOOKUP_GNU_HASH, ELF_LOOKUP_SYSV_HASH,
                                          ELF_LOOKUP_SCAN};
    struct elf_sym r;
    uint64_t off = 0;

    for (unsigned p = 0; p < 3; p++) {
        int rc = elf_lookup(img, s->name, "LINUX_2.6", paths[p], &r);
        CHECK(rc == ELF_FOUND && r.index == s->index, "%s path %u: rc %d index %u, want %u",
              s->name, p, rc, rc ? 0 : r.index, s->index);
    }
    CHECK(elf_symbol_offset(img, s, &off), "%s has no image offset", s->name);
    void *dl = dlvsym(handle, s->name, "LINUX_2.6");
    CHECK(dl == (void *)(base + off), "%s: dlvsym %p, ours base %p + 0x%llx = %p", s->name, dl,
          (void *)base, (unsigned long long)off, (void *)(base + off));
}

static void check_dump(const char *path, const uint8_t *live, size_t size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(size + 1);
    size_t n = f ? fread(buf, 1, size + 1, f) : 0;

    CHECK(f != NULL, "cannot open the dump %s", path);
    CHECK(n == size && memcmp(buf, live, size) == 0, "dump %s: %zu bytes, differs from memory",
          path, n);
    if (f)
        fclose(f);
    free(buf);
}

int main(int argc, char **argv)
{
    size_t size;
    const uint8_t *live = live_image(&size);
    struct elf_image img;
    struct vdsokit_error err;
    struct elf_sym s;
    unsigned nexp = 0;

    if (!live)
        SKIP("this process has no vDSO");
    void *handle = dlopen("linux-vdso.so.1", RTLD_NOLOAD | RTLD_LAZY);
    if (!handle)
        SKIP("dlopen(linux-vdso.so.1, RTLD_NOLOAD) failed: %s", dlerror());
    if (elf_open(&img, live, size, &err)) {
        CHECK(0, "live image: %s", err.msg);
        return check_finish();
    }
    for (uint32_t i = 1; i < img.nsyms; i++) {
        CHECK(elf_symbol(&img, i, &s, &err) == 0, "symbol %u: %s", i, err.msg);
        if (elf_sym_is_exported(&s) && s.type == 2) {
            check_symbol(&img, handle, live, &s);
            nexp++;
        }
    }
    for (unsigned i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        CHECK(elf_lookup(&img, required[i], "LINUX_2.6", ELF_LOOKUP_AUTO, &s) == ELF_FOUND &&
                  elf_lookup(&img, required[i], NULL, ELF_LOOKUP_AUTO, &s) == ELF_FOUND,
              "%s not exported", required[i]);
    printf("live vDSO at %p, %zu bytes, %u FUNC exports checked against dlvsym\n", (void *)live,
           size, nexp);
    if (argc > 1)
        check_dump(argv[1], live, size);
    dlclose(handle);
    return check_finish();
}
