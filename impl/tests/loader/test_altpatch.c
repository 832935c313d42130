/*
 * The alternatives patcher on hand-built tables in the layout of each
 * kernel era (order, ALT_FLAG_NOT, unknown features and flags, NOP padding,
 * idempotence, every bounds error, an image patched for another CPU), the
 * era table itself (versions, hand-made entries decoded field by field, a
 * table read under the wrong era refused naming the field, inference) and
 * this host's own vDSO, whose text
 * the kernel already patched: re-applying for this CPU must give the same
 * bytes, and patching a copy for a richer CPU and then back for this one
 * must restore this CPU's instructions.
 */
#include "check.h"

#include <vdsokit/abi.h>
#include <vdsokit/altpatch.h>
#include <vdsokit/loader.h>
#include <vdsokit/loader_prepare.h>

#include <stdio.h>
#include <string.h>

#define IMG 256
#define TAB 128 /* the table starts here */

static const uint8_t RDTSC5[5] = {0x0f, 0x31, 0x0f, 0x1f, 0x00}; /* rdtsc; nop3 */
static const uint8_t LFENCE_RDTSC[5] = {0x0f, 0xae, 0xe8, 0x0f, 0x31};
static const uint8_t RDTSCP[3] = {0x0f, 0x01, 0xf9};
static const uint8_t RDPID[4] = {0xf3, 0x0f, 0xc7, 0xf8};

struct fixture {
    const struct alt_layout *l; /* the era the entries are written in */
    uint8_t src[IMG], dst[IMG];
    unsigned n;
    unsigned next_repl; /* replacements are stored from offset 200 on */
};

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The era named "x86-6.1" or "x86-6.3". */
static const struct alt_layout *era(const char *name)
{
    unsigned n;
    const struct alt_layout *l = alt_layouts(&n);

    for (unsigned i = 0; i < n; i++)
        if (!strcmp(l[i].name, name))
            return &l[i];
    CHECK(0, "no era %s", name);
    return &l[n - 1];
}

static const struct alt_layout *fx_era = NULL; /* fx_init's era; NULL: the newest */

static void fx_init(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    f->l = fx_era ? fx_era : era("x86-6.3");
    memcpy(f->src + 16, RDTSC5, 5); /* site A at 16 */
    f->src[32] = 0x0f;              /* site B at 32: lsl %eax,%eax; nop */
    f->src[33] = 0x03;
    f->src[34] = 0xc0;
    f->src[35] = 0x90;
    f->next_repl = 200;
}

/* Append an entry for site (offset, len) with the given replacement. */
static void fx_add(struct fixture *f, uint32_t site, uint8_t site_len, const uint8_t *repl,
                   uint8_t repl_len, uint16_t feature, uint16_t flags)
{
    const struct alt_layout *l = f->l;
    uint8_t *e = f->src + TAB + f->n * l->entry_size;
    uint32_t at = TAB + f->n * l->entry_size;
    uint32_t word = (uint32_t)flags << l->flags_shift | feature;

    memcpy(f->src + f->next_repl, repl, repl_len);
    put32(e, site - at);
    put32(e + 4, f->next_repl - (at + 4));
    e[8] = (uint8_t)word;
    e[9] = (uint8_t)(word >> 8);
    if (l->word_size == 4)
        put32(e + 8, word);
    e[l->entry_size - 2] = site_len;
    e[l->entry_size - 1] = repl_len;
    f->next_repl += repl_len;
    f->n++;
}

static int fx_apply(struct fixture *f, const struct alt_cpu *cpu, struct alt_report *r,
                    struct vdsokit_error *err)
{
    memcpy(f->dst, f->src, IMG);
    return alt_apply(f->l, f->src, f->dst, IMG, TAB, (uint64_t)f->n * f->l->entry_size, cpu, r,
                     err);
}

