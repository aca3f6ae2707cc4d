/* http_parse — strict HTTP/1.1 request heads (see the header for the rules).
 *
 * The scan checks only what it can check byte by byte (line ends, sizes);
 * everything about the meaning of a line is left to http_head_parse,
 * which sees the complete head once. */
#include "net/http_parse.h"

#include <string.h>
#include <strings.h>

static int http_refuse(struct http_parse_error *err, int status, const char *code,
                       const char *message)
{
    err->status = status;
    err->code = code;
    err->message = message;
    return -1;
}

static int http_bad(struct http_parse_error *err, const char *message)
{
    return http_refuse(err, 400, "bad_request", message);
}

/* ---- scan ---------------------------------------------------------------- */

int http_head_scan(struct http_scan *st, const char *buf, size_t len,
                   const struct http_parse_limits *lim, struct http_parse_error *err)
{
    for (; st->pos < len; st->pos++) {
        char c = buf[st->pos];
        if (st->pos >= lim->max_head)
            return http_refuse(err, 431, "headers_too_large",
                               "the request head (request line and header fields) is larger "
                               "than this server accepts");
        if (c == '\r') {
            if (st->pos + 1 == len)
                return 0; /* looked at again with the byte after it */
            if (buf[st->pos + 1] != '\n')
                return http_bad(err, "a bare CR in the request head: lines end with CRLF");
            continue;
        }
        if (c != '\n') {
            if (st->nlines == 0 && st->pos - st->line >= lim->max_line)
                return http_refuse(err, 414, "uri_too_long",
                                   "the request line (method, target and version) is longer "
                                   "than this server accepts");
            continue;
        }
        if (st->pos == 0 || buf[st->pos - 1] != '\r')
            return http_bad(err, "a bare LF in the request head: lines end with CRLF");
        size_t start = st->line;
        st->line = st->pos + 1;
        if (st->pos - 1 == start) {
            /* An empty line: the end of the head, or (first) a stray CRLF. */
            if (st->nlines == 0)
                return http_bad(err, "an empty line before the request line");
            st->pos++;
            return (int)st->pos;
        }
        st->nlines++;
        if (st->nlines > lim->max_fields + 1)
            return http_refuse(err, 431, "headers_too_large",
                               "the request has more header fields than this server accepts");
    }
    return 0;
}

/* ---- parse --------------------------------------------------------------- */

/* RFC 9110 tchar. */
static bool http_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A field value byte: VCHAR, obs-text, SP or HTAB. */
static bool http_vchar(unsigned char c)
{
    return c == ' ' || c == '\t' || (c > 0x20 && c != 0x7f);
}

static size_t http_token_len(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && http_tchar((unsigned char)p[i]))
        i++;
    return i;
}

static int http_parse_request_line(const char *p, size_t n, struct http_head *out,
                                   struct http_parse_error *err)
{
    size_t m = http_token_len(p, n);
    if (m == 0 || m >= n || p[m] != ' ')
        return http_bad(err, "the request line must be 'METHOD SP target SP HTTP/1.1'");
    out->method = p;
    out->method_len = m;
    const char *t = p + m + 1;
    const char *end = p + n;
    const char *sp = memchr(t, ' ', (size_t)(end - t));
    if (!sp || sp == t)
        return http_bad(err, "the request line must be 'METHOD SP target SP HTTP/1.1'");
    for (const char *q = t; q < sp; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
            return http_bad(err, "the request target holds a byte that is not visible ASCII");
    out->target = t;
    out->target_len = (size_t)(sp - t);
    if (t[0] == '*') {
        if (out->target_len != 1 || m != 7 || memcmp(p, "OPTIONS", 7) != 0)
            return http_bad(err, "the target '*' is for OPTIONS only");
    } else if (t[0] != '/') {
        return http_bad(err, "the request target must be a path starting with '/' (absolute "
                             "and authority forms are not accepted)");
    }
    const char *v = sp + 1;
    size_t vn = (size_t)(end - v);
    if (vn != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
        v[7] < '0' || v[7] > '9')
        return http_bad(err, "the request line must end with the version, e.g. HTTP/1.1");
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return http_refuse(err, 505, "version_not_supported",
                           "only HTTP/1.0 and HTTP/1.1 are served");
    out->minor = v[7] - '0';
    return 0;
}

static bool http_name_is(const struct http_field *f, const char *name)
{
    return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

/* True when the comma-separated list value holds token tok
 * (case-insensitive). */
static bool http_list_has(const char *v, size_t n, const char *tok)
{
    size_t tn = strlen(tok);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tn && strncasecmp(v + s, tok, tn) == 0)
            return true;
    }
    return false;
}

static int http_parse_field(const char *p, size_t n, struct http_field *f,
                            struct http_parse_error *err)
{
    if (p[0] == ' ' || p[0] == '\t')
        return http_bad(err, "a header line starts with whitespace (obs-fold is not accepted)");
    size_t m = http_token_len(p, n);
    if (m < n && (p[m] == ' ' || p[m] == '\t'))
        return http_bad(err, "whitespace between a header field name and its colon");
    if (m == 0 || m >= n || p[m] != ':')
        return http_bad(err, "a header line is not 'Name: value' with a token as its name");
    f->name = p;
    f->name_len = m;
    const char *v = p + m + 1;
    const char *end = p + n;
    for (const char *q = v; q < end; q++)
        if (!http_vchar((unsigned char)*q))
            return http_bad(err, "a header field value holds a control character");
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    f->value = v;
    f->value_len = (size_t)(end - v);
    return 0;
}

