/*
 * Group 2, consistency, is two files: consistency_ids.c (every clock id
 * against its own syscall: readings, errors, getres, errno) and
 * consistency_relations.c (gettimeofday, time, coarse against fine, the
 * offsets between clocks, the rate).
 */
#ifndef VDSOCONF_CONSISTENCY_H
#define VDSOCONF_CONSISTENCY_H

#include "conf.h"

void consistency_ids(struct conf_ctx *ctx);
void consistency_relations(struct conf_ctx *ctx);

#endif /* VDSOCONF_CONSISTENCY_H */
