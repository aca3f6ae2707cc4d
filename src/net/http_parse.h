/* http_parse — a strict parser of HTTP/1.1 request heads (RFC 9112), pure.
 *
 * No I/O and no allocation: the server (http.c) hands it the bytes it has
 * read so far and gets back either "not yet", the length of a complete
 * head, or a refusal with the HTTP status and a precise message. Parsing
 * is in two steps so a head that trickles in is not parsed again and
 * again: http_head_scan() walks the bytes once, resuming where it
 * stopped, checks line ends and size limits and finds the blank line;
 * http_head_parse() then reads the complete head once.
 *
 * What is refused (docs/http-api.md, "Strictness"):
 *   - line ends other than CRLF (a bare LF or a bare CR): 400;
 *   - a request line that is not `token SP target SP HTTP/x.y`: 400; one
 *     longer than max_line: 414; a version other than HTTP/1.0 and
 *     HTTP/1.1: 505; a target that is not origin-form (`/…`) or `*`
 *     (with OPTIONS only): 400 (absolute-form is refused too);
 *   - a head (request line and fields) longer than max_head, or with more
 *     than max_fields fields: 431;
 *   - a field name that is not a token or is followed by whitespace before
 *     the colon, obs-fold (a line starting with SP or HTAB), a control
 *     character in a value: 400;
 *   - a second Content-Length (even an equal one), Host, Origin or
 *     Authorization; a Content-Length that is not plain decimal digits (at
 *     most 18); Content-Length together with Transfer-Encoding; HTTP/1.1
 *     without Host: 400;
 *   - Transfer-Encoding: 411 when it is `chunked` (request bodies must
 *     come with Content-Length: every client of the hub knows its body's
 *     size, and no chunked decoder means no chunk-size smuggling), 501 for
 *     any other coding;
 *   - an Expect other than `100-continue`: 417.
 *
 * Invariants: a field's name and value point into the buffer parsed; a
 * value is trimmed of surrounding SP/HTAB; http_head_scan() never reads
 * past len and never looks at a byte twice (bar the one before a line
 * end). */
#ifndef COORDHUB_NET_HTTP_PARSE_H
#define COORDHUB_NET_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_parse_limits {
    size_t max_line;   /* bytes of the request line, CRLF excluded: 414 beyond */
    size_t max_head;   /* bytes of the head, blank line included: 431 beyond */
    size_t max_fields; /* header fields: 431 beyond */
};

/* A refusal: the HTTP status to answer, a stable code for the JSON error
 * and a message (static text). */
struct http_parse_error {
    int status;
    const char *code;
    const char *message;
};

/* Where a scan stopped; zero it before the first call for a head. */
struct http_scan {
    size_t pos;    /* bytes looked at */
    size_t line;   /* start of the current line */
    size_t nlines; /* complete lines so far (the request line counts) */
};

/* Look at buf[0..len) from where st stopped. Returns the length of the
 * complete head (blank line included) when it ends within buf, 0 when
 * more bytes are needed, -1 when the head is refused (*err filled). Call
 * it again with the same buffer grown at its end. Empty lines before the
 * request line are not skipped (a client that sends CRLF between
 * requests is refused with 400). */
int http_head_scan(struct http_scan *st, const char *buf, size_t len,
                   const struct http_parse_limits *lim, struct http_parse_error *err);

struct http_field {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct http_head {
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    int minor;                 /* HTTP/1.<minor>: 0 or 1 */
    struct http_field *fields; /* the caller's array, max_fields long */
    size_t nfields;
    bool has_length;         /* a Content-Length field */
    uint64_t content_length; /* its value (0 without one) */
    bool close;              /* the connection ends after this request */
    bool expect_continue;    /* Expect: 100-continue */
};

/* Parse the complete head buf[0..len) (as found by http_head_scan) into
 * out, whose `fields` array the caller provides (max_fields entries).
 * Returns 0, or -1 with *err filled. */
int http_head_parse(const char *buf, size_t len, const struct http_parse_limits *lim,
                    struct http_head *out, struct http_parse_error *err);

/* The value of the first field called name (case-insensitive), or NULL;
 * *len its length. */
const char *http_head_field(const struct http_head *h, const char *name, size_t *len);

#endif
