/*
 * The scripted data-page states the differential test drives both images
 * through: complete committed contents of the time page, the namespace page,
 * the pvclock page (multiplier 0, so the counter is system_time) and the
 * Hyper-V page, plus the layout. Each state is built from one base state by
 * a named variation; the sequence covers every routing and arithmetic edge
 * of docs/abi.md §2 that a deterministic counter can reach.
 */
#ifndef DIFF_STATES_H
#define DIFF_STATES_H

#include <stdbool.h>

#include <vdsokit/abi.h>

struct diff_state {
    char name[96];
    bool timens; /* page 0 the namespace page, page 1 the time data */
    struct vdso_time_data time;
    struct vdso_time_data ns;
    struct pvclock_vcpu_time_info pv;
    struct ms_hyperv_tsc_page hv;
};

/* Build state i; false when i is past the last state. */
bool diff_state_build(unsigned i, struct diff_state *s);

/* Build the variation called name with argument arg; false if none. */
bool diff_state_find(const char *name, long long arg, struct diff_state *s);

/* The counter every clock of s reads, or UINT64_MAX when it falls back. */
uint64_t diff_state_counter(const struct diff_state *s);

#endif
