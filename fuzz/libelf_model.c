/*
 * libelf's reading of an image for the differential harness (see
 * libelf_model.h). Only gelf_* accessors and elf_getdata_rawchunk are used:
 * libelf does every byte-order and class conversion, which is the point of
 * having it as the reference.
 */
#include "libelf_model.h"

#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

struct lelf {
    Elf *e;
    const uint8_t *bytes;
    size_t size;
    struct lelf_model m;
    Elf_Data *syms, *versyms;
    uint32_t nsyms;
};

void lelf_init(void)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        abort();
}

struct lelf *lelf_open(uint8_t *bytes, size_t size)
{
    struct lelf *l = calloc(1, sizeof(*l));

    if (!l)
        abort();
    l->e = elf_memory((char *)bytes, size);
    l->bytes = bytes;
    l->size = size;
    if (!l->e) {
        free(l);
        return NULL;
    }
    return l;
}

const char *lelf_error(void)
{
    return elf_errmsg(-1);
}

void lelf_close(struct lelf *l)
{
    if (l) {
        elf_end(l->e);
        free(l);
    }
}

/* Map a vaddr; *left is what remains of that segment's file bytes. */
static bool map_vaddr(const struct lelf_model *m, uint64_t vaddr, uint64_t *off, uint64_t *left)
{
    for (unsigned i = 0; i < m->nloads; i++) {
        const struct lelf_load *p = &m->loads[i];
        if (vaddr >= p->vaddr && vaddr - p->vaddr < p->filesz) {
            *off = p->offset + (vaddr - p->vaddr);
            *left = p->filesz - (vaddr - p->vaddr);
            return true;
        }
    }
    return false;
}

static void take_tag(struct lelf_model *m, const GElf_Dyn *d, bool *have_strsz,
                     uint64_t *strtab_left)
{
    static const struct {
        int64_t tag;
        uint32_t bit;
        size_t field;
    } tags[] = {
        {DT_STRTAB, LELF_STRTAB, offsetof(struct lelf_model, strtab)},
        {DT_SYMTAB, LELF_SYMTAB, offsetof(struct lelf_model, symtab)},
        {DT_HASH, LELF_HASH, offsetof(struct lelf_model, hash)},
        {DT_GNU_HASH, LELF_GNU_HASH, offsetof(struct lelf_model, gnu_hash)},
        {DT_VERSYM, LELF_VERSYM, offsetof(struct lelf_model, versym)},
        {DT_VERDEF, LELF_VERDEF, offsetof(struct lelf_model, verdef)},
    };

    if (d->d_tag == DT_STRSZ) {
        m->strsz = d->d_un.d_val;
        *have_strsz = true;
    }
    if (d->d_tag == DT_VERDEFNUM)
        m->verdefnum = d->d_un.d_val;
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        uint64_t off, left;
        if (d->d_tag == tags[i].tag && !(m->present & tags[i].bit) &&
            map_vaddr(m, d->d_un.d_ptr, &off, &left)) {
            memcpy((char *)m + tags[i].field, &off, sizeof(off));
            if (tags[i].bit == LELF_STRTAB)
                *strtab_left = left;
            m->present |= tags[i].bit;
        }
    }
}

static bool read_phdrs(struct lelf *l, GElf_Phdr *dynamic)
{
    struct lelf_model *m = &l->m;
    size_t phnum;

    if (elf_getphdrnum(l->e, &phnum) != 0)
        return false;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr p;
        if (!gelf_getphdr(l->e, (int)i, &p))
            return false;
        if (p.p_type == PT_LOAD && m->nloads < LELF_MAX_LOADS)
            m->loads[m->nloads++] =
                (struct lelf_load){p.p_offset, p.p_vaddr, p.p_filesz, p.p_memsz, p.p_flags};
        if (p.p_type == PT_DYNAMIC && !m->has_dynamic) {
            *dynamic = p;
            m->has_dynamic = true;
        }
    }
    return true;
}

