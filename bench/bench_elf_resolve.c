/*
 * bench_elf_resolve: the cost of a full resolve of the live vDSO (open the
 * image, then look up its six exports under LINUX_2.6) with vdsokit's
 * resolver, with libelf doing the same through its execution view, and
 * with glibc's dlvsym(). Prints ns per full resolve (best of 5 rounds).
 */
#define _GNU_SOURCE /* dlvsym */
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

#include <vdsokit/elf.h>

#include <gelf.h>

static const char *const names[6] = {"__vdso_clock_gettime", "__vdso_gettimeofday",
                                     "__vdso_time",          "__vdso_clock_getres",
                                     "__vdso_getcpu",        "__vdso_getrandom"};
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t live_size(uintptr_t base)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    uintptr_t lo, hi;
    size_t size = 0;

    while (maps && !size && fgets(line, sizeof(line), maps))
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2 && lo == base &&
            strstr(line, "[vdso]"))
            size = hi - lo;
    if (maps)
        fclose(maps);
    return size;
}

static int resolve_vdsokit(const uint8_t *img_bytes, size_t size)
{
    struct elf_image img;
    struct elf_sym s;
    int found = 0;

    if (elf_open(&img, img_bytes, size, NULL))
        return -1;
    for (int i = 0; i < 6; i++)
        if (elf_lookup(&img, names[i], "LINUX_2.6", ELF_LOOKUP_AUTO, &s) == ELF_FOUND) {
            sink += s.value;
            found++;
        }
    return found;
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

static int resolve_libelf(char *copy, size_t size)
{
    uint64_t strtab = 0, symtab = 0, hash = 0, versym = 0, verdef = 0, verdefnum = 0, dynoff = 0,
             dynsz = 0, so, to, ho, vo, vdo;
    Elf *e = elf_memory(copy, size);
    size_t nph;
    GElf_Phdr ph;
    GElf_Dyn dyn;
    int found = 0;

    if (!e || elf_getphdrnum(e, &nph))
        return -1;
    for (size_t i = 0; i < nph; i++)
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_DYNAMIC) {
            dynoff = ph.p_offset;
            dynsz = ph.p_filesz;
        }
    Elf_Data *dd = elf_getdata_rawchunk(e, (int64_t)dynoff, dynsz, ELF_T_DYN);
    for (int i = 0; dd && gelf_getdyn(dd, i, &dyn) && dyn.d_tag != DT_NULL; i++) {
        uint64_t v = dyn.d_un.d_val;
        strtab = dyn.d_tag == DT_STRTAB ? v : strtab;
        symtab = dyn.d_tag == DT_SYMTAB ? v : symtab;
        hash = dyn.d_tag == DT_HASH ? v : hash;
        versym = dyn.d_tag == DT_VERSYM ? v : versym;
        verdef = dyn.d_tag == DT_VERDEF ? v : verdef;
        verdefnum = dyn.d_tag == DT_VERDEFNUM ? v : verdefnum;
    }
    if (!libelf_map(e, nph, strtab, &so) || !libelf_map(e, nph, symtab, &to) ||
        !libelf_map(e, nph, hash, &ho) || !libelf_map(e, nph, versym, &vo) ||
        !libelf_map(e, nph, verdef, &vdo)) {
        elf_end(e);
        return -1;
    }
    Elf_Data *hd = elf_getdata_rawchunk(e, (int64_t)ho, 8, ELF_T_WORD);
    uint32_t nchain = hd ? ((uint32_t *)hd->d_buf)[1] : 0;
    Elf_Data *sd = elf_getdata_rawchunk(e, (int64_t)to, (size_t)nchain * 24, ELF_T_SYM);
    Elf_Data *vsd = elf_getdata_rawchunk(e, (int64_t)vo, (size_t)nchain * 2, ELF_T_HALF);
    Elf_Data *vdd = elf_getdata_rawchunk(e, (int64_t)vdo, size - vdo, ELF_T_VDEF);
    const char *str = copy + so;
    int ndx = vdd ? libelf_verndx(vdd, verdefnum, str, "LINUX_2.6") : -1;
    for (int n = 0; sd && vsd && n < 6; n++) {
        GElf_Sym s;
        GElf_Versym v;
        for (uint32_t i = 1; i < nchain; i++)
            if (gelf_getsym(sd, (int)i, &s) && s.st_shndx != SHN_UNDEF &&
                strcmp(str + s.st_name, names[n]) == 0 && gelf_getversym(vsd, (int)i, &v) &&
                (v & 0x7fff) == ndx) {
                sink += s.st_value;
                found++;
                break;
            }
    }
    elf_end(e);
    return found;
}

static int resolve_dlvsym(void)
{
    void *h = dlopen("linux-vdso.so.1", RTLD_NOLOAD | RTLD_LAZY);
    int found = 0;

    for (int i = 0; h && i < 6; i++) {
        void *p = dlvsym(h, names[i], "LINUX_2.6");
        sink += (uintptr_t)p;
        found += p != NULL;
    }
    if (h)
        dlclose(h);
    return found;
}

static double best_ns(const char *what, int (*fn)(void *, size_t), void *arg, size_t size,
                      unsigned iters, int *found)
{
    double best = 1e30;

    for (int round = 0; round < 5; round++) {
        uint64_t t0 = now_ns();
        for (unsigned i = 0; i < iters; i++)
            *found = fn(arg, size);
        double ns = (double)(now_ns() - t0) / iters;
        best = ns < best ? ns : best;
    }
    printf("%-34s %9.1f ns per full resolve (%d of 6 found)\n", what, best, *found);
    return best;
}

static int run_vdsokit(void *p, size_t n)
{
    return resolve_vdsokit(p, n);
}

static int run_libelf(void *p, size_t n)
{
    return resolve_libelf(p, n);
}

static int run_dlvsym(void *p, size_t n)
{
    return resolve_dlvsym();
}

int main(void)
{
    uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    size_t size = base ? live_size(base) : 0;
    int f1, f2, f3;

    if (!size) {
        printf("no live vDSO: nothing to measure\n");
        return 0;
    }
    elf_version(EV_CURRENT);
    char *copy = malloc(size);
    memcpy(copy, (const void *)base, size);
    printf("live vDSO: %zu bytes; a full resolve = open + 6 lookups under LINUX_2.6\n", size);
    double ours =
        best_ns("vdsokit elf_open + elf_lookup", run_vdsokit, (void *)base, size, 200000, &f1);
    double lib = best_ns("libelf (elf_memory, gelf, scan)", run_libelf, copy, size, 20000, &f2);
    double dl = best_ns("glibc dlopen(NOLOAD) + dlvsym", run_dlvsym, NULL, 0, 20000, &f3);
    printf("vdsokit is %.1fx faster than libelf and %.1fx faster than dlvsym; goal < 1000 ns: "
           "%s\n",
           lib / ours, dl / ours, ours < 1000 ? "met" : "missed");
    free(copy);
    return 0;
}
