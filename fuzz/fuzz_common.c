/*
 * Shared harness helpers (see fuzz_common.h). Failing loudly is the only
 * output a harness makes: the message carries the invariant and its
 * evidence, then abort() lets the engine save the input.
 */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *fuzz_copy_input(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size);

    if (!copy)
        abort(); /* out of memory is not a finding; the engine limits size */
    memcpy(copy, data, size);
    return copy;
}

const uint8_t *fuzz_input(const uint8_t *data, size_t size)
{
#ifdef FUZZ_ENGINE_COPIES_INPUT
    (void)size;
    return data; /* a second copy costs about a tenth of fuzz_elf's time */
#else
    return fuzz_copy_input(data, size);
#endif
}

void fuzz_input_done(const uint8_t *input, const uint8_t *data)
{
    if (input != data)
        free((void *)input);
}

void fuzz_fail(const char *file, int line, const char *what, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "INVARIANT BROKEN %s:%d: %s: ", file, line, what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
