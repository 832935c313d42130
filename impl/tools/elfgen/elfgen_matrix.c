/*
 * The generator's presets: the x86-64 6.18 export set and a matrix of
 * named variants covering class, byte order, machine, hash styles, hash
 * entry width, versioning (none, duplicate names, hidden versions), load
 * layout (one or two PT_LOADs, zero or prelinked base), section headers,
 * symbol filters and the 6.1 era's alternatives. Tests iterate it; the fuzz seeds come from it.
 */
#include <elf.h>
#include <string.h>

#include "elfgen.h"

#define FN(n, v, sz)                                            \
    {                                                           \
        n, v, false, STT_FUNC, STB_GLOBAL, false, false, sz, -1 \
    }
#define WEAK(n, v, of)                                       \
    {                                                        \
        n, v, false, STT_FUNC, STB_WEAK, false, false, 0, of \
    }
#define VERSYM_SYM(v)                                           \
    {                                                           \
        v, v, false, STT_OBJECT, STB_GLOBAL, false, true, 0, -1 \
    }
#define NOTYPE(n, v, sz)                                          \
    {                                                             \
        n, v, false, STT_NOTYPE, STB_GLOBAL, false, false, sz, -1 \
    }
#define COUNT(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

static const struct elfgen_sym x86_64_syms[] = {
    FN("__vdso_clock_gettime", "LINUX_2.6", 902),
    FN("__vdso_gettimeofday", "LINUX_2.6", 683),
    FN("__vdso_time", "LINUX_2.6", 40),
    FN("__vdso_clock_getres", "LINUX_2.6", 127),
    FN("__vdso_getcpu", "LINUX_2.6", 44),
    FN("__vdso_getrandom", "LINUX_2.6", 947),
    WEAK("clock_gettime", "LINUX_2.6", 0),
    WEAK("gettimeofday", "LINUX_2.6", 1),
    WEAK("time", "LINUX_2.6", 2),
    WEAK("clock_getres", "LINUX_2.6", 3),
    WEAK("getcpu", "LINUX_2.6", 4),
    WEAK("getrandom", "LINUX_2.6", 5),
    VERSYM_SYM("LINUX_2.6"),
};

/* One name under two versions: the old one hidden, the new one default. */
static const struct elfgen_sym dupver_syms[] = {
    {"__vdso_clock_gettime", "LINUX_2.6", true, STT_FUNC, STB_GLOBAL, false, false, 64, -1},
    FN("__vdso_clock_gettime", "LINUX_2.7", 96),
    FN("__vdso_time", "LINUX_2.6", 40),
    {"__vdso_getcpu", "LINUX_2.7", true, STT_FUNC, STB_GLOBAL, false, false, 44, -1},
    VERSYM_SYM("LINUX_2.6"),
    VERSYM_SYM("LINUX_2.7"),
};

/* What a consumer must skip (undefined, LOCAL, TLS, IFUNC) next to what it must take. */
static const struct elfgen_sym filter_syms[] = {
    {"__vdso_undefined", "LINUX_2.6", false, STT_FUNC, STB_GLOBAL, true, false, 0, -1},
    {"__vdso_local", "LINUX_2.6", false, STT_FUNC, STB_LOCAL, false, false, 16, -1},
    {"__vdso_tls", "LINUX_2.6", false, STT_TLS, STB_GLOBAL, false, false, 8, -1},
    {"__vdso_ifunc", "LINUX_2.6", false, STT_GNU_IFUNC, STB_GLOBAL, false, false, 8, -1},
    NOTYPE("__vdso_notype", "LINUX_2.6", 32),
    {"__vdso_object", "LINUX_2.6", false, STT_OBJECT, STB_GLOBAL, false, false, 8, -1},
    FN("__vdso_clock_gettime", "LINUX_2.6", 128),
    {"__vdso_unique", "LINUX_2.6", false, STT_OBJECT, STB_GNU_UNIQUE, false, false, 8, -1},
    VERSYM_SYM("LINUX_2.6"),
};

