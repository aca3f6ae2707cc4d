/* sse — SSE frames and streams on the hub's HTTP server.
 *
 * A stream keeps its request open as a streamed answer (http_reply_start:
 * chunked for HTTP/1.1, a plain body to the connection's end for
 * HTTP/1.0). Frames go straight into the connection's output
 * (http_reply_chunk); the server calls our written hook each time that
 * output has been fully written (`drained`). The queue bound is measured
 * on that output, so it counts exactly the bytes the peer has not taken
 * yet.
 *
 * A peer that goes away mid-stream: the server runs our close hook and
 * frees the request right after, so `req` is NULL from then on.
 *
 * Invariants: `req` is NULL once the server let go of it; `closing` is set
 * before close_ev is activated and never cleared; close_ev runs at most
 * once and frees the stream after `closed` returns. */
#include "net/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "base/xmalloc.h"
#include "net/http.h"

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
    struct http_request *req; /* NULL once the server let go of it */
    bool closing;
    struct event *heartbeat_ev; /* persistent timer, or NULL */
    struct event *close_ev;     /* runs sse_stream_finish from the loop */
    struct sse_stream_opts opts;
    struct sse_stream_cbs cbs;
    void *arg;
};

static void sse_stream_written(void *arg)
{
    struct sse_stream *s = arg;
    if (!s->closing && s->cbs.drained)
        s->cbs.drained(s->arg);
}

/* Drop the connection (if it still exists): a cut-off peer gets no
 * orderly end of the body, which tells it the stream broke (it resumes). */
static void sse_stream_release(struct sse_stream *s)
{
    struct http_request *req = s->req;
    s->req = NULL;
    if (!req)
        return;
    http_request_on_close(req, NULL, NULL);
    http_request_on_written(req, NULL, NULL);
    http_request_close(req);
}

static void sse_stream_destroy(struct sse_stream *s)
{
    if (s->heartbeat_ev)
        event_free(s->heartbeat_ev);
    event_free(s->close_ev);
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

/* The connection is going (the server's close hook): req goes with it. */
static void sse_stream_conn_closed(void *arg)
{
    struct sse_stream *s = arg;
    s->req = NULL;
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

struct sse_stream *sse_stream_start(struct event_base *base, struct http_request *req,
                                    const struct sse_stream_opts *opts,
                                    const struct sse_stream_cbs *cbs, void *arg)
{
    struct sse_stream *s = xcalloc(1, sizeof(*s));
    s->req = req;
    s->opts = *opts;
    s->cbs = *cbs;
    s->arg = arg;
    s->close_ev = event_new(base, -1, 0, sse_stream_finish, s);
    if (!s->close_ev)
        abort(); /* out of memory, as xmalloc would */
    http_request_add_header(req, "Content-Type", "text/event-stream; charset=utf-8");
    http_request_add_header(req, "Cache-Control", "no-store");
    http_request_add_header(req, "X-Accel-Buffering", "no"); /* proxies: do not buffer */
    /* No idle timeout on a stream the peer only reads: a write timeout
     * alone, and the server bounds what the peer may send meanwhile. */
    http_reply_start(req, 200, opts->write_timeout_s);
    http_request_on_close(req, sse_stream_conn_closed, s);
    http_request_on_written(req, sse_stream_written, s);
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
    if (s->closing || !s->req)
        return -ERR_STATE;
    if (len == 0)
        return 0;
    if (sse_stream_pending(s) + len > s->opts.max_pending) {
        sse_stream_begin_close(s);
        return -ERR_TOO_LARGE;
    }
    if (http_reply_chunk(s->req, data, len) != 0) {
        sse_stream_begin_close(s);
        return -ERR_TOO_LARGE;
    }
    return 0;
}

size_t sse_stream_pending(const struct sse_stream *s)
{
    return s->req ? http_request_pending(s->req) : 0;
}

bool sse_stream_closing(const struct sse_stream *s)
{
    return s->closing;
}

void sse_stream_close(struct sse_stream *s)
{
    sse_stream_begin_close(s);
}

void sse_stream_end(struct sse_stream *s)
{
    if (s->closing)
        return;
    struct http_request *req = s->req;
    s->req = NULL;
    if (req) {
        /* The body ends behind the frames already queued; the server owns
         * the request from here (the connection goes on with its idle
         * timeout). */
        http_request_on_close(req, NULL, NULL);
        http_request_on_written(req, NULL, NULL);
        http_reply_end(req);
    }
    sse_stream_begin_close(s);
}

void sse_stream_free(struct sse_stream *s)
{
    if (!s)
        return;
    sse_stream_release(s);
    sse_stream_destroy(s);
}
