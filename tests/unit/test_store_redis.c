/* test_store_redis — what the Redis backend promises beyond the common
 * store contract (tests/contract covers that), checked against a private
 * redis-server (redis_fixture.h): the append script's conflict behaviour
 * between two writers, the key layout under the workspace's hash tag and
 * seq-derived stream ids, PUBLISH of the wire JSON, reloading scripts after
 * the server forgot them, refusing a foreign key, AUTH and SELECT, and
 * failing appends while the server is away, then recovering with the log
 * intact (append-only file), listen hearing other writers' events in
 * order, across a server restart (telling the listener its tail was lost),
 * past a damaged entry, and the seed's mcp:lock:<file> keys (a foreign one
 * never breaks an append), the seed's mcp:servers:registry following
 * server events, and foreign events PUBLISHed on mcp:events ingested once
 * for every listening handle (own publications, other workspaces and
 * invalid messages changing nothing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/xmalloc.h"
#include "redis_fixture.h"
#include "store/store.h"

struct tr {
    struct redis_fixture server;
    redisContext *raw; /* a plain client for looking at the keys */
};

struct tr_ack {
    int calls;
    int status;
    uint64_t seq;
};

static void tr_ack_cb(void *arg, int status, uint64_t seq)
{
    struct tr_ack *a = arg;
    a->calls++;
    a->status = status;
    a->seq = seq;
}

static int tr_setup(void **state)
{
    struct tr *t = xcalloc(1, sizeof(*t));
    if (redis_fixture_start(&t->server) != 0) {
        free(t);
        return -1; /* a missing redis-server fails the test, never skips it */
    }
    struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
    t->raw = redisConnectUnixWithTimeout(t->server.sock, tv);
    *state = t;
    return t->raw && !t->raw->err ? 0 : -1;
}

static int tr_teardown(void **state)
{
    struct tr *t = *state;
    redisFree(t->raw);
    redis_fixture_stop(&t->server);
    free(t);
    return 0;
}

static struct store *tr_open_url(const char *url, const char *ws)
{
    struct store_open_opts o = {.workspace = ws, .durable = 1};
    struct store *s = NULL;
    char *err = NULL;
    int rc = store_open(url, &o, &s, &err);
    if (rc)
        fail_msg("store_open: %d %s", rc, err ? err : "");
    return s;
}

static struct store *tr_open(struct tr *t, const char *ws)
{
    return tr_open_url(t->server.url, ws);
}

/* Append n events after expected, tagged tag; the ack is returned. */
static struct tr_ack tr_append(struct store *s, uint64_t expected, size_t n, const char *tag)
{
    struct event *evs = xcalloc(n, sizeof(*evs));
    for (size_t i = 0; i < n; i++) {
        cJSON *data = cJSON_CreateObject();
        cJSON_AddStringToObject(data, "tag", tag);
        event_init(&evs[i], EVENT_FILE_LOCKED, 1700000000000 + (int64_t)i, data);
        evs[i].seq = expected + 1 + i;
        evs[i].source_id = xstrdup("hub-test");
    }
    struct tr_ack ack = {0};
    assert_int_equal(s->ops->append(s, expected, evs, n, tr_ack_cb, &ack), 0);
    assert_int_equal(ack.calls, 1);
    for (size_t i = 0; i < n; i++)
        event_deinit(&evs[i]);
    free(evs);
    return ack;
}

/* The tags of the whole log, comma-separated (caller frees). */
static char *tr_tags(struct store *s)
{
    struct event_vec v;
    event_vec_init(&v);
    assert_int_equal(s->ops->read(s, 0, SIZE_MAX, &v), 0);
    char buf[1024] = "";
    for (size_t i = 0; i < v.len; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "",
                 cJSON_GetStringValue(cJSON_GetObjectItem(v.items[i].data, "tag")));
    }
    event_vec_deinit(&v);
    return xstrdup(buf);
}

static redisReply *tr_raw(struct tr *t, const char *cmd)
{
    redisReply *rep = redisCommand(t->raw, cmd);
    assert_non_null(rep);
    return rep;
}

static void test_store_redis__second_writer_conflicts(void **state)
{
    struct tr *t = *state;
    struct store *a = tr_open(t, "shop");
    struct store *b = tr_open(t, "shop");
    struct tr_ack ack = tr_append(a, 0, 2, "a");
    assert_int_equal(ack.status, 0);
    assert_int_equal(ack.seq, 2);
    /* b has not seen a's events: the script refuses and reports seq 2. */
    ack = tr_append(b, 0, 3, "b");
    assert_int_equal(ack.status, -ERR_CONFLICT);
    assert_int_equal(ack.seq, 2);
    char *tags = tr_tags(a);
    assert_string_equal(tags, "a,a");
    free(tags);
    /* Caught up, b appends after a; both handles read the same log. */
    ack = tr_append(b, 2, 1, "b");
    assert_int_equal(ack.status, 0);
    assert_int_equal(ack.seq, 3);
    tags = tr_tags(a);
    assert_string_equal(tags, "a,a,b");
    free(tags);
    ack = tr_append(a, 2, 1, "a");
    assert_int_equal(ack.status, -ERR_CONFLICT);
    assert_int_equal(ack.seq, 3);
    store_close(a);
    store_close(b);
}

