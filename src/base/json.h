/* json — small helpers over cJSON used across layers.
 *
 * Parsing of peer input goes through json_parse_bounded(), which enforces
 * the size, UTF-8 and nesting-depth limits of DESIGN §5 before cJSON sees
 * the bytes. Accessors return defaults instead of crashing on wrong types. */
#ifndef COORDHUB_BASE_JSON_H
#define COORDHUB_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"

#define JSON_MAX_DEPTH 64

/* Parse n bytes as one JSON value. Checks UTF-8 validity and depth
 * (<= max_depth) first. On error returns NULL and sets *err to
 * -ERR_PARSE (not JSON / not UTF-8) or -ERR_TOO_LARGE (too deep). */
cJSON *json_parse_bounded(const char *p, size_t n, int max_depth, int *err);

/* Accessors: the member's value if present with the right type, else dflt.
 * json_get_i64 truncates a fraction toward zero and gives dflt for a
 * number outside int64_t (converting it would be undefined). */
const char *json_get_str(const cJSON *obj, const char *key, const char *dflt);
int64_t json_get_i64(const cJSON *obj, const char *key, int64_t dflt);
bool json_get_bool(const cJSON *obj, const char *key, bool dflt);

/* Serialise compactly; caller frees with free(). Never NULL. */
char *json_print(const cJSON *v);
/* Add a u64 as a number (exact up to 2^53, which seq never reaches). */
cJSON *json_add_u64(cJSON *obj, const char *key, uint64_t v);
/* Add an ISO-8601 timestamp string for ms since epoch. */
cJSON *json_add_time(cJSON *obj, const char *key, int64_t ms);
/* True when v is a number with an integral value in [lo, hi]. */
bool json_is_int_in(const cJSON *v, int64_t lo, int64_t hi);

#endif
