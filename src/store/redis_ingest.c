/* redis_ingest — subscribing to mcp:events and handing messages on.
 *
 * The subscription is its own hiredis async connection on the hub's loop:
 * a connection in subscribed mode accepts no other command, so it cannot
 * be the tail's or the append's. The append of a valid message runs on
 * the store's blocking connection from inside the message callback (the
 * store's append and reads block the loop the same way), never on this
 * one.
 *
 * Lifetime: hiredis calls a pending subscription's callback with no
 * reply while it frees the context, and calls the disconnect callback;
 * both check that the context is still ri->ac, which redis_ingest_free
 * clears before freeing it, so neither reaches a freed handle. */
#include "store/redis_ingest.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

/* OpenSSL's headers typedef ERR_STATE, a name base/err.h gives an error
 * code: theirs is renamed while they are included (as in net/tls.c). */
#define ERR_STATE openssl_err_state
#include <openssl/evp.h>
#undef ERR_STATE

#include "base/clock.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "store/foreign_msg.h"

#define REDIS_INGEST_CHANNEL "mcp:events"
#define REDIS_INGEST_WARN_EVERY_MS 1000

struct redis_ingest {
    struct event_base *loop;       /* the hub's; borrowed */
    const struct redis_url *url;   /* borrowed from the store */
    char *ws;                      /* owned: workspace name */
    struct redis_ingest_host host; /* copied */
    redisAsyncContext *ac;         /* the subscribed connection; NULL while down */
    struct event *retry;           /* owned: reconnects after a backoff */
    int min_ms, max_ms;            /* backoff bounds */
    int backoff_ms;                /* next delay of retry */
    int64_t warned_mono_ms;        /* monotonic ms of the last invalid-message warning */
    uint64_t unwarned;             /* invalid messages not logged since then */
    struct store_ingest_stats stats;
};

/* Log a refused (invalid or reserved) message at warn, at most once per
 * REDIS_INGEST_WARN_EVERY_MS for both kinds together. */
static void redis_ingest_warn(struct redis_ingest *ri, const char *what, const char *why)
{
    int64_t now = clock_mono_ms();
    if (ri->warned_mono_ms && now - ri->warned_mono_ms < REDIS_INGEST_WARN_EVERY_MS) {
        ri->unwarned++;
        return;
    }
    if (ri->unwarned)
        log_warn("store: ignored %s message on %s: %s (and %llu more not logged)", what,
                 REDIS_INGEST_CHANNEL, why, (unsigned long long)ri->unwarned);
    else
        log_warn("store: ignored %s message on %s: %s", what, REDIS_INGEST_CHANNEL, why);
    ri->warned_mono_ms = now;
    ri->unwarned = 0;
}

static void redis_ingest_digest(const char *msg, size_t len, char hex[REDIS_INGEST_DIGEST_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(msg, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        abort(); /* SHA-256 is always available; a failure here is OOM */
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void redis_ingest_message(struct redis_ingest *ri, const char *msg, size_t len)
{
    int64_t now = 0;
    if (ri->host.now(ri->host.arg, &now) != 0) {
        ri->stats.failed++;
        log_warn("store: a message on %s was dropped: the store's clock cannot be read",
                 REDIS_INGEST_CHANNEL);
        return;
    }
    struct event_vec evs;
    event_vec_init(&evs);
    size_t ignored = 0;
    char why[256];
    switch (foreign_msg_parse(msg, len, ri->ws, now, &evs, &ignored, why, sizeof(why))) {
    case FOREIGN_MSG_IGNORED:
        ri->stats.ignored++;
        log_debug("store: a message on %s is not ours to ingest (%s)", REDIS_INGEST_CHANNEL, why);
        break;
    case FOREIGN_MSG_INVALID:
        ri->stats.invalid++;
        redis_ingest_warn(ri, "an invalid", why);
        break;
    case FOREIGN_MSG_RESERVED:
        ri->stats.reserved++;
        redis_ingest_warn(ri, "a reserved-type", why);
        break;
    case FOREIGN_MSG_INGEST: {
        char digest[REDIS_INGEST_DIGEST_LEN + 1];
        redis_ingest_digest(msg, len, digest);
        int rc = ri->host.append(ri->host.arg, digest, evs.items, evs.len);
        if (rc == 0) {
            ri->stats.ingested++;
            log_debug("store: ingested %zu foreign events from %s (%zu items ignored)", evs.len,
                      REDIS_INGEST_CHANNEL, ignored);
        } else if (rc == REDIS_INGEST_DUPLICATE) {
            ri->stats.duplicate++;
        } else {
            ri->stats.failed++;
            log_warn("store: a message on %s was dropped: the store could not append it: %s",
                     REDIS_INGEST_CHANNEL, coordhub_strerror(rc));
        }
        break;
    }
    }
    event_vec_deinit(&evs);
}

static void redis_ingest_start(struct redis_ingest *ri);

static void redis_ingest_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    redis_ingest_start(arg);
}

/* The connection is gone: try again after a capped, doubling delay. */
static void redis_ingest_lost(struct redis_ingest *ri)
{
    struct timeval tv = clock_timeval_ms(clock_backoff_next(&ri->backoff_ms, ri->max_ms));
    evtimer_add(ri->retry, &tv);
}

static void redis_ingest_on_connect(const redisAsyncContext *ac, int status)
{
    struct redis_ingest *ri = ac->data;
    if (status == REDIS_OK || ri->ac != ac)
        return;
    ri->ac = NULL; /* hiredis frees the context after this callback */
    redis_ingest_lost(ri);
}

static void redis_ingest_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis_ingest *ri = ac->data;
    (void)status;
    if (ri->ac != ac)
        return;
    ri->ac = NULL;
    redis_ingest_lost(ri);
}

static const redisReply *redis_ingest_str(const redisReply *rep, size_t i)
{
    return i < rep->elements && rep->element[i]->type == REDIS_REPLY_STRING ? rep->element[i]
                                                                            : NULL;
}

static void redis_ingest_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis_ingest *ri = privdata;
    const redisReply *rep = reply;
    if (!rep || ri->ac != ac)
        return; /* freed or disconnected: on_disconnect schedules the retry */
    if (rep->type == REDIS_REPLY_ERROR) {
        log_error("store: redis refused the subscription to %s: %s", REDIS_INGEST_CHANNEL,
                  rep->str);
        redisAsyncDisconnect(ac);
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3)
        return;
    const redisReply *kind = redis_ingest_str(rep, 0);
    const redisReply *payload = redis_ingest_str(rep, 2);
    if (!kind)
        return;
    if (strcmp(kind->str, "subscribe") == 0) {
        ri->backoff_ms = ri->min_ms;
        log_debug("store: subscribed to %s", REDIS_INGEST_CHANNEL);
    } else if (strcmp(kind->str, "message") == 0 && payload) {
        redis_ingest_message(ri, payload->str, payload->len);
    }
}

