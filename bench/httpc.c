/* httpc — loopback HTTP/1.1 client pieces for the HTTP benches.
 *
 * Parsing is separate from I/O (the epoll loops in sseload.c feed the
 * same parsers as the blocking round trip below). Header names are
 * matched case-insensitively; only the few the benches act on are kept.
 * Every buffer fed by a peer is capped (HTTPC_MAX_HEAD, HTTPC_MAX_BODY). */
#define _GNU_SOURCE
#include "httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

int httpc_connect(const char *addr)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof(host))
        return -EINVAL;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
        return -EINVAL;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int httpc_read_line_file(const char *path, char *out, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, out, cap - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    out[n] = '\0';
    size_t len = strcspn(out, "\r\n");
    if (len == 0 || len == cap - 1)
        return -EINVAL;
    out[len] = '\0';
    return 0;
}

int httpc_write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            (void)poll(&pf, 1, 1000);
            continue;
        }
        if (w < 0)
            return -errno;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* ---- heads --------------------------------------------------------------- */

/* If line (len bytes, no CRLF) is header `name`, point *value at its
 * trimmed value and return its length; else -1. */
static long httpc_header(const char *line, size_t len, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return -1;
    const char *v = line + n + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *value = v;
    return end - v;
}

int httpc_parse_head(const char *buf, size_t len, struct httpc_head *h)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return len > HTTPC_MAX_HEAD ? -1 : 0;
    memset(h, 0, sizeof(*h));
    h->content_length = -1;
    h->head_len = (size_t)(end - buf) + 4;
    if (h->head_len > HTTPC_MAX_HEAD || len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return -1;
    h->status = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        h->status = h->status * 10 + (buf[i] - '0');
    }
    const char *line = (const char *)memmem(buf, (size_t)(end - buf) + 2, "\r\n", 2) + 2;
    while (line < end + 2) {
        const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        size_t ll = (size_t)(eol - line);
        const char *v;
        long vl;
        if ((vl = httpc_header(line, ll, "Content-Length", &v)) > 0) {
            char num[24];
            if (vl >= (long)sizeof(num))
                return -1;
            memcpy(num, v, (size_t)vl);
            num[vl] = '\0';
            char *e;
            errno = 0;
            h->content_length = strtoll(num, &e, 10);
            if (errno || *e || h->content_length < 0)
                return -1;
        } else if ((vl = httpc_header(line, ll, "Transfer-Encoding", &v)) > 0) {
            h->chunked = vl >= 7 && strncasecmp(v + vl - 7, "chunked", 7) == 0;
        } else if ((vl = httpc_header(line, ll, "Content-Type", &v)) > 0) {
            h->event_stream = vl >= 17 && strncasecmp(v, "text/event-stream", 17) == 0;
        } else if ((vl = httpc_header(line, ll, "MCP-Session-Id", &v)) > 0) {
            if ((size_t)vl >= sizeof(h->session))
                return -1;
            memcpy(h->session, v, (size_t)vl);
            h->session[vl] = '\0';
        }
        line = eol + 2;
    }
    return 1;
}

/* ---- chunked bodies ------------------------------------------------------ */

enum {
    HTTPC_CH_SIZE0,   /* expecting the first hex digit of a size */
    HTTPC_CH_SIZE,    /* in the hex digits */
    HTTPC_CH_EXT,     /* a chunk extension or the CR: skip to LF */
    HTTPC_CH_DATA,    /* payload */
    HTTPC_CH_DATA_CR, /* the CR after the payload */
    HTTPC_CH_DATA_LF, /* its LF */
    HTTPC_CH_TRAILER, /* at the start of a trailer line (or the last CRLF) */
    HTTPC_CH_TRAILER_LINE,
    HTTPC_CH_TRAILER_LF,
    HTTPC_CH_DONE,
};

void httpc_chunks_init(struct httpc_chunks *c)
{
    memset(c, 0, sizeof(*c));
    c->state = HTTPC_CH_SIZE0;
}

