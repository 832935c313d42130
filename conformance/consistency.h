/*
 * Group 2, consistency, is three files: consistency_ids.c (every clock id
 * against its own syscall: readings, errors, getres, errno),
 * consistency_relations.c (gettimeofday, time, coarse against fine, the
 * offsets between clocks, the rate) and consistency_exact.c (in-process
 * targets: every clock exactly the model's at a frozen counter; it runs
 * last, because it stops the emulated kernel's steady writer).
 */
#ifndef VDSOCONF_CONSISTENCY_H
#define VDSOCONF_CONSISTENCY_H

#include "conf.h"

void consistency_ids(struct conf_ctx *ctx);
void consistency_relations(struct conf_ctx *ctx);
void consistency_exact(struct conf_ctx *ctx);

#endif /* VDSOCONF_CONSISTENCY_H */
