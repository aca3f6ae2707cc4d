/* store_redis — the Redis backend: its ops table, on top of the store's
 * Redis layers (docs/architecture.md, "The Redis store"):
 *   redis_conn.c     connections to where the keys are, backoff
 *   redis_redirect.c the parser of Cluster redirections (pure)
 *   redis_route.c    the node serving the workspace's slot, the blocking
 *                    command that follows redirections
 *   redis_args.c, redis_entry.c, redis_compat.c  argument vectors, an
 *                    event as a stream entry, the seed-compatibility
 *                    projection (no I/O)
 *   redis_scripts.c  the Lua scripts and their one argument layout
 *   redis_async.c    appends and reads on the asynchronous connection,
 *                    from the call until their callback
 *   redis_tail.c     XREAD BLOCK on the hub's loop (listen)
 *   redis_ingest.c   the mcp:events subscriber (listen)
 * Each takes what it needs as arguments; none includes this file's
 * handle, and they include each other only downwards.
 *
 * Keys. Every key of a workspace carries the hash tag {<ws>}, so the
 * workspace lives on one Redis Cluster slot and one script may touch all
 * of them:
 *   mcp:{ws}:log       stream of events (redis_entry.h)
 *   mcp:{ws}:seq       the log's last seq (the version), decimal
 *   mcp:{ws}:trimmed   highest seq dropped by trim, decimal (absent: 0)
 *   mcp:{ws}:snapshot  hash {seq, text}: the newest state snapshot
 *   mcp:{ws}:meta      hash of workspace facts (meta_claim)
 *   mcp:{ws}:ingested:<sha256>  a foreign message's digest, set for
 *                      STORE_REDIS_INGEST_WINDOW_S seconds after it was
 *                      ingested (dedupe across hubs)
 *   mcp:{ws}:servers   hash serverId -> the registry member standing for it
 * and, outside the hash tag (single server only), the seed's keys
 * (redis_compat.h). Stream ids are derived from seqs ("<seq>-0"), so
 * read(since) is one XRANGE from "<since+1>-0"; the version key is kept
 * beside the stream because the stream alone cannot tell the last seq
 * once trimming has emptied it.
 *
 * Connections. Appends run the append script on the asynchronous
 * connection (redis_async.h). With opts.async it lives on the caller's
 * loop (opts->loop): append returns at once and its callback runs later
 * from that loop; the hub keeps one batch in flight and serves meanwhile.
 * read_async reads the same way (an SSE backfill past the hub's ring).
 * Without opts.async the same requests run on the connection's private
 * base, which append runs until the answer: append completes before it
 * returns, like the local backends. read, snapshots, the first TIME,
 * trim, metadata and ingestion use the blocking
 * connection (the interface makes them synchronous). listen() starts the
 * tail (redis_tail.c) from the last seq at the time it was called, and
 * subscribes to mcp:events (redis_ingest.c), both on the hub's loop
 * (opts->loop); listen(NULL) and close stop them.
 *
 * Failures. While Redis is away append reports -ERR_UNAVAILABLE and
 * nothing was written. An append that was sent but whose answer does not
 * come within REDIS_CONN_TIMEOUT_MS, or whose connection is lost before
 * the answer, is reported -ERR_TIMEOUT: the script may have run. The hub
 * then reads the log back, which is the truth either way.
 *
 * Durability. The callback runs only after Redis answered the script, so an
 * answered append is in Redis's memory; whether it survives a Redis
 * restart, Redis being killed or a power loss is Redis's persistence
 * setting: appendonly yes with appendfsync always loses none of them;
 * with everysec Redis may postpone the file write while an fsync runs and
 * reply anyway, so a killed Redis or a crash can lose up to about two
 * seconds. opts->durable cannot change that; open logs a
 * warning when the server says appendonly is off or appendfsync is not
 * always.
 *
 * Time. now() is the server's TIME, fetched at most every
 * STORE_REDIS_TIME_REFRESH_MS and extrapolated with the local monotonic
 * clock in between (one round trip per command would double the cost of
 * the hub's expiry checks); it never goes backwards on one handle. The
 * first fetch is a blocking round trip (at open); later ones, with
 * opts.async, go on the asynchronous connection and the clock goes on
 * extrapolating until the answer, so now() never waits for a slow
 * server. */
