/* schema_pattern — anchored regular-expression subset for JSON-Schema
 * `pattern`: `^…$` around a sequence of literal characters, escaped ASCII
 * punctuation and bracket classes (ranges, escapes, '-' first or last),
 * each optionally followed by ?, *, +, {n}, {n,} or {n,m}. Anything else
 * (alternation, groups, '.', \d, negated classes, unanchored patterns) is
 * reported as unsupported rather than guessed at. */
#ifndef COORDHUB_RPC_SCHEMA_PATTERN_H
#define COORDHUB_RPC_SCHEMA_PATTERN_H

#include <stddef.h>

/* Match the n bytes at s against pattern: 1 match, 0 no match, -1 the
 * pattern uses unsupported syntax. */
int schema_pattern_match(const char *pattern, const char *s, size_t n);

#endif
