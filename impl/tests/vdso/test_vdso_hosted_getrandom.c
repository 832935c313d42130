/*
 * The hosted build of the reference getrandom (the same source as the
 * image, compiled with the preset's sanitizers) against the model
 * (rng_model.h): its rng page is the data pages' page 2, its syscalls go
 * to a hook that answers from the emulated kernel's key stream (tk_rng.h)
 * as the trap does for the image. Random call sequences with reseeds,
 * unready pages, dropped states and states in use; every result, output,
 * state and syscall count must equal the model's. Under ASan this is where
 * the C around the block function is checked for memory errors.
 */
#include "../check.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <vdsokit/datapages.h>
#include <vdsokit/rng_model.h>
#include <vdsokit/tk_rng.h>
#include <vdsokit/vdso_hosted.h>

static struct rng_model_kernel kernel = {.generation = 1, .is_ready = 1, .seed = 1234};
static struct vdso_rng_data *rng;

/* The emulated getrandom syscall: the stream's next bytes. */
static long syscall3(void *ctx, long nr, long buf, long len, long flags)
{
    (void)ctx;
    if (nr != VGETRANDOM_NR)
        return -ENOSYS;
    const unsigned long both = VGETRANDOM_GRND_RANDOM | VGETRANDOM_GRND_INSECURE;

    if (((unsigned long)flags & ~VGETRANDOM_GRND_ALL) || ((unsigned long)flags & both) == both)
        return -EINVAL;
    size_t n = (size_t)len < VGETRANDOM_MAX_COUNT ? (size_t)len : VGETRANDOM_MAX_COUNT;
    tk_rng_stream(kernel.seed, kernel.offset, (void *)buf, n);
    kernel.offset += n;
    return (long)n;
}

static void publish(void)
{
    __atomic_store_n(&rng->generation, kernel.generation, __ATOMIC_RELEASE);
    __atomic_store_n(&rng->is_ready, kernel.is_ready, __ATOMIC_RELEASE);
}

int main(void)
{
    static uint8_t got[3 * 4096 + 64], want[sizeof got];
    struct vdso_datapages dp;
    const struct vdso_hosted_hooks hooks = {.syscall3 = syscall3};
    uint64_t r = 0x1234567;

    CHECK(datapages_create(&dp) == 0, "datapages_create");
    rng = datapages_rng(&dp);
    publish();
    vdso_hosted_set_pages(dp.rw); /* file page 2 is the rng page, as reader page 2 */
    vdso_hosted_set_hooks(&hooks);
    uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct vgetrandom_state *st = (struct vgetrandom_state *)(void *)(page + 4096 - 144);
    unsigned mismatches = 0, calls = 0;
    for (int i = 0; i < 3000; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        if (r % 16 == 0)
            kernel.generation++, publish();
        if (r % 64 == 1)
            kernel.is_ready = !kernel.is_ready, publish();
        if (r % 32 == 2)
            tk_rng_drop_state(st, sizeof *st);
        bool in_use = r % 32 == 3;
        st->in_use = in_use ? (uint8_t)(1 + r % 255) : 0;
        size_t len = (r >> 8) % (r & 0x100 ? 200 : 3 * 4096);
        unsigned flags = (unsigned)(r >> 40) % 9; /* 8: an unknown flag */
        struct vgetrandom_state model = *st;
        struct rng_model_trace t;
        struct rng_model_kernel k = kernel;
        memset(got, 0xee, sizeof got);
        memset(want, 0xee, sizeof want);
        unsigned long before = vdso_hosted_fallback_count();
        long ret = vdso_hosted_getrandom(len ? got : NULL, len, flags, st, sizeof *st);
        unsigned long made = vdso_hosted_fallback_count() - before;
        long m = rng_model_call(&model, (uintptr_t)st, sizeof *st, &k, len ? want : NULL, len,
                                flags, &t);
        mismatches += ret != m || memcmp(got, want, sizeof got) || memcmp(st, &model, sizeof *st) ||
                      made != t.key_fetches + t.fallbacks;
        calls++;
        /* The first difference, as evidence. */
        if (mismatches == 1 && (ret != m || made != t.key_fetches + t.fallbacks ||
                                memcmp(got, want, sizeof got) || memcmp(st, &model, sizeof *st)))
            fprintf(stderr,
                    "call %d: len %zu flags %u ready %d in_use %d: %ld/%ld, %lu/%u+%u, out %d "
                    "state %d\n",
                    i, len, flags, kernel.is_ready, in_use, ret, m, made, t.key_fetches,
                    t.fallbacks, !!memcmp(got, want, sizeof got), !!memcmp(st, &model, sizeof *st));
        st->in_use = 0;
    }
    CHECK(mismatches == 0, "%u of %u hosted calls differ from the model", mismatches, calls);
    struct vgetrandom_opaque_params p;
    CHECK(vdso_hosted_getrandom(NULL, 0, 0, &p, VGETRANDOM_PARAMS_QUERY) == 0 &&
              p.size_of_opaque_state == 144 && p.mmap_flags == VGETRANDOM_MAP_FLAGS,
          "params");
    CHECK(vdso_hosted_getrandom(got, 10, 0, page + 4096 - 143, 144) == -EFAULT, "straddle");
    datapages_destroy(&dp);
    return check_finish();
}
