/*
 * An independent oracle for the resolver's hash lookups: given an accepted
 * image and the index the linear scan found for a name, does the SysV
 * (DT_HASH) or GNU (DT_GNU_HASH) table, walked here from scratch with its
 * own bounds-checked reads, actually lead to that index? When it does, the
 * resolver's hash path must return exactly that symbol; when it does not
 * (a mutated, inconsistent table), the resolver may legitimately miss it.
 */
#ifndef VDSOKIT_FUZZ_ELF_ORACLE_H
#define VDSOKIT_FUZZ_ELF_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include <vdsokit/elf.h>

/* True when the DT_HASH chain for name reaches symbol index within nchain steps. */
bool oracle_sysv_reaches(const struct elf_image *img, const char *name, uint32_t index);

/* True when the bloom filter admits name and its GNU hash chain holds index. */
bool oracle_gnu_reaches(const struct elf_image *img, const char *name, uint32_t index);

#endif