static void test_order_and_padding(void)
{
    const struct alt_cpu all = {true, true, true}, lfence = {false, false, true};
    const uint8_t want_rdtscp[5] = {0x0f, 0x01, 0xf9, 0x66, 0x90};
    struct fixture f;
    struct alt_report r;
    struct vdsokit_error err;

    fx_init(&f);
    /* The era's own numbers: LFENCE_RDTSC is 3*32+18 before 6.3, 20*32+2 after. */
    fx_add(&f, 16, 5, LFENCE_RDTSC, 5, f.l->lfence_rdtsc, 0);
    fx_add(&f, 16, 5, RDTSCP, 3, f.l->rdtscp, 0);
    fx_add(&f, 32, 4, RDPID, 4, f.l->rdpid, 0);

    CHECK(fx_apply(&f, &all, &r, &err) == 0, "%s", err.msg);
    CHECK(memcmp(f.dst + 16, want_rdtscp, 5) == 0, "later entry (RDTSCP) wins, padded with 66 90");
    CHECK(memcmp(f.dst + 32, RDPID, 4) == 0, "RDPID applied");
    CHECK(r.entries == 3 && r.applied == 3, "entries %u applied %u", r.entries, r.applied);

    CHECK(fx_apply(&f, &lfence, &r, &err) == 0, "%s", err.msg);
    CHECK(memcmp(f.dst + 16, LFENCE_RDTSC, 5) == 0, "LFENCE_RDTSC only: lfence; rdtsc");
    CHECK(f.dst[32] == 0x0f && f.dst[33] == 0x03, "RDPID absent: lsl kept");
    CHECK(r.applied == 1 && r.skipped_absent == 2, "applied %u absent %u", r.applied,
          r.skipped_absent);

    /* Idempotent: the patched bytes as input give the same bytes. */
    memcpy(f.src, f.dst, IMG);
    CHECK(fx_apply(&f, &lfence, &r, &err) == 0, "%s", err.msg);
    CHECK(memcmp(f.src, f.dst, IMG) == 0, "re-applying changes nothing");
}

static void test_flags_and_unknown(void)
{
    const struct alt_cpu none = {false, false, false}, rdtscp = {true, false, false};
    struct fixture f;
    struct alt_report r;
    struct vdsokit_error err;

    fx_init(&f);
    fx_add(&f, 16, 5, RDTSCP, 3, X86_FEATURE_RDTSCP, ALT_FLAG_NOT); /* when RDTSCP absent */
    fx_add(&f, 32, 4, RDPID, 4, 5 * 32 + 1, 0);                     /* a feature we do not know */
    if (f.l->flags_shift == 16) /* only the u32 word has room for the direct-call flag */
        fx_add(&f, 32, 4, RDPID, 4, X86_FEATURE_RDPID, ALT_FLAG_DIRECT_CALL);
    else
        fx_add(&f, 32, 4, RDPID, 4, X86_FEATURE_LFENCE_RDTSC, 0); /* 20*32+2: unknown in 6.1 */
    CHECK(fx_apply(&f, &none, &r, &err) == 0, "%s", err.msg);
    CHECK(memcmp(f.dst + 16, RDTSCP, 3) == 0 && f.dst[19] == 0x66 && f.dst[20] == 0x90,
          "ALT_FLAG_NOT applies when the feature is absent");
    CHECK(memcmp(f.dst + 32, f.src + 32, 4) == 0, "unknown feature and flag leave the site alone");
    CHECK(r.applied == 1 && r.skipped_unknown == 2, "applied %u unknown %u", r.applied,
          r.skipped_unknown);

    CHECK(fx_apply(&f, &rdtscp, &r, &err) == 0, "%s", err.msg);
    CHECK(memcmp(f.dst + 16, RDTSC5, 5) == 0, "ALT_FLAG_NOT skipped when present");
}

/* An applied entry with an empty replacement turns its whole site into NOPs. */
static void nop_site(struct fixture *f, uint8_t len)
{
    const struct alt_cpu all = {true, true, true};
    static const uint8_t none[1];
    struct vdsokit_error err;

    fx_init(f);
    memset(f->src + 16, 0xcc, 21);
    fx_add(f, 16, len, none, 0, X86_FEATURE_RDTSCP, 0);
    CHECK(fx_apply(f, &all, NULL, &err) == 0, "%s", err.msg);
}