#include "store/store.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "store/redis_args.h"
#include "store/redis_async.h"
#include "store/redis_conn.h"
#include "store/redis_entry.h"
#include "store/redis_ingest.h"
#include "store/redis_redirect.h"
#include "store/redis_route.h"
#include "store/redis_scripts.h"
#include "store/redis_tail.h"
#include "store/redis_url.h"

#define STORE_REDIS_TIME_REFRESH_MS 1000
#define STORE_REDIS_READ_CHUNK 1000
#define STORE_REDIS_CHANNEL "mcp:events"
#define STORE_REDIS_INGEST_WINDOW_S "60"
/* Events kept behind the newest snapshot unless --retain-events says:
 * the log lives in the server's memory. */
#define STORE_REDIS_DEFAULT_RETAIN 100000

struct store_redis {
    struct store base;
    struct redis_url url;
    struct redis_conn conn;
    struct redis_scripts scripts;
    struct redis_tail tail;
    char *ws;                        /* owned: workspace name */
    char *k_log, *k_seq, *k_trimmed; /* owned key names */
    char *k_snap;                    /* owned */
    char *k_meta;                    /* owned: meta_claim's hash */
    char *k_servers;                 /* owned: serverId -> registry member */
    int64_t time_server_ms;          /* server TIME at the last fetch, ms */
    int64_t time_mono_ms;            /* local monotonic ms at that fetch (0: never) */
    int64_t last_now;                /* now() never returns less */
    char writer[17];                 /* this handle's random id, hex: field "w" */
    struct event_base *hub_loop;     /* opts->loop: where the tail runs; may be NULL */
    bool compat;                     /* maintain the seed's mcp:lock:<file> keys and registry */
    bool tail_ready;                 /* tail initialised (needs hub_loop) */
    /* Appends and reads complete later, from hub_loop (opts->async);
     * else appends on the connection's private base before append
     * returns. */
    bool async;
    struct redis_async requests; /* the appends and reads in flight */
    bool time_asked;             /* a TIME is on its way (async: now() never waits) */
    struct redis_ingest *ingest; /* the mcp:events subscriber while listening */
};

static struct store_redis *store_redis_of(struct store *s)
{
    return (struct store_redis *)s;
}

static char *store_redis_fmt(const char *fmt, const char *a)
{
    size_t n = strlen(fmt) + strlen(a) + 1;
    char *s = xmalloc(n);
    snprintf(s, n, fmt, a);
    return s;
}

/* GET a decimal counter key (absent: 0). */
static int store_redis_get_u64(struct store_redis *r, const char *key, uint64_t *v)
{
    const char *argv[2] = {"GET", key};
    size_t lens[2] = {3, strlen(key)};
    redisReply *rep = redis_route_command(&r->conn, 2, argv, lens);
    if (!rep)
        return -ERR_UNAVAILABLE;
    int rc = 0;
    if (rep->type == REDIS_REPLY_NIL) {
        *v = 0;
    } else if (rep->type == REDIS_REPLY_STRING) {
        char *end = NULL;
        unsigned long long x = strtoull(rep->str, &end, 10);
        if (rep->len == 0 || *end != '\0' || rep->str[0] == '-')
            rc = -ERR_STORE;
        else
            *v = x;
    } else {
        rc = -ERR_STORE;
    }
    if (rc)
        log_error("store: key %s does not hold a seq", key);
    freeReplyObject(rep);
    return rc;
}

/* ---- append and asynchronous reads (redis_async.c) ---------------------- */

static int store_redis_append(struct store *s, uint64_t expected_seq, const struct event *evs,
                              size_t n, store_append_cb cb, void *arg)
{
    struct store_redis *r = store_redis_of(s);
    if (!cb)
        return -ERR_INVALID;
    int rc = store_check_batch(expected_seq, evs, n);
    if (rc)
        return rc;
    struct redis_append_req req = {.k_seq = r->k_seq,
                                   .k_log = r->k_log,
                                   .k_servers = r->k_servers,
                                   .channel = STORE_REDIS_CHANNEL,
                                   .writer = r->writer,
                                   .ws = r->ws,
                                   .compat = r->compat,
                                   .expected = expected_seq,
                                   .evs = evs,
                                   .n = n};
    struct redis_args a;
    redis_args_init(&a);
    redis_scripts_append_args(&a, &r->scripts, &req);
    redis_async_append(&r->requests, &a, expected_seq, cb, arg);
    return 0;
}

