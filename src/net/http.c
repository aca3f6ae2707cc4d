/* http — the hub's HTTP/1.1 server: accept, one state machine per
 * connection, routing, credentials, quotas, deadlines and replies.
 *
 * The listening socket is made here so a bind failure comes back as an
 * exact errno (the hub tells "port taken" from other failures) and port 0
 * can be read back with getsockname; net/listener accepts on it (and
 * pauses when descriptors run out).
 *
 * A connection (struct http_conn) reads one request at a time:
 *   HEAD       bytes of a head are scanned as they come (http_parse.h);
 *              the header deadline runs from accept, or from the first
 *              byte of a later head, and is not reset by more bytes;
 *              between requests the idle timer runs instead;
 *   (admit)    on the complete head, before any body byte: the
 *              connection's class (overflow, reserve), the query, the
 *              credential (401), the credential quota and the body's size
 *              (413) are decided;
 *   BODY       the body moves from the input into the request, under the
 *              body deadline;
 *   HANDLING   the route's handler has the request: answered at once, or
 *              held (no timer: the handler's business) with an on_close
 *              hook; the input is still read (to see a peer hang up) but
 *              not parsed;
 *   STREAMING  the answer is a stream (http_reply_start);
 *   WRITING    the answer is queued whole; the next request is parsed
 *              only once it has been written (backpressure);
 *   CLOSING    the last answer is being written; then the connection
 *              goes, or, when the peer may still be sending what will
 *              not be read (a refused body), the write side is shut and
 *              input drained for a moment first, so the peer reads the
 *              answer rather than a reset.
 * Unread input is capped by a read high watermark: a peer that pipelines
 * without reading costs at most that plus one answer.
 *
 * Counting: every accepted connection counts (nconns) against
 * max_connections; the last `admin_reserve` slots below the cap are for
 * the admin token, `overflow` more beyond it only for overflow routes
 * (/healthz); when those are taken too, a new connection closes the
 * oldest silent one (waiting for a head it has sent nothing of), and
 * only when there is none is it closed at accept.
 * Connections without a valid credential yet are counted per peer address
 * (`unauth`), those with one per credential (`creds`); both are quotas.
 * A new connection over its peer's quota closes that peer's oldest silent
 * connection without a credential, and is refused only when there is
 * none, so a flood of silent connections from one address (every local
 * client shares 127.0.0.1) cannot keep a /healthz probe or a client with
 * a credential from that address out.
 *
 * Invariants: nconns is the length of the conns list; a connection is
 * counted in at most one of unauth (its `unauth` set) and creds (its
 * `cred` set), in neither when it was refused at accept or is an
 * overflow connection; a request's on_close runs at most once and
 * the request is freed right after; a connection is freed only outside
 * its own dispatch (`busy`), where a close is deferred to (`dead`). */
#define _GNU_SOURCE
#include "net/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/map.h"
#include "base/xmalloc.h"
#include "net/http_parse.h"
#include "net/listener.h"
#include "net/tls.h"

#define HTTP_LISTEN_BACKLOG 128
#define HTTP_MAX_FIELDS 128           /* header fields per request: 431 beyond */
#define HTTP_DEFAULT_MAX_LINE 8192    /* request line: 414 beyond */
#define HTTP_DEFAULT_HEADER_MS 10000  /* header deadline */
#define HTTP_DEFAULT_BODY_MS 30000    /* body deadline */
#define HTTP_LINGER_MS 2000           /* draining input after the last answer */
#define HTTP_LINGER_MAX (1024 * 1024) /* bytes drained at most */
#define HTTP_ADMIN_KEY "admin"        /* the admin token's key in creds */
#define HTTP_READ_HIGH_MIN 16384      /* input buffered before reading pauses, at least */
#define HTTP_PORT_MAX 65535

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
    if (v > HTTP_PORT_MAX)
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

/* ---- records ------------------------------------------------------------- */

enum http_state {
    HTTP_HEAD,
    HTTP_BODY,
    HTTP_HANDLING,
    HTTP_STREAMING,
    HTTP_WRITING,
    HTTP_CLOSING,
};

enum http_class {
    HTTP_CLASS_NORMAL,
    HTTP_CLASS_RESERVE,  /* accepted in the admin reserve */
    HTTP_CLASS_OVERFLOW, /* accepted beyond the cap: overflow routes only */
};

enum http_timer {
    HTTP_TIMER_NONE,
    HTTP_TIMER_HEADER,
    HTTP_TIMER_BODY,
    HTTP_TIMER_IDLE,
    HTTP_TIMER_LINGER,
};

/* A count of connections under a key (a peer address or a credential). */
struct http_count {
    char key[48];
    size_t n;
};

struct http_request {
    struct http_conn *conn;
    char *head;                /* the head's bytes; names and values NUL-terminated in place */
    struct http_field *fields; /* nfields, into head */
    size_t nfields;
    unsigned method;
    const char *method_name;
    char *path;
    char *query_text; /* after '?' in the target, or NULL */
    struct evkeyvalq query;
    struct evbuffer *body;
    size_t body_len;       /* announced by Content-Length */
    const char *body_text; /* the body made contiguous, or NULL */
    struct evkeyvalq out;
    const void *identity;
    int minor;
    bool close;     /* the connection ends after this request */
    bool answered;  /* the answer is queued whole (or ended) */
    bool streaming; /* http_reply_start was called */
    bool expect_continue;
    const struct http_route *route;
    void (*on_close)(void *arg);
    void *on_close_arg;
    void (*on_written)(void *arg);
    void *on_written_arg;
};