static void test_store_redis__keys_under_hash_tag_with_seq_ids(void **state)
{
    struct tr *t = *state;
    struct store *s = tr_open(t, "shop");
    struct store *other = tr_open(t, "docs");
    assert_int_equal(tr_append(s, 0, 2, "x").status, 0);
    assert_int_equal(s->ops->snapshot_save(s, 2, "{}", 2), 0);
    /* Another workspace on the same server has its own log. */
    assert_int_equal(tr_append(other, 0, 1, "y").status, 0);
    uint64_t last = 0;
    assert_int_equal(other->ops->last_seq(other, &last), 0);
    assert_int_equal(last, 1);

    redisReply *rep = tr_raw(t, "KEYS *");
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < rep->elements; i++) {
        const char *k = rep->element[i]->str;
        if (strncmp(k, "mcp:{shop}:", 11) != 0 && strncmp(k, "mcp:{docs}:", 11) != 0)
            fail_msg("key outside the workspace hash tags: %s", k);
    }
    freeReplyObject(rep);
    rep = tr_raw(t, "XRANGE mcp:{shop}:log - +");
    assert_int_equal(rep->elements, 2);
    assert_string_equal(rep->element[0]->element[0]->str, "1-0");
    assert_string_equal(rep->element[1]->element[0]->str, "2-0");
    freeReplyObject(rep);
    rep = tr_raw(t, "GET mcp:{shop}:seq");
    assert_string_equal(rep->str, "2");
    freeReplyObject(rep);
    store_close(s);
    store_close(other);
}

static void test_store_redis__publishes_wire_json(void **state)
{
    struct tr *t = *state;
    struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
    redisContext *sub = redisConnectUnixWithTimeout(t->server.sock, tv);
    assert_true(sub && !sub->err);
    redisReply *rep = redisCommand(sub, "SUBSCRIBE mcp:events");
    assert_non_null(rep);
    freeReplyObject(rep);
    struct store *s = tr_open(t, "shop");
    assert_int_equal(tr_append(s, 0, 2, "p").status, 0);
    for (int i = 1; i <= 2; i++) {
        void *r = NULL;
        assert_int_equal(redisGetReply(sub, &r), REDIS_OK);
        rep = r;
        assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
        assert_string_equal(rep->element[1]->str, "mcp:events");
        cJSON *ev = cJSON_Parse(rep->element[2]->str);
        char id[8];
        snprintf(id, sizeof(id), "%d", i);
        assert_string_equal(json_get_str(ev, "id", ""), id);
        assert_string_equal(json_get_str(ev, "type", ""), EVENT_FILE_LOCKED);
        assert_string_equal(json_get_str(ev, "sourceId", ""), "hub-test");
        assert_string_equal(json_get_str(ev, "workspace", ""), "shop");
        cJSON_Delete(ev);
        freeReplyObject(rep);
    }
    redisFree(sub);
    store_close(s);
}

static void test_store_redis__reloads_flushed_scripts(void **state)
{
    struct tr *t = *state;
    struct store *s = tr_open(t, "shop");
    assert_int_equal(tr_append(s, 0, 1, "1").status, 0);
    freeReplyObject(tr_raw(t, "SCRIPT FLUSH"));
    assert_int_equal(tr_append(s, 1, 1, "2").status, 0);
    freeReplyObject(tr_raw(t, "SCRIPT FLUSH"));
    assert_int_equal(s->ops->snapshot_save(s, 2, "{\"v\":2}", 7), 0);
    freeReplyObject(tr_raw(t, "SCRIPT FLUSH"));
    assert_int_equal(s->ops->trim(s, 1), 0);
    uint64_t first = 0;
    assert_int_equal(s->ops->first_seq(s, &first), 0);
    assert_int_equal(first, 2);
    char *tags = tr_tags(s);
    assert_string_equal(tags, "2");
    free(tags);
    store_close(s);
}

static void test_store_redis__foreign_log_key_refused_without_writing(void **state)
{
    struct tr *t = *state;
    freeReplyObject(tr_raw(t, "SET mcp:{shop}:log not-a-stream"));
    struct store *s = tr_open(t, "shop");
    struct tr_ack ack = tr_append(s, 0, 1, "x");
    assert_int_equal(ack.status, -ERR_STORE);
    uint64_t last = 9;
    assert_int_equal(s->ops->last_seq(s, &last), 0);
    assert_int_equal(last, 0);
    redisReply *rep = tr_raw(t, "EXISTS mcp:{shop}:seq");
    assert_int_equal(rep->integer, 0);
    freeReplyObject(rep);
    store_close(s);
}