static const struct elfgen_sym i386_syms[] = {
    FN("__kernel_vsyscall", "LINUX_2.5", 20),
    FN("__kernel_sigreturn", "LINUX_2.5", 9),
    FN("__kernel_rt_sigreturn", "LINUX_2.5", 8),
    FN("__vdso_clock_gettime", "LINUX_2.6", 300),
    FN("__vdso_gettimeofday", "LINUX_2.6", 200),
    FN("__vdso_time", "LINUX_2.6", 30),
    FN("__vdso_clock_gettime64", "LINUX_2.6", 310),
    VERSYM_SYM("LINUX_2.5"),
    VERSYM_SYM("LINUX_2.6"),
};

#define KERNEL_SYMS(name, v)                                                       \
    static const struct elfgen_sym name[] = {                                      \
        FN("__kernel_clock_gettime", v, 200), FN("__kernel_gettimeofday", v, 150), \
        FN("__kernel_clock_getres", v, 90),   FN("__kernel_getcpu", v, 40),        \
        FN("__kernel_getrandom", v, 400),     VERSYM_SYM(v),                       \
    }

KERNEL_SYMS(s390_syms, "LINUX_2.6.29");
KERNEL_SYMS(aarch64_syms, "LINUX_2.6.39");
KERNEL_SYMS(riscv_syms, "LINUX_4.15");
KERNEL_SYMS(loongarch_syms, "LINUX_5.10");
KERNEL_SYMS(alpha_syms, "LINUX_2.6");

static const struct elfgen_sym ppc_syms[] = {
    NOTYPE("__kernel_clock_gettime", "LINUX_2.6.15", 200),
    NOTYPE("__kernel_get_syscall_map", "LINUX_2.6.15", 40),
    NOTYPE("__kernel_sync_dicache", "LINUX_2.6.15", 60),
    NOTYPE("__kernel_sigtramp_rt64", "LINUX_2.6.15", 12),
    VERSYM_SYM("LINUX_2.6.15"),
};

void elfgen_desc_x86_64(struct elfgen_desc *d)
{
    memset(d, 0, sizeof(*d));
    d->elf_class = ELFCLASS64;
    d->byte_order = ELFDATA2LSB;
    d->machine = EM_X86_64;
    d->hash_styles = ELFGEN_HASH_BOTH;
    d->versioned = true;
    d->soname = "vdsokit-gen.so.1"; /* not the kernel soname: these are ours */
    d->nloads = 1;
    d->section_headers = true;
    d->linux_note = true;
    d->linux_version = 0x06122c;
    d->build_id = true;
    d->nalt = 11;
    d->syms = x86_64_syms;
    d->nsyms = COUNT(x86_64_syms);
}

/* A variant for another machine: the x86-64 description with these replaced. */
struct arch_variant {
    const char *name;
    uint8_t elf_class, byte_order;
    uint16_t machine;
    unsigned hash_styles;
    const struct elfgen_sym *syms;
    unsigned nsyms;
    uint64_t base;
};

#define ARCH(name, cls, order, machine, hash, syms, base)        \
    {                                                            \
        name, cls, order, machine, hash, syms, COUNT(syms), base \
    }

/* The x86-64 variants come first (x86_variant() tells them apart), then these. */
static const char *const x86_names[] = {
    "x86_64-both",    "x86_64-gnu",     "x86_64-sysv",      "x86_64-unversioned",
    "x86_64-dupver",  "x86_64-twoload", "x86_64-prelinked", "x86_64-nosections",
    "x86_64-filters", "x86_64-empty",   "x86_64-nohash",    "x86_64-relocs",
    "x86_64-6.1",
};

