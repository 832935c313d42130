/*
 * Implementation of the corpus oracles (see corpus_oracles.h). libelf is
 * used only through its execution view (gelf_getphdr, elf_getdata_rawchunk
 * with the same vaddr to offset mapping), so that it checks the same thing
 * the resolver does; readelf is run on a file and its table parsed.
 */
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_oracles.h"

static bool map(Elf *e, size_t nph, uint64_t vaddr, uint64_t *off)
{
    GElf_Phdr ph;

    for (size_t i = 0; i < nph; i++)
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr &&
            vaddr - ph.p_vaddr < ph.p_filesz) {
            *off = ph.p_offset + (vaddr - ph.p_vaddr);
            return true;
        }
    return false;
}

static int compare_symbols(const char *label, Elf *e, const struct elf_image *img, uint64_t symoff,
                           uint64_t stroff)
{
    Elf_Data *d =
        elf_getdata_rawchunk(e, (int64_t)symoff, (size_t)img->nsyms * img->syment, ELF_T_SYM);
    int bad = 0;

    for (uint32_t i = 0; d && i < img->nsyms; i++) {
        GElf_Sym gs;
        struct elf_sym s;
        if (!gelf_getsym(d, (int)i, &gs) || elf_symbol(img, i, &s, NULL)) {
            printf("%s: symbol %u unreadable on one side\n", label, i);
            bad++;
            continue;
        }
        const char *gname = (const char *)img->data + stroff + gs.st_name;
        if (gs.st_value != s.value || gs.st_size != s.size || GELF_ST_TYPE(gs.st_info) != s.type ||
            GELF_ST_BIND(gs.st_info) != s.bind || gs.st_shndx != s.shndx || strcmp(gname, s.name)) {
            printf("%s: symbol %u: libelf %s 0x%llx/%llu t%u b%u ndx%u, ours %s 0x%llx/%llu t%u "
                   "b%u ndx%u\n",
                   label, i, gname, (unsigned long long)gs.st_value, (unsigned long long)gs.st_size,
                   GELF_ST_TYPE(gs.st_info), GELF_ST_BIND(gs.st_info), gs.st_shndx, s.name,
                   (unsigned long long)s.value, (unsigned long long)s.size, s.type, s.bind,
                   s.shndx);
            bad++;
        }
    }
    return d ? bad : bad + 1;
}

int oracle_libelf(const char *label, const struct elf_image *img)
{
    char *copy = malloc(img->size);
    Elf *e;
    size_t nph = 0;
    uint64_t dynoff = 0, strtab = 0, symtab = 0, so = 0, to = 0;
    int bad = 0;
    GElf_Phdr ph;

    memcpy(copy, img->data, img->size);
    elf_version(EV_CURRENT);
    e = elf_memory(copy, img->size);
    if (!e || elf_getphdrnum(e, &nph)) {
        printf("%s: libelf cannot open: %s\n", label, elf_errmsg(-1));
        elf_end(e);
        free(copy);
        return 1;
    }
    for (size_t i = 0; i < nph; i++)
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_DYNAMIC)
            dynoff = ph.p_offset;
    Elf_Data *dd = elf_getdata_rawchunk(e, (int64_t)dynoff, img->dyn_size, ELF_T_DYN);
    GElf_Dyn dyn;
    for (int i = 0; dd && gelf_getdyn(dd, i, &dyn) && dyn.d_tag != DT_NULL; i++) {
        if (dyn.d_tag == DT_STRTAB)
            strtab = dyn.d_un.d_ptr;
        if (dyn.d_tag == DT_SYMTAB)
            symtab = dyn.d_un.d_ptr;
    }
    if (!map(e, nph, strtab, &so) || !map(e, nph, symtab, &to) || so != img->strtab ||
        to != img->symtab) {
        printf("%s: libelf maps DT_STRTAB/DT_SYMTAB to 0x%llx/0x%llx, ours 0x%llx/0x%llx\n", label,
               (unsigned long long)so, (unsigned long long)to, (unsigned long long)img->strtab,
               (unsigned long long)img->symtab);
        bad++;
    } else {
        bad += compare_symbols(label, e, img, to, so);
    }
    elf_end(e);
    free(copy);
    return bad;
}

