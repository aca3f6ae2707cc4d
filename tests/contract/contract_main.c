/* contract_main — the backend fixture table, shared helpers and main() of
 * the store contract suite (see contract.h).
 *
 * Every test gets a fresh store in its own temporary directory; teardown
 * closes it and removes the directory, so leak checkers see a clean exit.
 * To add a backend, add a row to contract_backends[] (and, if its store
 * does not live in the directory, make make_url() return a URL that is
 * fresh and empty for each call). */
#include "contract.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "../unit/redis_cluster_fixture.h"
#include "base/xmalloc.h"

/* The redis backend's server and the redis-cluster backend's three
 * nodes: started by main() for the whole run. */
static struct redis_fixture contract_redis;
static struct redis_cluster_fixture contract_cluster;
static int contract_cluster_url_node; /* a node NOT serving the workspace's slot */

static char *contract_url_memory(const char *dir)
{
    (void)dir;
    return xstrdup("memory:");
}

static char *contract_url_sqlite(const char *dir)
{
    size_t n = strlen(dir) + 32;
    char *url = xmalloc(n);
    snprintf(url, n, "sqlite:%s/hub.db", dir);
    return url;
}

/* Every test gets an empty server (FLUSHALL); the URL stays the same so a
 * reopen sees the same log. */
static char *contract_url_redis(const char *dir)
{
    (void)dir;
    if (!redis_fixture_command(&contract_redis, "FLUSHALL"))
        fail_msg("redis: FLUSHALL failed");
    return xstrdup(contract_redis.url);
}

/* The cluster: every node is emptied; the URL names a node that does not
 * serve the workspace's slot, so the store must find the one that does. */
static char *contract_url_redis_cluster(const char *dir)
{
    (void)dir;
    for (int i = 0; i < REDIS_CLUSTER_NODES; i++)
        if (!redis_cluster_fixture_command(&contract_cluster, i, "FLUSHALL"))
            fail_msg("redis cluster node %d: FLUSHALL failed", i);
    return xstrdup(contract_cluster.url[contract_cluster_url_node]);
}

/* Every store is opened on the fixture's loop with opts.async: redis then
 * completes appends later, from that loop (store_redis.c), the local
 * stores before append() returns. The local stores keep everything by default; redis keeps a
 * bounded tail (its log lives in the server's memory) and can go away. */
static const struct contract_backend contract_backends[] = {
    {"memory",
     contract_url_memory,
     false,
     true,
     {.shared = false, .may_go_away = false, .trims = true, .ingests = false, .default_retain = 0}},
    {"sqlite",
     contract_url_sqlite,
     true,
     true,
     {.shared = false, .may_go_away = false, .trims = true, .ingests = false, .default_retain = 0}},
    {"redis",
     contract_url_redis,
     true,
     false,
     {.shared = true,
      .may_go_away = true,
      .trims = true,
      .ingests = true,
      .default_retain = 100000}},
    {"redis-cluster",
     contract_url_redis_cluster,
     true,
     false,
     {.shared = true,
      .may_go_away = true,
      .trims = true,
      .ingests = true,
      .default_retain = 100000}},
};

void contract_ack_cb(void *arg, int status, uint64_t current_seq)
{
    struct contract_ack *ack = arg;
    ack->calls++;
    ack->status = status;
    ack->seq = current_seq;
}

struct event *contract_batch(uint64_t first, size_t n, const char *tag)
{
    struct event *evs = xcalloc(n, sizeof(*evs));
    for (size_t i = 0; i < n; i++) {
        cJSON *data = cJSON_CreateObject();
        cJSON_AddNumberToObject(data, "i", (double)(first + i));
        cJSON_AddStringToObject(data, "tag", tag);
        event_init(&evs[i], EVENT_FILE_LOCKED, 1700000000000 + (int64_t)(first + i), data);
        evs[i].seq = first + i;
    }
    return evs;
}

void contract_batch_free(struct event *evs, size_t n)
{
    for (size_t i = 0; evs && i < n; i++)
        event_deinit(&evs[i]);
    free(evs);
}

int contract_append(struct contract_fixture *f, uint64_t expected, const struct event *evs,
                    size_t n, struct contract_ack *ack)
{
    memset(ack, 0, sizeof(*ack));
    int rc = f->store->ops->append(f->store, expected, evs, n, contract_ack_cb, ack);
    /* A synchronous backend has called back already; an asynchronous one
     * never from inside append(), but later from the loop. */
    assert_int_equal(ack->calls, rc == 0 && f->backend->synchronous ? 1 : 0);
    if (rc == 0)
        contract_run_until(f, &ack->calls, 1);
    return rc;
}

static void contract_expired(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
}

void contract_run_until(struct contract_fixture *f, const int *calls, int want)
{
    bool expired = false;
    struct event *timer = evtimer_new(f->loop, contract_expired, &expired);
    struct timeval tv = {.tv_sec = CONTRACT_WAIT_S, .tv_usec = 0};
    evtimer_add(timer, &tv);
    while (*calls < want && !expired)
        event_base_loop(f->loop, EVLOOP_ONCE);
    event_free(timer);
    if (*calls < want)
        fail_msg("no callback within %d s", CONTRACT_WAIT_S);
}

void contract_append_ok(struct contract_fixture *f, uint64_t expected, size_t n, const char *tag)
{
    struct contract_ack ack;
    struct event *evs = contract_batch(expected + 1, n, tag);
    assert_int_equal(contract_append(f, expected, evs, n, &ack), 0);
    assert_int_equal(ack.calls, 1);
    assert_int_equal(ack.status, 0);
    assert_int_equal(ack.seq, expected + n);
    contract_batch_free(evs, n);
}

