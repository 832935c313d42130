/*
 * A loader-free smoke test of the built reference image (argv[1]): its
 * .altinstructions records are checked byte for byte (the kernel's 14-byte
 * format, two records per ordered-TSC site in LFENCE_RDTSC, RDTSCP order,
 * one RDPID record for getcpu, every original and replacement where it must
 * be and of equal length); then the image is copied after six test data
 * pages, exactly as the kernel lays them out, and its exports (found in
 * .dynsym with libelf) are run: on random states against the hosted build
 * of the same sources, bit for bit (real syscalls on both sides where they
 * fall back); in TSC mode, unpatched and with the LFENCE_RDTSC replacements
 * applied, against the TSC read around the call; getcpu against
 * sched_getcpu() pinned to each CPU; and a raw -EINVAL with errno untouched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vdsokit/vdso_entry.h>
#include <vdsokit/vdso_hosted.h>

#include "vdso_test_states.h"

#ifdef VDSOKIT_HAVE_EMBEDDED_REF
#include <vdsokit/vdso_ref.h>
#endif

struct alt_record {
    uint64_t instr, repl; /* image offsets */
    uint32_t feature;
    uint8_t instrlen, repllen;
};

struct image {
    uint8_t *file;
    size_t size;
    struct alt_record alts[64];
    size_t nalts;
    uint64_t text_lo, text_hi, repl_lo, repl_hi;
    uint64_t sym[5];
};

static const char *const export_names[5] = {"__vdso_clock_gettime", "__vdso_gettimeofday",
                                            "__vdso_time", "__vdso_clock_getres", "__vdso_getcpu"};

