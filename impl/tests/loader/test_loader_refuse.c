/*
 * One loader refusal per reason. The bad images are built by patching bytes
 * of a good one in memory (the reference image file and this host's own
 * vDSO) or, where a patch cannot express the defect cleanly, generated with
 * elfgen. Each must be refused with the rule that names the finding, leave
 * *out NULL, and map nothing executable: the count of executable mappings
 * in /proc/self/maps is the same before and after all the refusals.
 *
 * Usage: test_loader_refuse REFERENCE-IMAGE
 */
#include "check.h"

#include <vdsokit/loader.h>
#include <vdsokit/loader_prepare.h>

#include "elfgen.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

struct image {
    uint8_t *data;
    size_t size;
};

static struct image read_image(const char *path)
{
    struct image im = {NULL, 0};
    FILE *f = fopen(path, "rb");

    if (!f)
        return im;
    im.data = malloc(1 << 20);
    im.size = fread(im.data, 1, 1 << 20, f);
    fclose(f);
    return im;
}

static struct image copy_image(const void *bytes, size_t size, size_t room)
{
    struct image im = {calloc(1, size > room ? size : room), size};

    memcpy(im.data, bytes, size);
    return im;
}

/* Trusted test input: plain memcpy field access is fine here. */
static Elf64_Phdr *phdr(struct image *im, uint32_t type)
{
    Elf64_Ehdr eh;

    memcpy(&eh, im->data, sizeof eh);
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr *p = (Elf64_Phdr *)(im->data + eh.e_phoff + (size_t)i * eh.e_phentsize);
        if (p->p_type == type)
            return p;
    }
    return NULL;
}

static Elf64_Dyn *dyn_entry(struct image *im, int64_t tag)
{
    Elf64_Phdr *d = phdr(im, PT_DYNAMIC);

    for (Elf64_Dyn *e = (Elf64_Dyn *)(im->data + d->p_offset); e->d_tag != DT_NULL; e++)
        if (e->d_tag == tag)
            return e;
    return NULL;
}

static unsigned exec_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512], perms[8];
    unsigned n = 0;

    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%*[0-9a-f]-%*[0-9a-f] %7s", perms) == 1 && perms[2] == 'x')
            n++;
    if (f)
        fclose(f);
    return n;
}

static void expect_refused(const char *what, const struct image *im, const char *rule)
{
    struct vdso_loaded *l = (struct vdso_loaded *)1;
    struct vdsokit_error err = {{0}};
    int rc = loader_load(&l, im->data, im->size, what, NULL, &err);

    CHECK(rc == -1 && l == NULL, "%s: loaded (rc %d)", what, rc);
    CHECK(strstr(err.msg, rule) != NULL, "%s: the error lacks \"%s\": %s", what, rule, err.msg);
    printf("  %-34s -> %s\n", what, err.msg);
    if (rc == 0)
        loader_unload(l);
    free(im->data);
}

static void expect_loads(const char *what, const struct image *im)
{
    const struct loader_options none = {.clock = LOADER_CLOCK_NONE};
    struct vdso_loaded *l = NULL;
    struct vdsokit_error err;

    CHECK(loader_load(&l, im->data, im->size, what, &none, &err) == 0, "%s: %s", what, err.msg);
    loader_unload(l);
}

/* Defects made by patching a good image (tag names the source). */
static void patched(const struct image *good, const char *tag)
{
    char what[64];
    struct image im;

    expect_loads(tag, good);

#define CASE(name, rule, ...)                                \
    do {                                                     \
        snprintf(what, sizeof what, "%s: %s", tag, name);    \
        im = copy_image(good->data, good->size, good->size); \
        __VA_ARGS__;                                         \
        expect_refused(what, &im, rule);                     \
    } while (0)

    CASE("ELFCLASS32", "class", im.data[EI_CLASS] = ELFCLASS32);
    CASE("big-endian", "class", im.data[EI_DATA] = ELFDATA2MSB);
    CASE("e_machine aarch64", "machine", ((Elf64_Ehdr *)im.data)->e_machine = EM_AARCH64);
    CASE("e_type ET_EXEC", "type", ((Elf64_Ehdr *)im.data)->e_type = ET_EXEC);
    CASE("p_memsz != p_filesz", "load-size", phdr(&im, PT_LOAD)->p_memsz += 4096);
    CASE("PT_LOAD without PF_X", "load-exec", phdr(&im, PT_LOAD)->p_flags &= ~(uint32_t)PF_X);
    CASE("p_filesz 0", "elf", phdr(&im, PT_LOAD)->p_filesz = 0; phdr(&im, PT_LOAD)->p_memsz = 0);
    CASE("no PT_DYNAMIC", "PT_DYNAMIC", phdr(&im, PT_DYNAMIC)->p_type = PT_NULL);
    CASE("DF_TEXTREL", "relocations", {
        Elf64_Dyn *e = dyn_entry(&im, DT_FLAGS);
        if (e)
            e->d_un.d_val |= DF_TEXTREL;
        else
            dyn_entry(&im, DT_SONAME)->d_tag = DT_TEXTREL;
    });
    CASE("DT_RELA", "relocations", dyn_entry(&im, DT_SONAME)->d_tag = DT_RELA);
    CASE("truncated to 100 bytes", "elf", im.size = 100);

    /* A text larger than LOADER_MAX_TEXT: the image padded past 1 MiB. */
    snprintf(what, sizeof what, "%s: text of 1 MiB + 4 KiB", tag);
    im = copy_image(good->data, good->size, LOADER_MAX_TEXT + 4096);
    im.size = LOADER_MAX_TEXT + 4096;
    phdr(&im, PT_LOAD)->p_filesz = im.size;
    phdr(&im, PT_LOAD)->p_memsz = im.size;
    expect_refused(what, &im, "text-size");
#undef CASE
}

