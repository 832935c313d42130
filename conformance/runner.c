/*
 * The fork/deadline/collect loop. The parent polls the record pipe in short
 * slices and also reaps the child, so a child that exits while a helper it
 * forked still holds the pipe does not look like a hang; at the deadline
 * the child's process group gets SIGKILL. A test that was begun but never
 * ended is a FAIL naming the signal, the exit status or the deadline (and
 * marked so that no waiver can accept it); the tests of the group that the
 * crash or deadline kept from running are found by listing the group again
 * (a child that only names its tests) and recorded as NOT RUN.
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

#include "evidence.h"
#include "oracle.h"

/* Test ids, one string each (ids closed in this run; ids a listing named). */
struct id_list {
    char (*ids)[128];
    size_t n, cap;
};

struct collector {
    struct conf_results *rs;
    unsigned target, group;
    char open_id[128]; /* test begun and not yet ended, "" if none */
    char *text;        /* evidence lines of the open test */
    size_t text_len;
    char *evidence;     /* its structured terms (canonical), NULL if none */
    unsigned hard;      /* CONF_HARD_* of the open test */
    char *finding;      /* host finding lines of the open test */
    char *metrics;      /* its exported counts (the last M record) */
    char partial[2048]; /* an incomplete line from the last read */
    size_t partial_len;
    struct id_list closed;  /* tests that got a result from this child */
    struct id_list *listed; /* listing into this instead of printing, or NULL */
};

static void ids_add(struct id_list *l, const char *id)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        void *p = realloc(l->ids, cap * sizeof(l->ids[0]));
        if (!p)
            return;
        l->ids = p;
        l->cap = cap;
    }
    snprintf(l->ids[l->n++], sizeof(l->ids[0]), "%s", id);
}

static bool ids_have(const struct id_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->ids[i], id) == 0)
            return true;
    return false;
}

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

static void finding_append(struct collector *c, const char *s)
{
    size_t have = c->finding ? strlen(c->finding) : 0;
    char *p = realloc(c->finding, have + strlen(s) + 2);

    if (!p)
        return;
    sprintf(p + have, "%s%s", have ? "\n" : "", s);
    c->finding = p;
}

static void close_test(struct collector *c, enum conf_status st)
{
    if (c->text_len && c->text[c->text_len - 1] == '\n')
        c->text[--c->text_len] = 0;
    struct conf_record rec = {.text = c->text,
                              .evidence = c->evidence,
                              .hard = c->hard,
                              .host_finding = c->finding,
                              .metrics = c->metrics};
    results_add(c->rs, c->target, c->group, c->open_id, st, &rec);
    ids_add(&c->closed, c->open_id);
    free(c->text);
    free(c->evidence);
    free(c->finding);
    free(c->metrics);
    c->text = c->evidence = c->finding = c->metrics = NULL;
    c->text_len = 0;
    c->hard = 0;
    c->open_id[0] = 0;
}

