/* httpc — the little HTTP/1.1 the HTTP benches need, without a library:
 * a loopback TCP connect, a response parser that does no I/O (bytes in,
 * a response out, or "not yet"), and a streaming decoder for chunked
 * bodies (an SSE stream is one endless chunked body).
 *
 * The same code reads the hub, the reference Node server and the baseline
 * SSE writer, so the client's share of every figure is the same on both
 * sides of a ratio. Only what the benches send back is understood:
 * Content-Length or chunked bodies, no trailers worth keeping, no
 * 1xx responses. */
#ifndef COORDHUB_BENCH_HTTPC_H
#define COORDHUB_BENCH_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

/* Cap on a response head and on a non-streamed body. */
#define HTTPC_MAX_HEAD (64 * 1024)
#define HTTPC_MAX_BODY (16 * 1024 * 1024)

/* Connect a TCP socket to "HOST:PORT" (an IPv4 literal, e.g. the content
 * of the hub's http.addr). Blocking, TCP_NODELAY set. The socket, or
 * -errno (-EINVAL for a malformed address). */
int httpc_connect(const char *addr);

/* Read the first line of a file (the hub's token or http.addr) into out
 * without its newline. 0 or -errno (-EINVAL when empty or too long). */
int httpc_read_line_file(const char *path, char *out, size_t cap);

/* Write all of len bytes to a blocking or non-blocking socket (waits for
 * room with poll). 0 or -errno. */
int httpc_write_all(int fd, const char *data, size_t len);

/* A parsed response head. */
struct httpc_head {
    int status;
    bool chunked;
    long long content_length; /* -1 when absent */
    bool event_stream;        /* Content-Type: text/event-stream */
    char session[160];        /* MCP-Session-Id, "" when absent */
    size_t head_len;          /* bytes of the head, blank line included */
};

/* Parse a response head at the start of buf. Returns 1 when it is
 * complete (h filled), 0 when more bytes are needed, -1 when it is
 * malformed or longer than HTTPC_MAX_HEAD. */
int httpc_parse_head(const char *buf, size_t len, struct httpc_head *h);

/* Incremental chunked-body decoder: feed it raw bytes, it hands out the
 * payload in place. */
struct httpc_chunks {
    int state;               /* internal */
    unsigned long long left; /* payload bytes left in the current chunk */
    bool done;               /* the terminating chunk and its CRLF were read */
};

void httpc_chunks_init(struct httpc_chunks *c);
/* Decode from *in (len bytes): returns the length of the next run of
 * payload, which starts at *out (a pointer into in), and sets *used to the
 * bytes of in consumed (framing included). Call again with the rest until
 * used == len. Returns -1 on a malformed stream. A run of length 0 with
 * used == len means "need more bytes". */
long long httpc_chunks_feed(struct httpc_chunks *c, const char *in, size_t len, const char **out,
                            size_t *used);

/* A whole response read on a blocking socket (status, head, body) into
 * the connection's buffer. */
struct httpc_conn {
    int fd;
    char *buf; /* owned: raw bytes read, not yet consumed */
    size_t len;
    size_t cap;
    char *body; /* owned: the decoded body of the last response */
    size_t body_len;
    size_t body_cap;
    struct httpc_head head; /* of the last response */
};

/* Connect (see httpc_connect). 0 or -errno; on error c is closed. */
int httpc_conn_open(struct httpc_conn *c, const char *addr);
/* Send a request and read its whole response (head in c->head, body in
 * c->body, NUL-terminated). 0, or -errno / -EPROTO (malformed, or a body
 * past HTTPC_MAX_BODY) / -ECONNRESET (closed early). */
int httpc_conn_roundtrip(struct httpc_conn *c, const char *req, size_t len);
void httpc_conn_close(struct httpc_conn *c);

#endif
