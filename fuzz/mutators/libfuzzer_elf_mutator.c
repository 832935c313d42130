/*
 * libFuzzer glue for the ELF mutator: LLVMFuzzerCustomMutator hands the
 * input to elf_mutate(), whose fallback is libFuzzer's own LLVMFuzzerMutate,
 * so the engine keeps its dictionary, CMP-guided and cross-over mutations
 * while most steps keep the tables well-formed. Linked in libfuzzer mode only.
 */
#include <stddef.h>
#include <stdint.h>

#include "elf_mutator.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    return elf_mutate(data, size, max_size, seed, LLVMFuzzerMutate);
}
