/*
 * bench_elf_resolve: the cost of a full resolve of the live vDSO (open the
 * image, then look up its six exports under LINUX_2.6) with vdsokit's
 * resolver, with libelf doing the same through its execution view, and
 * with glibc's dlvsym(). The three run in one process pinned to one CPU,
 * interleaved batch by batch (the order rotating each round), so that load
 * from other processes hits all three alike; the figure reported is the
 * best batch of each (the least disturbed), next to the median. Before
 * timing, the three must agree on every address.
 *
 * usage: bench_elf_resolve [ROUNDS [ITERS [IMAGE]]]   (defaults 300, 1000).
 * With IMAGE (a dump of the vDSO, e.g. from `vdsoimg dump-live`) the file
 * is resolved instead of the live mapping, and dlvsym, which only knows the
 * live one, is left out. That is the callgrind driver (valgrind hides the
 * vDSO from its guest): with ROUNDS 1 ITERS 1000, the inclusive instruction
 * counts of resolve_vdsokit and resolve_libelf divided by their calls are
 * the instructions per full resolve.
 */
#define _GNU_SOURCE /* dlvsym, sched_setaffinity */
#include <dlfcn.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vdsokit/elf.h>
#include <vdsokit/loader.h>
#include <vdsokit/timespec.h>

#include <gelf.h>

#define NSYMS    6
#define NMETHODS 3

static const char *const names[NSYMS] = {"__vdso_clock_gettime", "__vdso_gettimeofday",
                                         "__vdso_time",          "__vdso_clock_getres",
                                         "__vdso_getcpu",        "__vdso_getrandom"};

/* What one full resolve found: symbol values relative to the image base. */
struct resolved {
    uint64_t value[NSYMS];
    int found;
};

/* The input of every method: the image (the live one as the loader finds it, or a file) and a
 * private copy of it. */
struct live {
    const uint8_t *base;
    size_t size;
    char *copy; /* libelf wants writable memory */
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts_ns(&ts);
}

/* Pin to the last CPU we may run on: timing one core, no migrations. */
static int pin_to_one_cpu(void)
{
    cpu_set_t set;
    int cpu = -1;

    if (sched_getaffinity(0, sizeof(set), &set))
        return -1;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set))
            cpu = i;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) ? -1 : cpu;
}

__attribute__((noinline)) static void resolve_vdsokit(const struct live *in, struct resolved *out)
{
    struct elf_image img;
    struct elf_sym s;

    out->found = 0;
    if (elf_open(&img, in->base, in->size, NULL))
        return;
    for (int i = 0; i < NSYMS; i++)
        if (elf_lookup(&img, names[i], "LINUX_2.6", ELF_LOOKUP_AUTO, &s) == ELF_FOUND) {
            out->value[i] = s.value;
            out->found++;
        }
}

static bool libelf_map(Elf *e, size_t nph, uint64_t vaddr, uint64_t *off)
{
    GElf_Phdr ph;

    for (size_t i = 0; i < nph; i++)
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr &&
            vaddr - ph.p_vaddr < ph.p_filesz) {
            *off = ph.p_offset + (vaddr - ph.p_vaddr);
            return true;
        }
    return false;
}

/* The version index of `want` among the verdefs, through gelf. */
static int libelf_verndx(Elf_Data *vd, uint64_t count, const char *strtab, const char *want)
{
    GElf_Verdef def;
    GElf_Verdaux aux;
    size_t off = 0;

    for (uint64_t k = 0; k < count && gelf_getverdef(vd, (int)off, &def); k++) {
        if (gelf_getverdaux(vd, (int)(off + def.vd_aux), &aux) &&
            strcmp(strtab + aux.vda_name, want) == 0 && !(def.vd_flags & VER_FLG_BASE))
            return def.vd_ndx;
        if (!def.vd_next)
            break;
        off += def.vd_next;
    }
    return -1;
}

/* DT_* values of the dynamic section, through gelf. */
struct libelf_tags {
    uint64_t strtab, symtab, hash, versym, verdef, verdefnum;
};