struct http_conn {
    struct http_server *srv;
    struct bufferevent *bev;
    struct http_conn *prev, *next;
    char peer[64];             /* "ip:port" */
    char peer_ip[64];          /* the unauth quota's key */
    struct http_count *unauth; /* counted there, or NULL */
    struct http_count *cred;   /* counted there, or NULL */
    enum http_state state;
    enum http_class cls;
    struct http_scan scan;
    struct event *timer;
    enum http_timer timer_kind;
    struct http_request *req;
    size_t lingered; /* bytes drained while closing */
    bool started;    /* a byte of the current head has come */
    bool eof;        /* the peer has shut its side */
    bool busy;       /* inside a handler or hook of ours */
    bool dead;       /* close once no longer busy */
    bool drain;      /* the peer may still send what we will not read */
};

struct http_server {
    struct event_base *base;
    struct listener *listener;
    struct http_config cfg;
    struct http_addr bound;
    struct http_parse_limits lim;
    size_t read_high; /* the read high watermark of a connection */
    struct http_conn *conns;
    size_t nconns;
    struct map unauth; /* peer ip → struct http_count (owned) */
    struct map creds;  /* credential key → struct http_count (owned) */
    struct http_stats stats;
};

static void http_conn_close(struct http_conn *c);
static void http_conn_advance(struct http_conn *c);

/* ---- counts -------------------------------------------------------------- */

static size_t http_count_of(struct map *m, const char *key)
{
    struct http_count *k = map_get(m, key);
    return k ? k->n : 0;
}

static struct http_count *http_count_take(struct map *m, const char *key)
{
    struct http_count *k = map_get(m, key);
    if (!k) {
        k = xcalloc(1, sizeof(*k));
        snprintf(k->key, sizeof(k->key), "%s", key);
        map_put(m, k->key, k);
    }
    k->n++;
    return k;
}

static void http_count_drop(struct map *m, struct http_count **slot)
{
    struct http_count *k = *slot;
    *slot = NULL;
    if (!k)
        return;
    if (--k->n == 0) {
        map_del(m, k->key);
        free(k);
    }
}

static void http_counts_free(struct map *m)
{
    size_t it = 0;
    void *v;
    while (map_next(m, &it, NULL, &v))
        free(v);
    map_deinit(m);
}

/* Whether the n-th occurrence of something is logged: the 1st, 2nd, 4th,
 * 8th…, so a flood costs a few lines. */
static bool http_log_nth(uint64_t n)
{
    return (n & (n - 1)) == 0;
}

/* A refusal, logged as http_log_nth says. */
static void http_note_rejected(struct http_server *s, const char *why)
{
    s->stats.rejected++;
    if (http_log_nth(s->stats.rejected))
        log_warn("http: refused: %s (%zu connections open, %llu refused so far)", why, s->nconns,
                 (unsigned long long)s->stats.rejected);
}

/* ---- timers -------------------------------------------------------------- */

static void http_conn_arm(struct http_conn *c, enum http_timer kind, int ms)
{
    c->timer_kind = kind;
    if (kind == HTTP_TIMER_NONE || ms <= 0) {
        event_del(c->timer);
        c->timer_kind = HTTP_TIMER_NONE;
        return;
    }
    struct timeval tv = clock_timeval_ms(ms);
    event_add(c->timer, &tv);
}

/* ---- writing ------------------------------------------------------------- */

static const char *http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return status < 400 ? "OK" : "Error";
    }
}

/* Queue a response head on c: the status line, Date, the extra headers,
 * then Content-Length (len, unless < 0: a stream) and Connection. */
static void http_write_head(struct http_conn *c, int minor, int status,
                            const struct evkeyvalq *extra, long long len, bool chunked, bool close)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    evbuffer_add_printf(out, "HTTP/1.%d %d %s\r\nDate: %s\r\n", minor, status, http_reason(status),
                        date);
    const struct evkeyval *kv;
    if (extra)
        TAILQ_FOREACH(kv, extra, next)
    evbuffer_add_printf(out, "%s: %s\r\n", kv->key, kv->value);
    if (len >= 0 && status != 204 && status != 304 && status >= 200)
        evbuffer_add_printf(out, "Content-Length: %lld\r\n", len);
    if (chunked)
        evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
    if (close)
        evbuffer_add(out, "Connection: close\r\n", 19);
    else if (minor == 0)
        evbuffer_add(out, "Connection: keep-alive\r\n", 24);
    evbuffer_add(out, "\r\n", 2);
}

/* The JSON error body (caller frees). */
static char *http_error_json(const char *code, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    char *text = json_print_line(o);
    cJSON_Delete(o);
    return text;
}

/* The last thing c says: a JSON error, then the connection closes. Used
 * where no request is being answered (a refused head, a deadline, a
 * refusal at accept). */
