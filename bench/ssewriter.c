/* ssewriter — the baseline SSE server (see the header).
 *
 * The child's life: accept every subscriber and read its request head
 * (blocking: nothing else is going on), answer the heads, wait for the go
 * byte, write the events, then wait for the parent to close the go pipe
 * and exit. Subscribers therefore never see the stream end before the
 * parent has checked what they received.
 *
 * Writing mirrors what an evbuffer-backed server does under load: each
 * event is one chunk (`<hex>\r\n<frame>\r\n`, the framing the hub uses)
 * appended to every subscriber's buffer, and each buffer is flushed with
 * one write() per round of up to SSEWRITER_ROUND events (~16 KiB, the
 * size of libevent's largest single write). At a fixed rate, the events
 * due at each tick are written at once, each stamped with the time it was
 * due (as the publisher of the hub's runs does), so falling behind counts. */
#define _GNU_SOURCE
#include "ssewriter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "samples.h"

#define SSEWRITER_ROUND 64              /* events per write() when unpaced */
#define SSEWRITER_LOW (32 * 1024)       /* produce more only below this backlog */
#define SSEWRITER_BUF_CAP (1024 * 1024) /* per subscriber: ROUND frames fit easily */

struct ssewriter_sub {
    int fd;
    char *out; /* owned: bytes not yet written */
    size_t off;
    size_t len;
};

static const char ssewriter_head[] = "HTTP/1.1 200 OK\r\n"
                                     "Content-Type: text/event-stream; charset=utf-8\r\n"
                                     "Cache-Control: no-store\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n"
                                     "d\r\nretry: 3000\n\n\r\n";

/* Format event n (stamped t) as one chunk into out; its length. The
 * envelope is the hub's, its workspace padded by pad bytes. */
static size_t ssewriter_chunk(char *out, size_t cap, long n, int64_t t, size_t pad)
{
    char frame[4096], ws[2048];
    if (pad >= sizeof(ws))
        pad = sizeof(ws) - 1;
    memset(ws, 'w', pad);
    ws[pad] = '\0';
    int f = snprintf(frame, sizeof(frame),
                     "id: %ld\nevent: bench:tick\ndata: {\"id\":\"%ld\",\"type\":\"bench:tick\","
                     "\"source\":\"agent-coordination\",\"sourceId\":\"hub-0000\",\"workspace\":"
                     "\"%s\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"data\":{\"n\":%ld,"
                     "\"t\":%lld}}\n\n",
                     n + 1, n + 1, ws, n, (long long)t);
    if (f < 0 || (size_t)f >= sizeof(frame))
        return 0;
    int c = snprintf(out, cap, "%x\r\n%s\r\n", (unsigned)f, frame);
    return c < 0 || (size_t)c >= cap ? 0 : (size_t)c;
}

/* Bytes of the SSE frame alone for event n with no padding. */
static size_t ssewriter_frame_base(long n, int64_t t)
{
    char chunk[4096];
    size_t c = ssewriter_chunk(chunk, sizeof(chunk), n, t, 0);
    const char *crlf = strstr(chunk, "\r\n");
    return c && crlf ? c - (size_t)(crlf + 2 - chunk) - 2 : 0;
}

