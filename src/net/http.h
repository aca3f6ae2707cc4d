/* http — the HTTP server plumbing on libevent's evhttp (DESIGN §4 HTTP).
 *
 * What lives here is transport, not meaning: binding a listening socket
 * (which addresses may be bound is the caller's policy, DESIGN §5), TLS,
 * keep-alive, input
 * bounds (a body over the cap gets 413 from evhttp, headers over theirs
 * 400), a cap on connections (503 beyond it), idle timeouts, a routing
 * table of exact paths (404 for an unknown path, 405 with `Allow` for a
 * method the route does not take), credentials (`Authorization: Bearer …`
 * or `?token=…`, 401 without one or with a wrong one) and JSON replies.
 * What an endpoint answers is src/api's business.
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
struct evhttp_request;
struct evkeyvalq;
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
 * the call). The handler must answer req (http_reply_*) or take it over
 * (an SSE stream) before it returns. */
typedef void (*http_handler_fn)(void *arg, struct evhttp_request *req,
                                const struct evkeyvalq *query);

struct http_route {
    /* Exact path, e.g. "/events"; one ending in a slash and an asterisk
     * serves every path under that prefix (e.g. "/api/v1/tasks/" + "*"
     * serves "/api/v1/tasks/T-1/claim"). */
    const char *path;
    unsigned methods;    /* HTTP_METHOD_* bits the route accepts */
    bool public;         /* true: no credential needed (liveness) */
    http_handler_fn run; /* called with http_config.arg */
};

/* Decide whether a presented credential (not NUL-terminated) is valid;
 * must compare in constant time. */
typedef bool (*http_authorize_fn)(void *arg, const char *cred, size_t len);

struct http_config {
    struct http_addr addr;
    size_t max_body;                 /* bytes; larger bodies get 413 */
    size_t max_headers;              /* bytes of request line + headers */
    size_t max_connections;          /* connections with a request served; 503 beyond */
    int idle_timeout_s;              /* idle keep-alive / slow request cut-off */
    const struct http_route *routes; /* borrowed: must outlive the server */
    size_t nroutes;
    http_authorize_fn authorize; /* required when a route is not public */
    void *arg;                   /* for authorize and every handler */
    /* Borrowed, must outlive the server; NULL: plain HTTP. Every
     * connection then starts with a TLS handshake (net/tls.h); a peer
     * that does not complete one is closed without an answer. */
    struct tls_context *tls;
};

/* Counters for metrics. */
struct http_stats {
    size_t connections;    /* open, counted connections */
    uint64_t requests;     /* requests routed (any status) */
    uint64_t rejected;     /* connections refused at the cap */
    uint64_t unauthorized; /* 401 answers */
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

/* ---- replies (handlers) -------------------------------------------------- */

/* Answer with body as compact JSON (takes body; NULL sends `null`).
 * Adds Content-Type: application/json and Cache-Control: no-store. */
void http_reply_json(struct evhttp_request *req, int status, cJSON *body);
/* Answer {"error":{"code":code,"message":message}} with status. */
void http_reply_error(struct evhttp_request *req, int status, const char *code,
                      const char *message);
/* Answer 405 with an Allow header listing the allowed HTTP_METHOD_* bits. */
void http_reply_not_allowed(struct evhttp_request *req, unsigned allowed);
/* The HTTP_METHOD_* bit of req's method (0 for one the server does not know). */
unsigned http_request_method(struct evhttp_request *req);
/* Answer a text body of len bytes with the given content type. */
void http_reply_text(struct evhttp_request *req, int status, const char *content_type,
                     const char *body, size_t len);

/* ---- connection hooks (streams) ------------------------------------------ */

/* Call cb(arg) once when the connection carrying req goes away (peer
 * closed, I/O error, timeout, server freed). NULL cb removes the hook.
 * When cb runs, evhttp has either detached req from the connection (the
 * caller then owns req and frees it with evhttp_request_free; see
 * http_request_detached) or is about to free req itself. req must have
 * come through the router (its connection is tracked). */
void http_request_on_close(struct http_server *s, struct evhttp_request *req, void (*cb)(void *arg),
                           void *arg);
/* While req awaits its answer, notice the peer leaving: evhttp 2.1 does
 * not read a connection whose request is being answered, so a client that
 * hangs up would go unseen until the answer is written. A one-shot read
 * watch on the socket closes the connection on EOF or error, which runs
 * req's on_close hook (set it first: without one this does nothing). The
 * watch ends with the hook (http_request_on_close with cb NULL, as an
 * answer does) or the connection. */
void http_request_watch_peer(struct http_server *s, struct evhttp_request *req);
/* True when evhttp no longer associates req with a connection. */
bool http_request_detached(struct evhttp_request *req);

#endif
