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

#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/map.h"
#include "base/xmalloc.h"
#include "net/tls.h"

#define HTTP_LISTEN_BACKLOG 128
/* Marks a head whose oversized body was cut off (http_intake_check). */
#define HTTP_OVERSIZE_HEADER "X-Coordhub-Oversize"

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
    bool rewriting; /* http_page_rewrite is replacing an output buffer */
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
    char *text = body ? json_print_line(body) : xstrdup("null\n");
    cJSON_Delete(body);
    http_reply_text(req, status, "application/json", text, strlen(text));
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
    /* A request whose oversized body http_intake_check cut off: never
     * served, and its connection closed (the body is still in it). */
    if (evhttp_find_header(evhttp_request_get_input_headers(req), HTTP_OVERSIZE_HEADER)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        if ((!r || !r->public) && !http_authorized(s, req, &query))
            goto out;
        char msg[96];
        snprintf(msg, sizeof(msg), "the request body is larger than %zu bytes", s->cfg.max_body);
        http_reply_error(req, 413, "too_large", msg);
        goto out;
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

/* ---- evhttp's own error pages --------------------------------------------
 *
 * evhttp 2.1 answers some requests itself, before any callback of ours
 * runs and with no hook to change the answer: a body over max_body and a
 * request head over max_headers (413), a malformed request line, header
 * or Content-Length (400), a method it does not know (501). It does so
 * with a small HTML page (evhttp_send_error), written whole into the
 * connection's output buffer, which is empty then (evhttp reads a request
 * only once the previous answer is sent), right before it closes the
 * connection. Every connection's output buffer is watched, and such a
 * page is replaced by the JSON error every other answer has
 * (docs/http-api.md, "Errors"). The watch costs one 15-byte copy per
 * write: only a buffer that ends as evhttp's page does is looked at. */

#define HTTP_PAGE_TAIL "</BODY></HTML>\n"
#define HTTP_PAGE_MAX 2048 /* evhttp's pages are a few hundred bytes */

/* The JSON body for an evhttp page of status (caller frees). */
static char *http_page_json(const struct http_server *s, int status)
{
    const char *code = "http_error", *fmt = "the request was refused";
    char msg[256];
    switch (status) {
    case 400:
        code = "bad_request";
        fmt = NULL;
        snprintf(msg, sizeof(msg),
                 "the request is not valid HTTP/1.1 (a malformed request line, header or "
                 "Content-Length), or its request line with headers passes %zu bytes",
                 s->cfg.max_headers);
        break;
    case 413:
        code = "too_large";
        fmt = NULL;
        snprintf(msg, sizeof(msg),
                 "the request is too large: a body of at most %zu bytes and a request line "
                 "with headers of at most %zu bytes are accepted",
                 s->cfg.max_body, s->cfg.max_headers);
        break;
    case 501:
        code = "not_implemented";
        fmt = "the request method is not one this server knows";
        break;
    default:
        break;
    }
    if (fmt)
        snprintf(msg, sizeof(msg), "%s", fmt);
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    char *text = json_print(o);
    cJSON_Delete(o);
    return text;
}

/* If buf holds exactly one evhttp error page, replace it with its JSON
 * twin (same status line, Date and Connection headers). */
static void http_page_rewrite(struct http_server *s, struct evbuffer *buf)
{
    size_t len = evbuffer_get_length(buf);
    size_t tail = sizeof(HTTP_PAGE_TAIL) - 1;
    if (len < 64 || len > HTTP_PAGE_MAX)
        return;
    char end[sizeof(HTTP_PAGE_TAIL)];
    struct evbuffer_ptr at;
    if (evbuffer_ptr_set(buf, &at, len - tail, EVBUFFER_PTR_SET) != 0 ||
        evbuffer_copyout_from(buf, &at, end, tail) != (ev_ssize_t)tail ||
        memcmp(end, HTTP_PAGE_TAIL, tail) != 0)
        return;
    char page[HTTP_PAGE_MAX + 1];
    if (evbuffer_copyout(buf, page, len) != (ev_ssize_t)len)
        return;
    page[len] = '\0';
    char *body = strstr(page, "\r\n\r\n");
    if (strncmp(page, "HTTP/1.", 7) != 0 || !body || strncmp(body + 4, "<HTML><HEAD>", 12) != 0 ||
        !memmem(page, (size_t)(body - page) + 2, "\r\nContent-Type: text/html\r\n", 27))
        return;
    const char *sp = strchr(page, ' ');
    int status = 0; /* the three digits evhttp wrote */
    for (int i = 1; sp && i <= 3 && sp[i] >= '0' && sp[i] <= '9'; i++)
        status = status * 10 + (sp[i] - '0');
    const char *eol = strstr(page, "\r\n");
    if (status < 400 || status > 599 || !eol)
        return;
    struct buf out;
    buf_init(&out, 0);
    int rc = buf_append(&out, page, (size_t)(eol - page) + 2);
    /* Keep Date (and any header but the two rewritten). */
    for (const char *h = eol + 2; !rc && h < body + 2;) {
        const char *he = strstr(h, "\r\n");
        if (strncasecmp(h, "Content-Type:", 13) != 0 &&
            strncasecmp(h, "Content-Length:", 15) != 0 && strncasecmp(h, "Connection:", 11) != 0)
            rc = buf_append(&out, h, (size_t)(he - h) + 2);
        h = he + 2;
    }
    char *json = http_page_json(s, status);
    char head[192];
    snprintf(head, sizeof(head),
             "Content-Type: application/json\r\nCache-Control: no-store\r\n"
             "X-Content-Type-Options: nosniff\r\nConnection: close\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(json) + 1);
    if (!rc)
        rc = buf_append_str(&out, head);
    if (!rc)
        rc = buf_append_str(&out, json);
    if (!rc)
        rc = buf_append(&out, "\n", 1);
    free(json);
    if (!rc) {
        /* The drain and add call http_page_watch again. A buffer whose
         * start is frozen cannot be drained: the page then goes as it is. */
        s->rewriting = true;
        if (evbuffer_drain(buf, len) == 0)
            (void)evbuffer_add(buf, out.data, out.len);
        s->rewriting = false;
    }
    buf_deinit(&out);
}

static void http_page_watch(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct http_server *s = arg;
    if (info->n_added && !s->rewriting)
        http_page_rewrite(s, buf);
}

/* ---- a credential before the body's size ---------------------------------
 *
 * evhttp refuses a body over max_body with 413 before the router could
 * ask for a credential, so a caller without one would learn the size
 * rule before being told to authenticate (docs/http-api.md: every path
 * but /healthz answers 401 first). Each connection's input buffer is
 * watched too: when it begins with a complete request head (at most
 * max_headers bytes) whose Content-Length passes max_body and which
 * presents no valid credential, the head is rewritten before evhttp
 * reads it — Content-Length 0 and HTTP_OVERSIZE_HEADER added — so the
 * request reaches the router without its body, which answers 401 (or 413
 * on a public path) and closes the connection, leaving the body unread.
 * A head that arrives in pieces evhttp has partly read already is not
 * seen whole; it gets evhttp's 413 (as JSON, above). */

/* The value of header name (a "Name:" at a line start) in head, trimmed,
 * into out; false when absent or longer than out. */
static bool http_head_value(const char *head, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        const char *h = l + 2;
        if (strncasecmp(h, name, nl) != 0 || h[nl] != ':')
            continue;
        const char *v = h + nl + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t n = strcspn(v, "\r");
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (n >= outlen)
            return false;
        memcpy(out, v, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

/* True when the head (NUL-terminated) presents a valid credential, read
 * as http_credential does: Authorization, else ?token= in the target. */
static bool http_head_authorized(const struct http_server *s, const char *head)
{
    char auth[1024];
    const char *cred = NULL;
    size_t len = 0;
    if (http_head_value(head, "Authorization", auth, sizeof(auth)))
        return http_bearer_parse(auth, &cred, &len) && s->cfg.authorize &&
               s->cfg.authorize(s->cfg.arg, cred, len);
    const char *t = strchr(head, ' ');
    size_t tn = t ? strcspn(t + 1, " \r") : 0;
    if (!t || tn == 0)
        return false;
    char *target = xmalloc(tn + 1);
    memcpy(target, t + 1, tn);
    target[tn] = '\0';
    bool ok = false;
    struct evhttp_uri *u = evhttp_uri_parse(target);
    const char *qs = u ? evhttp_uri_get_query(u) : NULL;
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (qs && evhttp_parse_query_str(qs, &q) == 0) {
        const char *tok = evhttp_find_header(&q, "token");
        ok = tok && *tok && s->cfg.authorize && s->cfg.authorize(s->cfg.arg, tok, strlen(tok));
    }
    evhttp_clear_headers(&q);
    if (u)
        evhttp_uri_free(u);
    free(target);
    return ok;
}

/* Rewrite the head at the front of buf as described above when it
 * announces an oversized body without a valid credential. */
static void http_intake_check(struct http_server *s, struct evbuffer *buf)
{
    size_t len = evbuffer_get_length(buf);
    char start[8];
    size_t sn = len < sizeof(start) ? len : sizeof(start);
    if (sn < 4 || evbuffer_copyout(buf, start, sn) != (ev_ssize_t)sn)
        return;
    size_t m = 0;
    while (m < sn && start[m] >= 'A' && start[m] <= 'Z')
        m++;
    if (m < 3 || m >= sn || start[m] != ' ')
        return; /* not a request line: body bytes, or a head evhttp is reading */
    struct evbuffer_ptr end;
    if (evbuffer_ptr_set(buf, &end, len < s->cfg.max_headers ? len : s->cfg.max_headers,
                         EVBUFFER_PTR_SET) != 0)
        return;
    struct evbuffer_ptr e = evbuffer_search_range(buf, "\r\n\r\n", 4, NULL, &end);
    if (e.pos < 0)
        return;
    size_t hl = (size_t)e.pos + 4;
    char *head = xmalloc(hl + 1);
    if (evbuffer_copyout(buf, head, hl) != (ev_ssize_t)hl) {
        free(head);
        return;
    }
    head[hl] = '\0';
    /* Only a plain decimal length is judged; evhttp refuses others. */
    char cl[32];
    bool big = false;
    if (http_head_value(head, "Content-Length", cl, sizeof(cl)) && cl[0] >= '0' && cl[0] <= '9') {
        char *endp = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &endp, 10);
        big = errno == ERANGE || (!errno && !*endp && n > s->cfg.max_body);
    }
    if (!big || http_head_authorized(s, head)) {
        free(head);
        return;
    }
    /* The head again, Content-Length 0 and the marker before the blank line. */
    struct buf out;
    buf_init(&out, 0);
    int rc = 0;
    for (const char *l = head; !rc && *l;) {
        const char *le = strstr(l, "\r\n");
        size_t ln = (size_t)(le - l) + 2;
        if (ln == 2)
            rc = buf_append_str(&out, HTTP_OVERSIZE_HEADER ": 1\r\n\r\n");
        else if (strncasecmp(l, "Content-Length:", 15) == 0)
            rc = buf_append_str(&out, "Content-Length: 0\r\n");
        else
            rc = buf_append(&out, l, ln);
        l += ln;
    }
    if (!rc) {
        /* The drain and prepend call http_intake_watch again. The
         * prepend cannot fail where the drain did not (both change the
         * start); a frozen start leaves the head as it came (evhttp's 413). */
        s->rewriting = true;
        if (evbuffer_drain(buf, hl) == 0)
            (void)evbuffer_prepend(buf, out.data, out.len);
        s->rewriting = false;
    }
    buf_deinit(&out);
    free(head);
}

static void http_intake_watch(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct http_server *s = arg;
    if (info->n_added && !s->rewriting)
        http_intake_check(s, buf);
}

/* evhttp's bufferevent hook: a socket (plain) or TLS bufferevent whose
 * output is watched for evhttp's error pages and whose input for heads
 * of oversized bodies. NULL (out of memory) makes evhttp drop the
 * connection. */
static struct bufferevent *http_bufferevent(struct event_base *base, void *arg)
{
    struct http_server *s = arg;
    struct bufferevent *bev = s->cfg.tls ? tls_context_bufferevent(s->cfg.tls, base)
                                         : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev && (!evbuffer_add_cb(bufferevent_get_output(bev), http_page_watch, s) ||
                !evbuffer_add_cb(bufferevent_get_input(bev), http_intake_watch, s))) {
        bufferevent_free(bev);
        return NULL;
    }
    return bev;
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
    evhttp_set_bevcb(s->evh, http_bufferevent, s);
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
