/*
 * A strict reader of /proc/self/maps lines ("lo-hi perms offset dev inode
 * name"): every field is checked, so a truncated or foreign line is counted
 * as bad instead of lending its numbers to a mapping; only an exact name
 * ([vdso], [vvar], [vvar_vclock]) counts, never a file whose path merely
 * contains one.
 */
#include <string.h>

#include <vdsokit/abi.h>
#include <vdsokit/live_maps.h>

struct cursor {
    const char *p, *end;
};

static bool hex_digit(char c, unsigned *v)
{
    if (c >= '0' && c <= '9')
        *v = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
        *v = (unsigned)(c - 'a' + 10);
    else
        return false;
    return true;
}

/* One or more hex digits, at most 16 (a 64-bit value). */
static bool take_hex(struct cursor *c, uint64_t *out)
{
    unsigned d, n = 0;
    uint64_t v = 0;

    while (c->p < c->end && hex_digit(*c->p, &d) && n < 17) {
        v = v << 4 | d;
        c->p++;
        n++;
    }
    *out = v;
    return n > 0 && n <= 16;
}

static bool take_dec(struct cursor *c)
{
    const char *start = c->p;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return c->p > start;
}

static bool take_char(struct cursor *c, char want)
{
    if (c->p >= c->end || *c->p != want)
        return false;
    c->p++;
    return true;
}

/* rwxp / rwxs: four flag characters. */
static bool take_perms(struct cursor *c)
{
    static const char *const allowed[4] = {"r-", "w-", "x-", "ps"};

    for (int i = 0; i < 4; i++, c->p++)
        if (c->p >= c->end || !*c->p || !strchr(allowed[i], *c->p))
            return false;
    return true;
}

/* The fields before the name; *lo, *hi on success. */
static bool take_fields(struct cursor *c, uint64_t *lo, uint64_t *hi)
{
    uint64_t off, major, minor;

    return take_hex(c, lo) && take_char(c, '-') && take_hex(c, hi) && take_char(c, ' ') &&
           take_perms(c) && take_char(c, ' ') && take_hex(c, &off) && take_char(c, ' ') &&
           take_hex(c, &major) && take_char(c, ':') && take_hex(c, &minor) && take_char(c, ' ') &&
           take_dec(c) && (c->p == c->end || *c->p == ' ');
}

static bool name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

static void note_range(struct live_range *r, uint64_t lo, uint64_t hi)
{
    if (!r->count++)
        *r = (struct live_range){(uintptr_t)lo, (uintptr_t)hi, 1};
}

/* One line without its newline; false when it is not a maps line. */
static bool parse_line(const char *line, size_t len, struct live_maps *m)
{
    struct cursor c = {line, line + len};
    uint64_t lo, hi;

    if (!take_fields(&c, &lo, &hi) || lo >= hi || lo % VDSO_PAGE_SIZE || hi % VDSO_PAGE_SIZE ||
        hi > UINTPTR_MAX)
        return false;
    while (c.p < c.end && *c.p == ' ')
        c.p++;
    size_t nlen = (size_t)(c.end - c.p);
    if (name_is(c.p, nlen, "[vdso]"))
        note_range(&m->vdso, lo, hi);
    else if (name_is(c.p, nlen, "[vvar]"))
        note_range(&m->vvar, lo, hi);
    else if (name_is(c.p, nlen, "[vvar_vclock]"))
        note_range(&m->vclock, lo, hi);
    return true;
}

void live_maps_parse(const char *text, size_t len, struct live_maps *out)
{
    const char *p = text, *end = text + len;

    memset(out, 0, sizeof(*out));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        out->lines++;
        if (!parse_line(p, (size_t)(stop - p), out) && !out->bad_lines++)
            out->first_bad = out->lines;
        p = nl ? nl + 1 : end;
    }
}

static unsigned pages(const struct live_range *r)
{
    return r->count ? (unsigned)((r->hi - r->lo) / VDSO_PAGE_SIZE) : 0;
}

void live_maps_shape(const struct live_maps *m, struct layout_shape *out)
{
    out->vvar_pages = pages(&m->vvar);
    out->vclock_pages = pages(&m->vclock);
    /* A name seen twice is ambiguous: no shape can be trusted then. */
    bool single = m->vdso.count == 1 && m->vvar.count == 1 && m->vclock.count <= 1;
    uintptr_t below_vdso = m->vclock.count ? m->vclock.lo : m->vdso.lo;
    out->contiguous =
        single && m->vvar.hi == below_vdso && (!m->vclock.count || m->vclock.hi == m->vdso.lo);
}

bool live_range_holds(const struct live_range *r, uintptr_t lo, size_t len)
{
    return r->count && lo >= r->lo && lo <= r->hi && len <= r->hi - lo;
}