bool lelf_model(struct lelf *l, struct lelf_model *out)
{
    struct lelf_model *m = &l->m;
    GElf_Ehdr eh;
    GElf_Phdr dynamic = {0};
    Elf_Data *dyn;
    bool have_strsz = false;
    uint64_t strtab_left = 0;

    memset(m, 0, sizeof(*m));
    if (elf_kind(l->e) != ELF_K_ELF || !gelf_getehdr(l->e, &eh) || !read_phdrs(l, &dynamic))
        return false;
    m->elf_class = eh.e_ident[EI_CLASS];
    m->byte_order = eh.e_ident[EI_DATA];
    m->type = eh.e_type;
    m->machine = eh.e_machine;
    m->phnum = eh.e_phnum;
    m->phentsize = eh.e_phentsize;
    m->phoff = eh.e_phoff;
    if (m->has_dynamic) {
        /* Whole entries only: a partial tail entry is ignored on both sides. */
        size_t esz = gelf_fsize(l->e, ELF_T_DYN, 1, EV_CURRENT);
        dyn = elf_getdata_rawchunk(l->e, (int64_t)dynamic.p_offset,
                                   dynamic.p_filesz - dynamic.p_filesz % esz, ELF_T_DYN);
        for (int i = 0; dyn; i++) {
            GElf_Dyn d;
            if (!gelf_getdyn(dyn, i, &d) || d.d_tag == DT_NULL)
                break;
            take_tag(m, &d, &have_strsz, &strtab_left);
        }
    }
    /* Policy shared with our resolver: no DT_STRSZ, the table runs to its segment's end. */
    if (!have_strsz)
        m->strsz = strtab_left;
    *out = *m;
    return true;
}

bool lelf_symbols(struct lelf *l, uint64_t symtab, uint32_t count)
{
    l->syms = elf_getdata_rawchunk(l->e, (int64_t)symtab,
                                   count * gelf_fsize(l->e, ELF_T_SYM, 1, EV_CURRENT), ELF_T_SYM);
    l->nsyms = l->syms ? count : 0;
    if (l->syms && (l->m.present & LELF_VERSYM))
        l->versyms =
            elf_getdata_rawchunk(l->e, (int64_t)l->m.versym, (size_t)count * 2, ELF_T_HALF);
    return l->syms != NULL;
}

static const char *string_at(const struct lelf *l, uint64_t off)
{
    const struct lelf_model *m = &l->m;

    if (!(m->present & LELF_STRTAB) || off >= m->strsz || m->strtab > l->size ||
        off >= l->size - m->strtab)
        return NULL;
    if (!memchr(l->bytes + m->strtab + off, 0, l->size - m->strtab - off))
        return NULL;
    return (const char *)l->bytes + m->strtab + off;
}

bool lelf_symbol(struct lelf *l, uint32_t index, struct lelf_sym *s)
{
    GElf_Sym gs;

    if (index >= l->nsyms || !gelf_getsym(l->syms, (int)index, &gs))
        return false;
    *s = (struct lelf_sym){
        string_at(l, gs.st_name), gs.st_value, gs.st_size, gs.st_shndx, GELF_ST_TYPE(gs.st_info),
        GELF_ST_BIND(gs.st_info)};
    return true;
}

bool lelf_versym(struct lelf *l, uint32_t index, uint16_t *versym)
{
    GElf_Versym v;

    if (!l->versyms || index >= l->nsyms || !gelf_getversym(l->versyms, (int)index, &v))
        return false;
    *versym = v;
    return true;
}

const char *lelf_version_name(struct lelf *l, unsigned ndx)
{
    const struct lelf_model *m = &l->m;
    Elf_Data *vd;
    size_t off = 0;

    if (!(m->present & LELF_VERDEF) || m->verdef >= l->size)
        return NULL;
    vd = elf_getdata_rawchunk(l->e, (int64_t)m->verdef, l->size - m->verdef, ELF_T_VDEF);
    for (uint64_t n = 0; vd && n < m->verdefnum && n < 64; n++) {
        GElf_Verdef def;
        GElf_Verdaux aux;
        if (!gelf_getverdef(vd, (int)off, &def))
            return NULL;
        if (def.vd_ndx == ndx && !(def.vd_flags & VER_FLG_BASE))
            return gelf_getverdaux(vd, (int)(off + def.vd_aux), &aux) ? string_at(l, aux.vda_name)
                                                                      : NULL;
        if (def.vd_next == 0)
            break;
        off += def.vd_next;
    }
    return NULL;
}
