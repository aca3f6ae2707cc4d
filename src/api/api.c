/* api — routes, access control and life cycle of the HTTP face.
 *
 * The admin token is kept only as its digest and checked in constant
 * time (auth/token.c); API keys likewise (auth/keys.c). Credentials are
 * never logged (http.c logs method and path only). http.c asks "is this
 * a credential?" (api_authorize, 401 if not); every handler then asks
 * "may it do this?" (api_admit: rate limit 429, rights 403).
 *
 * Invariant: events_sse is freed before the HTTP server, because its
 * streams own requests of the server's connections. */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api/events_sse.h"
#include "api/mcp_http.h"
#include "api/metrics.h"
#include "api/rest.h"
#include "api/status.h"
#include "auth/keys.h"
#include "auth/sign.h"
#include "auth/token.h"
#include "base/clock.h"
#include "base/str.h"
#include "base/buf.h"
#include "base/xmalloc.h"
#include "bus/bus.h"
#include "net/http.h"
#include "net/tls.h"

#define API_MAX_BODY (1024 * 1024)     /* docs/security.md, "Input limits" */
#define API_MAX_HEADERS (64 * 1024)    /* request line + headers */
#define API_IDLE_TIMEOUT_S 60          /* idle keep-alive, slow requests */
#define API_SSE_MAX_PENDING (4u << 20) /* queued bytes per subscriber */
#define API_SSE_HEARTBEAT_MS 15000     /* docs/http-api.md, "GET /events" */
#define API_SSE_RETRY_MS 3000          /* reconnect delay we ask for */
#define API_SSE_WRITE_TIMEOUT_S 60     /* a peer that takes nothing */
#define API_METRICS_MAX (1024 * 1024)

struct api {
    struct event_base *base;
    struct http_server *http;
    struct tls_context *tls; /* NULL: plain HTTP */
    bool insecure;           /* non-loopback without TLS */
    struct events_sse *sse;
    struct rest *rest;
    struct mcp_http *mcp; /* NULL when the hub serves no /mcp */
    struct api_host host;
    struct bus *bus;
    uint64_t bus_sub;
    struct token_digest token;
    struct keys *keys;          /* borrowed; NULL: only the admin token */
    struct sign_replay *replay; /* signatures seen inside the window (owned) */
    char *workspace;
    char *version;
    struct metrics_event_counts events;
};

/* "Who is this": the admin token (every right) or an unrevoked key (its
 * rights, checked by each handler through api_admit). The key's record is
 * the request's identity (http_request_identity), NULL for the admin. */
static enum http_auth api_authorize(void *arg, const char *cred, size_t len, const void **identity)
{
    struct api *a = arg;
    *identity = NULL;
    if (token_digest_matches(&a->token, cred, len))
        return HTTP_AUTH_ADMIN;
    const struct keys_key *k = keys_authenticate(a->keys, cred, len);
    *identity = k;
    return k ? HTTP_AUTH_KEY : HTTP_AUTH_INVALID;
}

/* The API key of req, NULL for the admin token (or a public route). */
static const struct keys_key *api_caller(const struct http_request *req)
{
    return http_request_identity(req);
}

/* Answer 403 forbidden with msg (taken). */
static void api_forbid(struct http_request *req, char *msg)
{
    http_reply_error(req, 403, "forbidden", msg);
    free(msg);
}

/* May the caller go on with a request needing state access `need` (and,
 * unless NULL, the event right `events`: "subscribe" or "publish")? The
 * admin token may do anything. A key first pays for the request from its
 * bucket (429 with Retry-After when empty), then must hold the rights
 * (403 naming what is missing). On false req has been answered. */
static bool api_admit(struct api *a, struct http_request *req, enum keys_access need,
                      const char *what, const char *events)
{
    const struct keys_key *k = api_caller(req);
    if (!k)
        return true;
    int64_t retry_ms = 0;
    if (keys_rate_take(a->keys, k, clock_mono_ns(), &retry_ms) != 0) {
        char secs[STR_INT_LEN];
        snprintf(secs, sizeof(secs), "%lld", (long long)((retry_ms + 999) / 1000));
        http_request_add_header(req, "Retry-After", secs);
        char *msg = str_printf("API key %s is over its rate limit (%g requests/s, burst %u); "
                               "retry after %s s",
                               k->id, k->rate, k->burst, secs);
        http_reply_error(req, 429, "rate_limited", msg);
        free(msg);
        return false;
    }
    if (k->access < need) {
        api_forbid(req, str_printf("%s needs canAccessState '%s'; this API key has '%s'", what,
                                   keys_access_name(need), keys_access_name(k->access)));
        return false;
    }
    if (events && strcmp(events, "subscribe") == 0 && k->subscribe.n == 0) {
        api_forbid(req, str_printf("%s needs canSubscribe patterns; this API key has none", what));
        return false;
    }
    if (events && strcmp(events, "publish") == 0 && k->publish.n == 0) {
        api_forbid(req, str_printf("%s needs canPublish patterns; this API key has none", what));
        return false;
    }
    return true;
}

