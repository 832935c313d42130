/*
 * The six status flags of the x86 subtraction and logical AND, as the CPU
 * sets them (CF, PF, AF, ZF, SF, OF; a logical operation clears CF, OF
 * and AF): the stepping engine computes them for the sub, cmp and test
 * loads it performs itself instead of stepping.
 */
#include "explore_internal.h"

uint64_t explore_alu_flags(uint64_t a, uint64_t b, unsigned bits, bool logic, uint64_t *result)
{
    uint64_t mask = bits == 64 ? UINT64_MAX : (1ull << bits) - 1, top = 1ull << (bits - 1);
    uint64_t r = (logic ? a & b : a - b) & mask, f = 0;

    a &= mask;
    b &= mask;
    if (!logic) {
        f |= a < b ? FLAG_CF : 0;
        f |= ((a ^ b) & (a ^ r) & top) ? FLAG_OF : 0;
        f |= ((a ^ b ^ r) & 0x10) ? FLAG_AF : 0;
    }
    f |= r == 0 ? FLAG_ZF : 0;
    f |= (r & top) ? FLAG_SF : 0;
    f |= (__builtin_popcount((unsigned)(r & 0xff)) & 1) ? 0 : FLAG_PF;
    *result = r;
    return f;
}
