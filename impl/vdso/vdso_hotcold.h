/*
 * The hot/cold split of the reference vDSO. A counter-based clock_gettime
 * costs a few dozen cycles, so a call, a stack frame or a callee-saved
 * register save on its common path is a measurable share of it. The common
 * path (root time namespace, counter usable, no whole-second carry) is
 * therefore forced inline into each entry point, where it stays leaf code
 * using only call-clobbered registers; every rare case is a separate cold
 * function, ideally reached by a tail call, so its register needs never
 * reach the common path's prologue.
 */
#ifndef VDSO_HOTCOLD_H
#define VDSO_HOTCOLD_H

#define VDSO_HOT_INLINE static inline __attribute__((always_inline))
#define VDSO_COLD       static __attribute__((cold, noinline))

#define VDSO_LIKELY(x)   __builtin_expect(!!(x), 1)
#define VDSO_UNLIKELY(x) __builtin_expect(!!(x), 0)

/*
 * Has x computed at this point of a loop body: an empty volatile asm that
 * takes and redefines it. Without it, compilers sink arithmetic whose
 * result is only used after the loop past the loop's exit test, where its
 * inputs then live alongside the loop's own values and overflow the
 * call-clobbered registers.
 */
#define VDSO_COMPUTE_HERE(x) __asm__ volatile("" : "+r"(x))

#endif /* VDSO_HOTCOLD_H */
