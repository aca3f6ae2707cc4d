/* mcp_internal — what mcp.c (session, framing, replies, host API) and
 * mcp_methods.c (request handlers) share. Not for use outside src/rpc:
 * the session stays opaque to hosts. Internal functions carry the mcp__
 * prefix (after libuv's uv__). */
#ifndef COORDHUB_RPC_MCP_INTERNAL_H
#define COORDHUB_RPC_MCP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "rpc/mcp.h"

#define MCP_VERSION_LATEST "2025-11-25"
#define MCP_VERSION_2025_06_18 "2025-06-18"
#define MCP_VERSION_2025_03_26 "2025-03-26"
#define MCP_DEFAULT_PAGE_SIZE 50
#define MCP_BATCH_OUTPUT_MAX ((size_t)16 << 20) /* bytes of one batch answer */
#define MCP_NAME_ECHO_MAX 128                   /* bytes of a peer name in a message */

/* A batch (2025-03-26 only) whose responses are collected into one array
 * and sent when every element, including asynchronous tool calls, has
 * been answered. */
struct mcp_batch {
    struct mcp_batch *next;
    struct buf out;   /* responses joined by ',' (capped) */
    size_t responses; /* responses in out */
    size_t pending;   /* tool calls of this batch not yet finished */
    bool sealed;      /* every element has been dispatched */
};

/* An in-flight tools/call. */
struct mcp_call {
    struct mcp_call *next;
    uint64_t call_id;
    cJSON *req_id;           /* owned: the request id */
    cJSON *progress_token;   /* owned: _meta.progressToken, or NULL */
    double last_progress;    /* progress must increase between notifications */
    bool progressed;         /* a progress notification was sent */
    struct mcp_batch *batch; /* collects the response, or NULL */
    /* Held while the client's roots are being listed (mcp_roots.c): the
     * tool and arguments to hand to the host once they are known. */
    char *held_name;  /* owned, NULL when not held */
    cJSON *held_args; /* owned */
};

/* A request the engine sent to the client, awaiting its response. */
typedef void (*mcp__answer_fn)(struct mcp_session *s, const cJSON *result, const cJSON *error);
struct mcp_out_req {
    struct mcp_out_req *next;
    uint64_t n;               /* its id on the wire: "coordhub-<n>" */
    mcp__answer_fn on_answer; /* called once with the response */
};

/* Requests to the client in flight at once; more are not sent. */
#define MCP_OUT_REQ_MAX 16

struct mcp_session {
    const struct mcp_host_ops *ops;
    void *host;
    char *server_name;    /* owned */
    char *server_version; /* owned */
    char *instructions;   /* owned */
    const char *version;  /* negotiated revision (static string), NULL before */
    cJSON *init_params;   /* owned: the client's initialize params */
    bool initialized;     /* initialize was answered (or resumed) */
    bool handshake_done;  /* ops->initialized has been called */
    enum mcp_log_level log_level;
    uint32_t subscribed; /* bit i: resource i of mcp_content_resources() */
    uint64_t last_call_id;
    size_t page_size;
    struct mcp_call *calls;
    struct mcp_batch *batches;
    void *userdata;
    struct mcp_out_req *out_reqs; /* owned: requests sent to the client */
    uint64_t last_out_req;
    size_t nout_reqs;
    /* MCP roots (mcp_roots.c). */
    bool roots_wanted;   /* the host asked for them: follow list_changed */
    bool roots_inflight; /* a roots/list is unanswered: tool calls are held */
    bool roots_again;    /* list_changed arrived meanwhile: ask once more */
};

/* One request being handled. */
struct mcp_req {
    const char *method;
    const cJSON *id;         /* valid request id (borrowed) */
    const cJSON *params;     /* object or NULL (borrowed) */
    struct mcp_batch *batch; /* NULL outside batches */
};

/* True for sessions on 2025-03-26, whose Tool, Resource, Prompt and
 * Implementation types lack title and Tool lacks outputSchema. */
bool mcp__legacy(const struct mcp_session *s);

/* Answer r: result is taken (NULL → {}); data is taken and may be NULL. */
void mcp__reply_result(struct mcp_session *s, const struct mcp_req *r, cJSON *result);
void mcp__reply_error(struct mcp_session *s, const struct mcp_req *r, int code, const char *message,
                      cJSON *data);
/* An error whose message is prefix followed by a peer-chosen name, cut to
 * MCP_NAME_ECHO_MAX bytes: "Method not found: " + method. */
void mcp__reply_error_name(struct mcp_session *s, const struct mcp_req *r, int code,
                           const char *prefix, const char *name);

/* Register a tools/call for r and return its record (owned by s). */
struct mcp_call *mcp__call_start(struct mcp_session *s, const struct mcp_req *r);
/* True when a tool call with this request id is in flight. */
bool mcp__call_id_in_use(const struct mcp_session *s, const cJSON *req_id);

/* Send a request to the client (params taken, may be NULL); on_answer
 * gets its response. false when MCP_OUT_REQ_MAX are in flight (nothing
 * sent). */
bool mcp__request(struct mcp_session *s, const char *method, cJSON *params, mcp__answer_fn fn);
/* Start the host's tools/call for a registered call record c. */
void mcp__call_dispatch(struct mcp_session *s, struct mcp_call *c, const char *name,
                        const cJSON *args);
/* Hand the held calls to the host, oldest first (mcp_roots.c). */
void mcp__calls_release(struct mcp_session *s);
/* notifications/roots/list_changed arrived (mcp_roots.c). */
void mcp__roots_list_changed(struct mcp_session *s);

/* Handle one classified request (mcp_methods.c). */
void mcp__dispatch(struct mcp_session *s, const struct mcp_req *r);
/* Negotiated revision for a requested one: the same when supported, else
 * MCP_VERSION_LATEST. */
const char *mcp__negotiate(const char *requested);
/* Call ops->initialized once. */
void mcp__handshake_complete(struct mcp_session *s);

#endif
