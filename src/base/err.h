/* err — the project's error codes and their one mapping table.
 *
 * Functions return 0 on success or a negative ERR_* (or -errno) value
 * (docs/code-style.md, "Errors are negative codes"). err_to_jsonrpc() and
 * err_to_http() are the single table that maps internal errors to JSON-RPC
 * codes and HTTP statuses (docs/code-style.md, "One error table"). */
#ifndef COORDHUB_BASE_ERR_H
#define COORDHUB_BASE_ERR_H

#define COORDHUB_MUST_CHECK __attribute__((warn_unused_result))

enum err_code {
    ERR_OK = 0,
    ERR_INVALID = 1000, /* malformed or out-of-range input */
    ERR_NOT_FOUND,      /* named object does not exist */
    ERR_CONFLICT,       /* compare-and-append saw another version */
    ERR_BUSY,           /* resource held by someone else */
    ERR_DENIED,         /* caller lacks the right */
    ERR_TOO_LARGE,      /* input exceeds a cap */
    ERR_PARSE,          /* bytes are not valid JSON / UTF-8 */
    ERR_STORE,          /* the store failed; nothing was recorded */
    ERR_UNAVAILABLE,    /* dependency (store, hub) is unreachable */
    ERR_STATE,          /* call not allowed in the current state */
    ERR_TIMEOUT,        /* deadline passed */
    ERR_CANCELLED,      /* request was cancelled */
    ERR_INTERNAL,       /* a bug: should never be seen */
    ERR_MAX_
};

/* Text for an error code: ERR_* or errno, positive or negative. Never NULL. */
const char *coordhub_strerror(int err);
/* JSON-RPC error code for an internal error (e.g. ERR_INVALID → -32602). */
int err_to_jsonrpc(int err);
/* HTTP status for an internal error (e.g. ERR_NOT_FOUND → 404). */
int err_to_http(int err);
/* Stable lower-case name used in JSON error objects ("invalid_argument"). */
const char *err_name(int err);

#endif
