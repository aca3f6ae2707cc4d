/* throughput — the 64-client lease load.
 *
 * One process drives every session from one epoll loop, the same shape as
 * redis-benchmark (single-threaded, C connections, one request in flight
 * on each), so the two figures compare servers, not client designs. Each
 * session registers its own agent (`bench-c<i>`) and alternates
 * lock_file / unlock_file on `bench/c<i>/f<j % files>`: no two sessions
 * contend, so every call succeeds and each one is a durable commit.
 *
 * Counting: calls answered after the warm-up and before the deadline.
 * Requests still in flight at the deadline are awaited (so the hub is not
 * cut off mid-commit) but not counted. */
#define _GNU_SOURCE
#include "throughput.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "mcpline.h"
#include "peer.h"
#include "samples.h"

#define THROUGHPUT_DRAIN_NS (5LL * 1000000000)
#define THROUGHPUT_OPEN_TRIES 20

struct throughput_conn {
    struct peer peer;
    char agent[160];            /* the id the hub granted */
    char dir[32];               /* bench/c<i> */
    unsigned long long next_id; /* JSON-RPC id of the next request */
    unsigned long long expect;  /* id of the request in flight */
    enum mcpline_call call;     /* what is in flight */
    unsigned iter;              /* lock+unlock cycles started */
    unsigned files;             /* distinct files cycled through */
    const char *socket;         /* the hub it talks to */
    int64_t sent_ns;            /* when the request in flight was sent */
    bool done;
};

/* Write all of msg to a non-blocking socket, waiting for room if the
 * kernel buffer is full (it never is with one small request in flight). */