static const struct arch_variant arch_variants[] = {
    ARCH("i386-both", ELFCLASS32, ELFDATA2LSB, EM_386, ELFGEN_HASH_BOTH, i386_syms, 0),
    ARCH("s390x-both", ELFCLASS64, ELFDATA2MSB, EM_S390, ELFGEN_HASH_BOTH, s390_syms, 0),
    ARCH("s390x-sysv", ELFCLASS64, ELFDATA2MSB, EM_S390, ELFGEN_HASH_SYSV, s390_syms, 0),
    ARCH("alpha-both", ELFCLASS64, ELFDATA2LSB, EM_ALPHA, ELFGEN_HASH_BOTH, alpha_syms, 0),
    ARCH("ppc64-gnu", ELFCLASS64, ELFDATA2MSB, EM_PPC64, ELFGEN_HASH_GNU, ppc_syms, 0),
    ARCH("ppc32-sysv", ELFCLASS32, ELFDATA2MSB, EM_PPC, ELFGEN_HASH_SYSV, ppc_syms, 0),
    ARCH("aarch64-gnu", ELFCLASS64, ELFDATA2LSB, EM_AARCH64, ELFGEN_HASH_GNU, aarch64_syms, 0),
    ARCH("riscv64-base", ELFCLASS64, ELFDATA2LSB, EM_RISCV, ELFGEN_HASH_BOTH, riscv_syms, 0x10000),
    ARCH("loongarch-gnu", ELFCLASS64, ELFDATA2LSB, EM_LOONGARCH, ELFGEN_HASH_GNU, loongarch_syms,
         0),
};

unsigned elfgen_matrix_count(void)
{
    return COUNT(x86_names) + COUNT(arch_variants);
}

const char *elfgen_matrix_name(unsigned i)
{
    if (i < COUNT(x86_names))
        return x86_names[i];
    i -= COUNT(x86_names);
    return i < COUNT(arch_variants) ? arch_variants[i].name : NULL;
}

static void other_arch(struct elfgen_desc *d, const struct arch_variant *v)
{
    d->elf_class = v->elf_class;
    d->byte_order = v->byte_order;
    d->machine = v->machine;
    d->hash_styles = v->hash_styles;
    d->nalt = 0;
    d->syms = v->syms;
    d->nsyms = v->nsyms;
    d->base = v->base;
}

/* x86_names[i] from the x86-64 description (0, "x86_64-both", is that description). */
static void x86_variant(unsigned i, struct elfgen_desc *d)
{
    switch (i) {
    case 1:
        d->hash_styles = ELFGEN_HASH_GNU;
        break;
    case 2:
        d->hash_styles = ELFGEN_HASH_SYSV;
        break;
    case 3:
        d->versioned = false;
        break;
    case 4:
        d->syms = dupver_syms;
        d->nsyms = COUNT(dupver_syms);
        break;
    case 5:
        d->nloads = 2;
        break;
    case 6:
        d->nloads = 2;
        d->base = 0xffffffffff700000ull;
        d->load_gap = 0x2000;
        break;
    case 7:
        d->section_headers = false;
        d->nalt = 0;
        break;
    case 8:
        d->syms = filter_syms;
        d->nsyms = COUNT(filter_syms);
        break;
    case 9:
        d->syms = NULL;
        d->nsyms = 0;
        break;
    case 10:
        d->hash_styles = 0;
        break;
    case 11:
        d->relocations = true;
        break;
    case 12: /* the 6.1 era: 12-byte alternatives, 7 of them like Debian's 6.1.192 */
        d->linux_version = 0x0601c0;
        d->alt_size = 12;
        d->nalt = 7;
        break;
    default:
        break;
    }
}

void elfgen_matrix_desc(unsigned i, struct elfgen_desc *d)
{
    elfgen_desc_x86_64(d);
    if (i < COUNT(x86_names))
        x86_variant(i, d);
    else if (i - COUNT(x86_names) < COUNT(arch_variants))
        other_arch(d, &arch_variants[i - COUNT(x86_names)]);
}
