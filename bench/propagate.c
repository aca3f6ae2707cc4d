/* propagate — commit on hub A, see it on hub B's GET /events (propagate.h).
 *
 * One event in flight: the next call is sent only when the previous
 * event has been both answered by A and seen on B, so no wait for an
 * earlier event is charged to a later one. The subscriber asks for
 * file:locked and file:unlocked only and matches each frame by its type
 * and its file, so an event of the other hub's own clients or a repeated
 * frame cannot be taken for the one awaited. */
#define _GNU_SOURCE
#include "propagate.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "httpc.h"
#include "mcpline.h"
#include "peer.h"
#include "samples.h"

#define PROPAGATE_TIMEOUT_MS 10000
#define PROPAGATE_LINE 8192
#define PROPAGATE_READ 65536

struct propagate_sub {
    int fd;
    bool head_done;
    struct httpc_chunks ch;
    char buf[PROPAGATE_READ];
    size_t len;
    char line[PROPAGATE_LINE];
    size_t line_len;
    bool type_ok;     /* the frame's event: is the awaited type */
    bool file_ok;     /* its data: names the awaited file */
    const char *type; /* awaited type */
    char want[96];    /* "file":"<file>" of the awaited event */
    bool seen;
};

static void propagate_line(struct propagate_sub *s, const char *l, size_t n)
{
    if (n == 0) {
        if (s->type_ok && s->file_ok)
            s->seen = true;
        s->type_ok = s->file_ok = false;
        return;
    }
    size_t tl = s->type ? strlen(s->type) : 0;
    if (n > 7 && memcmp(l, "event: ", 7) == 0)
        s->type_ok = s->type && n - 7 == tl && memcmp(l + 7, s->type, tl) == 0;
    else if (n > 6 && memcmp(l, "data: ", 6) == 0)
        s->file_ok = memmem(l, n, s->want, strlen(s->want)) != NULL;
}

static int propagate_sse(struct propagate_sub *s, const char *p, size_t n)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t ll = nl ? (size_t)(nl - p) : n;
        if (s->line_len || !nl) {
            if (s->line_len + ll > PROPAGATE_LINE) {
                fprintf(stderr, "lockbench: an SSE line longer than the bench accepts\n");
                return -1;
            }
            memcpy(s->line + s->line_len, p, ll);
            s->line_len += ll;
            if (!nl)
                return 0;
            propagate_line(s, s->line, s->line_len);
            s->line_len = 0;
        } else {
            propagate_line(s, p, ll);
        }
        p += ll + 1;
        n -= ll + 1;
    }
    return 0;
}

/* Read what the stream has. 0, or -1 when it failed or ended. */
static int propagate_sub_read(struct propagate_sub *s)
{
    ssize_t r;
    do
        r = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
        fprintf(stderr, "lockbench: GET /events: %s\n",
                r == 0 ? "the stream ended" : strerror(errno));
        return -1;
    }
    s->len += (size_t)r;
    size_t pos = 0;
    if (!s->head_done) {
        struct httpc_head h;
        int got = httpc_parse_head(s->buf, s->len, &h);
        if (got == 0 && s->len < sizeof(s->buf))
            return 0;
        if (got <= 0 || h.status != 200 || !h.chunked || !h.event_stream) {
            fprintf(stderr, "lockbench: GET /events was not answered 200, chunked, "
                            "event-stream\n");
            return -1;
        }
        s->head_done = true;
        pos = h.head_len;
    }
    while (pos < s->len) {
        const char *run;
        size_t used;
        long long n = httpc_chunks_feed(&s->ch, s->buf + pos, s->len - pos, &run, &used);
        if (n < 0 || s->ch.done) {
            fprintf(stderr, "lockbench: GET /events: %s\n",
                    n < 0 ? "malformed chunked encoding" : "the stream ended");
            return -1;
        }
        if (n > 0 && propagate_sse(s, run, (size_t)n) != 0)
            return -1;
        pos += used;
        if (n == 0 && used == 0)
            break;
    }
    memmove(s->buf, s->buf + pos, s->len - pos);
    s->len -= pos;
    return 0;
}

static int propagate_subscribe(struct propagate_sub *s, const struct propagate_opts *o)
{
    char token[512], req[1024];
    int rc = httpc_read_line_file(o->token_file, token, sizeof(token));
    if (rc) {
        fprintf(stderr, "lockbench: cannot read %s: %s\n", o->token_file, strerror(-rc));
        return -1;
    }
    s->fd = httpc_connect(o->addr);
    if (s->fd < 0) {
        fprintf(stderr, "lockbench: cannot reach %s: %s\n", o->addr, strerror(-s->fd));
        s->fd = -1;
        return -1;
    }
    httpc_chunks_init(&s->ch);
    int n = snprintf(req, sizeof(req),
                     "GET /events?types=file:locked,file:unlocked HTTP/1.1\r\nHost: %s\r\n"
                     "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
                     o->addr, token);
    if (n < 0 || (size_t)n >= sizeof(req) || httpc_write_all(s->fd, req, (size_t)n) != 0) {
        fprintf(stderr, "lockbench: cannot send GET /events\n");
        return -1;
    }
    while (!s->head_done) {
        struct pollfd pf = {.fd = s->fd, .events = POLLIN};
        if (poll(&pf, 1, PROPAGATE_TIMEOUT_MS) <= 0) {
            fprintf(stderr, "lockbench: GET /events was not answered\n");
            return -1;
        }
        if (propagate_sub_read(s) != 0)
            return -1;
    }
    return 0;
}

