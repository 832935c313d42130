/*
 * The tick the embedded reference image was built for. The image bakes its
 * coarse clock_getres in as a constant (as a kernel's vDSO bakes
 * TICK_NSEC), so the emulated kernel that runs it must tick at the same
 * length; the value comes from the same cache variable as the image's
 * (VDSOKIT_LOW_RES_NSEC, impl/vdso/CMakeLists.txt).
 */
#include <vdsokit/vdso_ref.h>

const uint32_t vdso_ref_tick_nsec = VDSO_REF_TICK_NSEC;
