/* sse — SSE frames and streams on evhttp.
 *
 * A stream keeps its request open as a chunked response (plain body for an
 * HTTP/1.0 peer). The first write goes through
 * evhttp_send_reply_chunk_with_cb, which installs our callback on the
 * connection: it runs each time the connection's output has been fully
 * written (that is `drained`), and stays installed for the life of the
 * reply, with writing enabled. Later frames are therefore appended
 * straight to the connection's output buffer with the same chunk framing
 * evhttp would add (`<hex>\r\n<data>\r\n`): the bufferevent schedules
 * the write by itself. That skips, per frame and per subscriber, evhttp's
 * printf of the chunk size, a scratch buffer moved chain by chain and the
 * re-arming of the write event — the bulk of the fan-out's cost. The
 * queue bound is measured on that output buffer, so it counts exactly the
 * bytes the peer has not taken yet.
 *
 * evhttp 2.1 and a peer that goes away mid-stream: the connection is freed
 * (our close hook runs from http.c) and the request is detached from it,
 * left to us to free. When the connection goes for another reason
 * (http_server_free) evhttp frees the request itself. The hook tells the
 * two apart with http_request_detached().
 *
 * Invariants: `req` is NULL once evhttp freed it; `closing` is set before
 * close_ev is activated and never cleared; close_ev runs at most once and
 * frees the stream after `closed` returns. */
#include "net/sse.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "base/xmalloc.h"
#include "net/http.h"

/* Input a peer may send on a stream before we stop reading its socket (a
 * stream has nothing to read; this only bounds a misbehaving peer). */
#define SSE_MAX_INPUT (64 * 1024)

/* ---- encoding ------------------------------------------------------------ */

static bool sse_field_ok(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

int sse_encode_event(struct buf *out, const char *id, const char *type, const char *data,
                     size_t len)
{
    if ((id && !sse_field_ok(id)) || (type && !sse_field_ok(type)) ||
        (data && memchr(data, '\0', len)))
        return -ERR_INVALID;
    size_t mark = out->len;
    int rc = 0;
    if (id)
        rc = buf_printf(out, "id: %s\n", id);
    if (!rc && type)
        rc = buf_printf(out, "event: %s\n", type);
    const char *p = data ? data : "";
    const char *end = p + (data ? len : 0);
    while (!rc) {
        const char *eol = p;
        while (eol < end && *eol != '\n' && *eol != '\r')
            eol++;
        rc = buf_append(out, "data: ", 6);
        if (!rc)
            rc = buf_append(out, p, (size_t)(eol - p));
        if (!rc)
            rc = buf_append(out, "\n", 1);
        if (eol == end)
            break;
        if (*eol == '\r' && eol + 1 < end && eol[1] == '\n')
            eol++;
        p = eol + 1;
    }
    if (!rc)
        rc = buf_append(out, "\n", 1);
    if (rc) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}

int sse_encode_comment(struct buf *out, const char *text)
{
    if (!sse_field_ok(text))
        return -ERR_INVALID;
    return buf_printf(out, ": %s\n\n", text);
}

int sse_parse_id(const char *text, uint64_t *out)
{
    if (!text)
        return -ERR_INVALID;
    while (*text == ' ' || *text == '\t')
        text++;
    if (*text < '0' || *text > '9')
        return -ERR_INVALID;
    uint64_t v = 0;
    for (; *text >= '0' && *text <= '9'; text++) {
        unsigned d = (unsigned)(*text - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERR_INVALID;
        v = v * 10 + d;
    }
    while (*text == ' ' || *text == '\t')
        text++;
    if (*text)
        return -ERR_INVALID;
    *out = v;
    return 0;
}

/* ---- streams ------------------------------------------------------------- */

struct sse_stream {
    struct http_server *srv;
    struct evhttp_request *req; /* NULL once evhttp freed it */
    bool req_detached;          /* evhttp let go of req: ours to free */
    bool peer_gone;             /* the connection no longer exists */
    bool closing;
    bool chunked;               /* the reply is chunked (an HTTP/1.1 peer) */
    bool writing;               /* evhttp has installed the write callback */
    struct bufferevent *bev;    /* the connection's; valid while !peer_gone */
    struct event *heartbeat_ev; /* persistent timer, or NULL */
    struct event *close_ev;     /* runs sse_stream_finish from the loop */
    struct evbuffer *chunk;     /* scratch: one frame batch on its way out */
    struct sse_stream_opts opts;
    struct sse_stream_cbs cbs;
    void *arg;
};

static void sse_stream_written(struct evhttp_connection *evcon, void *arg)
{
    struct sse_stream *s = arg;
    (void)evcon;
    if (!s->closing && s->cbs.drained)
        s->cbs.drained(s->arg);
}

/* Drop the connection (if it still exists) and release the request. */
static void sse_stream_release(struct sse_stream *s)
{
    if (!s->req)
        return;
    if (s->req_detached) {
        evhttp_request_free(s->req);
    } else if (!s->peer_gone) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(s->req);
        http_request_on_close(s->srv, s->req, NULL, NULL);
        /* Frees the request with it: a cut-off peer gets no orderly end of
         * the chunked body, which tells it the stream broke (it resumes). */
        if (evcon)
            evhttp_connection_free(evcon);
    }
    s->req = NULL;
}

static void sse_stream_destroy(struct sse_stream *s)
{
    if (s->heartbeat_ev)
        event_free(s->heartbeat_ev);
    event_free(s->close_ev);
    evbuffer_free(s->chunk);
    free(s);
}

static void sse_stream_finish(evutil_socket_t fd, short what, void *arg)
{
    struct sse_stream *s = arg;
    (void)fd;
    (void)what;
    sse_stream_release(s);
    s->cbs.closed(s->arg);
    sse_stream_destroy(s);
}

static void sse_stream_begin_close(struct sse_stream *s)
{
    if (s->closing)
        return;
    s->closing = true;
    if (s->heartbeat_ev)
        event_del(s->heartbeat_ev);
    event_active(s->close_ev, EV_TIMEOUT, 0);
}

/* The connection is being freed by evhttp (from http.c's close hook). */
static void sse_stream_conn_closed(void *arg)
{
    struct sse_stream *s = arg;
    s->peer_gone = true;
    if (s->req && http_request_detached(s->req))
        s->req_detached = true; /* freed in sse_stream_finish */
    else
        s->req = NULL; /* evhttp frees it right after this hook */
    sse_stream_begin_close(s);
}

static void sse_stream_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    struct sse_stream *s = arg;
    (void)fd;
    (void)what;
    static const char beat[] = ": heartbeat\n\n";
    (void)sse_stream_send(s, beat, sizeof(beat) - 1); /* failure closes the stream */
}

