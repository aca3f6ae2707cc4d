/* lineconn — two bufferevents (read side, write side) around one or two
 * descriptors. Invariant: while `depth` > 0 a callback is on the stack and
 * the struct must not be freed; lineconn_free then only marks it `dead`
 * and the outermost callback frees it on the way out. */
#include "net/lineconn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "base/xmalloc.h"
#include "rpc/jsonrpc.h"

struct lineconn {
    struct bufferevent *in;  /* reads in_fd */
    struct bufferevent *out; /* writes out_fd; == in when in_fd == out_fd */
    int in_fd, out_fd;
    size_t max_out; /* bytes of queued output */
    struct lineconn_cbs cbs;
    void *arg;
    int depth;                    /* callbacks currently on the stack */
    bool dead;                    /* freed while depth > 0 */
    struct jsonrpc_framer framer; /* owned: line splitting with the size cap */
    bool closed;                  /* closed callback already delivered */
    void (*drained)(void *arg);
};

static void lineconn_destroy(struct lineconn *c)
{
    if (c->out && c->out != c->in)
        bufferevent_free(c->out);
    if (c->in)
        bufferevent_free(c->in);
    jsonrpc_framer_deinit(&c->framer);
    if (c->in_fd >= 0)
        close(c->in_fd);
    if (c->out_fd >= 0 && c->out_fd != c->in_fd)
        close(c->out_fd);
    free(c);
}

static void lineconn_leave(struct lineconn *c)
{
    if (--c->depth == 0 && c->dead)
        lineconn_destroy(c);
}

static void lineconn_report_closed(struct lineconn *c, int err)
{
    if (c->closed || c->dead)
        return;
    c->closed = true;
    bufferevent_disable(c->in, EV_READ);
    c->depth++;
    c->cbs.closed(c->arg, err);
    lineconn_leave(c);
}

/* Hand the input buffer's bytes to the framer, chunk by chunk, and deliver
 * what it finds. Returns when the input is consumed or the connection died.
 * Framing (line splitting, the size cap, oversize discarding) is the rpc
 * layer's jsonrpc_framer: one implementation for every transport. */
static void lineconn_frame(struct lineconn *c, const char **data, size_t *n)
{
    while (!c->dead && !c->closed) {
        const char *msg;
        size_t len;
        enum jsonrpc_frame fr = jsonrpc_framer_next(&c->framer, data, n, &msg, &len);
        if (fr == JSONRPC_FRAME_NEED_MORE)
            break;
        if (fr == JSONRPC_FRAME_OVERSIZE)
            c->cbs.oversize(c->arg);
        else
            c->cbs.line(c->arg, msg, len);
    }
}

static void lineconn_process(struct lineconn *c)
{
    struct evbuffer *ib = bufferevent_get_input(c->in);
    c->depth++;
    while (!c->dead && !c->closed && evbuffer_get_length(ib) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(ib, -1, NULL, &v, 1) < 1)
            break;
        const char *data = v.iov_base;
        size_t n = v.iov_len;
        lineconn_frame(c, &data, &n);
        if (c->dead)
            break;
        evbuffer_drain(ib, v.iov_len - n);
        if (n > 0)
            break; /* stopped early (closed) */
    }
    lineconn_leave(c);
}

/* At EOF an unterminated last line still counts as a message. */
static void lineconn_finish(struct lineconn *c)
{
    const char *msg;
    size_t len;
    c->depth++;
    if (!c->dead && !c->closed &&
        jsonrpc_framer_finish(&c->framer, &msg, &len) == JSONRPC_FRAME_MESSAGE)
        c->cbs.line(c->arg, msg, len);
    lineconn_leave(c);
}

static void lineconn_read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    lineconn_process(arg);
}

static void lineconn_write_cb(struct bufferevent *bev, void *arg)
{
    struct lineconn *c = arg;
    if (!c->drained || c->dead || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        return;
    void (*cb)(void *) = c->drained;
    c->drained = NULL;
    c->depth++;
    cb(c->arg);
    lineconn_leave(c);
}

static void lineconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct lineconn *c = arg;
    (void)bev;
    if (what & BEV_EVENT_EOF) {
        /* Deliver any final unterminated line's worth of complete lines first. */
        lineconn_process(c);
        c->depth++;
        lineconn_finish(c);
        if (!c->dead)
            lineconn_report_closed(c, 0);
        lineconn_leave(c);
    } else if (what & BEV_EVENT_ERROR) {
        int err = errno ? -errno : -EIO;
        lineconn_report_closed(c, err);
    }
}

static void lineconn_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

