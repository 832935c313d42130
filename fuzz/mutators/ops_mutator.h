/*
 * The op-stream mutator for fuzz_vvar and fuzz_vvar_kernel (format in
 * fuzz/vvar_ops.h): it works on whole 9-byte records -- insert, delete,
 * duplicate, swap, change the opcode, rewrite the argument with a value that
 * matters (0, 1, all ones, powers of two, a small step) -- and touches the
 * 16-byte header only one time in sixteen, so a stream keeps its
 * configuration while its schedule evolves. Inputs without a valid header
 * get a fresh one. Plain C; wrapped for libFuzzer and AFL++.
 */
#ifndef VDSOKIT_FUZZ_OPS_MUTATOR_H
#define VDSOKIT_FUZZ_OPS_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "mutator_rng.h"

size_t ops_mutate(uint8_t *data, size_t size, size_t max_size, uint32_t seed,
                  mut_fallback_fn fallback);

#endif
