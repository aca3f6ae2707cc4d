/* mcp_http_internal — what mcp_http.c (sessions, requests, the GET
 * stream) and mcp_http_reply.c (SSE responses to POSTs) share. Not for
 * use outside these two files; internal names carry the mcp_http__
 * prefix. */
#ifndef COORDHUB_API_MCP_HTTP_INTERNAL_H
#define COORDHUB_API_MCP_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "api/mcp_http.h"
#include "base/map.h"

struct event;
struct http_request;
struct sse_stream;

#define MCP_HTTP_REPLY_KEEP 32    /* messages kept per response stream */
#define MCP_HTTP_FINISHED_KEEP 16 /* answered response streams kept per session */

/* One message of the GET stream's replay ring. */
struct mcp_http_replay {
    uint64_t id;
    char *frame; /* owned: the encoded SSE frame */
    size_t len;
};

/* One message of a response stream, kept for resumption. */
struct mcp_http_frame {
    uint64_t n;  /* its number within the stream */
    char *frame; /* owned: the encoded SSE frame */
    size_t len;
};

/* An SSE response to one POST (a request, or a batch holding requests):
 * its messages numbered from 1 (0 is the priming event), the newest
 * MCP_HTTP_REPLY_KEEP - 1 notifications and the response kept, so a
 * client whose connection broke resumes it by GET with Last-Event-ID. */
struct mcp_http_rstream {
    struct mcp_http_session *hs;
    uint64_t k;              /* its number within the session, from 1 */
    struct sse_stream *conn; /* the connection carrying it now, or NULL */
    struct mcp_http_frame frames[MCP_HTTP_REPLY_KEEP];
    size_t nframes;
    uint64_t next_n;               /* the number the next message gets */
    bool finished;                 /* the response is the last of frames */
    struct mcp_http_rstream *next; /* in hs->rstreams, newest first */
};

/* A POST whose answer is awaited: a request, or a batch with requests. */
struct mcp_http_held {
    struct mcp_http_session *hs;
    struct http_request *req; /* JSON answer: the request; SSE: NULL */
    char **keys;              /* owned: compact JSON of each request id */
    size_t nkeys;
    size_t nlive;  /* keys[0, nlive) are awaited (in hs->held); the rest were cancelled */
    bool batch;    /* a JSON-RPC batch, answered with an array whatever its size */
    char **tokens; /* owned: compact JSON of each progressToken */
    size_t ntokens;
    bool initialize;             /* the answer opens or fails the session */
    struct mcp_http_rstream *rs; /* SSE: its response stream, else NULL */
};

struct mcp_http_session {
    struct mcp_http *m;
    const void *principal; /* the credential that opened it; only it may use it */
    char id[65];
    char version[16]; /* negotiated revision, "" until initialize is answered */
    void *host_sess;
    struct map held;              /* key → struct mcp_http_held (owned; a batch under each key) */
    struct sse_stream *stream;    /* the GET stream */
    struct mcp_http_replay *ring; /* replay_max slots */
    size_t ring_start, ring_len;
    uint64_t next_event_id;            /* the id the next GET-stream message gets */
    uint64_t delivered;                /* highest id a stream took */
    int64_t last_active_ms;            /* monotonic */
    struct mcp_http_rstream *rstreams; /* owned, newest first */
    uint64_t next_rstream;             /* the number the next one gets */
};

struct mcp_http {
    struct mcp_http_config cfg;
    struct map sessions; /* id text → struct mcp_http_session (owned) */
    struct event *idle_ev;
};

/* mcp_http.c */
int64_t mcp_http__now_ms(void);
/* Answer req with a JSON-RPC error (id null) as the body of status. */
void mcp_http__reply_rpc_error(struct http_request *req, int status, int code, const char *message);
/* The same with the id to echo, as jsonrpc_id_to_wire writes it (NULL
 * or one that is not an id: null). */
void mcp_http__reply_rpc_error_id(struct http_request *req, int status, int code,
                                  const char *message, const cJSON *id);

/* mcp_http_reply.c */
/* Take req over as a new response stream of hs: the SSE head, then on
 * 2025-11-25 the priming event (id "r<k>-0", empty data) carrying
 * `retry:`, on older revisions `retry:` alone. Never NULL. */
struct mcp_http_rstream *mcp_http__rstream_open(struct mcp_http_session *hs,
                                                struct http_request *req);
/* Send msg (len bytes) on rs as its next message, kept for resumption
 * (a notification only while there is room). final: msg is the response;
 * the stream is then finished and its connection ended in order. */
void mcp_http__rstream_push(struct mcp_http_rstream *rs, const char *msg, size_t len, bool final);
/* Finish rs without a response (its request was cancelled): the
 * connection, if any, ends in order. */
void mcp_http__rstream_finish(struct mcp_http_rstream *rs);
/* Drop answered streams beyond MCP_HTTP_FINISHED_KEEP, oldest first. */
void mcp_http__rstreams_trim(struct mcp_http_session *hs);
/* GET with Last-Event-ID "r<k>-<n>": resume stream k after message n on
 * req; answer req 204 when stream k is answered and nothing follows n, 400
 * when hs keeps no such stream or it never sent that message. */
void mcp_http__rstream_resume(struct mcp_http_session *hs, struct http_request *req, uint64_t k,
                              uint64_t n);
/* True when a connection carries one of hs's response streams. */
bool mcp_http__rstreams_connected(const struct mcp_http_session *hs);
/* Free every response stream of hs (connections dropped, no callbacks). */
void mcp_http__rstreams_free(struct mcp_http_session *hs);

#endif
