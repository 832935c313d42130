/*
 * Error reporting for the resolver and its readers: one sentence in a fixed
 * buffer, so that a failing parse never allocates.
 */
#include <stdarg.h>
#include <stdio.h>

#include "elf_internal.h"

int elf_fail(struct elf_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}
