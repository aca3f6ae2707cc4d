/* rest_args — turning a REST request's URL into tool arguments (pure).
 *
 * Query parameters become the arguments of the tool the endpoint twins,
 * typed by that tool's inputSchema: an `integer`/`number` property takes
 * a decimal number, a `boolean` one `true`/`false`, an `array` one a
 * comma-separated list of strings, a `string` one the text as is; a
 * property typed ["integer","string"] (wait_for_events' since) stays a
 * string. A parameter the schema does not know is an error, except the
 * credential `token`. Task action paths `/api/v1/tasks/{id}/{action}`
 * are split here too. No I/O; unit tested in tests/unit/test_rest_args.c. */
#ifndef COORDHUB_API_REST_ARGS_H
#define COORDHUB_API_REST_ARGS_H

#include <cjson/cJSON.h>

#include "base/err.h"

struct evkeyvalq;

/* Convert the decoded query q into an arguments object (*out, caller
 * owns) per input_schema (JSON text of a tool's inputSchema). On error
 * returns -ERR_INVALID, *out is NULL and *msg (caller frees) names the
 * parameter: "query parameter 'ttl': must be an integer". A parameter
 * given twice is an error. */
COORDHUB_MUST_CHECK int rest_query_args(const char *input_schema, const struct evkeyvalq *q,
                                        cJSON **out, char **msg);

/* Split `rest` (the path after "/api/v1/tasks/", undecoded) into a task id
 * (percent-decoded, *id caller frees) and an action, one of "claim",
 * "complete", "release" (*action points to a static string). Returns 0,
 * or -ERR_NOT_FOUND when rest is not "<id>/<action>" with a non-empty id
 * free of '/' and NUL, or the action is not one of those. */
COORDHUB_MUST_CHECK int rest_task_path(const char *rest, char **id, const char **action);

#endif