static void http_conn_fail(struct http_conn *c, int minor, int status, const char *code,
                           const char *message)
{
    char *body = http_error_json(code, message);
    struct evkeyvalq h;
    TAILQ_INIT(&h);
    evhttp_add_header(&h, "Content-Type", "application/json");
    evhttp_add_header(&h, "Cache-Control", "no-store");
    evhttp_add_header(&h, "X-Content-Type-Options", "nosniff");
    if (status == 503)
        evhttp_add_header(&h, "Retry-After", "1");
    size_t n = strlen(body);
    http_write_head(c, minor, status, &h, (long long)n, false, true);
    evbuffer_add(bufferevent_get_output(c->bev), body, n);
    evhttp_clear_headers(&h);
    free(body);
    c->state = HTTP_CLOSING;
    http_conn_arm(c, HTTP_TIMER_NONE, 0);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- requests ------------------------------------------------------------ */

static void http_request_free(struct http_request *r)
{
    if (!r)
        return;
    evhttp_clear_headers(&r->query);
    evhttp_clear_headers(&r->out);
    if (r->body)
        evbuffer_free(r->body);
    free(r->path);
    free(r->query_text);
    free(r->fields);
    free(r->head);
    free(r);
}

static const struct {
    unsigned bit;
    const char *name;
} http_methods[] = {
    {HTTP_METHOD_GET, "GET"},       {HTTP_METHOD_POST, "POST"}, {HTTP_METHOD_PUT, "PUT"},
    {HTTP_METHOD_DELETE, "DELETE"}, {HTTP_METHOD_HEAD, "HEAD"}, {HTTP_METHOD_OPTIONS, "OPTIONS"},
    {HTTP_METHOD_PATCH, "PATCH"},
};

/* The request of a parsed head (the head's bytes are copied). */
static struct http_request *http_request_new(struct http_conn *c, const char *bytes, size_t n,
                                             const struct http_head *h)
{
    struct http_request *r = xcalloc(1, sizeof(*r));
    r->conn = c;
    TAILQ_INIT(&r->query);
    TAILQ_INIT(&r->out);
    r->head = xmalloc(n + 1);
    memcpy(r->head, bytes, n);
    r->head[n] = '\0';
    r->fields = xcalloc(h->nfields ? h->nfields : 1, sizeof(*r->fields));
    for (size_t i = 0; i < h->nfields; i++) {
        struct http_field *f = &r->fields[i];
        f->name = r->head + (h->fields[i].name - bytes);
        f->name_len = h->fields[i].name_len;
        f->value = r->head + (h->fields[i].value - bytes);
        f->value_len = h->fields[i].value_len;
        /* After a name comes its colon, after a value SP, HTAB or CR. */
        r->head[f->name - r->head + (ptrdiff_t)f->name_len] = '\0';
        r->head[f->value - r->head + (ptrdiff_t)f->value_len] = '\0';
    }
    r->nfields = h->nfields;
    r->method_name = "?";
    for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
        if (strlen(http_methods[i].name) == h->method_len &&
            memcmp(http_methods[i].name, h->method, h->method_len) == 0) {
            r->method = http_methods[i].bit;
            r->method_name = http_methods[i].name;
        }
    }
    const char *q = memchr(h->target, '?', h->target_len);
    size_t pn = q ? (size_t)(q - h->target) : h->target_len;
    r->path = xmalloc(pn + 1);
    memcpy(r->path, h->target, pn);
    r->path[pn] = '\0';
    if (q) {
        size_t qn = h->target_len - pn - 1;
        r->query_text = xmalloc(qn + 1);
        memcpy(r->query_text, q + 1, qn);
        r->query_text[qn] = '\0';
    }
    r->expect_continue = h->expect_continue;
    r->minor = h->minor;
    r->close = h->close;
    r->body_len = (size_t)h->content_length;
    r->body = evbuffer_new();
    if (!r->body)
        abort(); /* out of memory, as xmalloc would */
    return r;
}

unsigned http_request_method(const struct http_request *req)
{
    return req->method;
}

const char *http_request_path(const struct http_request *req)
{
    return req->path;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nfields; i++)
        if (strcasecmp(req->fields[i].name, name) == 0)
            return req->fields[i].value;
    return NULL;
}

const char *http_request_body(const struct http_request *req, size_t *len)
{
    struct http_request *r = (struct http_request *)req; /* the text is made once */
    *len = r->body_len;
    if (r->body_len == 0)
        return "";
    if (!r->body_text) {
        /* A NUL after the bytes (not counted), then one contiguous run. */
        if (evbuffer_add(r->body, "", 1) != 0)
            abort(); /* out of memory, as xmalloc would */
        r->body_text = (const char *)evbuffer_pullup(r->body, -1);
    }
    return r->body_text;
}

const char *http_request_peer(const struct http_request *req)
{
    return req->conn ? req->conn->peer : "";
}

const void *http_request_identity(const struct http_request *req)
{
    return req->identity;
}

void http_request_add_header(struct http_request *req, const char *name, const char *value)
{
    (void)evhttp_add_header(&req->out, name, value);
}

void http_request_remove_header(struct http_request *req, const char *name)
{
    while (evhttp_remove_header(&req->out, name) == 0)
        ;
}

void http_request_on_close(struct http_request *req, void (*cb)(void *arg), void *arg)
{
    req->on_close = cb;
    req->on_close_arg = cb ? arg : NULL;
}

void http_request_on_written(struct http_request *req, void (*cb)(void *arg), void *arg)
{
    req->on_written = cb;
    req->on_written_arg = cb ? arg : NULL;
}

size_t http_request_pending(const struct http_request *req)
{
    return req->conn ? evbuffer_get_length(bufferevent_get_output(req->conn->bev)) : 0;
}

void http_request_close(struct http_request *req)
{
    if (req->conn)
        http_conn_close(req->conn);
}

/* ---- replies ------------------------------------------------------------- */

/* req is answered: no hooks any more; the connection writes it, then
 * goes on with the next request or closes. */
