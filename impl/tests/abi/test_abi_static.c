/*
 * The ABI header's constants against the values docs/abi.md §1 gives, at run
 * time (the offsets themselves are static asserts in abi.h).
 */
#include "../check.h"
#include <time.h>
#include <vdsokit/abi.h>

int main(void)
{
    CHECK_EQ_U64(VDSO_CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_RAW);
    CHECK_EQ_U64(VDSO_CLOCK_BOOTTIME, CLOCK_BOOTTIME);
    CHECK_EQ_U64(VDSO_CLOCK_TAI, CLOCK_TAI);
    CHECK_EQ_U64(VDSO_CLOCK_REALTIME_COARSE, CLOCK_REALTIME_COARSE);
    CHECK_EQ_U64(vdso_clock_bit(-1), 0);
    CHECK_EQ_U64(vdso_clock_bit(24), 0);
    CHECK_EQ_U64(vdso_clock_bit(23), 1u << 23);
    CHECK_EQ_U64(VDSO_CPUNODE_SEG, 0x7b);
    CHECK_EQ_U64(sizeof(struct vdso_time_data), 2368);
    return check_finish();
}
