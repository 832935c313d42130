/*
 * One error idiom for everything in vdsokit that reads untrusted bytes or
 * maps them: the ELF resolver, the image checker's alternatives reader and
 * the loader. A failure is one sentence naming the file, field, offset and
 * value, written into a fixed buffer so that a failing parse never
 * allocates.
 *
 * Two return conventions, one per layer:
 *  - parsers, the alternatives patcher and the loader return 0 on success
 *    or -1 with the sentence in a struct vdsokit_error (which parsers accept
 *    as NULL when the caller wants only the verdict);
 *  - the emulated kernel (data pages, counters, timekeeper) returns 0 or
 *    -errno, like the syscalls and kernel functions it stands in for, and
 *    writes no message.
 */
#ifndef VDSOKIT_ERROR_H
#define VDSOKIT_ERROR_H

#include <stdarg.h>
#include <stdio.h>

#define VDSOKIT_ERROR_MAX 320

struct vdsokit_error {
    char msg[VDSOKIT_ERROR_MAX];
};

/* Fill err (if any) from a format; returns -1 so callers can `return vdsokit_fail(...)`. */
static inline __attribute__((format(printf, 2, 3))) int vdsokit_fail(struct vdsokit_error *err,
                                                                     const char *fmt, ...)
{
    va_list ap;

    if (err) {
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}

#endif /* VDSOKIT_ERROR_H */
