/* http — evhttp plus the pieces libevent 2.1 leaves to its user.
 *
 * The listening socket is made here (not by evhttp_bind_socket) so a bind
 * failure comes back as an exact errno (the hub tells "port taken" from
 * other failures) and port 0 can be read back with getsockname.
 *
 * Connections: evhttp 2.1 has no connection cap and no hook at accept
 * time, so a connection is counted when its first request reaches the
 * router (evhttp_connection_set_closecb then tells us when it goes).
 * Beyond max_connections a new connection's first request gets 503 and
 * the connection is closed. Connections that never complete a request are
 * bounded in time by the idle timeout instead.
 *
 * Every tracked connection has one `struct http_conn`, found by the
 * evhttp_connection's address in `conns` (its key text is owned by the
 * record). The close callback is the only place a record is freed; a
 * stream (sse.c) hangs its own close hook on the record, since evhttp has
 * a single close callback per connection.
 *
 * Invariants: `nconns` == map_len(&conns); a record's on_close runs at most
 * once, from the evhttp close callback, and the record is unreachable once
 * it has run. */
#define _GNU_SOURCE
#include "net/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/json.h"
#include "base/log.h"
#include "base/map.h"
#include "base/xmalloc.h"
#include "net/tls.h"

#define HTTP_LISTEN_BACKLOG 128

struct http_conn {
    struct http_server *srv;
    struct evhttp_connection *evcon;
    char key[2 * sizeof(void *) + 4]; /* map key: the evcon address in hex */
    void (*on_close)(void *arg);
    void *on_close_arg;
    /* One-shot read watch on the socket while a request awaits its
     * answer (http_request_watch_peer), or NULL. */
    struct event *peer_watch;
};

struct http_server {
    struct event_base *base;
    struct evhttp *evh;
    struct http_config cfg;
    struct http_addr bound;
    struct map conns; /* key text → struct http_conn (owned) */
    struct http_stats stats;
};

/* ---- addresses ----------------------------------------------------------- */

static int http_parse_port(const char *s, uint16_t *out)
{
    if (!*s || strlen(s) > 5)
        return -ERR_INVALID;
    unsigned v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -ERR_INVALID;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > 65535)
        return -ERR_INVALID;
    *out = (uint16_t)v;
    return 0;
}

int http_addr_parse(const char *text, struct http_addr *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    *why = NULL;
    if (!text || !*text || strlen(text) >= 80) {
        *why = "expected HOST:PORT, e.g. 127.0.0.1:7420";
        return -ERR_INVALID;
    }
    char host[80];
    const char *port;
    const char *colon = strrchr(text, ':');
    if (!colon) {
        /* A bare port. */
        snprintf(host, sizeof(host), "127.0.0.1");
        port = text;
    } else if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close + 1 != colon) {
            *why = "an IPv6 address goes in brackets: [::1]:7420";
            return -ERR_INVALID;
        }
        size_t n = (size_t)(close - text - 1);
        memcpy(host, text + 1, n);
        host[n] = '\0';
        port = colon + 1;
    } else {
        size_t n = (size_t)(colon - text);
        if (memchr(text, ':', n)) {
            *why = "an IPv6 address goes in brackets: [::1]:7420";
            return -ERR_INVALID;
        }
        memcpy(host, text, n);
        host[n] = '\0';
        port = colon + 1;
    }
    if (http_parse_port(port, &out->port) != 0) {
        *why = "the port must be a number from 0 to 65535";
        return -ERR_INVALID;
    }
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
    if (text[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(out->port);
        out->len = sizeof(*v4);
    } else if (text[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(out->port);
        out->len = sizeof(*v6);
    } else {
        *why = "the host must be an IP address literal or localhost (names are not resolved)";
        return -ERR_INVALID;
    }
    return http_addr_from_sockaddr((struct sockaddr *)&out->ss, out->len, out);
}

int http_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct http_addr *out)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        memmove(&out->ss, sa, sizeof(*v4));
        out->len = sizeof(*v4);
        out->port = ntohs(v4->sin_port);
        out->loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
        snprintf(out->text, sizeof(out->text), "%s:%u", ip, (unsigned)out->port);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        memmove(&out->ss, sa, sizeof(*v6));
        out->len = sizeof(*v6);
        out->port = ntohs(v6->sin6_port);
        out->loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
        snprintf(out->text, sizeof(out->text), "[%s]:%u", ip, (unsigned)out->port);
        return 0;
    }
    return -ERR_INVALID;
}

/* ---- credentials --------------------------------------------------------- */

