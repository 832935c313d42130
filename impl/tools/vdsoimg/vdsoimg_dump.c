/*
 * vdsoimg dump-live: write this process's own vDSO image to a file: the
 * bytes at AT_SYSINFO_EHDR, as many as the [vdso] mapping that starts there
 * holds, found by the live layout probe (which reads nothing else), and a
 * line naming the kernel and the layout era of its data pages.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <vdsokit/live_layout.h>

#include "vdsoimg.h"

int vdsoimg_dump_live(const char *path)
{
    struct live_layout l;
    struct vdsokit_error err;
    size_t size;

    if (live_layout_probe(&l, &err)) {
        fprintf(stderr, "vdsoimg: dump-live: %s\n", err.msg);
        return VDSOIMG_UNREADABLE;
    }
    const void *base = live_layout_vdso(&l, &size);
    if (!base) {
        fprintf(stderr, "vdsoimg: dump-live: no AT_SYSINFO_EHDR: this process has no vDSO\n");
        return VDSOIMG_UNREADABLE;
    }
    if (vdsoimg_write(path, base, size))
        return VDSOIMG_UNREADABLE;
    if (strcmp(path, "-") != 0) {
        printf("wrote %zu bytes of the live vDSO (at 0x%" PRIxPTR ") to %s\n", size,
               (uintptr_t)base, path);
        printf("layout: %s%s%s\n", l.summary, l.why[0] ? "; " : "", l.why);
    }
    return VDSOIMG_OK;
}
