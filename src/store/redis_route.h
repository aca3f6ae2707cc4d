/* redis_route — where the redis store's commands go in Cluster mode, and
 * the blocking command that follows a redirection there.
 *
 * When the URL's server runs in Cluster mode (INFO cluster), open asks it
 * for the workspace's slot (CLUSTER KEYSLOT) and the master serving it
 * (CLUSTER SLOTS, compared with CLUSTER MYID), and every connection that
 * touches the workspace's keys (append, reads, TIME, snapshots, trim, the
 * tail) goes to that node, with the URL's credentials; only database 0
 * exists there. A MOVED answer (the slot was migrated, a replica took
 * over) switches the connections to the node it names; a command that met
 * it did nothing and is retried there once. ASK, TRYAGAIN (a slot half-way
 * through a migration) and CLUSTERDOWN are reported unavailable and
 * retried later by the caller. A node that cannot be reached makes the
 * next connect ask the URL's node, then the node in use, for the owner
 * again. Error replies are read by redis_redirect_parse, the one parser.
 *
 * Above redis_conn.c, below the scripts, the tail and the ops table: it
 * takes the connection (struct redis_conn) and nothing else. */
#ifndef COORDHUB_STORE_REDIS_ROUTE_H
#define COORDHUB_STORE_REDIS_ROUTE_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "store/redis_conn.h"
#include "store/redis_redirect.h"

enum redis_route_step {
    REDIS_ROUTE_NONE,  /* not a cluster redirection */
    REDIS_ROUTE_MOVED, /* the slot lives elsewhere now: the node was switched */
    REDIS_ROUTE_LATER, /* ASK, TRYAGAIN, CLUSTERDOWN, an unreadable MOVED: unavailable */
};

/* Cluster mode, at open (c->sync up): whether the server is a cluster
 * node and, if so, the slot of key and the node serving it, where every
 * connection goes from now on. 0, or an error with *errmsg set. */
int redis_route_open(struct redis_conn *c, const char *key, char **errmsg);

/* If the target may be stale (Cluster, after a failed dial), look the
 * slot's owner up again: 0, or -ERR_UNAVAILABLE (logged). */
int redis_route_prepare(struct redis_conn *c);

/* Act on a parsed redirection met by command cmd (err: the reply's text,
 * for the log): MOVED switches the connections to the node it names.
 * Never call it from a callback of c->ac (a switch drops c->ac): the
 * append parses inside its callback and follows after it. */
enum redis_route_step redis_route_follow(struct redis_conn *c, const struct redis_redirect *rd,
                                         const char *err, const char *cmd);
/* Parse err and follow it (REDIS_ROUTE_NONE when not in Cluster mode). */
enum redis_route_step redis_route_error(struct redis_conn *c, const char *err, const char *cmd);

/* Open the blocking connection, locating the slot's owner first if
 * needed. 0, or an error with *why set. */
int redis_route_sync_connect(struct redis_conn *c, char *why, size_t whylen);

/* Run one command on the blocking connection, reconnecting first if it is
 * down and the backoff allows. An I/O error drops the connection and tries
 * once more on a fresh one (every command sent here is idempotent); one
 * MOVED is followed. NULL when Redis is unreachable or the slot is not
 * served for now; otherwise the reply (maybe an error reply), which the
 * caller frees. */
redisReply *redis_route_command(struct redis_conn *c, int argc, const char **argv,
                                const size_t *lens);

/* Run the blocking set-up again (AUTH, SELECT, the setup hook) after a
 * NOSCRIPT, reopening the connection if it is down. 0 or an error. */
int redis_route_redo_setup(struct redis_conn *c);

/* Make sure the asynchronous connection is up, reconnecting (to the
 * slot's owner) if it is gone and the backoff allows: 0 or
 * -ERR_UNAVAILABLE. */
int redis_route_async_ready(struct redis_conn *c);

#endif
