/*
 * The status flags the explorer computes for the sub, cmp and test loads
 * it performs itself, against this CPU's own: random and edge operands at
 * 8, 32 and 64 bits; all six flags of a subtraction, and of an AND the
 * five the architecture defines (AF is undefined there).
 */
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "explore_internal.h"

/* The flags register after op; the red zone is stepped over (lea keeps the flags). */
#define CPU_FLAGS(insn, a, b, f)                                                                \
    __asm__ volatile(insn                                                                       \
                     "\n\tlea -128(%%rsp), %%rsp\n\tpushfq\n\tpopq %0\n\tlea 128(%%rsp), %%rsp" \
                     : "=r"(f), "+r"(a)                                                         \
                     : "r"(b)                                                                   \
                     : "cc", "memory")

static uint64_t cpu_flags(uint64_t a, uint64_t b, unsigned bits, bool logic)
{
    uint64_t f;

    if (bits == 64 && !logic)
        CPU_FLAGS("subq %2, %1", a, b, f);
    else if (bits == 64)
        CPU_FLAGS("andq %2, %1", a, b, f);
    else if (bits == 32 && !logic)
        CPU_FLAGS("subl %k2, %k1", a, b, f);
    else if (bits == 32)
        CPU_FLAGS("andl %k2, %k1", a, b, f);
    else if (!logic)
        CPU_FLAGS("subb %b2, %b1", a, b, f);
    else
        CPU_FLAGS("andb %b2, %b1", a, b, f);
    return f;
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

int main(void)
{
    static const uint64_t edge[] = {
        0,          1,          0x7f,       0x80,      0xff,
        0x7fffffff, 0x80000000, 0xffffffff, INT64_MAX, (uint64_t)INT64_MIN,
        UINT64_MAX, 0x10,       0x0f};
    static const unsigned widths[] = {8, 32, 64};
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    unsigned bad = 0, n = 0;

    for (unsigned i = 0; i < 20000; i++) {
        uint64_t a = i < 169 ? edge[i % 13] : next(&seed), b = i < 169 ? edge[i / 13] : next(&seed);
        if (i % 3 == 0)
            b = a ^ (next(&seed) & 0x1f); /* near-equal operands */
        for (unsigned w = 0; w < 3; w++)
            for (int logic = 0; logic < 2; logic++) {
                uint64_t r, want = cpu_flags(a, b, widths[w], logic);
                uint64_t mask = logic ? EXPLORE_STATUS_FLAGS & ~FLAG_AF : EXPLORE_STATUS_FLAGS;
                uint64_t got = explore_alu_flags(a, b, widths[w], logic, &r);
                n++;
                if ((got & mask) != (want & mask) && bad++ < 5)
                    CHECK(0, "%s %u bits a=%#llx b=%#llx: flags %#llx, the CPU's %#llx",
                          logic ? "and" : "sub", widths[w], (unsigned long long)a,
                          (unsigned long long)b, (unsigned long long)(got & mask),
                          (unsigned long long)(want & mask));
            }
    }
    CHECK(bad == 0, "%u of %u operand pairs differ", bad, n);
    return check_finish();
}
