/*
 * The image checker: the rules the kernel's vdso2c and gVisor's check_vdso
 * enforce on a vDSO image, plus what consumers need (both hash tables, the
 * LINUX_2.6 version, the machine's exports typed FUNC with a size, sound
 * x86 .altinstructions in the layout of the image's kernel era), each
 * reported as a finding with a severity and a sentence. Rules that only
 * some architectures or eras define are applied only there, and say so
 * when skipped. The loader gates images on it; `vdsoimg check` prints it.
 */
#ifndef VDSOKIT_IMGCHECK_H
#define VDSOKIT_IMGCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vdsokit/alt_layout.h>

enum imgcheck_severity { IMGCHECK_INFO, IMGCHECK_WARNING, IMGCHECK_ERROR };

#define IMGCHECK_MAX_FINDINGS 64
#define IMGCHECK_TEXT_MAX     224

struct imgcheck_finding {
    enum imgcheck_severity severity;
    const char *rule; /* short stable id, e.g. "load-count", "exports" */
    char text[IMGCHECK_TEXT_MAX];
};

struct imgcheck_report {
    unsigned count, errors, warnings;
    bool truncated; /* more than IMGCHECK_MAX_FINDINGS findings */
    struct imgcheck_finding findings[IMGCHECK_MAX_FINDINGS];

    /* Facts found on the way, for callers that want more than text. */
    bool has_linux_version;
    uint32_t linux_version;
    bool has_alternatives;
    uint64_t alt_offset, alt_len; /* file offset and size of .altinstructions */
    unsigned nalt;
    const struct alt_layout *alt_layout; /* the era's entry layout; NULL if none fits */
    bool alt_layout_inferred;            /* chosen from the table, not from a version */
};

/* What the caller knows better than the image. */
struct imgcheck_options {
    uint32_t linux_version; /* nonzero: judge as built for this LINUX_VERSION_CODE */
};

/*
 * Check data[0, size). Returns 0 when the image could be parsed (the report
 * may still hold error findings), -1 when it is unreadable (one error
 * finding says why).
 */
int imgcheck_run(const void *data, size_t size, struct imgcheck_report *out);

/* The same with options (NULL: none), e.g. a version that overrides the note's. */
int imgcheck_run_with(const void *data, size_t size, const struct imgcheck_options *opt,
                      struct imgcheck_report *out);

bool imgcheck_has_errors(const struct imgcheck_report *r);

/* One line per finding: "<severity> <rule>: <sentence>". */
void imgcheck_print(const struct imgcheck_report *r, FILE *f);

#endif /* VDSOKIT_IMGCHECK_H */
