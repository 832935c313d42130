/*
 * Checks every group applies to every reading: the entry point exists, and
 * the reading is in range (defect class C12: tv_nsec not normalised).
 */
#include "conf.h"
#include "oracle.h"

bool conf_require(struct conf_ctx *ctx, const void *fn, const char *name)
{
    if (fn)
        return true;
    conf_skip(ctx, "target %s lacks %s%s%s", ctx->target->name, name,
              ctx->target->missing[0] ? ": " : "", ctx->target->missing);
    return false;
}

bool conf_check_ts(struct conf_ctx *ctx, const struct timespec *ts, const char *what)
{
    if (ts_valid(ts))
        return true;
    conf_fail(ctx, "%s: reading out of range: tv_sec=%lld tv_nsec=%lld (need 0 <= tv_nsec < 1e9)",
              what, (long long)ts->tv_sec, (long long)ts->tv_nsec);
    return false;
}

bool conf_check_tv(struct conf_ctx *ctx, const struct timeval *tv, const char *what)
{
    if (tv_valid(tv))
        return true;
    conf_fail(ctx, "%s: reading out of range: tv_sec=%lld tv_usec=%lld (need 0 <= tv_usec < 1e6)",
              what, (long long)tv->tv_sec, (long long)tv->tv_usec);
    return false;
}