/* Content-Length: 1 to 18 decimal digits, nothing else. */
static int http_parse_length(const struct http_field *f, uint64_t *out,
                             struct http_parse_error *err)
{
    if (f->value_len == 0 || f->value_len > 18)
        return http_bad(err, "Content-Length must be a decimal number of at most 18 digits");
    uint64_t v = 0;
    for (size_t i = 0; i < f->value_len; i++) {
        char c = f->value[i];
        if (c < '0' || c > '9')
            return http_bad(err, "Content-Length must be plain decimal digits");
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return 0;
}

/* Framing and the fields that must not come twice. */
static int http_check_fields(struct http_head *out, struct http_parse_error *err)
{
    static const struct {
        const char *name;
        const char *message;
    } once[] = {
        {"Content-Length", "Content-Length is given more than once"},
        {"Host", "Host is given more than once"},
        {"Origin", "Origin is given more than once"},
        {"Authorization", "Authorization is given more than once"},
    };
    bool seen[sizeof(once) / sizeof(once[0])] = {false};
    bool te = false, host = false;
    const struct http_field *cl = NULL;
    for (size_t i = 0; i < out->nfields; i++) {
        const struct http_field *f = &out->fields[i];
        for (size_t k = 0; k < sizeof(once) / sizeof(once[0]); k++) {
            if (!http_name_is(f, once[k].name))
                continue;
            if (seen[k])
                return http_bad(err, once[k].message);
            seen[k] = true;
        }
        if (http_name_is(f, "Content-Length"))
            cl = f;
        else if (http_name_is(f, "Host"))
            host = true;
        else if (http_name_is(f, "Transfer-Encoding"))
            te = true;
    }
    if (te && cl)
        return http_bad(err, "Content-Length and Transfer-Encoding together are ambiguous");
    if (te) {
        size_t n;
        const char *v = http_head_field(out, "Transfer-Encoding", &n);
        if (http_list_has(v, n, "chunked"))
            return http_refuse(err, 411, "length_required",
                               "chunked request bodies are not accepted: send the body with "
                               "Content-Length");
        return http_refuse(err, 501, "not_implemented",
                           "a Transfer-Encoding other than chunked is not implemented");
    }
    if (out->minor == 1 && !host)
        return http_bad(err, "an HTTP/1.1 request must have a Host header");
    if (cl && http_parse_length(cl, &out->content_length, err) != 0)
        return -1;
    out->has_length = cl != NULL;
    size_t n;
    const char *v = http_head_field(out, "Connection", &n);
    out->close = out->minor == 0 ? !(v && http_list_has(v, n, "keep-alive"))
                                 : (v && http_list_has(v, n, "close"));
    v = http_head_field(out, "Expect", &n);
    if (v) {
        if (n != 12 || strncasecmp(v, "100-continue", 12) != 0)
            return http_refuse(err, 417, "expectation_failed",
                               "the only Expect accepted is 100-continue");
        out->expect_continue = out->minor == 1;
    }
    return 0;
}

int http_head_parse(const char *buf, size_t len, const struct http_parse_limits *lim,
                    struct http_head *out, struct http_parse_error *err)
{
    struct http_field *fields = out->fields;
    memset(out, 0, sizeof(*out));
    out->fields = fields;
    if (len < 4 || memcmp(buf + len - 4, "\r\n\r\n", 4) != 0)
        return http_bad(err, "the request head does not end with an empty line");
    const char *p = buf, *end = buf + len - 2; /* the final CRLF */
    bool first = true;
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol || eol + 1 >= buf + len || eol[1] != '\n')
            return http_bad(err, "a bare CR in the request head: lines end with CRLF");
        size_t n = (size_t)(eol - p);
        if (memchr(p, '\n', n))
            return http_bad(err, "a bare LF in the request head: lines end with CRLF");
        if (first) {
            if (n > lim->max_line)
                return http_refuse(err, 414, "uri_too_long",
                                   "the request line (method, target and version) is longer "
                                   "than this server accepts");
            if (http_parse_request_line(p, n, out, err) != 0)
                return -1;
            first = false;
        } else {
            if (n == 0)
                return http_bad(err, "an empty line inside the request head");
            if (out->nfields >= lim->max_fields)
                return http_refuse(err, 431, "headers_too_large",
                                   "the request has more header fields than this server accepts");
            if (http_parse_field(p, n, &out->fields[out->nfields], err) != 0)
                return -1;
            out->nfields++;
        }
        p = eol + 2;
    }
    if (first)
        return http_bad(err, "the request line is missing");
    return http_check_fields(out, err);
}

const char *http_head_field(const struct http_head *h, const char *name, size_t *len)
{
    for (size_t i = 0; i < h->nfields; i++) {
        if (http_name_is(&h->fields[i], name)) {
            *len = h->fields[i].value_len;
            return h->fields[i].value;
        }
    }
    *len = 0;
    return NULL;
}
