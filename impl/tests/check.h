/*
 * The unit tests' assertion helpers: one line per failed check with the
 * evidence, a closing "N passed, N failed" line, exit 1 on any failure and
 * exit 77 (ctest SKIP_RETURN_CODE) for a test that cannot run here.
 */
#ifndef VDSOKIT_TEST_CHECK_H
#define VDSOKIT_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned check_passed, check_failed;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (cond) {                                                         \
            check_passed++;                                                 \
        } else {                                                            \
            check_failed++;                                                 \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                              \
    CHECK((uint64_t)(a) == (uint64_t)(b),                                               \
          "%s = %" PRIu64 " (0x%" PRIx64 "), expected %" PRIu64 " (0x%" PRIx64 ")", #a, \
          (uint64_t)(a), (uint64_t)(a), (uint64_t)(b), (uint64_t)(b))

#define CHECK_EQ_I64(a, b)                                                                       \
    CHECK((int64_t)(a) == (int64_t)(b), "%s = %" PRId64 ", expected %" PRId64, #a, (int64_t)(a), \
          (int64_t)(b))

/* Leave the test as skipped, saying why. */
#define SKIP(...)            \
    do {                     \
        printf("SKIP: ");    \
        printf(__VA_ARGS__); \
        printf("\n");        \
        exit(77);            \
    } while (0)

static inline int check_finish(void)
{
    printf("%u passed, %u failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
