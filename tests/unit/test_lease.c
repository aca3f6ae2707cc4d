/* Unit tests for core/lease: the table's indexes (keys, agents, expiry
 * heap), conflict rules, and its JSON records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/lease.h"

static struct lease *add(struct lease_table *t, const char *key, bool pattern, const char *agent,
                         enum lease_mode mode, uint64_t token, int64_t expires)
{
    return lease_table_insert(t, key, pattern, agent, mode, token, "why", NULL, 0, expires,
                              expires);
}

static size_t conflicts(const struct lease_table *t, const char *key, bool pattern,
                        const char *self, enum lease_mode mode, bool any, int64_t now)
{
    struct lease_vec v = {0};
    lease_table_conflicts(t, key, pattern, self, mode, any, now, false, &v);
    size_t n = v.len;
    lease_vec_deinit(&v);
    return n;
}

static void test_lease__insert_find_remove(void **state)
{
    (void)state;
    struct lease_table t;
    lease_table_init(&t);
    struct lease *a = add(&t, "x.c", false, "a", LEASE_EXCLUSIVE, 1, 100);
    struct lease *b = add(&t, "s.h", false, "b", LEASE_SHARED, 2, 100);
    struct lease *c = add(&t, "s.h", false, "c", LEASE_SHARED, 3, 100);
    struct lease *p = add(&t, "x.c", true, "a", LEASE_EXCLUSIVE, 4, 100);
    assert_int_equal(lease_table_len(&t), 4);
    assert_ptr_equal(lease_table_holder(&t, "x.c", false, "a"), a);
    assert_ptr_equal(lease_table_holder(&t, "x.c", true, "a"), p);
    assert_null(lease_table_holder(&t, "x.c", false, "b"));
    assert_ptr_equal(lease_table_holder(&t, "s.h", false, "c"), c);
    assert_int_equal(lease_table_agent_count(&t, "a"), 2);
    lease_table_remove(&t, b);
    assert_ptr_equal(lease_table_key(&t, "s.h", false)->holders, c);
    lease_table_remove(&t, c);
    assert_null(lease_table_key(&t, "s.h", false));
    assert_int_equal(lease_table_agent_count(&t, "b"), 0);
    assert_null(lease_table_agent_leases(&t, "c"));
    lease_table_remove(&t, a);
    assert_ptr_equal(lease_table_agent_leases(&t, "a"), p);
    assert_int_equal(lease_table_len(&t), 1);
    lease_table_deinit(&t);
    lease_table_deinit(NULL);
}

static void test_lease__conflict_rules(void **state)
{
    (void)state;
    struct lease_table t;
    lease_table_init(&t);
    add(&t, "src/a.rs", false, "a", LEASE_EXCLUSIVE, 1, 1000);
    add(&t, "lib/s.h", false, "b", LEASE_SHARED, 2, 1000);
    add(&t, "docs/**", true, "c", LEASE_EXCLUSIVE, 3, 1000);
    add(&t, "old.c", false, "d", LEASE_EXCLUSIVE, 4, 10); /* expired at 10 */
    /* exclusive meets everything of others, shared only exclusive */
    assert_int_equal(conflicts(&t, "src/a.rs", false, "x", LEASE_EXCLUSIVE, false, 0), 1);
    assert_int_equal(conflicts(&t, "src/a.rs", false, "x", LEASE_SHARED, false, 0), 1);
    assert_int_equal(conflicts(&t, "src/a.rs", false, "a", LEASE_EXCLUSIVE, false, 0), 0);
    assert_int_equal(conflicts(&t, "lib/s.h", false, "x", LEASE_SHARED, false, 0), 0);
    assert_int_equal(conflicts(&t, "lib/s.h", false, "x", LEASE_EXCLUSIVE, false, 0), 1);
    assert_int_equal(conflicts(&t, "lib/s.h", false, "x", LEASE_SHARED, true, 0), 1);
    /* files under a pattern; patterns against files and patterns */
    assert_int_equal(conflicts(&t, "docs/x/y.md", false, "x", LEASE_SHARED, false, 0), 1);
    assert_int_equal(conflicts(&t, "src/**", true, "x", LEASE_EXCLUSIVE, false, 0), 1);
    assert_int_equal(conflicts(&t, "**/*.md", true, "x", LEASE_EXCLUSIVE, false, 0), 1);
    assert_int_equal(conflicts(&t, "**", true, "x", LEASE_EXCLUSIVE, false, 10), 3);
    assert_int_equal(conflicts(&t, "**", true, NULL, LEASE_EXCLUSIVE, false, 10), 3);
    assert_int_equal(conflicts(&t, "**", true, NULL, LEASE_EXCLUSIVE, false, 5), 4);
    assert_int_equal(conflicts(&t, "test/**", true, "x", LEASE_EXCLUSIVE, false, 0), 0);
    /* expired holders only when asked for */
    assert_int_equal(conflicts(&t, "old.c", false, "x", LEASE_EXCLUSIVE, false, 10), 0);
    struct lease_vec v = {0};
    lease_table_conflicts(&t, "old.c", false, "x", LEASE_EXCLUSIVE, false, 10, true, &v);
    assert_int_equal(v.len, 1);
    lease_vec_deinit(&v);
    lease_table_deinit(&t);
}

