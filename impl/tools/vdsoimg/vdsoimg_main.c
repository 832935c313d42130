/*
 * vdsoimg: dump, inspect, check and embed vDSO images. This file parses
 * the command line and dispatches; see usage[] for the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include <vdsokit/alt_layout.h>
#include <vdsokit/version.h>

#include "vdsoimg.h"

#ifndef VDSOIMG_NAME /* vdsoimg-static says so in --version */
#define VDSOIMG_NAME "vdsoimg"
#endif

static const char usage[] =
    "usage: vdsoimg COMMAND [ARGS]\n"
    "  dump-live FILE          write this process's vDSO image (AT_SYSINFO_EHDR) to FILE\n"
    "  symbols FILE            list the dynamic symbols a consumer sees\n"
    "  check FILE [--layout VERSION]\n"
    "                          print the image checker's findings; exit 0 clean,\n"
    "                          1 on error findings, 2 when FILE is unreadable;\n"
    "                          --layout judges it as built for VERSION (6.1, 6.12.117,\n"
    "                          0x060c75) instead of its `Linux` note\n"
    "  info FILE               class, byte order, machine, kernel version, build id, size,\n"
    "                          hash styles, alternatives\n"
    "  c FILE [--name IDENT]   emit a C source defining `const struct vdso_image_blob IDENT`\n"
    "  --version               print the version\n"
    "  --help                  this text\n"
    "FILE may be '-' for stdin (stdout for dump-live).\n";

static int usage_error(const char *why)
{
    fprintf(stderr, "vdsoimg: %s\n%s", why, usage);
    return VDSOIMG_UNREADABLE;
}

static int run_check(int argc, char **argv)
{
    uint32_t version = 0;

    if (argc == 5 && strcmp(argv[3], "--layout") == 0) {
        version = alt_parse_version(argv[4]);
        if (!version)
            return usage_error("--layout takes a version such as 6.1 or 6.12.117");
    } else if (argc != 3) {
        return usage_error("check takes FILE [--layout VERSION]");
    }
    return vdsoimg_check_as(argv[2], version);
}

static int run_c(int argc, char **argv)
{
    const char *ident = "vdso_image";

    if (argc == 5 && strcmp(argv[3], "--name") == 0)
        ident = argv[4];
    else if (argc != 3)
        return usage_error("c takes FILE [--name IDENT]");
    return vdsoimg_emit_c(argv[2], ident);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(const char *);
    } simple[] = {
        {"dump-live", vdsoimg_dump_live}, {"symbols", vdsoimg_symbols}, {"info", vdsoimg_info}};

    if (argc < 2)
        return usage_error("missing COMMAND");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return VDSOIMG_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf(VDSOIMG_NAME " %s\n", VDSOKIT_VERSION_FULL);
        return VDSOIMG_OK;
    }
    if (strcmp(argv[1], "c") == 0)
        return run_c(argc, argv);
    if (strcmp(argv[1], "check") == 0)
        return run_check(argc, argv);
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        if (strcmp(argv[1], simple[i].name) != 0)
            continue;
        if (argc != 3)
            return usage_error("this command takes exactly one FILE");
        return simple[i].run(argv[2]);
    }
    fprintf(stderr, "vdsoimg: unknown command '%s'\n", argv[1]);
    return usage_error("see the list of commands");
}
