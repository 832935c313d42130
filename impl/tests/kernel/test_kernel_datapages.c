/*
 * The data pages: the memfd holds six zeroed pages in the fixed file order,
 * the writer views point at them, and reader views show the kernel's page
 * order for the root and for a time namespace (unbacked pages inaccessible,
 * every page read-only), switching in place and seeing writer updates.
 */
#define _GNU_SOURCE
#include "../check.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vdsokit/datapages.h>

#define PAGE VDSO_PAGE_SIZE

static int probe_pipe[2] = {-1, -1}, devzero = -1;

/* Probe without signals: the kernel reports EFAULT for a bad user buffer
 * (a pipe copies the byte; /dev/null would not even look at it). */
static int readable(const void *p)
{
    char sink;

    if (write(probe_pipe[1], p, 1) != 1)
        return 0;
    return read(probe_pipe[0], &sink, 1) == 1;
}

static int writable(void *p)
{
    return read(devzero, p, 1) == 1;
}

static uint64_t marker(const uint8_t *page)
{
    uint64_t v;

    memcpy(&v, page + 64, sizeof(v));
    return v;
}

static void check_layout(uint8_t *reader, const int *expect, const char *name)
{
    for (int i = 0; i < VDSO_DATA_PAGES; i++) {
        uint8_t *p = reader + (size_t)i * PAGE;
        if (expect[i] < 0) {
            CHECK(!readable(p), "%s: reader page %d must be inaccessible", name, i);
            continue;
        }
        CHECK(readable(p), "%s: reader page %d must be readable", name, i);
        CHECK(!writable(p), "%s: reader page %d must be read-only", name, i);
        CHECK_EQ_U64(marker(p), 0xabc0u + (unsigned)expect[i]);
    }
}

int main(void)
{
    if (pipe2(probe_pipe, O_CLOEXEC) != 0)
        SKIP("pipe2: %s", strerror(errno));
    devzero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    struct vdso_datapages dp;
    int err = datapages_create(&dp);
    CHECK(err == 0, "datapages_create: %s", strerror(-err));
    if (err)
        return check_finish();

    struct stat st;
    CHECK(fstat(dp.memfd, &st) == 0 && st.st_size == DATAPAGES_FILE_PAGES * PAGE, "memfd size %lld",
          (long long)st.st_size);
    size_t nonzero = 0;
    for (size_t i = 0; i < (size_t)DATAPAGES_FILE_PAGES * PAGE; i++)
        nonzero += dp.rw[i] != 0;
    CHECK(nonzero == 0, "%zu non-zero bytes in fresh pages", nonzero);
    CHECK((uint8_t *)datapages_time(&dp) == dp.rw, "time page at file page 0");
    CHECK((uint8_t *)datapages_timens(&dp) == dp.rw + 1 * PAGE, "timens page at file page 1");
    CHECK((uint8_t *)datapages_rng(&dp) == dp.rw + 2 * PAGE, "rng page at file page 2");
    CHECK((uint8_t *)datapages_pvclock(&dp) == dp.rw + 4 * PAGE, "pvclock at file page 4");
    CHECK((uint8_t *)datapages_hvclock(&dp) == dp.rw + 5 * PAGE, "hvclock at file page 5");

    for (uint64_t i = 0; i < VDSO_DATA_PAGES; i++) {
        uint64_t v = 0xabc0u + i;
        memcpy(dp.rw + i * PAGE + 64, &v, sizeof(v));
    }
    uint8_t *reader =
        mmap(NULL, VDSO_DATA_PAGES * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(reader != MAP_FAILED, "reserve: %s", strerror(errno));

    static const int root[] = {0, -1, 2, -1, 4, 5};
    static const int timens[] = {1, 0, 2, -1, 4, 5};
    CHECK(datapages_map_reader(&dp, reader, DATAPAGES_ROOT) == 0, "map root");
    check_layout(reader, root, "root");
    CHECK(datapages_map_reader(&dp, reader, DATAPAGES_TIMENS) == 0, "map timens");
    check_layout(reader, timens, "timens");
    CHECK(datapages_map_reader(&dp, reader, DATAPAGES_ROOT) == 0, "map root again");
    check_layout(reader, root, "root again");

    /* The reader sees the writer's stores through the shared memfd. */
    datapages_time(&dp)->hrtimer_res = 12345;
    const struct vdso_time_data *rt = (const void *)reader;
    CHECK_EQ_U64(rt->hrtimer_res, 12345);
    CHECK(datapages_map_reader(&dp, reader + 1, DATAPAGES_ROOT) == -EINVAL,
          "unaligned reader address must be refused");

    munmap(reader, VDSO_DATA_PAGES * PAGE);
    datapages_destroy(&dp);
    CHECK(dp.memfd == -1 && dp.rw == NULL, "destroy resets the struct");
    datapages_destroy(&dp); /* idempotent */
    return check_finish();
}