struct lineconn *lineconn_new(struct event_base *base, int in_fd, int out_fd, size_t max_line,
                              size_t max_out, const struct lineconn_cbs *cbs, void *arg)
{
    struct lineconn *c = xcalloc(1, sizeof(*c));
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    jsonrpc_framer_init(&c->framer, max_line);
    c->max_out = max_out;
    c->cbs = *cbs;
    c->arg = arg;
    lineconn_nonblock(in_fd);
    if (out_fd != in_fd)
        lineconn_nonblock(out_fd);
    c->in = bufferevent_socket_new(base, in_fd, 0);
    c->out = out_fd == in_fd ? c->in : bufferevent_socket_new(base, out_fd, 0);
    if (!c->in || !c->out)
        abort(); /* only fails on OOM */
    bufferevent_setcb(c->in, lineconn_read_cb, c->out == c->in ? lineconn_write_cb : NULL,
                      lineconn_event_cb, c);
    if (c->out != c->in)
        bufferevent_setcb(c->out, NULL, lineconn_write_cb, lineconn_event_cb, c);
    bufferevent_enable(c->in, EV_READ);
    bufferevent_enable(c->out, EV_WRITE);
    return c;
}

void lineconn_free(struct lineconn *c)
{
    if (!c)
        return;
    if (c->depth > 0) {
        c->dead = true;
        bufferevent_disable(c->in, EV_READ | EV_WRITE);
        if (c->out != c->in)
            bufferevent_disable(c->out, EV_READ | EV_WRITE);
        return;
    }
    lineconn_destroy(c);
}

void lineconn_feed(struct lineconn *c, const char *data, size_t len)
{
    if (len == 0)
        return;
    /* The input evbuffer belongs to the bufferevent (its end is frozen
     * outside the read path), so pre-read bytes go to the framer directly. */
    c->depth++;
    lineconn_frame(c, &data, &len);
    lineconn_leave(c);
}

int lineconn_send(struct lineconn *c, const char *msg, size_t len)
{
    if (c->dead || c->closed)
        return -ERR_STATE;
    struct evbuffer *ob = bufferevent_get_output(c->out);
    size_t queued = evbuffer_get_length(ob);
    if (queued + len + 1 > c->max_out)
        return -ERR_TOO_LARGE;
    size_t sent = 0;
    if (queued == 0) {
        /* Nothing waits ahead of this message: write it now, saving the
         * loop a write-readiness round (two epoll_ctl calls and a wake-up
         * per reply). Whatever the peer does not take now is queued. */
        struct iovec iov[2] = {{.iov_base = (void *)msg, .iov_len = len},
                               {.iov_base = (void *)"\n", .iov_len = 1}};
        ssize_t w;
        do {
            w = writev(c->out_fd, iov, 2);
        } while (w < 0 && errno == EINTR);
        /* On an error other than EAGAIN the bufferevent will meet it too
         * and report it through the closed callback. */
        sent = w > 0 ? (size_t)w : 0;
        if (sent == len + 1)
            return 0;
    }
    if (sent < len && evbuffer_add(ob, msg + sent, len - sent) != 0)
        return -ERR_TOO_LARGE;
    if (evbuffer_add(ob, "\n", 1) != 0)
        return -ERR_TOO_LARGE;
    return 0;
}

void lineconn_on_drained(struct lineconn *c, void (*drained)(void *arg))
{
    c->drained = drained;
    if (drained && evbuffer_get_length(bufferevent_get_output(c->out)) == 0)
        bufferevent_trigger(c->out, EV_WRITE,
                            BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void lineconn_flush_now(struct lineconn *c)
{
    /* The bufferevent freezes its output buffer's start outside its own
     * write path (copyout and drain refuse), so walk the chains with
     * evbuffer_peek and write them directly; the connection takes no more
     * output afterwards. */
    struct evbuffer *ob = bufferevent_get_output(c->out);
    if (c->dead || evbuffer_get_length(ob) == 0)
        return;
    struct evbuffer_iovec v[16];
    int nv = evbuffer_peek(ob, -1, NULL, v, 16);
    if (nv > 16)
        nv = 16;
    for (int i = 0; i < nv; i++) {
        const char *p = v[i].iov_base;
        size_t left = v[i].iov_len;
        while (left > 0) {
            ssize_t w = write(c->out_fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                goto out; /* EAGAIN or error: the rest is lost with the connection */
            p += w;
            left -= (size_t)w;
        }
    }
out:
    c->closed = true;
    bufferevent_disable(c->out, EV_WRITE);
}

size_t lineconn_backlog(const struct lineconn *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->out));
}