static void test_nops(void)
{
    struct fixture f;

    for (uint8_t len = 1; len <= 20; len++) {
        nop_site(&f, len);
        CHECK(f.dst[16 + len] == 0xcc, "fill of %u overran", len);
        CHECK(f.dst[16] == 0x90 || f.dst[16] == 0x66 || f.dst[16] == 0x0f, "len %u starts 0x%02x",
              len, f.dst[16]);
    }
    nop_site(&f, 9);
    CHECK(f.dst[16] == 0x0f && f.dst[17] == 0x1f && f.dst[18] == 0x84 && f.dst[24] == 0x90,
          "9 bytes = nop8 + nop1");
}

static void expect_error(struct fixture *f, const char *what, const char *needle)
{
    const struct alt_cpu all = {true, true, true};
    struct vdsokit_error err = {{0}};
    int rc = fx_apply(f, &all, NULL, &err);

    CHECK(rc == -1 && strstr(err.msg, needle), "%s: rc %d, message \"%s\" lacks \"%s\"", what, rc,
          err.msg, needle);
}

static void test_errors(void)
{
    const struct alt_cpu all = {true, true, true};
    struct fixture f;
    struct vdsokit_error err;

    fx_init(&f);
    fx_add(&f, 250, 8, RDTSCP, 3, X86_FEATURE_RDTSCP, 0);
    expect_error(&f, "site past the end", "instrlen 8 runs past");

    fx_init(&f);
    fx_add(&f, 16, 2, RDTSCP, 3, X86_FEATURE_RDTSCP, 0);
    expect_error(&f, "replacement longer than site", "replacementlen 3 exceeds instrlen 2");

    fx_init(&f);
    fx_add(&f, 16, 5, RDTSCP, 3, X86_FEATURE_RDTSCP, 0);
    put32(f.src + TAB, (uint32_t)-1000);
    expect_error(&f, "negative site", "instr_offset -1000");

    fx_init(&f);
    fx_add(&f, 16, 5, RDTSCP, 3, X86_FEATURE_RDTSCP, 0);
    put32(f.src + TAB + 4, 0x7fffffff);
    expect_error(&f, "replacement outside", "repl_offset");

    fx_init(&f);
    memcpy(f.dst, f.src, IMG);
    CHECK(alt_apply(f.l, f.src, f.dst, IMG, TAB, 13, &all, NULL, &err) == -1 &&
              strstr(err.msg, "not a multiple of"),
          "table size 13: %s", err.msg);
    CHECK(alt_apply(f.l, f.src, f.dst, IMG, 250, f.l->entry_size, &all, NULL, &err) == -1 &&
              strstr(err.msg, "outside"),
          "table past the end: %s", err.msg);
}

static void test_foreign_cpu(void)
{
    const struct alt_cpu lfence = {false, false, true};
    struct fixture f;
    struct vdsokit_error err = {{0}};

    fx_init(&f);
    memcpy(f.src + 32, RDPID, 4); /* patched on a CPU with RDPID */
    fx_add(&f, 32, 4, RDPID, 4, X86_FEATURE_RDPID, 0);
    CHECK(fx_apply(&f, &lfence, NULL, &err) == -1 && strstr(err.msg, "patched for another CPU"),
          "rdpid left in place on a CPU without it: \"%s\"", err.msg);
}

/* Which era each kernel version falls in, and the version syntax. */
static void test_versions(void)
{
    static const struct {
        uint32_t version;
        const char *era; /* NULL: none */
    } cases[] = {
        {0x0601c0, "x86-6.1"}, {0x0602ff, "x86-6.1"}, {0x060300, "x86-6.3"},
        {0x060c75, "x86-6.3"}, {0x06122c, "x86-6.3"}, {0x050a00, NULL},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct alt_layout *l = alt_layout_for_version(cases[i].version);
        CHECK(cases[i].era ? l && !strcmp(l->name, cases[i].era) : l == NULL,
              "0x%06x: era %s, want %s", cases[i].version, l ? l->name : "none",
              cases[i].era ? cases[i].era : "none");
    }
    CHECK(alt_parse_version("6.1") == 0x060100, "6.1");
    CHECK(alt_parse_version("6.1.192") == 0x0601c0, "6.1.192");
    CHECK(alt_parse_version("6.12.300") == 0x060cff, "patch clamped to 255");
    CHECK(alt_parse_version("0x060c75") == 0x060c75, "hex");
    CHECK(alt_parse_version("6") == 0 && alt_parse_version("6.x") == 0 &&
              alt_parse_version("6.1.2.3") == 0 && alt_parse_version("") == 0 &&
              alt_parse_version("6.256") == 0,
          "malformed versions give 0");
}