static void test_store_redis__acl_user_and_db(void **state)
{
    struct tr *t = *state;
    freeReplyObject(tr_raw(t, "ACL SETUSER hub on >s3cret ~mcp:* &mcp:* +@all"));
    char url[512];
    snprintf(url, sizeof(url), "unix://hub:s3cret@%s?db=5", t->server.sock);
    struct store *s = tr_open_url(url, "shop");
    assert_int_equal(tr_append(s, 0, 1, "acl").status, 0);
    store_close(s);
    /* The log is in db 5, not in db 0. */
    redisReply *rep = tr_raw(t, "EXISTS mcp:{shop}:log");
    assert_int_equal(rep->integer, 0);
    freeReplyObject(rep);
    freeReplyObject(tr_raw(t, "SELECT 5"));
    rep = tr_raw(t, "XLEN mcp:{shop}:log");
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);

    /* A wrong password is refused at open with a message that keeps it secret. */
    snprintf(url, sizeof(url), "unix://hub:wr0ng@%s", t->server.sock);
    struct store_open_opts o = {.workspace = "shop"};
    char *err = NULL;
    s = (struct store *)&s;
    assert_int_equal(store_open(url, &o, &s, &err), -ERR_DENIED);
    assert_null(s);
    assert_non_null(strstr(err, "authentication failed"));
    assert_null(strstr(err, "wr0ng"));
    free(err);
}

static void test_store_redis__unavailable_while_away_then_recovers(void **state)
{
    struct tr *t = *state;
    struct store *s = tr_open(t, "shop");
    assert_int_equal(tr_append(s, 0, 2, "before").status, 0);
    redis_fixture_kill(&t->server);
    /* Away: the append fails, nothing is granted. */
    struct tr_ack ack = tr_append(s, 2, 1, "lost");
    /* The first may have been sent before the loss was seen: unknown. */
    assert_true(ack.status == -ERR_UNAVAILABLE || ack.status == -ERR_TIMEOUT);
    ack = tr_append(s, 2, 1, "lost");
    assert_int_equal(ack.status, -ERR_UNAVAILABLE);
    uint64_t last = 0;
    assert_int_equal(s->ops->last_seq(s, &last), -ERR_UNAVAILABLE);
    /* Back (same directory, so the append-only file is replayed). */
    assert_int_equal(redis_fixture_spawn(&t->server), 0);
    int tries = 0;
    do {
        redis_fixture_sleep_ms(50);
        ack = tr_append(s, 2, 1, "after");
    } while ((ack.status == -ERR_UNAVAILABLE || ack.status == -ERR_TIMEOUT) && ++tries < 300);
    assert_int_equal(ack.status, 0);
    assert_int_equal(ack.seq, 3);
    char *tags = tr_tags(s);
    assert_string_equal(tags, "before,before,after");
    free(tags);
    store_close(s);
}

struct tr_heard {
    uint64_t seqs[16];
    char tags[16][16];
    size_t n;
    int lost; /* calls with n == 0: the tail lost its connection */
};

