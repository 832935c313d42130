/*
 * The hermetic trap: a loaded image's time syscalls go to the emulated
 * kernel. A seccomp filter returns SECCOMP_RET_TRAP for clock_gettime,
 * clock_getres, gettimeofday, time, getcpu and getrandom made from inside
 * the loader's window (every placement of every loaded image, moves
 * included, lies in it); everyone else's syscalls stay real. The SIGSYS
 * handler finds the image whose slot holds the trapping instruction and
 * answers from its timekeeper as the kernel's syscall answers
 * (tk_syscall.h; getrandom from its key stream, tk_rng.h), writing results
 * with a copy that reports a bad user pointer, so it returns -EFAULT where
 * the kernel would and never crashes; getcpu, the CPU-time clocks and traps from a slot with no
 * timekeeper get the real syscall. Each trap is counted per thread (with a
 * record of the last one) and per process.
 */
#ifndef VDSOKIT_LOADER_TRAP_H
#define VDSOKIT_LOADER_TRAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include <vdsokit/error.h>
#include <vdsokit/tk_syscall.h>

enum loader_trap_call {
    LOADER_TRAP_CLOCK_GETTIME,
    LOADER_TRAP_GETTIMEOFDAY,
    LOADER_TRAP_TIME,
    LOADER_TRAP_CLOCK_GETRES,
    LOADER_TRAP_GETCPU,
    LOADER_TRAP_GETRANDOM,
    LOADER_TRAP_NCALLS
};

/* One trapped syscall as the handler answered it. */
struct loader_trap_record {
    uint64_t number;    /* the thread's trap count including this one */
    long nr, args[6];   /* the syscall as made */
    long ret;           /* what it returned (0, a value, or -errno) */
    bool emulated;      /* the emulated kernel answered (else the host's syscall) */
    struct timespec ts; /* clock_gettime / clock_getres: the value computed */
    struct timeval tv;  /* gettimeofday */
    struct timezone tz;
    int64_t t;                 /* time */
    struct tk_sys_trace trace; /* the state and counter an emulated answer used */
    uint64_t rng_offset;       /* getrandom: where in the key stream its bytes began */
};

struct loader_trap_counts {
    uint64_t total;
    uint64_t foreign; /* from the window but no live image with a timekeeper */
    uint64_t by_call[LOADER_TRAP_NCALLS];
};

/*
 * Install the filter and the handler in this process (once; later calls
 * return 0). The filter is inherited by threads created afterwards and by
 * forked children; it cannot be removed. Returns 0 or -1 with err (no
 * seccomp, no window).
 */
int loader_trap_install(struct vdsokit_error *err);
bool loader_trap_installed(void);

/* This thread's trap count, and its last record (number 0: none yet). */
uint64_t loader_trap_thread_count(void);
void loader_trap_thread_last(struct loader_trap_record *out);
/*
 * This thread's records after its count was `first`, oldest first, at most
 * max, of the last LOADER_TRAP_RECENT kept: the syscall sequence of a call.
 */
#define LOADER_TRAP_RECENT 8
unsigned loader_trap_thread_since(uint64_t first, struct loader_trap_record *out, unsigned max);
/* The process's counts so far. */
void loader_trap_totals(struct loader_trap_counts *out);
/* The call a syscall number is, or LOADER_TRAP_NCALLS. */
enum loader_trap_call loader_trap_call_of(long nr);
const char *loader_trap_call_name(enum loader_trap_call c);

#endif /* VDSOKIT_LOADER_TRAP_H */