bool http_bearer_parse(const char *value, const char **tok, size_t *len)
{
    if (!value)
        return false;
    while (*value == ' ' || *value == '\t')
        value++;
    if (strncasecmp(value, "Bearer", 6) != 0 || (value[6] != ' ' && value[6] != '\t'))
        return false;
    const char *p = value + 6;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0)
        return false;
    *tok = p;
    *len = n;
    return true;
}

/* ---- connections --------------------------------------------------------- */

static void http_conn_key(const struct evhttp_connection *evcon, char *key, size_t n)
{
    snprintf(key, n, "%lx", (unsigned long)(uintptr_t)evcon);
}

static void http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct http_conn *c = arg;
    struct http_server *s = c->srv;
    (void)evcon;
    map_del(&s->conns, c->key);
    s->stats.connections = map_len(&s->conns);
    void (*cb)(void *) = c->on_close;
    void *cb_arg = c->on_close_arg;
    if (c->peer_watch)
        event_free(c->peer_watch); /* one-shot: safe from its own callback */
    free(c);                       /* evhttp does not look at the close callback's arg again */
    if (cb)
        cb(cb_arg);
}

static struct http_conn *http_conn_find(struct http_server *s, struct evhttp_connection *evcon)
{
    char key[2 * sizeof(void *) + 4];
    http_conn_key(evcon, key, sizeof(key));
    return map_get(&s->conns, key);
}

/* The record of req's connection, tracking it on its first request; NULL
 * when the cap is reached (the connection is not tracked). */
static struct http_conn *http_conn_track(struct http_server *s, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (!evcon)
        return NULL;
    struct http_conn *c = http_conn_find(s, evcon);
    if (c)
        return c;
    if (map_len(&s->conns) >= s->cfg.max_connections)
        return NULL;
    c = xcalloc(1, sizeof(*c));
    c->srv = s;
    c->evcon = evcon;
    http_conn_key(evcon, c->key, sizeof(c->key));
    map_put(&s->conns, c->key, c);
    s->stats.connections = map_len(&s->conns);
    evhttp_connection_set_closecb(evcon, http_conn_closed, c);
    return c;
}

void http_request_on_close(struct http_server *s, struct evhttp_request *req, void (*cb)(void *arg),
                           void *arg)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct http_conn *c = evcon ? http_conn_find(s, evcon) : NULL;
    if (!c)
        return;
    c->on_close = cb;
    c->on_close_arg = cb ? arg : NULL;
    if (!cb && c->peer_watch) {
        event_free(c->peer_watch);
        c->peer_watch = NULL;
    }
}

/* The watched socket is readable: EOF or an error means the peer left
 * (bytes are a next request, which evhttp reads after the answer). */
static void http_conn_peer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)what;
    char ch;
    ssize_t n = recv(fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0)
        return;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        event_add(c->peer_watch, NULL);
        return;
    }
    evhttp_connection_free(c->evcon); /* runs http_conn_closed, hence on_close */
}

void http_request_watch_peer(struct http_server *s, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct http_conn *c = evcon ? http_conn_find(s, evcon) : NULL;
    if (!c || c->peer_watch || !c->on_close)
        return;
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    if (fd < 0)
        return;
    c->peer_watch = event_new(s->base, fd, EV_READ, http_conn_peer_cb, c);
    if (!c->peer_watch)
        abort(); /* out of memory, as xmalloc would */
    event_add(c->peer_watch, NULL);
}

bool http_request_detached(struct evhttp_request *req)
{
    return evhttp_request_get_connection(req) == NULL;
}

/* ---- replies ------------------------------------------------------------- */

