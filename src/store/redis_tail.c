/* redis_tail — see redis_tail.h. */
#include "store/redis_tail.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>

#include "base/clock.h"
#include "base/log.h"
#include "store/redis_entry.h"
#include "store/redis_route.h"

static void redis_tail_connect(struct redis_tail *t);

static void redis_tail_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    redis_tail_connect(arg);
}

/* Tell the listener that the tail lost its connection (store.h: n == 0). */
static void redis_tail_tell_lost(struct redis_tail *t)
{
    if (t->cb)
        t->cb(t->arg, NULL, 0);
}

/* The tail connection is gone: try again after a capped, doubling delay. */
static void redis_tail_lost(struct redis_tail *t)
{
    if (!t->cb || !t->retry)
        return;
    struct timeval tv =
        clock_timeval_ms(clock_backoff_next(&t->backoff_ms, REDIS_CONN_BACKOFF_MAX_MS));
    evtimer_add(t->retry, &tv);
}

static void redis_tail_on_connect(const redisAsyncContext *ac, int status)
{
    struct redis_tail *t = ac->data;
    if (status == REDIS_OK)
        return;
    if (t->ac == ac) {
        t->ac = NULL;
        t->conn->resolve = t->conn->cluster;
        redis_tail_lost(t);
        redis_tail_tell_lost(t);
    }
}

static void redis_tail_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis_tail *t = ac->data;
    (void)status;
    if (t->ac == ac) {
        t->ac = NULL;
        redis_tail_lost(t);
        redis_tail_tell_lost(t);
    }
}

static void redis_tail_cb(redisAsyncContext *ac, void *reply, void *privdata);

static void redis_tail_issue(struct redis_tail *t)
{
    char id[48];
    if (t->after[0])
        snprintf(id, sizeof(id), "%s", t->after);
    else
        snprintf(id, sizeof(id), "%" PRIu64 "-0", t->seq);
    const char *argv[8] = {
        "XREAD", "COUNT", REDIS_TAIL_COUNT, "BLOCK", REDIS_TAIL_BLOCK_MS, "STREAMS", t->k_log, id};
    redisAsyncCommandArgv(t->ac, redis_tail_cb, t, 8, argv, NULL);
}

/* Pass the other writers' entries of one XREAD answer on, in order. */
static void redis_tail_deliver(struct redis_tail *t, const redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 1 ||
        rep->element[0]->type != REDIS_REPLY_ARRAY || rep->element[0]->elements != 2 ||
        rep->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
        return;
    const redisReply *entries = rep->element[0]->element[1];
    struct event_vec v;
    event_vec_init(&v);
    for (size_t i = 0; i < entries->elements; i++) {
        struct event ev;
        const redisReply *e = entries->element[i];
        /* Read on after this entry whatever it holds: re-reading a damaged
         * one would spin the loop on it. */
        if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
            e->element[0]->type == REDIS_REPLY_STRING && e->element[0]->len < sizeof(t->after))
            snprintf(t->after, sizeof(t->after), "%s", e->element[0]->str);
        if (redis_entry_event(e, &ev) != 0) {
            log_error("store: an entry of %s is damaged; the tail skips it", t->k_log);
            continue;
        }
        t->seq = ev.seq;
        const redisReply *w = redis_entry_field(e->element[1], "w");
        if (w && strcmp(w->str, t->writer) == 0) {
            event_deinit(&ev); /* this handle's own append */
            continue;
        }
        event_vec_push(&v, &ev);
    }
    if (v.len && t->cb)
        t->cb(t->arg, v.items, v.len);
    event_vec_deinit(&v);
}

static void redis_tail_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis_tail *t = privdata;
    const redisReply *rep = reply;
    if (!rep || t->ac != ac)
        return; /* disconnected: on_disconnect schedules the retry */
    if (rep->type == REDIS_REPLY_ERROR) {
        /* A cluster redirection (logged there) reconnects after the
         * backoff: to the new node after a MOVED. */
        if (redis_route_error(t->conn, rep->str, "XREAD") == REDIS_ROUTE_NONE)
            log_error("store: tailing %s failed: %s", t->k_log, rep->str);
        redisAsyncDisconnect(ac);
        return;
    }
    t->backoff_ms = REDIS_CONN_BACKOFF_MIN_MS;
    if (rep->type != REDIS_REPLY_NIL) /* NIL: the block timed out */
        redis_tail_deliver(t, rep);
    if (t->ac == ac && t->cb)
        redis_tail_issue(t);
}

static void redis_tail_setup_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *rep = reply;
    (void)privdata;
    if (rep && !redis_reply_is_ok(rep)) {
        log_error("store: redis refused the tail's set-up: %s",
                  rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected answer");
        redisAsyncDisconnect(ac);
    }
}

/* Open the tail connection on the hub's loop and start reading after
 * seq. Failures are retried by redis_tail_lost. */
static void redis_tail_connect(struct redis_tail *t)
{
    if (!t->cb || t->ac)
        return;
    if (redis_route_prepare(t->conn) != 0) {
        redis_tail_lost(t);
        return;
    }
    redisAsyncContext *ac = redis_conn_async_dial_target(t->conn);
    if (!ac || ac->err) {
        if (ac)
            redisAsyncFree(ac);
        t->conn->resolve = t->conn->cluster;
        redis_tail_lost(t);
        return;
    }
    ac->data = t;
    redisLibeventAttach(ac, t->loop);
    redisAsyncSetConnectCallback(ac, redis_tail_on_connect);
    redisAsyncSetDisconnectCallback(ac, redis_tail_on_disconnect);
    t->ac = ac;
    void *const privs[2] = {NULL, NULL};
    redis_conn_async_handshake(t->conn->url, ac, redis_tail_setup_cb, privs);
    redis_tail_issue(t);
}

void redis_tail_init(struct redis_tail *t, struct redis_conn *conn, struct event_base *loop,
                     const char *k_log, const char *writer)
{
    memset(t, 0, sizeof(*t));
    t->conn = conn;
    t->loop = loop;
    t->k_log = k_log;
    t->writer = writer;
}

void redis_tail_start(struct redis_tail *t, const uint64_t *seq, store_listen_cb cb, void *arg)
{
    redis_tail_stop(t);
    if (seq) {
        t->seq = *seq;
        t->after[0] = '\0';
    }
    t->cb = cb;
    t->arg = arg;
    t->backoff_ms = REDIS_CONN_BACKOFF_MIN_MS;
    if (!t->retry)
        t->retry = evtimer_new(t->loop, redis_tail_retry_cb, t);
    redis_tail_connect(t);
}

void redis_tail_stop(struct redis_tail *t)
{
    t->cb = NULL;
    if (t->retry)
        evtimer_del(t->retry);
    if (t->ac) {
        redisAsyncContext *ac = t->ac;
        t->ac = NULL;
        redisAsyncFree(ac);
    }
}

void redis_tail_deinit(struct redis_tail *t)
{
    redis_tail_stop(t);
    if (t->retry)
        event_free(t->retry);
    t->retry = NULL;
}