static bool libelf_tags(Elf *e, size_t nph, struct libelf_tags *t)
{
    uint64_t dynoff = 0, dynsz = 0;
    GElf_Phdr ph;
    GElf_Dyn dyn;

    for (size_t i = 0; i < nph; i++)
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_DYNAMIC) {
            dynoff = ph.p_offset;
            dynsz = ph.p_filesz;
        }
    Elf_Data *dd = elf_getdata_rawchunk(e, (int64_t)dynoff, dynsz, ELF_T_DYN);
    for (int i = 0; dd && gelf_getdyn(dd, i, &dyn) && dyn.d_tag != DT_NULL; i++) {
        uint64_t v = dyn.d_un.d_val;
        t->strtab = dyn.d_tag == DT_STRTAB ? v : t->strtab;
        t->symtab = dyn.d_tag == DT_SYMTAB ? v : t->symtab;
        t->hash = dyn.d_tag == DT_HASH ? v : t->hash;
        t->versym = dyn.d_tag == DT_VERSYM ? v : t->versym;
        t->verdef = dyn.d_tag == DT_VERDEF ? v : t->verdef;
        t->verdefnum = dyn.d_tag == DT_VERDEFNUM ? v : t->verdefnum;
    }
    return dd != NULL;
}

static void libelf_find(Elf_Data *sd, Elf_Data *vsd, uint32_t nchain, const char *str, int ndx,
                        struct resolved *out)
{
    for (int n = 0; n < NSYMS; n++) {
        GElf_Sym s;
        GElf_Versym v;
        for (uint32_t i = 1; i < nchain; i++)
            if (gelf_getsym(sd, (int)i, &s) && s.st_shndx != SHN_UNDEF &&
                strcmp(str + s.st_name, names[n]) == 0 && gelf_getversym(vsd, (int)i, &v) &&
                (v & 0x7fff) == ndx) {
                out->value[n] = s.st_value;
                out->found++;
                break;
            }
    }
}

__attribute__((noinline)) static void resolve_libelf(const struct live *in, struct resolved *out)
{
    struct libelf_tags t = {0};
    uint64_t so, to, ho, vo, vdo;
    Elf *e = elf_memory(in->copy, in->size);
    size_t nph;

    out->found = 0;
    if (!e || elf_getphdrnum(e, &nph) || !libelf_tags(e, nph, &t) ||
        !libelf_map(e, nph, t.strtab, &so) || !libelf_map(e, nph, t.symtab, &to) ||
        !libelf_map(e, nph, t.hash, &ho) || !libelf_map(e, nph, t.versym, &vo) ||
        !libelf_map(e, nph, t.verdef, &vdo)) {
        elf_end(e);
        return;
    }
    Elf_Data *hd = elf_getdata_rawchunk(e, (int64_t)ho, 8, ELF_T_WORD);
    uint32_t nchain = hd ? ((uint32_t *)hd->d_buf)[1] : 0;
    Elf_Data *sd = elf_getdata_rawchunk(e, (int64_t)to, (size_t)nchain * 24, ELF_T_SYM);
    Elf_Data *vsd = elf_getdata_rawchunk(e, (int64_t)vo, (size_t)nchain * 2, ELF_T_HALF);
    Elf_Data *vdd = elf_getdata_rawchunk(e, (int64_t)vdo, in->size - vdo, ELF_T_VDEF);
    const char *str = in->copy + so;
    int ndx = vdd ? libelf_verndx(vdd, t.verdefnum, str, "LINUX_2.6") : -1;
    if (sd && vsd)
        libelf_find(sd, vsd, nchain, str, ndx, out);
    elf_end(e);
}

__attribute__((noinline)) static void resolve_dlvsym(const struct live *in, struct resolved *out)
{
    void *h = dlopen("linux-vdso.so.1", RTLD_NOLOAD | RTLD_LAZY);

    out->found = 0;
    for (int i = 0; h && i < NSYMS; i++) {
        uintptr_t p = (uintptr_t)dlvsym(h, names[i], "LINUX_2.6");
        /* The vDSO is linked at 0 and mapped at base: the value is p - base. */
        out->value[i] = p ? p - (uintptr_t)in->base : 0;
        out->found += p != 0;
    }
    if (h)
        dlclose(h);
}