static int read_file(const char *path, struct image *img)
{
    int fd = open(path, O_RDONLY);
    off_t n = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;

    if (n <= 0 || !(img->file = malloc((size_t)n)) || pread(fd, img->file, (size_t)n, 0) != n) {
        perror(path);
        return -1;
    }
    img->size = (size_t)n;
    close(fd);
    return 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Sections and exports through libelf (an oracle independent of our resolver). */
static int parse_image(struct image *img)
{
    Elf *e = elf_memory((char *)img->file, img->size);
    Elf_Scn *scn = NULL;
    size_t shstrndx;

    if (!e || elf_getshdrstrndx(e, &shstrndx) != 0)
        return -1;
    while ((scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        gelf_getshdr(scn, &sh);
        const char *name = elf_strptr(e, shstrndx, sh.sh_name);
        if (!strcmp(name, ".text")) {
            img->text_lo = sh.sh_addr;
            img->text_hi = sh.sh_addr + sh.sh_size;
        } else if (!strcmp(name, ".altinstr_replacement")) {
            img->repl_lo = sh.sh_addr;
            img->repl_hi = sh.sh_addr + sh.sh_size;
        } else if (!strcmp(name, ".altinstructions")) {
            CHECK(sh.sh_size % VDSO_ALT_ENTRY_SIZE == 0 && sh.sh_size / 14 <= 64,
                  ".altinstructions size %" PRIu64, (uint64_t)sh.sh_size);
            for (uint64_t off = 0; off + 14 <= sh.sh_size && img->nalts < 64; off += 14) {
                const uint8_t *r = img->file + sh.sh_offset + off;
                struct alt_record *a = &img->alts[img->nalts++];
                a->instr = sh.sh_addr + off + (uint64_t)(int64_t)(int32_t)le32(r);
                a->repl = sh.sh_addr + off + 4 + (uint64_t)(int64_t)(int32_t)le32(r + 4);
                a->feature = le32(r + 8);
                a->instrlen = r[12];
                a->repllen = r[13];
            }
        } else if (sh.sh_type == SHT_DYNSYM) {
            Elf_Data *d = elf_getdata(scn, NULL);
            for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
                GElf_Sym s;
                gelf_getsym(d, (int)i, &s);
                for (int k = 0; k < 5; k++)
                    if (!strcmp(elf_strptr(e, sh.sh_link, s.st_name), export_names[k]))
                        img->sym[k] = s.st_value;
            }
        }
    }
    elf_end(e);
    return 0;
}

static bool bytes_are(const struct image *img, uint64_t at, const uint8_t *want, size_t n)
{
    return at + n <= img->size && memcmp(img->file + at, want, n) == 0;
}

static void check_alternatives(const struct image *img)
{
    static const uint8_t rdtsc_pad[] = {0x0f, 0x31, 0x0f, 0x1f, 0x00};
    static const uint8_t lfence_rdtsc[] = {0x0f, 0xae, 0xe8, 0x0f, 0x31};
    static const uint8_t rdtscp_pad[] = {0x0f, 0x01, 0xf9, 0x66, 0x90};
    static const uint8_t lsl_pad[] = {0x0f, 0x03, 0xc1, 0x90};
    static const uint8_t rdpid[] = {0xf3, 0x0f, 0xc7, 0xf8};
    size_t tsc_sites = 0, cpu_sites = 0;

    for (size_t i = 0; i < img->nalts; i++) {
        const struct alt_record *a = &img->alts[i];
        CHECK(a->instr >= img->text_lo && a->instr + a->instrlen <= img->text_hi &&
                  a->repl >= img->repl_lo && a->repl + a->repllen <= img->repl_hi &&
                  a->instrlen == a->repllen,
              "record %zu: instr 0x%" PRIx64 "+%u repl 0x%" PRIx64 "+%u outside its section", i,
              a->instr, a->instrlen, a->repl, a->repllen);
        if (a->feature == X86_FEATURE_LFENCE_RDTSC) {
            const struct alt_record *b = i + 1 < img->nalts ? &img->alts[i + 1] : NULL;
            tsc_sites++;
            CHECK(b && b->instr == a->instr && b->feature == X86_FEATURE_RDTSCP,
                  "record %zu: LFENCE_RDTSC must be followed by RDTSCP on the same site", i);
            CHECK(bytes_are(img, a->instr, rdtsc_pad, 5) &&
                      bytes_are(img, a->repl, lfence_rdtsc, 5),
                  "record %zu: rdtsc site bytes", i);
            CHECK(b && bytes_are(img, b->repl, rdtscp_pad, 5), "record %zu: rdtscp bytes", i);
            i++;
        } else if (a->feature == X86_FEATURE_RDPID) {
            cpu_sites++;
            CHECK(bytes_are(img, a->instr, lsl_pad, 4) && bytes_are(img, a->repl, rdpid, 4),
                  "record %zu: getcpu site bytes", i);
        } else {
            CHECK(0, "record %zu: unexpected feature 0x%x", i, a->feature);
        }
    }
    printf("alternatives: %zu records, %zu ordered-TSC sites, %zu getcpu site\n", img->nalts,
           tsc_sites, cpu_sites);
    CHECK(tsc_sites >= 2 && cpu_sites == 1, "%zu TSC sites, %zu getcpu sites", tsc_sites,
          cpu_sites);
}

/* The six data pages and a copy of the image right after them. */
struct mapped {
    uint8_t *base, *text;
    size_t text_size;
    vdso_clock_gettime_fn clock_gettime;
    vdso_gettimeofday_fn gettimeofday;
    vdso_time_fn time;
    vdso_clock_getres_fn clock_getres;
    vdso_getcpu_fn getcpu;
};

static int map_image(const struct image *img, struct mapped *m, uint32_t patch_feature)
{
    size_t data = VDSO_DATA_PAGES * VDSO_PAGE_SIZE;

    m->text_size = (img->size + VDSO_PAGE_SIZE - 1) & ~(size_t)(VDSO_PAGE_SIZE - 1);
    m->base =
        mmap(NULL, data + m->text_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m->base == MAP_FAILED)
        return -1;
    m->text = m->base + data;
    memcpy(m->text, img->file, img->size);
    for (size_t i = 0; i < img->nalts; i++)
        if (img->alts[i].feature == patch_feature)
            memcpy(m->text + img->alts[i].instr, m->text + img->alts[i].repl, img->alts[i].repllen);
    if (mprotect(m->text, m->text_size, PROT_READ | PROT_EXEC) != 0)
        return -1;
    memcpy(&m->clock_gettime, &(void *){m->text + img->sym[0]}, sizeof(void *));
    memcpy(&m->gettimeofday, &(void *){m->text + img->sym[1]}, sizeof(void *));
    memcpy(&m->time, &(void *){m->text + img->sym[2]}, sizeof(void *));
    memcpy(&m->clock_getres, &(void *){m->text + img->sym[3]}, sizeof(void *));
    memcpy(&m->getcpu, &(void *){m->text + img->sym[4]}, sizeof(void *));
    return 0;
}

static void unmap_image(struct mapped *m)
{
    munmap(m->base, VDSO_DATA_PAGES * VDSO_PAGE_SIZE + m->text_size);
}

static struct state_gen gen;

static uint64_t hook_tsc(void *ctx)
{
    return 0; /* no TSC-mode states here: PVCLOCK (mul 0) and HVCLOCK (scale 0) ignore it */
}

static long hook_syscall(void *ctx, long nr, long arg0, long arg1)
{
    long rc = syscall(nr, arg0, arg1);

    return rc == -1 ? -errno : rc;
}

static bool ts_valid(const struct vdso_timespec *ts)
{
    return ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

/* Image and hosted build on one state; `fell` = the hosted side used the syscall. */
static void compare_one(struct mapped *m, int32_t clk, unsigned long *exact)
{
    struct vdso_timespec a = {-1, -1}, b = {-1, -1};

    unsigned long before = vdso_hosted_fallback_count();
    int rb = vdso_hosted_clock_gettime(clk, &b);
    int ra = m->clock_gettime(clk, &a);
    bool fell = vdso_hosted_fallback_count() != before;

    if (!fell) {
        (*exact)++;
        CHECK(ra == rb && a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec,
              "clock %d: image %d {%" PRId64 ", %" PRId64 "}, hosted %d {%" PRId64 ", %" PRId64 "}",
              clk, ra, a.tv_sec, a.tv_nsec, rb, b.tv_sec, b.tv_nsec);
    } else {
        CHECK(ra == rb && (ra != 0 || (ts_valid(&a) && ts_valid(&b))),
              "clock %d (syscall): image %d, hosted %d", clk, ra, rb);
    }
    before = vdso_hosted_fallback_count();
    a = b = (struct vdso_timespec){-1, -1};
    rb = vdso_hosted_clock_getres(clk, &b);
    ra = m->clock_getres(clk, &a);
    CHECK(ra == rb && a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec,
          "getres %d: image %d %" PRId64 ", hosted %d %" PRId64, clk, ra, a.tv_nsec, rb, b.tv_nsec);
    CHECK(m->clock_getres(clk, NULL) == vdso_hosted_clock_getres(clk, NULL), "getres %d NULL", clk);
}

static void compare_page_level(struct mapped *m)
{
    struct vdso_timeval ta = {-1, -1}, tb = {-1, -1};
    struct vdso_timezone za = {-1, -1}, zb = {-1, -1};

    unsigned long before = vdso_hosted_fallback_count();
    int rb = vdso_hosted_gettimeofday(&tb, &zb);
    int ra = m->gettimeofday(&ta, &za);

    if (vdso_hosted_fallback_count() == before)
        CHECK(ra == rb && ta.tv_sec == tb.tv_sec && ta.tv_usec == tb.tv_usec &&
                  za.tz_minuteswest == zb.tz_minuteswest && za.tz_dsttime == zb.tz_dsttime,
              "gettimeofday: image {%" PRId64 ", %" PRId64 "} {%d, %d}, hosted {%" PRId64
              ", %" PRId64 "} {%d, %d}",
              ta.tv_sec, ta.tv_usec, za.tz_minuteswest, za.tz_dsttime, tb.tv_sec, tb.tv_usec,
              zb.tz_minuteswest, zb.tz_dsttime);
    else
        CHECK(ra == rb && ra == 0, "gettimeofday (syscall): image %d, hosted %d", ra, rb);
    CHECK(m->gettimeofday(NULL, &za) == 0 && vdso_hosted_gettimeofday(NULL, &zb) == 0 &&
              za.tz_minuteswest == zb.tz_minuteswest && za.tz_dsttime == zb.tz_dsttime,
          "tz only");
    CHECK(m->gettimeofday(NULL, NULL) == 0, "gettimeofday(NULL, NULL)");
    int64_t t1 = 0, t2 = 0;
    CHECK(m->time(&t1) == vdso_hosted_time(&t2) && t1 == t2 && m->time(NULL) == t1,
          "time: image %" PRId64 ", hosted %" PRId64, t1, t2);
}

static void differential(const struct image *img, unsigned nstates)
{
    struct mapped m;
    struct test_pages pg;
    struct vdso_hosted_hooks hooks = {.read_tsc = hook_tsc, .fallback = hook_syscall};

    unsigned long exact = 0;

    if (map_image(img, &m, 0) != 0) {
        CHECK(0, "cannot map the image: %s", strerror(errno));
        return;
    }
    pg.base = m.base;
    gen = (struct state_gen){.rng = 0xd1ff, .pg = &pg, .no_tsc = true};
    vdso_hosted_set_pages(m.base);
    vdso_hosted_set_hooks(&hooks);
    tp_protect(&pg, VDSO_ARCH_PAGE, 0);
    for (unsigned s = 0; s < nstates && check_failed < 20; s++) {
        struct tk_model_view view;
        bool timens = rnd(&gen) % 3 == 0;

        tp_protect(&pg, VDSO_TIMENS_PAGE, 1);
        random_state(&gen, timens, &view);
        if (!timens)
            tp_protect(&pg, VDSO_TIMENS_PAGE, 0);
        for (int32_t clk = -20; clk <= 40; clk++)
            compare_one(&m, clk, &exact);
        compare_one(&m, INT_MIN, &exact);
        compare_one(&m, INT_MAX, &exact);
        compare_page_level(&m);
    }
    printf("image vs hosted: %u states, %lu clock_gettime results compared exactly\n", nstates,
           exact);
    CHECK(exact > nstates, "too few exact comparisons (%lu)", exact);
    vdso_hosted_set_hooks(NULL);
    unmap_image(&m);
}

static inline uint64_t test_rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("lfence\n rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return (uint64_t)hi << 32 | lo;
}

/* TSC mode with identity scaling: the result is the TSC itself, in ns. */
static void tsc_mode(const struct image *img, uint32_t patch, const char *variant)
{
    struct mapped m;
    struct test_pages pg;
    struct vdso_timespec ts;

    if (map_image(img, &m, patch) != 0) {
        CHECK(0, "cannot map the image: %s", strerror(errno));
        return;
    }
    pg.base = m.base;
    struct vdso_time_data *vd = tp_page(&pg, VDSO_TIME_PAGE);
    const struct tp_clock ident = {VDSO_CLOCKMODE_TSC, 0, UINT64_MAX, 1, 0};
    tp_set_clock(&vd->clock_data[0], 2, &ident);
    tp_protect(&pg, VDSO_TIMENS_PAGE, 0);
    tp_protect(&pg, VDSO_PVCLOCK_PAGE, 0); /* TSC mode must not touch them */
    tp_protect(&pg, VDSO_HVCLOCK_PAGE, 0);
    for (int i = 0; i < 1000; i++) {
        uint64_t t1 = test_rdtsc();
        int rc = m.clock_gettime(VDSO_CLOCK_MONOTONIC, &ts);
        uint64_t t2 = test_rdtsc();
        uint64_t v = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        CHECK(rc == 0 && t1 <= v && v <= t2,
              "%s: TSC reading %" PRIu64 " outside [%" PRIu64 ", %" PRIu64 "] (rc %d)", variant, v,
              t1, t2, rc);
        if (check_failed)
            break;
    }
    unmap_image(&m);
}

static void getcpu_pinned(const struct image *img)
{
    struct mapped m;
    cpu_set_t orig, one;
    unsigned cpu = 9999, node = 9999;
    int tested = 0;

    if (map_image(img, &m, 0) != 0) {
        CHECK(0, "cannot map the image: %s", strerror(errno));
        return;
    }
    CHECK(m.getcpu(NULL, NULL, NULL) == 0, "getcpu(NULL, NULL, NULL)");
    CHECK(sched_getaffinity(0, sizeof(orig), &orig) == 0, "sched_getaffinity");
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &orig))
            continue;
        CPU_ZERO(&one);
        CPU_SET(c, &one);
        if (sched_setaffinity(0, sizeof(one), &one) != 0)
            continue;
        unsigned scpu = 0, snode = 0;
        CHECK(syscall(SYS_getcpu, &scpu, &snode, NULL) == 0, "getcpu(2)");
        CHECK(m.getcpu(&cpu, &node, NULL) == 0 && cpu == (unsigned)c && cpu == scpu &&
                  node == snode,
              "pinned to %d: image getcpu %u/%u, getcpu(2) %u/%u", c, cpu, node, scpu, snode);
        tested++;
    }
    sched_setaffinity(0, sizeof(orig), &orig);
    printf("getcpu: image agrees with getcpu(2) on %d CPUs\n", tested);
    unmap_image(&m);
}

