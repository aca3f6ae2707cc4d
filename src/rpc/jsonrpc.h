/* jsonrpc — JSON-RPC 2.0 framing, classification and message building.
 *
 * Nothing here does I/O (docs/code-style.md, "Pure layers do no I/O").
 * Three independent pieces:
 *
 *   framer   — splits a newline-delimited byte stream (stdio, the hub's
 *              Unix socket) into messages. A message longer than the cap
 *              (JSONRPC_MAX_MESSAGE by default) is never buffered: the
 *              framer reports JSONRPC_FRAME_OVERSIZE once, then discards
 *              bytes up to the next newline, so memory stays bounded by
 *              the cap whatever the peer sends. The caller answers the
 *              oversize event with -32600 (id null) and keeps serving.
 *   classify — parses one message with json_parse_bounded() (UTF-8, depth
 *              <= JSON_MAX_DEPTH) and sorts a parsed value into request,
 *              notification, response, batch, or invalid with the error
 *              code and id the answer must carry.
 *   build    — compact JSON text for results, errors and notifications.
 *
 * Request ids are what MCP allows: a string or an integer. Integer ids
 * are accepted within ±(2^53 - 1), written as plain integers (no
 * fraction, exponent or "-0"), so they round-trip exactly through a
 * double and are echoed as sent. Any other number as an id is refused
 * (-32600) at once rather than rewritten: a double cannot keep the text
 * of 9007199254740993 or tell 1e2 from 100, and answering either under
 * another id would leave the client's request unanswered. jsonrpc_parse
 * keeps the text of such ids (jsonrpc_keep_id_text) so the refusal echoes
 * an integer one exactly; one that is not an integer (0.5, 1e2) is
 * answered with id null, as it is not an id a client can have meant. */
#ifndef COORDHUB_RPC_JSONRPC_H
#define COORDHUB_RPC_JSONRPC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/buf.h"

#define JSONRPC_MAX_MESSAGE ((size_t)1 << 20)  /* bytes, docs/security.md */
#define JSONRPC_MAX_BATCH 1024                 /* elements in one batch */
#define JSONRPC_MAX_SAFE_ID 9007199254740991.0 /* 2^53 - 1 */
/* The refusal of a request whose id is not one (every transport). */
#define JSONRPC_ID_REFUSED                                                                         \
    "Invalid Request: \"id\" must be a string or an integer from -(2^53 - 1) to 2^53 - 1 "         \
    "written plainly (no fraction, exponent or -0)"

/* Standard JSON-RPC and MCP error codes. */
#define JSONRPC_PARSE_ERROR (-32700)
#define JSONRPC_INVALID_REQUEST (-32600)
#define JSONRPC_METHOD_NOT_FOUND (-32601)
#define JSONRPC_INVALID_PARAMS (-32602)
#define JSONRPC_INTERNAL_ERROR (-32603)
#define JSONRPC_RESOURCE_NOT_FOUND (-32002) /* MCP */

/* ---- framer ---------------------------------------------------------- */

enum jsonrpc_frame {
    JSONRPC_FRAME_NEED_MORE = 0, /* input exhausted; call again with more bytes */
    JSONRPC_FRAME_MESSAGE,       /* *msg and *len hold one complete line */
    JSONRPC_FRAME_OVERSIZE,      /* a line passed the cap; answer -32600 */
};

struct jsonrpc_framer {
    struct buf line; /* owned: the partial line carried between feeds */
    size_t max;      /* cap on one message, bytes, excluding the newline */
    bool discarding; /* inside an oversize line: drop up to the next '\n' */
    bool delivered;  /* line holds a message handed out by the last call */
};

/* Initialise a framer whose messages may be at most max bytes
 * (0: JSONRPC_MAX_MESSAGE). */
void jsonrpc_framer_init(struct jsonrpc_framer *f, size_t max);
/* Release the framer's buffer. NULL ok. */
void jsonrpc_framer_deinit(struct jsonrpc_framer *f);

/* Consume input from *data and *n (both advanced past what was used) until one
 * event is found or the input is exhausted. On JSONRPC_FRAME_MESSAGE,
 * *msg and *len are the line without its "\n" (or "\r\n"); it points into the
 * caller's input or into the framer and stays valid until the next call
 * on this framer or until the caller's input is released, whichever comes
 * first. Lines that are empty or only whitespace are skipped. An oversize
 * line is reported once, as soon as it passes the cap; its remaining
 * bytes are dropped silently. Call repeatedly until NEED_MORE. */
enum jsonrpc_frame jsonrpc_framer_next(struct jsonrpc_framer *f, const char **data, size_t *n,
                                       const char **msg, size_t *len);
/* At end of stream: an unterminated final line is returned as a message
 * (the framer is then empty). NEED_MORE when nothing is pending. */
enum jsonrpc_frame jsonrpc_framer_finish(struct jsonrpc_framer *f, const char **msg, size_t *len);
/* Bytes currently buffered (a partial line). */
size_t jsonrpc_framer_pending(const struct jsonrpc_framer *f);

