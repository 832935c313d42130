/*
 * The vDSO image loader: it runs any x86-64 Linux-ABI vDSO image (the
 * embedded reference, a file, this host's own vDSO dumped from memory) in
 * user space on emulated data pages, laid out as the kernel maps a vDSO:
 * six read-only data pages immediately before a private copy of the image
 * text, at a randomised page-aligned address inside one process-wide
 * reserved window (so that the hermetic trap of loader_trap.h can tell an
 * image's syscalls by their instruction pointer). Loading is two steps. Prepare
 * works on bytes only (gate checks, mapping plan, alternatives applied to a
 * heap copy, symbol table) and is safe on arbitrary input; the fuzzers stop
 * there (loader_prepare.h). Load then maps the data pages and the text,
 * makes the text R+X (never writable and executable at once) and attaches a
 * timekeeper. Nothing of a refused image is ever mapped executable.
 */
#ifndef VDSOKIT_LOADER_H
#define VDSOKIT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdsokit/altpatch.h>
#include <vdsokit/datapages.h>
#include <vdsokit/error.h>
#include <vdsokit/layout_profile.h>
#include <vdsokit/timekeeper.h>
#include <vdsokit/vdso_ref.h>
#include <vdsokit/vdso_entry.h>

/* Largest image text the loader accepts (the kernel's are ~8 KiB). */
#define LOADER_MAX_TEXT (1u << 20)

typedef long (*vdso_getrandom_fn)(void *buf, size_t len, unsigned flags, void *state,
                                  size_t state_len);

/* The exports, in the order of loader_symbol_names[]. */
enum loader_symbol {
    LOADER_SYM_CLOCK_GETTIME,
    LOADER_SYM_GETTIMEOFDAY,
    LOADER_SYM_TIME,
    LOADER_SYM_CLOCK_GETRES,
    LOADER_SYM_GETCPU,
    LOADER_SYM_GETRANDOM,
    LOADER_NSYMS
};

/* "__vdso_clock_gettime", ...; all looked up under version LINUX_2.6. */
extern const char *const loader_symbol_names[LOADER_NSYMS];

#define LOADER_SYM_ABSENT UINT64_MAX

/* The data-page layout the image reads (docs/abi.md §4.5, §7). */
enum loader_layout {
    LOADER_LAYOUT_ROOT,   /* page 0 the time data, page 1 absent */
    LOADER_LAYOUT_TIMENS, /* page 0 the namespace page, page 1 the real time data */
};

/* Who writes the data pages of a loaded image. */
enum loader_clock {
    LOADER_CLOCK_HOST,     /* a timekeeper on the host's counter (the default): its
                              constants the host's, or seeded (options.seeded) */
    LOADER_CLOCK_SCRIPTED, /* a scripted timekeeper (options.script) */
    LOADER_CLOCK_NONE,     /* no timekeeper: zeroed pages the caller writes */
};

struct loader_options {
    const struct alt_cpu *cpu; /* NULL: this CPU */
    enum loader_layout layout;
    enum loader_clock clock;
    enum tk_counter_kind counter; /* HOST: TK_COUNTER_TSC (0), _PVCLOCK_HOST or _HVCLOCK_HOST */
    unsigned calib_ms;            /* HOST: TSC calibration time, 0 = the timekeeper's default */
    /* HOST: every constant from seed (tk_constants_choose, unlike the
     * host's) and a writer (tick_hz) that varies the state every tick. */
    bool seeded;
    uint64_t seed;
    const struct tk_script *script; /* SCRIPTED */
    unsigned tick_hz;               /* a writer thread ticks (accumulates) this often; 0: none */
    uint32_t tick_nsec; /* the image's TICK_NSEC (its coarse getres); 0: the host's or script's */
    /* Judge the image as this LINUX_VERSION_CODE: its .altinstructions
     * layout and the layout profile of its data pages; 0: its `Linux` note
     * (no note: alternatives inferred, data pages 6.17-6.18). */
    uint32_t linux_version;
};

/* A loaded image. The function pointers are NULL for absent exports. */
struct vdso_loaded {
    char name[128];
    uint8_t *base; /* the reservation: data page 0 */
    uint8_t *text; /* base + 6 pages: what AT_SYSINFO_EHDR would be */
    size_t text_len;
    size_t image_size;
    size_t map_len;
    enum loader_layout layout;
    const struct layout_profile *profile; /* the era the data pages are laid out for */
    uint32_t layout_version;              /* the version that picked it; 0: no note */
    enum layout_delta_rule delta;         /* the era's delta rule, for the model */
    struct alt_report alt;
    uint64_t sym[LOADER_NSYMS];

