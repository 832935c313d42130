/*
 * Helpers the reporters share (report_text.c, report_tap.c, report_junit.c,
 * report_json.c): the evidence of a result is multi-line text that some
 * formats show indented line by line and others summarise by its first
 * line; the file reporters open their output the same way.
 */
#ifndef VDSOCONF_REPORT_UTIL_H
#define VDSOCONF_REPORT_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* Each line of text (NULL: none) on its own line, indented by four spaces. */
void report_indented(FILE *out, const char *text);

/* The first line of text (NULL: empty) into buf, cut to len - 1 bytes. */
void report_first_line(const char *text, char *buf, size_t len);

/* Open path for writing; NULL after printing why, naming the option that gave it. */
FILE *report_open(const char *option, const char *path);

#endif /* VDSOCONF_REPORT_UTIL_H */