static int store_redis_read_async(struct store *s, uint64_t since, size_t limit, store_read_cb cb,
                                  void *arg, struct store_read **handle)
{
    return redis_async_read(&store_redis_of(s)->requests, since, limit, cb, arg, handle);
}

static void store_redis_read_cancel(struct store *s, struct store_read *q)
{
    (void)s;
    redis_async_read_cancel(q);
}

/* ---- reads ------------------------------------------------------------- */

static int store_redis_read(struct store *s, uint64_t since, size_t limit, struct event_vec *out)
{
    struct store_redis *r = store_redis_of(s);
    if (!out)
        return -ERR_INVALID;
    size_t old_len = out->len;
    int rc = 0;
    uint64_t from = since;
    while (limit > 0 && from < (uint64_t)INT64_MAX) {
        char start[32], count[24];
        size_t chunk = limit < STORE_REDIS_READ_CHUNK ? limit : STORE_REDIS_READ_CHUNK;
        snprintf(start, sizeof(start), "%" PRIu64 "-0", from + 1);
        snprintf(count, sizeof(count), "%zu", chunk);
        const char *argv[6] = {"XRANGE", r->k_log, start, "+", "COUNT", count};
        redisReply *rep = redis_route_command(&r->conn, 6, argv, NULL);
        if (!rep) {
            rc = -ERR_UNAVAILABLE;
            break;
        }
        if (rep->type != REDIS_REPLY_ARRAY) {
            log_error("store: XRANGE %s failed: %s", r->k_log,
                      rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected answer");
            freeReplyObject(rep);
            rc = -ERR_STORE;
            break;
        }
        for (size_t i = 0; i < rep->elements && rc == 0; i++) {
            struct event ev;
            rc = redis_entry_event(rep->element[i], &ev);
            if (rc) {
                log_error("store: an entry of %s is damaged", r->k_log);
                break;
            }
            from = ev.seq;
            event_vec_push(out, &ev);
        }
        size_t got = rep->elements;
        freeReplyObject(rep);
        if (rc || got < chunk)
            break;
        limit -= got;
    }
    if (rc) {
        for (size_t i = old_len; i < out->len; i++)
            event_deinit(&out->items[i]);
        out->len = old_len;
    }
    return rc;
}

static int store_redis_last_seq(struct store *s, uint64_t *seq)
{
    struct store_redis *r = store_redis_of(s);
    return store_redis_get_u64(r, r->k_seq, seq);
}

static int store_redis_first_seq(struct store *s, uint64_t *seq)
{
    struct store_redis *r = store_redis_of(s);
    uint64_t trimmed = 0;
    int rc = store_redis_get_u64(r, r->k_trimmed, &trimmed);
    if (rc == 0)
        *seq = trimmed + 1;
    return rc;
}

/* ---- listen: the tail and foreign events -------------------------------- */

static int store_redis_ingest_now(void *arg, int64_t *ms)
{
    struct store_redis *r = arg;
    return r->base.ops->now(&r->base, ms);
}

/* Run the ingest script for one message's events: 0, REDIS_INGEST_DUPLICATE
 * or an error (nothing written). The digest key makes the script
 * idempotent within the window, so the blocking command's retry after a
 * lost connection cannot record a message twice. */
static int store_redis_ingest_append(void *arg, const char *digest, const struct event *evs,
                                     size_t n)
{
    struct store_redis *r = arg;
    size_t klen = strlen(r->ws) + REDIS_INGEST_DIGEST_LEN + 32;
    char *k_seen = xmalloc(klen);
    snprintf(k_seen, klen, "mcp:{%s}:ingested:%s", r->ws, digest);
    char w[32];
    snprintf(w, sizeof(w), "foreign:%s", r->writer);
    struct redis_ingest_req req = {.k_seq = r->k_seq,
                                   .k_log = r->k_log,
                                   .k_seen = k_seen,
                                   .window_s = STORE_REDIS_INGEST_WINDOW_S,
                                   .w = w,
                                   .evs = evs,
                                   .n = n};
    struct redis_args a;
    redis_args_init(&a);
    redis_scripts_ingest_args(&a, &r->scripts, &req);
    redisReply *rep = redis_scripts_run(&r->conn, &r->scripts, REDIS_SCRIPT_INGEST, &a);
    int rc = -ERR_UNAVAILABLE;
    if (rep) {
        rc = redis_scripts_ingest_answer(rep);
        if (rc == 1)
            rc = REDIS_INGEST_DUPLICATE;
        else if (rc < 0)
            log_error("store: the ingest script of %s failed: %s", r->ws,
                      rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected answer");
        freeReplyObject(rep);
    }
    redis_args_free(&a);
    free(k_seen);
    return rc;
}

static void store_redis_listen(struct store *s, store_listen_cb cb, void *arg)
{
    struct store_redis *r = store_redis_of(s);
    if (r->tail_ready)
        redis_tail_stop(&r->tail);
    if (!cb) {
        redis_ingest_free(r->ingest);
        r->ingest = NULL;
        return;
    }
    if (!r->hub_loop) {
        log_error("store: listen needs the caller's event loop (store_open_opts.loop); "
                  "other writers' events will not be delivered");
        return;
    }
    if (!r->tail_ready) {
        redis_tail_init(&r->tail, &r->conn, r->hub_loop, r->k_log, r->writer);
        r->tail_ready = true;
    }
    /* Start after what the log holds now; if Redis is away, after 0 is
     * wrong, so keep the last seq this handle knows and let the caller
     * catch up by reading (hub.c does). */
    uint64_t last = 0;
    bool known = store_redis_get_u64(r, r->k_seq, &last) == 0;
    redis_tail_start(&r->tail, known ? &last : NULL, cb, arg);
    /* A listening handle is a hub's: it ingests what other systems
     * publish, and hears the result on its tail like everyone else. */
    if (!r->ingest) {
        struct redis_ingest_host host = {
            .now = store_redis_ingest_now, .append = store_redis_ingest_append, .arg = r};
        r->ingest = redis_ingest_new(r->hub_loop, &r->url, r->ws, &host, REDIS_CONN_BACKOFF_MIN_MS,
                                     REDIS_CONN_BACKOFF_MAX_MS);
    }
}

static void store_redis_ingest_stats(struct store *s, struct store_ingest_stats *out)
{
    redis_ingest_stats(store_redis_of(s)->ingest, out);
}

/* ---- snapshots, metadata, trim, time ------------------------------------ */

/* Run a script of fixed layout with keys and args (lens NULL: C strings)
 * and map its status answer: "ok" → 0, another status → -ERR_INVALID. */
static int store_redis_script_status(struct store_redis *r, enum redis_script which,
                                     const char *const *keys, size_t nkeys, const char *const *args,
                                     size_t nargs, const size_t *lens, const char *what)
{
    struct redis_args a;
    redis_args_init(&a);
    redis_scripts_begin(&a, &r->scripts, which, keys, nkeys);
    for (size_t i = 0; i < nargs; i++)
        redis_args_push(&a, args[i], lens ? lens[i] : strlen(args[i]));
    redisReply *rep = redis_scripts_run(&r->conn, &r->scripts, which, &a);
    redis_args_free(&a);
    int rc;
    if (!rep) {
        rc = -ERR_UNAVAILABLE;
    } else if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS) {
        rc = strcmp(rep->str, "ok") == 0 ? 0 : -ERR_INVALID;
    } else {
        log_error("store: %s of %s failed: %s", what, r->ws,
                  rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected answer");
        rc = -ERR_STORE;
    }
    freeReplyObject(rep);
    return rc;
}

static int store_redis_snapshot_save(struct store *s, uint64_t seq, const char *text, size_t len)
{
    struct store_redis *r = store_redis_of(s);
    if (!text || memchr(text, '\0', len) || seq >= (uint64_t)INT64_MAX)
        return -ERR_INVALID;
    char seqs[24];
    snprintf(seqs, sizeof(seqs), "%" PRIu64, seq);
    const char *keys[REDIS_SNAPSHOT_NKEYS] = {[REDIS_SNAPSHOT_K_SEQ - 1] = r->k_seq,
                                              [REDIS_SNAPSHOT_K_SNAP - 1] = r->k_snap};
    const char *args[REDIS_SNAPSHOT_NARGS] = {[REDIS_SNAPSHOT_A_SEQ - 1] = seqs,
                                              [REDIS_SNAPSHOT_A_TEXT - 1] = text};
    size_t lens[REDIS_SNAPSHOT_NARGS] = {[REDIS_SNAPSHOT_A_SEQ - 1] = strlen(seqs),
                                         [REDIS_SNAPSHOT_A_TEXT - 1] = len};
    return store_redis_script_status(r, REDIS_SCRIPT_SNAPSHOT, keys, REDIS_SNAPSHOT_NKEYS, args,
                                     REDIS_SNAPSHOT_NARGS, lens, "snapshot save");
}

static int store_redis_snapshot_load(struct store *s, uint64_t *seq, char **text)
{
    struct store_redis *r = store_redis_of(s);
    const char *argv[4] = {"HMGET", r->k_snap, "seq", "text"};
    redisReply *rep = redis_route_command(&r->conn, 4, argv, NULL);
    if (!rep)
        return -ERR_UNAVAILABLE;
    int rc = 0;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        rc = -ERR_STORE;
    } else if (rep->element[0]->type == REDIS_REPLY_NIL) {
        *seq = 0;
        *text = NULL;
    } else if (rep->element[0]->type == REDIS_REPLY_STRING &&
               rep->element[1]->type == REDIS_REPLY_STRING) {
        *seq = strtoull(rep->element[0]->str, NULL, 10);
        *text = xstrndup(rep->element[1]->str, rep->element[1]->len);
    } else {
        rc = -ERR_STORE;
    }
    if (rc)
        log_error("store: snapshot key %s is damaged", r->k_snap);
    freeReplyObject(rep);
    return rc;
}

static int store_redis_meta_claim(struct store *s, const char *key, const char *value,
                                  char **recorded)
{
    struct store_redis *r = store_redis_of(s);
    *recorded = NULL;
    if (store_check_meta(key, value))
        return -ERR_INVALID;
    /* HSETNX decides atomically which hub's value stands; HGET reads it. */
    const char *set[4] = {"HSETNX", r->k_meta, key, value};
    redisReply *rep = redis_route_command(&r->conn, 4, set, NULL);
    if (!rep)
        return -ERR_UNAVAILABLE;
    bool ok = rep->type == REDIS_REPLY_INTEGER;
    freeReplyObject(rep);
    if (!ok)
        return -ERR_STORE;
    const char *get[3] = {"HGET", r->k_meta, key};
    rep = redis_route_command(&r->conn, 3, get, NULL);
    if (!rep)
        return -ERR_UNAVAILABLE;
    if (rep->type == REDIS_REPLY_STRING)
        *recorded = xstrndup(rep->str, rep->len);
    freeReplyObject(rep);
    return *recorded ? 0 : -ERR_STORE;
}

static int store_redis_trim(struct store *s, uint64_t upto)
{
    struct store_redis *r = store_redis_of(s);
    if (upto >= (uint64_t)INT64_MAX)
        return -ERR_INVALID;
    char uptos[24], minid[32];
    snprintf(uptos, sizeof(uptos), "%" PRIu64, upto);
    snprintf(minid, sizeof(minid), "%" PRIu64 "-0", upto + 1);
    const char *keys[REDIS_TRIM_NKEYS] = {[REDIS_TRIM_K_SNAP - 1] = r->k_snap,
                                          [REDIS_TRIM_K_TRIMMED - 1] = r->k_trimmed,
                                          [REDIS_TRIM_K_LOG - 1] = r->k_log};
    const char *args[REDIS_TRIM_NARGS] = {[REDIS_TRIM_A_UPTO - 1] = uptos,
                                          [REDIS_TRIM_A_MINID - 1] = minid};
    return store_redis_script_status(r, REDIS_SCRIPT_TRIM, keys, REDIS_TRIM_NKEYS, args,
                                     REDIS_TRIM_NARGS, NULL, "trim");
}

/* Read a TIME answer into the handle's clock; false when it is none. */
static bool store_redis_time_take(struct store_redis *r, const redisReply *rep, int64_t mono)
{
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_STRING)
        return false;
    r->time_server_ms = strtoll(rep->element[0]->str, NULL, 10) * 1000 +
                        strtoll(rep->element[1]->str, NULL, 10) / 1000;
    r->time_mono_ms = mono;
    return true;
}

