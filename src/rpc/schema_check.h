/* schema_check — a validator for the JSON-Schema subset the tool schemas
 * use, with messages written for the agent that sent the arguments.
 *
 * Supported keywords: type (a name or an array of names: object, array,
 * string, integer, number, boolean, null), enum, minimum, maximum,
 * minLength, maxLength (in code points), pattern, properties, required,
 * additionalProperties (boolean or schema), maxProperties, items,
 * minItems, maxItems, and the annotations description, title, default,
 * examples. One vendor keyword, `x-exactlyOneOf: [names]`, says exactly one
 * of the named properties must be present; it replaces a root-level oneOf,
 * which several MCP clients reject, and tools_to_json() strips it before a
 * schema is published. Keywords apply only to values of their type
 * (minimum to numbers, pattern to strings), as in JSON Schema.
 *
 * pattern uses the anchored subset of schema_pattern.h.
 * schema_check_supported() rejects any other keyword or pattern syntax, so
 * a schema can never rely on something the validator ignores.
 *
 * Validation of an argument object treats a member whose value is null as
 * absent (clients commonly send null for optional arguments). */
#ifndef COORDHUB_RPC_SCHEMA_CHECK_H
#define COORDHUB_RPC_SCHEMA_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "rpc/schema_pattern.h"

/* Validate the arguments object args (NULL = {}) against schema. On
 * failure returns false and sets *msg (caller frees) to e.g.
 * "argument 'ttl': must be an integer between 1 and 86400",
 * "unknown argument 'fiel'", "missing required argument 'title'" or
 * "arguments must be an object". */
bool schema_check_args(const cJSON *schema, const cJSON *args, char **msg);

/* Validate any value (e.g. a tool result against its outputSchema). The
 * message names the failing location as "value", "value.locks[0].file", … */
bool schema_check_value(const cJSON *schema, const cJSON *value, char **msg);

/* True when schema uses only the keywords and pattern syntax above (and
 * x-exactlyOneOf names declared properties); otherwise false with *msg
 * (caller frees) naming the offending keyword. */
bool schema_check_supported(const cJSON *schema, char **msg);

#endif
