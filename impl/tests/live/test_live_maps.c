/*
 * The maps parser on synthetic /proc/self/maps text of each era's shape
 * (6.1, 6.13, 6.18), of a process without a vDSO, with garbage and
 * truncated lines, with a [vdso] but no [vvar], with a name seen twice and
 * with look-alike file names: the ranges, the counts of bad lines and the
 * shape handed to the era decision.
 */
#include <string.h>

#include "../check.h"
#include <vdsokit/live_maps.h>

#define EXE \
    "55d0c8a00000-55d0c8a02000 r--p 00000000 fe:01 1234                       /usr/bin/cat\n"
#define HEAP  "55d0c9b00000-55d0c9b21000 rw-p 00000000 00:00 0                          [heap]\n"
#define ANON  "7f1234560000-7f1234563000 rw-p 00000000 00:00 0 \n"
#define STACK "7ffc9cf20000-7ffc9cf41000 rw-p 00000000 00:00 0                          [stack]\n"
#define VSYS  "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"

/* Debian 12's 6.1: [vvar] 4 pages directly below a 2-page [vdso]. */
static const char maps_6_1[] = EXE HEAP ANON STACK
    "7ffc9cf44000-7ffc9cf48000 r--p 00000000 00:00 0                          [vvar]\n"
    "7ffc9cf48000-7ffc9cf4a000 r-xp 00000000 00:00 0                          [vdso]\n" VSYS;

/* 6.13/6.14: [vvar] 2 pages + [vvar_vclock] 2 pages. */
static const char maps_6_13[] = EXE HEAP ANON
    "7f8884799000-7f888479b000 r--p 00000000 00:00 0                          [vvar]\n"
    "7f888479b000-7f888479d000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
    "7f888479d000-7f888479f000 r-xp 00000000 00:00 0                          [vdso]\n" STACK VSYS;

/* This host's 6.18 (no trailing newline on the last line). */
static const char maps_6_18[] = EXE HEAP
    "7f888479d000-7f88847a1000 r--p 00000000 00:00 0                          [vvar]\n"
    "7f88847a1000-7f88847a3000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
    "7f88847a3000-7f88847a5000 r-xp 00000000 00:00 0                          [vdso]\n" STACK
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]";

static const char maps_no_vdso[] = EXE HEAP ANON STACK VSYS;

/* Lines a strict reader must refuse, each with a special name, then a good 6.18 set. */
static const char maps_garbage[] =
    "hello world\n"
    "7f0000000000-\n"
    "7f0000000000-7f0000004000 r--p\n"
    "7f000000000g-7f0000004000 r--p 00000000 00:00 0 [vvar]\n"
    "7f0000004000-7f0000000000 r--p 00000000 00:00 0 [vvar]\n"
    "7f0000000800-7f0000004000 r--p 00000000 00:00 0 [vvar]\n"
    "117f0000000000000-117f0000004000000 r--p 00000000 00:00 0 [vdso]\n"
    "7f0000000000-7f0000004000 rwzp 00000000 00:00 0 [vvar]\n"
    "7f0000000000-7f0000004000 r--p 00000000 00:00 x [vvar]\n"
    "7f0000000000-7f0000004000 r--p 00000000 0000 0 [vvar]\n"
    "\n"
    "7f0000010000-7f0000011000 r--p 00000000 fe:01 99 /tmp/[vdso]\n"
    "7f0000011000-7f0000012000 r--p 00000000 fe:01 99 /tmp/x [vvar]\n"
    "7f888479d000-7f88847a1000 r--p 00000000 00:00 0                          [vvar]\n"
    "7f88847a1000-7f88847a3000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
    "7f88847a3000-7f88847a5000 r-xp 00000000 00:00 0                          [vdso]\n";

static const char maps_vdso_only[] =
    EXE "7f88847a3000-7f88847a5000 r-xp 00000000 00:00 0                          [vdso]\n" STACK;

static const char maps_twice[] =
    "7f888479d000-7f88847a1000 r--p 00000000 00:00 0                          [vvar]\n"
    "7f88847a1000-7f88847a3000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
    "7f88847a3000-7f88847a5000 r-xp 00000000 00:00 0                          [vdso]\n"
    "7f9000000000-7f9000004000 r--p 00000000 00:00 0                          [vvar]\n";

/* [vvar] and [vdso] of the right sizes, but a page apart. */
static const char maps_gap[] =
    "7ffc9cf43000-7ffc9cf47000 r--p 00000000 00:00 0                          [vvar]\n"
    "7ffc9cf48000-7ffc9cf4a000 r-xp 00000000 00:00 0                          [vdso]\n";

static void parse(const char *text, struct live_maps *m, struct layout_shape *shape)
{
    live_maps_parse(text, strlen(text), m);
    live_maps_shape(m, shape);
}

