/* mcp_http — the Streamable HTTP transport of MCP at `/mcp` (MCP
 * 2025-11-25, also 2025-06-18 and 2025-03-26; docs/http-api.md).
 *
 * One HTTP session carries one MCP session whose engine lives in the hub
 * (struct mcp_http_host): this module only moves messages.
 *
 *   POST /mcp    one JSON-RPC message. `initialize` opens a session and its
 *                answer carries `MCP-Session-Id` (32 random bytes, hex);
 *                every other message must carry that header (400 without
 *                it, 404 for a session that is unknown or ended). A request
 *                is held until the engine sends the response with its id —
 *                the loop never waits for it — and answered `200
 *                application/json`, or, when it may wait long or reports
 *                progress (mcp_http_check_streamed), as an SSE stream
 *                (mcp_http_reply.c: priming event on 2025-11-25, progress
 *                for its token, the response, an orderly end; resumable).
 *                A notification or a response gets 202. In a session at
 *                2025-03-26 the body may be a batch, answered the same way
 *                with one array (a cancelled member left out; all of them
 *                cancelled: an SSE answer ends with no message, a JSON one
 *                gets an array of -32800 errors); other sessions refuse
 *                batches with 400.
 *   GET /mcp     the session's stream of server→client messages (Server-
 *                Sent Events, numbered ids). Messages sent while no stream
 *                is open are kept in a bounded per-session replay buffer;
 *                a stream resumes after `Last-Event-ID`, or without it
 *                from the first message no stream has carried. With a
 *                `Last-Event-ID` of an SSE answer ("r<k>-<n>") it resumes
 *                that answer instead.
 *   DELETE /mcp  ends the session (then 404).
 *
 * Checks (mcp_http_check.h), in order, after the credential (http.c,
 * api.c): on a loopback bind `Host` must name the bound address,
 * localhost, 127.0.0.1 or [::1] with the bound port (403; DNS rebinding),
 * on another bind be well-formed; a present `Origin` must be a loopback
 * origin or, on a non-loopback bind, the hub's own as Host names it (403);
 * `Accept` must list application/json and text/event-stream for POST, or
 * text/event-stream for GET (406); a present `MCP-Protocol-Version` outside
 * the supported revisions is refused (400).
 *
 * Quotas, checked when `initialize` would open a session: an API key (a
 * non-NULL principal) holds at most key_sessions (429 beyond), all keys
 * together at most max_sessions - reserved_sessions (503 beyond), so the
 * admin token (NULL) always finds the reserve free; it is refused only
 * when max_sessions are open (503). Each refusal is a JSON-RPC error
 * naming the quota, its limit and how many the caller holds (data
 * {"quota","limit","held"}).
 *
 * A session ends on DELETE, at teardown, or after idle_ms without a request
 * while no stream is open and no request is held; the host then detaches
 * it like a closed socket session. */
#ifndef COORDHUB_API_MCP_HTTP_H
#define COORDHUB_API_MCP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http_request;
struct http_server;
struct mcp_http;
struct mcp_http_session;

/* The hub side of HTTP sessions. */
struct mcp_http_host {
    void *arg;
    /* A new session opened by principal (the credential, as the face
     * passed it to mcp_http_handle): return the host's handle for it
     * (opaque, not NULL), or NULL to refuse it (too many sessions: the
     * client gets 503). The host delivers the engine's output with
     * mcp_http_session_send(hs). */
    void *(*open)(void *arg, struct mcp_http_session *hs, const void *principal);
    /* Feed one JSON-RPC message (len bytes, not NUL-terminated). */
    void (*handle)(void *arg, void *sess, const char *msg, size_t len);
    /* The session ended: the host must not call mcp_http_session_send for
     * it any more. Never called from inside handle. */
    void (*close)(void *arg, void *sess);
};

struct mcp_http_config {
    struct event_base *base;
    struct http_server *http; /* the server whose requests reach us */
    struct mcp_http_host host;
    int64_t idle_ms;          /* idle session lifetime; 0: 30 min */
    size_t max_sessions;      /* 0: 1024 */
    size_t key_sessions;      /* sessions one API key may hold; 0: max_sessions / 4 */
    size_t reserved_sessions; /* of max_sessions, only the admin token's; 0: max / 16 */
    size_t replay_max;        /* messages kept per session; 0: 256 */
    int64_t heartbeat_ms;     /* GET stream comment interval; 0: none */
    int64_t retry_ms;         /* `retry:` of the GET stream; 0: not sent */
    size_t max_pending;       /* bytes queued on a GET stream before a cut */
    int write_timeout_s;      /* GET stream peer that takes nothing */
};

/* Never NULL. */
struct mcp_http *mcp_http_new(const struct mcp_http_config *cfg);
/* End every session (host close runs for each), answer held requests with
 * 503 and end the streams. Call before the HTTP server is freed. NULL ok. */
void mcp_http_free(struct mcp_http *m);
/* The route handler of /mcp (GET, POST, DELETE). principal (opaque, may
 * be NULL) is who sends req: a session belongs to the principal that
 * opened it, and a request naming it with another one gets 403. */
void mcp_http_handle(struct mcp_http *m, struct http_request *req, const void *principal);
/* End every session principal opened (a revoked credential): its held
 * requests are answered with the JSON-RPC error -32001 "unauthorized
 * (401): the credential of this MCP session was revoked; …" — with HTTP
 * status 401 when answered in JSON; an SSE answer, whose 200 has gone,
 * ends with that error as its last message — and the host's close runs
 * for each. */
void mcp_http_end_principal(struct mcp_http *m, const void *principal);

/* The engine's output for hs: a response (or a batch's array) answers the
 * held request with its id (dropped when none is held); a progress
 * notification goes to the SSE answer of the request with its token;
 * anything else goes to the GET stream and the replay buffer. */
void mcp_http_session_send(struct mcp_http_session *hs, const char *msg, size_t len);

#endif
