/*
 * Group 4, concurrent updates: the timekeeper storms the data pages
 * (back-to-back and at HZ, slews, steps, boot-offset jumps, mode flips,
 * seq wrap, pvclock versions) while readers on every CPU check each result
 * against the 128-bit model of one committed state. Only an in-process
 * target has data pages this process can write; for live and libc each test
 * is a SKIP saying so.
 *
 * TODO(loader): when targets carry the emulated kernel (t->inproc), run the
 * storm here with tk_writer_start() and the tk_model.h check.
 */
#include "conf.h"

void group_concurrent(struct conf_ctx *ctx)
{
    static const char *const tests[] = {
        "concurrent.storm.back_to_back",
        "concurrent.storm.hz",
        "concurrent.slew",
        "concurrent.steps",
        "concurrent.boot_jumps",
        "concurrent.mode_flips",
        "concurrent.seq_wrap",
        "concurrent.pvclock_version",
        "concurrent.getcpu",
    };
    for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        if (!(ctx->target->flags & CONF_TARGET_IN_PROCESS) || !ctx->target->inproc)
            conf_test_skip(ctx, tests[i],
                           "needs an in-process target (ref, image:PATH): the data pages of %s "
                           "belong to the kernel",
                           ctx->target->name);
        else
            conf_test_skip(ctx, tests[i], "the concurrent-update driver is not in this build yet");
    }
}
