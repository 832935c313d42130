/*
 * The replay driver: a main() for any harness when no fuzzing engine is
 * linked (gcc builds, ctest label fuzz-regression). It runs every file named
 * on the command line, and every regular file of every directory named, once
 * through LLVMFuzzerTestOneInput, each from a heap buffer of exactly its
 * size. A crash, sanitizer report or broken invariant ends the process with
 * a non-zero status, after the line naming the input. --live-vdso also
 * replays a copy of this process's own [vdso] mapping, so the kernel's image
 * is exercised at test time without ever being committed. Each input gets
 * FUZZ_TIMEOUT_SECS (default 25) seconds before SIGALRM calls it a hang.
 */
#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *current_input = "(none)";
static unsigned replayed;

static void on_alarm(int sig)
{
    static const char msg[] = "replay: TIMEOUT (hang) in input: ";

    (void)sig;
    if (write(2, msg, sizeof(msg) - 1) < 0 || write(2, current_input, strlen(current_input)) < 0 ||
        write(2, "\n", 1) < 0)
        _exit(2);
    abort();
}

static unsigned timeout_seconds(void)
{
    const char *env = getenv("FUZZ_TIMEOUT_SECS");

    unsigned long v = env ? strtoul(env, NULL, 10) : 0;

    return v ? (unsigned)v : 25;
}

static void run_one(const char *name, const uint8_t *bytes, size_t size)
{
    /* The harness sees a private exact-size copy, as under libFuzzer. */
    uint8_t *copy = malloc(size ? size : 1);

    if (!copy) {
        fprintf(stderr, "replay: out of memory for %s (%zu bytes)\n", name, size);
        exit(2);
    }
    memcpy(copy, bytes, size);
    current_input = name;
    printf("replay: %s (%zu bytes)\n", name, size);
    fflush(stdout);
    alarm(timeout_seconds());
    LLVMFuzzerTestOneInput(copy, size);
    alarm(0);
    free(copy);
    replayed++;
}

static int read_file(const char *path, uint8_t **out, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f)
        return -1;
    do {
        if (len == cap) {
            uint8_t *grown = realloc(buf, cap = cap ? cap * 2 : 4096);
            if (!grown) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            buf = grown;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    *out = buf;
    *size = len;
    return 0;
}

static int replay_file(const char *path)
{
    uint8_t *bytes;
    size_t size;

    if (read_file(path, &bytes, &size) < 0) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    run_one(path, bytes, size);
    free(bytes);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay_dir(const char *dir)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name), rc = 0;

    if (n < 0) {
        fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;

        if (snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) < (int)sizeof(path) &&
            stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_file(path) < 0)
            rc = -1;
        free(list[i]);
    }
    free(list);
    return rc;
}

/* Copy the [vdso] mapping named in /proc/self/maps (the whole mapping). */
static int replay_live_vdso(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    uintptr_t lo = 0, hi = 0;

    if (!maps) {
        fprintf(stderr, "replay: --live-vdso: cannot open /proc/self/maps: %s\n", strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), maps)) {
        if (strstr(line, "[vdso]") && sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2)
            break;
        lo = hi = 0;
    }
    fclose(maps);
    if (hi <= lo) {
        fprintf(stderr, "replay: --live-vdso: this process has no [vdso] mapping\n");
        return -1;
    }
    run_one("live:[vdso]", (const uint8_t *)lo, hi - lo);
    return 0;
}

int main(int argc, char **argv)
{
    struct stat st;
    int rc = 0;

    signal(SIGALRM, on_alarm);
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (strcmp(arg, "--live-vdso") == 0) {
            rc |= replay_live_vdso();
        } else if (arg[0] == '-') {
            fprintf(stderr, "replay: ignoring engine option %s\n", arg);
        } else if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc |= replay_dir(arg);
        } else {
            rc |= replay_file(arg);
        }
    }
    printf("replay: %u inputs replayed%s\n", replayed, rc ? ", some could not be read" : "");
    return rc ? 1 : 0;
}