static void contract_open(struct contract_fixture *f)
{
    char *err = NULL;
    struct store_open_opts o = {.loop = f->loop, .async = true};
    int rc = store_open(f->url, &o, &f->store, &err);
    if (rc)
        fail_msg("store_open(%s): %d %s", f->url, rc, err ? err : "(no message)");
    assert_null(err);
    assert_non_null(f->store);
}

void contract_reopen(struct contract_fixture *f)
{
    store_close(f->store);
    f->store = NULL;
    contract_open(f);
}

static bool contract_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void contract_assert_event_eq(const struct event *a, const struct event *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_string_equal(a->type, b->type);
    assert_true(contract_str_eq(a->source, b->source));
    assert_true(contract_str_eq(a->source_id, b->source_id));
    assert_true(contract_str_eq(a->signature, b->signature));
    assert_true(a->ts_ms == b->ts_ms);
    assert_true(cJSON_Compare(a->data, b->data, 1));
    /* Byte-identical serialisation: no number or string was re-encoded. */
    char *ta = cJSON_PrintUnformatted(a->data);
    char *tb = cJSON_PrintUnformatted(b->data);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
}

/* Remove dir and the plain files in it (stores create no subdirectories). */
static void contract_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int contract_setup(void **state)
{
    const struct contract_backend *backend = *state;
    struct contract_fixture *f = xcalloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    size_t n = strlen(tmp ? tmp : "/tmp") + 32;
    f->backend = backend;
    f->dir = xmalloc(n);
    snprintf(f->dir, n, "%s/coordhub-contract-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f->dir);
        free(f);
        return -1;
    }
    f->url = backend->make_url(f->dir);
    f->loop = event_base_new();
    contract_open(f);
    *state = f;
    return 0;
}

static int contract_teardown(void **state)
{
    struct contract_fixture *f = *state;
    store_close(f->store);
    event_base_free(f->loop);
    contract_rmdir(f->dir);
    free(f->dir);
    free(f->url);
    free(f);
    return 0;
}

#define CONTRACT_TEST(fn) cmocka_unit_test_setup_teardown(fn, contract_setup, contract_teardown)

int main(int argc, char **argv)
{
    struct CMUnitTest tests[] = {
        CONTRACT_TEST(test_store__empty_log),
        CONTRACT_TEST(test_store__append_read_round_trip),
        CONTRACT_TEST(test_store__seqs_must_be_consecutive),
        CONTRACT_TEST(test_store__conflict_reports_current_seq),
        CONTRACT_TEST(test_store__conflicting_batch_writes_nothing),
        CONTRACT_TEST(test_store__read_windows),
        CONTRACT_TEST(test_store__large_batches),
        CONTRACT_TEST(test_store__callback_exactly_once),
        CONTRACT_TEST(test_store__appends_in_flight_in_order),
        CONTRACT_TEST(test_store__close_completes_in_flight),
        CONTRACT_TEST(test_store__read_async_matches_read),
        CONTRACT_TEST(test_store__error_return_never_calls_back),
        CONTRACT_TEST(test_store__snapshot_newest_wins),
        CONTRACT_TEST(test_store__now_is_sane_and_monotone),
        CONTRACT_TEST(test_store__durable_across_reopen),
        CONTRACT_TEST(test_store__trim_and_first_seq),
        CONTRACT_TEST(test_store__close_null_safe),
        CONTRACT_TEST(test_store__meta_claim_first_wins),
        CONTRACT_TEST(test_store__caps_declared),
    };
    const struct contract_backend *backend = NULL;
    for (size_t i = 0; argc == 2 && i < sizeof(contract_backends) / sizeof(*contract_backends);
         i++) {
        if (strcmp(argv[1], contract_backends[i].name) == 0)
            backend = &contract_backends[i];
    }
    if (!backend) {
        fprintf(stderr, "usage: %s memory|sqlite|redis|redis-cluster\n", argv[0]);
        return 2;
    }
    if (strcmp(backend->name, "redis") == 0 && redis_fixture_start(&contract_redis) != 0) {
        fprintf(stderr, "contract: cannot start a private redis-server\n");
        return 1;
    }
    if (strcmp(backend->name, "redis-cluster") == 0) {
        if (redis_cluster_fixture_start(&contract_cluster) != 0) {
            fprintf(stderr, "contract: cannot form a private redis cluster\n");
            return 1;
        }
        long slot = redis_cluster_fixture_slot(&contract_cluster, "mcp:{default}:seq");
        int owner = redis_cluster_fixture_owner(&contract_cluster, slot);
        if (slot < 0 || owner < 0) {
            fprintf(stderr, "contract: cannot tell which cluster node serves the workspace\n");
            redis_cluster_fixture_stop(&contract_cluster);
            return 1;
        }
        contract_cluster_url_node = (owner + 1) % REDIS_CLUSTER_NODES;
    }
    /* The setup receives the backend as its initial state. */
    for (size_t i = 0; i < sizeof(tests) / sizeof(*tests); i++)
        tests[i].initial_state = (void *)backend;
    char group[64];
    snprintf(group, sizeof(group), "store contract (%s)", backend->name);
    int failed = _cmocka_run_group_tests(group, tests, sizeof(tests) / sizeof(*tests), NULL, NULL);
    redis_fixture_stop(&contract_redis);
    redis_cluster_fixture_stop(&contract_cluster);
    return failed;
}
