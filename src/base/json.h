/* json — small helpers over cJSON used across layers.
 *
 * Parsing of peer input goes through json_parse_bounded(), which enforces
 * the size, UTF-8 and nesting-depth limits of docs/security.md ("Input
 * limits") before cJSON sees the bytes. Accessors return defaults instead
 * of crashing on wrong types.
 *
 * cJSON allocates through the project's xmalloc (aborting on OOM) once a
 * program has called json_use_xmalloc(); every program does, first thing:
 * the coordhub executable in main(), the tests and fuzz drivers through
 * what cmake/tests.cmake builds into each (tests/support/json_hooks.c,
 * fuzz/driver_init.c). */
#ifndef COORDHUB_BASE_JSON_H
#define COORDHUB_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"

#define JSON_MAX_DEPTH 64

/* Make cJSON allocate with xmalloc (so it never returns NULL for want of
 * memory: the process aborts, as everywhere else) and free with free();
 * text cJSON returns is still freed with free(). Call before any other
 * cJSON call and before any thread starts; calling it again is harmless. */
void json_use_xmalloc(void);

/* Why json_parse_checked() refused a text (a value type the caller
 * embeds). */
struct json_error {
    int err;           /* 0 (parsed), -ERR_PARSE, -ERR_TOO_LARGE or -ERR_INVALID */
    size_t offset;     /* byte offset in the text of the fault (0 for bad UTF-8) */
    char message[128]; /* what and where, e.g. "string contains U+0000 at offset 17" */
};

/* Parse n bytes as one JSON value, refusing what every face refuses
 * (docs/security.md, "Input limits"):
 *   -ERR_PARSE     not UTF-8, a raw NUL byte, not JSON, text after the value;
 *   -ERR_TOO_LARGE nested deeper than max_depth (checked before cJSON
 *                  recurses);
 *   -ERR_INVALID   well-formed JSON the project does not take: a string
 *                  (a key too) holding U+0000 ("\u0000"; an escaped
 *                  backslash followed by "u0000" is not one), or an object
 *                  with two members of one key (compared decoded).
 * Returns the value (caller owns) or NULL with *je filled: its message
 * names the offset, e.g. "duplicate key \"file\" at offset 31". Never
 * NULL je. */
cJSON *json_parse_checked(const char *p, size_t n, int max_depth, struct json_error *je);

/* json_parse_checked() giving only the error code in *err. */
cJSON *json_parse_bounded(const char *p, size_t n, int max_depth, int *err);

/* For a text json_parse_checked() refused with -ERR_INVALID (well-formed,
 * but with a U+0000 or a duplicate key): a copy (caller owns) of the
 * top-level object's member key when the text has it exactly once and it
 * is a scalar without U+0000, else NULL. Lets a JSON-RPC refusal echo the
 * request's id. Error path only: it parses the text again. */
cJSON *json_refused_member(const char *p, size_t n, const char *key);

/* Accessors: the member's value if present with the right type, else dflt.
 * json_get_i64 truncates a fraction toward zero and gives dflt for a
 * number outside int64_t (converting it would be undefined); it also
 * reads the raw integer json_add_u64 writes for large values. */
const char *json_get_str(const cJSON *obj, const char *key, const char *dflt);
int64_t json_get_i64(const cJSON *obj, const char *key, int64_t dflt);
bool json_get_bool(const cJSON *obj, const char *key, bool dflt);

/* Serialise compactly; caller frees with free(). Never NULL. */
char *json_print(const cJSON *v);
/* The same followed by a newline: one line of the newline-delimited
 * framing (the hub socket, stdio). No copy of the text is left in freed
 * memory (control lines carry the admin token) when it is at most
 * JSON_PRINT_PREBUFFER bytes: it is printed into one buffer of that size,
 * wiped after the copy; a longer text grows by copying, each smaller
 * buffer freed as it is. Caller frees. */
#define JSON_PRINT_PREBUFFER 1024
char *json_print_line(const cJSON *v);
/* Add a u64, printed as its exact decimal digits whatever its size: a
 * number up to JSON_U64_NUMBER_MAX (cJSON prints those exactly), above it
 * a raw node holding the digits (a double would print 10^15 as "1e+15"
 * and 2^64 - 1 as "1.8446744073709552e+19"). json_get_i64 reads both. */
#define JSON_U64_NUMBER_MAX 999999999999999ULL
cJSON *json_add_u64(cJSON *obj, const char *key, uint64_t v);
/* Add an ISO-8601 timestamp string for ms since epoch. */
cJSON *json_add_time(cJSON *obj, const char *key, int64_t ms);
/* The largest integer a JSON number (an IEEE double) holds exactly, 2^53:
 * the bound of seqs, tokens and priorities read back from JSON. */
#define JSON_EXACT_INT_MAX ((int64_t)1 << 53)
/* True when v is a number with an integral value in [lo, hi]. */
bool json_is_int_in(const cJSON *v, int64_t lo, int64_t hi);

#endif
