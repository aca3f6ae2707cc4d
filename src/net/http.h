/* http — the hub's own HTTP/1.1 server on libevent bufferevents
 * (docs/architecture.md, docs/http-api.md).
 *
 * What lives here is transport, not meaning: binding a listening socket
 * (which addresses may be bound is the caller's policy), TLS, keep-alive,
 * a strict request parser (net/http_parse.h), input bounds (413 for a body
 * over the cap, 414/431 for a request line/head over theirs), a cap on
 * connections with quotas below it (503 naming the quota), deadlines
 * (header, body, idle keep-alive), backpressure (one request at a time,
 * bounded unread input), a routing table of paths (404 for an unknown
 * path, 405 with `Allow` for a method the route does not take),
 * credentials (`Authorization: Bearer …` or `?token=…`, 401 without one
 * or with a wrong one, decided on the head before any body byte is read)
 * and replies. Every error the server produces itself is JSON
 * `{"error":{"code":…,"message":…}}`. What an endpoint answers is
 * src/api's business.
 *
 * With a TLS context in the config every connection is HTTPS (tls.h).
 *
 * The pure parts (address and credential parsing) do no I/O and are unit
 * tested on their own. Nothing here logs a credential or a query string:
 * request logs carry the method and the path only. */
#ifndef COORDHUB_NET_HTTP_H
#define COORDHUB_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "base/err.h"

struct event_base;
struct evkeyvalq;
struct http_request;
struct http_server;
struct tls_context;

/* ---- addresses (pure) ---------------------------------------------------- */

struct http_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    uint16_t port; /* 0 = ephemeral */
    bool loopback; /* 127.0.0.0/8 or ::1 */
    char text[64]; /* "127.0.0.1:7420", "[::1]:7420" */
};

/* Parse "HOST:PORT" where HOST is an IPv4 literal, a bracketed IPv6
 * literal or "localhost" (127.0.0.1); a bare "PORT" means 127.0.0.1:PORT.
 * PORT is 0–65535 (0: the kernel picks one). Returns 0, or -ERR_INVALID
 * with *why (static text) saying what is wrong. Resolves no names. */
int http_addr_parse(const char *text, struct http_addr *out, const char **why);

/* Fill out from a bound socket address (from getsockname). 0 or
 * -ERR_INVALID for a family other than IPv4/IPv6. */
int http_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct http_addr *out);

/* ---- credentials (pure) -------------------------------------------------- */

/* The token of an `Authorization` header value "Bearer <token>" (scheme
 * case-insensitive, spaces around the token ignored): *tok points into
 * value, *len its length. Returns false when value is not a Bearer
 * credential or the token is empty. */
bool http_bearer_parse(const char *value, const char **tok, size_t *len);

/* ---- the server ---------------------------------------------------------- */

enum http_method {
    HTTP_METHOD_GET = 1 << 0,
    HTTP_METHOD_POST = 1 << 1,
    HTTP_METHOD_PUT = 1 << 2,
    HTTP_METHOD_DELETE = 1 << 3,
    HTTP_METHOD_HEAD = 1 << 4,
    HTTP_METHOD_OPTIONS = 1 << 5,
    HTTP_METHOD_PATCH = 1 << 6,
};

/* A route handler. query holds the decoded query parameters (borrowed for
 * the call; evhttp_find_header and TAILQ_FOREACH read it). The handler
 * must answer req (http_reply_*), or take it over (a stream:
 * http_reply_start), or hold it and answer later, with an on_close hook
 * set (http_request_on_close) before it returns. */
typedef void (*http_handler_fn)(void *arg, struct http_request *req, const struct evkeyvalq *query);

struct http_route {
    /* Exact path, e.g. "/events"; one ending in a slash and an asterisk
     * serves every path under that prefix (e.g. "/api/v1/tasks/" + "*"
     * serves "/api/v1/tasks/T-1/claim"). */
    const char *path;
    unsigned methods; /* HTTP_METHOD_* bits the route accepts */
    bool public;      /* true: no credential needed (liveness) */
    /* true: answered on the overflow connections accepted beyond
     * max_connections too (the liveness probe); false: 503 there. */
    bool overflow;
    http_handler_fn run; /* called with http_config.arg */
};

