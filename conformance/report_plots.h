/*
 * The HTML report's figures, each an inline SVG drawn by gnuplot (plot.h)
 * with its caption, or the reason it could not be drawn: the cost of each
 * entry point of each target next to the syscall's (the latency probe),
 * the readings and verified fraction of each scenario of every group that
 * exports them (group 4's storms, conf_metric), each failing reading of
 * those groups against the model's window of its candidate states, and
 * each clock's offset against the syscall over a soak.
 */
#ifndef VDSOCONF_REPORT_PLOTS_H
#define VDSOCONF_REPORT_PLOTS_H

#include <stdio.h>

#include "report.h"

void html_plots_latency(FILE *out, const struct conf_run *run);
void html_plots_scenarios(FILE *out, const struct conf_run *run);
void html_plots_soak(FILE *out, const struct conf_run *run);

/*
 * The id of result i's figure against the model's window ("" when its
 * evidence names no reading and window), for the evidence to link to.
 */
void html_reading_figure_id(const struct conf_run *run, size_t i, char *buf, size_t len);

#endif /* VDSOCONF_REPORT_PLOTS_H */
