/*
 * The x86 alternatives patcher for vDSO images: it reads the
 * .altinstructions entries of an image in the struct alt_instr layout of
 * the image's kernel era (docs/abi.md §4.3; one table row per era) after
 * one bounds check of their table, and rewrites each instruction site in a
 * private copy of the image for a given CPU, as the kernel's
 * apply_alternatives() does once at boot.
 * One patcher serves the reference image and kernel images alike. The CPU
 * and the layout are values, not globals, so tests and fuzzers can patch
 * for any feature set under any era's layout.
 */
#ifndef VDSOKIT_ALTPATCH_H
#define VDSOKIT_ALTPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdsokit/alt_layout.h>
#include <vdsokit/error.h>

/*
 * The CPU features the vDSO's alternatives name. LFENCE_RDTSC is a kernel
 * synthetic feature (set where LFENCE orders RDTSC); alt_cpu_detect() treats
 * it as present whenever SSE2 (and so LFENCE) exists, which is every x86-64
 * CPU: that is what the kernel ends up with on Intel and on the AMD families
 * where it enables LFENCE serialisation.
 */
struct alt_cpu {
    bool rdtscp;
    bool rdpid;
    bool lfence_rdtsc;
};

/* This CPU, from CPUID (RDTSCP: 0x80000001 EDX[27], RDPID: 7.0 ECX[22]). */
void alt_cpu_detect(struct alt_cpu *cpu);

/* Flag bits of a decoded entry (6.3+: the upper half of ft_flags; 6.1: bit 15 is NOT). */
#define ALT_FLAG_NOT         (1u << 0) /* apply when the feature is absent */
#define ALT_FLAG_DIRECT_CALL (1u << 1) /* kernel-only call rewriting: never applied here */

/* One decoded entry; offsets are image offsets (vaddr == file offset). */
struct alt_entry {
    uint64_t where; /* offset of this entry in the image */
    uint64_t site;  /* offset of the original instruction */
    uint64_t repl;  /* offset of the replacement bytes */
    uint16_t feature;
    uint16_t flags;
    uint8_t site_len;
    uint8_t repl_len;
};

/*
 * Decode entry idx of the table at [table, table + table_len) of
 * image[0, size) under layout: every offset checked against the image,
 * repl_len <= site_len. Returns 0, or -1 with err naming the entry, its
 * offset and the field.
 */
int alt_entry_read(const struct alt_layout *layout, const uint8_t *image, size_t size,
                   uint64_t table, uint64_t table_len, unsigned idx, struct alt_entry *e,
                   struct vdsokit_error *err);

/* What alt_apply() did. */
struct alt_report {
    unsigned entries;
    unsigned applied;
    unsigned skipped_absent;  /* known feature, condition false */
    unsigned skipped_unknown; /* feature or flag we do not know: left as is */
};

/*
 * Apply the table found in the original bytes src[0, size), read under
 * layout, to dst, a copy of the same size: entries in order (a later entry for the same site wins),
 * replacement bytes taken from src, the rest of the site filled with NOPs.
 * Applying to an already patched image (the live dump) gives the same bytes.
 * Fails when a site whose entries all stay unapplied holds the replacement
 * of a known feature this CPU lacks: that image was patched for another CPU
 * and would fault. Returns 0, or -1 with err.
 */
int alt_apply(const struct alt_layout *layout, const uint8_t *src, uint8_t *dst, size_t size,
              uint64_t table, uint64_t table_len, const struct alt_cpu *cpu,
              struct alt_report *report, struct vdsokit_error *err);

#endif /* VDSOKIT_ALTPATCH_H */
