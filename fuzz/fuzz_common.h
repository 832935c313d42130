/*
 * What every harness shares: the libFuzzer entry-point prototypes, the
 * input as an exact-size heap buffer (so that an over-read by one byte is
 * an ASan report and the parser never sees AFL++'s 4-byte-aligned
 * shared-memory pointer), and the invariant check that names what broke
 * before aborting. Harnesses print nothing on the success path: output
 * slows fuzzing.
 */
#ifndef VDSOKIT_FUZZ_COMMON_H
#define VDSOKIT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A malloc'ed copy of data[0, size) of exactly size bytes (size > 0). */
uint8_t *fuzz_copy_input(const uint8_t *data, size_t size);

/*
 * The input as an exact-size heap buffer to parse (size > 0): data itself
 * where the engine already passes one (libFuzzer and the replay driver copy
 * every input; FUZZ_ENGINE_COPIES_INPUT says so), else fuzz_copy_input().
 * A harness that needs a private copy whatever the engine (to see whether
 * the input was written) calls fuzz_copy_input() instead.
 */
const uint8_t *fuzz_input(const uint8_t *data, size_t size);

/* Release what fuzz_input(data, ...) returned. */
void fuzz_input_done(const uint8_t *input, const uint8_t *data);

/* Report a broken invariant (printf-style evidence) and abort(). */
_Noreturn void fuzz_fail(const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Abort with evidence when an invariant does not hold. */
#define FUZZ_ASSERT(cond, ...)                                 \
    do {                                                       \
        if (!(cond))                                           \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)

#endif
