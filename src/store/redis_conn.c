/* redis_conn — see redis_conn.h. */
#include "store/redis_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/xmalloc.h"

int redis_conn_init(struct redis_conn *c, const struct redis_url *url, const char *ws,
                    struct event_base *loop, char **errmsg)
{
    memset(c, 0, sizeof(*c));
    c->url = url;
    c->ws = ws;
    c->backoff_ms = REDIS_CONN_BACKOFF_MIN_MS;
    c->loop = loop;
    if (!loop) {
        c->loop = event_base_new();
        c->own_loop = true;
    }
    if (!c->loop) {
        *errmsg = xstrdup("cannot create an event base for the redis connection");
        return -ERR_INTERNAL;
    }
    return 0;
}

void redis_conn_deinit(struct redis_conn *c)
{
    redis_conn_async_drop(c);
    if (c->loop && c->own_loop)
        event_base_free(c->loop);
    redis_conn_sync_drop(c);
    free(c->node_host);
    memset(c, 0, sizeof(*c));
}

void redis_conn_where(const struct redis_conn *c, char *buf, size_t n)
{
    if (c->node_host)
        snprintf(buf, n, "redis cluster node %s:%d", c->node_host, c->node_port);
    else if (c->url->is_unix)
        snprintf(buf, n, "redis at unix:%s", c->url->path);
    else
        snprintf(buf, n, "redis at %s:%d", c->url->host, c->url->port);
}

bool redis_conn_may_connect(const struct redis_conn *c)
{
    return clock_mono_ms() >= c->retry_at_ms;
}

void redis_conn_failed(struct redis_conn *c)
{
    c->retry_at_ms =
        clock_mono_ms() + clock_backoff_next(&c->backoff_ms, REDIS_CONN_BACKOFF_MAX_MS);
}

void redis_conn_succeeded(struct redis_conn *c)
{
    c->retry_at_ms = 0;
    c->backoff_ms = REDIS_CONN_BACKOFF_MIN_MS;
}

bool redis_reply_is_ok(const redisReply *rep)
{
    return rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "OK") == 0;
}

/* ---- the blocking connection ------------------------------------------ */

redisContext *redis_conn_dial(const char *path, const char *host, int port, char *why,
                              size_t whylen)
{
    struct timeval tv = clock_timeval_ms(REDIS_CONN_CONNECT_TIMEOUT_MS);
    redisContext *rc =
        path ? redisConnectUnixWithTimeout(path, tv) : redisConnectWithTimeout(host, port, tv);
    if (!rc || rc->err) {
        snprintf(why, whylen, "cannot connect: %s", rc ? rc->errstr : "out of memory");
        redisFree(rc);
        return NULL;
    }
    struct timeval io = clock_timeval_ms(REDIS_CONN_TIMEOUT_MS);
    redisSetTimeout(rc, io);
    return rc;
}

redisContext *redis_conn_dial_target(const struct redis_conn *c, char *why, size_t whylen)
{
    if (c->node_host)
        return redis_conn_dial(NULL, c->node_host, c->node_port, why, whylen);
    return redis_conn_dial(c->url->is_unix ? c->url->path : NULL, c->url->host, c->url->port, why,
                           whylen);
}

redisAsyncContext *redis_conn_async_dial_target(const struct redis_conn *c)
{
    if (c->node_host)
        return redisAsyncConnect(c->node_host, c->node_port);
    return c->url->is_unix ? redisAsyncConnectUnix(c->url->path)
                           : redisAsyncConnect(c->url->host, c->url->port);
}

int redis_conn_auth(const struct redis_url *url, redisContext *rc, char *why, size_t whylen)
{
    if (!url->pass)
        return 0;
    redisReply *rep = url->user ? redisCommand(rc, "AUTH %s %s", url->user, url->pass)
                                : redisCommand(rc, "AUTH %s", url->pass);
    int err = 0;
    if (!redis_reply_is_ok(rep)) {
        snprintf(why, whylen, "authentication failed: %s",
                 rep && rep->type == REDIS_REPLY_ERROR ? rep->str : rc->errstr);
        err = -ERR_DENIED;
    }
    freeReplyObject(rep);
    return err;
}

int redis_conn_async_handshake(const struct redis_url *url, redisAsyncContext *ac,
                               redisCallbackFn *cb, void *const privs[2])
{
    int steps = 0;
    if (url->pass) {
        const char *argv[3] = {"AUTH", url->user ? url->user : url->pass, url->pass};
        redisAsyncCommandArgv(ac, cb, privs[steps++], url->user ? 3 : 2, argv, NULL);
    }
    if (url->db) {
        char db[16];
        snprintf(db, sizeof(db), "%d", url->db);
        const char *argv[2] = {"SELECT", db};
        redisAsyncCommandArgv(ac, cb, privs[steps++], 2, argv, NULL);
    }
    return steps;
}

void redis_conn_set_node(struct redis_conn *c, char *host, int port)
{
    bool same = host ? c->node_host && strcmp(host, c->node_host) == 0 && port == c->node_port
                     : !c->node_host;
    if (same) {
        free(host);
        return;
    }
    free(c->node_host);
    c->node_host = host;
    c->node_port = host ? port : 0;
    redis_conn_sync_drop(c);
    redis_conn_async_drop(c);
}

