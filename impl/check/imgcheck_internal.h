/*
 * Internal interface of the image checker: the rule groups of
 * imgcheck_rules.c that the driver (imgcheck.c) runs, and adding a finding
 * (imgcheck_report.c), which both of them do.
 */
#ifndef VDSOKIT_IMGCHECK_INTERNAL_H
#define VDSOKIT_IMGCHECK_INTERNAL_H

#include <vdsokit/elf.h>
#include <vdsokit/elf_sections.h>
#include <vdsokit/imgcheck.h>

void imgcheck_add(struct imgcheck_report *r, enum imgcheck_severity s, const char *rule,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void imgcheck_versions(const struct elf_image *img, struct imgcheck_report *r);
void imgcheck_exports(const struct elf_image *img, struct imgcheck_report *r);
void imgcheck_hash_reach(const struct elf_image *img, struct imgcheck_report *r);
/* Needs r->linux_version (the note's or the override) when has_linux_version. */
void imgcheck_alternatives(const struct elf_image *img, const struct elf_sections *secs,
                           struct imgcheck_report *r);

#endif /* VDSOKIT_IMGCHECK_INTERNAL_H */
