/* redis_tail — the redis store's tail of the log: other writers' events,
 * as they are appended, on the hub's loop.
 *
 * A connection of its own to the node serving the workspace's keys,
 * attached to the hub's loop, runs XREAD BLOCK on the log stream from the
 * last seq it saw, re-issued after every answer. Entries carry the
 * writing handle's random id in field "w", so the tail passes on only
 * other writers' events, in seq order; ingested entries carry
 * "foreign:<id>", which is no handle's id, so every hub's tail (the
 * ingesting one's too) delivers them. A damaged entry is skipped (reading
 * on after it, so it cannot spin the loop). A lost connection is reported
 * to the listener (n == 0, store.h) and reopened after a capped, doubling
 * delay; a cluster redirection is followed on the shared connection state
 * (redis_route.c) and the tail reconnects there.
 *
 * Above redis_conn.c and redis_route.c: it takes the connection state
 * (target, credentials, cluster) and the names it reads, not the store. */
#ifndef COORDHUB_STORE_REDIS_TAIL_H
#define COORDHUB_STORE_REDIS_TAIL_H

#include <stdint.h>

#include <hiredis/async.h>

#include "store/redis_conn.h"
#include "store/store.h"

struct event;
struct event_base;

#define REDIS_TAIL_COUNT "512"
#define REDIS_TAIL_BLOCK_MS "5000"

struct redis_tail {
    struct redis_conn *conn; /* borrowed: where to connect, cluster state */
    struct event_base *loop; /* borrowed: the hub's loop */
    const char *k_log;       /* borrowed: the stream */
    const char *writer;      /* borrowed: this handle's id (its own entries are skipped) */
    redisAsyncContext *ac;   /* the XREAD BLOCK connection; NULL when down */
    struct event *retry;     /* reconnects after a backoff */
    int backoff_ms;          /* next delay of retry */
    uint64_t seq;            /* everything up to this seq has been seen */
    char after[48];          /* the last entry id seen, damaged or not ("": seq) */
    store_listen_cb cb;      /* NULL: not listening */
    void *arg;
};

/* Everything borrowed outlives t. */
void redis_tail_init(struct redis_tail *t, struct redis_conn *conn, struct event_base *loop,
                     const char *k_log, const char *writer);
/* Deliver entries after *seq to cb (restarting the tail); seq NULL: after
 * what the tail saw last (the store could not tell its last seq). */
void redis_tail_start(struct redis_tail *t, const uint64_t *seq, store_listen_cb cb, void *arg);
/* Stop delivering and close the connection. */
void redis_tail_stop(struct redis_tail *t);
void redis_tail_deinit(struct redis_tail *t);

#endif
