/*
 * The vdsoimg command's subcommands, one file each, sharing the input
 * reader. Each returns the process exit status.
 */
#ifndef VDSOKIT_VDSOIMG_H
#define VDSOKIT_VDSOIMG_H

#include <stddef.h>
#include <stdint.h>

/* Exit statuses shared by all subcommands. */
enum { VDSOIMG_OK = 0, VDSOIMG_FINDINGS = 1, VDSOIMG_UNREADABLE = 2 };

/* Read a whole file ('-' = stdin). Returns NULL with a message on stderr. */
uint8_t *vdsoimg_read(const char *path, size_t *size);

/* Write bytes to a file ('-' = stdout). Returns 0 or -1 with a message on stderr. */
int vdsoimg_write(const char *path, const void *data, size_t size);

int vdsoimg_dump_live(const char *path);
int vdsoimg_symbols(const char *path);
/* check, judging the image as built for linux_version (a LINUX_VERSION_CODE; 0: its note). */
int vdsoimg_check_as(const char *path, uint32_t linux_version);
int vdsoimg_info(const char *path);
int vdsoimg_emit_c(const char *path, const char *ident);

#endif /* VDSOKIT_VDSOIMG_H */