/* The signature rules of POST /events (auth/sign.h). True to go on, with
 * *verified the accepted header value (NULL: the request is unsigned). */
static bool api_check_signature(struct api *a, struct http_request *req, const char **verified)
{
    const struct keys_key *k = api_caller(req);
    const char *sig = http_request_header(req, SIGN_HEADER);
    *verified = NULL;
    if (!sig) {
        if (!k || !k->require_signature)
            return true;
        http_reply_error(req, 401, "signature_required",
                         "this API key requires signed events: send X-Coordhub-Signature: "
                         "t=<unix seconds>,v1=<HMAC-SHA256 hex over '<t>.<body>'>");
        return false;
    }
    size_t len;
    const char *body = http_request_body(req, &len);
    const char *why = NULL;
    enum sign_result r = sign_verify(a->replay, k ? k->id : "admin", k ? k->digest.d : a->token.d,
                                     sig, body, len, clock_wall_ms() / 1000, &why);
    switch (r) {
    case SIGN_OK:
        *verified = sig;
        return true;
    case SIGN_MALFORMED: {
        char *m = str_printf("X-Coordhub-Signature: %s", why);
        http_reply_error(req, 400, "invalid_argument", m);
        free(m);
        return false;
    }
    case SIGN_SIGNER_FULL:
        http_request_add_header(req, "Retry-After", "1");
        http_reply_error(req, 429, "rate_limited", why);
        return false;
    case SIGN_CACHE_FULL:
        http_request_add_header(req, "Retry-After", "1");
        http_reply_error(req, 503, "unavailable", why);
        return false;
    case SIGN_INTERNAL:
        http_reply_error(req, 500, "internal", why);
        return false;
    default:
        http_reply_error(req, 401, "invalid_signature", why);
        return false;
    }
}

/* ---- handlers ------------------------------------------------------------ */

static void api_index(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    struct api *a = arg;
    (void)query;
    if (!api_admit(a, req, KEYS_ACCESS_READ, "GET /", NULL))
        return;
    status_reply_index(req, a->workspace, a->version, a->mcp != NULL);
}

static void api_healthz(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    struct api *a = arg;
    (void)query;
    status_reply_health(req, a->host.store_down ? a->host.store_down(a->host.arg) : NULL);
}

static void api_status(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    struct api *a = arg;
    (void)query;
    if (!api_admit(a, req, KEYS_ACCESS_READ, "GET /status", NULL))
        return;
    status_reply_status(req, a->host.status(a->host.arg));
}

static void api_events(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    struct api *a = arg;
    const struct keys_key *k = api_caller(req);
    if (http_request_method(req) == HTTP_METHOD_POST) {
        const char *sig = NULL;
        if (api_admit(a, req, KEYS_ACCESS_NONE, "POST /events", "publish") &&
            api_check_signature(a, req, &sig))
            rest_handle_events_post(a->rest, req, k, sig);
    } else if (api_admit(a, req, KEYS_ACCESS_NONE, "GET /events", "subscribe")) {
        events_sse_handle(a->sse, req, query, k ? &k->subscribe : NULL, k);
    }
}

/* REST twins of the tools (rest.c routes within /api/v1/): every one
 * needs at least `read`; rest.c asks for more where the tool needs it. */
static void api_rest(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    struct api *a = arg;
    if (api_admit(a, req, KEYS_ACCESS_READ, "/api/v1", NULL))
        rest_handle(a->rest, req, query, api_caller(req));
}

static void api_mcp(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    struct api *a = arg;
    (void)query;
    /* read may call only read-only tools; the hub enforces it per call
     * (the session knows its key). */
    if (!api_admit(a, req, KEYS_ACCESS_READ, "/mcp", NULL))
        return;
    if (a->mcp)
        mcp_http_handle(a->mcp, req, api_caller(req));
    else
        http_reply_error(req, 404, "not_found", "this hub serves no MCP over HTTP");
}