static void tr_listen_cb(void *arg, const struct event *evs, size_t n)
{
    struct tr_heard *h = arg;
    if (n == 0) {
        assert_null(evs);
        h->lost++;
        return;
    }
    for (size_t i = 0; i < n && h->n < 16; i++, h->n++) {
        h->seqs[h->n] = evs[i].seq;
        snprintf(h->tags[h->n], sizeof(h->tags[h->n]), "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItem(evs[i].data, "tag")));
    }
}

static void tr_loop_expired(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
}

/* Run base until heard holds want events or 10 s passed. */
static void tr_loop_until(struct event_base *base, struct tr_heard *heard, size_t want)
{
    bool expired = false;
    struct event *timer = evtimer_new(base, tr_loop_expired, &expired);
    struct timeval tv = {.tv_sec = 10, .tv_usec = 0};
    evtimer_add(timer, &tv);
    while (heard->n < want && !expired)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(timer);
}

static void test_store_redis__listen_hears_other_writers_in_order(void **state)
{
    struct tr *t = *state;
    struct event_base *base = event_base_new();
    struct store_open_opts o = {.workspace = "shop", .loop = base, .durable = 1};
    struct store *a = NULL;
    char *err = NULL;
    assert_int_equal(store_open(t->server.url, &o, &a, &err), 0);
    struct store *b = tr_open(t, "shop");
    struct store *other_ws = tr_open(t, "docs");
    assert_int_equal(tr_append(b, 0, 1, "before").status, 0); /* before listen: not heard */
    struct tr_heard heard = {0};
    a->ops->listen(a, tr_listen_cb, &heard);
    assert_int_equal(tr_append(b, 1, 2, "b").status, 0);
    assert_int_equal(tr_append(a, 3, 1, "own").status, 0); /* a's own: not heard */
    assert_int_equal(tr_append(other_ws, 0, 1, "docs").status, 0);
    assert_int_equal(tr_append(b, 4, 1, "b2").status, 0);
    tr_loop_until(base, &heard, 3);
    assert_int_equal(heard.n, 3);
    assert_int_equal(heard.seqs[0], 2);
    assert_int_equal(heard.seqs[1], 3);
    assert_int_equal(heard.seqs[2], 5);
    assert_string_equal(heard.tags[2], "b2");

    /* The server restarts: the listener is told the tail lost it, and the
     * tail reconnects and goes on after seq 5. */
    assert_int_equal(heard.lost, 0);
    redis_fixture_kill(&t->server);
    struct timeval tick = {.tv_sec = 0, .tv_usec = 300000};
    event_base_loopexit(base, &tick);
    event_base_dispatch(base);
    assert_true(heard.lost >= 1);
    assert_int_equal(redis_fixture_spawn(&t->server), 0);
    struct tr_ack ack;
    int tries = 0;
    do {
        redis_fixture_sleep_ms(50);
        ack = tr_append(b, 5, 1, "after");
    } while ((ack.status == -ERR_UNAVAILABLE || ack.status == -ERR_TIMEOUT) && ++tries < 300);
    assert_int_equal(ack.status, 0);
    tr_loop_until(base, &heard, 4);
    assert_int_equal(heard.n, 4);
    assert_int_equal(heard.seqs[3], 6);
    assert_string_equal(heard.tags[3], "after");

    /* Removing the listener stops delivery. */
    a->ops->listen(a, NULL, NULL);
    assert_int_equal(tr_append(b, 6, 1, "unheard").status, 0);
    event_base_loopexit(base, &tick);
    event_base_dispatch(base);
    assert_int_equal(heard.n, 4);
    store_close(a);
    store_close(b);
    store_close(other_ws);
    event_base_free(base);
}

/* Append one event with the given type and data (JSON text) after expected. */
static int tr_append_one(struct store *s, uint64_t expected, const char *type, const char *source,
                         int64_t ts, const char *json)
{
    struct event ev;
    event_init(&ev, type, ts, cJSON_Parse(json));
    ev.seq = expected + 1;
    free(ev.source);
    ev.source = source ? xstrdup(source) : NULL;
    struct tr_ack ack = {0};
    assert_int_equal(s->ops->append(s, expected, &ev, 1, tr_ack_cb, &ack), 0);
    event_deinit(&ev);
    return ack.status;
}

/* The value of key as a JSON object (NULL when absent). */
static cJSON *tr_get_json(struct tr *t, const char *key)
{
    redisReply *rep = redisCommand(t->raw, "GET %s", key);
    assert_non_null(rep);
    cJSON *v = rep->type == REDIS_REPLY_STRING ? cJSON_Parse(rep->str) : NULL;
    freeReplyObject(rep);
    return v;
}

static long long tr_pttl(struct tr *t, const char *key)
{
    redisReply *rep = redisCommand(t->raw, "PTTL %s", key);
    long long v = rep->integer;
    freeReplyObject(rep);
    return v;
}

static void test_store_redis__seed_lock_keys_follow_exclusive_leases(void **state)
{
    struct tr *t = *state;
    struct store *s = tr_open(t, "shop");
    /* Timestamps are the server's now, so the keys' expiries are in the future. */
    int64_t now = 0;
    assert_int_equal(s->ops->now(s, &now), 0);
    assert_int_equal(tr_append_one(s, 0, EVENT_FILE_LOCKED, EVENT_SOURCE_HUB, now,
                                   "{\"file\":\"src/a.c\",\"agentId\":\"alice\",\"reason\":"
                                   "\"edit\",\"mode\":\"exclusive\",\"token\":1,\"ttl\":60}"),
                     0);
    cJSON *v = tr_get_json(t, "mcp:lock:src/a.c");
    assert_non_null(v);
    assert_string_equal(json_get_str(v, "agentId", ""), "alice");
    assert_string_equal(json_get_str(v, "reason", ""), "edit");
    char locked_at[64];
    snprintf(locked_at, sizeof(locked_at), "%s", json_get_str(v, "lockedAt", ""));
    assert_true(locked_at[0] != '\0');
    cJSON_Delete(v);
    long long pttl = tr_pttl(t, "mcp:lock:src/a.c");
    assert_true(pttl > 50000 && pttl <= 60000);

    /* A renewal extends the key and keeps lockedAt. */
    assert_int_equal(tr_append_one(s, 1, EVENT_FILE_LOCKED, EVENT_SOURCE_HUB, now + 5000,
                                   "{\"file\":\"src/a.c\",\"agentId\":\"alice\",\"reason\":null,"
                                   "\"mode\":\"exclusive\",\"token\":1,\"ttl\":600,"
                                   "\"renewed\":true}"),
                     0);
    v = tr_get_json(t, "mcp:lock:src/a.c");
    assert_string_equal(json_get_str(v, "lockedAt", ""), locked_at);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(v, "reason")));
    cJSON_Delete(v);
    assert_true(tr_pttl(t, "mcp:lock:src/a.c") > 60000);

    /* Another agent's unlock leaves it; the holder's removes it. */
    assert_int_equal(tr_append_one(s, 2, EVENT_FILE_UNLOCKED, EVENT_SOURCE_HUB, now,
                                   "{\"file\":\"src/a.c\",\"agentId\":\"bob\",\"token\":9}"),
                     0);
    v = tr_get_json(t, "mcp:lock:src/a.c");
    assert_non_null(v);
    cJSON_Delete(v);
    assert_int_equal(tr_append_one(s, 3, EVENT_FILE_UNLOCKED, EVENT_SOURCE_HUB, now,
                                   "{\"file\":\"src/a.c\",\"agentId\":\"alice\",\"token\":1}"),
                     0);
    assert_null(tr_get_json(t, "mcp:lock:src/a.c"));

    /* Shared leases, pattern leases and events from elsewhere set nothing. */
    assert_int_equal(
        tr_append_one(s, 4, EVENT_FILE_LOCKED, EVENT_SOURCE_HUB, now,
                      "{\"file\":\"src/b.c\",\"agentId\":\"carol\",\"mode\":\"shared\","
                      "\"token\":5,\"ttl\":60}"),
        0);
    assert_int_equal(tr_append_one(s, 5, EVENT_FILE_LOCKED, EVENT_SOURCE_HUB, now,
                                   "{\"file\":\"src/**\",\"pattern\":\"src/**\",\"agentId\":\"d\","
                                   "\"mode\":\"exclusive\",\"token\":6,\"ttl\":60}"),
                     0);
    assert_int_equal(tr_append_one(s, 6, EVENT_FILE_LOCKED, "someone-else", now,
                                   "{\"file\":\"src/c.c\",\"agentId\":\"e\",\"mode\":\"exclusive\","
                                   "\"token\":7,\"ttl\":60}"),
                     0);
    redisReply *rep = tr_raw(t, "KEYS mcp:lock:*");
    assert_int_equal(rep->elements, 0);
    freeReplyObject(rep);
    store_close(s);
}

