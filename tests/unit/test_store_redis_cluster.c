/* test_store_redis_cluster — the Redis backend on a Redis Cluster (three
 * masters, no replicas: redis_cluster_fixture.h), beyond the store
 * contract (tests/contract runs that against the same kind of cluster):
 * given any node's URL the store works on the node serving the
 * workspace's slot and writes no key elsewhere, no mcp:lock:<file> key
 * nor mcp:servers:registry (compatibility keys are off in Cluster mode), its PUBLISH reaches
 * subscribers on every node, it follows the slot when it moves (appends
 * and the tail), a half-migrated slot (TRYAGAIN / ASK) is unavailable and
 * nothing is written, and a database other than 0 is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/event.h>

#include "base/json.h"
#include "base/xmalloc.h"
#include "redis_cluster_fixture.h"
#include "store/store.h"

/* One cluster for the whole file; every test starts with empty nodes. */
static struct redis_cluster_fixture trc;

struct trc_ack {
    int calls;
    int status;
    uint64_t seq;
};

static void trc_ack_cb(void *arg, int status, uint64_t seq)
{
    struct trc_ack *a = arg;
    a->calls++;
    a->status = status;
    a->seq = seq;
}

static int trc_group_setup(void **state)
{
    (void)state;
    return redis_cluster_fixture_start(&trc); /* a missing redis-server fails */
}

static int trc_group_teardown(void **state)
{
    (void)state;
    redis_cluster_fixture_stop(&trc);
    return 0;
}

static int trc_setup(void **state)
{
    (void)state;
    for (int i = 0; i < REDIS_CLUSTER_NODES; i++)
        if (!redis_cluster_fixture_command(&trc, i, "FLUSHALL"))
            return -1;
    return 0;
}

static struct store *trc_open(const char *url, const char *ws, struct event_base *loop)
{
    struct store_open_opts o = {.workspace = ws, .loop = loop, .durable = 1};
    struct store *s = NULL;
    char *err = NULL;
    int rc = store_open(url, &o, &s, &err);
    if (rc)
        fail_msg("store_open: %d %s", rc, err ? err : "");
    return s;
}

/* The node serving ws's slot, and another one. */
static long trc_slot(const char *ws)
{
    char key[128];
    snprintf(key, sizeof(key), "mcp:{%s}:seq", ws);
    long slot = redis_cluster_fixture_slot(&trc, key);
    assert_true(slot >= 0);
    return slot;
}

static int trc_owner(const char *ws)
{
    int owner = redis_cluster_fixture_owner(&trc, trc_slot(ws));
    assert_true(owner >= 0);
    return owner;
}

static struct trc_ack trc_append_json(struct store *s, uint64_t expected, const char *type,
                                      const char *json)
{
    struct event ev;
    event_init(&ev, type, 1700000000000, cJSON_Parse(json));
    ev.seq = expected + 1;
    free(ev.source);
    ev.source = xstrdup(EVENT_SOURCE_HUB);
    ev.source_id = xstrdup("hub-test");
    struct trc_ack ack = {0};
    assert_int_equal(s->ops->append(s, expected, &ev, 1, trc_ack_cb, &ack), 0);
    assert_int_equal(ack.calls, 1);
    event_deinit(&ev);
    return ack;
}

static struct trc_ack trc_append(struct store *s, uint64_t expected, const char *tag)
{
    char json[128];
    snprintf(json, sizeof(json), "{\"tag\":\"%s\"}", tag);
    return trc_append_json(s, expected, EVENT_FILE_LOCKED, json);
}

/* The tags of the whole log, comma-separated (caller frees). */
static char *trc_tags(struct store *s)
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

/* KEYS pattern on node i: how many. */
static size_t trc_count_keys(int i, const char *pattern)
{
    redisContext *c = redis_cluster_fixture_connect(&trc, i);
    assert_non_null(c);
    redisReply *rep = redisCommand(c, "KEYS %s", pattern);
    assert_true(rep && rep->type == REDIS_REPLY_ARRAY);
    size_t n = rep->elements;
    freeReplyObject(rep);
    redisFree(c);
    return n;
}