static int httpc_hex(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

long long httpc_chunks_feed(struct httpc_chunks *c, const char *in, size_t len, const char **out,
                            size_t *used)
{
    size_t i = 0;
    *out = in;
    while (i < len) {
        char ch = in[i];
        int d;
        switch (c->state) {
        case HTTPC_CH_SIZE0:
        case HTTPC_CH_SIZE:
            d = httpc_hex(ch);
            if (d >= 0) {
                if (c->left > (~0ULL >> 4))
                    return -1;
                c->left = c->left * 16 + (unsigned)d;
                c->state = HTTPC_CH_SIZE;
            } else if (c->state == HTTPC_CH_SIZE && (ch == ';' || ch == '\r' || ch == ' ')) {
                c->state = HTTPC_CH_EXT;
            } else if (c->state == HTTPC_CH_SIZE && ch == '\n') {
                c->state = c->left ? HTTPC_CH_DATA : HTTPC_CH_TRAILER;
            } else {
                return -1;
            }
            i++;
            break;
        case HTTPC_CH_EXT:
            if (ch == '\n')
                c->state = c->left ? HTTPC_CH_DATA : HTTPC_CH_TRAILER;
            i++;
            break;
        case HTTPC_CH_DATA: {
            size_t run = len - i < c->left ? len - i : (size_t)c->left;
            c->left -= run;
            if (!c->left)
                c->state = HTTPC_CH_DATA_CR;
            *out = in + i;
            *used = i + run;
            return (long long)run;
        }
        case HTTPC_CH_DATA_CR:
        case HTTPC_CH_DATA_LF:
            if (ch == '\r' && c->state == HTTPC_CH_DATA_CR)
                c->state = HTTPC_CH_DATA_LF;
            else if (ch == '\n')
                c->state = HTTPC_CH_SIZE0;
            else
                return -1;
            i++;
            break;
        case HTTPC_CH_TRAILER:
            c->state = ch == '\r'   ? HTTPC_CH_TRAILER_LF
                       : ch == '\n' ? HTTPC_CH_DONE
                                    : HTTPC_CH_TRAILER_LINE;
            i++;
            break;
        case HTTPC_CH_TRAILER_LINE:
            if (ch == '\n')
                c->state = HTTPC_CH_TRAILER;
            i++;
            break;
        case HTTPC_CH_TRAILER_LF:
            if (ch != '\n')
                return -1;
            c->state = HTTPC_CH_DONE;
            i++;
            break;
        default: /* HTTPC_CH_DONE: the rest belongs to the next response */
            c->done = true;
            *used = i;
            return 0;
        }
        if (c->state == HTTPC_CH_DONE) {
            c->done = true;
            *used = i;
            return 0;
        }
    }
    *used = i;
    return 0;
}

/* ---- blocking round trips ------------------------------------------------ */

int httpc_conn_open(struct httpc_conn *c, const char *addr)
{
    memset(c, 0, sizeof(*c));
    c->fd = httpc_connect(addr);
    if (c->fd < 0) {
        int e = c->fd;
        c->fd = -1;
        return e;
    }
    c->cap = 65536;
    c->buf = malloc(c->cap);
    c->body_cap = 65536;
    c->body = malloc(c->body_cap);
    if (!c->buf || !c->body)
        abort();
    return 0;
}

/* Read more bytes into c->buf. 0, -ECONNRESET at EOF, -errno. */
static int httpc_conn_fill(struct httpc_conn *c)
{
    if (c->len == c->cap) {
        if (c->cap >= HTTPC_MAX_HEAD + HTTPC_MAX_BODY)
            return -EPROTO;
        char *nb = realloc(c->buf, c->cap * 2);
        if (!nb)
            abort();
        c->buf = nb;
        c->cap *= 2;
    }
    for (;;) {
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ECONNRESET;
        c->len += (size_t)n;
        return 0;
    }
}

static int httpc_conn_body_add(struct httpc_conn *c, const char *p, size_t n)
{
    if (c->body_len + n + 1 > HTTPC_MAX_BODY)
        return -EPROTO;
    while (c->body_len + n + 1 > c->body_cap) {
        char *nb = realloc(c->body, c->body_cap * 2);
        if (!nb)
            abort();
        c->body = nb;
        c->body_cap *= 2;
    }
    memcpy(c->body + c->body_len, p, n);
    c->body_len += n;
    c->body[c->body_len] = '\0';
    return 0;
}

int httpc_conn_roundtrip(struct httpc_conn *c, const char *req, size_t len)
{
    int rc = httpc_write_all(c->fd, req, len);
    if (rc)
        return rc;
    int got;
    while ((got = httpc_parse_head(c->buf, c->len, &c->head)) == 0)
        if ((rc = httpc_conn_fill(c)) != 0)
            return rc;
    if (got < 0)
        return -EPROTO;
    c->body_len = 0;
    c->body[0] = '\0';
    size_t pos = c->head.head_len;
    if (c->head.chunked) {
        struct httpc_chunks ch;
        httpc_chunks_init(&ch);
        while (!ch.done) {
            const char *run;
            size_t used;
            long long n = httpc_chunks_feed(&ch, c->buf + pos, c->len - pos, &run, &used);
            if (n < 0)
                return -EPROTO;
            if (n > 0 && (rc = httpc_conn_body_add(c, run, (size_t)n)) != 0)
                return rc;
            pos += used;
            if (!ch.done && pos == c->len && (rc = httpc_conn_fill(c)) != 0)
                return rc;
        }
    } else if (c->head.content_length >= 0) {
        if (c->head.content_length > HTTPC_MAX_BODY)
            return -EPROTO;
        size_t want = (size_t)c->head.content_length;
        while (c->len - pos < want)
            if ((rc = httpc_conn_fill(c)) != 0)
                return rc;
        if ((rc = httpc_conn_body_add(c, c->buf + pos, want)) != 0)
            return rc;
        pos += want;
    } else if (c->head.status != 204 && c->head.status != 202 && c->head.status != 304) {
        return -EPROTO; /* a body up to EOF: not something the benches meet */
    }
    memmove(c->buf, c->buf + pos, c->len - pos);
    c->len -= pos;
    return 0;
}

void httpc_conn_close(struct httpc_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    free(c->body);
    c->buf = c->body = NULL;
}