static void store_redis_time_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct store_redis *r = privdata;
    (void)ac;
    r->time_asked = false;
    (void)store_redis_time_take(r, reply, clock_mono_ms());
}

/* Ask the server's TIME on the asynchronous connection without waiting
 * (the clock goes on extrapolating until the answer); one at a time. */
static void store_redis_time_ask(struct store_redis *r)
{
    if (r->time_asked || redis_route_async_ready(&r->conn) != 0)
        return;
    const char *argv[1] = {"TIME"};
    r->time_asked = redis_conn_async_send(&r->conn, store_redis_time_cb, r, 1, argv, NULL) == 0;
}

static int store_redis_now(struct store *s, int64_t *ms)
{
    struct store_redis *r = store_redis_of(s);
    int64_t mono = clock_mono_ms();
    if (r->time_mono_ms != 0 && mono - r->time_mono_ms >= STORE_REDIS_TIME_REFRESH_MS && r->async) {
        store_redis_time_ask(r);
    } else if (r->time_mono_ms == 0 || mono - r->time_mono_ms >= STORE_REDIS_TIME_REFRESH_MS) {
        const char *argv[1] = {"TIME"};
        redisReply *rep = redis_route_command(&r->conn, 1, argv, NULL);
        (void)store_redis_time_take(r, rep, mono);
        freeReplyObject(rep);
        if (r->time_mono_ms == 0)
            return -ERR_UNAVAILABLE; /* never reached the server's clock */
    }
    int64_t t = r->time_server_ms + (mono - r->time_mono_ms);
    if (t > r->last_now)
        r->last_now = t;
    *ms = r->last_now;
    return 0;
}

