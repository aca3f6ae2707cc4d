/* listener — an accept event (persistent, level-triggered) on the
 * listening socket, a pause timer and a log timer.
 *
 * Invariants: while `paused` the accept event is not pending and the
 * pause timer is; while `depth` > 0 the accept callback is on the stack
 * and listener_free only marks the listener `dead` (the callback frees it
 * on the way out). Log window: the first failure after a quiet interval
 * is logged at once and opens a window of log_interval_ms; failures inside
 * it are counted and logged, with the count, when it ends (opening the
 * next window); a window that ends without failures closes the episode
 * with a notice that accepting works again. */
#define _GNU_SOURCE
#include "net/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/xmalloc.h"

/* Connections accepted per wake-up before the loop gets its turn back. */
#define LISTENER_BATCH 64

struct listener {
    int fd;
    char *what;
    int pause_ms;
    int log_interval_ms;
    listener_accept_fn fn;
    void *arg;
    struct event *accept_ev;  /* EV_READ | EV_PERSIST on fd */
    struct event *pause_ev;   /* re-enables accept_ev */
    struct event *log_ev;     /* ends a log window */
    bool window_open;         /* a failure was logged less than an interval ago */
    uint64_t window_failures; /* failures inside the open window, not yet logged */
    int window_errno;         /* the last of them */
    int depth;
    bool dead;
    struct listener_stats stats;
};

static void listener_destroy(struct listener *l)
{
    event_free(l->accept_ev);
    event_free(l->pause_ev);
    event_free(l->log_ev);
    close(l->fd);
    free(l->what);
    free(l);
}

static void listener_arm_log_window(struct listener *l)
{
    struct timeval tv = clock_timeval_ms(l->log_interval_ms);
    evtimer_add(l->log_ev, &tv);
}

static void listener_log_cb(evutil_socket_t fd, short what, void *arg)
{
    struct listener *l = arg;
    (void)fd;
    (void)what;
    if (l->window_failures == 0) {
        l->window_open = false;
        log_msg(LOG_LEVEL_NOTICE, "%s: accepting connections again", l->what);
        return;
    }
    bool secs = l->log_interval_ms % 1000 == 0;
    log_warn("%s: accept failed %llu times in the last %d %s: %s; paused %d ms after each", l->what,
             (unsigned long long)l->window_failures,
             secs ? l->log_interval_ms / 1000 : l->log_interval_ms, secs ? "s" : "ms",
             strerror(l->window_errno), l->pause_ms);
    l->window_failures = 0;
    listener_arm_log_window(l);
}

static void listener_pause_cb(evutil_socket_t fd, short what, void *arg)
{
    struct listener *l = arg;
    (void)fd;
    (void)what;
    l->stats.paused = false;
    event_add(l->accept_ev, NULL);
}

/* accept() failed with err, which leaves the connection in the backlog:
 * stop trying for pause_ms, count, log within the window's budget. */
static void listener_pause(struct listener *l, int err)
{
    l->stats.failures++;
    l->stats.pauses++;
    l->stats.paused = true;
    event_del(l->accept_ev);
    struct timeval tv = clock_timeval_ms(l->pause_ms);
    evtimer_add(l->pause_ev, &tv);
    if (l->window_open) {
        l->window_failures++;
        l->window_errno = err;
        return;
    }
    log_warn("%s: accept failed: %s; paused %d ms", l->what, strerror(err), l->pause_ms);
    l->window_open = true;
    l->window_failures = 0;
    listener_arm_log_window(l);
}

/* Errors of one connection that went away before it was accepted, or of
 * an interrupted call: the next accept() may succeed (accept(2)). */
static bool listener_skippable(int err)
{
    switch (err) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case EPERM: /* a firewall refused it */
        return true;
    default:
        return false;
    }
}

static void listener_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
    struct listener *l = arg;
    (void)what;
    l->depth++;
    for (int i = 0; i < LISTENER_BATCH && !l->dead; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        int fd = accept4((int)lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            l->stats.accepted++;
            l->fn(l->arg, fd, (const struct sockaddr *)&peer, len);
            continue;
        }
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK)
            break;
        if (listener_skippable(err))
            continue;
        /* EMFILE, ENFILE, ENOBUFS, ENOMEM — and anything unexpected,
         * which would otherwise make the loop spin as well. */
        listener_pause(l, err);
        break;
    }
    if (--l->depth == 0 && l->dead)
        listener_destroy(l);
}

int listener_new(struct event_base *base, int listen_fd, const struct listener_config *cfg,
                 listener_accept_fn fn, void *arg, struct listener **out)
{
    *out = NULL;
    if (!base || listen_fd < 0 || !cfg || !fn || cfg->pause_ms <= 0 || cfg->log_interval_ms <= 0) {
        if (listen_fd >= 0)
            close(listen_fd);
        return -ERR_INVALID;
    }
    int fl = fcntl(listen_fd, F_GETFL);
    if (fl >= 0)
        fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK);
    fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
    struct listener *l = xcalloc(1, sizeof(*l));
    l->fd = listen_fd;
    l->what = xstrdup(cfg->what ? cfg->what : "listener");
    l->pause_ms = cfg->pause_ms;
    l->log_interval_ms = cfg->log_interval_ms;
    l->fn = fn;
    l->arg = arg;
    l->accept_ev = event_new(base, listen_fd, EV_READ | EV_PERSIST, listener_accept_cb, l);
    l->pause_ev = evtimer_new(base, listener_pause_cb, l);
    l->log_ev = evtimer_new(base, listener_log_cb, l);
    if (!l->accept_ev || !l->pause_ev || !l->log_ev)
        abort(); /* only fails on OOM */
    event_add(l->accept_ev, NULL);
    *out = l;
    return 0;
}

void listener_free(struct listener *l)
{
    if (!l)
        return;
    if (l->depth > 0) {
        l->dead = true;
        event_del(l->accept_ev);
        event_del(l->pause_ev);
        event_del(l->log_ev);
        return;
    }
    listener_destroy(l);
}

int listener_fd(const struct listener *l)
{
    return l->fd;
}

void listener_stats(const struct listener *l, struct listener_stats *out)
{
    *out = l->stats;
}
