/*
 * Whole-file input and output for vdsoimg, with '-' meaning stdin/stdout.
 * Input is read into an exact-size heap buffer so that the parsers see
 * precisely the file's bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdsoimg.h"

#define MAX_IMAGE (64u << 20)

/* Read f to its end into a growing buffer; NULL (message printed) on failure. */
static uint8_t *read_all(FILE *f, const char *path, size_t *len)
{
    uint8_t *buf = NULL, *grown;
    size_t cap = 0, got;

    *len = 0;
    do {
        if (*len == cap) {
            cap = cap ? cap * 2 : 65536;
            grown = cap <= MAX_IMAGE ? realloc(buf, cap) : NULL;
            if (!grown) {
                fprintf(stderr, "vdsoimg: %s: larger than %u bytes or out of memory\n", path,
                        MAX_IMAGE);
                free(buf);
                return NULL;
            }
            buf = grown;
        }
        got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
    } while (got > 0);
    if (ferror(f)) {
        fprintf(stderr, "vdsoimg: %s: read error\n", path);
        free(buf);
        return NULL;
    }
    return buf;
}

uint8_t *vdsoimg_read(const char *path, size_t *size)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    uint8_t *buf, *exact;
    size_t len = 0;

    if (!f) {
        fprintf(stderr, "vdsoimg: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    buf = read_all(f, path, &len);
    if (f != stdin)
        fclose(f);
    if (!buf)
        return NULL;
    /* Exact size, so a reader that overruns is caught by ASan. */
    exact = malloc(len ? len : 1);
    if (exact)
        memcpy(exact, buf, len);
    free(buf);
    *size = len;
    return exact;
}

int vdsoimg_write(const char *path, const void *data, size_t size)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    int ok;

    if (!f) {
        fprintf(stderr, "vdsoimg: %s: %s\n", path, strerror(errno));
        return -1;
    }
    ok = fwrite(data, 1, size, f) == size;
    ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
    if (!ok) {
        fprintf(stderr, "vdsoimg: %s: write failed\n", path);
        return -1;
    }
    return 0;
}
