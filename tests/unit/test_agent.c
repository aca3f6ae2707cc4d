/* Unit tests for core/agent: ids, statuses, capabilities and records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/agent.h"

static void test_agent__id_rules(void **state)
{
    (void)state;
    assert_true(agent_id_valid("cursor-1a2b3c"));
    assert_true(agent_id_valid("claude.code:v2@host_1"));
    assert_false(agent_id_valid(NULL));
    assert_false(agent_id_valid(""));
    assert_false(agent_id_valid("has space"));
    assert_false(agent_id_valid("slash/inside"));
    assert_false(agent_id_valid("ünïcode"));
    char id[AGENT_ID_MAX + 2];
    memset(id, 'a', sizeof(id));
    id[AGENT_ID_MAX] = '\0';
    assert_true(agent_id_valid(id));
    id[AGENT_ID_MAX] = 'a';
    id[AGENT_ID_MAX + 1] = '\0';
    assert_false(agent_id_valid(id));
}

static void test_agent__status_names(void **state)
{
    (void)state;
    enum agent_status st;
    const char *names[] = {"active", "idle", "busy", "offline"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(agent_status_parse(names[i], &st), 0);
        assert_string_equal(agent_status_name(st), names[i]);
    }
    assert_int_equal(agent_status_parse("Active", &st), -ERR_INVALID);
    assert_int_equal(agent_status_parse(NULL, &st), -ERR_INVALID);
}

static void test_agent__capabilities_cover(void **state)
{
    (void)state;
    cJSON *have = cJSON_Parse("[\"rust\",\"ts\"]");
    cJSON *need1 = cJSON_Parse("[\"rust\"]"), *need2 = cJSON_Parse("[\"rust\",\"go\"]");
    assert_true(agent_caps_cover(have, need1));
    assert_false(agent_caps_cover(have, need2));
    assert_true(agent_caps_cover(have, NULL));
    assert_false(agent_caps_cover(NULL, need1));
    assert_true(agent_is_string_array(have, 2, 4));
    assert_false(agent_is_string_array(have, 1, 4));
    assert_false(agent_is_string_array(have, 2, 3));
    cJSON_Delete(have);
    cJSON_Delete(need1);
    cJSON_Delete(need2);
}

static void test_agent__table_and_records(void **state)
{
    (void)state;
    struct agent_table t, u;
    agent_table_init(&t);
    agent_table_init(&u);
    struct agent *b = agent_table_add(&t, "b");
    struct agent *a = agent_table_add(&t, "a");
    a->session_id = strdup("s1");
    a->status = AGENT_BUSY;
    a->registered_at = 1795986871000LL;
    a->last_seen = 1795986872500LL;
    cJSON_AddItemToArray(a->capabilities, cJSON_CreateString("rust"));
    cJSON_AddStringToObject(a->metadata, "ide", "cursor");
    a->live_session = strdup("s1"); /* ephemeral: not in the record */
    assert_ptr_equal(agent_table_get(&t, "b"), b);
    assert_int_equal(agent_table_len(&t), 2);
    size_t n;
    struct agent **all = agent_table_sorted(&t, &n);
    assert_int_equal(n, 2);
    assert_ptr_equal(all[0], a);
    free(all);

    cJSON *rec = agent_to_json(a);
    char *text = cJSON_PrintUnformatted(rec);
    assert_string_equal(text, "{\"agentId\":\"a\",\"sessionId\":\"s1\",\"capabilities\":[\"rust\"],"
                              "\"mcpServers\":[],\"status\":\"busy\",\"metadata\":{\"ide\":"
                              "\"cursor\"},\"registeredAt\":\"2026-11-29T21:14:31.000Z\","
                              "\"lastSeen\":\"2026-11-29T21:14:32.500Z\"}");
    free(text);
    assert_int_equal(agent_table_add_json(&u, rec), 0);
    assert_int_equal(agent_table_add_json(&u, rec), -ERR_INVALID); /* duplicate */
    struct agent *back = agent_table_get(&u, "a");
    assert_null(back->live_session);
    cJSON *rec2 = agent_to_json(back);
    assert_true(cJSON_Compare(rec, rec2, 1));
    cJSON_Delete(rec2);
    cJSON_ReplaceItemInObject(rec, "agentId", cJSON_CreateString("c"));
    cJSON_ReplaceItemInObject(rec, "status", cJSON_CreateString("gone"));
    assert_int_equal(agent_table_add_json(&u, rec), -ERR_INVALID);
    assert_null(agent_table_get(&u, "c"));
    cJSON_Delete(rec);
    agent_table_deinit(&t);
    agent_table_deinit(&u);
    agent_table_deinit(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent__id_rules),
        cmocka_unit_test(test_agent__status_names),
        cmocka_unit_test(test_agent__capabilities_cover),
        cmocka_unit_test(test_agent__table_and_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
