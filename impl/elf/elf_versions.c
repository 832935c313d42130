/*
 * Fourth parsing stage: the DT_VERDEF chain and the DT_VERSYM entries.
 * The chain walk stops at vd_next == 0 and never takes more than
 * DT_VERDEFNUM (or ELF_MAX_VERDEFS) steps; vd_next is unsigned and must
 * be at least one entry long, so entries cannot overlap or loop. Every
 * DT_VERSYM entry is checked here once, so that lookups need no error path.
 */
#include <elf.h>
#include <inttypes.h>

#include "elf_internal.h"

#define VERDEF_SIZE  20
#define VERDAUX_SIZE 8

/* One Elf_Verdef, copied out (same layout in both classes). */
struct verdef_entry {
    uint16_t version, flags, ndx, cnt;
    uint32_t hash, aux, next;
};

static bool read_verdef(const struct elf_reader *r, uint64_t off, struct verdef_entry *v)
{
    uint8_t b[VERDEF_SIZE];

    if (!elf_read_rec(r, off, b, VERDEF_SIZE))
        return false;
    v->version = elf_rec_u16(r, b);
    v->flags = elf_rec_u16(r, b + 2);
    v->ndx = elf_rec_u16(r, b + 4);
    v->cnt = elf_rec_u16(r, b + 6);
    v->hash = elf_rec_u32(r, b + 8);
    v->aux = elf_rec_u32(r, b + 12);
    v->next = elf_rec_u32(r, b + 16);
    return true;
}

static int check_entry(const struct elf_image *img, unsigned k, uint64_t off,
                       const struct verdef_entry *v, struct vdsokit_error *err)
{
    if (v->version != VER_DEF_CURRENT)
        return vdsokit_fail(err,
                            "DT_VERDEF entry %u at offset 0x%" PRIx64 ": vd_version is %u, not 1",
                            k, off, v->version);
    if (v->cnt == 0)
        return vdsokit_fail(
            err, "DT_VERDEF entry %u at offset 0x%" PRIx64 ": vd_cnt is 0 (no name)", k, off);
    if (v->ndx == VER_NDX_LOCAL || v->ndx > VERSYM_VERSION)
        return vdsokit_fail(err,
                            "DT_VERDEF entry %u at offset 0x%" PRIx64 ": vd_ndx %u is reserved", k,
                            off, v->ndx);
    if (elf_verdef_by_ndx(img, v->ndx))
        return vdsokit_fail(err,
                            "DT_VERDEF entry %u at offset 0x%" PRIx64 ": vd_ndx %u defined twice",
                            k, off, v->ndx);
    return 0;
}

static int read_name(const struct elf_image *img, const struct elf_table_limits *lim, unsigned k,
                     uint64_t off, const struct verdef_entry *v, const char **name,
                     struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    uint64_t aux = off + v->aux;
    uint32_t vda_name = 0;

    if (v->aux < VERDEF_SIZE || aux + VERDAUX_SIZE > lim->verdef_end)
        return vdsokit_fail(err,
                            "DT_VERDEF entry %u at offset 0x%" PRIx64
                            ": vd_aux %u points outside the "
                            "table (segment ends at 0x%" PRIx64 ")",
                            k, off, v->aux, lim->verdef_end);
    elf_read_u32(&r, aux, &vda_name);
    *name =
        vda_name < img->strsz ? elf_read_str(&r, img->strtab + vda_name, lim->strtab_end) : NULL;
    if (!*name)
        return vdsokit_fail(err,
                            "DT_VERDEF entry %u: vda_name %u at offset 0x%" PRIx64
                            " is not a string inside DT_STRSZ %" PRIu64,
                            k, vda_name, aux, img->strsz);
    return 0;
}

static int walk_verdefs(struct elf_image *img, const struct elf_table_limits *lim,
                        struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);
    uint64_t off = img->verdef, limit = img->verdefnum ? img->verdefnum : ELF_MAX_VERDEFS;
    struct verdef_entry v = {0};

    if (img->verdefnum > ELF_MAX_VERDEFS)
        return vdsokit_fail(err, "DT_VERDEFNUM %" PRIu64 " exceeds the supported %d",
                            img->verdefnum, ELF_MAX_VERDEFS);
    for (unsigned k = 0; k < limit; k++) {
        struct elf_verdef *d = &img->verdefs[k];
        if (off + VERDEF_SIZE > lim->verdef_end || !read_verdef(&r, off, &v))
            return vdsokit_fail(err,
                                "DT_VERDEF entry %u at offset 0x%" PRIx64
                                " runs past its segment end 0x%" PRIx64,
                                k, off, lim->verdef_end);
        if (check_entry(img, k, off, &v, err) || read_name(img, lim, k, off, &v, &d->name, err))
            return -1;
        d->ndx = v.ndx;
        d->flags = v.flags;
        d->hash = v.hash;
        img->nverdefs = k + 1;
        if (v.ndx < 64)
            img->verdef_ndx_mask |= 1ull << v.ndx;
        if (v.next == 0)
            break;
        if (v.next < VERDEF_SIZE)
            return vdsokit_fail(
                err, "DT_VERDEF entry %u at offset 0x%" PRIx64 ": vd_next %u overlaps the entry", k,
                off, v.next);
        off += v.next;
    }
    if (img->verdefnum && img->nverdefs != img->verdefnum)
        return vdsokit_fail(err,
                            "DT_VERDEF chain ends after %u entries but DT_VERDEFNUM is %" PRIu64,
                            img->nverdefs, img->verdefnum);
    return 0;
}

static int check_versyms(const struct elf_image *img, struct vdsokit_error *err)
{
    struct elf_reader r = elf_image_reader(img);

    /* VER_NDX_LOCAL and VER_NDX_GLOBAL need no verdef. */
    uint64_t known = img->verdef_ndx_mask | 1u << VER_NDX_LOCAL | 1u << VER_NDX_GLOBAL;
    uint16_t v = 0;

    for (uint32_t i = 1; i < img->nsyms; i++) {
        elf_read_u16(&r, img->versym + 2ull * i, &v);
        v &= VERSYM_VERSION;
        if (v < 64 ? !(known & (1ull << v)) : !elf_verdef_by_ndx(img, v))
            return vdsokit_fail(err,
                                "DT_VERSYM entry %u at offset 0x%" PRIx64
                                " is %u, but no DT_VERDEF entry has that index",
                                i, (uint64_t)(img->versym + 2ull * i), v);
    }
    return 0;
}

int elf_parse_versions(struct elf_image *img, const struct elf_table_limits *lim,
                       struct vdsokit_error *err)
{
    if (!(img->dyn_present & ELF_DYN_VERDEF))
        return 0;
    if (walk_verdefs(img, lim, err))
        return -1;
    /* A DT_VERSYM without DT_VERDEF refers to needed versions: unversioned here. */
    if (img->dyn_present & ELF_DYN_VERSYM)
        return check_versyms(img, err);
    return 0;
}

const struct elf_verdef *elf_verdef_by_ndx(const struct elf_image *img, uint16_t ndx)
{
    /* The common case, an index that no verdef has, answered without a walk. */
    if (ndx < 64 && !(img->verdef_ndx_mask & (1ull << ndx)))
        return NULL;
    for (unsigned i = 0; i < img->nverdefs; i++)
        if (img->verdefs[i].ndx == ndx)
            return &img->verdefs[i];
    return NULL;
}