static void http_request_answered(struct http_request *req)
{
    struct http_conn *c = req->conn;
    req->answered = true;
    req->on_close = NULL;
    req->on_written = NULL;
    c->state = req->close ? HTTP_CLOSING : HTTP_WRITING;
    bufferevent_enable(c->bev, EV_WRITE);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        /* Nothing left to write (the end of an HTTP/1.0 stream), so no
         * write callback will come: close from the loop instead. */
        http_conn_arm(c, HTTP_TIMER_NONE, 0);
        c->timer_kind = HTTP_TIMER_LINGER;
        event_active(c->timer, EV_TIMEOUT, 0);
    }
}

void http_reply_text(struct http_request *req, int status, const char *content_type,
                     const char *body, size_t len)
{
    struct http_conn *c = req->conn;
    if (!c || req->answered || req->streaming)
        return;
    evhttp_add_header(&req->out, "Content-Type", content_type);
    evhttp_add_header(&req->out, "Cache-Control", "no-store");
    evhttp_add_header(&req->out, "X-Content-Type-Options", "nosniff");
    http_write_head(c, req->minor, status, &req->out, (long long)len, false, req->close);
    if (req->method != HTTP_METHOD_HEAD && len)
        evbuffer_add(bufferevent_get_output(c->bev), body, len);
    http_request_answered(req);
}

void http_reply_empty(struct http_request *req, int status)
{
    struct http_conn *c = req->conn;
    if (!c || req->answered || req->streaming)
        return;
    http_write_head(c, req->minor, status, &req->out, 0, false, req->close);
    http_request_answered(req);
}

void http_reply_json(struct http_request *req, int status, cJSON *body)
{
    char *text = body ? json_print_line(body) : xstrdup("null\n");
    cJSON_Delete(body);
    http_reply_text(req, status, "application/json", text, strlen(text));
    free(text);
}

void http_reply_error(struct http_request *req, int status, const char *code, const char *message)
{
    char *text = http_error_json(code, message);
    http_reply_text(req, status, "application/json", text, strlen(text));
    free(text);
}

void http_reply_not_allowed(struct http_request *req, unsigned allowed)
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
    evhttp_add_header(&req->out, "Allow", allow);
    char msg[160];
    snprintf(msg, sizeof(msg), "this path accepts %s", allow);
    http_reply_error(req, 405, "method_not_allowed", msg);
}

void http_reply_start(struct http_request *req, int status, int write_timeout_s)
{
    struct http_conn *c = req->conn;
    if (!c || req->answered || req->streaming)
        return;
    req->streaming = true;
    if (req->minor == 0)
        req->close = true; /* the body runs to the connection's end */
    http_write_head(c, req->minor, status, &req->out, -1, req->minor == 1, req->close);
    c->state = HTTP_STREAMING;
    /* Pieces go out whole, each as soon as it is queued: Nagle would hold
     * one back until the peer acknowledges the last, and a peer that only
     * reads delays its acknowledgements. A Unix socket has no such option. */
    int one = 1;
    (void)setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval wtv = {.tv_sec = write_timeout_s, .tv_usec = 0};
    bufferevent_set_timeouts(c->bev, NULL, write_timeout_s > 0 ? &wtv : NULL);
    bufferevent_enable(c->bev, EV_WRITE);
}

int http_reply_chunk(struct http_request *req, const void *data, size_t len)
{
    struct http_conn *c = req->conn;
    if (!c || !req->streaming || req->answered)
        return -ERR_STATE;
    if (len == 0)
        return 0;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (req->minor == 1) {
        char size[24];
        size_t n = 0;
        char digits[16];
        size_t nd = 0;
        for (size_t v = len; v; v >>= 4)
            digits[nd++] = "0123456789abcdef"[v & 15];
        while (nd)
            size[n++] = digits[--nd];
        size[n++] = '\r';
        size[n++] = '\n';
        if (evbuffer_add(out, size, n) != 0 || evbuffer_add(out, data, len) != 0 ||
            evbuffer_add(out, "\r\n", 2) != 0)
            return -ERR_TOO_LARGE;
        return 0;
    }
    return evbuffer_add(out, data, len) == 0 ? 0 : -ERR_TOO_LARGE;
}

void http_reply_end(struct http_request *req)
{
    struct http_conn *c = req->conn;
    if (!c || !req->streaming || req->answered)
        return;
    if (req->minor == 1)
        evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
    struct timeval tv = {.tv_sec = c->srv->cfg.idle_timeout_s, .tv_usec = 0};
    bufferevent_set_timeouts(c->bev, NULL, c->srv->cfg.idle_timeout_s > 0 ? &tv : NULL);
    http_request_answered(req);
}

/* ---- connections --------------------------------------------------------- */

static void http_conn_free(struct http_conn *c)
{
    struct http_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    http_count_drop(&s->unauth, &c->unauth);
    http_count_drop(&s->creds, &c->cred);
    event_free(c->timer);
    bufferevent_free(c->bev);
    free(c);
}

/* Close c now (or once its dispatch returns): an unanswered request's
 * on_close hook runs, then the request and the connection are freed. */
static void http_conn_close(struct http_conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    struct http_request *r = c->req;
    if (r && !r->answered && r->on_close) {
        void (*cb)(void *) = r->on_close;
        r->on_close = NULL;
        bool was_busy = c->busy;
        c->busy = true;
        cb(r->on_close_arg);
        c->busy = was_busy;
    }
    if (c->busy)
        return;
    c->req = NULL;
    if (r)
        r->conn = NULL;
    http_request_free(r);
    http_conn_free(c);
}

