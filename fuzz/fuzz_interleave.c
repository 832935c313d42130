/*
 * fuzz_interleave: the interleaving explorer (vdsokit/explore.h) driven by
 * the input, on real binary code: the reference image and this process's
 * own kernel vDSO, each loaded once on emulated data pages with the
 * hermetic trap installed. The input picks the image, the clock mode, the
 * call and a schedule of up to four actions ("before load K apply stores
 * [A, B) of update U"), so that libFuzzer and AFL++ search interleavings
 * the group's enumeration does not reach (two updates interleaved, any
 * split, any order). Layout, one byte each unless said:
 *   0: image (bit 0: ref or kernel)   1: mode (mod 5)   2: call (mod 6)
 *   then per action: load K (mod 48), update U (mod the mode's count),
 *   A and B (mod the update's stores + 1, swapped into order).
 * Invariant: both images are correct seqcount readers, so every run is a
 * PASS of the exact oracle (a torn value, a wrong fallback, a livelock or
 * a bad fault aborts with the schedule and the trace). The kernel image
 * built without the Hyper-V clock (its unperturbed call makes the
 * syscall) is not held to hvclock mode.
 */
#include "fuzz_common.h"

#include <string.h>

#include <vdsokit/explore.h>
#include <vdsokit/loader.h>
#include <vdsokit/loader_trap.h>

static const struct explore_call calls[] = {
    {EXPLORE_GETTIME, VDSO_CLOCK_MONOTONIC},
    {EXPLORE_GETTIME, VDSO_CLOCK_MONOTONIC_RAW},
    {EXPLORE_GETTIME, VDSO_CLOCK_REALTIME_COARSE},
    {EXPLORE_GETTIMEOFDAY, 0},
    {EXPLORE_TIME, 0},
    {EXPLORE_GETRES, VDSO_CLOCK_MONOTONIC},
};
#define NCALLS (sizeof calls / sizeof calls[0])

static struct vdso_loaded *images[2];
static struct explore *open_x; /* one exploration at a time (it owns its image) */
static unsigned open_image, open_mode;
static struct explore_outcome out;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct loader_options opt = {.clock = LOADER_CLOCK_HOST};
    struct vdsokit_error err;

    (void)argc;
    (void)argv;
    if (loader_trap_install(&err) || loader_load_ref(&images[0], &opt, &err) ||
        loader_load_live(&images[1], &opt, &err))
        fuzz_fail(__FILE__, __LINE__, "setup", "%s", err.msg);
    return 0;
}

static struct explore *explorer(unsigned image, unsigned mode)
{
    struct vdsokit_error err;

    if (open_x && open_image == image && open_mode == mode)
        return open_x;
    explore_close(open_x);
    open_x = NULL;
    FUZZ_ASSERT(explore_open(&open_x, images[image], (enum explore_mode)mode, &err) == 0, "%s",
                err.msg);
    open_image = image;
    open_mode = mode;
    return open_x;
}

static void decode(struct explore *x, const uint8_t *p, size_t n, struct explore_schedule *s)
{
    memset(s, 0, sizeof *s);
    for (; n >= 4 && s->nactions < EXPLORE_MAX_ACTIONS; p += 4, n -= 4) {
        unsigned u = p[1] % explore_nupdates(x);
        unsigned stores = explore_update(x, u)->nstores + 1;
        unsigned a = p[2] % stores, b = p[3] % stores;
        s->act[s->nactions++] = (struct explore_action){
            p[0] % 48u, (uint8_t)u, (uint16_t)(a < b ? a : b), (uint16_t)(a < b ? b : a)};
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct explore_schedule s;
    struct vdsokit_error err;
    char sched[96];
    static char trace[EXPLORE_MAX_TRACE * 64];

    if (size < 3)
        return 0;
    unsigned image = data[0] & 1, mode = data[1] % EXPLORE_NMODES;
    const struct explore_call *c = &calls[data[2] % NCALLS];
    struct explore *x = explorer(image, mode);
    if (image == 1 && mode == EXPLORE_HVCLOCK) {
        FUZZ_ASSERT(explore_run(x, c, NULL, &out, &err) == 0, "%s", err.msg);
        if (out.verdict == EXPLORE_BAD_TRAP && out.traps)
            return 0; /* built without the Hyper-V clock */
    }
    decode(x, data + 3, size - 3, &s);
    FUZZ_ASSERT(explore_run(x, c, &s, &out, &err) == 0, "%s", err.msg);
    if (out.verdict != EXPLORE_PASS) {
        explore_schedule_format(&s, sched, sizeof sched);
        explore_trace_format(&out, trace, sizeof trace);
        FUZZ_ASSERT(0, "%s %s:%d:%s:%s: %s\n%s", image ? "kernel image" : "ref",
                    explore_entry_name(c->entry), c->clk,
                    explore_mode_name((enum explore_mode)mode), sched, out.why, trace);
    }
    return 0;
}
