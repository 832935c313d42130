/*
 * vdsoimg dump-live: write this process's own vDSO image to a file: the
 * bytes at AT_SYSINFO_EHDR, as many as the [vdso] mapping that starts
 * there holds according to /proc/self/maps.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

#include "vdsoimg.h"

/* Size of the [vdso] mapping starting at base, or 0. */
static size_t vdso_mapping_size(uintptr_t base)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    uintptr_t lo, hi;
    size_t size = 0;

    if (!maps)
        return 0;
    while (!size && fgets(line, sizeof(line), maps))
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2 && lo == base &&
            strstr(line, "[vdso]"))
            size = hi - lo;
    fclose(maps);
    return size;
}

int vdsoimg_dump_live(const char *path)
{
    uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    size_t size;

    if (!base) {
        fprintf(stderr, "vdsoimg: dump-live: no AT_SYSINFO_EHDR: this process has no vDSO\n");
        return VDSOIMG_UNREADABLE;
    }
    size = vdso_mapping_size(base);
    if (!size) {
        fprintf(stderr,
                "vdsoimg: dump-live: no [vdso] mapping at 0x%" PRIxPTR " in /proc/self/maps\n",
                base);
        return VDSOIMG_UNREADABLE;
    }
    if (vdsoimg_write(path, (const void *)base, size))
        return VDSOIMG_UNREADABLE;
    if (strcmp(path, "-") != 0)
        printf("wrote %zu bytes of the live vDSO (at 0x%" PRIxPTR ") to %s\n", size, base, path);
    return VDSOIMG_OK;
}