/*
 * Parse one readelf --dyn-syms line: "  12: 0000000000000f00    44 FUNC GLOBAL DEFAULT 12 name".
 * Some type names contain blanks ("<OS specific>: 10"), so the name is the
 * last token when there are at least eight.
 */
static bool parse_line(const char *line, unsigned *num, unsigned long long *value,
                       unsigned long long *size, char *name, size_t len)
{
    char copy[1024], *tok, *save, *last = NULL;
    unsigned ntok = 0;

    if (sscanf(line, " %u: %llx %llu", num, value, size) != 3)
        return false;
    snprintf(copy, sizeof(copy), "%s", line);
    for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
        last = tok;
        ntok++;
    }
    if (ntok < 7)
        return false;
    snprintf(name, len, "%s", ntok >= 8 && last ? last : "");
    return true;
}

int oracle_readelf(const char *label, const char *path, const struct elf_image *img)
{
    char cmd[4200], line[1024], name[512], ours[600];
    unsigned num, seen = 0;

    unsigned long long value, size;
    int bad = 0;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "readelf -D --dyn-syms -W '%s' 2>/dev/null", path);
    if (!(p = popen(cmd, "r")))
        return -1;
    while (fgets(line, sizeof(line), p)) {
        struct elf_sym s;
        if (!parse_line(line, &num, &value, &size, name, sizeof(name)))
            continue;
        seen++;
        if (num >= img->nsyms || elf_symbol(img, num, &s, NULL)) {
            printf("%s: readelf lists symbol %u (%s), ours has %u symbols\n", label, num, name,
                   img->nsyms);
            bad++;
            continue;
        }
        snprintf(ours, sizeof(ours), "%s%s%s", s.name, s.version ? (s.hidden ? "@" : "@@") : "",
                 s.version ? s.version : "");
        /* readelf prints a version-name symbol without its version on some images. */
        bool same = strcmp(ours, name) == 0 ||
                    (s.version && strcmp(s.name, name) == 0 && strcmp(s.name, s.version) == 0);
        if (!same || value != s.value || size != s.size) {
            printf("%s: symbol %u: readelf '%s' 0x%llx/%llu, ours '%s' 0x%llx/%llu\n", label, num,
                   name, value, size, ours, (unsigned long long)s.value,
                   (unsigned long long)s.size);
            bad++;
        }
    }
    if (pclose(p) != 0 || seen == 0)
        return bad ? bad : -1;
    if (seen != img->nsyms) {
        printf("%s: readelf lists %u symbols, ours %u\n", label, seen, img->nsyms);
        bad++;
    }
    return bad;
}

static int agree(const char *label, const struct elf_image *img, const char *name,
                 const char *version)
{
    struct elf_sym r[3];
    int rc[3];
    const enum elf_lookup_path paths[3] = {ELF_LOOKUP_GNU_HASH, ELF_LOOKUP_SYSV_HASH,
                                           ELF_LOOKUP_SCAN};
    int bad = 0;

    for (int k = 0; k < 3; k++)
        rc[k] = elf_lookup(img, name, version, paths[k], &r[k]);
    for (int k = 0; k < 2; k++) {
        if (rc[k] == ELF_NO_TABLE)
            continue;
        if (rc[k] != rc[2] || (rc[k] == ELF_FOUND && r[k].index != r[2].index)) {
            printf("%s: lookup %s@%s: path %d gives rc %d index %u, scan rc %d index %u\n", label,
                   name, version ? version : "(none)", k, rc[k], rc[k] ? 0 : r[k].index, rc[2],
                   rc[2] ? 0 : r[2].index);
            bad++;
        }
    }
    return bad;
}

int oracle_paths(const char *label, const struct elf_image *img)
{
    struct elf_sym s;
    int bad = 0;

    for (uint32_t i = 0; i < img->nsyms; i++) {
        if (elf_symbol(img, i, &s, NULL))
            continue;
        bad += agree(label, img, s.name, NULL);
        bad += agree(label, img, s.name, "LINUX_2.6");
        bad += agree(label, img, s.name, "NO_SUCH_VERSION");
        for (unsigned v = 0; v < img->nverdefs; v++)
            bad += agree(label, img, s.name, img->verdefs[v].name);
    }
    bad += agree(label, img, "no_such_symbol", NULL);
    return bad;
}