static void test_eras(void)
{
    struct live_maps m;
    struct layout_shape s;

    parse(maps_6_1, &m, &s);
    CHECK_EQ_U64(m.vvar.lo, 0x7ffc9cf44000);
    CHECK_EQ_U64(m.vdso.lo, 0x7ffc9cf48000);
    CHECK_EQ_U64(m.vdso.hi, 0x7ffc9cf4a000);
    CHECK_EQ_U64(m.vclock.count, 0);
    CHECK(s.vvar_pages == 4 && s.vclock_pages == 0 && s.contiguous, "6.1 shape %u+%u %d",
          s.vvar_pages, s.vclock_pages, s.contiguous);
    CHECK_EQ_U64(m.bad_lines, 0);
    CHECK_EQ_U64(m.lines, 7);

    parse(maps_6_13, &m, &s);
    CHECK(s.vvar_pages == 2 && s.vclock_pages == 2 && s.contiguous, "6.13 shape %u+%u %d",
          s.vvar_pages, s.vclock_pages, s.contiguous);
    CHECK_EQ_U64(m.vclock.lo, 0x7f888479b000);

    parse(maps_6_18, &m, &s);
    CHECK(s.vvar_pages == 4 && s.vclock_pages == 2 && s.contiguous, "6.18 shape %u+%u %d",
          s.vvar_pages, s.vclock_pages, s.contiguous);
    CHECK_EQ_U64(m.vdso.lo, 0x7f88847a3000);
    CHECK_EQ_U64(m.lines, 7);
    CHECK_EQ_U64(m.bad_lines, 0);
}

static void test_missing(void)
{
    struct live_maps m;
    struct layout_shape s;

    parse(maps_no_vdso, &m, &s);
    CHECK(!m.vdso.count && !m.vvar.count && !m.vclock.count, "no vDSO: counts %u %u %u",
          m.vdso.count, m.vvar.count, m.vclock.count);
    CHECK(!s.contiguous && s.vvar_pages == 0, "no vDSO shape %u %d", s.vvar_pages, s.contiguous);

    parse(maps_vdso_only, &m, &s);
    CHECK(m.vdso.count == 1 && !m.vvar.count, "[vdso] alone: %u %u", m.vdso.count, m.vvar.count);
    CHECK(!s.contiguous && s.vvar_pages == 0, "[vdso] alone: shape %u %d", s.vvar_pages,
          s.contiguous);

    parse("", &m, &s);
    CHECK(m.lines == 0 && !m.vdso.count, "empty text: %u lines", m.lines);
}

static void test_garbage(void)
{
    struct live_maps m;
    struct layout_shape s;

    parse(maps_garbage, &m, &s);
    /* Ten refused lines and the empty one; the look-alike file names are good lines. */
    CHECK_EQ_U64(m.bad_lines, 11);
    CHECK_EQ_U64(m.first_bad, 1);
    CHECK(m.vvar.count == 1 && m.vvar.lo == 0x7f888479d000, "[vvar] %u at %#lx", m.vvar.count,
          (unsigned long)m.vvar.lo);
    CHECK(m.vdso.count == 1 && m.vdso.lo == 0x7f88847a3000, "[vdso] %u at %#lx", m.vdso.count,
          (unsigned long)m.vdso.lo);
    CHECK(s.vvar_pages == 4 && s.vclock_pages == 2 && s.contiguous, "shape %u+%u %d", s.vvar_pages,
          s.vclock_pages, s.contiguous);
}

static void test_ambiguous(void)
{
    struct live_maps m;
    struct layout_shape s;

    parse(maps_twice, &m, &s);
    CHECK(m.vvar.count == 2 && m.vvar.lo == 0x7f888479d000, "[vvar] twice: %u, first at %#lx",
          m.vvar.count, (unsigned long)m.vvar.lo);
    CHECK(!s.contiguous, "a name seen twice must not give a trusted shape");

    parse(maps_gap, &m, &s);
    CHECK(s.vvar_pages == 4 && !s.contiguous, "a gap below [vdso]: %u %d", s.vvar_pages,
          s.contiguous);
}

static void test_holds(void)
{
    struct live_range r = {0x10000, 0x14000, 1}, absent = {0, 0, 0};

    CHECK(live_range_holds(&r, 0x10000, 0x4000), "whole range");
    CHECK(live_range_holds(&r, 0x13000, 0x1000), "last page");
    CHECK(!live_range_holds(&r, 0x13000, 0x1001), "one byte past the end");
    CHECK(!live_range_holds(&r, 0xf000, 0x10), "below the range");
    CHECK(!live_range_holds(&r, 0x14000, 1), "at the end");
    CHECK(!live_range_holds(&r, 0x13fff, SIZE_MAX), "length wraps");
    CHECK(!live_range_holds(&absent, 0, 0), "absent range holds nothing");
}

int main(void)
{
    test_eras();
    test_missing();
    test_garbage();
    test_ambiguous();
    test_holds();
    return check_finish();
}
