/*
 * Helpers the reporters share (report_text.c, report_tap.c, report_junit.c,
 * report_json.c, report_html.c): the evidence of a result is multi-line text that some
 * formats show indented line by line and others summarise by its first
 * line; the file reporters open their output the same way.
 */
#ifndef VDSOCONF_REPORT_UTIL_H
#define VDSOCONF_REPORT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "results.h"

/* Each line of text (NULL: none) on its own line, indented by four spaces. */
void report_indented(FILE *out, const char *text);

/* The first line of text (NULL: empty) into buf, cut to len - 1 bytes. */
void report_first_line(const char *text, char *buf, size_t len);

/* s (NULL: nothing) as HTML text or attribute value: & < > " ' escaped, control bytes dropped. */
void report_html_escape(FILE *out, const char *s);

/* The number under key in a test's exported counts ("k=v k=v", conf_metric); false if absent. */
bool report_metric(const char *terms, const char *key, double *v);

/* Open path for writing; NULL after printing why, naming the option that gave it. */
FILE *report_open(const char *option, const char *path);

/* A skip reason (the first line of a SKIP's text) and how many tests gave it. */
struct report_reason {
    char text[200];
    unsigned n;
};

#define REPORT_REASONS_MAX 64

/*
 * The distinct skip reasons of target t (every target when t < 0) and
 * group g (every group when g < 0), most frequent first, at most max of
 * them; returns how many.
 */
unsigned report_skip_reasons(const struct conf_results *rs, int t, int g, struct report_reason *out,
                             unsigned max);

/* `8 x "reason"; 3 x "other"` into buf (the first few, then "; N more"). */
void report_reasons_text(const struct report_reason *r, unsigned n, char *buf, size_t len);

/* Counts over a whole run: checks requested, really run (pass, fail, waived), skipped, not run. */
struct report_totals {
    unsigned requested, ran, skipped, not_run;
};

struct report_totals report_count(const struct conf_results *rs);

#endif /* VDSOCONF_REPORT_UTIL_H */
