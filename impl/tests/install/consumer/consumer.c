/*
 * A program outside the project, built only against an installed vdsokit
 * (impl/tests/install): it finds this process's vDSO through
 * AT_SYSINFO_EHDR and /proc/self/maps, resolves __vdso_clock_gettime with
 * elf_open()/elf_lookup() from <vdsokit/elf.h>, calls it, and checks its
 * CLOCK_MONOTONIC reading lies between two readings of libc's
 * clock_gettime. Exit 0 and one line on success, 1 with the reason.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

#include <vdsokit/elf.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static size_t vdso_size(uintptr_t base)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    uintptr_t lo, hi;
    size_t size = 0;

    while (maps && !size && fgets(line, sizeof(line), maps))
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2 && lo == base &&
            strstr(line, "[vdso]"))
            size = hi - lo;
    if (maps)
        fclose(maps);
    return size;
}

static int64_t ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int main(void)
{
    uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    size_t size = base ? vdso_size(base) : 0;
    struct elf_image img;
    struct vdsokit_error err;
    struct elf_sym sym;
    uint64_t off;
    struct timespec before, got, after;

    if (!size) {
        puts("consumer: no [vdso] mapping");
        return 1;
    }
    if (elf_open(&img, (const void *)base, size, &err) != 0) {
        printf("consumer: elf_open: %s\n", err.msg);
        return 1;
    }
    if (elf_lookup(&img, "__vdso_clock_gettime", "LINUX_2.6", ELF_LOOKUP_AUTO, &sym) != ELF_FOUND ||
        !elf_symbol_offset(&img, &sym, &off)) {
        puts("consumer: __vdso_clock_gettime not found");
        return 1;
    }
    clock_gettime_fn fn = (clock_gettime_fn)(base + off);
    clock_gettime(CLOCK_MONOTONIC, &before);
    int rc = fn(CLOCK_MONOTONIC, &got);
    clock_gettime(CLOCK_MONOTONIC, &after);
    if (rc != 0 || ns(&got) < ns(&before) || ns(&got) > ns(&after)) {
        printf("consumer: vDSO returned %d, %" PRId64 " ns, outside [%" PRId64 ", %" PRId64 "]\n",
               rc, ns(&got), ns(&before), ns(&after));
        return 1;
    }
    printf("consumer: __vdso_clock_gettime at vDSO+0x%" PRIx64 " agrees with clock_gettime\n", off);
    return 0;
}
