/*
 * Waivers: a user's explicit acceptance of a known deviation, named by its
 * evidence. A file holds lines
 *     TARGET  TEST-ID-PATTERN  [kernel=RANGE] [build-id=HEX] KEY=VALUE...  REASON
 * ('#' comments). TARGET is an fnmatch glob over the whole target name
 * with FNM_PATHNAME ('*' never crosses a '/'), or image@build-id=HEX (the
 * image target whose GNU build id is HEX), or image@linux (any image
 * target carrying a Linux version note; kernel= is then required).
 * kernel=RANGE (6.17-6.18, 6.17-, 6.18, 6.18.5-6.18.40) is compared with
 * uname for live, libc and mutant targets and with the image's Linux note
 * for ref and image targets. The KEY=VALUE terms are the evidence the
 * waiver accepts: a failure is waived only when the structured evidence it
 * recorded (evidence.h) equals them exactly, and never when it crashed, hit
 * a deadline or failed without structured evidence. A waived failure is
 * WAIVED, never PASS; a waiver whose tests ran and all passed is stale.
 */
#ifndef VDSOCONF_WAIVER_H
#define VDSOCONF_WAIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evidence.h"
#include "results.h"
#include "target_ident.h"

enum conf_waiver_target {
    CONF_WAIVE_GLOB,     /* fnmatch(FNM_PATHNAME) over the target name */
    CONF_WAIVE_BUILD_ID, /* image@build-id=HEX */
    CONF_WAIVE_LINUX,    /* image@linux: an image with a Linux note in the kernel range */
};

struct conf_waiver {
    char target[128];
    enum conf_waiver_target target_kind;
    char build_id[81];      /* image@build-id=HEX */
    char need_build_id[81]; /* a build-id=HEX term: any target with that build id */
    char id[128];
    bool has_kernel;
    uint32_t kernel_lo, kernel_hi;  /* inclusive version codes */
    char kernel[40];                /* the range as written */
    char evidence[CONF_EV_LEN_MAX]; /* canonical terms it accepts */
    char reason[256];
    const char *file;
    unsigned line;
    unsigned matched_fail; /* failures it waived */
    unsigned matched_pass; /* tests it covers that passed: stale when no failure */
    unsigned refused;      /* failures it names but whose evidence it does not accept */
};

struct conf_waivers {
    struct conf_waiver *items;
    size_t n;
};

/* Load a waiver file. Returns 0, or 2 with err naming the file, line and rule. */
int waivers_load(struct conf_waivers *w, const char *path, char *err, size_t errlen);
/*
 * Turn waived failures into CONF_WAIVED; idents[i] identifies target i. A
 * failure a waiver names but does not accept gets a waiver_note saying why.
 */
void waivers_apply(struct conf_waivers *w, struct conf_results *rs,
                   const struct conf_target_ident *idents);
/* The waiver that would waive r (a FAIL) on target ident, or NULL; changes nothing. */
const struct conf_waiver *waivers_accepting(const struct conf_waivers *w,
                                            const struct conf_target_ident *ident,
                                            const struct conf_result *r);
bool waiver_is_stale(const struct conf_waiver *w);
void waivers_free(struct conf_waivers *w);

#endif /* VDSOCONF_WAIVER_H */
