/*
 * What vdsoconf gates: a target is five entry points with the raw vDSO
 * calling convention (return 0 or -errno, never touch errno), a kind, flags
 * saying what can be asked of it, and, for in-process targets (the reference
 * image or an image file on emulated data pages), a pointer to the emulated
 * kernel state so that failures can print the data pages and the
 * concurrent-update group can drive them. An entry point the target lacks
 * is NULL and every test that needs it is a SKIP naming the symbol.
 */
#ifndef VDSOCONF_TARGET_H
#define VDSOCONF_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <sys/time.h>

struct live_layout;

typedef int (*conf_clock_gettime_fn)(clockid_t clk, struct timespec *ts);
typedef int (*conf_gettimeofday_fn)(struct timeval *tv, struct timezone *tz);
typedef long (*conf_time_fn)(long *t);
typedef int (*conf_clock_getres_fn)(clockid_t clk, struct timespec *res);
typedef long (*conf_getcpu_fn)(unsigned *cpu, unsigned *node, void *unused);
typedef long (*conf_getrandom_fn)(void *buf, size_t len, unsigned flags, void *state,
                                  size_t state_len);

struct conf_vdso_fns {
    conf_clock_gettime_fn clock_gettime;
    conf_gettimeofday_fn gettimeofday;
    conf_time_fn time;
    conf_clock_getres_fn clock_getres;
    conf_getcpu_fn getcpu;
    /* Optional (Linux 6.11+): NULL without a vDSO getrandom; no oracle entry. */
    conf_getrandom_fn getrandom;
};

enum conf_target_kind {
    CONF_TARGET_LIVE,  /* this process's vDSO as the kernel mapped it */
    CONF_TARGET_LIBC,  /* the C library's wrappers, adapted to the raw convention */
    CONF_TARGET_REF,   /* the embedded reference image on emulated data pages */
    CONF_TARGET_IMAGE, /* an image file on emulated data pages */
};

enum {
    CONF_TARGET_IN_PROCESS = 1u << 0, /* data pages owned by this process */
    CONF_TARGET_MAPPED = 1u << 1,     /* the kernel's [vvar]/[vdso] mappings */
    CONF_TARGET_RAW_ABI = 1u << 2,    /* entry points are vDSO functions, not wrappers */
};

struct conf_target {
    char name[256]; /* as given on the command line: live, libc, ref, image:PATH */
    enum conf_target_kind kind;
    unsigned flags;
    struct conf_vdso_fns fn;
    /*
     * What the target's answers are checked against, in the same raw
     * convention: the kernel's syscalls for live and libc; for in-process
     * targets the emulated kernel's model of "now" (inproc.h) for the time
     * readings and the syscall for getres. getcpu is always the syscall.
     */
    struct conf_vdso_fns oracle;
    char missing[160]; /* why entry points are NULL (no vDSO, symbol absent) */
    char detail[640];  /* one line for the report header */
    /* In-process targets: the emulated kernel's constants, chosen from the
     * run's seed (and the host's beside them), for the header and --json. */
    char emulated[1024];
    unsigned long long seed; /* the run's --seed */

    /* The image text as mapped (live: AT_SYSINFO_EHDR and the [vdso] size). */
    const void *text;
    size_t text_size;

    /*
     * The clock mode the HRES clocks are served in (VDSO_CLOCKMODE_*), or -1
     * when unknown; decides whether a syscall-free answer is required.
     */
    int (*clock_mode)(const struct conf_target *t);
    /* Evidence: print the data pages this target reads (NULL: nothing to show). */
    void (*describe_state)(const struct conf_target *t, FILE *out);
    /*
     * In-process targets only: the emulated kernel half (timekeeper, data
     * pages) for evidence and for the concurrent-update group; NULL for
     * live and libc. Owned by the loader, opaque here.
     */
    void *inproc;
    /*
     * live and libc: how the running kernel laid out this process's vDSO
     * and data pages (vdsokit/live_layout.h); NULL for the other targets.
     * Whoever reads the kernel's data pages takes the pointers from here.
     */
    const struct live_layout *live;
};

/*
 * Open a target from its command-line spec; seed is the run's (in-process
 * targets take their emulated kernel's constants from it). Returns 0, or 2
 * (setup error) with a message in err naming what is missing.
 */
int conf_target_open(struct conf_target *t, const char *spec, unsigned long long seed, char *err,
                     size_t errlen);
void conf_target_close(struct conf_target *t);
/*
 * Called in each group's forked child before the group runs: an in-process
 * target loads a private instance with a running writer there. Returns 0,
 * or 2 with err.
 */
int conf_target_enter_child(struct conf_target *t, char *err, size_t errlen);

/* Per kind; conf_target_open dispatches. */
int conf_target_open_live(struct conf_target *t, char *err, size_t errlen);
int conf_target_open_libc(struct conf_target *t, char *err, size_t errlen);
/* Why the libc target has no vDSO getrandom to test (its glibc, named). */
const char *conf_libc_getrandom_why(void);
int conf_target_open_image(struct conf_target *t, const char *path, char *err, size_t errlen);
/* The suite's self-test: live with one deliberate defect (target_mutant.c). */
int conf_target_open_mutant(struct conf_target *t, const char *name, char *err, size_t errlen);

/*
 * The kernel's own clock mode (-1 when the layout is not described, or no
 * vDSO) and data page, read from this process's [vvar] through t->live.
 */
int conf_live_clock_mode(const struct conf_target *t);
void conf_live_describe_state(const struct conf_target *t, FILE *out);
/* Probe this process's vDSO layout into t->live. Returns 0, or 2 with err. */
int conf_live_attach(struct conf_target *t, char *err, size_t errlen);
/* Why t's data pages are not read: the probe's sentence naming the kernel and era. */
const char *conf_live_layout_why(const struct conf_target *t);

#endif /* VDSOCONF_TARGET_H */