/* ---- classification --------------------------------------------------- */

enum jsonrpc_kind {
    JSONRPC_KIND_INVALID = 0, /* answer with code/message and id (may be NULL) */
    JSONRPC_KIND_REQUEST,
    JSONRPC_KIND_NOTIFICATION,
    JSONRPC_KIND_RESPONSE, /* a result or error sent by the peer */
    JSONRPC_KIND_BATCH,    /* a non-empty array; classify each element */
};

/* The view of one message. Every pointer is borrowed from the cJSON value
 * that was classified. */
struct jsonrpc_msg {
    enum jsonrpc_kind kind;
    const cJSON *id;     /* request/response id; for INVALID, the id to echo (NULL → null) */
    const char *method;  /* requests and notifications */
    const cJSON *params; /* object or array, NULL when absent */
    int code;            /* INVALID: JSONRPC_PARSE_ERROR or JSONRPC_INVALID_REQUEST */
    const char *message; /* INVALID: text for the error (static, or in detail) */
    char detail[160];    /* jsonrpc_parse: a message composed for this input */
    cJSON *refused_id;   /* jsonrpc_parse: owned copy id points to, or NULL */
};

/* Parse n bytes as one JSON value with json_parse_checked()'s rules
 * (docs/security.md). Returns the value (caller owns) or NULL and fills
 * *out as INVALID: -32700 with a message saying why for bytes that are not
 * JSON (not JSON, invalid UTF-8, nested too deep); -32600 for well-formed
 * JSON the hub refuses ("Invalid Request: string contains U+0000 at offset
 * 41", "… duplicate key \"file\" at offset 30"), with out->id the
 * request's id when the text names one unambiguously. On NULL the caller
 * frees out->refused_id (cJSON_Delete; it may be NULL). */
cJSON *jsonrpc_parse(const char *p, size_t n, struct jsonrpc_msg *out);

/* Classify one parsed value. Arrays are BATCH when allow_batch and
 * non-empty with at most JSONRPC_MAX_BATCH elements; otherwise INVALID
 * (-32600). Returns out->kind. */
enum jsonrpc_kind jsonrpc_classify(const cJSON *v, bool allow_batch, struct jsonrpc_msg *out);

/* True when v is a valid request id: a string, or an integer with
 * |v| <= 2^53 - 1. A raw node (jsonrpc_keep_id_text) is never valid. */
bool jsonrpc_id_valid(const cJSON *v);
/* True when v is a refused integer id: a raw node whose text is an
 * integer literal outside what jsonrpc_id_valid takes (beyond
 * ±(2^53 - 1), or "-0"). A refusal echoes it as sent. */
bool jsonrpc_id_refused_integer(const cJSON *v);

/* In v, parsed from the n bytes at p (json_parse_checked or cJSON; one
 * message or a batch of them), replace every number standing as an id —
 * a message's "id", its params' "requestId" and its params._meta's
 * "progressToken" — whose text is not a plain integer within
 * ±(2^53 - 1) by a raw node (cJSON_Raw) holding that text as sent, so it
 * is refused, never taken for the integer its double rounds to. Other
 * numbers are left alone. Cost: one walk of the text up to the last such
 * id, nothing when no id is a number. */
void jsonrpc_keep_id_text(cJSON *v, const char *p, size_t n);
/* For a text json_parse_checked refused with -ERR_INVALID: the request's
 * id to echo (caller owns): a valid id, a refused integer id (raw), or
 * NULL when the text names none for certain or names another value. */
cJSON *jsonrpc_refused_id(const char *p, size_t n);
/* True when two valid ids are equal (same type and value). */
bool jsonrpc_id_equal(const cJSON *a, const cJSON *b);

/* ---- building ---------------------------------------------------------- */
/* Each returns compact JSON text the caller frees with free(). They never
 * fail (allocation failure aborts, docs/code-style.md). Ids are written as
 * jsonrpc_id_to_wire writes them: integers as plain integers, a refused
 * integer id as sent, NULL and any other id as null. */

/* {"jsonrpc":"2.0","id":id,"result":result}; result is taken (NULL → {}). */
char *jsonrpc_build_result(const cJSON *id, cJSON *result);
/* {"jsonrpc":"2.0","id":id,"error":{"code","message","data"?}}; data is
 * taken and may be NULL. */
char *jsonrpc_build_error(const cJSON *id, int code, const char *message, cJSON *data);
/* {"jsonrpc":"2.0","method":method,"params"?:params}; params is taken and
 * may be NULL (omitted). */
char *jsonrpc_build_notification(const char *method, cJSON *params);
/* The id as it goes on the wire (caller owns): a string, raw integer text
 * for integers, a refused integer id's text as sent, or null for other
 * (NULL, invalid) ids. Also used for progress tokens, which have the same
 * type. */
cJSON *jsonrpc_id_to_wire(const cJSON *id);
/* A deep copy of a valid id (caller owns); NULL for NULL or invalid ids. */
cJSON *jsonrpc_id_dup(const cJSON *id);

#endif
