/* wildmatch — git's wildmatch with WM_PATHNAME, and pattern overlap.
 *
 * Syntax: `*` matches any run of bytes within one path segment, `?` one
 * byte other than '/', `[...]` a byte from a class (ranges `a-z`, negation
 * `[!...]` or `[^...]`, POSIX names `[:alpha:]`; a class never matches
 * '/'), `\x` the byte x literally. `**` as a whole segment (written
 * DS below, since the real spelling would end this comment) matches zero
 * or more segments: DS/x matches x at any depth, a/DS/b matches a/b,
 * a/x/b and a/x/y/b, and a trailing /DS everything below. A `**` that is not a
 * whole segment behaves as `*`. Matching is byte-wise and case-sensitive.
 *
 * Lease keys are already normalised (path.h), so patterns and paths are
 * relative, with no empty, "." or ".." segments. */
#ifndef COORDHUB_CORE_WILDMATCH_H
#define COORDHUB_CORE_WILDMATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* True when path matches pattern. An invalid pattern (see validate) is
 * matched with its unterminated '[' taken literally; it never crashes. */
bool wildmatch_match(const char *pattern, const char *path);

/* Check pattern syntax: 0, or -ERR_INVALID with *errmsg (caller frees):
 * unterminated character class, unknown [:class:], trailing backslash. */
COORDHUB_MUST_CHECK int wildmatch_validate(const char *pattern, char **errmsg);

/* Could some path match both a and b? Exact over byte strings (the
 * product of the two patterns' automata is searched), hence conservative
 * for real paths: it may say yes for an overlap that only strings such as
 * "a//b" realise, and never says no when a common path exists. Both
 * patterns must be valid. Cost O(len(a) * len(b)). */
bool wildmatch_overlap(const char *a, const char *b);

/* Number of leading bytes of pattern free of special characters: every
 * match of pattern starts with exactly these bytes (a cheap prefilter). */
size_t wildmatch_prefix_len(const char *pattern);

/* True when pattern has no special character (it matches only itself). */
bool wildmatch_is_literal(const char *pattern);

#endif
