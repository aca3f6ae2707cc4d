/* rest_args — turning a REST request's URL into tool arguments (pure).
 *
 * Query parameters become the arguments of the tool the endpoint twins,
 * typed by that tool's inputSchema: an `integer`/`number` property takes
 * a decimal number, a `boolean` one `true`/`false`, an `array` one a
 * comma-separated list of strings, a `string` one the text as is; a
 * property typed ["integer","string"] (wait_for_events' since) stays a
 * string. A parameter the schema does not know is an error, except the
 * credential `token`. Endpoint paths with variable segments
 * (`tasks/{taskId}/claim`, `locks/{file*}`) are matched here too. No I/O; unit tested in
 * tests/unit/test_rest_args.c. */
#ifndef COORDHUB_API_REST_ARGS_H
#define COORDHUB_API_REST_ARGS_H

#include <cjson/cJSON.h>

#include "base/err.h"

struct evkeyvalq;

/* A query parameter that carries an argument of another name: check_lock's
 * fencing token is `fencingToken` in a URL, since `token` is the credential. */
struct rest_alias {
    const char *param; /* the query parameter */
    const char *arg;   /* the argument it becomes */
};

/* Convert the decoded query q into an arguments object (*out, caller
 * owns) per input_schema (JSON text of a tool's inputSchema); alias (may
 * be NULL) renames one parameter, and its argument's own name is then
 * refused. On error returns -ERR_INVALID, *out is NULL and *msg (caller
 * frees) names the parameter: "query parameter 'ttl': must be an
 * integer". A parameter given twice is an error. */
COORDHUB_MUST_CHECK int rest_query_args(const char *input_schema, const struct evkeyvalq *q,
                                        const struct rest_alias *alias, cJSON **out, char **msg);

/* Match path (after "/api/v1/", undecoded) against pattern: segments
 * split at '/'; a literal segment matches itself, "{name}" one non-empty
 * segment, "{name*}" (last only) the non-empty rest of the path, slashes
 * included. Returns the captures as an object {name: percent-decoded
 * value} (caller owns; {} when there are none), or NULL when path does
 * not match. A capture with a malformed escape, an encoded NUL, or in a
 * single segment an encoded '/', does not match. */
cJSON *rest_path_match(const char *pattern, const char *path);

#endif