static void api_metrics(void *arg, struct http_request *req, const struct evkeyvalq *query)
{
    struct api *a = arg;
    (void)query;
    if (!api_admit(a, req, KEYS_ACCESS_READ, "GET /metrics", NULL))
        return;
    struct metrics_hub hub;
    memset(&hub, 0, sizeof(hub));
    a->host.stats(a->host.arg, &hub);
    struct http_stats hs;
    http_server_stats(a->http, &hs);
    struct events_sse_stats ss;
    events_sse_stats(a->sse, &ss);
    struct metrics_face face = {
        .sse_clients = ss.clients,
        .sse_delivered_total = ss.delivered,
        .sse_cut_off_total = ss.cut_off,
        .sse_resync_total = ss.resyncs,
        .sse_cache = {.hits = ss.ring_reads, .misses = ss.store_reads},
        .http_connections = hs.connections,
        .http_requests_total = hs.requests,
        .http_rejected_total = hs.rejected,
        .http_accept_failures_total = hs.accept_failures,
        .http_timeouts_total = hs.timeouts,
        .http_malformed_total = hs.malformed,
        .http_dropped_total = hs.dropped,
        .http_unauthorized_total = hs.unauthorized,
        .events_post_reserved_total = rest_events_reserved(a->rest),
    };
    struct buf out;
    buf_init(&out, API_METRICS_MAX);
    if (metrics_render(&out, &hub, &face, &a->events) != 0) {
        buf_deinit(&out);
        http_reply_error(req, 500, "internal", "the metrics exposition exceeds its cap");
        return;
    }
    http_reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    buf_deinit(&out);
}

static const struct http_route api_routes[] = {
    {"/healthz", HTTP_METHOD_GET | HTTP_METHOD_HEAD, true, true, api_healthz},
    {"/", HTTP_METHOD_GET, false, false, api_index},
    {"/status", HTTP_METHOD_GET, false, false, api_status},
    {"/events", HTTP_METHOD_GET | HTTP_METHOD_POST, false, false, api_events},
    {"/metrics", HTTP_METHOD_GET, false, false, api_metrics},
    {"/api/v1/*",
     HTTP_METHOD_GET | HTTP_METHOD_POST | HTTP_METHOD_PUT | HTTP_METHOD_DELETE | HTTP_METHOD_HEAD |
         HTTP_METHOD_OPTIONS | HTTP_METHOD_PATCH,
     false, false, api_rest},
    {"/mcp", HTTP_METHOD_GET | HTTP_METHOD_POST | HTTP_METHOD_DELETE, false, false, api_mcp},
};

static void api_on_event(void *arg, const struct event *ev, const char *text)
{
    struct api *a = arg;
    (void)text;
    if (ev->seq) /* an announcement (seq 0) is not an event of the log */
        metrics_event_counts_add(&a->events, ev->type);
}

/* ---- life cycle ---------------------------------------------------------- */

static char *api_errf(const char *fmt, const char *a)
{
    size_t n = strlen(fmt) + strlen(a) + 1;
    char *m = xmalloc(n);
    snprintf(m, n, fmt, a);
    return m;
}

enum api_bind_verdict api_bind_check(bool loopback, bool remote_allowed, bool tls)
{
    if (loopback)
        return API_BIND_OK;
    if (!remote_allowed)
        return API_BIND_DENIED;
    return tls ? API_BIND_OK : API_BIND_INSECURE;
}

/* What api_new refuses before it builds anything: a bad address, half a
 * TLS pair, a remote bind without keys, no admin token. Fills hc->addr
 * and *verdict. */
static int api_config_check(const struct api_config *cfg, struct http_config *hc,
                            enum api_bind_verdict *verdict, char **errmsg)
{
    const char *why;
    if (http_addr_parse(cfg->addr, &hc->addr, &why) != 0) {
        *errmsg = str_printf("invalid HTTP address '%s': %s", cfg->addr, why);
        return -ERR_INVALID;
    }
    bool tls = cfg->tls_cert != NULL;
    if (tls != (cfg->tls_key != NULL)) {
        *errmsg = xstrdup(tls ? "a TLS certificate needs its private key too (--tls-key FILE)"
                              : "a TLS private key needs its certificate too (--tls-cert FILE)");
        return -ERR_INVALID;
    }
    *verdict = api_bind_check(hc->addr.loopback, cfg->remote_allowed, tls);
    if (*verdict == API_BIND_DENIED) {
        *errmsg = api_errf("refusing to serve HTTP on %s: a non-loopback address is served only "
                           "when an unrevoked API key exists (remote clients must present one), "
                           "and this hub has none; create one with 'coordhub key create' and "
                           "start again, or use a loopback address such as 127.0.0.1:PORT",
                           hc->addr.text);
        return -ERR_DENIED;
    }
    if (!cfg->token || !*cfg->token) {
        *errmsg = xstrdup("no admin token: HTTP cannot be protected");
        return -ERR_INVALID;
    }
    return 0;
}

/* The faces behind the HTTP server: GET /events, REST, and /mcp when
 * open. */