/* A compatibility key of another type (or one an ACL user may not write)
 * must not stop the append script after its XADD: Redis scripts do not roll
 * back, so that would leave the log ahead of its version for good. */
static void test_store_redis__foreign_seed_lock_key_does_not_break_append(void **state)
{
    struct tr *t = *state;
    freeReplyObject(tr_raw(t, "HSET mcp:lock:src/a.c foo bar"));
    struct store *s = tr_open(t, "shop");
    int64_t now = 0;
    assert_int_equal(s->ops->now(s, &now), 0);
    assert_int_equal(tr_append_one(s, 0, EVENT_FILE_LOCKED, EVENT_SOURCE_HUB, now,
                                   "{\"file\":\"src/a.c\",\"agentId\":\"alice\",\"reason\":"
                                   "\"edit\",\"mode\":\"exclusive\",\"token\":1,\"ttl\":60}"),
                     0);
    assert_int_equal(tr_append_one(s, 1, EVENT_FILE_UNLOCKED, EVENT_SOURCE_HUB, now,
                                   "{\"file\":\"src/a.c\",\"agentId\":\"alice\",\"token\":1}"),
                     0);
    uint64_t last = 0;
    assert_int_equal(s->ops->last_seq(s, &last), 0);
    assert_int_equal(last, 2);
    redisReply *rep = tr_raw(t, "XLEN mcp:{shop}:log");
    assert_int_equal(rep->integer, 2);
    freeReplyObject(rep);
    rep = tr_raw(t, "TYPE mcp:lock:src/a.c"); /* the foreign key is left alone */
    assert_string_equal(rep->str, "hash");
    freeReplyObject(rep);
    store_close(s);
}

/* How many XREAD calls the server has served since its stats were reset. */
static long long tr_xread_calls(struct tr *t)
{
    redisReply *rep = tr_raw(t, "INFO commandstats");
    const char *p =
        rep->type == REDIS_REPLY_STRING ? strstr(rep->str, "cmdstat_xread:calls=") : NULL;
    long long n = p ? strtoll(p + strlen("cmdstat_xread:calls="), NULL, 10) : 0;
    freeReplyObject(rep);
    return n;
}

/* A damaged entry at the end of the stream is skipped once, not re-read in
 * a loop that would hold the hub's loop busy; later entries still arrive. */
static void test_store_redis__tail_moves_past_a_damaged_entry(void **state)
{
    struct tr *t = *state;
    struct event_base *base = event_base_new();
    struct store_open_opts o = {.workspace = "shop", .loop = base, .durable = 1};
    struct store *a = NULL;
    char *err = NULL;
    assert_int_equal(store_open(t->server.url, &o, &a, &err), 0);
    struct store *b = tr_open(t, "shop");
    assert_int_equal(tr_append(b, 0, 1, "first").status, 0);
    struct tr_heard heard = {0};
    a->ops->listen(a, tr_listen_cb, &heard);
    /* An entry without its event fields, counted in the version. */
    freeReplyObject(tr_raw(t, "XADD mcp:{shop}:log 2-0 w other type x:y ts 1"));
    freeReplyObject(tr_raw(t, "SET mcp:{shop}:seq 2"));
    struct timeval tick = {.tv_sec = 0, .tv_usec = 200000};
    event_base_loopexit(base, &tick);
    event_base_dispatch(base);
    freeReplyObject(tr_raw(t, "CONFIG RESETSTAT"));
    event_base_loopexit(base, &tick);
    event_base_dispatch(base);
    /* Blocked on the stream: one XREAD outstanding, not thousands. */
    assert_true(tr_xread_calls(t) < 5);
    assert_int_equal(tr_append(b, 2, 1, "after").status, 0);
    tr_loop_until(base, &heard, 1);
    assert_int_equal(heard.n, 1);
    assert_int_equal(heard.seqs[0], 3);
    assert_string_equal(heard.tags[0], "after");
    store_close(a);
    store_close(b);
    event_base_free(base);
}

/* The names ("name" members) of mcp:servers:registry's JSON members,
 * sorted, comma-separated (caller frees); "?" for a member that is not a
 * JSON object with a name. */
static char *tr_registry(struct tr *t)
{
    redisReply *rep = tr_raw(t, "SMEMBERS mcp:servers:registry");
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    char names[16][64];
    size_t n = 0;
    for (size_t i = 0; i < rep->elements && n < 16; i++, n++) {
        cJSON *m = cJSON_Parse(rep->element[i]->str);
        snprintf(names[n], sizeof(names[n]), "%s", json_get_str(m, "name", "?"));
        cJSON_Delete(m);
    }
    freeReplyObject(rep);
    qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
    char buf[1024] = "";
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "", names[i]);
    }
    return xstrdup(buf);
}