static void test_lease__expiry_heap_orders_and_updates(void **state)
{
    (void)state;
    struct lease_table t;
    lease_table_init(&t);
    assert_int_equal(lease_table_next_expiry(&t), INT64_MAX);
    enum { N = 2000 };
    struct lease *ls[N];
    uint64_t r = 12345;
    char key[32];
    for (int i = 0; i < N; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        snprintf(key, sizeof(key), "f%d", i);
        ls[i] = add(&t, key, false, (i & 1) ? "a" : "b", LEASE_EXCLUSIVE, (uint64_t)i + 1,
                    (int64_t)(r >> 40) % 100000);
    }
    /* move some, remove some */
    for (int i = 0; i < N; i += 7)
        lease_table_set_expiry(&t, ls[i], (int64_t)(i * 13) % 100000, 1);
    for (int i = 3; i < N; i += 11) {
        lease_table_remove(&t, ls[i]);
        ls[i] = NULL;
    }
    int64_t min = INT64_MAX;
    size_t due = 0;
    for (int i = 0; i < N; i++) {
        if (!ls[i])
            continue;
        if (ls[i]->expires_at < min)
            min = ls[i]->expires_at;
        due += ls[i]->expires_at <= 50000;
    }
    assert_int_equal(lease_table_next_expiry(&t), min);
    struct lease_vec v = {0};
    lease_table_expired(&t, 50000, &v);
    assert_int_equal(v.len, due);
    for (size_t i = 0; i < v.len; i++)
        assert_true(v.items[i]->expires_at <= 50000);
    lease_vec_sort(&v);
    for (size_t i = 1; i < v.len; i++)
        assert_true(strcmp(v.items[i - 1]->key->key, v.items[i]->key->key) < 0);
    lease_vec_deinit(&v);
    lease_table_deinit(&t);
}

static void test_lease__json_round_trip(void **state)
{
    (void)state;
    struct lease_table t, u;
    lease_table_init(&t);
    lease_table_init(&u);
    struct lease *l = lease_table_insert(&t, "src/**", true, "a", LEASE_SHARED, 42, NULL, "T-1",
                                         1795986871000LL, 1795986931500LL, 60500);
    cJSON *j = lease_to_json(l);
    char *s = cJSON_PrintUnformatted(j);
    assert_string_equal(s, "{\"file\":\"src/**\",\"pattern\":true,\"agentId\":\"a\","
                           "\"reason\":null,\"mode\":\"shared\",\"token\":42,"
                           "\"lockedAt\":\"2026-11-29T21:14:31.000Z\","
                           "\"expiresAt\":\"2026-11-29T21:15:31.500Z\",\"ttl\":60.5,"
                           "\"taskId\":\"T-1\"}");
    free(s);
    assert_int_equal(lease_table_insert_json(&u, j), 0);
    assert_int_equal(lease_table_insert_json(&u, j), -ERR_INVALID); /* same holder twice */
    struct lease *back = lease_table_holder(&u, "src/**", true, "a");
    assert_non_null(back);
    assert_true(back->token == 42);
    assert_int_equal(back->ttl_ms, 60500);
    assert_int_equal(back->expires_at, 1795986931500LL);
    assert_string_equal(back->task_id, "T-1");
    assert_null(back->reason);
    cJSON_ReplaceItemInObject(j, "mode", cJSON_CreateString("both"));
    assert_int_equal(lease_table_insert_json(&t, j), -ERR_INVALID);
    cJSON_Delete(j);
    lease_table_deinit(&t);
    lease_table_deinit(&u);
}

static void test_lease__mode_names(void **state)
{
    (void)state;
    enum lease_mode m;
    assert_int_equal(lease_mode_parse("shared", &m), 0);
    assert_int_equal(m, LEASE_SHARED);
    assert_int_equal(lease_mode_parse("exclusive", &m), 0);
    assert_int_equal(m, LEASE_EXCLUSIVE);
    assert_int_equal(lease_mode_parse("Shared", &m), -ERR_INVALID);
    assert_int_equal(lease_mode_parse(NULL, &m), -ERR_INVALID);
    assert_string_equal(lease_mode_name(LEASE_SHARED), "shared");
}

static void test_lease__many_leases_scale(void **state)
{
    (void)state;
    /* 100k leases in, per-file checks stay local, all out again */
    enum { N = 100000 };
    struct lease_table t;
    lease_table_init(&t);
    char key[40], agent[16];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "src/m%d/f%d.c", i % 500, i);
        snprintf(agent, sizeof(agent), "ag%d", i % 1000);
        add(&t, key, false, agent, LEASE_EXCLUSIVE, (uint64_t)i + 1, 1000 + i);
    }
    assert_int_equal(lease_table_len(&t), N);
    assert_int_equal(lease_table_agent_count(&t, "ag7"), N / 1000);
    assert_int_equal(conflicts(&t, "src/m7/f7.c", false, "zz", LEASE_EXCLUSIVE, false, 0), 1);
    assert_int_equal(conflicts(&t, "src/m7/**", true, "zz", LEASE_EXCLUSIVE, false, 0), N / 500);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "src/m%d/f%d.c", i % 500, i);
        snprintf(agent, sizeof(agent), "ag%d", i % 1000);
        lease_table_remove(&t, lease_table_holder(&t, key, false, agent));
    }
    assert_int_equal(lease_table_len(&t), 0);
    assert_int_equal(lease_table_next_expiry(&t), INT64_MAX);
    lease_table_deinit(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lease__insert_find_remove),
        cmocka_unit_test(test_lease__conflict_rules),
        cmocka_unit_test(test_lease__expiry_heap_orders_and_updates),
        cmocka_unit_test(test_lease__json_round_trip),
        cmocka_unit_test(test_lease__mode_names),
        cmocka_unit_test(test_lease__many_leases_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
