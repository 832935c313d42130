/*
 * The ChaCha20 block function of the reference getrandom (RFC 8439: the
 * "expand 32-byte k" constants, a 256-bit key, 20 rounds as 10 double
 * rounds of column then diagonal quarter rounds, the input added to the
 * result), with the vDSO's input: a 64-bit block counter in words 12-13
 * (the carry goes into the high word) and a zero nonce. SSE2 in inline
 * assembly, one row of the 4x4 state per register: the key, the working
 * state and the output never touch the stack (compiled intrinsics were
 * seen spilling the key rows to the red zone; the test scans the stack),
 * and every vector register used is cleared before returning. The key is
 * loaded before the first store, so dst may overlap it: that is how the
 * batch refill erases the old key.
 */
#ifndef VDSO_CHACHA_H
#define VDSO_CHACHA_H

#include <stddef.h>
#include <stdint.h>

/* Rotate the words of row x left by n, through the scratch row xmm8. */
#define VDSO_CHACHA_ROT(x, n)        \
    "movdqa %%" x ", %%xmm8\n\t"     \
    "pslld $" #n ", %%" x "\n\t"     \
    "psrld $(32-" #n "), %%xmm8\n\t" \
    "por %%xmm8, %%" x "\n\t"

/* By 16: swap the 16-bit halves of each word (two shuffles, no scratch). */
#define VDSO_CHACHA_ROT16(x)              \
    "pshuflw $0xb1, %%" x ", %%" x "\n\t" \
    "pshufhw $0xb1, %%" x ", %%" x "\n\t"

/* a += b; d ^= a; d <<<= 16; c += d; b ^= c; b <<<= 12; and again with 8 and 7. */
// clang-format off
#define VDSO_CHACHA_QUARTERS \
    "paddd %%xmm1, %%xmm0\n\t" "pxor %%xmm0, %%xmm3\n\t" VDSO_CHACHA_ROT16("xmm3") \
    "paddd %%xmm3, %%xmm2\n\t" "pxor %%xmm2, %%xmm1\n\t" VDSO_CHACHA_ROT("xmm1", 12) \
    "paddd %%xmm1, %%xmm0\n\t" "pxor %%xmm0, %%xmm3\n\t" VDSO_CHACHA_ROT("xmm3", 8) \
    "paddd %%xmm3, %%xmm2\n\t" "pxor %%xmm2, %%xmm1\n\t" VDSO_CHACHA_ROT("xmm1", 7)
// clang-format on

static const uint32_t vdso_chacha_sigma[4] __attribute__((aligned(16), used)) = {
    0x61707865, 0x3320646e, 0x79622d32, 0x6b206574}; /* "expand 32-byte k" */

/*
 * nblocks blocks of ChaCha20(key, counter), counter advanced by nblocks
 * (64-bit, low word first), into dst.
 */
static inline __attribute__((always_inline)) void
vdso_chacha20_blocks(uint8_t *dst, const uint32_t *key, uint32_t counter[2], size_t nblocks)
{
    __asm__ volatile("movdqu (%[key]), %%xmm5\n\t"
                     "movdqu 16(%[key]), %%xmm6\n\t"
                     "movq (%[ctr]), %%xmm7\n\t"
                     "movdqa %[sigma], %%xmm4\n\t"
                     "mov $1, %%eax\n\t"
                     "movq %%rax, %%xmm9\n\t"
                     "test %[n], %[n]\n\t"
                     "jz 3f\n"
                     "1:\n\t"
                     "movdqa %%xmm4, %%xmm0\n\t"
                     "movdqa %%xmm5, %%xmm1\n\t"
                     "movdqa %%xmm6, %%xmm2\n\t"
                     "movdqa %%xmm7, %%xmm3\n\t"
                     "mov $10, %%ecx\n"
                     "2:\n\t" VDSO_CHACHA_QUARTERS
                     /* Rows 1-3 rotated left by 1, 2, 3 words: the diagonals become columns. */
                     "pshufd $0x39, %%xmm1, %%xmm1\n\t"
                     "pshufd $0x4e, %%xmm2, %%xmm2\n\t"
                     "pshufd $0x93, %%xmm3, %%xmm3\n\t" VDSO_CHACHA_QUARTERS
                     "pshufd $0x93, %%xmm1, %%xmm1\n\t"
                     "pshufd $0x4e, %%xmm2, %%xmm2\n\t"
                     "pshufd $0x39, %%xmm3, %%xmm3\n\t"
                     "dec %%ecx\n\t"
                     "jnz 2b\n\t"
                     "paddd %%xmm4, %%xmm0\n\t"
                     "movdqu %%xmm0, (%[dst])\n\t"
                     "paddd %%xmm5, %%xmm1\n\t"
                     "movdqu %%xmm1, 16(%[dst])\n\t"
                     "paddd %%xmm6, %%xmm2\n\t"
                     "movdqu %%xmm2, 32(%[dst])\n\t"
                     "paddd %%xmm7, %%xmm3\n\t"
                     "movdqu %%xmm3, 48(%[dst])\n\t"
                     "paddq %%xmm9, %%xmm7\n\t" /* the 64-bit counter, carry into the high word */
                     "add $64, %[dst]\n\t"
                     "dec %[n]\n\t"
                     "jnz 1b\n"
                     "3:\n\t"
                     "movq %%xmm7, (%[ctr])\n\t"
                     "pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\t"
                     "pxor %%xmm3, %%xmm3\n\tpxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
                     "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\tpxor %%xmm8, %%xmm8\n\t"
                     "pxor %%xmm9, %%xmm9"
                     : [dst] "+r"(dst), [n] "+r"(nblocks)
                     : [key] "r"(key), [ctr] "r"(counter), [sigma] "m"(vdso_chacha_sigma)
                     : "rax", "rcx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
                       "xmm8", "xmm9", "memory", "cc");
}

#endif /* VDSO_CHACHA_H */