static void raw_errors(const struct image *img)
{
    struct mapped m;
    struct vdso_timespec ts;

    if (map_image(img, &m, 0) != 0)
        return;
    errno = 1234;
    CHECK(m.clock_gettime(-1, &ts) == -EINVAL && errno == 1234,
          "invalid clock: want raw -EINVAL and errno untouched (errno %d)", errno);
    CHECK(m.clock_gettime(24, &ts) == -EINVAL, "clock 24: -EINVAL");
    CHECK(m.clock_getres(INT_MAX, &ts) == -EINVAL, "getres INT_MAX: -EINVAL");
    CHECK(m.clock_gettime(VDSO_CLOCK_PROCESS_CPUTIME, &ts) == 0 && ts_valid(&ts),
          "CPU clock through the syscall");
    unmap_image(&m);
}

/* The copy compiled into vdsokit is this very file, with matching metadata. */
static void check_embedded(const struct image *img)
{
#ifdef VDSOKIT_HAVE_EMBEDDED_REF
    const struct vdso_image_blob *b = &vdso_ref_image;

    CHECK(b->file_size == img->size && memcmp(b->data, img->file, img->size) == 0,
          "embedded image differs from the file (%zu vs %zu bytes)", b->file_size, img->size);
    CHECK(b->size % VDSO_PAGE_SIZE == 0 && b->size >= b->file_size && b->size - b->file_size < 4096,
          "embedded array size %zu", b->size);
    CHECK(b->alt_len == img->nalts * VDSO_ALT_ENTRY_SIZE, "embedded alt_len %" PRIu64, b->alt_len);
    for (int k = 0; k < 5; k++) {
        bool found = false;
        for (size_t i = 0; i < b->nsyms; i++)
            if (!strcmp(b->syms[i].name, export_names[k]))
                found = b->syms[i].offset == img->sym[k] && b->syms[i].version &&
                        !strcmp(b->syms[i].version, "LINUX_2.6");
        CHECK(found, "embedded symbol %s missing or at the wrong offset", export_names[k]);
    }
    printf("embedded: %zu bytes (array %zu), %zu symbols, match the file\n", b->file_size, b->size,
           b->nsyms);
#else
    (void)img;
    printf("embedded: not built (no vdsoimg)\n");
#endif
}

int main(int argc, char **argv)
{
    struct image img = {0};

    if (argc < 2)
        SKIP("usage: test_vdso_image IMAGE");
    if (read_file(argv[1], &img) != 0)
        return 1;
    elf_version(EV_CURRENT);
    CHECK(parse_image(&img) == 0, "libelf cannot read %s", argv[1]);
    for (int k = 0; k < 5; k++)
        CHECK(img.sym[k] != 0, "export %s not found", export_names[k]);
    if (check_failed)
        return check_finish();
    check_alternatives(&img);
    check_embedded(&img);
    raw_errors(&img);
    differential(&img, 3000);
    tsc_mode(&img, 0, "original rdtsc");
    tsc_mode(&img, X86_FEATURE_LFENCE_RDTSC, "lfence; rdtsc");
    getcpu_pinned(&img);
    printf("not run here: the RDTSCP and RDPID replacements (this CPU has neither)\n");
    free(img.file);
    return check_finish();
}