/*
 * One entry per era written byte by byte as the kernel's assembler emits
 * it (the site 0x40 and replacement 0x80 of a 256-byte image, the table at
 * 0x20), decoded field by field. 6.1: u16 cpuid 0x8072 = ALT_NOT(3*32+18);
 * 6.3: u32 ft_flags 0x00010282 = ALT_NOT(20*32+2).
 */
static void test_decode_by_hand(void)
{
    static const uint8_t e61[12] = {0x20, 0, 0, 0, 0x5c, 0, 0, 0, 0x72, 0x80, 5, 3};
    static const uint8_t e63[14] = {0x20, 0, 0, 0, 0x5c, 0, 0, 0, 0x82, 0x02, 1, 0, 5, 3};
    static const struct {
        const char *era;
        const uint8_t *bytes;
        size_t len;
        uint16_t feature;
    } cases[] = {{"x86-6.1", e61, sizeof e61, 3 * 32 + 18},
                 {"x86-6.3", e63, sizeof e63, 20 * 32 + 2}};
    uint8_t img[IMG] = {0};
    struct alt_entry e;
    struct vdsokit_error err;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct alt_layout *l = era(cases[i].era);
        memcpy(img + 0x20, cases[i].bytes, cases[i].len);
        CHECK(l->entry_size == cases[i].len, "%s: entry size %u", l->name, l->entry_size);
        CHECK(alt_entry_read(l, img, IMG, 0x20, cases[i].len, 0, &e, &err) == 0, "%s: %s", l->name,
              err.msg);
        CHECK(e.where == 0x20 && e.site == 0x40 && e.repl == 0x80 && e.site_len == 5 &&
                  e.repl_len == 3,
              "%s: where 0x%llx site 0x%llx repl 0x%llx lens %u/%u", l->name,
              (unsigned long long)e.where, (unsigned long long)e.site, (unsigned long long)e.repl,
              e.site_len, e.repl_len);
        CHECK(e.feature == cases[i].feature && e.feature == l->lfence_rdtsc &&
                  e.flags == ALT_FLAG_NOT,
              "%s: feature %u:%u flags 0x%x", l->name, e.feature / 32, e.feature % 32, e.flags);
    }
}

/* A 6.1 table (7 entries: 84 bytes, a multiple of 12 and of 14) under each era. */
static void test_mismatch_and_infer(void)
{
    const struct alt_layout *old = era("x86-6.1"), *new = era("x86-6.3"), *got = NULL;
    const struct alt_cpu all = {true, true, true};
    struct fixture f;
    struct vdsokit_error err = {{0}};
    int rc;

    fx_era = old;
    fx_init(&f);
    for (int i = 0; i < 7; i++)
        fx_add(&f, 16, 5, RDTSCP, 3, old->rdtscp, 0);
    fx_era = NULL;
    CHECK(alt_layout_infer(f.src, IMG, TAB, 84, &got, &err) == 0 && got == old,
          "a 6.1 table infers %s: %s", got ? got->name : "none", err.msg);
    memcpy(f.dst, f.src, IMG);
    rc = alt_apply(new, f.src, f.dst, IMG, TAB, 84, &all, NULL, &err);
    CHECK(rc == -1 && (strstr(err.msg, "instr_offset") || strstr(err.msg, "repl_offset") ||
                       strstr(err.msg, "replacementlen") || strstr(err.msg, "instrlen")),
          "the 6.1 table under the 6.3 layout: rc %d, \"%s\" names no field", rc, err.msg);
    printf("6.1 entries forced under %s: %s\n", new->name, err.msg);

    fx_init(&f); /* 6.3 entries: 6 of 14 bytes = 84 bytes too */
    for (int i = 0; i < 6; i++)
        fx_add(&f, 16, 5, RDTSCP, 3, new->rdtscp, 0);
    got = NULL;
    CHECK(alt_layout_infer(f.src, IMG, TAB, 84, &got, &err) == 0 && got == new,
          "a 6.3 table infers %s: %s", got ? got->name : "none", err.msg);

    memset(f.src + TAB, 0xff, 84); /* no era decodes all-ones offsets and lengths */
    CHECK(alt_layout_infer(f.src, IMG, TAB, 84, &got, &err) == -1 &&
              strstr(err.msg, "no layout decodes"),
          "garbage: \"%s\"", err.msg);
}