/* ---- open / close ------------------------------------------------------ */

static void store_redis_close(struct store *s)
{
    if (!s)
        return;
    struct store_redis *r = store_redis_of(s);
    redis_async_deinit(&r->requests);
    if (r->tail_ready)
        redis_tail_deinit(&r->tail);
    redis_ingest_free(r->ingest);
    redis_conn_deinit(&r->conn);
    redis_url_deinit(&r->url);
    free(r->ws);
    free(r->k_log);
    free(r->k_seq);
    free(r->k_trimmed);
    free(r->k_snap);
    free(r->k_meta);
    free(r->k_servers);
    free(r);
}

/* Warn when the server keeps no append-only file (answered appends would
 * not survive a Redis restart) or does not fsync it before replying (they
 * may not survive Redis being killed). CONFIG may be denied to an ACL
 * user; then nothing is said. */
static void store_redis_check_persistence(struct store_redis *r)
{
    char where[160];
    redis_conn_where(&r->conn, where, sizeof(where));
    const char *argv[3] = {"CONFIG", "GET", "appendonly"};
    redisReply *rep = redis_route_command(&r->conn, 3, argv, NULL);
    bool denied = !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
                  rep->element[1]->type != REDIS_REPLY_STRING;
    bool aof = !denied && strcmp(rep->element[1]->str, "yes") == 0;
    freeReplyObject(rep);
    if (denied)
        return;
    if (!aof) {
        log_warn("store: %s runs with appendonly no: answered operations are lost if Redis "
                 "restarts (see docs/operations.md)",
                 where);
        return;
    }
    argv[2] = "appendfsync";
    rep = redis_route_command(&r->conn, 3, argv, NULL);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[1]->type == REDIS_REPLY_STRING &&
        strcmp(rep->element[1]->str, "always") != 0) {
        log_warn("store: %s runs with appendfsync %s: answered operations may be lost if Redis "
                 "is killed or the machine crashes; appendfsync always keeps them (see "
                 "docs/operations.md)",
                 where, rep->element[1]->str);
    }
    freeReplyObject(rep);
}

