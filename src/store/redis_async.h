/* redis_async — the redis store's requests on the asynchronous
 * connection: appends (the append script) and reads (XRANGE), from the
 * call until their callback (docs/architecture.md, "Asynchrony").
 *
 * Above redis_conn.c, redis_route.c and redis_scripts.c, below the ops
 * table (store_redis.c): it takes the connection, the scripts and the
 * log's key, never the store's handle.
 *
 * An append waits for the connection's set-up (AUTH and SELECT queued
 * behind the connect), is sent, and is answered by Redis, by a lost
 * connection (-ERR_TIMEOUT: it may have run), or by its deadline,
 * REDIS_CONN_TIMEOUT_MS after the call (the connection is dropped:
 * -ERR_TIMEOUT when it was sent, -ERR_UNAVAILABLE when it never went). A
 * NOSCRIPT has the scripts loaded again (a blocking SCRIPT LOAD) and a
 * MOVED switches the connections to the node it names; after each the
 * append is sent again, once. Those follow-ups and every callback run from
 * settle_ev, an event of the connection's loop, never inside hiredis's
 * reply callbacks: following a MOVED drops the connection, and a caller's
 * callback may do anything but deinit this.
 *
 * later: the connection runs on the caller's loop, and callbacks come
 * later from it; else append runs the connection's private base until
 * its callback ran (before it returns), and reads are not offered.
 * Every append and read is called back exactly once (a cancelled read
 * never); deinit completes what is left with -ERR_UNAVAILABLE. */
#ifndef COORDHUB_STORE_REDIS_ASYNC_H
#define COORDHUB_STORE_REDIS_ASYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/redis_args.h"
#include "store/redis_conn.h"
#include "store/redis_scripts.h"
#include "store/store.h"

#define REDIS_ASYNC_READ_MAX 1000 /* events per asynchronous read, at most */

struct redis_async_req;

struct redis_async {
    struct redis_conn *conn;       /* borrowed */
    struct redis_scripts *scripts; /* borrowed: the append script's sha */
    const char *k_log;             /* borrowed: the stream reads read */
    bool later;                    /* callbacks later, from the caller's loop */
    struct event *settle_ev;       /* on conn->loop: follow-ups and callbacks */
    struct redis_async_req *reqs;  /* appends not completed, oldest first */
    struct store_read *reads;      /* reads not completed */
    char error[256]; /* the server's error for the last append completed ("OOM …"), or "" */
};

/* Set r up on conn (whose `changed` hook it takes). 0 or -ERR_INTERNAL. */
int redis_async_init(struct redis_async *r, struct redis_conn *conn, struct redis_scripts *scripts,
                     const char *k_log, bool later);
/* Complete what is left with -ERR_UNAVAILABLE (reads not cancelled
 * too), drop the asynchronous connection, free. Safe after a failed or
 * no init (zeroed). */
void redis_async_deinit(struct redis_async *r);

/* Append with the append script's command args (taken) after expected:
 * cb reports 0 with the new last seq, -ERR_CONFLICT with the log's, or
 * an error with expected. */
void redis_async_append(struct redis_async *r, struct redis_args *args, uint64_t expected,
                        store_append_cb cb, void *arg);
/* store_ops.read_async: up to limit (at most REDIS_ASYNC_READ_MAX)
 * events after since. */
int redis_async_read(struct redis_async *r, uint64_t since, size_t limit, store_read_cb cb,
                     void *arg, struct store_read **handle);
/* store_ops.read_cancel. */
void redis_async_read_cancel(struct store_read *q);
/* The server's words for the last append's failure, or NULL. */
const char *redis_async_error(const struct redis_async *r);

#endif