struct sse_stream *sse_stream_start(struct http_server *srv, struct event_base *base,
                                    struct evhttp_request *req, const struct sse_stream_opts *opts,
                                    const struct sse_stream_cbs *cbs, void *arg)
{
    struct sse_stream *s = xcalloc(1, sizeof(*s));
    s->srv = srv;
    s->req = req;
    s->opts = *opts;
    s->cbs = *cbs;
    s->arg = arg;
    s->chunk = evbuffer_new();
    s->close_ev = event_new(base, -1, 0, sse_stream_finish, s);
    if (!s->chunk || !s->close_ev)
        abort(); /* out of memory, as xmalloc would */
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Accel-Buffering", "no"); /* proxies: do not buffer */
    evhttp_send_reply_start(req, 200, NULL);
    /* evhttp chose the framing: chunked for HTTP/1.1, raw otherwise. */
    const char *te = evhttp_find_header(h, "Transfer-Encoding");
    s->chunked = te && strcasecmp(te, "chunked") == 0;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon) {
        /* The idle timeout would cut a stream the peer only reads: keep a
         * write timeout alone, and bound what the peer may send us. */
        struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
        s->bev = bev;
        /* Frames go out whole, each as soon as it is committed: Nagle
         * would hold a frame back until the peer acknowledges the last
         * one, and a peer that only reads delays its acknowledgements
         * (up to 40 ms on Linux). A Unix socket has no such option. */
        int one = 1;
        (void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct timeval wtv = {.tv_sec = opts->write_timeout_s, .tv_usec = 0};
        bufferevent_set_timeouts(bev, NULL, opts->write_timeout_s > 0 ? &wtv : NULL);
        bufferevent_setwatermark(bev, EV_READ, 0, SSE_MAX_INPUT);
        http_request_on_close(srv, req, sse_stream_conn_closed, s);
    } else {
        s->peer_gone = true;
        s->req = NULL;
        sse_stream_begin_close(s);
        return s;
    }
    if (opts->heartbeat_ms > 0) {
        s->heartbeat_ev = event_new(base, -1, EV_PERSIST, sse_stream_heartbeat, s);
        if (!s->heartbeat_ev)
            abort();
        struct timeval tv = {.tv_sec = opts->heartbeat_ms / 1000,
                             .tv_usec = (opts->heartbeat_ms % 1000) * 1000};
        event_add(s->heartbeat_ev, &tv);
    }
    if (opts->retry_ms > 0) {
        char line[48];
        int n = snprintf(line, sizeof(line), "retry: %lld\n\n", (long long)opts->retry_ms);
        if (n > 0 && (size_t)n < sizeof(line))
            (void)sse_stream_send(s, line, (size_t)n); /* failure closes the stream */
    }
    return s;
}

