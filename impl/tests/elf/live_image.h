/*
 * This test process's own vDSO bytes: AT_SYSINFO_EHDR and the size of the
 * [vdso] mapping that starts there (from /proc/self/maps).
 */
#ifndef VDSOKIT_TEST_LIVE_IMAGE_H
#define VDSOKIT_TEST_LIVE_IMAGE_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

static inline const uint8_t *live_image(size_t *size)
{
    uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR), lo, hi;
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];

    *size = 0;
    while (base && maps && !*size && fgets(line, sizeof(line), maps))
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2 && lo == base &&
            strstr(line, "[vdso]"))
            *size = hi - lo;
    if (maps)
        fclose(maps);
    return *size ? (const uint8_t *)base : NULL;
}

#endif
