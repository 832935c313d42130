/*
 * The mapping a load produces, read back from /proc/self/maps: six data
 * pages then the text in one contiguous range at a page-aligned address
 * that changes from load to load; the text read+execute and never
 * writable; the data pages read-only and shared (the memfd), with the pages
 * the kernel would not back (1 and 3 in the root layout, 3 in the namespace
 * layout) inaccessible; the namespace layout showing the namespace page at
 * page 0 and the real data at page 1; the text equal to the prepared,
 * patched copy; and unload returning the range and the memfd.
 *
 * Usage: test_loader_map REFERENCE-IMAGE
 */
#include "check.h"

#include <vdsokit/loader.h>
#include <vdsokit/loader_prepare.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The permissions of the mapping containing addr ("r-xp"), or "" if none. */
static void perms_at(const void *addr, char out[8])
{
    FILE *f = fopen("/proc/self/maps", "r");

    unsigned long lo, hi, a = (unsigned long)addr;
    char line[512], p[8];

    out[0] = '\0';
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, p) == 3 && a >= lo && a < hi) {
            strcpy(out, p);
            break;
        }
    if (f)
        fclose(f);
}

static unsigned open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;

    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

static void expect_perms(const struct vdso_loaded *l, unsigned page, const char *want,
                         const char *layout)
{
    char p[8];

    perms_at(l->base + (size_t)page * VDSO_PAGE_SIZE, p);
    CHECK(p[0] && !strncmp(p, want, strlen(want)),
          "%s layout, data page %u: perms \"%s\", want \"%s\"", layout, page, p, want);
}

static void check_layout(struct vdso_loaded *l)
{
    /* Backed pages are shared views of the memfd; absent ones need only be inaccessible. */
    static const char *const root[6] = {"r--s", "---", "r--s", "---", "r--s", "r--s"};
    static const char *const ns[6] = {"r--s", "r--s", "r--s", "---", "r--s", "r--s"};
    struct vdsokit_error err;
    char p[8];

    CHECK(((uintptr_t)l->base & (VDSO_PAGE_SIZE - 1)) == 0, "base %p not page aligned",
          (void *)l->base);
    CHECK(l->text == l->base + VDSO_DATA_PAGES * VDSO_PAGE_SIZE, "text %p, base %p + 6 pages",
          (void *)l->text, (void *)l->base);
    for (size_t off = 0; off < l->text_len; off += VDSO_PAGE_SIZE) {
        perms_at(l->text + off, p);
        CHECK(!strcmp(p, "r-xp"), "text page +0x%zx: perms \"%s\", want r-xp", off, p);
    }
    for (unsigned i = 0; i < 6; i++)
        expect_perms(l, i, root[i], "root");

    CHECK(loader_set_layout(l, LOADER_LAYOUT_TIMENS, &err) == 0, "%s", err.msg);
    for (unsigned i = 0; i < 6; i++)
        expect_perms(l, i, ns[i], "timens");
    const struct vdso_time_data *page0 = (const void *)l->base;
    const struct vdso_time_data *page1 = (const void *)(l->base + VDSO_PAGE_SIZE);
    CHECK(page0->clock_data[0].clock_mode == VDSO_CLOCKMODE_TIMENS && page0->clock_data[0].seq == 1,
          "timens page 0: mode %d seq %u (the loader fills a namespace page)",
          page0->clock_data[0].clock_mode, page0->clock_data[0].seq);
    CHECK(!memcmp(page1, datapages_time(&l->dp), sizeof *page1),
          "timens page 1 is not the real time data");
    CHECK(loader_set_layout(l, LOADER_LAYOUT_ROOT, &err) == 0, "%s", err.msg);
    expect_perms(l, 1, "---", "root again");
}

int main(int argc, char **argv)
{
    const struct tk_script script = {
        .counter = TK_COUNTER_PVCLOCK_MANUAL, .counter_start = 1000, .mult = 1u << 20, .shift = 20};
    const struct loader_options opt = {.clock = LOADER_CLOCK_SCRIPTED, .script = &script};
    struct vdso_loaded *a = NULL, *b = NULL;
    struct loader_prepared prep;
    struct vdsokit_error err;
    unsigned fds = open_fds();
    uint8_t *base_a;
    char p[8];

    if (argc < 2 || access(argv[1], R_OK))
        SKIP("no reference image (argument: %s)", argc > 1 ? argv[1] : "none");
    CHECK(loader_load_file(&a, argv[1], &opt, &err) == 0, "%s", err.msg);
    CHECK(loader_load_live(&b, &opt, &err) == 0, "%s", err.msg);
    if (!a || !b)
        return check_finish();
    printf("ref at %p (text %zu bytes), live copy at %p (text %zu bytes)\n", (void *)a->base,
           a->image_size, (void *)b->base, b->image_size);
    CHECK(a->base != b->base, "two loads at the same address");
    check_layout(a);
    check_layout(b);

    /* The mapped text is the prepared copy, alternatives applied. */
    const void *live;
    size_t live_size;
    CHECK(loader_live_image(&live, &live_size, &err) == 0, "%s", err.msg);
    CHECK(loader_prepare(live, live_size, NULL, &prep, &err) == 0, "%s", err.msg);
    CHECK(prep.text && !memcmp(prep.text, b->text, b->text_len), "mapped text != prepared text");
    loader_prepared_free(&prep);

    base_a = a->base;
    loader_unload(a);
    loader_unload(b);
    perms_at(base_a, p);
    /* The place goes back to the loader's window: PROT_NONE, nothing of the image left. */
    CHECK(p[0] == '\0' || strcmp(p, "---p") == 0, "after unload %p is still mapped (%s)",
          (void *)base_a, p);
    CHECK(open_fds() == fds, "file descriptors: %u before, %u after", fds, open_fds());
    return check_finish();
}
