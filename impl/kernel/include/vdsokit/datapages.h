/*
 * The vDSO data pages of the emulated kernel: one memfd holds them, the
 * writer (timekeeper) gets a read-write mapping, and readers get read-only
 * views placed where the loader reserved room before an image, in the page
 * order the kernel presents (docs/abi.md §1.4 and §4.5). File page order is
 * fixed: 0 time data, 1 time-namespace page, 2 rng, 3 arch (unused on x86),
 * 4 pvclock of vCPU0, 5 Hyper-V TSC page. The page-access helpers copy
 * records field by field with relaxed atomics, so that a writer and readers
 * in different threads never race in the C11 sense (and TSan agrees).
 */
#ifndef VDSOKIT_DATAPAGES_H
#define VDSOKIT_DATAPAGES_H

#include <stdint.h>
#include <vdsokit/abi.h>

struct layout_profile;

struct vdso_datapages {
    int memfd;   /* DATAPAGES_FILE_PAGES pages, zero-filled at creation */
    uint8_t *rw; /* the writer's read-write mapping of all file pages */
    /* The era the readers see (layout_profile.h); NULL: the canonical
     * 6.17 one. Set it before the first datapages_map_reader(). */
    const struct layout_profile *profile;
};

/* The file pages, in memfd order. */
enum datapages_file_page {
    DATAPAGES_FILE_TIME = 0,
    DATAPAGES_FILE_TIMENS = 1,
    DATAPAGES_FILE_RNG = 2,
    DATAPAGES_FILE_ARCH = 3,
    DATAPAGES_FILE_PVCLOCK = 4,
    DATAPAGES_FILE_HVCLOCK = 5,
    /* An older era's time page and namespace page, mirrored from 0 and 1
     * by the era serializer (datapages_era.h); unused for 6.17. */
    DATAPAGES_FILE_ERA_TIME = 6,
    DATAPAGES_FILE_ERA_TIMENS = 7,
    DATAPAGES_FILE_PAGES = 8,
};

/* How a reader sees the six pages: as a root-namespace task or inside a
 * child time namespace (page 0 = namespace page, page 1 = real data). */
enum datapages_layout { DATAPAGES_ROOT, DATAPAGES_TIMENS };

/* Returns 0 or -errno; on failure *dp is left with memfd -1, rw NULL. */
int datapages_create(struct vdso_datapages *dp);
void datapages_destroy(struct vdso_datapages *dp);

/* Writer views into the read-write mapping. */
struct vdso_time_data *datapages_time(const struct vdso_datapages *dp);
struct vdso_time_data *datapages_timens(const struct vdso_datapages *dp);
struct vdso_rng_data *datapages_rng(const struct vdso_datapages *dp);
struct pvclock_vcpu_time_info *datapages_pvclock(const struct vdso_datapages *dp);
struct ms_hyperv_tsc_page *datapages_hvclock(const struct vdso_datapages *dp);

/*
 * Map the six reader pages read-only at addr (page aligned, 6 pages that the
 * caller reserved) with MAP_FIXED|MAP_SHARED, arranged as dp->profile's era
 * presents them (NULL: 6.17). Pages the kernel would not back (6.17 root: 1
 * and 3; timens: 3; below a shorter era's pages: all) are PROT_NONE, so
 * touching them faults (SIGSEGV here, SIGBUS on a real kernel). Calling it again switches the
 * layout in place. Returns 0 or -errno.
 */
int datapages_map_reader(const struct vdso_datapages *dp, void *addr, enum datapages_layout layout);

/* Race-free copies of the shared records, one relaxed atomic access per
 * field; ordering (fences) is the caller's business. Loads copy seq too;
 * datapages_store_clock writes every field except seq, which belongs to the
 * update protocol. */
void datapages_load_clock(struct vdso_clock *dst, const struct vdso_clock *src);
void datapages_store_clock(struct vdso_clock *dst, const struct vdso_clock *src);
void datapages_load_time_data(struct vdso_time_data *dst, const struct vdso_time_data *src);

#endif /* VDSOKIT_DATAPAGES_H */
