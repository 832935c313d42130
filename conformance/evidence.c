/*
 * Evidence terms: parsing, canonical merging and the value formats checks
 * use (see evidence.h). Small fixed arrays: a failure records a handful of
 * terms.
 */
#define _GNU_SOURCE
#include "evidence.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct term {
    char key[48];
    char value[CONF_EV_LEN_MAX];
};

struct terms {
    struct term t[CONF_EV_TERMS_MAX];
    unsigned n;
};

bool ev_term_valid(const char *term)
{
    const char *eq = strchr(term, '=');

    if (!eq || eq == term || !islower((unsigned char)term[0]) || !eq[1])
        return false;
    for (const char *s = term; s < eq; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_' && *s != '.')
            return false;
    for (const char *s = eq + 1; *s; s++)
        if (isspace((unsigned char)*s) || !isprint((unsigned char)*s))
            return false;
    return (size_t)(eq - term) < sizeof(((struct term *)0)->key);
}

static int add(struct terms *ts, const char *key, size_t klen, const char *value, size_t vlen)
{
    for (unsigned i = 0; i < ts->n; i++) {
        struct term *t = &ts->t[i];
        if (strlen(t->key) != klen || strncmp(t->key, key, klen) != 0)
            continue;
        /* Already there (alone or as one of the joined values)? */
        for (const char *v = t->value; v;) {
            size_t n = strcspn(v, ",");
            if (n == vlen && strncmp(v, value, vlen) == 0)
                return 0;
            v = v[n] ? v + n + 1 : NULL;
        }
        size_t have = strlen(t->value);
        if (have + 1 + vlen >= sizeof(t->value))
            return -1;
        t->value[have] = ',';
        memcpy(t->value + have + 1, value, vlen);
        t->value[have + 1 + vlen] = 0;
        return 0;
    }
    if (ts->n == CONF_EV_TERMS_MAX || klen >= sizeof(ts->t[0].key) ||
        vlen >= sizeof(ts->t[0].value))
        return -1;
    struct term *t = &ts->t[ts->n++];
    memcpy(t->key, key, klen);
    t->key[klen] = 0;
    memcpy(t->value, value, vlen);
    t->value[vlen] = 0;
    return 0;
}

static int parse(struct terms *ts, const char *s)
{
    char tok[CONF_EV_LEN_MAX + 64];

    while (s && *s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        size_t n = 0;
        while (s[n] && !isspace((unsigned char)s[n]))
            n++;
        if (n >= sizeof(tok))
            return -1;
        memcpy(tok, s, n);
        tok[n] = 0;
        s += n;
        if (!ev_term_valid(tok))
            return -1;
        const char *eq = strchr(tok, '=');
        if (add(ts, tok, (size_t)(eq - tok), eq + 1, strlen(eq + 1)) != 0)
            return -1;
    }
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct term *)a)->key, ((const struct term *)b)->key);
}

static int format(struct terms *ts, char *buf, size_t len)
{
    size_t used = 0;

    qsort(ts->t, ts->n, sizeof(ts->t[0]), by_key);
    buf[0] = 0;
    for (unsigned i = 0; i < ts->n; i++) {
        int w =
            snprintf(buf + used, len - used, "%s%s=%s", i ? " " : "", ts->t[i].key, ts->t[i].value);
        if (w < 0 || (size_t)w >= len - used)
            return -1;
        used += (size_t)w;
    }
    return 0;
}

int ev_canonical(const char *terms, char *buf, size_t len)
{
    static struct terms ts; /* the runner is single-threaded */

    ts.n = 0;
    if (parse(&ts, terms) != 0)
        return -1;
    return format(&ts, buf, len);
}

int ev_merge(char **canon, const char *terms)
{
    static struct terms ts; /* the runner is single-threaded */
    char buf[CONF_EV_LEN_MAX];

    ts.n = 0;
    if (parse(&ts, *canon) != 0 || parse(&ts, terms) != 0 || format(&ts, buf, sizeof(buf)) != 0)
        return -1;
    char *copy = strdup(buf);
    if (!copy)
        return -1;
    free(*canon);
    *canon = copy;
    return 0;
}

void ev_ret(char *buf, size_t len, long ret)
{
    const char *name = ret < 0 && ret > -4096 ? strerrorname_np((int)-ret) : NULL;

    if (name)
        snprintf(buf, len, "-%s", name);
    else
        snprintf(buf, len, "%ld", ret);
}

void ev_ts(char *buf, size_t len, const struct timespec *ts)
{
    snprintf(buf, len, "%lld.%09ld", (long long)ts->tv_sec, ts->tv_nsec);
}