void http_reply_text(struct evhttp_request *req, int status, const char *content_type,
                     const char *body, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    struct evbuffer *b = evbuffer_new();
    if (!b || evbuffer_add(b, body, len) != 0) {
        /* Out of memory: drop the connection rather than answer wrongly. */
        if (b)
            evbuffer_free(b);
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

void http_reply_json(struct evhttp_request *req, int status, cJSON *body)
{
    char *text = body ? json_print(body) : xstrdup("null");
    cJSON_Delete(body);
    size_t n = strlen(text);
    text = xrealloc(text, n + 2);
    text[n++] = '\n';
    text[n] = '\0';
    http_reply_text(req, status, "application/json", text, n);
    free(text);
}

void http_reply_error(struct evhttp_request *req, int status, const char *code, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    http_reply_json(req, status, o);
}

/* ---- routing ------------------------------------------------------------- */

static const struct {
    enum evhttp_cmd_type cmd;
    unsigned bit;
    const char *name;
} http_methods[] = {
    {EVHTTP_REQ_GET, HTTP_METHOD_GET, "GET"},
    {EVHTTP_REQ_POST, HTTP_METHOD_POST, "POST"},
    {EVHTTP_REQ_PUT, HTTP_METHOD_PUT, "PUT"},
    {EVHTTP_REQ_DELETE, HTTP_METHOD_DELETE, "DELETE"},
    {EVHTTP_REQ_HEAD, HTTP_METHOD_HEAD, "HEAD"},
    {EVHTTP_REQ_OPTIONS, HTTP_METHOD_OPTIONS, "OPTIONS"},
    {EVHTTP_REQ_PATCH, HTTP_METHOD_PATCH, "PATCH"},
};

static unsigned http_method_bit(enum evhttp_cmd_type cmd, const char **name)
{
    for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
        if (http_methods[i].cmd == cmd) {
            *name = http_methods[i].name;
            return http_methods[i].bit;
        }
    }
    *name = "?";
    return 0;
}

unsigned http_request_method(struct evhttp_request *req)
{
    const char *name;
    return http_method_bit(evhttp_request_get_command(req), &name);
}

void http_reply_not_allowed(struct evhttp_request *req, unsigned allowed)
{
    char allow[96] = "";
    size_t n = 0;
    for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
        if (!(allowed & http_methods[i].bit))
            continue;
        int w = snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "", http_methods[i].name);
        if (w < 0 || (size_t)w >= sizeof(allow) - n)
            break;
        n += (size_t)w;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    char msg[160];
    snprintf(msg, sizeof(msg), "this path accepts %s", allow);
    http_reply_error(req, 405, "method_not_allowed", msg);
}

/* The credential a request presents: the Authorization header first (any
 * scheme other than Bearer counts as a wrong credential), else ?token=.
 * Returns 0 none, 1 one found (*cred, *len), -1 an unusable header. */
static int http_credential(struct evhttp_request *req, const struct evkeyvalq *query,
                           const char **cred, size_t *len)
{
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (auth)
        return http_bearer_parse(auth, cred, len) ? 1 : -1;
    const char *tok = evhttp_find_header(query, "token");
    if (tok && *tok) {
        *cred = tok;
        *len = strlen(tok);
        return 1;
    }
    return 0;
}

/* True when req may proceed; otherwise it has been answered with 401. */
static bool http_authorized(struct http_server *s, struct evhttp_request *req,
                            const struct evkeyvalq *query)
{
    const char *cred = NULL;
    size_t len = 0;
    int found = http_credential(req, query, &cred, &len);
    if (found == 1 && s->cfg.authorize && s->cfg.authorize(s->cfg.arg, cred, len))
        return true;
    s->stats.unauthorized++;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (found == 0) {
        evhttp_add_header(h, "WWW-Authenticate", "Bearer realm=\"coordhub\"");
        http_reply_error(req, 401, "unauthorized",
                         "this endpoint needs the admin token (in <state-dir>/token) or an API "
                         "key: send 'Authorization: Bearer <token>' or add ?token=<token>");
    } else {
        evhttp_add_header(h, "WWW-Authenticate",
                          "Bearer realm=\"coordhub\", error=\"invalid_token\"");
        http_reply_error(req, 401, "unauthorized", "the credential is not valid");
    }
    return false;
}

static void http_route_request(struct evhttp_request *req, void *arg)
{
    struct http_server *s = arg;
    if (!http_conn_track(s, req)) {
        s->stats.rejected++;
        /* Logged at the 1st, 2nd, 4th, 8th… refusal: bounded under a flood. */
        if ((s->stats.rejected & (s->stats.rejected - 1)) == 0)
            log_warn("http: connection refused: %zu connections open (%llu refused so far)",
                     map_len(&s->conns), (unsigned long long)s->stats.rejected);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        http_reply_error(req, 503, "unavailable", "too many connections; retry later");
        return;
    }
    s->stats.requests++;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || !*path)
        path = "/";
    const char *mname;
    unsigned mbit = http_method_bit(evhttp_request_get_command(req), &mname);
    log_debug("http: %s %s", mname, path); /* never the query: it may hold a token */
    struct evkeyvalq query;
    TAILQ_INIT(&query);
    const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
    if (qs && evhttp_parse_query_str(qs, &query) != 0) {
        evhttp_clear_headers(&query);
        http_reply_error(req, 400, "invalid_argument", "the query string is malformed");
        return;
    }
    const struct http_route *r = NULL;
    for (size_t i = 0; i < s->cfg.nroutes; i++) {
        const struct http_route *c = &s->cfg.routes[i];
        size_t n = strlen(c->path);
        bool prefix = n >= 2 && strcmp(c->path + n - 2, "/*") == 0;
        if (prefix ? strncmp(c->path, path, n - 1) == 0 && path[n - 1] != '\0'
                   : strcmp(c->path, path) == 0) {
            r = c;
            break;
        }
    }
    /* Unknown paths need the credential too: only public routes are
     * visible without it. */
    if ((!r || !r->public) && !http_authorized(s, req, &query))
        goto out;
    if (!r)
        http_reply_error(req, 404, "not_found", "no such endpoint");
    else if (!(mbit & r->methods))
        http_reply_not_allowed(req, r->methods);
    else
        r->run(s->cfg.arg, req, &query);
