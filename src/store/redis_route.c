/* redis_route — see redis_route.h. */
#include "store/redis_route.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/xmalloc.h"

/* Ask the node on rc which node serves slot (CLUSTER SLOTS, its master).
 * 0 with *host NULL when it is the node asked, or with *host (owned) and
 * *port the owner's announced address; else an error with *why set. */
static int redis_route_owner(redisContext *rc, long slot, char **host, int *port, char *why,
                             size_t whylen)
{
    *host = NULL;
    redisReply *me = redisCommand(rc, "CLUSTER MYID");
    redisReply *rep = redisCommand(rc, "CLUSTER SLOTS");
    int err = -ERR_UNAVAILABLE;
    if (!me || me->type != REDIS_REPLY_STRING || !rep || rep->type != REDIS_REPLY_ARRAY) {
        const redisReply *bad = me && me->type == REDIS_REPLY_STRING ? rep : me;
        snprintf(why, whylen, "CLUSTER MYID / CLUSTER SLOTS failed: %s",
                 bad && bad->type == REDIS_REPLY_ERROR ? bad->str : rc->errstr);
        goto out;
    }
    snprintf(why, whylen, "no node serves slot %ld (CLUSTER SLOTS)", slot);
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER || e->element[0]->integer > slot ||
            e->element[1]->integer < slot)
            continue;
        const redisReply *m = e->element[2];
        if (m->type != REDIS_REPLY_ARRAY || m->elements < 3 ||
            m->element[0]->type != REDIS_REPLY_STRING ||
            m->element[1]->type != REDIS_REPLY_INTEGER ||
            m->element[2]->type != REDIS_REPLY_STRING) {
            snprintf(why, whylen, "CLUSTER SLOTS gave an unexpected answer");
            goto out;
        }
        if (strcmp(m->element[2]->str, me->str) == 0) {
            err = 0;
        } else if (m->element[0]->len == 0 || strcmp(m->element[0]->str, "?") == 0 ||
                   m->element[1]->integer <= 0 || m->element[1]->integer > 65535) {
            snprintf(why, whylen, "the node serving slot %ld announces no address", slot);
        } else {
            *host = xstrndup(m->element[0]->str, m->element[0]->len);
            *port = (int)m->element[1]->integer;
            err = 0;
        }
        goto out;
    }
out:
    freeReplyObject(me);
    freeReplyObject(rep);
    return err;
}

/* Find the node serving the slot, asking the URL's node, then the node in
 * use, and point the connections at it. 0, or -ERR_UNAVAILABLE (logged). */
static int redis_route_locate(struct redis_conn *c)
{
    char why[256] = "no node answered";
    const struct redis_url *u = c->url;
    for (int cand = 0; cand < 2; cand++) {
        if (cand == 1 && !c->node_host)
            break;
        char *cur_host = cand == 1 ? xstrdup(c->node_host) : NULL;
        int cur_port = c->node_port;
        redisContext *rc = cand == 0 ? redis_conn_dial(u->is_unix ? u->path : NULL, u->host,
                                                       u->port, why, sizeof(why))
                                     : redis_conn_dial(NULL, cur_host, cur_port, why, sizeof(why));
        char *host = NULL;
        int port = 0;
        int err = rc ? redis_conn_auth(u, rc, why, sizeof(why)) : -ERR_UNAVAILABLE;
        if (err == 0)
            err = redis_route_owner(rc, c->slot, &host, &port, why, sizeof(why));
        redisFree(rc);
        if (err == 0) {
            if (!host && cand == 1) {
                host = cur_host; /* the node in use is the owner */
                port = cur_port;
                cur_host = NULL;
            }
            free(cur_host);
            redis_conn_set_node(c, host, port);
            c->resolve = false;
            char where[160];
            redis_conn_where(c, where, sizeof(where));
            log_info("store: redis cluster: slot %ld of workspace %s is served by %s", c->slot,
                     c->ws, where);
            return 0;
        }
        free(cur_host);
    }
    log_warn("store: redis cluster: cannot find the node serving slot %ld of workspace %s: %s",
             c->slot, c->ws, why);
    return -ERR_UNAVAILABLE;
}

int redis_route_prepare(struct redis_conn *c)
{
    if (c->cluster && c->resolve && redis_route_locate(c) != 0)
        return -ERR_UNAVAILABLE;
    return 0;
}

enum redis_route_step redis_route_follow(struct redis_conn *c, const struct redis_redirect *rd,
                                         const char *err, const char *cmd)
{
    if (!c->cluster || rd->kind == REDIS_REDIRECT_NONE)
        return REDIS_ROUTE_NONE;
    if (rd->kind == REDIS_REDIRECT_MOVED) {
        if (!rd->has_addr) {
            log_warn("store: redis cluster: %s met a MOVED without an address (%s); looking the "
                     "slot's owner up again",
                     cmd, err);
            c->resolve = true;
            redis_conn_set_node(c, NULL, 0);
            return REDIS_ROUTE_LATER;
        }
        /* "MOVED <slot> :<port>": the answering node does not know its
         * peer's address; the same host is the best guess. */
        char *host = rd->has_host   ? xstrdup(rd->host)
                     : c->node_host ? xstrdup(c->node_host)
                                    : xstrdup(c->url->host ? c->url->host : "127.0.0.1");
        log_info("store: redis cluster: slot %ld of workspace %s moved to %s:%d (MOVED on %s); "
                 "reconnecting there",
                 c->slot, c->ws, host, rd->port, cmd);
        redis_conn_set_node(c, host, rd->port);
        return REDIS_ROUTE_MOVED;
    }
    const char *what = rd->kind == REDIS_REDIRECT_ASK ? "is being migrated to another node (ASK)"
                       : rd->kind == REDIS_REDIRECT_TRYAGAIN
                           ? "is being migrated and its keys are split between two nodes "
                             "(TRYAGAIN)"
                           : "is not served: the cluster is down (CLUSTERDOWN)";
    log_warn("store: redis cluster: slot %ld of workspace %s %s; %s is unavailable, retried later "
             "(%s)",
             c->slot, c->ws, what, cmd, err);
    return REDIS_ROUTE_LATER;
}

