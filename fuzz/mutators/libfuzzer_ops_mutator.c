/*
 * libFuzzer glue for the op-stream mutator: LLVMFuzzerCustomMutator calls
 * ops_mutate(), which hands the record tail to LLVMFuzzerMutate one time in
 * five. Linked in libfuzzer mode only.
 */
#include <stddef.h>
#include <stdint.h>

#include "ops_mutator.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    return ops_mutate(data, size, max_size, seed, LLVMFuzzerMutate);
}
