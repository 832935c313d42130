/*
 * The data pages: a 6-page memfd, the writer's read-write mapping, and
 * read-only reader views laid out as the kernel's [vvar] and [vvar_vclock]
 * fault handlers present them, for the root and for a child time namespace.
 * Once the writer's mapping exists the memfd is sealed with
 * F_SEAL_FUTURE_WRITE: every later shared mapping of it (all reader pages,
 * backed or absent) then lacks VM_MAYWRITE, so mprotect(PROT_WRITE) on a
 * reader page fails with EACCES, as it does on the kernel's [vvar].
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vdsokit/datapages.h>
#include <vdsokit/layout_profile.h>

#define DATAPAGES_BYTES ((size_t)DATAPAGES_FILE_PAGES * VDSO_PAGE_SIZE)

/* Size the memfd, map it for the writer, then seal it; -errno on failure
 * (the mapping undone, the fd left to the caller). */
static int map_writer(int fd, void **rw)
{
    if (ftruncate(fd, (off_t)DATAPAGES_BYTES) != 0)
        return -errno;
    void *map = mmap(NULL, DATAPAGES_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return -errno;
    /* The writer's mapping predates the seal and keeps its write access. */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) != 0) {
        int err = -errno;
        munmap(map, DATAPAGES_BYTES);
        return err;
    }
    *rw = map;
    return 0;
}

int datapages_create(struct vdso_datapages *dp)
{
    dp->memfd = -1;
    dp->rw = NULL;
    dp->profile = NULL;
    int fd = memfd_create("vdsokit-datapages", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -errno;
    void *rw = NULL;
    int err = map_writer(fd, &rw);
    if (err) {
        close(fd);
        return err;
    }
    dp->memfd = fd;
    dp->rw = rw;
    return 0;
}

void datapages_destroy(struct vdso_datapages *dp)
{
    if (dp->rw)
        munmap(dp->rw, DATAPAGES_BYTES);
    if (dp->memfd >= 0)
        close(dp->memfd);
    dp->rw = NULL;
    dp->memfd = -1;
}

static void *file_page(const struct vdso_datapages *dp, enum datapages_file_page page)
{
    return dp->rw + (size_t)page * VDSO_PAGE_SIZE;
}

struct vdso_time_data *datapages_time(const struct vdso_datapages *dp)
{
    return file_page(dp, DATAPAGES_FILE_TIME);
}

struct vdso_time_data *datapages_timens(const struct vdso_datapages *dp)
{
    return file_page(dp, DATAPAGES_FILE_TIMENS);
}

struct vdso_rng_data *datapages_rng(const struct vdso_datapages *dp)
{
    return file_page(dp, DATAPAGES_FILE_RNG);
}

struct pvclock_vcpu_time_info *datapages_pvclock(const struct vdso_datapages *dp)
{
    return file_page(dp, DATAPAGES_FILE_PVCLOCK);
}

struct ms_hyperv_tsc_page *datapages_hvclock(const struct vdso_datapages *dp)
{
    return file_page(dp, DATAPAGES_FILE_HVCLOCK);
}

/*
 * Which file page backs each reader page comes from the profile;
 * LAYOUT_PAGE_NONE = not backed: a PROT_NONE view of the (never written)
 * arch page, so that it faults when touched and, being a view of the
 * sealed memfd, cannot be made writable either.
 */
static int map_one(const struct vdso_datapages *dp, uint8_t *at, int file_page_index)
{
    int prot = file_page_index == LAYOUT_PAGE_NONE ? PROT_NONE : PROT_READ;
    int page = file_page_index == LAYOUT_PAGE_NONE ? DATAPAGES_FILE_ARCH : file_page_index;
    void *p = mmap(at, VDSO_PAGE_SIZE, prot, MAP_FIXED | MAP_SHARED, dp->memfd,
                   (off_t)page * VDSO_PAGE_SIZE);
    return p == MAP_FAILED ? -errno : 0;
}

int datapages_map_reader(const struct vdso_datapages *dp, void *addr, enum datapages_layout layout)
{
    if (dp->memfd < 0 || ((uintptr_t)addr & (VDSO_PAGE_SIZE - 1)) != 0)
        return -EINVAL;
    const struct layout_profile *p = dp->profile ? dp->profile : layout_profile_native();
    const int *map = layout == DATAPAGES_TIMENS ? p->reader_timens : p->reader_root;
    for (int i = 0; i < VDSO_DATA_PAGES; i++) {
        int err = map_one(dp, (uint8_t *)addr + (size_t)i * VDSO_PAGE_SIZE, map[i]);
        if (err)
            return err;
    }
    return 0;
}

#define LOAD(field)  __atomic_load_n(&src->field, __ATOMIC_RELAXED)
#define STORE(field) __atomic_store_n(&dst->field, src->field, __ATOMIC_RELAXED)

void datapages_load_clock(struct vdso_clock *dst, const struct vdso_clock *src)
{
    dst->seq = LOAD(seq);
    dst->clock_mode = LOAD(clock_mode);
    dst->cycle_last = LOAD(cycle_last);
    dst->max_cycles = LOAD(max_cycles);
    dst->mask = LOAD(mask);
    dst->mult = LOAD(mult);
    dst->shift = LOAD(shift);
    for (int i = 0; i < VDSO_BASES; i++) {
        dst->basetime[i].sec = LOAD(basetime[i].sec);
        dst->basetime[i].nsec = LOAD(basetime[i].nsec);
    }
}

void datapages_store_clock(struct vdso_clock *dst, const struct vdso_clock *src)
{
    STORE(clock_mode);
    STORE(cycle_last);
    STORE(max_cycles);
    STORE(mask);
    STORE(mult);
    STORE(shift);
    for (int i = 0; i < VDSO_BASES; i++) {
        STORE(basetime[i].sec);
        STORE(basetime[i].nsec);
    }
}

void datapages_load_time_data(struct vdso_time_data *dst, const struct vdso_time_data *src)
{
    for (int i = 0; i < VDSO_CS_BASES; i++)
        datapages_load_clock(&dst->clock_data[i], &src->clock_data[i]);
    for (int i = 0; i < VDSO_MAX_AUX_CLOCKS; i++)
        datapages_load_clock(&dst->aux_clock_data[i], &src->aux_clock_data[i]);
    dst->tz_minuteswest = LOAD(tz_minuteswest);
    dst->tz_dsttime = LOAD(tz_dsttime);
    dst->hrtimer_res = LOAD(hrtimer_res);
    dst->unused_pad = LOAD(unused_pad);
}