/* What a credential is. */
enum http_auth {
    HTTP_AUTH_INVALID = 0, /* not a valid credential: 401 */
    HTTP_AUTH_KEY,         /* a valid credential other than the admin token */
    HTTP_AUTH_ADMIN,       /* the admin token: may use the reserved connections */
};

/* Decide whether a presented credential (not NUL-terminated) is valid;
 * must compare in constant time. *identity is set to who it is (an API
 * key's record; NULL for the admin token): the connection quota per
 * credential counts connections by it, and handlers read it back with
 * http_request_identity(). */
typedef enum http_auth (*http_authorize_fn)(void *arg, const char *cred, size_t len,
                                            const void **identity);

struct http_config {
    struct http_addr addr;
    size_t max_body;        /* bytes; larger bodies get 413 */
    size_t max_headers;     /* bytes of request line + headers: 431 beyond */
    size_t max_line;        /* bytes of the request line: 414 beyond; 0: 8 KiB */
    size_t max_connections; /* open connections; see docs/http-api.md "Limits" */
    /* Quotas below the cap; 0 picks the default (docs/http-api.md):
     * overflow  connections beyond the cap that may still ask the
     *           overflow routes (liveness): max_connections/32 in 16..64;
     * unauth    connections per peer address that have not presented a
     *           valid credential yet: max_connections/4;
     * per_cred  connections of one credential: max_connections/4;
     * reserve   the last slots below the cap, for the admin token only:
     *           max_connections/16. */
    size_t overflow, unauth_per_peer, per_credential, admin_reserve;
    int idle_timeout_s;              /* idle keep-alive; also the write timeout of an answer */
    int header_timeout_ms;           /* from a head's first byte (or accept) to its end; 0: 10 s */
    int body_timeout_ms;             /* from the end of a head to the end of its body; 0: 30 s */
    const struct http_route *routes; /* borrowed: must outlive the server */
    size_t nroutes;
    http_authorize_fn authorize; /* required when a route is not public */
    void *arg;                   /* for authorize and every handler */
    /* Borrowed, must outlive the server; NULL: plain HTTP. Every
     * connection then starts with a TLS handshake (net/tls.h); a peer
     * that does not complete one by the header deadline is closed
     * without an answer. */
    struct tls_context *tls;
};

/* Counters for metrics. */
struct http_stats {
    size_t connections;       /* open connections (every accepted one counts) */
    uint64_t requests;        /* requests routed (any status) */
    uint64_t rejected;        /* connections or requests refused by the cap or a quota */
    uint64_t unauthorized;    /* 401 answers */
    uint64_t timeouts;        /* connections closed at a header or body deadline */
    uint64_t malformed;       /* requests refused by the parser (400, 411, 414, 431, 501, 505) */
    uint64_t accept_failures; /* accept() failed for want of descriptors (net/listener.h) */
    uint64_t dropped;         /* silent connections closed for a new one at the full cap */
};

/* Bind cfg->addr and serve on base. On error *out is NULL, *errmsg
 * (caller frees) says why, and the result is -errno from socket/bind/
 * listen (-EADDRINUSE: the port is taken) or -ERR_INVALID. Refusing
 * non-loopback addresses is the caller's policy, not checked here. */
COORDHUB_MUST_CHECK int http_server_new(struct event_base *base, const struct http_config *cfg,
                                        struct http_server **out, char **errmsg);
/* Close every connection (their close hooks run) and the listener. NULL
 * ok. Callers end their streams first. */
void http_server_free(struct http_server *s);
/* The address actually bound (the kernel's port when 0 was asked). */
const struct http_addr *http_server_addr(const struct http_server *s);
/* True when the server speaks HTTPS (a TLS context in its config). */
bool http_server_tls(const struct http_server *s);
void http_server_stats(const struct http_server *s, struct http_stats *out);