static int throughput_send(struct peer *p, const char *msg, size_t len)
{
    while (len) {
        ssize_t w = write(p->wfd, msg, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = p->wfd, .events = POLLOUT};
            (void)poll(&pf, 1, 1000);
            continue;
        }
        if (w < 0)
            return -errno;
        msg += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Send the next call of c's cycle: lock, then unlock of the same file;
 * or, with again, the call in flight once more. */
static int throughput_next(struct throughput_conn *c, bool again)
{
    char file[64], req[512];
    if (!again) {
        c->call = c->call == MCPLINE_LOCK ? MCPLINE_UNLOCK : MCPLINE_LOCK;
        if (c->call == MCPLINE_LOCK)
            c->iter++;
    }
    snprintf(file, sizeof(file), "%s/f%u", c->dir, c->iter % c->files);
    c->expect = c->next_id++;
    size_t n = mcpline_format_call(req, sizeof(req), c->call, c->expect, file, c->agent);
    if (!n)
        return -1;
    if (!again) /* a retried call's time runs from its first send */
        c->sent_ns = samples_now_ns();
    return throughput_send(&c->peer, req, n);
}

/* Connect and register; with retry, a registration refused while the
 * hubs' appends conflict is tried again on a new session. */
static int throughput_open(struct throughput_conn *c, int i, const struct throughput_opts *o)
{
    char want[64];
    c->socket = o->sockets[i % o->nsockets];
    snprintf(want, sizeof(want), "bench-c%d", i);
    snprintf(c->dir, sizeof(c->dir), "bench/c%d", i);
    for (int attempt = 0;; attempt++) {
        int rc = peer_connect_unix(&c->peer, c->socket);
        if (rc) {
            fprintf(stderr, "lockbench: connect %s: %s\n", c->socket, strerror(-rc));
            return -1;
        }
        if (mcpline_handshake(&c->peer, want, c->agent, sizeof(c->agent)) == 0)
            break;
        peer_close(&c->peer);
        if (!o->retry || attempt == THROUGHPUT_OPEN_TRIES)
            return -1;
        (void)poll(NULL, 0, 10);
    }
    c->next_id = 3;
    c->files = o->files ? o->files : 1;
    c->call = MCPLINE_UNLOCK; /* so the first call is a lock */
    int fl = fcntl(c->peer.rfd, F_GETFL);
    if (fl < 0 || fcntl(c->peer.rfd, F_SETFL, fl | O_NONBLOCK) != 0)
        return -1;
    return 0;
}

/* Handle whatever c has buffered. Returns 1 if an answer was counted,
 * 0 if not, -1 on a failed call or a dead connection. */
static int throughput_on_lines(struct throughput_conn *c, const struct throughput_opts *o,
                               int64_t count_from, int64_t deadline, struct samples *lat,
                               long long *counted, long long *retries, int *active)
{
    const char *line;
    size_t len;
    while ((line = peer_next_line(&c->peer, &len))) {
        if (c->done || !mcpline_is_response(line, len, c->expect))
            continue;
        int64_t now = samples_now_ns();
        bool ok = mcpline_call_ok(c->call, line, len);
        if (!ok && o->retry && memmem(line, len, "nothing was recorded", 20)) {
            (*retries)++;
            if (throughput_next(c, true) != 0)
                return -1;
            continue;
        }
        if (!ok) {
            fprintf(stderr, "lockbench: %s failed: %.*s\n", c->agent, (int)len, line);
            return -1;
        }
        if (now >= count_from && now <= deadline) {
            samples_add(lat, now - c->sent_ns);
            (*counted)++;
        }
        if (now < deadline) {
            if (throughput_next(c, false) != 0)
                return -1;
        } else {
            c->done = true;
            (*active)--;
        }
    }
    return 0;
}

int throughput_run(const struct throughput_opts *o)
{
    int rc = -1, ep = -1, active = 0;
    long long counted = 0, retries = 0;
    struct samples lat;
    samples_init(&lat);
    struct throughput_conn *conns = calloc((size_t)o->clients, sizeof(*conns));
    if (!conns)
        abort();
    for (int i = 0; i < o->clients; i++)
        conns[i].peer.wfd = conns[i].peer.rfd = conns[i].peer.pid = -1;
    for (int i = 0; i < o->clients; i++)
        if (throughput_open(&conns[i], i, o) != 0)
            goto out;
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        goto out;
    for (int i = 0; i < o->clients; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].peer.rfd, &ev) != 0)
            goto out;
    }
    int64_t start = samples_now_ns();
    int64_t count_from = start + (int64_t)(o->warm_seconds * 1e9);
    int64_t deadline = count_from + (int64_t)(o->seconds * 1e9);
    for (int i = 0; i < o->clients; i++) {
        if (throughput_next(&conns[i], false) != 0)
            goto out;
        active++;
    }
    while (active > 0) {
        int64_t now = samples_now_ns();
        if (now > deadline + THROUGHPUT_DRAIN_NS) {
            fprintf(stderr, "lockbench: %d sessions still waiting after the deadline\n", active);
            goto out;
        }
        int timeout_ms = now < deadline ? (int)((deadline - now) / 1000000) + 1 : 100;
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, timeout_ms);
        if (n < 0 && errno != EINTR)
            goto out;
        for (int k = 0; k < n; k++) {
            struct throughput_conn *c = &conns[evs[k].data.u32];
            ssize_t got = peer_fill(&c->peer);
            if (got == -EAGAIN)
                continue;
            if (got <= 0) {
                fprintf(stderr, "lockbench: the hub at %s closed session %s\n", c->socket,
                        c->agent);
                goto out;
            }
            if (throughput_on_lines(c, o, count_from, deadline, &lat, &counted, &retries,
                                    &active) != 0)
                goto out;
        }
    }
    samples_sort(&lat);
    printf("RESULT %s clients=%d hubs=%d seconds=%.1f calls=%lld calls_per_s=%.0f retries=%lld "
           "call_p50_us=%.1f call_p90_us=%.1f call_p99_us=%.1f call_max_us=%.1f\n",
           o->label, o->clients, o->nsockets, o->seconds, counted, (double)counted / o->seconds,
           retries, samples_quantile_us(&lat, 0.50), samples_quantile_us(&lat, 0.90),
           samples_quantile_us(&lat, 0.99), samples_quantile_us(&lat, 1.0));
    fflush(stdout);
    rc = 0;
out:
    if (ep >= 0)
        close(ep);
    for (int i = 0; i < o->clients; i++)
        if (conns[i].peer.buf)
            peer_close(&conns[i].peer);
    free(conns);
    samples_deinit(&lat);
    return rc;
}