enum redis_route_step redis_route_error(struct redis_conn *c, const char *err, const char *cmd)
{
    if (!c->cluster)
        return REDIS_ROUTE_NONE;
    struct redis_redirect rd;
    redis_redirect_parse(err, &rd);
    return redis_route_follow(c, &rd, err, cmd);
}

int redis_route_sync_connect(struct redis_conn *c, char *why, size_t whylen)
{
    if (redis_route_prepare(c) != 0) {
        snprintf(why, whylen, "cannot find the node serving slot %ld", c->slot);
        redis_conn_failed(c);
        return -ERR_UNAVAILABLE;
    }
    return redis_conn_sync_open(c, why, whylen);
}

redisReply *redis_route_command(struct redis_conn *c, int argc, const char **argv,
                                const size_t *lens)
{
    char where[160], why[256];
    bool moved = false;
    for (int attempt = 0; attempt < 2;) {
        if (!c->sync) {
            if (!redis_conn_may_connect(c))
                return NULL;
            if (redis_route_sync_connect(c, why, sizeof(why)) != 0) {
                redis_conn_where(c, where, sizeof(where));
                log_warn("store: %s: %s", where, why);
                return NULL;
            }
        }
        redisReply *rep = redisCommandArgv(c->sync, argc, argv, lens);
        if (rep && rep->type == REDIS_REPLY_ERROR) {
            /* A cluster redirection: follow one MOVED, else unavailable. */
            enum redis_route_step step = redis_route_error(c, rep->str, argv[0]);
            if (step != REDIS_ROUTE_NONE) {
                freeReplyObject(rep);
                if (step == REDIS_ROUTE_LATER || moved)
                    return NULL;
                moved = true;
                continue;
            }
        }
        if (rep)
            return rep;
        attempt++;
        redis_conn_where(c, where, sizeof(where));
        log_warn("store: %s: connection lost: %s", where, c->sync->errstr);
        redis_conn_sync_drop(c);
    }
    return NULL;
}

int redis_route_redo_setup(struct redis_conn *c)
{
    char where[160], why[256];
    int err = -ERR_UNAVAILABLE;
    if (c->sync) {
        err = redis_conn_sync_handshake(c, c->sync, why, sizeof(why));
        if (err == 0)
            return 0;
        if (c->sync->err)
            redis_conn_sync_drop(c); /* the connection died with the server: reopen it below */
    }
    if (!c->sync && redis_conn_may_connect(c))
        err = redis_route_sync_connect(c, why, sizeof(why));
    if (err && err != -ERR_UNAVAILABLE) {
        redis_conn_where(c, where, sizeof(where));
        log_warn("store: %s: %s", where, why);
    }
    return err;
}

int redis_route_async_ready(struct redis_conn *c)
{
    if (redis_conn_async_alive(c))
        return 0;
    if (!redis_conn_may_connect(c))
        return -ERR_UNAVAILABLE;
    if (redis_route_prepare(c) != 0) {
        redis_conn_failed(c);
        return -ERR_UNAVAILABLE;
    }
    return redis_conn_async_open(c);
}

/* True when the server runs in Cluster mode (INFO cluster). An ACL user
 * denied INFO counts as a single server. */
static bool redis_route_is_cluster(struct redis_conn *c)
{
    const char *argv[2] = {"INFO", "cluster"};
    redisReply *rep = redis_route_command(c, 2, argv, NULL);
    bool cluster = rep && rep->type == REDIS_REPLY_STRING && strstr(rep->str, "cluster_enabled:1");
    freeReplyObject(rep);
    return cluster;
}

int redis_route_open(struct redis_conn *c, const char *key, char **errmsg)
{
    c->cluster = redis_route_is_cluster(c);
    if (!c->cluster)
        return 0;
    const char *argv[3] = {"CLUSTER", "KEYSLOT", key};
    redisReply *rep = redis_route_command(c, 3, argv, NULL);
    if (!rep || rep->type != REDIS_REPLY_INTEGER) {
        char msg[512];
        snprintf(msg, sizeof(msg), "redis cluster: CLUSTER KEYSLOT failed: %s",
                 rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "no answer");
        int err = rep ? -ERR_STORE : -ERR_UNAVAILABLE;
        freeReplyObject(rep);
        *errmsg = xstrdup(msg);
        return err;
    }
    c->slot = (long)rep->integer;
    freeReplyObject(rep);
    if (redis_route_locate(c) != 0) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "redis cluster: cannot find the node serving slot %ld of workspace %s (see the "
                 "log)",
                 c->slot, c->ws);
        *errmsg = xstrdup(msg);
        return -ERR_UNAVAILABLE;
    }
    return 0;
}
