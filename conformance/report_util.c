/*
 * The reporters' shared helpers (see report_util.h), below all of them.
 */
#include "report_util.h"

#include <errno.h>
#include <string.h>

void report_indented(FILE *out, const char *text)
{
    const char *s = text;

    while (s && *s) {
        const char *nl = strchr(s, '\n');
        int n = nl ? (int)(nl - s) : (int)strlen(s);
        fprintf(out, "    %.*s\n", n, s);
        s = nl ? nl + 1 : NULL;
    }
}

void report_first_line(const char *text, char *buf, size_t len)
{
    snprintf(buf, len, "%s", text ? text : "");
    buf[strcspn(buf, "\n")] = 0;
}

FILE *report_open(const char *option, const char *path)
{
    FILE *out = fopen(path, "w");

    if (!out)
        fprintf(stderr, "vdsoconf: %s %s: %s\n", option, path, strerror(errno));
    return out;
}