static void api_faces_new(struct api *a, struct event_base *base, const struct api_config *cfg)
{
    struct events_sse_config ec = {
        .base = base,
        .bus = cfg->bus,
        .store = cfg->store,
        .workspace = cfg->workspace,
        .max_clients = cfg->sse_max_clients ? cfg->sse_max_clients : API_SSE_MAX_CLIENTS,
        .max_pending = API_SSE_MAX_PENDING,
        .heartbeat_ms = cfg->sse_heartbeat_ms > 0 ? cfg->sse_heartbeat_ms : API_SSE_HEARTBEAT_MS,
        .retry_ms = API_SSE_RETRY_MS,
        .write_timeout_s = API_SSE_WRITE_TIMEOUT_S,
    };
    a->sse = events_sse_new(&ec);
    a->rest = rest_new(a->http, &a->host);
    if (!cfg->mcp.open)
        return;
    struct mcp_http_config mc = {
        .base = base,
        .http = a->http,
        .host = cfg->mcp,
        .idle_ms = cfg->mcp_idle_ms,
        .max_sessions = cfg->mcp_max_sessions,
        .key_sessions = cfg->mcp_key_sessions,
        .reserved_sessions = cfg->mcp_reserved_sessions,
        .heartbeat_ms = ec.heartbeat_ms,
        .retry_ms = API_SSE_RETRY_MS,
        .max_pending = API_SSE_MAX_PENDING,
        .write_timeout_s = API_SSE_WRITE_TIMEOUT_S,
    };
    a->mcp = mcp_http_new(&mc);
}

int api_new(struct event_base *base, const struct api_config *cfg, struct api **out, char **errmsg)
{
    *out = NULL;
    *errmsg = NULL;
    struct http_config hc;
    memset(&hc, 0, sizeof(hc));
    enum api_bind_verdict verdict;
    int rc = api_config_check(cfg, &hc, &verdict, errmsg);
    if (rc)
        return rc;
    struct tls_context *tc = NULL;
    if (cfg->tls_cert) {
        rc = tls_context_new(cfg->tls_cert, cfg->tls_key, &tc, errmsg);
        if (rc)
            return rc;
    }
    struct api *a = xcalloc(1, sizeof(*a));
    a->tls = tc;
    a->insecure = verdict == API_BIND_INSECURE;
    hc.tls = tc;
    a->base = base;
    a->host = cfg->host;
    a->bus = cfg->bus;
    a->keys = cfg->keys;
    a->replay = sign_replay_new(0, 0);
    a->workspace = xstrdup(cfg->workspace);
    a->version = xstrdup(cfg->version);
    if (!token_digest_init(&a->token, cfg->token, strlen(cfg->token))) {
        api_free(a);
        *errmsg = xstrdup("cannot hash the admin token (OpenSSL SHA-256 unavailable)");
        return -ERR_INTERNAL;
    }
    hc.max_body = API_MAX_BODY;
    hc.max_headers = API_MAX_HEADERS;
    hc.max_connections = cfg->max_connections ? cfg->max_connections : API_MAX_CONNECTIONS;
    hc.header_timeout_ms = cfg->header_timeout_ms;
    hc.idle_timeout_s = API_IDLE_TIMEOUT_S;
    hc.routes = api_routes;
    hc.nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
    hc.authorize = api_authorize;
    hc.arg = a;
    rc = http_server_new(base, &hc, &a->http, errmsg);
    if (rc) {
        api_free(a);
        return rc;
    }
    api_faces_new(a, base, cfg);
    a->bus_sub = bus_subscribe(cfg->bus, api_on_event, a);
    *out = a;
    return 0;
}

void api_free(struct api *a)
{
    if (!a)
        return;
    if (a->bus_sub)
        bus_unsubscribe(a->bus, a->bus_sub);
    mcp_http_free(a->mcp); /* before the server: it holds requests */
    events_sse_free(a->sse);
    http_server_free(a->http);
    rest_free(a->rest);       /* after the server: its close hooks may still run */
    tls_context_free(a->tls); /* after the server: its connections came from it */
    sign_replay_free(a->replay);
    free(a->workspace);
    free(a->version);
    free(a);
}

void api_key_revoked(struct api *a, const struct keys_key *k)
{
    if (!a || !k)
        return;
    events_sse_end_principal(a->sse, k);
    if (a->mcp)
        mcp_http_end_principal(a->mcp, k);
}

const char *api_address(const struct api *a)
{
    return http_server_addr(a->http)->text;
}

const char *api_scheme(const struct api *a)
{
    return a->tls ? "https" : "http";
}

bool api_insecure(const struct api *a)
{
    return a->insecure;
}