/* Close c unless a handler is running on it (then once it returns). */
static void http_conn_release(struct http_conn *c)
{
    if (c->dead && !c->busy) {
        struct http_request *r = c->req;
        c->req = NULL;
        http_request_free(r);
        http_conn_free(c);
    }
}

/* The current request's answer has been written: on to the next. */
static void http_conn_next(struct http_conn *c)
{
    http_request_free(c->req);
    c->req = NULL;
    c->state = HTTP_HEAD;
    c->started = false;
    memset(&c->scan, 0, sizeof(c->scan));
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
        if (c->eof) {
            http_conn_close(c);
            return;
        }
        http_conn_arm(c, HTTP_TIMER_IDLE, c->srv->cfg.idle_timeout_s * 1000);
    }
    bufferevent_enable(c->bev, EV_READ);
    http_conn_advance(c);
}

/* The last answer is written: shut our side, then drain what the peer
 * still sends for a moment (a TLS connection just closes). */
static void http_conn_linger(struct http_conn *c)
{
    bool unread = c->drain || evbuffer_get_length(bufferevent_get_input(c->bev)) > 0;
    if (!unread || c->eof || c->srv->cfg.tls || c->timer_kind == HTTP_TIMER_LINGER) {
        if (c->timer_kind != HTTP_TIMER_LINGER || c->eof)
            http_conn_close(c);
        return;
    }
    (void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    bufferevent_disable(c->bev, EV_WRITE);
    bufferevent_enable(c->bev, EV_READ);
    http_conn_arm(c, HTTP_TIMER_LINGER, HTTP_LINGER_MS);
}

static void http_conn_written(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;
    (void)bev;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
        return;
    switch (c->state) {
    case HTTP_WRITING:
        http_conn_next(c);
        break;
    case HTTP_CLOSING:
        http_conn_linger(c);
        break;
    case HTTP_STREAMING:
        if (c->req && c->req->on_written) {
            c->busy = true;
            c->req->on_written(c->req->on_written_arg);
            c->busy = false;
            http_conn_release(c);
        }
        break;
    default:
        break;
    }
}

static void http_conn_event(struct bufferevent *bev, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)bev;
    if (what == BEV_EVENT_CONNECTED)
        return; /* the TLS handshake is done */
    if (!(what & BEV_EVENT_EOF) || (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))) {
        http_conn_close(c);
        return;
    }
    c->eof = true;
    switch (c->state) {
    case HTTP_WRITING:
        break; /* the answer goes out; http_conn_next then closes */
    case HTTP_CLOSING:
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
            http_conn_close(c);
        break;
    default:
        /* A head or body cut short, a held request or a stream whose
         * peer hung up. */
        http_conn_close(c);
        break;
    }
}

static void http_conn_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)fd;
    (void)what;
    enum http_timer kind = c->timer_kind;
    c->timer_kind = HTTP_TIMER_NONE;
    struct http_server *s = c->srv;
    switch (kind) {
    case HTTP_TIMER_HEADER:
        s->stats.timeouts++;
        if (!c->started) {
            http_conn_close(c); /* nothing came: nobody to tell */
            return;
        }
        http_conn_fail(c, 1, 408, "request_timeout",
                       "the request head did not arrive in time: send it whole within the "
                       "header deadline");
        break;
    case HTTP_TIMER_BODY:
        s->stats.timeouts++;
        http_conn_fail(c, c->req ? c->req->minor : 1, 408, "request_timeout",
                       "the request body did not arrive in time");
        break;
    case HTTP_TIMER_IDLE:
    case HTTP_TIMER_LINGER:
        http_conn_close(c);
        break;
    default:
        break;
    }
}

/* ---- admission ----------------------------------------------------------- */

/* The credential a request presents: the Authorization header first (any
 * scheme other than Bearer counts as a wrong credential), else ?token=.
 * Returns 0 none, 1 one found (*cred, *len), -1 an unusable header. */
static int http_credential(const struct http_request *req, const char **cred, size_t *len)
{
    const char *auth = http_request_header(req, "Authorization");
    if (auth)
        return http_bearer_parse(auth, cred, len) ? 1 : -1;
    const char *tok = evhttp_find_header(&req->query, "token");
    if (tok && *tok) {
        *cred = tok;
        *len = strlen(tok);
        return 1;
    }
    return 0;
}

/* Answer the current request with an error, closing the connection when
 * its body is still unread. */
static void http_refuse(struct http_conn *c, int status, const char *code, const char *message)
{
    struct http_request *r = c->req;
    if (r->body_len > 0) {
        r->close = true;
        c->drain = true;
    }
    if (status == 503) {
        r->close = true;
        evhttp_add_header(&r->out, "Retry-After", "1");
    }
    http_reply_error(r, status, code, message);
}

/* Who the credential is, moving c's count from unauth to that credential.
 * False when req has been answered (401, or the quota). */
