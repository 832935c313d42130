/*
 * Shared between the checker's driver (imgcheck.c) and its symbol-level
 * rules (imgcheck_rules.c): adding a finding, and the rule groups.
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
void imgcheck_alternatives(const struct elf_image *img, const struct elf_sections *secs,
                           struct imgcheck_report *r);

#endif /* VDSOKIT_IMGCHECK_INTERNAL_H */