out:
    evhttp_clear_headers(&query);
}

/* ---- the server ---------------------------------------------------------- */

static char *http_errf(const char *what, const char *addr, int err)
{
    size_t n = strlen(what) + strlen(addr) + 128;
    char *m = xmalloc(n);
    snprintf(m, n, "%s %s: %s", what, addr, strerror(err));
    return m;
}

/* A listening, non-blocking socket bound to addr, or -errno. */
static int http_listen_socket(const struct http_addr *addr)
{
    int family = addr->ss.ss_family;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    /* Rebind at once after a restart (TIME_WAIT); a port another process
     * listens on still fails with EADDRINUSE. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
        goto fail;
    if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
        goto fail;
    if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0)
        goto fail;
    if (listen(fd, HTTP_LISTEN_BACKLOG) != 0)
        goto fail;
    return fd;
fail:;
    int err = errno;
    close(fd);
    return -err;
}

/* evhttp's bufferevent hook for a TLS server: every accepted connection
 * starts with a handshake. NULL (out of memory) makes evhttp drop it. */
static struct bufferevent *http_tls_bufferevent(struct event_base *base, void *arg)
{
    struct http_server *s = arg;
    return tls_context_bufferevent(s->cfg.tls, base);
}

int http_server_new(struct event_base *base, const struct http_config *cfg,
                    struct http_server **out, char **errmsg)
{
    *out = NULL;
    *errmsg = NULL;
    int fd = http_listen_socket(&cfg->addr);
    if (fd < 0) {
        *errmsg = http_errf("cannot listen on", cfg->addr.text, -fd);
        return fd;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl = sizeof(ss);
    struct http_addr bound;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
        http_addr_from_sockaddr((struct sockaddr *)&ss, sl, &bound) != 0) {
        int err = errno ? errno : EINVAL;
        close(fd);
        *errmsg = http_errf("cannot read the address of", cfg->addr.text, err);
        return -err;
    }
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->base = base;
    s->cfg = *cfg;
    s->bound = bound;
    map_init(&s->conns);
    s->evh = evhttp_new(base);
    if (!s->evh) {
        close(fd);
        free(s);
        *errmsg = xstrdup("cannot create the HTTP server");
        return -ENOMEM;
    }
    evhttp_set_max_body_size(s->evh, (ev_ssize_t)cfg->max_body);
    evhttp_set_max_headers_size(s->evh, (ev_ssize_t)cfg->max_headers);
    evhttp_set_timeout(s->evh, cfg->idle_timeout_s);
    /* Every method reaches the router, which answers 405 with Allow. */
    evhttp_set_allowed_methods(s->evh, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                           EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
                                           EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(s->evh, http_route_request, s);
    if (cfg->tls)
        evhttp_set_bevcb(s->evh, http_tls_bufferevent, s);
    if (!evhttp_accept_socket_with_handle(s->evh, fd)) {
        close(fd);
        evhttp_free(s->evh);
        free(s);
        *errmsg = xstrdup("cannot accept connections on the HTTP socket");
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    /* Frees every connection; their close callbacks free the records. */
    evhttp_free(s->evh);
    size_t it = 0;
    void *v;
    while (map_next(&s->conns, &it, NULL, &v))
        free(v); /* not reached: evhttp_free closed them all */
    map_deinit(&s->conns);
    free(s);
}

const struct http_addr *http_server_addr(const struct http_server *s)
{
    return &s->bound;
}

bool http_server_tls(const struct http_server *s)
{
    return s->cfg.tls != NULL;
}

void http_server_stats(const struct http_server *s, struct http_stats *out)
{
    *out = s->stats;
    out->connections = map_len(&s->conns);
}
