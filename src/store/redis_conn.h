/* redis_conn — the redis store's connections to where the workspace's
 * keys are, at the bottom of the store's Redis layers (above it:
 * redis_route.c for Cluster redirects, redis_scripts.c, redis_async.c for
 * the requests on the asynchronous connection, then the tail and the ops
 * table; docs/architecture.md).
 *
 * Two connections live here. The blocking one (reads, snapshots, TIME,
 * trim, metadata, ingestion) is a redisContext with connect and I/O
 * timeouts. The asynchronous one (appends) is a redisAsyncContext on an
 * event base: the caller's loop when it gives one (the hub's: nothing
 * waits for Redis on it), else a private base its owner runs until the
 * answer (a caller without a loop, that wants append to complete before
 * it returns). Opening it never blocks: AUTH and SELECT are queued behind
 * the connect and their answers taken by callbacks; `ready` says the
 * set-up was answered, and the owner's `changed` hook hears every change
 * (ready, or lost) — from inside hiredis's callbacks, so it must only
 * schedule work (the store activates an event), never send or drop.
 *
 * Target: the URL's address, or, in Cluster mode, the node serving the
 * workspace's slot (node_host/node_port, set by redis_route.c with
 * redis_conn_set_node, which drops both connections so they reopen
 * there). A failed dial marks the target as possibly stale (resolve,
 * when cluster), for redis_route.c to look up again.
 *
 * Backoff: a failed connect postpones the next attempt by a capped,
 * doubling delay (REDIS_CONN_BACKOFF_MIN_MS .. REDIS_CONN_BACKOFF_MAX_MS,
 * counted from the failed attempt); a success resets it. Both connections
 * share it: they go to the same server.
 *
 * Set-up: every fresh blocking connection gets AUTH and SELECT as the URL
 * asks, then the owner's setup hook (the store loads its scripts there);
 * every fresh asynchronous one AUTH and SELECT. hiredis writes with
 * write(), so the process must ignore SIGPIPE (the hub does). */
#ifndef COORDHUB_STORE_REDIS_CONN_H
#define COORDHUB_STORE_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "store/redis_url.h"

struct event_base;

#define REDIS_CONN_TIMEOUT_MS 5000
#define REDIS_CONN_CONNECT_TIMEOUT_MS 2000
#define REDIS_CONN_BACKOFF_MIN_MS 100
#define REDIS_CONN_BACKOFF_MAX_MS 5000

/* Run on every fresh blocking connection after AUTH and SELECT: 0, or an
 * error with *why set (the connection is then dropped). */
typedef int (*redis_conn_setup_fn)(void *arg, redisContext *c, char *why, size_t whylen);

struct redis_conn {
    const struct redis_url *url; /* borrowed: where and how to authenticate */
    const char *ws;              /* borrowed: the workspace, for messages */
    redisContext *sync;          /* blocking connection; NULL while away */
    struct event_base *loop;     /* where ac runs: the caller's, or private (own_loop) */
    bool own_loop;               /* loop is private: created and freed here */
    bool running;                /* the private loop runs (redis_conn_run_once) */
    redisAsyncContext *ac;       /* NULL while not connected */
    bool ready;                  /* ac's AUTH/SELECT answered: commands may go */
    int steps_left;              /* set-up answers ac still waits for */
    /* ac became ready or was lost (may be NULL); runs inside hiredis's
     * callbacks: schedule only. */
    void (*changed)(void *arg);
    void *changed_arg;
    int64_t retry_at_ms;       /* monotonic ms: no connect attempt before */
    int backoff_ms;            /* next delay after a failed attempt */
    redis_conn_setup_fn setup; /* may be NULL */
    void *setup_arg;
    /* Cluster (redis_route.c keeps these; the connection only reads the
     * target and marks it stale on a failed dial). */
    bool cluster;    /* the URL names a Redis Cluster node */
    long slot;       /* the workspace's hash slot */
    char *node_host; /* owned; the node serving the slot, NULL: the URL's */
    int node_port;   /* with node_host */
    bool resolve;    /* look the slot's owner up before the next connect */
};

/* loop: where the asynchronous connection runs (borrowed), or NULL for a
 * private base. 0, or -ERR_INTERNAL with *errmsg (caller frees) set. */
int redis_conn_init(struct redis_conn *c, const struct redis_url *url, const char *ws,
                    struct event_base *loop, char **errmsg);
void redis_conn_deinit(struct redis_conn *c);

/* Where c connects, for messages: never the URL (it may carry a password). */
void redis_conn_where(const struct redis_conn *c, char *buf, size_t n);

bool redis_conn_may_connect(const struct redis_conn *c);
void redis_conn_failed(struct redis_conn *c);
void redis_conn_succeeded(struct redis_conn *c);

bool redis_reply_is_ok(const redisReply *rep);

/* A blocking connection to a unix socket (path) or host:port, with the
 * connect and I/O timeouts; NULL with *why set. */
redisContext *redis_conn_dial(const char *path, const char *host, int port, char *why,
                              size_t whylen);
/* Blocking / asynchronous (unattached) connections to the target. */
redisContext *redis_conn_dial_target(const struct redis_conn *c, char *why, size_t whylen);
redisAsyncContext *redis_conn_async_dial_target(const struct redis_conn *c);

/* AUTH as url asks on a fresh blocking connection: 0, or -ERR_DENIED with
 * *why set. */
int redis_conn_auth(const struct redis_url *url, redisContext *rc, char *why, size_t whylen);
/* Queue AUTH and SELECT as url asks on a fresh asynchronous connection;
 * the k-th command sent gets privs[k]. Returns how many were sent (0..2). */
int redis_conn_async_handshake(const struct redis_url *url, redisAsyncContext *ac,
                               redisCallbackFn *cb, void *const privs[2]);

/* Point the connections at host:port (owned; NULL: the URL's address).
 * When that changes both connections are dropped. Never call it from a
 * callback of c->ac. */
void redis_conn_set_node(struct redis_conn *c, char *host, int port);

/* AUTH, SELECT and the setup hook on rc: 0, or an error with *why set. */
int redis_conn_sync_handshake(struct redis_conn *c, redisContext *rc, char *why, size_t whylen);
/* Dial the target and hand it over as c->sync after the handshake,
 * counting the attempt in the backoff. 0, or an error with *why set. */
int redis_conn_sync_open(struct redis_conn *c, char *why, size_t whylen);
void redis_conn_sync_drop(struct redis_conn *c);

/* Whether the asynchronous connection is still up. On a private base,
 * what is pending on it (an EOF from a restarted server) is processed
 * first, without blocking; on the caller's loop the loop does that. */
bool redis_conn_async_alive(struct redis_conn *c);
/* Dial the target on c->loop and queue AUTH/SELECT, without waiting: 0
 * (c->ready once they are answered, at once when there are none), or
 * -ERR_UNAVAILABLE (counted in the backoff, logged). A failed set-up
 * drops the connection, counted in the backoff. */
int redis_conn_async_open(struct redis_conn *c);
/* Run the private base once, blocking until something happens (the
 * owner waits for an answer this way; its deadline bounds the wait). */
void redis_conn_run_once(struct redis_conn *c);
/* Send one command on c->ac (which must be up): 0, or -ERR_UNAVAILABLE. */
int redis_conn_async_send(struct redis_conn *c, redisCallbackFn *cb, void *priv, int argc,
                          const char **argv, const size_t *lens);
/* Drop the asynchronous connection: every command pending on it gets its
 * callback with no reply, before this returns. Never call it from a
 * callback of c->ac. */
void redis_conn_async_drop(struct redis_conn *c);

#endif