static bool http_admit_credential(struct http_conn *c, struct http_request *r)
{
    struct http_server *s = c->srv;
    const char *cred = NULL;
    size_t len = 0;
    int found = http_credential(r, &cred, &len);
    const void *who = NULL;
    enum http_auth a = HTTP_AUTH_INVALID;
    if (found == 1 && s->cfg.authorize)
        a = s->cfg.authorize(s->cfg.arg, cred, len, &who);
    if (a == HTTP_AUTH_INVALID) {
        s->stats.unauthorized++;
        if (found == 0) {
            evhttp_add_header(&r->out, "WWW-Authenticate", "Bearer realm=\"coordhub\"");
            http_refuse(c, 401, "unauthorized",
                        "this endpoint needs the admin token (in <state-dir>/token) or an API "
                        "key: send 'Authorization: Bearer <token>' or add ?token=<token>");
        } else {
            evhttp_add_header(&r->out, "WWW-Authenticate",
                              "Bearer realm=\"coordhub\", error=\"invalid_token\"");
            http_refuse(c, 401, "unauthorized", "the credential is not valid");
        }
        return false;
    }
    r->identity = a == HTTP_AUTH_ADMIN ? NULL : who;
    if (c->cls == HTTP_CLASS_RESERVE && a != HTTP_AUTH_ADMIN) {
        http_note_rejected(s, "reserve");
        http_refuse(c, 503, "unavailable",
                    "the hub is near its connection cap: the remaining connections are reserved "
                    "for the admin token; retry later");
        return false;
    }
    char key[48];
    if (a == HTTP_AUTH_ADMIN)
        snprintf(key, sizeof(key), "%s", HTTP_ADMIN_KEY);
    else
        snprintf(key, sizeof(key), "%p", who);
    if (c->cred && strcmp(c->cred->key, key) == 0)
        return true;
    if (http_count_of(&s->creds, key) >= s->cfg.per_credential) {
        http_note_rejected(s, "credential quota");
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "this credential holds %zu connections, its quota (docs/http-api.md, "
                 "\"Limits\"): reuse them or close some; retry later",
                 s->cfg.per_credential);
        http_refuse(c, 503, "too_many_connections", msg);
        return false;
    }
    http_count_drop(&s->unauth, &c->unauth);
    http_count_drop(&s->creds, &c->cred);
    c->cred = http_count_take(&s->creds, key);
    return true;
}

static const struct http_route *http_route_find(const struct http_server *s, const char *path)
{
    for (size_t i = 0; i < s->cfg.nroutes; i++) {
        const struct http_route *c = &s->cfg.routes[i];
        size_t n = strlen(c->path);
        bool prefix = n >= 2 && strcmp(c->path + n - 2, "/*") == 0;
        if (prefix ? strncmp(c->path, path, n - 1) == 0 && path[n - 1] != '\0'
                   : strcmp(c->path, path) == 0)
            return c;
    }
    return NULL;
}

/* Decide the request on its head. True when its body (if any) is to be
 * read and the handler to run; false when it has been answered. */
static bool http_admit(struct http_conn *c, struct http_request *r)
{
    struct http_server *s = c->srv;
    s->stats.requests++;
    log_debug("http: %s %s", r->method_name, r->path); /* never the query: it may hold a token */
    if (!r->method) {
        r->close = true;
        http_reply_error(r, 501, "not_implemented",
                         "the request method is not one this server knows");
        return false;
    }
    r->route = http_route_find(s, r->path);
    if (c->cls == HTTP_CLASS_OVERFLOW) {
        r->close = true;
        if (!r->route || !r->route->overflow || !(r->method & r->route->methods) ||
            r->body_len > 0) {
            http_note_rejected(s, "connection cap");
            http_refuse(c, 503, "unavailable",
                        "too many connections: the hub is at its connection cap; retry later");
            return false;
        }
    }
    if (r->query_text && evhttp_parse_query_str(r->query_text, &r->query) != 0) {
        http_refuse(c, 400, "invalid_argument", "the query string is malformed");
        return false;
    }
    /* Unknown paths need the credential too: only public routes are
     * visible without it. */
    if ((!r->route || !r->route->public) && !http_admit_credential(c, r))
        return false;
    if (r->body_len > s->cfg.max_body) {
        char msg[96];
        snprintf(msg, sizeof(msg), "the request body is larger than %zu bytes", s->cfg.max_body);
        http_refuse(c, 413, "too_large", msg);
        return false;
    }
    return true;
}

/* ---- reading ------------------------------------------------------------- */

/* What a reading step did. */
enum http_step {
    HTTP_STEP_MORE, /* go on: a head was admitted, its body is next */
    HTTP_STEP_WAIT, /* more bytes are needed, or the request is answering */
    HTTP_STEP_GONE, /* the connection was freed */
};

/* Hand the complete request to its route. */
static enum http_step http_conn_dispatch(struct http_conn *c)
{
    struct http_request *r = c->req;
    c->state = HTTP_HANDLING;
    http_conn_arm(c, HTTP_TIMER_NONE, 0);
    c->busy = true;
    if (!r->route)
        http_reply_error(r, 404, "not_found", "no such endpoint");
    else if (!(r->method & r->route->methods))
        http_reply_not_allowed(r, r->route->methods);
    else
        r->route->run(c->srv->cfg.arg, r, &r->query);
    c->busy = false;
    if (c->dead) {
        http_conn_release(c);
        return HTTP_STEP_GONE;
    }
    return HTTP_STEP_WAIT;
}

/* Move body bytes into the request; dispatch it once whole. */
static enum http_step http_conn_read_body(struct http_conn *c)
{
    struct http_request *r = c->req;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t want = r->body_len - evbuffer_get_length(r->body);
    size_t avail = evbuffer_get_length(in);
    if (avail)
        evbuffer_remove_buffer(in, r->body, avail < want ? avail : want);
    if (evbuffer_get_length(r->body) < r->body_len)
        return HTTP_STEP_WAIT;
    return http_conn_dispatch(c);
}

