/*
 * Deliberate defects for testing the tests (defect-classes.md §C, "tests of
 * the tests" in §D.6). Each switch is 0 unless a mutant build passes
 * -DVDSO_MUTANT_<NAME>=1; the reference sources test them in plain
 * `if (VDSO_MUTANT_X)` conditions, so the real image and the hosted library
 * compile them out and stay byte for byte what they were. Mutant images
 * (vdso-mutant-<name>.so) and mutant hosted libraries are built only for
 * ctest, which requires the conformance suite and the fuzzer to reject each.
 */
#ifndef VDSO_MUTANT_H
#define VDSO_MUTANT_H

/* C1: the reader never retries after a writer ran (torn reads). */
#ifndef VDSO_MUTANT_NO_RETRY
#define VDSO_MUTANT_NO_RETRY 0
#endif
/* C2: the reader proceeds on an odd seq instead of waiting for the writer. */
#ifndef VDSO_MUTANT_ODD_SEQ
#define VDSO_MUTANT_ODD_SEQ 0
#endif
/* C7: inside a time namespace the offsets are ignored (host time). */
#ifndef VDSO_MUTANT_TIMENS_NO_OFFSET
#define VDSO_MUTANT_TIMENS_NO_OFFSET 0
#endif
/* C8: a counter behind cycle_last is not clamped (the delta wraps). */
#ifndef VDSO_MUTANT_NO_CLAMP
#define VDSO_MUTANT_NO_CLAMP 0
#endif
/* C9: no 128-bit path: delta * mult in 64 bits even above max_cycles. */
#ifndef VDSO_MUTANT_NO_WIDE_MUL
#define VDSO_MUTANT_NO_WIDE_MUL 0
#endif
/* C12: tv_nsec is not brought below one second. */
#ifndef VDSO_MUTANT_NO_NORMALISE
#define VDSO_MUTANT_NO_NORMALISE 0
#endif
/* C14: BOOTTIME is served from the MONOTONIC base. */
#ifndef VDSO_MUTANT_BOOT_IS_MONO
#define VDSO_MUTANT_BOOT_IS_MONO 0
#endif
/* C16: -ENOSYS instead of the syscall fallback of clock_gettime. */
#ifndef VDSO_MUTANT_ENOSYS
#define VDSO_MUTANT_ENOSYS 0
#endif
/* C19: gettimeofday rounds microseconds up instead of truncating. */
#ifndef VDSO_MUTANT_ROUND_USEC
#define VDSO_MUTANT_ROUND_USEC 0
#endif
/* C21: time() reads the fine REALTIME clock instead of the base seconds. */
#ifndef VDSO_MUTANT_FINE_TIME
#define VDSO_MUTANT_FINE_TIME 0
#endif
/* C22: clock_getres of the COARSE clocks hard-coded to 1 ns. */
#ifndef VDSO_MUTANT_GETRES_1NS
#define VDSO_MUTANT_GETRES_1NS 0
#endif
/* C23: getcpu swaps the cpu and the node. */
#ifndef VDSO_MUTANT_SWAP_CPU_NODE
#define VDSO_MUTANT_SWAP_CPU_NODE 0
#endif

#endif /* VDSO_MUTANT_H */
