/*
 * An LD_PRELOAD module for one end-to-end test: before main, it unmaps this
 * process's [vvar_vclock], so that the mappings no longer have the shape of
 * the kernel's era and the live probe must treat the layout as not
 * described. The vDSO keeps answering only in the TSC clock mode (it never
 * touches [vvar_vclock] then), so the module does nothing unless the
 * clocksource is tsc and says on stderr what it did; the test SKIPs when
 * it did nothing. Built without sanitizers (they must come first).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vdsokit/live_maps.h>

#define CLOCKSOURCE "/sys/devices/system/clocksource/clocksource0/current_clocksource"

/* Up to len - 1 bytes of a small file, NUL-terminated; 0 on failure. */
static size_t slurp(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t n = 0;
    ssize_t r;

    if (fd < 0)
        return 0;
    while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = '\0';
    return n;
}

__attribute__((constructor)) static void unmap_vclock(void)
{
    static char maps[1 << 20];
    char cs[64];
    struct live_maps m;

    if (!slurp(CLOCKSOURCE, cs, sizeof(cs)) || strcmp(cs, "tsc\n") != 0) {
        fprintf(stderr, "reshape_preload: not reshaped: clocksource is not tsc\n");
        return;
    }
    live_maps_parse(maps, slurp("/proc/self/maps", maps, sizeof(maps)), &m);
    if (m.vclock.count != 1 || munmap((void *)m.vclock.lo, m.vclock.hi - m.vclock.lo) != 0) {
        fprintf(stderr, "reshape_preload: not reshaped: no [vvar_vclock] to unmap\n");
        return;
    }
    fprintf(stderr, "reshape_preload: [vvar_vclock] unmapped\n");
}
