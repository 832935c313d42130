/*
 * The fork/deadline/collect loop. The parent polls the record pipe in short
 * slices and also reaps the child, so a child that exits while a helper it
 * forked still holds the pipe does not look like a hang; at the deadline
 * the child's process group gets SIGKILL. A test that was begun but never
 * ended is a FAIL naming the signal, the exit status or the deadline.
 */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "oracle.h"

struct collector {
    struct conf_results *rs;
    unsigned target, group;
    char open_id[128]; /* test begun and not yet ended, "" if none */
    char *text;        /* evidence lines of the open test */
    size_t text_len;
    char partial[2048]; /* an incomplete line from the last read */
    size_t partial_len;
    bool listing;
};

static void text_append(struct collector *c, const char *prefix, const char *s)
{
    size_t add = strlen(prefix) + strlen(s) + 1;
    char *p = realloc(c->text, c->text_len + add + 1);

    if (!p)
        return;
    c->text = p;
    c->text_len += (size_t)sprintf(p + c->text_len, "%s%s\n", prefix, s);
}

static void text_prepend(struct collector *c, const char *s)
{
    size_t add = strlen(s) + 1;
    char *p = malloc(c->text_len + add + 1);

    if (!p)
        return;
    sprintf(p, "%s\n%s", s, c->text ? c->text : "");
    free(c->text);
    c->text = p;
    c->text_len += add;
}

static void close_test(struct collector *c, enum conf_status st)
{
    if (c->text_len && c->text[c->text_len - 1] == '\n')
        c->text[--c->text_len] = 0;
    results_add(c->rs, c->target, c->group, c->open_id, st, c->text);
    free(c->text);
    c->text = NULL;
    c->text_len = 0;
    c->open_id[0] = 0;
}

static void on_line(struct collector *c, const char *line)
{
    char kind = line[0];
    const char *arg = line[1] == ' ' ? line + 2 : line + 1;

    switch (kind) {
    case 'L':
        printf("%s\n", arg);
        break;
    case 'B':
        if (c->open_id[0]) {
            text_append(c, "", "test ended without a result (its helper process died?)");
            close_test(c, CONF_FAIL);
        }
        snprintf(c->open_id, sizeof(c->open_id), "%s", arg);
        break;
    case 'F':
    case 'N':
        text_append(c, "", arg);
        break;
    case 'S':
        text_prepend(c, arg); /* the reason leads: reporters show the first line */
        break;
    case 'E':
        if (c->open_id[0])
            close_test(c, strcmp(arg, "fail") == 0   ? CONF_FAIL
                          : strcmp(arg, "skip") == 0 ? CONF_SKIP
                                                     : CONF_PASS);
        break;
    default:
        break;
    }
}

static void on_bytes(struct collector *c, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n' || c->partial_len == sizeof(c->partial) - 1) {
            c->partial[c->partial_len] = 0;
            if (c->partial_len)
                on_line(c, c->partial);
            c->partial_len = 0;
            if (buf[i] == '\n')
                continue;
        }
        c->partial[c->partial_len++] = buf[i];
    }
}

/* The child: its own process group, its own instance of an in-process
 * target (with its writer thread), then the group body. */
static void run_child(const struct conf_ctx *proto, unsigned group, int wfd)
{
    setpgid(0, 0);
    struct conf_ctx ctx = *proto;
    ctx.out_fd = wfd;
    struct conf_target target = *proto->target;
    char err[512];
    if (!ctx.listing && conf_target_enter_child(&target, err, sizeof(err)) != 0) {
        fprintf(stderr, "vdsoconf: group %s: %s\n", conf_groups[group].name, err);
        _exit(2);
    }
    ctx.target = &target;
    conf_groups[group].run(&ctx);
    if (ctx.in_test)
        conf_test_end(&ctx);
    _exit(0);
}

static void describe_end(struct collector *c, int wstatus, bool timed_out, int64_t deadline_ns)
{
    char why[256];

    if (timed_out)
        snprintf(why, sizeof(why),
                 "deadline of %.1f s exceeded (hang or livelock); process group killed",
                 (double)deadline_ns / NSEC_PER_SEC);
    else if (WIFSIGNALED(wstatus))
        snprintf(why, sizeof(why), "killed by signal %d (%s)", WTERMSIG(wstatus),
                 strsignal(WTERMSIG(wstatus)));
    else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)
        snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(wstatus));
    else
        return;
    if (!c->open_id[0])
        snprintf(c->open_id, sizeof(c->open_id), "%s.harness", conf_groups[c->group].name);
    text_append(c, "", why);
    close_test(c, CONF_FAIL);
}

void conf_run_group(struct conf_results *rs, unsigned target, unsigned group,
                    const struct conf_ctx *ctx, int64_t deadline_ns)
{
    struct collector c = {.rs = rs, .target = target, .group = group, .listing = ctx->listing};
    int fds[2];

    if (pipe2(fds, O_CLOEXEC) != 0) {
        perror("vdsoconf: pipe");
        exit(2);
    }
    fflush(NULL);
    int64_t t0 = mono_now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        perror("vdsoconf: fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        run_child(ctx, group, fds[1]);
    }
    setpgid(pid, pid); /* also from here: no window where a kill misses it */
    close(fds[1]);

    int wstatus = 0;
    bool reaped = false, timed_out = false, eof = false;
    while (!eof) {
        int64_t left = t0 + deadline_ns - mono_now_ns();
        if (timed_out && left < -5 * NSEC_PER_SEC)
            break; /* something outside the process group holds the pipe */
        if (left <= 0 && !reaped) {
            timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r > 0) {
            char buf[4096];
            ssize_t n = read(fds[0], buf, sizeof(buf));
            if (n > 0)
                on_bytes(&c, buf, (size_t)n);
            else if (n == 0 || errno != EINTR)
                eof = true;
        }
        if (!reaped && waitpid(pid, &wstatus, WNOHANG) == pid) {
            reaped = true;
            /* Helpers the group left behind must not keep the pipe open. */
            kill(-pid, SIGKILL);
        }
    }
    if (!reaped)
        waitpid(pid, &wstatus, 0);
    kill(-pid, SIGKILL);
    close(fds[0]);
    if (c.partial_len) {
        c.partial[c.partial_len] = 0;
        on_line(&c, c.partial);
    }
    describe_end(&c, wstatus, timed_out, deadline_ns);
    if (c.open_id[0]) {
        text_append(&c, "", "test ended without a result");
        close_test(&c, CONF_FAIL);
    }
    free(c.text);
    rs->cells[target][group].seconds += (double)(mono_now_ns() - t0) / NSEC_PER_SEC;
    rs->cells[target][group].ran = true;
}