/* One event: send the call on A, wait for A's answer and B's frame.
 * Sets *answered and *seen to their arrival times. */
static int propagate_one(struct peer *a, struct propagate_sub *s, enum mcpline_call call,
                         const char *file, const char *agent, unsigned long long id,
                         int64_t *answered, int64_t *seen)
{
    char req[512];
    size_t n = mcpline_format_call(req, sizeof(req), call, id, file, agent);
    s->type = call == MCPLINE_LOCK ? "file:locked" : "file:unlocked";
    snprintf(s->want, sizeof(s->want), "\"file\":\"%s\"", file);
    s->seen = false;
    *answered = *seen = 0;
    if (!n || peer_send(a, req, n) != 0) {
        fprintf(stderr, "lockbench: cannot send request %llu\n", id);
        return -1;
    }
    while (!*answered || !*seen) {
        struct pollfd pf[2] = {{.fd = a->rfd, .events = POLLIN}, {.fd = s->fd, .events = POLLIN}};
        int r = poll(pf, 2, PROPAGATE_TIMEOUT_MS);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "lockbench: request %llu: %s after %d ms\n", id,
                    *answered ? "hub B never showed the event" : "hub A never answered",
                    PROPAGATE_TIMEOUT_MS);
            return -1;
        }
        int64_t now = samples_now_ns();
        if (pf[1].revents && !*seen) {
            if (propagate_sub_read(s) != 0)
                return -1;
            if (s->seen)
                *seen = now;
        } else if (pf[1].revents && propagate_sub_read(s) != 0) {
            return -1;
        }
        if (!pf[0].revents)
            continue;
        ssize_t got = peer_fill(a);
        if (got <= 0) {
            fprintf(stderr, "lockbench: hub A closed the session\n");
            return -1;
        }
        const char *line;
        size_t len;
        while ((line = peer_next_line(a, &len))) {
            if (!mcpline_is_response(line, len, id))
                continue;
            if (!mcpline_call_ok(call, line, len)) {
                fprintf(stderr, "lockbench: call %llu failed: %.*s\n", id, (int)len, line);
                return -1;
            }
            *answered = now;
        }
    }
    return 0;
}

int propagate_run(const struct propagate_opts *o)
{
    static struct propagate_sub sub;
    struct peer a = {.wfd = -1, .rfd = -1, .pid = -1};
    struct samples seen, answer, after;
    samples_init(&seen);
    samples_init(&answer);
    samples_init(&after);
    int rc = -1;
    char agent[160];
    memset(&sub, 0, sizeof(sub));
    sub.fd = -1;
    if (propagate_subscribe(&sub, o) != 0)
        goto out;
    rc = peer_connect_unix(&a, o->socket);
    if (rc) {
        fprintf(stderr, "lockbench: cannot reach %s: %s\n", o->socket, strerror(-rc));
        rc = -1;
        goto out;
    }
    rc = -1;
    if (mcpline_handshake(&a, "bench-prop", agent, sizeof(agent)) != 0)
        goto out;
    unsigned long long id = 3;
    for (long i = 0; i < o->warmup + o->n; i++) {
        char file[64];
        enum mcpline_call call = i % 2 ? MCPLINE_UNLOCK : MCPLINE_LOCK;
        snprintf(file, sizeof(file), "bench/p%lu", (unsigned long)(i / 2) % o->files);
        int64_t t0 = samples_now_ns(), answered, seen_at;
        if (propagate_one(&a, &sub, call, file, agent, id++, &answered, &seen_at) != 0)
            goto out;
        if (i < o->warmup)
            continue;
        samples_add(&seen, seen_at - t0);
        samples_add(&answer, answered - t0);
        samples_add(&after, seen_at - answered);
    }
    samples_sort(&seen);
    samples_sort(&answer);
    samples_sort(&after);
    printf("RESULT %s n=%ld seen_p50_us=%.1f seen_p90_us=%.1f seen_p99_us=%.1f "
           "seen_max_us=%.1f call_p50_us=%.1f call_p99_us=%.1f after_answer_p50_us=%.1f "
           "after_answer_p99_us=%.1f\n",
           o->label, o->n, samples_quantile_us(&seen, 0.50), samples_quantile_us(&seen, 0.90),
           samples_quantile_us(&seen, 0.99), samples_quantile_us(&seen, 1.0),
           samples_quantile_us(&answer, 0.50), samples_quantile_us(&answer, 0.99),
           samples_quantile_us(&after, 0.50), samples_quantile_us(&after, 0.99));
    fflush(stdout);
    rc = 0;
out:
    if (sub.fd >= 0)
        close(sub.fd);
    peer_close(&a);
    samples_deinit(&seen);
    samples_deinit(&answer);
    samples_deinit(&after);
    return rc;
}
