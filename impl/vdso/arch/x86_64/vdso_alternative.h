/*
 * The image's two alternatives sites, written as the kernel's
 * .altinstructions records (docs/abi.md §4.3) so that one patcher serves this
 * image and kernel images alike, in the format of the era the image is
 * built for (vdso_era.h). A record is 14 bytes from 6.3: s32 offset of the
 * original instruction and s32 offset of the replacement (each relative to
 * the field itself), u32 feature number (flags in the high half), u8
 * original length, u8 replacement length; 12 bytes before 6.3, whose
 * feature word is a u16 and which numbers LFENCE_RDTSC 3*32+18. Each original is padded with NOPs
 * to the length of its replacements, and each replacement is padded to the
 * same length, so a patcher that copies without NOP-filling is still right.
 * Where several records name one site they are applied in order, so the
 * later one wins when both features are present.
 */
#ifndef VDSO_ALTERNATIVE_H
#define VDSO_ALTERNATIVE_H

#include <stdint.h>
#include <vdsokit/abi.h>

#include "vdso_era.h"

#define VDSO_ALT_STR_(x) #x
#define VDSO_ALT_STR(x)  VDSO_ALT_STR_(x)

#if VDSO_ERA_FROM(6, 3)
#define VDSO_ALT_FEATURE_WORD ".long"
#define VDSO_ALT_LFENCE_RDTSC X86_FEATURE_LFENCE_RDTSC
#else
#define VDSO_ALT_FEATURE_WORD ".word"
#define VDSO_ALT_LFENCE_RDTSC (3 * 32 + 18)
#endif

/* One record: original [orig, orig_end), replacement [repl, repl_end). */
// clang-format off
#define VDSO_ALT_RECORD(orig, orig_end, repl, repl_end, feature)                                   \
    " .pushsection .altinstructions, \"a\"\n"                                                      \
    " .long " orig " - .\n"                                                                        \
    " .long " repl " - .\n"                                                                        \
    " " VDSO_ALT_FEATURE_WORD " " VDSO_ALT_STR(feature) "\n"                                       \
    " .byte " orig_end " - " orig "\n"                                                             \
    " .byte " repl_end " - " repl "\n"                                                             \
    " .popsection\n"
// clang-format on

/*
 * The TSC, ordered against the loads before it: `rdtsc` by default,
 * `lfence; rdtsc` with LFENCE_RDTSC, `rdtscp` with RDTSCP (which wins).
 * rdtscp writes ecx, so ecx is clobbered whichever variant runs. All three
 * variants are 5 bytes.
 */
static inline __attribute__((always_inline)) uint64_t vdso_arch_rdtsc_ordered(void)
{
    uint32_t lo, hi;

    __asm__ volatile(
        "140: rdtsc\n"
        " .byte 0x0f, 0x1f, 0x00\n" /* nopl (%rax) */
        "141:\n"
        " .pushsection .altinstr_replacement, \"ax\"\n"
        "142: lfence\n"
        " rdtsc\n"
        "143: rdtscp\n"
        " .byte 0x66, 0x90\n" /* xchg %ax, %ax */
        "144:\n"
        " .popsection\n" VDSO_ALT_RECORD("140b", "141b", "142b", "143b", VDSO_ALT_LFENCE_RDTSC)
            VDSO_ALT_RECORD("140b", "141b", "143b", "144b", X86_FEATURE_RDTSCP)
        : "=a"(lo), "=d"(hi)
        :
        : "ecx", "memory");
    return (uint64_t)hi << 32 | lo;
}

/*
 * The (node << 12 | cpu) word: the segment limit of the per-CPU GDT entry
 * 0x7b by default, TSC_AUX through `rdpid` with RDPID. Both are 4 bytes.
 */
static inline uint32_t vdso_arch_read_cpunode(void)
{
    uint64_t v;

    __asm__ volatile(
        "150: lsl %%ecx, %%eax\n"
        " .byte 0x90\n"
        "151:\n"
        " .pushsection .altinstr_replacement, \"ax\"\n"
        "152: .byte 0xf3, 0x0f, 0xc7, 0xf8\n" /* rdpid %rax */
        "153:\n"
        " .popsection\n" VDSO_ALT_RECORD("150b", "151b", "152b", "153b", X86_FEATURE_RDPID)
        : "=a"(v)
        : "c"(VDSO_CPUNODE_SEG));
    return (uint32_t)v;
}

#endif /* VDSO_ALTERNATIVE_H */