    vdso_clock_gettime_fn clock_gettime;
    vdso_gettimeofday_fn gettimeofday;
    vdso_time_fn time;
    vdso_clock_getres_fn clock_getres;
    vdso_getcpu_fn getcpu;
    vdso_getrandom_fn getrandom;

    struct vdso_datapages dp; /* the six data pages (one memfd) and the writer view */
    struct timekeeper *tk;    /* writes dp; NULL with LOADER_CLOCK_NONE */
};

/*
 * Load bytes (copied; the caller keeps them). name labels errors. The
 * refusals are loader_prepare()'s (loader_prepare.h), each "<name>:
 * refused: <rule>: <finding>". The data pages take the layout profile of
 * the version opt->linux_version or the image's note names; a version no
 * profile covers fails with "<name>: Linux X.Y.Z: no layout profile ...".
 */
int loader_load(struct vdso_loaded **out, const void *bytes, size_t size, const char *name,
                const struct loader_options *opt, struct vdsokit_error *err);
/* Load an image file. */
int loader_load_file(struct vdso_loaded **out, const char *path, const struct loader_options *opt,
                     struct vdsokit_error *err);
/* Load an image embedded by `vdsoimg c`. */
int loader_load_blob(struct vdso_loaded **out, const struct vdso_image_blob *blob, const char *name,
                     const struct loader_options *opt, struct vdsokit_error *err);
/*
 * Load the embedded reference image: the native one, or with
 * opt->linux_version the variant built for that version's range
 * (vdso_ref.h), loaded under that version; a version no variant covers
 * fails naming it. Inline so that only its callers need the objects that
 * hold the images (built into vdsokit when vdsoimg exists).
 */
static inline int loader_load_ref(struct vdso_loaded **out, const struct loader_options *opt,
                                  struct vdsokit_error *err)
{
    struct loader_options ref = *opt;
    const struct vdso_ref_era *era =
        opt->linux_version ? vdso_ref_era_for(opt->linux_version) : NULL;

    *out = NULL;
    if (opt->linux_version && !era)
        return vdsokit_fail(err,
                            "ref: Linux %u.%u.%u: no variant of the reference covers this version "
                            "(built for 6.1 to 6.18)",
                            opt->linux_version >> 16, (opt->linux_version >> 8) & 0xff,
                            opt->linux_version & 0xff);
    if (!ref.tick_nsec)
        ref.tick_nsec = vdso_ref_tick_nsec;
    return loader_load_blob(out, era ? era->image : &vdso_ref_image, era ? era->label : "ref", &ref,
                            err);
}
/* Load this process's own vDSO (AT_SYSINFO_EHDR) as a private copy. */
int loader_load_live(struct vdso_loaded **out, const struct loader_options *opt,
                     struct vdsokit_error *err);

/*
 * Switch the reader view between the root and the time-namespace layout. A
 * namespace page that was never filled gets zero offsets from the
 * timekeeper (tk_timens_set() chooses others).
 */
int loader_set_layout(struct vdso_loaded *l, enum loader_layout layout, struct vdsokit_error *err);

/*
 * Move the data pages and the text together to a new address with mremap
 * (as a process may move [vvar] and [vdso]), a random place in another slot
 * of the window; base, text and the entry points are updated. Returns 0,
 * or -1 with err (l is then unusable).
 */
int loader_move(struct vdso_loaded *l, struct vdsokit_error *err);

/* The two time slots of the reader view: where the time data sits for a
 * root task (the namespace page inside a namespace) and where a namespace
 * task finds the real time data (absent for a root task). */
enum loader_slot { LOADER_SLOT_TIME, LOADER_SLOT_NS_REAL };

/*
 * Clock record i of a slot as the image reads it (through the read-only
 * view, at the era's page and offset). Only seq and clock_mode have the
 * same offsets in every era; read the rest at the profile's offsets.
 */
const struct vdso_clock *loader_reader_record(const struct vdso_loaded *l, enum loader_slot slot,
                                              int i);

/* Unmap everything, close the memfd, free l. NULL is allowed. */
void loader_unload(struct vdso_loaded *l);

/*
 * This process's vDSO as bytes: AT_SYSINFO_EHDR and the extent given by its
 * section headers (else the whole [vdso] mapping). Returns 0 with bytes and
 * size pointing into the live mapping, or -1 with err (no vDSO).
 */
int loader_live_image(const void **bytes, size_t *size, struct vdsokit_error *err);

#endif /* VDSOKIT_LOADER_H */