/*
 * A 6.1 image (12-byte alternatives, note 6.1.192) prepares; forced under
 * the 6.17 profile its entries do not decode and the refusal names the
 * field. Judged as 6.1 explicitly it prepares again.
 */
static void mismatched_era(void)
{
    struct elfgen_desc d;
    struct elfgen_out out;
    struct loader_prepared p;
    struct vdsokit_error err = {{0}};
    char gerr[256];
    int rc;

    elfgen_desc_x86_64(&d);
    d.linux_version = 0x0601c0;
    d.alt_size = 12;
    d.nalt = 7;
    if (elfgen_build(&d, &out, gerr, sizeof gerr)) {
        CHECK(0, "elfgen 6.1: %s", gerr);
        return;
    }
    CHECK(loader_prepare(out.data, out.size, NULL, &p, &err) == 0 && p.alt.entries == 7,
          "the 6.1-shaped image prepares under its note: %s", err.msg);
    loader_prepared_free(&p);
    CHECK(loader_prepare_as(out.data, out.size, NULL, 0x060100, &p, &err) == 0,
          "judged as 6.1 explicitly: %s", err.msg);
    loader_prepared_free(&p);
    rc = loader_prepare_as(out.data, out.size, NULL, 0x061100, &p, &err);
    CHECK(rc == -1 && strstr(err.msg, "alternatives") &&
              (strstr(err.msg, "instr_offset") || strstr(err.msg, "repl_offset") ||
               strstr(err.msg, "instrlen") || strstr(err.msg, "replacementlen")),
          "the 6.1 image under the 6.17 profile: rc %d, \"%s\"", rc, err.msg);
    printf("6.1 image forced to 6.17: %s\n", err.msg);
    elfgen_free(&out);
}

/* Defects elfgen describes directly. */
static void generated(void)
{
    struct elfgen_desc d;
    struct elfgen_out out;
    char err[256];
    static const char *const cases[][2] = {
        {"elfgen: ELF32 i386", "class"},        {"elfgen: ELF64 big-endian", "class"},
        {"elfgen: two PT_LOADs", "load-count"}, {"elfgen: PT_LOAD at vaddr 0x10000", "load-origin"},
        {"elfgen: DT_RELA", "relocations"},
    };

    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        elfgen_desc_x86_64(&d);
        if (i == 0) {
            d.elf_class = 1;
            d.machine = EM_386;
        } else if (i == 1) {
            d.byte_order = 2;
        } else if (i == 2) {
            d.nloads = 2;
        } else if (i == 3) {
            d.base = 0x10000;
        } else {
            d.relocations = true;
        }
        if (elfgen_build(&d, &out, err, sizeof err)) {
            CHECK(0, "%s: elfgen: %s", cases[i][0], err);
            continue;
        }
        struct image im = copy_image(out.data, out.size, out.size);
        expect_refused(cases[i][0], &im, cases[i][1]);
        elfgen_free(&out);
    }

    elfgen_desc_x86_64(&d);
    CHECK(elfgen_build(&d, &out, err, sizeof err) == 0, "elfgen x86-64: %s", err);
    struct loader_prepared p;
    struct vdsokit_error lerr;
    CHECK(loader_prepare(out.data, out.size, NULL, &p, &lerr) == 0,
          "the elfgen x86-64 image prepares: %s", lerr.msg);
    loader_prepared_free(&p);
    elfgen_free(&out);
    mismatched_era();
}

int main(int argc, char **argv)
{
    struct image ref = argc > 1 ? read_image(argv[1]) : (struct image){NULL, 0};
    struct vdsokit_error err;
    const void *live;
    size_t live_size;
    unsigned before = exec_mappings();

    if (!ref.size)
        SKIP("no reference image (argument: %s)", argc > 1 ? argv[1] : "none");
    printf("refusals:\n");
    patched(&ref, "ref");
    if (loader_live_image(&live, &live_size, &err) == 0) {
        struct image im = copy_image(live, live_size, live_size);
        patched(&im, "live");
        free(im.data);
    }
    generated();
    CHECK(exec_mappings() == before, "executable mappings: %u before, %u after the refusals",
          before, exec_mappings());
    free(ref.data);
    return check_finish();
}
