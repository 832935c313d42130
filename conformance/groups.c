/*
 * The test groups in run order. A group's name is the first component of
 * its test ids, so `--only getcpu` or `--only 'consistency.getres.*'`
 * selects by it.
 */
#include "conf.h"
#include "results.h"

const struct conf_group conf_groups[] = {
    {1, "monotonic",
     "never backwards: per thread, across threads in ticket order, across migrations",
     group_monotonic},
    {2, "consistency", "sandwiched by the syscall; relations between clocks; getres; errors; NULLs",
     group_consistency},
    {3, "getcpu", "pinned CPU and sysfs node; NULL args; under affinity churn", group_getcpu},
    {4, "concurrent", "storms of data-page updates (in-process targets)", group_concurrent},
    {5, "timens", "inside a time namespace with offsets", group_timens},
    {6, "syscall_free", "no syscall in steady state (seccomp count)", group_syscall_free},
    {7, "hygiene", "[vvar] read-only, mremap of the mappings, image checks", group_hygiene},
    {8, "getrandom", "getrandom: params, lengths, flags, fallbacks, re-keying, exact output",
     group_getrandom},
    {9, "interleave", "every writer store before every data-page load (in-process targets)",
     group_interleave},
    {10, "destructive", "the live kernel's clock transitions (--tier destructive only)",
     group_destructive},
};

const unsigned conf_ngroups = sizeof(conf_groups) / sizeof(conf_groups[0]);

/* The runner's per-target x group cells have a row for each group. */
_Static_assert(sizeof(conf_groups) / sizeof(conf_groups[0]) <= CONF_MAX_GROUPS,
               "CONF_MAX_GROUPS below the number of groups");
