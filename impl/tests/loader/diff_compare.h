/*
 * One differential comparison step: call an entry point of two loaded
 * images on the same data-page state and check them against each other,
 * against the reference model (where the vDSO serves the call from the
 * pages), and against two syscalls around them (where it falls back). A
 * call the model says would fault is made under a SIGSEGV guard and both
 * images must fault. Counters say what was compared.
 */
#ifndef DIFF_COMPARE_H
#define DIFF_COMPARE_H

#include <vdsokit/loader.h>
#include <vdsokit/tk_model.h>

/*
 * What an image was built with, probed. A kernel without
 * CONFIG_POSIX_AUX_CLOCKS (or older than 6.17) sends aux ids to the
 * syscall, one without CONFIG_HYPERV_TIMER falls back in HVCLOCK mode; the
 * reference serves both from 6.17 and the HVCLOCK mode in every era. Where
 * the two images differ each is held to its own expected outcome.
 */
struct diff_kernel_config {
    bool aux_clocks;
    bool hvclock;
    bool pvclock_clamp; /* a TSC behind the pvclock's stamp counts as no time elapsed */
};

struct diff_pair {
    struct vdso_loaded *ref;  /* the reference image */
    struct vdso_loaded *kern; /* a kernel's vDSO (this one's, or a file), loaded */
    const char *state;        /* the state's name, for evidence */
    struct diff_kernel_config kcfg;
    struct diff_kernel_config rcfg; /* the same for the reference */
};

struct diff_stats {
    unsigned long served, fallback, fault, skipped; /* per outcome, all entry points */
    unsigned long gettime, gettimeofday, time, getres;
    unsigned long fault_not_taken; /* the model said fault; neither image touched the page */
    unsigned long config_diff;     /* served by one image, fallback in the other's build */
};

extern struct diff_stats diff_stats;

/* The clock ids compared: [-20, 40], INT_MIN and INT_MAX. */
#define DIFF_NCLOCKS 63
int32_t diff_clock_id(unsigned i);

void diff_clock_gettime(const struct diff_pair *p, const struct tk_model_view *v, int32_t clk);
void diff_gettimeofday(const struct diff_pair *p, const struct tk_model_view *v);
void diff_time(const struct diff_pair *p, const struct tk_model_view *v);
void diff_clock_getres(const struct diff_pair *p, const struct tk_model_view *v, int32_t clk);

/* Everything above for one state: every clock id and every entry point. */
void diff_all(const struct diff_pair *p, const struct tk_model_view *v);

/* Install the SIGSEGV guard (once). */
void diff_guard_init(void);

/* This file's CHECK counts (check.h counters are per translation unit). */
unsigned diff_checks_passed(void);
unsigned diff_checks_failed(void);

#endif