int redis_conn_sync_handshake(struct redis_conn *c, redisContext *rc, char *why, size_t whylen)
{
    int err = redis_conn_auth(c->url, rc, why, whylen);
    if (err)
        return err;
    if (c->url->db) {
        redisReply *rep = redisCommand(rc, "SELECT %d", c->url->db);
        if (!redis_reply_is_ok(rep)) {
            snprintf(why, whylen, "SELECT %d failed: %s", c->url->db,
                     rep && rep->type == REDIS_REPLY_ERROR ? rep->str : rc->errstr);
            freeReplyObject(rep);
            return -ERR_INVALID;
        }
        freeReplyObject(rep);
    }
    return c->setup ? c->setup(c->setup_arg, rc, why, whylen) : 0;
}

int redis_conn_sync_open(struct redis_conn *c, char *why, size_t whylen)
{
    redisContext *rc = redis_conn_dial_target(c, why, whylen);
    if (!rc) {
        c->resolve = c->cluster;
        redis_conn_failed(c);
        return -ERR_UNAVAILABLE;
    }
    int err = redis_conn_sync_handshake(c, rc, why, whylen);
    if (err) {
        redisFree(rc);
        redis_conn_failed(c);
        return err;
    }
    c->sync = rc;
    redis_conn_succeeded(c);
    return 0;
}

void redis_conn_sync_drop(struct redis_conn *c)
{
    redisFree(c->sync);
    c->sync = NULL;
}

/* ---- the asynchronous connection -------------------------------------- */

static void redis_conn_changed(struct redis_conn *c)
{
    if (c->changed)
        c->changed(c->changed_arg);
}

/* ac is gone (hiredis frees it after the callback that says so). */
static void redis_conn_async_gone(struct redis_conn *c, const redisAsyncContext *ac)
{
    if (c->ac != ac)
        return; /* an older connection, dropped already */
    c->ac = NULL;
    c->ready = false;
    redis_conn_changed(c);
}

static void redis_conn_on_connect(const redisAsyncContext *ac, int status)
{
    struct redis_conn *c = ac->data;
    if (status == REDIS_OK) {
        redis_conn_succeeded(c);
        return;
    }
    char where[160];
    redis_conn_where(c, where, sizeof(where));
    log_warn("store: %s: cannot connect: %s", where, ac->errstr);
    c->resolve = c->cluster;
    redis_conn_failed(c);
    redis_conn_async_gone(c, ac);
}

static void redis_conn_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis_conn *c = ac->data;
    if (status != REDIS_OK) {
        char where[160];
        redis_conn_where(c, where, sizeof(where));
        log_warn("store: %s: connection lost: %s", where, ac->errstr);
    }
    redis_conn_async_gone(c, ac);
}

void redis_conn_async_drop(struct redis_conn *c)
{
    if (c->ac) {
        redisAsyncContext *ac = c->ac;
        c->ac = NULL;
        c->ready = false;
        redisAsyncFree(ac);
        redis_conn_changed(c);
    }
}

/* The answer to one step of the set-up (AUTH, SELECT): the last one makes
 * the connection ready; a refusal drops it. */
static void redis_conn_handshake_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis_conn *c = privdata;
    const redisReply *rep = reply;
    if (c->ac != ac)
        return; /* no reply: the connection is being freed */
    if (!redis_reply_is_ok(rep)) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            log_error("store: redis refused the connection set-up: %s", rep->str);
        redis_conn_failed(c);
        redisAsyncDisconnect(ac); /* allowed here: hiredis defers it */
        return;
    }
    if (--c->steps_left == 0) {
        c->ready = true;
        redis_conn_changed(c);
    }
}

bool redis_conn_async_alive(struct redis_conn *c)
{
    /* Not from inside one of the base's own callbacks (it cannot run
     * twice at once). */
    if (c->ac && c->own_loop && !c->running) {
        c->running = true;
        event_base_loop(c->loop, EVLOOP_NONBLOCK);
        c->running = false;
    }
    return c->ac != NULL;
}

void redis_conn_run_once(struct redis_conn *c)
{
    c->running = true;
    event_base_loop(c->loop, EVLOOP_ONCE);
    c->running = false;
}

int redis_conn_async_open(struct redis_conn *c)
{
    redisAsyncContext *ac = redis_conn_async_dial_target(c);
    if (!ac || ac->err) {
        char where[160];
        redis_conn_where(c, where, sizeof(where));
        log_warn("store: %s: cannot connect: %s", where, ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        c->resolve = c->cluster;
        redis_conn_failed(c);
        return -ERR_UNAVAILABLE;
    }
    ac->data = c;
    redisLibeventAttach(ac, c->loop);
    redisAsyncSetConnectCallback(ac, redis_conn_on_connect);
    redisAsyncSetDisconnectCallback(ac, redis_conn_on_disconnect);
    c->ac = ac;
    c->ready = false;
    void *const privs[2] = {c, c};
    c->steps_left = redis_conn_async_handshake(c->url, ac, redis_conn_handshake_cb, privs);
    /* Without a set-up, commands queue behind the connect at once. */
    c->ready = c->steps_left == 0;
    return 0;
}

int redis_conn_async_send(struct redis_conn *c, redisCallbackFn *cb, void *priv, int argc,
                          const char **argv, const size_t *lens)
{
    if (!c->ac || redisAsyncCommandArgv(c->ac, cb, priv, argc, argv, lens) != REDIS_OK)
        return -ERR_UNAVAILABLE;
    return 0;
}
