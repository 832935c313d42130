/*
 * Structured failure evidence: the "key=value" terms a check records next
 * to its prose (got=0 res=0.000000001 want=-EINVAL), kept in a canonical
 * form (terms sorted by key, one space between them) so that a waiver can
 * compare them exactly instead of parsing prose. A key recorded twice with
 * different values keeps both, comma-joined in recording order; the same
 * value twice is kept once. Keys are [a-z0-9_.]+ starting with a letter;
 * values are non-empty and contain no white space.
 */
#ifndef VDSOCONF_EVIDENCE_H
#define VDSOCONF_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define CONF_EV_TERMS_MAX 24
#define CONF_EV_LEN_MAX   512

/* Is term one well-formed "key=value"? */
bool ev_term_valid(const char *term);

/*
 * Merge the white-space separated terms into *canon (NULL or a canonical
 * string, owned, reallocated). Returns 0, or -1 when a term is malformed
 * or the result would exceed the limits (*canon is then unchanged).
 */
int ev_merge(char **canon, const char *terms);

/* The canonical form of terms into buf; 0, or -1 as for ev_merge. */
int ev_canonical(const char *terms, char *buf, size_t len);

/* A return value as evidence: "0", "-EINVAL" (the errno's name), "-4242". */
void ev_ret(char *buf, size_t len, long ret);

/* A timespec as evidence: seconds with nine decimals, "0.000000001". */
void ev_ts(char *buf, size_t len, const struct timespec *ts);

#endif /* VDSOCONF_EVIDENCE_H */