static void tr_assert_registry(struct tr *t, const char *want)
{
    char *got = tr_registry(t);
    if (strcmp(got, want) != 0)
        fail_msg("registry: got '%s', want '%s'", got, want);
    free(got);
}

static void test_store_redis__server_registry_follows_server_events(void **state)
{
    struct tr *t = *state;
    struct store *s = tr_open(t, "shop");
    /* A member someone else added is left alone by the hub. */
    freeReplyObject(tr_raw(t, "SADD mcp:servers:registry {\"serverId\":\"x\",\"name\":\"other\"}"));
    uint64_t seq = 0;
    assert_int_equal(tr_append_one(s, seq++, EVENT_SERVER_REGISTERED, EVENT_SOURCE_HUB, 1,
                                   "{\"serverId\":\"db\",\"name\":\"db\",\"transport\":\"stdio\"}"),
                     0);
    tr_assert_registry(t, "db,other");
    /* The member is the server object's JSON, exactly. */
    redisReply *rep = tr_raw(t, "HGET mcp:{shop}:servers db");
    assert_int_equal(rep->type, REDIS_REPLY_STRING);
    assert_string_equal(rep->str, "{\"serverId\":\"db\",\"name\":\"db\",\"transport\":\"stdio\"}");
    freeReplyObject(rep);
    rep = tr_raw(t, "SISMEMBER mcp:servers:registry "
                    "{\"serverId\":\"db\",\"name\":\"db\",\"transport\":\"stdio\"}");
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);
    /* A re-registration replaces the member. */
    assert_int_equal(tr_append_one(s, seq++, EVENT_SERVER_REGISTERED, EVENT_SOURCE_HUB, 2,
                                   "{\"serverId\":\"db\",\"name\":\"db2\"}"),
                     0);
    tr_assert_registry(t, "db2,other");
    assert_int_equal(tr_append_one(s, seq++, EVENT_SERVER_REGISTERED, NULL, 3,
                                   "{\"serverId\":\"web\",\"name\":\"web\"}"),
                     0);
    tr_assert_registry(t, "db2,other,web");
    assert_int_equal(
        tr_append_one(s, seq++, EVENT_SERVER_REMOVED, EVENT_SOURCE_HUB, 4, "{\"serverId\":\"db\"}"),
        0);
    tr_assert_registry(t, "other,web");
    /* Nothing else touches it: a foreign system's server:registered, a
     * removal of an unknown id, events without a serverId. */
    assert_int_equal(tr_append_one(s, seq++, EVENT_SERVER_REGISTERED, "backend", 5,
                                   "{\"serverId\":\"evil\",\"name\":\"evil\"}"),
                     0);
    assert_int_equal(
        tr_append_one(s, seq++, EVENT_SERVER_REMOVED, EVENT_SOURCE_HUB, 6, "{\"serverId\":\"x\"}"),
        0);
    assert_int_equal(tr_append_one(s, seq++, EVENT_SERVER_REGISTERED, EVENT_SOURCE_HUB, 7,
                                   "{\"name\":\"anon\"}"),
                     0);
    tr_assert_registry(t, "other,web");
    /* A registry key of another type never breaks an append. */
    freeReplyObject(tr_raw(t, "DEL mcp:servers:registry"));
    freeReplyObject(tr_raw(t, "SET mcp:servers:registry foreign"));
    assert_int_equal(tr_append_one(s, seq++, EVENT_SERVER_REGISTERED, EVENT_SOURCE_HUB, 8,
                                   "{\"serverId\":\"q\",\"name\":\"q\"}"),
                     0);
    rep = tr_raw(t, "GET mcp:servers:registry");
    assert_string_equal(rep->str, "foreign");
    freeReplyObject(rep);
    uint64_t last = 0;
    assert_int_equal(s->ops->last_seq(s, &last), 0);
    assert_true(last == seq);
    store_close(s);
}