/* Scan the input for a head; admit it once complete, and dispatch it
 * when it has no body. */
static enum http_step http_conn_read_head(struct http_conn *c)
{
    struct http_server *s = c->srv;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return HTTP_STEP_WAIT;
    if (!c->started) {
        c->started = true;
        if (c->timer_kind != HTTP_TIMER_HEADER)
            http_conn_arm(c, HTTP_TIMER_HEADER, s->cfg.header_timeout_ms);
    }
    size_t look = len < s->lim.max_head + 1 ? len : s->lim.max_head + 1;
    const char *bytes = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
    struct http_parse_error err;
    int n = http_head_scan(&c->scan, bytes, look, &s->lim, &err);
    if (n == 0)
        return HTTP_STEP_WAIT;
    struct http_field fields[HTTP_MAX_FIELDS];
    struct http_head h = {.fields = fields};
    if (n < 0 || http_head_parse(bytes, (size_t)n, &s->lim, &h, &err) != 0) {
        s->stats.malformed++;
        c->drain = true;
        http_conn_fail(c, 1, err.status, err.code, err.message);
        return HTTP_STEP_WAIT;
    }
    c->req = http_request_new(c, bytes, (size_t)n, &h);
    evbuffer_drain(in, (size_t)n);
    c->busy = true;
    bool go = http_admit(c, c->req);
    c->busy = false;
    if (c->dead) {
        http_conn_release(c);
        return HTTP_STEP_GONE;
    }
    if (!go)
        return HTTP_STEP_WAIT;
    if (c->req->body_len == 0)
        return http_conn_dispatch(c);
    c->state = HTTP_BODY;
    http_conn_arm(c, HTTP_TIMER_BODY, s->cfg.body_timeout_ms);
    if (c->req->expect_continue && evbuffer_get_length(in) == 0)
        evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return HTTP_STEP_MORE;
}

/* Read requests from what the input holds, as far as it goes. */
static void http_conn_advance(struct http_conn *c)
{
    for (;;) {
        enum http_step step = HTTP_STEP_WAIT;
        if (c->state == HTTP_HEAD)
            step = http_conn_read_head(c);
        else if (c->state == HTTP_BODY)
            step = http_conn_read_body(c);
        if (step == HTTP_STEP_GONE)
            return;
        if (step == HTTP_STEP_WAIT)
            break;
    }
    if (c->eof && (c->state == HTTP_HEAD || c->state == HTTP_BODY))
        http_conn_close(c);
}

static void http_conn_readable(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (c->state == HTTP_CLOSING) {
        /* Draining: what comes now is never read. */
        size_t n = evbuffer_get_length(in);
        c->lingered += n;
        evbuffer_drain(in, n);
        if (c->lingered > HTTP_LINGER_MAX)
            http_conn_close(c);
        return;
    }
    if (c->state == HTTP_HEAD || c->state == HTTP_BODY)
        http_conn_advance(c);
    /* Otherwise the input waits (up to the read watermark) for its turn. */
}

/* ---- accepting ----------------------------------------------------------- */

/* The oldest silent connection — waiting for a head it has sent nothing
 * of: a fresh one that said nothing, or an idle keep-alive one — that
 * has not presented a credential and comes from peer_ip; with peer_ip
 * NULL, from anywhere, and when none is without a credential, the oldest
 * silent one of any kind. NULL when every connection is doing something.
 * Silent connections are the cheapest to lose and what a flood is made
 * of, so they make room for a new one rather than the new one being
 * refused. */
static struct http_conn *http_oldest_silent(const struct http_server *s, const char *peer_ip)
{
    struct http_conn *unauth = NULL;
    struct http_conn *any = NULL;
    /* The list runs newest first: the last match is the oldest. */
    for (struct http_conn *c = s->conns; c; c = c->next) {
        if (c->state != HTTP_HEAD || c->started || c->req || c->busy || c->dead)
            continue;
        if (c->unauth && (!peer_ip || strcmp(c->peer_ip, peer_ip) == 0))
            unauth = c;
        if (!peer_ip)
            any = c;
    }
    return unauth ? unauth : any;
}

/* Close victim to make room for a new connection; logged at the 1st,
 * 2nd, 4th… time. */
static void http_drop(struct http_server *s, struct http_conn *victim, const char *why)
{
    s->stats.dropped++;
    if (http_log_nth(s->stats.dropped))
        log_warn("http: %s: closed the oldest silent connection for a new one (%llu so far)", why,
                 (unsigned long long)s->stats.dropped);
    http_conn_close(victim);
}

