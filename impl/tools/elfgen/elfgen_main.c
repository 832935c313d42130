/*
 * elfgen: the command-line face of the test-image generator. Writes the
 * named matrix variants (all of them into a directory, or one to a file or
 * stdout) so that the build, the tests and the fuzz seed scripts can
 * materialise images without linking the library.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "elfgen.h"

static const char usage[] = "usage: elfgen list\n"
                            "       elfgen matrix DIR      write every variant as DIR/NAME.so\n"
                            "       elfgen one NAME FILE   write one variant (FILE '-' = stdout)\n"
                            "       elfgen --help\n";

static int write_file(const char *path, const struct elfgen_out *o)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    bool ok;

    if (!f) {
        fprintf(stderr, "elfgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    ok = fwrite(o->data, 1, o->size, f) == o->size;
    if (f != stdout)
        ok = (fclose(f) == 0) && ok;
    if (!ok) {
        fprintf(stderr, "elfgen: %s: write failed\n", path);
        return 1;
    }
    return 0;
}

static int emit(unsigned i, const char *path)
{
    struct elfgen_desc d;
    struct elfgen_out o;
    char err[160];
    int rc;

    elfgen_matrix_desc(i, &d);
    if (elfgen_build(&d, &o, err, sizeof(err))) {
        fprintf(stderr, "elfgen: %s: %s\n", elfgen_matrix_name(i), err);
        return 1;
    }
    rc = write_file(path, &o);
    elfgen_free(&o);
    return rc;
}

static int find(const char *name)
{
    for (unsigned i = 0; i < elfgen_matrix_count(); i++)
        if (strcmp(elfgen_matrix_name(i), name) == 0)
            return (int)i;
    return -1;
}

int main(int argc, char **argv)
{
    char path[4096];
    int rc = 0, i;

    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (unsigned k = 0; k < elfgen_matrix_count(); k++)
            puts(elfgen_matrix_name(k));
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "matrix") == 0) {
        for (unsigned k = 0; k < elfgen_matrix_count() && rc == 0; k++) {
            snprintf(path, sizeof(path), "%s/%s.so", argv[2], elfgen_matrix_name(k));
            rc = emit(k, path);
        }
        return rc;
    }
    if (argc == 4 && strcmp(argv[1], "one") == 0) {
        if ((i = find(argv[2])) < 0) {
            fprintf(stderr, "elfgen: no variant named '%s' (see 'elfgen list')\n", argv[2]);
            return 2;
        }
        return emit((unsigned)i, argv[3]);
    }
    fputs(usage, stderr);
    return 2;
}
