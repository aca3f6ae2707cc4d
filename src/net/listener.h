/* listener — the one accept loop for every listening socket of the hub
 * (hub.sock, the HTTP port).
 *
 * Accepted descriptors are non-blocking and close-on-exec before the
 * owner sees them. When accept() fails for want of descriptors or memory
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM) the listener stops accepting for
 * pause_ms and tries again: the pending connections wait in the kernel's
 * backlog instead of the loop spinning on a readable socket it cannot
 * accept from. Such failures are counted and logged at most once per
 * log_interval_ms, with the count. Transient errors of one connection
 * (ECONNABORTED, EINTR, EAGAIN, EPROTO) are skipped quietly. Each wake-up
 * accepts a bounded batch, so a flood on one socket cannot starve the
 * rest of the loop. Sizing the hub's caps so that accept never runs out
 * of descriptors is the owner's job (docs/operations.md); the pause is the
 * last line of defence. */
#ifndef COORDHUB_NET_LISTENER_H
#define COORDHUB_NET_LISTENER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/err.h"

struct event_base;
struct listener;

/* A new connection: fd is owned by the callee from now on. The callback
 * may free the listener. */
typedef void (*listener_accept_fn)(void *arg, int fd, const struct sockaddr *peer, socklen_t len);

struct listener_config {
    const char *what;    /* names the listener in logs ("HTTP", "socket"); copied */
    int pause_ms;        /* accepting paused this long after EMFILE & co (> 0) */
    int log_interval_ms; /* at most one warning per interval, with a count (> 0) */
};

struct listener_stats {
    uint64_t accepted; /* connections handed to the callback */
    uint64_t failures; /* accept() calls that failed for want of descriptors or memory */
    uint64_t pauses;   /* times accepting was paused */
    bool paused;       /* accepting is paused now */
};

/* Accept on listen_fd (already bound and listening; taken: closed by
 * listener_free, also on failure). 0, or -ERR_INVALID for a bad config. */
COORDHUB_MUST_CHECK int listener_new(struct event_base *base, int listen_fd,
                                     const struct listener_config *cfg, listener_accept_fn fn,
                                     void *arg, struct listener **out);
/* Stop accepting and close listen_fd; NULL ok. Safe from the callback. */
void listener_free(struct listener *l);
/* The listening descriptor (still owned by the listener). */
int listener_fd(const struct listener *l);
void listener_stats(const struct listener *l, struct listener_stats *out);

#endif