/* Run base for ms milliseconds. */
static void tr_loop_for(struct event_base *base, long ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

/* Run base until n clients subscribe to mcp:events (10 s at most). */
static void tr_wait_subscribers(struct tr *t, struct event_base *base, long long n)
{
    for (int i = 0; i < 200; i++) {
        redisReply *rep = tr_raw(t, "PUBSUB NUMSUB mcp:events");
        long long got =
            rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 ? rep->element[1]->integer : -1;
        freeReplyObject(rep);
        if (got == n)
            return;
        tr_loop_for(base, 50);
    }
    fail_msg("mcp:events never had %lld subscribers", n);
}

static void tr_publish(struct tr *t, const char *msg)
{
    redisReply *rep = redisCommand(t->raw, "PUBLISH mcp:events %s", msg);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    freeReplyObject(rep);
}

static struct store_ingest_stats tr_stats_sum(struct store *a, struct store *b)
{
    struct store_ingest_stats x, y;
    a->ops->ingest_stats(a, &x);
    b->ops->ingest_stats(b, &y);
    x.ingested += y.ingested;
    x.duplicate += y.duplicate;
    x.ignored += y.ignored;
    x.invalid += y.invalid;
    x.reserved += y.reserved;
    x.failed += y.failed;
    return x;
}

static void test_store_redis__ingests_foreign_events_once_for_every_listener(void **state)
{
    struct tr *t = *state;
    struct event_base *base = event_base_new();
    struct store_open_opts o = {.workspace = "shop", .loop = base, .durable = 1};
    struct store *a = NULL, *b = NULL;
    char *err = NULL;
    assert_int_equal(store_open(t->server.url, &o, &a, &err), 0);
    assert_int_equal(store_open(t->server.url, &o, &b, &err), 0);
    struct store *c = tr_open(t, "shop"); /* a writer that does not listen */
    struct tr_heard ha = {0}, hb = {0};
    a->ops->listen(a, tr_listen_cb, &ha);
    b->ops->listen(b, tr_listen_cb, &hb);
    tr_wait_subscribers(t, base, 2);

    /* A hub's own event: appended by c, PUBLISHed by its script, heard on
     * the tails, and not ingested again from the channel. */
    assert_int_equal(tr_append(c, 0, 1, "own").status, 0);
    /* The seed's object form. */
    const char *f1 = "{\"type\":\"health:status\",\"source\":\"backend\",\"sourceId\":\"be-1\","
                     "\"signature\":\"t=1,v1=00\",\"timestamp\":\"2026-11-24T21:14:31.123Z\","
                     "\"data\":{\"tag\":\"f1\",\"status\":\"healthy\"}}";
    tr_publish(t, f1);
    tr_loop_until(base, &ha, 2);
    tr_loop_until(base, &hb, 2);
    assert_int_equal(ha.n, 2);
    assert_int_equal(hb.n, 2);
    assert_string_equal(ha.tags[1], "f1");
    assert_string_equal(hb.tags[1], "f1");
    assert_int_equal(ha.seqs[1], 2);
    assert_int_equal(hb.seqs[1], 2);

    /* The same bytes again (every hub receives each message; a publisher
     * may repeat one) are one event; the array form; then messages that
     * are ignored or refused; then a marker. */
    tr_publish(t, f1);
    tr_publish(t, "[{\"type\":\"deploy:completed\",\"source\":\"backend\",\"data\":{\"tag\":\"f2\","
                  "\"taskId\":\"NOPE\"}},{\"type\":\"ci:done\",\"source\":\"ci\",\"data\":{\"tag\":"
                  "\"f3\"}}]");
    tr_publish(t, "not json");
    /* The hub's own namespaces are refused from outside, counted apart. */
    tr_publish(t, "{\"type\":\"file:unlocked\",\"source\":\"x\",\"data\":{\"tag\":\"rsv\"}}");
    tr_publish(t, "{\"type\":\"a:b\",\"source\":\"x\",\"data\":{\"tag\":\"docs\"},"
                  "\"workspace\":\"docs\"}");
    tr_publish(t,
               "{\"type\":\"a:b\",\"source\":\"agent-coordination\",\"data\":{\"tag\":\"fake\"}}");
    tr_publish(t, "{\"type\":\"a:b\",\"source\":\"x\",\"data\":{\"tag\":\"f4\"}}");
    tr_loop_until(base, &ha, 5);
    tr_loop_until(base, &hb, 5);
    tr_loop_for(base, 100); /* nothing more arrives */
    assert_int_equal(ha.n, 5);
    assert_int_equal(hb.n, 5);
    const char *want[] = {"own", "f1", "f2", "f3", "f4"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(ha.seqs[i], i + 1);
        assert_int_equal(hb.seqs[i], i + 1);
        assert_string_equal(ha.tags[i], want[i]);
        assert_string_equal(hb.tags[i], want[i]);
    }
    char *tags = tr_tags(c);
    assert_string_equal(tags, "own,f1,f2,f3,f4");
    free(tags);

    /* The ingested event keeps what the publisher said of itself. */
    struct event_vec v;
    event_vec_init(&v);
    assert_int_equal(c->ops->read(c, 1, 1, &v), 0);
    assert_int_equal(v.len, 1);
    assert_string_equal(v.items[0].source, "backend");
    assert_string_equal(v.items[0].source_id, "be-1");
    assert_string_equal(v.items[0].signature, "t=1,v1=00");
    int64_t ts = 0;
    assert_int_equal(clock_parse_iso("2026-11-24T21:14:31.123Z", &ts), 0);
    assert_true(v.items[0].ts_ms == ts);
    event_vec_deinit(&v);
    /* Its stream entry names the ingesting handle without being its own
     * (the tail skips a handle's own "w"). */
    redisReply *rep = tr_raw(t, "XRANGE mcp:{shop}:log 2-0 2-0");
    assert_int_equal(rep->elements, 1);
    assert_string_equal(rep->element[0]->element[1]->element[0]->str, "w");
    assert_memory_equal(rep->element[0]->element[1]->element[1]->str, "foreign:", 8);
    freeReplyObject(rep);

    /* Every message reached both handles: f1, the array and f4 were
     * ingested once each and seen as duplicates by the other handle; f1's
     * repeat was a duplicate for both; own publications (c's append and
     * the fake), the other workspace's, "not json" and the reserved
     * file:unlocked changed nothing. */
    struct store_ingest_stats st = tr_stats_sum(a, b);
    assert_int_equal(st.ingested, 3);
    assert_int_equal(st.duplicate, 5);
    assert_int_equal(st.ignored, 6);
    assert_int_equal(st.invalid, 2);
    assert_int_equal(st.reserved, 2);
    assert_int_equal(st.failed, 0);

    /* The hubs' own appends go on after the ingested events. */
    assert_int_equal(tr_append(c, 1, 1, "late").status, -ERR_CONFLICT);
    assert_int_equal(tr_append(c, 5, 1, "late").status, 0);
    tr_loop_until(base, &ha, 6);
    assert_int_equal(ha.seqs[5], 6);

    /* listen(NULL) unsubscribes. */
    a->ops->listen(a, NULL, NULL);
    b->ops->listen(b, NULL, NULL);
    tr_wait_subscribers(t, base, 0);
    store_close(a);
    store_close(b);
    store_close(c);
    event_base_free(base);
}

/* The ACL user docs/operations.md gives the hub, rule for rule: every
 * part of the store works under it (the compatibility writes too, whose
 * failures the scripts would otherwise swallow). */
static void test_store_redis__documented_acl_user_runs_everything(void **state)
{
    struct tr *t = *state;
    freeReplyObject(tr_raw(
        t, "ACL SETUSER coordhub on >PASSWORD ~mcp:* &mcp:events -@all +get +hmget +xrange +xread "
           "+time +select +evalsha +script|load +config|get +info +xadd +xtrim +set +del +hset "
           "+hget +hdel +sadd +srem +type +publish +subscribe +ping +cluster|keyslot "
           "+cluster|slots +cluster|myid"));
    char url[512];
    snprintf(url, sizeof(url), "unix://coordhub:PASSWORD@%s", t->server.sock);
    struct event_base *base = event_base_new();
    struct store_open_opts o = {.workspace = "shop", .loop = base, .durable = 1};
    struct store *s = NULL;
    char *err = NULL;
    assert_int_equal(store_open(url, &o, &s, &err), 0);
    struct tr_heard heard = {0};
    s->ops->listen(s, tr_listen_cb, &heard);
    tr_wait_subscribers(t, base, 1);
    /* (now: the compatibility key expires with the lease) */
    assert_int_equal(tr_append_one(s, 0, EVENT_FILE_LOCKED, EVENT_SOURCE_HUB, clock_wall_ms(),
                                   "{\"file\":\"a.c\",\"agentId\":\"ann\",\"mode\":\"exclusive\","
                                   "\"ttl\":600,\"tag\":\"lock\"}"),
                     0);
    assert_int_equal(tr_append_one(s, 1, EVENT_SERVER_REGISTERED, EVENT_SOURCE_HUB, 1700000000001,
                                   "{\"serverId\":\"db\",\"name\":\"db\",\"tag\":\"srv\"}"),
                     0);
    tr_publish(t, "{\"type\":\"a:b\",\"source\":\"backend\",\"data\":{\"tag\":\"foreign\"}}");
    tr_loop_until(base, &heard, 1);
    assert_int_equal(heard.n, 1);
    assert_int_equal(heard.seqs[0], 3);
    char *tags = tr_tags(s);
    assert_string_equal(tags, "lock,srv,foreign");
    free(tags);
    tr_assert_registry(t, "db");
    cJSON *lock = tr_get_json(t, "mcp:lock:a.c");
    assert_non_null(lock);
    cJSON_Delete(lock);
    assert_int_equal(s->ops->snapshot_save(s, 3, "{}", 2), 0);
    assert_int_equal(s->ops->trim(s, 2), 0);
    int64_t now = 0;
    assert_int_equal(s->ops->now(s, &now), 0);
    struct store_ingest_stats st;
    s->ops->ingest_stats(s, &st);
    assert_int_equal(st.ingested, 1);
    assert_int_equal(st.failed, 0);
    store_close(s);
    event_base_free(base);
}

#define TR_TEST(fn) cmocka_unit_test_setup_teardown(fn, tr_setup, tr_teardown)

int main(void)
{
    /* hiredis writes to sockets with write(): a server gone away would
     * raise SIGPIPE. The hub ignores it the same way (hub.c). */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        TR_TEST(test_store_redis__second_writer_conflicts),
        TR_TEST(test_store_redis__keys_under_hash_tag_with_seq_ids),
        TR_TEST(test_store_redis__publishes_wire_json),
        TR_TEST(test_store_redis__reloads_flushed_scripts),
        TR_TEST(test_store_redis__foreign_log_key_refused_without_writing),
        TR_TEST(test_store_redis__acl_user_and_db),
        TR_TEST(test_store_redis__unavailable_while_away_then_recovers),
        TR_TEST(test_store_redis__listen_hears_other_writers_in_order),
        TR_TEST(test_store_redis__seed_lock_keys_follow_exclusive_leases),
        TR_TEST(test_store_redis__foreign_seed_lock_key_does_not_break_append),
        TR_TEST(test_store_redis__tail_moves_past_a_damaged_entry),
        TR_TEST(test_store_redis__server_registry_follows_server_events),
        TR_TEST(test_store_redis__ingests_foreign_events_once_for_every_listener),
        TR_TEST(test_store_redis__documented_acl_user_runs_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
