/*
 * elfgen_build(): lays out and writes one vDSO-like shared object. The
 * layout follows the kernel's linker script: ELF and program headers, then
 * .hash, .gnu.hash, .dynsym, .dynstr, .gnu.version, .gnu.version_d,
 * .dynamic and .note in the first segment, then .text, .altinstructions and
 * .altinstr_replacement (in a second PT_LOAD on request), then the section
 * name table and section headers outside any segment. Every field is
 * written in the description's class and byte order.
 */
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfgen.h"
#include "elfgen_internal.h"

static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

static int check_desc(const struct elfgen_desc *d, char *err, size_t len)
{
    if (d->elf_class != ELFCLASS32 && d->elf_class != ELFCLASS64)
        return fail(err, len, "elf_class %u is not 1 or 2", d->elf_class);
    if (d->byte_order != ELFDATA2LSB && d->byte_order != ELFDATA2MSB)
        return fail(err, len, "byte_order %u is not 1 or 2", d->byte_order);
    if (d->nloads != 1 && d->nloads != 2)
        return fail(err, len, "nloads %u is not 1 or 2", d->nloads);
    if (d->nsyms > GEN_MAX_SYMS)
        return fail(err, len, "%u symbols, more than %d", d->nsyms, GEN_MAX_SYMS);
    if (d->load_gap % 4096 || d->base % 4096)
        return fail(err, len, "base and load_gap must be multiples of 4096");
    for (unsigned i = 0; i < d->nsyms; i++) {
        int a = d->syms[i].alias_of;
        if (a >= (int)d->nsyms || (a >= 0 && d->syms[a].alias_of >= 0))
            return fail(err, len, "symbol %u (%s): alias_of %d is not a plain symbol", i,
                        d->syms[i].name, a);
    }
    return 0;
}

int elfgen_build(const struct elfgen_desc *d, struct elfgen_out *out, char *err, size_t errlen)
{
    struct gen *g;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (check_desc(d, err, errlen))
        return -1;
    g = calloc(1, sizeof(*g));
    if (!g)
        return fail(err, errlen, "out of memory");
    g->d = d;
    g->is64 = d->elf_class == ELFCLASS64;
    g->msb = d->byte_order == ELFDATA2MSB;
    g->word = g->is64 ? 8 : 4;
    gen_order_symbols(g);
    gen_strings(g);
    gen_layout(g);
    g->buf = calloc(1, g->size);
    out->sym_index = calloc(d->nsyms + 1, sizeof(*out->sym_index));
    out->sym_value = calloc(d->nsyms + 1, sizeof(*out->sym_value));
    if (!g->buf || !out->sym_index || !out->sym_value) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    gen_write_headers(g);
    gen_write_tables(g);
    gen_write_text(g);
    gen_write_sections(g);
    for (unsigned i = 0; i < d->nsyms; i++) {
        out->sym_index[i] = g->index_of[i];
        out->sym_value[i] = g->value[i];
    }
    out->data = g->buf;
    out->size = g->size;
    g->buf = NULL;
    rc = 0;
done:
    if (rc)
        elfgen_free(out);
    free(g->buf);
    free(g);
    return rc;
}

void elfgen_free(struct elfgen_out *out)
{
    free(out->data);
    free(out->sym_index);
    free(out->sym_value);
    memset(out, 0, sizeof(*out));
}