/* The handle's random id (field "w" of its entries). */
static int store_redis_draw_writer(struct store_redis *r)
{
    unsigned char rnd[8];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -ERR_INTERNAL;
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(r->writer + 2 * i, 3, "%02x", rnd[i]);
    return 0;
}

/* Connect, find the workspace's node and read its version. 0, or an error
 * with *errmsg set. */
static int store_redis_connect(struct store_redis *r, char **errmsg)
{
    char why[256];
    int rc = redis_route_sync_connect(&r->conn, why, sizeof(why));
    if (rc) {
        char where[160], msg[512];
        redis_conn_where(&r->conn, where, sizeof(where));
        snprintf(msg, sizeof(msg), "%s: %s", where, why);
        *errmsg = xstrdup(msg);
        return rc;
    }
    rc = redis_route_open(&r->conn, r->k_seq, errmsg);
    if (rc)
        return rc;
    if (r->conn.cluster)
        log_info("store: redis cluster: the seed's compatibility keys (mcp:lock:<file>, "
                 "mcp:servers:registry) are off in "
                 "Cluster mode: they lie outside the workspace's hash slot");
    uint64_t last = 0;
    rc = store_redis_get_u64(r, r->k_seq, &last);
    if (rc) {
        *errmsg = rc == -ERR_UNAVAILABLE ? xstrdup("redis went away while opening the store")
                                         : store_redis_fmt("key %s does not hold a seq", r->k_seq);
        return rc;
    }
    store_redis_check_persistence(r);
    r->compat = !r->conn.cluster;
    return 0;
}

