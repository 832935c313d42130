/*
 * Rendering a plot with gnuplot (see plot.h). gnuplot runs as a child with
 * its output and errors in the temporary directory and a deadline, so a
 * wedged gnuplot cannot hold up the report; the directory is removed
 * whatever happened.
 */
#define _GNU_SOURCE
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define GNUPLOT_DEADLINE_MS 30000
#define GNUPLOT_MISSING     127

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static char *read_file(const char *dir, const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *p = realloc(buf, cap = cap * 2 + 8192);
            if (!p)
                break;
            buf = p;
        }
        size_t n = fread(buf + len, 1, 4096, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    if (buf)
        buf[len] = 0;
    return buf;
}

static void remove_dir(const char *dir, unsigned nfiles)
{
    const char *fixed[] = {"plot.gp", "out.svg", "err.txt"};
    char path[512];

    for (unsigned i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, fixed[i]);
        unlink(path);
    }
    for (unsigned i = 0; i < nfiles; i++) {
        snprintf(path, sizeof(path), "%s/d%u.dat", dir, i);
        unlink(path);
    }
    rmdir(dir);
}

/* Run gnuplot on dir/plot.gp; its exit status, 128 + signal, or -1 at the deadline. */
static int run_gnuplot(const char *dir)
{
    char script[512], err[512];

    snprintf(script, sizeof(script), "%s/plot.gp", dir);
    snprintf(err, sizeof(err), "%s/err.txt", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(GNUPLOT_MISSING);
    }
    const struct timespec nap = {.tv_nsec = 10 * 1000 * 1000};
    for (int waited = 0; waited < GNUPLOT_DEADLINE_MS; waited += 10) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void explain(const char *dir, int rc, char *why, size_t len)
{
    if (rc == GNUPLOT_MISSING) {
        snprintf(why, len, "gnuplot was not found (install gnuplot-nox to get the plots)");
        return;
    }
    if (rc < 0) {
        snprintf(why, len, "gnuplot did not finish in %d s; killed", GNUPLOT_DEADLINE_MS / 1000);
        return;
    }
    char *err = read_file(dir, "err.txt");
    /* gnuplot's message is the last non-empty line of its output. */
    const char *msg = "no message";
    if (err) {
        for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
            if (strspn(line, " \t^") != strlen(line))
                msg = line;
    }
    snprintf(why, len, "gnuplot failed (status %d): %s", rc, msg);
    free(err);
}

char *plot_svg(const struct plot *p, char *why, size_t why_len)
{
    const char *tmp = getenv("TMPDIR");
    char dir[256];
    unsigned nfiles = 0;

    snprintf(dir, sizeof(dir), "%s/vdsoconf-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        snprintf(why, why_len, "cannot make a temporary directory for gnuplot: %s",
                 strerror(errno));
        return NULL;
    }
    char *script = NULL;
    int ok = asprintf(&script,
                      "set terminal svg size %u,%u name '%s' font 'sans,11' background '#ffffff'\n"
                      "set output '%s/out.svg'\ncd '%s'\nset encoding utf8\n%s\n",
                      p->width, p->height, p->name, dir, dir, p->script) >= 0 &&
             write_file(dir, "plot.gp", script) == 0;
    free(script);
    for (; ok && nfiles < sizeof(p->data) / sizeof(p->data[0]) && p->data[nfiles]; nfiles++) {
        char name[32];
        snprintf(name, sizeof(name), "d%u.dat", nfiles);
        ok = write_file(dir, name, p->data[nfiles]) == 0;
    }
    char *svg = NULL;
    if (!ok) {
        snprintf(why, why_len, "cannot write gnuplot's input in %s: %s", dir, strerror(errno));
    } else {
        int rc = run_gnuplot(dir);
        char *out = rc == 0 ? read_file(dir, "out.svg") : NULL;
        char *start = out ? strstr(out, "<svg") : NULL;
        if (start)
            svg = strdup(start); /* the XML prolog has no place inside HTML */
        else
            explain(dir, rc == 0 ? 1 : rc, why, why_len);
        free(out);
    }
    remove_dir(dir, nfiles);
    return svg;
}