/* Write what sub has pending; 0, or -1 when the subscriber is gone. */
static int ssewriter_flush(struct ssewriter_sub *s)
{
    while (s->off < s->len) {
        ssize_t w = write(s->fd, s->out + s->off, s->len - s->off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return 0;
        if (w <= 0)
            return -1;
        s->off += (size_t)w;
    }
    s->off = s->len = 0;
    return 0;
}

/* Append one formatted chunk to every subscriber. */
static void ssewriter_append(struct ssewriter_sub *subs, int nsubs, const char *chunk, size_t len)
{
    for (int i = 0; i < nsubs; i++) {
        struct ssewriter_sub *s = &subs[i];
        if (s->off && s->len + len > SSEWRITER_BUF_CAP) {
            memmove(s->out, s->out + s->off, s->len - s->off);
            s->len -= s->off;
            s->off = 0;
        }
        if (s->len + len > SSEWRITER_BUF_CAP)
            _exit(3); /* cannot happen: production stops at SSEWRITER_LOW */
        memcpy(s->out + s->len, chunk, len);
        s->len += len;
    }
}

/* Wait until a subscriber with pending bytes can take more, or until
 * deadline_ns (0: no deadline). */
static void ssewriter_wait(struct ssewriter_sub *subs, int nsubs, int64_t deadline_ns)
{
    struct pollfd pf[1024];
    int n = 0;
    for (int i = 0; i < nsubs && n < 1024; i++)
        if (subs[i].off < subs[i].len)
            pf[n++] = (struct pollfd){.fd = subs[i].fd, .events = POLLOUT};
    struct timespec ts, *tsp = NULL;
    if (deadline_ns) {
        int64_t left = deadline_ns - samples_now_ns();
        if (left <= 0)
            return;
        ts.tv_sec = left / 1000000000;
        ts.tv_nsec = left % 1000000000;
        tsp = &ts;
    }
    if (n == 0 && !tsp)
        return;
    (void)ppoll(pf, (nfds_t)n, tsp, NULL);
}

static void ssewriter_child(int lfd, int go_fd, const struct ssewriter_opts *o)
{
    struct ssewriter_sub *subs = calloc((size_t)o->subscribers, sizeof(*subs));
    if (!subs)
        _exit(2);
    for (int i = 0; i < o->subscribers; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            _exit(2);
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        char req[8192];
        size_t got = 0;
        while (!memmem(req, got, "\r\n\r\n", 4)) {
            ssize_t r = read(fd, req + got, sizeof(req) - got);
            if (r <= 0)
                _exit(2);
            got += (size_t)r;
            if (got == sizeof(req))
                _exit(2);
        }
        subs[i].fd = fd;
        subs[i].out = malloc(SSEWRITER_BUF_CAP);
        if (!subs[i].out || write(fd, ssewriter_head, sizeof(ssewriter_head) - 1) !=
                                (ssize_t)(sizeof(ssewriter_head) - 1))
            _exit(2);
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
            _exit(2);
    }
    close(lfd);
    char go;
    if (read(go_fd, &go, 1) != 1)
        _exit(0); /* the parent gave up */
    size_t base = ssewriter_frame_base(o->events, samples_now_ns());
    size_t pad = o->frame_bytes > base ? o->frame_bytes - base : 0;
    int64_t start = samples_now_ns();
    long produced = 0;
    for (;;) {
        bool pending = false, full = false;
        for (int i = 0; i < o->subscribers; i++) {
            if (ssewriter_flush(&subs[i]) != 0)
                _exit(4); /* a subscriber hung up mid-run */
            size_t left = subs[i].len - subs[i].off;
            pending |= left > 0;
            full |= left >= SSEWRITER_LOW;
        }
        if (produced == o->events && !pending)
            break;
        long due = SSEWRITER_ROUND;
        int64_t now = samples_now_ns();
        if (o->rate > 0) {
            long target = (long)((double)(now - start) * o->rate / 1e9) + 1;
            if (target > o->events)
                target = o->events;
            due = target - produced;
        }
        if (produced + due > o->events)
            due = o->events - produced;
        if (full || due <= 0) {
            int64_t next = o->rate > 0 && produced < o->events
                               ? start + (int64_t)((double)produced * 1e9 / o->rate)
                               : 0;
            ssewriter_wait(subs, o->subscribers, next);
            continue;
        }
        for (long k = 0; k < due; k++) {
            char chunk[4096];
            int64_t stamp = samples_now_ns();
            if (o->rate > 0 && start + (int64_t)((double)produced * 1e9 / o->rate) < stamp)
                stamp = start + (int64_t)((double)produced * 1e9 / o->rate);
            size_t len = ssewriter_chunk(chunk, sizeof(chunk), produced, stamp, pad);
            if (!len)
                _exit(3);
            ssewriter_append(subs, o->subscribers, chunk, len);
            produced++;
        }
    }
    /* Everything is out: hold the streams open until the parent is done. */
    while (read(go_fd, &go, 1) > 0)
        ;
    for (int i = 0; i < o->subscribers; i++) {
        close(subs[i].fd);
        free(subs[i].out);
    }
    free(subs);
    _exit(0);
}

int ssewriter_start(struct ssewriter *w, const struct ssewriter_opts *o)
{
    w->pid = -1;
    w->go_fd = -1;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        return -errno;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sin);
    int p[2] = {-1, -1};
    int rc = 0;
    if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(lfd, 1024) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sin, &sl) != 0 || pipe2(p, O_CLOEXEC) != 0) {
        rc = -errno;
        goto fail;
    }
    snprintf(w->addr, sizeof(w->addr), "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        goto fail;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (o->cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(o->cpu, &set);
            if (sched_setaffinity(0, sizeof(set), &set) != 0)
                _exit(125);
        }
        close(p[1]);
        ssewriter_child(lfd, p[0], o);
    }
    close(lfd);
    close(p[0]);
    w->pid = pid;
    w->go_fd = p[1];
    return 0;
fail:
    close(lfd);
    if (p[0] >= 0) {
        close(p[0]);
        close(p[1]);
    }
    return rc;
}

int ssewriter_go(struct ssewriter *w)
{
    char go = 'g';
    return write(w->go_fd, &go, 1) == 1 ? 0 : -errno;
}

int ssewriter_finish(struct ssewriter *w)
{
    if (w->go_fd >= 0)
        close(w->go_fd);
    w->go_fd = -1;
    if (w->pid <= 0)
        return 0;
    int status = -1;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000000};
    for (int waited = 0; waited < 3000; waited += 10) {
        if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
            w->pid = -1;
            return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
        }
        nanosleep(&ts, NULL);
    }
    kill(w->pid, SIGKILL);
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    w->pid = -1;
    return -1;
}