static void test_store_redis_cluster__any_node_url_reaches_the_slot_owner(void **state)
{
    (void)state;
    int owner = trc_owner("shop");
    int other = (owner + 1) % REDIS_CLUSTER_NODES;
    struct store *a = trc_open(trc.url[other], "shop", NULL);
    struct store *b = trc_open(trc.url[owner], "shop", NULL);
    assert_int_equal(trc_append(a, 0, "a").status, 0);
    assert_int_equal(trc_append(b, 1, "b").status, 0);
    /* Both handles write the same log, compare-and-append across them. */
    struct trc_ack ack = trc_append(a, 1, "late");
    assert_int_equal(ack.status, -ERR_CONFLICT);
    assert_int_equal(ack.seq, 2);
    char *tags = trc_tags(a);
    assert_string_equal(tags, "a,b");
    free(tags);
    assert_int_equal(a->ops->snapshot_save(a, 2, "{}", 2), 0);
    assert_int_equal(a->ops->trim(a, 1), 0);
    uint64_t first = 0;
    assert_int_equal(b->ops->first_seq(b, &first), 0);
    assert_int_equal(first, 2);
    int64_t now = 0;
    assert_int_equal(a->ops->now(a, &now), 0);
    assert_true(now > 1700000000000);
    /* An exclusive lease from the hub: no mcp:lock:<file> key in Cluster
     * mode, on any node. */
    assert_int_equal(trc_append_json(a, 2, EVENT_FILE_LOCKED,
                                     "{\"file\":\"src/a.c\",\"agentId\":\"alice\",\"mode\":"
                                     "\"exclusive\",\"token\":1,\"ttl\":60}")
                         .status,
                     0);
    /* Nor a mcp:servers:registry member for a server the hub registers. */
    assert_int_equal(
        trc_append_json(a, 3, EVENT_SERVER_REGISTERED, "{\"serverId\":\"db\",\"name\":\"db\"}")
            .status,
        0);
    for (int i = 0; i < REDIS_CLUSTER_NODES; i++) {
        assert_int_equal(trc_count_keys(i, "mcp:lock:*"), 0);
        assert_int_equal(trc_count_keys(i, "mcp:servers:*"), 0);
        /* The workspace's keys live on the owner only. */
        assert_int_equal(trc_count_keys(i, "mcp:{shop}:*"), i == owner ? 4 : 0);
    }
    store_close(a);
    store_close(b);
}

static void test_store_redis_cluster__publish_reaches_every_node(void **state)
{
    (void)state;
    int owner = trc_owner("shop");
    int sub_node = (owner + 2) % REDIS_CLUSTER_NODES;
    redisContext *sub = redis_cluster_fixture_connect(&trc, sub_node);
    assert_non_null(sub);
    redisReply *rep = redisCommand(sub, "SUBSCRIBE mcp:events");
    assert_non_null(rep);
    freeReplyObject(rep);
    struct store *s = trc_open(trc.url[(owner + 1) % REDIS_CLUSTER_NODES], "shop", NULL);
    assert_int_equal(trc_append(s, 0, "p").status, 0);
    void *msg = NULL;
    assert_int_equal(redisGetReply(sub, &msg), REDIS_OK);
    rep = msg;
    assert_true(rep->type == REDIS_REPLY_ARRAY && rep->elements == 3);
    assert_string_equal(rep->element[1]->str, "mcp:events");
    cJSON *wire = cJSON_Parse(rep->element[2]->str);
    assert_non_null(wire);
    assert_string_equal(json_get_str(wire, "workspace", ""), "shop");
    assert_string_equal(json_get_str(wire, "type", ""), EVENT_FILE_LOCKED);
    cJSON_Delete(wire);
    freeReplyObject(rep);
    redisFree(sub);
    store_close(s);
}

struct trc_heard {
    size_t n;
    uint64_t seqs[16];
};

static void trc_listen_cb(void *arg, const struct event *evs, size_t n)
{
    struct trc_heard *h = arg;
    for (size_t i = 0; i < n && h->n < 16; i++)
        h->seqs[h->n++] = evs[i].seq;
}

static void trc_tick(struct event_base *base, long usec)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = usec};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static void trc_loop_until(struct event_base *base, const struct trc_heard *h, size_t n)
{
    for (int i = 0; i < 100 && h->n < n; i++)
        trc_tick(base, 100000);
}

