/*
 * Reshaping this process's vDSO data mappings into the shape of another
 * kernel era, for throwaway children only: [vvar_vclock] unmapped and
 * [vvar] moved to sit directly below [vdso] (the 6.1-6.12 shape), or
 * [vvar] unmapped, or only [vvar_vclock] unmapped. After the first two, the data pages are no
 * longer where a fixed offset from AT_SYSINFO_EHDR would look (the vDSO itself cannot be called any
 * more either), so a reader that guesses faults and one that asks the probe does not. The tests of
 * the probe and of the live target share it. Needs _GNU_SOURCE (mremap, pipe2) before the first
 * include.
 */
#ifndef VDSOKIT_TEST_LIVE_RESHAPE_H
#define VDSOKIT_TEST_LIVE_RESHAPE_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vdsokit/live_layout.h>

/*
 * A sanitizer runtime calls clock_gettime from its allocator at any malloc,
 * and after a reshape the vDSO's own data pages are gone: there the
 * reshaped children cannot run, and the tests say so instead.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LIVE_RESHAPE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LIVE_RESHAPE_SANITIZED 1
#endif
#endif
#ifndef LIVE_RESHAPE_SANITIZED
#define LIVE_RESHAPE_SANITIZED 0
#endif
#define LIVE_RESHAPE_SANITIZED_WHY                                                                \
    "reshaped children not run: the sanitizer's allocator calls clock_gettime through the vDSO, " \
    "which a reshape leaves without its data pages"

enum live_reshape {
    RESHAPE_PRE_6_13, /* [vvar] directly below [vdso], no [vvar_vclock] */
    RESHAPE_NO_VVAR,  /* [vvar] gone, [vvar_vclock] and [vdso] kept */
    RESHAPE_NO_VCLOCK /* [vvar_vclock] gone: a TSC-mode vDSO still answers */
};

/* Readable without risking SIGSEGV or SIGBUS: a pipe write reports EFAULT instead. */
static inline bool reshape_readable(uintptr_t addr)
{
    int p[2];
    char c;

    if (pipe2(p, O_CLOEXEC) != 0)
        return false;
    bool ok = write(p[1], (const void *)addr, 1) == 1 && read(p[0], &c, 1) == 1;
    close(p[0]);
    close(p[1]);
    return ok;
}

/* Move [lo, lo + len) to dst through a free spot (source and target may overlap). */
static inline int reshape_move(uintptr_t lo, size_t len, uintptr_t dst)
{
    void *tmp = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (tmp == MAP_FAILED)
        return -errno;
    if (mremap((void *)lo, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, tmp) == MAP_FAILED ||
        mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)dst) == MAP_FAILED)
        return -errno;
    return 0;
}

/* Reshape as asked, from the mappings the probe found. Returns 0 or -errno. */
static inline int live_reshape(const struct live_maps *m, enum live_reshape how)
{
    if (!m->vvar.count || !m->vclock.count || !m->vdso.count)
        return -ENOENT;
    if (how == RESHAPE_NO_VVAR)
        return munmap((void *)m->vvar.lo, m->vvar.hi - m->vvar.lo) ? -errno : 0;
    if (munmap((void *)m->vclock.lo, m->vclock.hi - m->vclock.lo))
        return -errno;
    if (how == RESHAPE_NO_VCLOCK)
        return 0;
    size_t len = m->vvar.hi - m->vvar.lo;
    return reshape_move(m->vvar.lo, len, m->vdso.lo - len);
}

/*
 * Run fn in a child and return its wait status; the child exits with fn's
 * value. Nothing in the child may call the vDSO after a reshape (no libc
 * time calls): only the code under test and stdio.
 */
static inline int reshape_in_child(int (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int rc = fn(arg);
        fflush(NULL);
        _exit(rc);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}

#endif /* VDSOKIT_TEST_LIVE_RESHAPE_H */
