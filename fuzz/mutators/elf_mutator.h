/*
 * The structure-aware ELF mutator: it locates, with its own tolerant and
 * bounds-checked walk, the ELF header, program headers, PT_DYNAMIC entries
 * and the tables they name (symbols, SysV and GNU hash, versym, verdef and
 * verdaux, string table), then rewrites one field at a time, in the image's
 * class and byte order, to a value that stresses the parser (0, 1, all ones,
 * off by one, another field's value, an offset at or past the end). Images
 * therefore stay mostly well-formed and the parser's deep paths get reached.
 * Plain C with no engine dependency: the libFuzzer glue and the AFL++
 * custom-mutator library both wrap it.
 */
#ifndef VDSOKIT_FUZZ_ELF_MUTATOR_H
#define VDSOKIT_FUZZ_ELF_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "mutator_rng.h"

/*
 * Mutate data[0, size) in place (capacity max_size) with one to four field
 * rewrites, or, one time in four, with `fallback` (NULL: built-in byte
 * mutation). Returns the new size, 1 .. max_size.
 */
size_t elf_mutate(uint8_t *data, size_t size, size_t max_size, uint32_t seed,
                  mut_fallback_fn fallback);

#endif
