/* api — the hub's HTTP face (docs/http-api.md, docs/security.md): the
 * routes, the admin token check and the endpoint modules wired onto one
 * HTTP server.
 *
 *   GET /healthz   liveness, the only route without a credential
 *   GET /          index of the endpoints
 *   GET /status    the coordination status (status.c)
 *   GET /events    the event log as Server-Sent Events (events_sse.c)
 *   GET /metrics   Prometheus text (metrics.c)
 *   /mcp           Streamable HTTP MCP: POST, GET, DELETE (mcp_http.c)
 *   POST /events   publish one event or an array (events_post.c)
 *   /api/v1/…      REST twins of the tools (rest.c)
 *
 * Every other route needs a credential as `Authorization: Bearer …` or
 * `?token=…`: the admin token (every right) or an API key (auth/keys.h:
 * its rights, its rate limit; docs/security.md has the table), compared
 * in constant time. No credential, a wrong or a revoked one: 401; a key
 * outside its rights: 403 `forbidden`; over its rate: 429 `rate_limited`
 * with Retry-After. POST /events may be signed (auth/sign.h). With a
 * certificate and key the face speaks HTTPS only (net/tls.h). A
 * non-loopback address is served only when the hub says remote clients
 * can be held to API keys (api_config.remote_allowed, docs/security.md);
 * api_bind_check is that rule.
 *
 * The face reads hub state through `struct api_host` (the hub sits above
 * this layer) and the bus and store directly. */
#ifndef COORDHUB_API_API_H
#define COORDHUB_API_API_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "api/mcp_http.h"
#include "api/metrics.h"
#include "base/err.h"

struct event_base;
struct bus;
struct store;
struct api;
struct keys;
struct keys_key;

/* Who a tool call of the HTTP face runs as (struct api_host.call). */
struct api_caller {
    /* The admin token or an `admin` key: the workspace owner, acting for
     * any agent. Otherwise a key below `admin`: a caller that is not
     * admin and whose agent is the agentId the call names, held to the
     * core's ownership rules like that agent's own session. */
    bool admin;
    /* The verified X-Coordhub-Signature of a POST /events event, recorded
     * with the event (borrowed for the call), or NULL. */
    const char *signature;
};

struct api_host {
    void *arg;
    /* The coordination status (the coord://status object); caller owns;
     * NULL if it cannot be built. */
    cJSON *(*status)(void *arg);
    /* For GET /healthz: the store's health object while it is away
     * ({status, reason, since, …}; caller owns), or NULL when it is
     * healthy. May be NULL (never degraded). */
    cJSON *(*store_down)(void *arg);
    /* The hub's figures for /metrics. */
    void (*stats)(void *arg, struct metrics_hub *out);
    /* Run tool `name` with args (taken) as who says, through the same
     * path as an MCP tools/call (group commit: answered after the store
     * has the events). done(done_arg, result, is_error) runs exactly once,
     * now or in a later loop turn, and takes result; it does not run once
     * the face is freed (api_free), which the hub calls before it drops
     * calls in flight. See src/api/rest.h. */
    void (*call)(void *arg, const struct api_caller *who, const char *name, cJSON *args,
                 void (*done)(void *done_arg, cJSON *result, bool is_error), void *done_arg);
    /* The client of the calls made with done_arg went away: cancel those
     * still waiting to start their work (a queued lock request leaves its
     * queue and is never granted), as a closing MCP connection or
     * notifications/cancelled does. True when none of them is left, so no
     * done(done_arg, …) will run; false when some still will (their work
     * is done or under way: the answer is due after the group commit).
     * May be NULL (nothing is cancelled: every done still runs). */
    bool (*cancel)(void *arg, void *done_arg);
};

/* The verdict on an address (docs/security.md, "Threat model"). */
enum api_bind_verdict {
    API_BIND_OK,       /* loopback, or non-loopback with keys and TLS */
    API_BIND_INSECURE, /* non-loopback with keys but without TLS: served, with a warning */
    API_BIND_DENIED,   /* non-loopback without any API key: refused */
};

/* Pure: may the face listen on an address that is (not) loopback, given
 * whether remote clients can be held to API keys and whether TLS is on? */
enum api_bind_verdict api_bind_check(bool loopback, bool remote_allowed, bool tls);

struct api_config {
    const char *addr;         /* HOST:PORT (see http_addr_parse) */
    const char *tls_cert;     /* PEM certificate chain file, or NULL: plain HTTP */
    const char *tls_key;      /* PEM private key file; set exactly when tls_cert is */
    bool remote_allowed;      /* at least one unrevoked API key exists */
    const char *token;        /* the admin token (copied as a digest) */
    struct keys *keys;        /* API keys (borrowed, outlives the face); NULL: none */
    struct bus *bus;          /* committed events */
    struct store *store;      /* the log, for history older than the bus ring */
    const char *workspace;    /* copied */
    const char *version;      /* copied */
    int64_t sse_heartbeat_ms; /* 0: 15000 */
    struct api_host host;
    struct mcp_http_host mcp;     /* the hub side of /mcp sessions; open NULL: no /mcp */
    int64_t mcp_idle_ms;          /* idle HTTP MCP session lifetime; 0: 30 min */
    size_t mcp_max_sessions;      /* HTTP MCP sessions at once; 0: 1024 */
    size_t mcp_key_sessions;      /* of them, per API key; 0: a quarter */
    size_t mcp_reserved_sessions; /* of them, the admin token's only; 0: a sixteenth */
    /* Caps the hub fitted to its descriptor limit (docs/operations.md,
     * "Descriptors"); 0: the defaults below. */
    size_t max_connections; /* HTTP connections (the quotas follow it) */
    size_t sse_max_clients; /* open GET /events streams */
    int header_timeout_ms;  /* HTTP header deadline; 0: 10 s */
};

/* The caps' defaults: what a hub whose descriptor limit is large enough
 * serves. */
#define API_MAX_CONNECTIONS 1024 /* HTTP connections */
#define API_SSE_MAX_CLIENTS 512  /* open /events streams */

/* Bind and serve. On error *out is NULL, *errmsg (caller frees) says why
 * and the result is -ERR_INVALID (bad address, empty token, only one of
 * tls_cert/tls_key, or a certificate/key that is not usable or does not
 * match), -ERR_DENIED (a non-loopback address without remote_allowed;
 * judged before anything is bound), -errno of reading the TLS files or of
 * the bind (-EADDRINUSE when the port is taken). */
COORDHUB_MUST_CHECK int api_new(struct event_base *base, const struct api_config *cfg,
                                struct api **out, char **errmsg);
/* End every stream, close every connection and the listener. NULL ok. */
void api_free(struct api *a);
/* Key k was just revoked: close the event streams and /mcp sessions it
 * opened (its next request is refused by the store already). NULL ok. */
void api_key_revoked(struct api *a, const struct keys_key *k);
/* The bound address, "127.0.0.1:7420" (the kernel's port when 0 was asked). */
const char *api_address(const struct api *a);
/* "https" when the face speaks TLS, else "http". */
const char *api_scheme(const struct api *a);
/* True when the face listens on a non-loopback address without TLS, so
 * credentials cross the network in clear (API_BIND_INSECURE). */
bool api_insecure(const struct api *a);

#endif