int sse_stream_send(struct sse_stream *s, const char *data, size_t len)
{
    if (s->closing || !s->req || s->peer_gone)
        return -ERR_STATE;
    if (len == 0)
        return 0;
    if (sse_stream_pending(s) + len > s->opts.max_pending) {
        sse_stream_begin_close(s);
        return -ERR_TOO_LARGE;
    }
    if (!s->writing) {
        /* The first write installs the drained callback (see the top). */
        if (evbuffer_add(s->chunk, data, len) != 0) {
            sse_stream_begin_close(s);
            return -ERR_TOO_LARGE;
        }
        evhttp_send_reply_chunk_with_cb(s->req, s->chunk, sse_stream_written, s);
        evbuffer_drain(s->chunk, evbuffer_get_length(s->chunk)); /* moved already; be sure */
        s->writing = true;
        return 0;
    }
    struct evbuffer *out = bufferevent_get_output(s->bev);
    char size[24];
    size_t n = 0;
    if (s->chunked) {
        /* The chunk-size line, in hex as evhttp writes it. */
        char digits[16];
        size_t nd = 0;
        for (size_t v = len; v; v >>= 4)
            digits[nd++] = "0123456789abcdef"[v & 15];
        while (nd)
            size[n++] = digits[--nd];
        size[n++] = '\r';
        size[n++] = '\n';
    }
    if ((n && evbuffer_add(out, size, n) != 0) || evbuffer_add(out, data, len) != 0 ||
        (s->chunked && evbuffer_add(out, "\r\n", 2) != 0)) {
        sse_stream_begin_close(s);
        return -ERR_TOO_LARGE;
    }
    return 0;
}

size_t sse_stream_pending(const struct sse_stream *s)
{
    if (!s->req || s->peer_gone || !s->bev)
        return 0;
    return evbuffer_get_length(bufferevent_get_output(s->bev));
}

bool sse_stream_closing(const struct sse_stream *s)
{
    return s->closing;
}

void sse_stream_close(struct sse_stream *s)
{
    sse_stream_begin_close(s);
}

void sse_stream_end(struct sse_stream *s, int idle_s)
{
    if (s->closing)
        return;
    if (!s->req || s->peer_gone || s->req_detached) {
        sse_stream_begin_close(s);
        return;
    }
    struct evhttp_connection *evcon = evhttp_request_get_connection(s->req);
    if (evcon) {
        /* The connection is evhttp's again: its usual timeouts and no
         * input bound beyond evhttp's own. */
        struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
        struct timeval tv = {.tv_sec = idle_s, .tv_usec = 0};
        bufferevent_set_timeouts(bev, idle_s > 0 ? &tv : NULL, idle_s > 0 ? &tv : NULL);
        bufferevent_setwatermark(bev, EV_READ, 0, 0);
        http_request_on_close(s->srv, s->req, NULL, NULL);
    }
    /* evhttp appends the last chunk behind the frames already in the
     * output (ours included) and owns the request from here: it frees it
     * once that is written, or with the connection if the peer leaves. */
    evhttp_send_reply_end(s->req);
    s->req = NULL;
    sse_stream_begin_close(s);
}

void sse_stream_free(struct sse_stream *s)
{
    if (!s)
        return;
    sse_stream_release(s);
    sse_stream_destroy(s);
}