/* ---- requests (handlers) ------------------------------------------------- */

/* The HTTP_METHOD_* bit of req's method. */
unsigned http_request_method(const struct http_request *req);
/* The path of the target, as sent (not percent-decoded), without the
 * query; never NULL. */
const char *http_request_path(const struct http_request *req);
/* The value of request header name (case-insensitive; trimmed), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);
/* The body (len bytes, NUL-terminated for convenience; "" when empty). */
const char *http_request_body(const struct http_request *req, size_t *len);
/* The peer's address text ("127.0.0.1:53211"). */
const char *http_request_peer(const struct http_request *req);
/* Who the request's credential is (see http_authorize_fn): an API key's
 * record, or NULL for the admin token and for a public route asked
 * without a credential. */
const void *http_request_identity(const struct http_request *req);
/* Add a response header (before the answer). Values with CR or LF are
 * dropped. */
void http_request_add_header(struct http_request *req, const char *name, const char *value);
/* Remove every response header called name. */
void http_request_remove_header(struct http_request *req, const char *name);

/* ---- replies ------------------------------------------------------------- */

/* Answer with body as compact JSON (takes body; NULL sends `null`).
 * Adds Content-Type: application/json and Cache-Control: no-store. */
void http_reply_json(struct http_request *req, int status, cJSON *body);
/* Answer {"error":{"code":code,"message":message}} with status. */
void http_reply_error(struct http_request *req, int status, const char *code, const char *message);
/* Answer 405 with an Allow header listing the allowed HTTP_METHOD_* bits. */
void http_reply_not_allowed(struct http_request *req, unsigned allowed);
/* Answer a text body of len bytes with the given content type. */
void http_reply_text(struct http_request *req, int status, const char *content_type,
                     const char *body, size_t len);
/* Answer status without a body (202, 204). */
void http_reply_empty(struct http_request *req, int status);

/* An answer of unknown length (a stream): the head goes at once (chunked
 * for HTTP/1.1; for HTTP/1.0 the body runs to the connection's end), then
 * http_reply_chunk per piece, then http_reply_end. While it streams the
 * connection has no idle timeout; write_timeout_s (0: none) cuts a peer
 * that takes nothing for that long, and input the peer sends meanwhile
 * is kept up to the read bound, not parsed. */
void http_reply_start(struct http_request *req, int status, int write_timeout_s);
/* Queue len bytes of a started answer. 0, or -ERR_STATE when req is not
 * streaming (answered, or its connection is gone). */
int http_reply_chunk(struct http_request *req, const void *data, size_t len);
/* End a started answer in order; the connection goes on with its next
 * request (HTTP/1.1) once it is written. req must not be used again. */
void http_reply_end(struct http_request *req);
/* Bytes of req's connection not yet taken by the peer. */
size_t http_request_pending(const struct http_request *req);
/* Call cb(arg) each time everything queued on a streaming req has been
 * written (room for more). NULL cb removes it. */
void http_request_on_written(struct http_request *req, void (*cb)(void *arg), void *arg);

/* ---- connection hooks (held requests, streams) --------------------------- */

/* Call cb(arg) once when the connection carrying req goes away before req
 * is answered (peer closed, I/O error, write timeout, server freed, or
 * http_request_close). req is freed right after cb returns: cb must not
 * keep it. NULL cb removes the hook; answering removes it too. While req
 * awaits its answer the server keeps reading its connection (up to the
 * read bound) without parsing it, so a peer that hangs up is noticed at
 * once. */
void http_request_on_close(struct http_request *req, void (*cb)(void *arg), void *arg);
/* Drop req's connection now: no orderly end of the answer (a cut-off
 * stream tells its peer so). Runs the on_close hook if one is set; req is
 * freed and must not be used again. */
void http_request_close(struct http_request *req);

#endif