static void test_store_redis_cluster__follows_a_moved_slot(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    long slot = trc_slot("shop");
    int owner = trc_owner("shop");
    struct store *a = trc_open(trc.url[(owner + 1) % REDIS_CLUSTER_NODES], "shop", base);
    struct store *b = trc_open(trc.url[(owner + 2) % REDIS_CLUSTER_NODES], "shop", NULL);
    struct trc_heard heard = {0};
    a->ops->listen(a, trc_listen_cb, &heard);
    assert_int_equal(trc_append(b, 0, "b1").status, 0);
    trc_loop_until(base, &heard, 1);
    assert_int_equal(heard.n, 1);

    /* The slot moves to another node with its keys; every handle's
     * connections still point at the old owner, which answers MOVED. */
    int to = (owner + 1) % REDIS_CLUSTER_NODES;
    assert_int_equal(redis_cluster_fixture_move_slot(&trc, slot, to), 0);
    assert_int_equal(trc_append(a, 1, "a2").status, 0);
    assert_int_equal(trc_append(b, 2, "b3").status, 0);
    trc_loop_until(base, &heard, 2);
    assert_int_equal(heard.n, 2);
    assert_int_equal(heard.seqs[1], 3);
    char *tags = trc_tags(b);
    assert_string_equal(tags, "b1,a2,b3");
    free(tags);
    assert_int_equal(trc_count_keys(owner, "mcp:{shop}:*"), 0);
    assert_int_equal(trc_count_keys(to, "mcp:{shop}:*"), 2);

    /* And back to the first owner: reads follow it too. */
    assert_int_equal(redis_cluster_fixture_move_slot(&trc, slot, owner), 0);
    uint64_t last = 0;
    assert_int_equal(a->ops->last_seq(a, &last), 0);
    assert_int_equal(last, 3);
    assert_int_equal(trc_append(b, 3, "b4").status, 0);
    trc_loop_until(base, &heard, 3);
    assert_int_equal(heard.n, 3);
    assert_int_equal(heard.seqs[2], 4);
    a->ops->listen(a, NULL, NULL);
    store_close(a);
    store_close(b);
    event_base_free(base);
}

static void test_store_redis_cluster__half_migrated_slot_is_unavailable(void **state)
{
    (void)state;
    long slot = trc_slot("shop");
    int owner = trc_owner("shop");
    int to = (owner + 2) % REDIS_CLUSTER_NODES;
    struct store *s = trc_open(trc.url[owner], "shop", NULL);
    assert_int_equal(trc_append(s, 0, "x").status, 0);
    /* The version key has moved, the log has not: the script's keys are
     * split between two nodes (TRYAGAIN). Nothing is written. */
    assert_int_equal(redis_cluster_fixture_move_slot_part(&trc, slot, to, ":seq", false), 0);
    assert_int_equal(trc_append(s, 1, "y").status, -ERR_UNAVAILABLE);
    /* Both keys on the importing node, the slot still MIGRATING: the old
     * owner answers ASK, which is unavailable too. */
    assert_int_equal(redis_cluster_fixture_move_slot_part(&trc, slot, to, ":log", false), 0);
    assert_int_equal(trc_append(s, 1, "y").status, -ERR_UNAVAILABLE);
    uint64_t last = 0;
    assert_int_equal(s->ops->last_seq(s, &last), -ERR_UNAVAILABLE);
    /* The migration completes: the same append now succeeds at seq 2. */
    assert_int_equal(redis_cluster_fixture_move_slot_part(&trc, slot, to, NULL, true), 0);
    struct trc_ack ack = trc_append(s, 1, "y");
    assert_int_equal(ack.status, 0);
    assert_int_equal(ack.seq, 2);
    char *tags = trc_tags(s);
    assert_string_equal(tags, "x,y");
    free(tags);
    store_close(s);
}

static void test_store_redis_cluster__only_database_zero(void **state)
{
    (void)state;
    char url[96];
    snprintf(url, sizeof(url), "%s/1", trc.url[0]);
    struct store_open_opts o = {.workspace = "shop", .durable = 1};
    struct store *s = NULL;
    char *err = NULL;
    assert_int_not_equal(store_open(url, &o, &s, &err), 0);
    assert_null(s);
    assert_non_null(err);
    assert_non_null(strstr(err, "SELECT 1 failed"));
    free(err);
    for (int i = 0; i < REDIS_CLUSTER_NODES; i++)
        assert_int_equal(trc_count_keys(i, "*"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_store_redis_cluster__any_node_url_reaches_the_slot_owner,
                               trc_setup),
        cmocka_unit_test_setup(test_store_redis_cluster__publish_reaches_every_node, trc_setup),
        cmocka_unit_test_setup(test_store_redis_cluster__follows_a_moved_slot, trc_setup),
        cmocka_unit_test_setup(test_store_redis_cluster__half_migrated_slot_is_unavailable,
                               trc_setup),
        cmocka_unit_test_setup(test_store_redis_cluster__only_database_zero, trc_setup),
    };
    return cmocka_run_group_tests(tests, trc_group_setup, trc_group_teardown);
}