static int store_redis_open(const char *url, const struct store_open_opts *opts, struct store **out,
                            char **errmsg)
{
    *out = NULL;
    *errmsg = NULL;
    const char *ws = opts && opts->workspace ? opts->workspace : "default";
    if (!ws[0] || strpbrk(ws, "{}")) {
        *errmsg = xstrdup("workspace name for a redis store must be non-empty and hold no '{' "
                          "or '}' (it is the keys' hash tag)");
        return -ERR_INVALID;
    }
    struct store_redis *r = xcalloc(1, sizeof(*r));
    r->base.ops = &store_redis_ops;
    int rc = redis_url_parse(url, &r->url, errmsg);
    if (rc) {
        free(r);
        return rc;
    }
    r->ws = xstrdup(ws);
    r->k_log = store_redis_fmt("mcp:{%s}:log", ws);
    r->k_seq = store_redis_fmt("mcp:{%s}:seq", ws);
    r->k_trimmed = store_redis_fmt("mcp:{%s}:trimmed", ws);
    r->k_snap = store_redis_fmt("mcp:{%s}:snapshot", ws);
    r->k_meta = store_redis_fmt("mcp:{%s}:meta", ws);
    r->k_servers = store_redis_fmt("mcp:{%s}:servers", ws);
    r->hub_loop = opts ? opts->loop : NULL;
    if (store_redis_draw_writer(r) != 0) {
        *errmsg = xstrdup("cannot draw a random writer id");
        store_redis_close(&r->base);
        return -ERR_INTERNAL;
    }
    r->async = opts && opts->async && r->hub_loop;
    rc = redis_conn_init(&r->conn, &r->url, r->ws, r->async ? r->hub_loop : NULL, errmsg);
    if (rc == 0) {
        r->conn.setup = redis_scripts_load;
        r->conn.setup_arg = &r->scripts;
        rc = redis_async_init(&r->requests, &r->conn, &r->scripts, r->k_log, r->async);
        if (rc)
            *errmsg = xstrdup("cannot create the redis store's events");
        else
            rc = store_redis_connect(r, errmsg);
    }
    if (rc) {
        store_redis_close(&r->base);
        return rc;
    }
    *out = &r->base;
    return 0;
}

static const char *store_redis_last_error(struct store *s)
{
    return redis_async_error(&store_redis_of(s)->requests);
}

const struct store_ops store_redis_ops = {
    .name = "redis",
    .caps = {.shared = true,
             .may_go_away = true,
             .trims = true,
             .ingests = true,
             .default_retain = STORE_REDIS_DEFAULT_RETAIN},
    .open = store_redis_open,
    .close = store_redis_close,
    .append = store_redis_append,
    .read = store_redis_read,
    .read_async = store_redis_read_async,
    .read_cancel = store_redis_read_cancel,
    .last_seq = store_redis_last_seq,
    .first_seq = store_redis_first_seq,
    .snapshot_save = store_redis_snapshot_save,
    .snapshot_load = store_redis_snapshot_load,
    .now = store_redis_now,
    .listen = store_redis_listen,
    .trim = store_redis_trim,
    .meta_claim = store_redis_meta_claim,
    .ingest_stats = store_redis_ingest_stats,
    .last_error = store_redis_last_error,
};
