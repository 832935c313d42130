/*
 * Plots for the HTML report, drawn by gnuplot: a script and its data files
 * are written to a private temporary directory, gnuplot renders them with
 * its SVG terminal, and the SVG comes back as a string ready to be put
 * inline in an HTML page (no XML prolog, nothing fetched). Where gnuplot
 * is missing or fails, the caller gets the reason to print instead.
 */
#ifndef VDSOCONF_PLOT_H
#define VDSOCONF_PLOT_H

#include <stddef.h>

struct plot {
    const char *name; /* the SVG's name: [a-z0-9_] only, unique in the page */
    unsigned width, height;
    const char *script; /* gnuplot commands after the terminal; data files are d0.dat, d1.dat ... */
    const char *data[4]; /* the data files' text (NULL: fewer files) */
};

/*
 * Render p. Returns the <svg ...> element (malloc'd), or NULL with why
 * (why_len bytes): gnuplot not found, or its first error line.
 */
char *plot_svg(const struct plot *p, char *why, size_t why_len);

#endif /* VDSOCONF_PLOT_H */
