/* sse — Server-Sent Events: the frame encoding (pure) and one stream over
 * an HTTP request of net/http.h (transport).
 *
 * A stream answers its request with `200 text/event-stream`, sends the
 * `retry:` line first, then whatever its owner hands it, plus a comment
 * heartbeat on an interval. Output is queued in the connection and capped:
 * a send that would take the queue past max_pending closes the stream
 * instead, so a peer that stops reading costs a bounded amount of memory
 * and never slows the sender (it reconnects and resumes with
 * Last-Event-ID). A peer that takes nothing for write_timeout_s is cut off
 * as well.
 *
 * Life cycle (libuv's rule): `closed` runs exactly once, from the loop,
 * never from inside a call the owner made; the stream is freed right
 * after it returns. sse_stream_free() ends a stream at once without any
 * callback (owner teardown); it must not be called from inside one of the
 * stream's callbacks. */
#ifndef COORDHUB_NET_SSE_H
#define COORDHUB_NET_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct event_base;
struct http_request;
struct sse_stream;

/* ---- encoding (pure) ----------------------------------------------------- */

/* Append one event frame: `id: <id>` (omitted when id is NULL), `event:
 * <type>` (omitted when NULL), one `data: ` line per line of data (LF,
 * CRLF or CR separated; len bytes), then the blank line. -ERR_INVALID if id
 * or type holds a CR, LF or NUL; -ERR_TOO_LARGE past the buffer's cap
 * (the buffer is then left as it was). */
COORDHUB_MUST_CHECK int sse_encode_event(struct buf *out, const char *id, const char *type,
                                         const char *data, size_t len);
/* Append a comment frame ": <text>\n\n". -ERR_INVALID if text holds CR/LF. */
COORDHUB_MUST_CHECK int sse_encode_comment(struct buf *out, const char *text);
/* Parse an event id as sent by this hub: decimal digits only (surrounding
 * spaces allowed), no sign, at most UINT64_MAX. 0 or -ERR_INVALID. */
COORDHUB_MUST_CHECK int sse_parse_id(const char *text, uint64_t *out);

/* ---- streams ------------------------------------------------------------- */

struct sse_stream_opts {
    size_t max_pending;   /* bytes queued for the peer before it is cut off */
    int64_t heartbeat_ms; /* comment interval; 0: no heartbeat */
    int64_t retry_ms;     /* sent first as `retry:`; 0: not sent */
    int write_timeout_s;  /* no write progress for this long cuts the peer; 0: none */
};

struct sse_stream_cbs {
    /* Everything queued so far has been written: room for more. May be
     * NULL. */
    void (*drained)(void *arg);
    /* The stream ended (peer gone, cut off, or sse_stream_close). Required. */
    void (*closed)(void *arg);
};

/* Take req over as an event stream. Sends the response head and the
 * retry line at once. Never NULL. */
struct sse_stream *sse_stream_start(struct event_base *base, struct http_request *req,
                                    const struct sse_stream_opts *opts,
                                    const struct sse_stream_cbs *cbs, void *arg);
/* Queue len bytes (whole frames). 0; -ERR_TOO_LARGE when they would take
 * the queue past max_pending (nothing is queued and the stream is
 * closing); -ERR_STATE when the stream is closing already. A failure needs
 * no handling beyond not sending more: the stream closes itself. */
int sse_stream_send(struct sse_stream *s, const char *data, size_t len);
/* Bytes queued and not yet taken by the peer. */
size_t sse_stream_pending(const struct sse_stream *s);
/* True once the stream is closing: sends fail, `closed` is on its way. */
bool sse_stream_closing(const struct sse_stream *s);
/* End the stream: the connection is dropped from the loop, then `closed`
 * runs. Idempotent. */
void sse_stream_close(struct sse_stream *s);
/* End the stream in order: the chunked body is terminated after what is
 * queued, so the peer sees a complete response, and the connection stays
 * open for its next request (with its idle timeout again). Sends fail
 * from now on; `closed` runs from the loop, as for sse_stream_close. A
 * stream whose peer is gone just closes. */
void sse_stream_end(struct sse_stream *s);
/* End the stream now, without callbacks. NULL ok. */
void sse_stream_free(struct sse_stream *s);

#endif
