/*
 * How a group records its tests: each call becomes one line on the record
 * pipe ("B id", "F evidence", "V key=value terms", "N note", "H host
 * finding", "M key=value counts", "S reason", "E"), written with one
 * write(2) of at most PIPE_BUF bytes so that lines from a group and its
 * forked helpers never interleave, and so that everything recorded before
 * a crash reaches the runner.
 */
#define _GNU_SOURCE
#include "conf.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORD_LINE_MAX    1024
#define EVIDENCE_LINES_MAX 48

static void emit(const struct conf_ctx *ctx, char kind, const char *text)
{
    char line[RECORD_LINE_MAX];

    /* One record per text line; the runner joins them again. */
    do {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        if (n > sizeof(line) - 4)
            n = sizeof(line) - 4;
        line[0] = kind;
        line[1] = ' ';
        memcpy(line + 2, text, n);
        line[2 + n] = '\n';
        ssize_t w = write(ctx->out_fd, line, n + 3);
        (void)w; /* a closed pipe means the runner gave up on us */
        text = nl ? nl + 1 : NULL;
    } while (text && *text);
}

static bool selected(const struct conf_ctx *ctx, const char *id)
{
    if (!ctx->only)
        return true;
    if (fnmatch(ctx->only, id, 0) == 0)
        return true;
    /* A pattern without a dot names whole groups ("getcpu", "mono*"). */
    if (!strchr(ctx->only, '.')) {
        char group[64];
        size_t n = strcspn(id, ".");
        if (n >= sizeof(group))
            n = sizeof(group) - 1;
        memcpy(group, id, n);
        group[n] = 0;
        return fnmatch(ctx->only, group, 0) == 0;
    }
    return false;
}

bool conf_test_selected(const struct conf_ctx *ctx, const char *fmt, ...)
{
    char id[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(id, sizeof(id), fmt, ap);
    va_end(ap);
    return selected(ctx, id);
}

bool conf_test_begin(struct conf_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx->test_id, sizeof(ctx->test_id), fmt, ap);
    va_end(ap);
    if (!selected(ctx, ctx->test_id))
        return false;
    if (ctx->listing) {
        emit(ctx, 'L', ctx->test_id);
        return false;
    }
    ctx->in_test = true;
    ctx->failed = ctx->skipped = false;
    ctx->evidence_lines = 0;
    emit(ctx, 'B', ctx->test_id);
    return true;
}

static void vrecord(struct conf_ctx *ctx, char kind, const char *fmt, va_list ap)
{
    if (!ctx->in_test || ctx->evidence_lines >= EVIDENCE_LINES_MAX)
        return;
    char text[RECORD_LINE_MAX];
    vsnprintf(text, sizeof(text), fmt, ap);
    ctx->evidence_lines++;
    emit(ctx, kind, ctx->evidence_lines == EVIDENCE_LINES_MAX ? "(further evidence cut)" : text);
}

static void describe_target_state(struct conf_ctx *ctx)
{
    const struct conf_target *t = ctx->target;

    if (!t || !t->describe_state)
        return;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return;
    t->describe_state(t, mem);
    fclose(mem);
    if (buf && len)
        emit(ctx, 'N', buf);
    free(buf);
}

static void mark_failed(struct conf_ctx *ctx)
{
    if (ctx->in_test && !ctx->failed) {
        ctx->failed = true;
        describe_target_state(ctx);
    }
}

void conf_fail(struct conf_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vrecord(ctx, 'F', fmt, ap);
    va_end(ap);
    mark_failed(ctx);
}

void conf_fail_ev(struct conf_ctx *ctx, const char *terms, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    /* Terms travel only with their prose: once evidence is cut, the failure is prose. */
    if (ctx->in_test && ctx->evidence_lines + 1 < EVIDENCE_LINES_MAX) {
        emit(ctx, 'V', terms);
        vrecord(ctx, 'N', fmt, ap);
    } else {
        vrecord(ctx, 'F', fmt, ap);
    }
    va_end(ap);
    mark_failed(ctx);
}

/* A record outside the evidence budget (a finding, a metric); one_line cuts at the first newline.
 */
static void vrecord_whole(struct conf_ctx *ctx, char kind, bool one_line, const char *fmt,
                          va_list ap)
{
    char text[RECORD_LINE_MAX];

    if (!ctx->in_test)
        return;
    vsnprintf(text, sizeof(text), fmt, ap);
    if (one_line)
        text[strcspn(text, "\n")] = 0;
    emit(ctx, kind, text);
}

void conf_host_finding(struct conf_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vrecord_whole(ctx, 'H', false, fmt, ap);
    va_end(ap);
}

void conf_note(struct conf_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vrecord(ctx, 'N', fmt, ap);
    va_end(ap);
}

void conf_metric(struct conf_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vrecord_whole(ctx, 'M', true, fmt, ap);
    va_end(ap);
}

void conf_skip(struct conf_ctx *ctx, const char *fmt, ...)
{
    if (!ctx->in_test || ctx->failed || ctx->skipped)
        return;
    char text[RECORD_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    ctx->skipped = true;
    emit(ctx, 'S', text);
}

void conf_test_end(struct conf_ctx *ctx)
{
    if (!ctx->in_test)
        return;
    emit(ctx, 'E', ctx->failed ? "fail" : ctx->skipped ? "skip" : "pass");
    ctx->in_test = false;
}

void conf_test_skip(struct conf_ctx *ctx, const char *id, const char *fmt, ...)
{
    if (!conf_test_begin(ctx, "%s", id))
        return;
    char text[RECORD_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    conf_skip(ctx, "%s", text);
    conf_test_end(ctx);
}

/* Full and soak rounds: about 60 s per target where quick takes about 3 s. */
int64_t conf_budget_ns(const struct conf_ctx *ctx, int64_t quick_ns)
{
    return ctx->tier == CONF_TIER_QUICK ? quick_ns : quick_ns * 20;
}

unsigned conf_budget_iters(const struct conf_ctx *ctx, unsigned quick_iters)
{
    return ctx->tier == CONF_TIER_QUICK ? quick_iters : quick_iters * 10;
}

uint64_t conf_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}