static void redis_ingest_auth_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis_ingest *ri = privdata;
    const redisReply *rep = reply;
    if (rep && ri->ac == ac && rep->type == REDIS_REPLY_ERROR) {
        log_error("store: redis refused the subscriber's authentication: %s", rep->str);
        redisAsyncDisconnect(ac);
    }
}

/* Open the connection, authenticate as the URL says and subscribe.
 * Failures are retried by redis_ingest_lost. */
static void redis_ingest_start(struct redis_ingest *ri)
{
    if (ri->ac)
        return;
    const struct redis_url *u = ri->url;
    redisAsyncContext *ac =
        u->is_unix ? redisAsyncConnectUnix(u->path) : redisAsyncConnect(u->host, u->port);
    if (!ac || ac->err) {
        if (ac)
            redisAsyncFree(ac);
        redis_ingest_lost(ri);
        return;
    }
    ac->data = ri;
    redisLibeventAttach(ac, ri->loop);
    redisAsyncSetConnectCallback(ac, redis_ingest_on_connect);
    redisAsyncSetDisconnectCallback(ac, redis_ingest_on_disconnect);
    ri->ac = ac;
    if (u->pass) {
        const char *argv[3] = {"AUTH", u->user ? u->user : u->pass, u->pass};
        redisAsyncCommandArgv(ac, redis_ingest_auth_cb, ri, u->user ? 3 : 2, argv, NULL);
    }
    /* Pub/Sub channels are not per database: no SELECT. */
    const char *argv[2] = {"SUBSCRIBE", REDIS_INGEST_CHANNEL};
    redisAsyncCommandArgv(ac, redis_ingest_cb, ri, 2, argv, NULL);
}

struct redis_ingest *redis_ingest_new(struct event_base *loop, const struct redis_url *url,
                                      const char *ws, const struct redis_ingest_host *host,
                                      int min_ms, int max_ms)
{
    struct redis_ingest *ri = xcalloc(1, sizeof(*ri));
    ri->loop = loop;
    ri->url = url;
    ri->ws = xstrdup(ws);
    ri->host = *host;
    ri->min_ms = min_ms;
    ri->max_ms = max_ms;
    ri->backoff_ms = min_ms;
    ri->retry = evtimer_new(loop, redis_ingest_retry_cb, ri);
    if (!ri->retry)
        abort(); /* only fails on OOM */
    redis_ingest_start(ri);
    return ri;
}

void redis_ingest_free(struct redis_ingest *ri)
{
    if (!ri)
        return;
    if (ri->ac) {
        redisAsyncContext *ac = ri->ac;
        ri->ac = NULL;
        redisAsyncFree(ac);
    }
    event_free(ri->retry);
    free(ri->ws);
    free(ri);
}

void redis_ingest_stats(const struct redis_ingest *ri, struct store_ingest_stats *out)
{
    if (ri)
        *out = ri->stats;
    else
        memset(out, 0, sizeof(*out));
}
