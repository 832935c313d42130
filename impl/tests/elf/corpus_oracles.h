/*
 * Oracles the corpus tests compare the resolver with: libelf (program
 * headers and PT_DYNAMIC through gelf, symbols through raw chunks mapped
 * the same way) and readelf (--dyn-syms -W output). Each returns the number
 * of disagreements after printing them; a negative value means the oracle
 * could not run on this image (not counted as a failure).
 */
#ifndef VDSOKIT_TEST_CORPUS_ORACLES_H
#define VDSOKIT_TEST_CORPUS_ORACLES_H

#include <vdsokit/elf.h>

int oracle_libelf(const char *label, const struct elf_image *img);
int oracle_readelf(const char *label, const char *path, const struct elf_image *img);
/* The three lookup paths agree for every name in the image under every version. */
int oracle_paths(const char *label, const struct elf_image *img);

#endif