static bool cpuinfo_has(const char *flag)
{
    FILE *fp = fopen("/proc/cpuinfo", "r");
    char line[8192], word[64];
    bool has = false;

    snprintf(word, sizeof word, " %s ", flag);
    while (fp && fgets(line, sizeof line, fp))
        if (!strncmp(line, "flags", 5)) {
            line[strcspn(line, "\n")] = ' ';
            has = strstr(line, word) != NULL;
            break;
        }
    if (fp)
        fclose(fp);
    return has;
}

static void test_detect(void)
{
    struct alt_cpu cpu;

    alt_cpu_detect(&cpu);
    printf("this CPU: rdtscp %d rdpid %d lfence_rdtsc %d\n", cpu.rdtscp, cpu.rdpid,
           cpu.lfence_rdtsc);
    CHECK(cpu.rdtscp == cpuinfo_has("rdtscp"), "rdtscp %d vs /proc/cpuinfo", cpu.rdtscp);
    CHECK(cpu.rdpid == cpuinfo_has("rdpid"), "rdpid %d vs /proc/cpuinfo", cpu.rdpid);
    CHECK(cpu.lfence_rdtsc, "every x86-64 CPU has SSE2, so LFENCE_RDTSC");
}

/* The kernel patched its own vDSO for this CPU at boot. */
static void test_live(void)
{
    const struct alt_cpu all = {true, true, true};
    struct loader_prepared p, rich, back;
    struct vdsokit_error err;
    const void *live;
    size_t size;
    uint8_t *copy;

    if (loader_live_image(&live, &size, &err)) {
        printf("no live vDSO: %s\n", err.msg);
        return;
    }
    CHECK(loader_prepare(live, size, NULL, &p, &err) == 0, "%s", err.msg);
    if (!p.text)
        return;
    CHECK(p.has_alt && p.alt.entries > 0, "live vDSO has %u alternatives", p.alt.entries);
    CHECK(memcmp(p.text, live, p.image_size) == 0, "re-applying for this CPU gives the live bytes");
    printf("live vDSO: %u entries, %u applied, %u absent, %u unknown\n", p.alt.entries,
           p.alt.applied, p.alt.skipped_absent, p.alt.skipped_unknown);

    /* Patch for a CPU with everything, then for this CPU again. */
    CHECK(loader_prepare(live, size, &all, &rich, &err) == 0, "%s", err.msg);
    copy = malloc(size);
    memcpy(copy, live, size);
    memcpy(copy, rich.text, rich.image_size);
    struct alt_cpu here;
    alt_cpu_detect(&here);
    if (here.rdpid) {
        CHECK(loader_prepare(copy, size, NULL, &back, &err) == 0, "%s", err.msg);
        CHECK(back.text && memcmp(back.text, live, p.image_size) == 0,
              "rich -> this CPU restores the live bytes");
        loader_prepared_free(&back);
    } else {
        /* The rdtsc sites come back; the RDPID-only getcpu site cannot. */
        CHECK(loader_prepare(copy, size, NULL, &back, &err) == -1 &&
                  strstr(err.msg, "patched for another CPU"),
              "an image patched for RDPID is refused here: \"%s\"", err.msg);
    }
    free(copy);
    loader_prepared_free(&rich);
    loader_prepared_free(&p);
}

int main(void)
{
    unsigned n;
    const struct alt_layout *eras = alt_layouts(&n);

    CHECK(n >= 2, "%u eras", n);
    for (unsigned i = 0; i < n; i++) {
        fx_era = &eras[i];
        printf("era %s: %s\n", fx_era->name, fx_era->what);
        test_order_and_padding();
        test_flags_and_unknown();
        test_nops();
        test_errors();
        test_foreign_cpu();
    }
    fx_era = NULL;
    test_versions();
    test_decode_by_hand();
    test_mismatch_and_infer();
    test_detect();
    test_live();
    return check_finish();
}