struct method {
    const char *label;
    void (*resolve)(const struct live *, struct resolved *);
    double best;
    double *samples; /* ns per resolve of each batch */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* One batch: ITERS full resolves back to back; ns per resolve. */
static double time_batch(const struct method *m, const struct live *in, unsigned iters)
{
    struct resolved r;
    uint64_t t0 = now_ns();

    for (unsigned i = 0; i < iters; i++) {
        m->resolve(in, &r);
        __asm__ volatile("" : : "r"(&r) : "memory");
    }
    return (double)(now_ns() - t0) / iters;
}

/* All must find the same six values, or timing them means nothing. */
static bool methods_agree(struct method *ms, int nm, const struct live *in)
{
    struct resolved r[NMETHODS];
    bool ok = true;

    for (int k = 0; k < nm; k++)
        ms[k].resolve(in, &r[k]);
    for (int k = 0; k < nm; k++) {
        if (r[k].found != NSYMS) {
            printf("%s found %d of %d symbols\n", ms[k].label, r[k].found, NSYMS);
            ok = false;
        }
        for (int i = 0; i < NSYMS && r[k].found == NSYMS; i++)
            if (r[k].value[i] != r[0].value[i]) {
                printf("%s: %s = 0x%" PRIx64 ", but %s says 0x%" PRIx64 "\n", ms[k].label, names[i],
                       r[k].value[i], ms[0].label, r[0].value[i]);
                ok = false;
            }
    }
    return ok;
}

static void run_rounds(struct method *ms, int nm, const struct live *in, unsigned rounds,
                       unsigned iters)
{
    for (int k = 0; k < nm; k++)
        time_batch(&ms[k], in, iters / 10 + 1); /* warm caches and lazy binding */
    for (unsigned round = 0; round < rounds; round++)
        for (int j = 0; j < nm; j++) {
            struct method *m = &ms[(round + j) % nm];
            double ns = time_batch(m, in, iters);
            m->samples[round] = ns;
            m->best = ns < m->best ? ns : m->best;
        }
}

/* The image to resolve: the live mapping, or the file named on the command line. */
static bool load_input(const char *path, struct live *in)
{
    struct vdsokit_error err;
    const void *live;
    FILE *f;
    long n;

    if (!path) {
        if (loader_live_image(&live, &in->size, &err) == 0)
            in->base = live;
    } else if ((f = fopen(path, "rb")) != NULL) {
        uint8_t *buf = NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)n)) != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            in->base = buf;
            in->size = (size_t)n;
        } else {
            free(buf);
        }
        fclose(f);
    }
    if (!in->size)
        return false;
    in->copy = malloc(in->size);
    memcpy(in->copy, in->base, in->size);
    return true;
}

/* Sorts the samples; the median is the middle one. */
static double median_of(struct method *m, unsigned rounds)
{
    qsort(m->samples, rounds, sizeof(double), cmp_double);
    return m->samples[rounds / 2];
}

static void report(struct method *ms, int nm, unsigned rounds)
{
    double med[NMETHODS];
    bool met = ms[0].best < 1000;

    for (int k = 0; k < nm; k++) {
        med[k] = median_of(&ms[k], rounds);
        printf("%-34s best %7.1f ns, median %7.1f ns per full resolve\n", ms[k].label, ms[k].best,
               med[k]);
        met = met && (k == 0 || ms[k].best > ms[0].best);
    }
    /* Ratio > 1: vdsokit is that many times faster. */
    printf("time / vdsokit's, best (median): libelf %.2f (%.2f)", ms[1].best / ms[0].best,
           med[1] / med[0]);
    if (nm > 2)
        printf(", dlvsym %.2f (%.2f)", ms[2].best / ms[0].best, med[2] / med[0]);
    printf("\ngoal < 1000 ns and faster than %s: %s\n", nm > 2 ? "both" : "libelf",
           met ? "met" : "missed");
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 300;
    unsigned iters = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 1000;
    const char *path = argc > 3 ? argv[3] : NULL;
    struct live in = {NULL, 0, NULL};
    struct method ms[NMETHODS] = {
        {"vdsokit elf_open + elf_lookup", resolve_vdsokit, 1e30, NULL},
        {"libelf (elf_memory, gelf, scan)", resolve_libelf, 1e30, NULL},
        {"glibc dlopen(NOLOAD) + dlvsym", resolve_dlvsym, 1e30, NULL},
    };
    int nm = path ? 2 : 3;

    if (rounds == 0 || iters == 0 || argc > 4) {
        fprintf(stderr, "usage: %s [ROUNDS [ITERS [IMAGE]]] (ROUNDS, ITERS > 0)\n", argv[0]);
        return 2;
    }
    if (!load_input(path, &in)) {
        printf("%s%s: nothing to measure\n", path ? "cannot read " : "no live vDSO",
               path ? path : "");
        return path ? 2 : 0;
    }
    elf_version(EV_CURRENT);
    int cpu = pin_to_one_cpu();
    if (!methods_agree(ms, nm, &in))
        return 1;
    for (int k = 0; k < nm; k++)
        ms[k].samples = calloc(rounds, sizeof(double));
    printf("%s: %zu bytes; a full resolve = open + 6 lookups under LINUX_2.6\n",
           path ? path : "live vDSO", in.size);
    printf("pinned to CPU %d; %u rounds of %u resolves per method, interleaved\n", cpu, rounds,
           iters);
    run_rounds(ms, nm, &in, rounds, iters);
    report(ms, nm, rounds);
    for (int k = 0; k < nm; k++)
        free(ms[k].samples);
    if (path)
        free((void *)in.base);
    free(in.copy);
    return 0;
}