static void http_accept(void *arg, int fd, const struct sockaddr *sa, socklen_t salen)
{
    struct http_server *s = arg;
    size_t cap = s->cfg.max_connections;
    if (s->nconns >= cap + s->cfg.overflow) {
        struct http_conn *victim = http_oldest_silent(s, NULL);
        if (!victim) {
            http_note_rejected(s, "connection cap and overflow");
            close(fd);
            return;
        }
        http_drop(s, victim, "every slot taken");
    }
    struct bufferevent *bev = s->cfg.tls
                                  ? tls_context_bufferevent(s->cfg.tls, s->base)
                                  : bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        close(fd);
        return;
    }
    if (s->cfg.tls && bufferevent_setfd(bev, fd) != 0) {
        bufferevent_free(bev);
        close(fd);
        return;
    }
    struct http_conn *c = xcalloc(1, sizeof(*c));
    c->srv = s;
    c->bev = bev;
    c->cls = s->nconns >= cap                          ? HTTP_CLASS_OVERFLOW
             : s->nconns >= cap - s->cfg.admin_reserve ? HTTP_CLASS_RESERVE
                                                       : HTTP_CLASS_NORMAL;
    struct http_addr pa;
    if (http_addr_from_sockaddr(sa, salen, &pa) == 0) {
        snprintf(c->peer, sizeof(c->peer), "%s", pa.text);
        snprintf(c->peer_ip, sizeof(c->peer_ip), "%s", pa.text);
        char *colon = strrchr(c->peer_ip, ':');
        if (colon)
            *colon = '\0';
    }
    c->timer = event_new(s->base, -1, 0, http_conn_timeout, c);
    if (!c->timer)
        abort(); /* out of memory, as xmalloc would */
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    bufferevent_setcb(bev, http_conn_readable, http_conn_written, http_conn_event, c);
    bufferevent_setwatermark(bev, EV_READ, 0, s->read_high);
    struct timeval wtv = {.tv_sec = s->cfg.idle_timeout_s, .tv_usec = 0};
    bufferevent_set_timeouts(bev, NULL, s->cfg.idle_timeout_s > 0 ? &wtv : NULL);
    /* The quota is never passed, so dropping one of the peer's own
     * counted connections leaves room for this one. */
    bool over = c->cls != HTTP_CLASS_OVERFLOW &&
                http_count_of(&s->unauth, c->peer_ip) >= s->cfg.unauth_per_peer;
    struct http_conn *victim = over ? http_oldest_silent(s, c->peer_ip) : NULL;
    if (over && !victim) {
        http_note_rejected(s, "unauthenticated quota");
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "%zu connections from %s have not presented a credential yet, its quota "
                 "(docs/http-api.md, \"Limits\"): send the credential on the first request; "
                 "retry later",
                 s->cfg.unauth_per_peer, c->peer_ip);
        http_conn_fail(c, 1, 503, "too_many_connections", msg);
        return;
    }
    if (victim)
        http_drop(s, victim, "a peer's quota of connections without a credential");
    if (c->cls != HTTP_CLASS_OVERFLOW)
        c->unauth = http_count_take(&s->unauth, c->peer_ip);
    http_conn_arm(c, HTTP_TIMER_HEADER, s->cfg.header_timeout_ms);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

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

/* ---- the server ---------------------------------------------------------- */

/* The quotas and deadlines of cfg with their defaults filled in
 * (docs/http-api.md, "Limits"). */
static void http_config_defaults(struct http_config *cfg)
{
    size_t cap = cfg->max_connections ? cfg->max_connections : 1;
    cfg->max_connections = cap;
    if (!cfg->overflow) {
        size_t o = cap / 32;
        cfg->overflow = o < 16 ? 16 : o > 64 ? 64 : o;
    }
    /* A quarter of the cap, but never below 16 (or the cap itself). */
    size_t quarter = cap / 4 > 16 ? cap / 4 : cap < 16 ? cap : 16;
    if (!cfg->unauth_per_peer)
        cfg->unauth_per_peer = quarter;
    if (!cfg->per_credential)
        cfg->per_credential = quarter;
    if (!cfg->admin_reserve)
        cfg->admin_reserve = cap / 16;
    if (cfg->admin_reserve >= cap)
        cfg->admin_reserve = cap - 1;
    if (!cfg->max_line)
        cfg->max_line = HTTP_DEFAULT_MAX_LINE;
    if (cfg->max_line > cfg->max_headers)
        cfg->max_line = cfg->max_headers;
    if (cfg->header_timeout_ms <= 0)
        cfg->header_timeout_ms = HTTP_DEFAULT_HEADER_MS;
    if (cfg->body_timeout_ms <= 0)
        cfg->body_timeout_ms = HTTP_DEFAULT_BODY_MS;
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
    http_config_defaults(&s->cfg);
    s->bound = bound;
    s->lim.max_line = s->cfg.max_line;
    s->lim.max_head = s->cfg.max_headers;
    s->lim.max_fields = HTTP_MAX_FIELDS;
    /* A whole head and one byte more (431 is seen), and no less than
     * a socket read's worth. */
    s->read_high =
        s->cfg.max_headers + 1 > HTTP_READ_HIGH_MIN ? s->cfg.max_headers + 1 : HTTP_READ_HIGH_MIN;
    map_init(&s->unauth);
    map_init(&s->creds);
    /* Out of descriptors the listener pauses accepting (net/listener.h). */
    struct listener_config lc = {.what = "HTTP", .pause_ms = 100, .log_interval_ms = 10000};
    int rc = listener_new(base, fd, &lc, http_accept, s, &s->listener);
    if (rc) {
        map_deinit(&s->unauth);
        map_deinit(&s->creds);
        free(s);
        *errmsg = xstrdup("cannot accept connections on the HTTP socket");
        return rc;
    }
    *out = s;
    return 0;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    listener_free(s->listener);
    /* Not from inside a handler: no connection is busy, so each close
     * frees at once (its hook runs first). */
    while (s->conns)
        http_conn_close(s->conns);
    http_counts_free(&s->unauth);
    http_counts_free(&s->creds);
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
    out->connections = s->nconns;
    struct listener_stats ls;
    listener_stats(s->listener, &ls);
    out->accept_failures = ls.failures;
}