static void on_line(struct collector *c, const char *line)
{
    char kind = line[0];
    const char *arg = line[1] == ' ' ? line + 2 : line + 1;

    switch (kind) {
    case 'L':
        if (c->listed)
            ids_add(c->listed, arg);
        else
            printf("%s\n", arg);
        break;
    case 'B':
        if (c->open_id[0]) {
            text_append(c, "", "test ended without a result (its helper process died?)");
            c->hard |= CONF_HARD_EXIT;
            close_test(c, CONF_FAIL);
        }
        snprintf(c->open_id, sizeof(c->open_id), "%s", arg);
        break;
    case 'V':
        /* Malformed terms cannot be matched: the failure counts as prose. */
        if (ev_merge(&c->evidence, arg) != 0)
            c->hard |= CONF_HARD_PROSE;
        break;
    case 'F':
        c->hard |= CONF_HARD_PROSE;
        text_append(c, "", arg);
        break;
    case 'N':
        text_append(c, "", arg);
        break;
    case 'H':
        finding_append(c, arg);
        break;
    case 'M':
        free(c->metrics);
        c->metrics = strdup(arg);
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

/* How the child ended; "" when normally. Sets the unwaivable reason. */
static void end_reason(struct collector *c, int wstatus, bool timed_out, int64_t deadline_ns,
                       char *why, size_t len)
{
    why[0] = 0;
    if (timed_out) {
        snprintf(why, len, "deadline of %.1f s exceeded (hang or livelock); process group killed",
                 (double)deadline_ns / NSEC_PER_SEC);
        c->hard |= CONF_HARD_DEADLINE;
    } else if (WIFSIGNALED(wstatus)) {
        snprintf(why, len, "killed by signal %d (%s)", WTERMSIG(wstatus),
                 strsignal(WTERMSIG(wstatus)));
        c->hard |= CONF_HARD_SIGNAL;
    } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0) {
        snprintf(why, len, "exited with status %d", WEXITSTATUS(wstatus));
        c->hard |= CONF_HARD_EXIT;
    }
}

/* Close the test the child died in (or the group's harness pseudo-test). */
static void describe_end(struct collector *c, const char *why)
{
    if (!c->open_id[0])
        snprintf(c->open_id, sizeof(c->open_id), "%s.harness", conf_groups[c->group].name);
    text_append(c, "", why);
    close_test(c, CONF_FAIL);
}

struct child_end {
    int wstatus;
    bool timed_out;
};

/* Fork the group's child (listing or running), feed its records to c, reap it. */
static struct child_end spawn_collect(struct collector *c, const struct conf_ctx *ctx,
                                      int64_t deadline_ns)
{
    struct child_end end = {0};
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
        run_child(ctx, c->group, fds[1]);
    }
    setpgid(pid, pid); /* also from here: no window where a kill misses it */
    close(fds[1]);

    bool reaped = false, eof = false;
    while (!eof) {
        int64_t left = t0 + deadline_ns - mono_now_ns();
        if (end.timed_out && left < -5 * NSEC_PER_SEC)
            break; /* something outside the process group holds the pipe */
        if (left <= 0 && !reaped) {
            end.timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r > 0) {
            char buf[4096];
            ssize_t n = read(fds[0], buf, sizeof(buf));
            if (n > 0)
                on_bytes(c, buf, (size_t)n);
            else if (n == 0 || errno != EINTR)
                eof = true;
        }
        if (!reaped && waitpid(pid, &end.wstatus, WNOHANG) == pid) {
            reaped = true;
            /* Helpers the group left behind must not keep the pipe open. */
            kill(-pid, SIGKILL);
        }
    }
    if (!reaped)
        waitpid(pid, &end.wstatus, 0);
    kill(-pid, SIGKILL);
    close(fds[0]);
    if (c->partial_len) {
        c->partial[c->partial_len] = 0;
        on_line(c, c->partial);
        c->partial_len = 0;
    }
    return end;
}

#define LIST_DEADLINE_NS (10 * NSEC_PER_SEC)

/*
 * After the child died: every test the group would have run (a listing
 * child names them, the --only filter applied) that got no result from
 * this child is NOT RUN, naming what stopped it.
 */
static void record_not_run(struct collector *c, const struct conf_ctx *ctx, const char *died_in,
                           const char *why)
{
    struct id_list listed = {0};
    struct collector lc = {.rs = c->rs, .target = c->target, .group = c->group, .listed = &listed};
    struct conf_ctx lctx = *ctx;

    lctx.listing = true;
    struct child_end end = spawn_collect(&lc, &lctx, LIST_DEADLINE_NS);
    char text[512];
    snprintf(text, sizeof(text),
             "not run: the group's child ended (%s) in %s before this test began (a crash or "
             "deadline prevented it; never waived)",
             why, died_in);
    struct conf_record rec = {.text = text, .hard = CONF_HARD_EXIT};
    for (size_t i = 0; i < listed.n; i++)
        if (!ids_have(&c->closed, listed.ids[i]))
            results_add(c->rs, c->target, c->group, listed.ids[i], CONF_NOTRUN, &rec);
    if (end.timed_out || !WIFEXITED(end.wstatus) || WEXITSTATUS(end.wstatus) != 0)
        fprintf(stderr, "vdsoconf: group %s: could not list its tests to name those not run\n",
                conf_groups[c->group].name);
    free(listed.ids);
    free(lc.closed.ids);
}

void conf_run_group(struct conf_results *rs, unsigned target, unsigned group,
                    const struct conf_ctx *ctx, int64_t deadline_ns)
{
    struct collector c = {.rs = rs, .target = target, .group = group};
    int64_t t0 = mono_now_ns();
    struct child_end end = spawn_collect(&c, ctx, deadline_ns);
    char why[256];

    end_reason(&c, end.wstatus, end.timed_out, deadline_ns, why, sizeof(why));
    if (why[0]) {
        char died_in[160];
        snprintf(died_in, sizeof(died_in), "%s", c.open_id[0] ? c.open_id : "its harness");
        describe_end(&c, why);
        if (!ctx->listing)
            record_not_run(&c, ctx, died_in, why);
    }
    if (c.open_id[0]) {
        text_append(&c, "", "test ended without a result");
        c.hard |= CONF_HARD_EXIT;
        close_test(&c, CONF_FAIL);
    }
    free(c.text);
    free(c.evidence);
    free(c.finding);
    free(c.metrics);
    free(c.closed.ids);
    rs->cells[target][group].seconds += (double)(mono_now_ns() - t0) / NSEC_PER_SEC;
    rs->cells[target][group].ran = true;
}
