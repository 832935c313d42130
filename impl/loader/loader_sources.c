/*
 * Where images come from: a file read whole into memory, this process's own
 * vDSO copied out of its [vdso] mapping, or the reference image compiled
 * into the library. Each ends in loader_load() on plain bytes, so every
 * source passes the same gate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdsokit/elf.h>
#include <vdsokit/live_layout.h>
#include <vdsokit/loader.h>

/* Read at most LOADER_MAX_TEXT + 1 MiB: section headers may follow the text. */
#define MAX_FILE (2 * (size_t)LOADER_MAX_TEXT)

static int read_file(const char *path, uint8_t **bytes, size_t *size, struct vdsokit_error *err)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    uint8_t *buf;

    if (!f)
        return vdsokit_fail(err, "%s: %s", path, strerror(errno));
    buf = malloc(MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        return vdsokit_fail(err, "%s: out of memory", path);
    }
    n = fread(buf, 1, MAX_FILE + 1, f);
    if (ferror(f) || n > MAX_FILE) {
        fclose(f);
        free(buf);
        return vdsokit_fail(err, "%s: %s", path, n > MAX_FILE ? "larger than 2 MiB" : "read error");
    }
    fclose(f);
    *bytes = buf;
    *size = n;
    return 0;
}

int loader_load_file(struct vdso_loaded **out, const char *path, const struct loader_options *opt,
                     struct vdsokit_error *err)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    int rc;

    *out = NULL;
    if (read_file(path, &bytes, &size, err))
        return -1;
    rc = loader_load(out, bytes, size, path, opt, err);
    free(bytes);
    return rc;
}

/*
 * The file bytes of the image: up to the end of its section headers, as the
 * resolver reads them (the whole mapping when it cannot).
 */
static size_t image_extent(const uint8_t *base, size_t mapped)
{
    struct elf_image img;
    uint64_t end;

    if (elf_open(&img, base, mapped, NULL))
        return mapped;
    end = img.shoff + (uint64_t)img.shnum * img.shentsize;
    return img.shoff && end <= mapped ? (size_t)end : mapped;
}

int loader_live_image(const void **bytes, size_t *size, struct vdsokit_error *err)
{
    struct live_layout l;
    size_t mapped;

    if (live_layout_probe(&l, err))
        return -1;
    const uint8_t *base = live_layout_vdso(&l, &mapped);
    if (!base)
        return vdsokit_fail(err, "this process has no vDSO (no AT_SYSINFO_EHDR)");
    *bytes = base;
    *size = image_extent(base, mapped);
    return 0;
}

int loader_load_live(struct vdso_loaded **out, const struct loader_options *opt,
                     struct vdsokit_error *err)
{
    const void *bytes;
    size_t size;

    *out = NULL;
    if (loader_live_image(&bytes, &size, err))
        return -1;
    return loader_load(out, bytes, size, "live vDSO", opt, err);
}

int loader_load_blob(struct vdso_loaded **out, const struct vdso_image_blob *blob, const char *name,
                     const struct loader_options *opt, struct vdsokit_error *err)
{
    *out = NULL;
    if (blob->file_size > blob->size)
        return vdsokit_fail(err,
                            "%s: embedded image: file_size 0x%zx exceeds its array of 0x%zx bytes",
                            name, blob->file_size, blob->size);
    return loader_load(out, blob->data, blob->file_size, name, opt, err);
}
