/* Unit tests for core/event: wire form, round trip, vectors, type rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/event.h"

static cJSON *parse(const char *s)
{
    cJSON *v = cJSON_Parse(s);
    assert_non_null(v);
    return v;
}

static void test_event__to_json_has_wire_fields(void **state)
{
    (void)state;
    struct event ev;
    event_init(&ev, EVENT_FILE_LOCKED, 1795986871123LL, parse("{\"file\":\"a.c\",\"token\":7}"));
    ev.seq = 1042;
    ev.source_id = strdup("hub-3f2a");
    cJSON *o = event_to_json(&ev, "shop");
    assert_string_equal(cJSON_GetObjectItem(o, "id")->valuestring, "1042");
    assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "file:locked");
    assert_string_equal(cJSON_GetObjectItem(o, "source")->valuestring, EVENT_SOURCE_HUB);
    assert_string_equal(cJSON_GetObjectItem(o, "sourceId")->valuestring, "hub-3f2a");
    assert_string_equal(cJSON_GetObjectItem(o, "workspace")->valuestring, "shop");
    assert_string_equal(cJSON_GetObjectItem(o, "timestamp")->valuestring,
                        "2026-11-29T21:14:31.123Z");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "data"), "file")->valuestring,
                        "a.c");
    assert_null(cJSON_GetObjectItem(o, "signature"));
    cJSON_Delete(o);
    event_deinit(&ev);
}

static void test_event__omits_absent_optional_fields(void **state)
{
    (void)state;
    struct event ev;
    event_init(&ev, "x:y", 0, NULL);
    char *s = event_to_text(&ev, NULL);
    /* seq 0: not in the log, so no id either. */
    assert_string_equal(s, "{\"type\":\"x:y\",\"source\":\"agent-coordination\","
                           "\"timestamp\":\"1970-01-01T00:00:00.000Z\",\"data\":{}}");
    free(s);
    event_deinit(&ev);
}

static void test_event__round_trip_preserves_everything(void **state)
{
    (void)state;
    struct event ev, back;
    event_init(&ev, "deploy:done", 1700000000001LL, parse("{\"a\":[1,2,{\"b\":null}]}"));
    ev.seq = 18446744073709551615ULL;
    ev.signature = strdup("t=1,v1=ab");
    ev.source_id = strdup("backend");
    free(ev.source);
    ev.source = strdup("ci");
    cJSON *o = event_to_json(&ev, "ws");
    assert_int_equal(event_from_json(o, &back), 0);
    assert_true(back.seq == ev.seq);
    assert_string_equal(back.type, ev.type);
    assert_string_equal(back.source, "ci");
    assert_string_equal(back.source_id, "backend");
    assert_string_equal(back.signature, "t=1,v1=ab");
    assert_int_equal(back.ts_ms, ev.ts_ms);
    assert_true(cJSON_Compare(back.data, ev.data, 1));
    cJSON_Delete(o);
    event_deinit(&ev);
    event_deinit(&back);
}

static void test_event__from_json_defaults_and_rejects(void **state)
{
    (void)state;
    struct event ev;
    cJSON *o = parse("{\"type\":\"a:b\"}");
    assert_int_equal(event_from_json(o, &ev), 0);
    assert_true(ev.seq == 0);
    assert_int_equal(ev.ts_ms, 0);
    assert_true(cJSON_IsObject(ev.data));
    assert_null(ev.source_id);
    event_deinit(&ev);
    cJSON_Delete(o);

    const char *bad[] = {
        "[]",
        "{}",
        "{\"type\":\"\"}",
        "{\"type\":5}",
        "{\"type\":\"a:b\",\"id\":\"12x\"}",
        "{\"type\":\"a:b\",\"id\":\"-1\"}",
        "{\"type\":\"a:b\",\"id\":\"99999999999999999999\"}",
        "{\"type\":\"a:b\",\"id\":true}",
        "{\"type\":\"a:b\",\"timestamp\":\"yesterday\"}",
        "{\"type\":\"a:b\",\"data\":[1]}",
        "{\"type\":\"a:b\",\"data\":\"s\"}",
        "{\"type\":\"a:b\",\"source\":1}",
        "{\"type\":\"a:b\",\"signature\":{}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o = parse(bad[i]);
        assert_int_equal(event_from_json(o, &ev), -ERR_INVALID);
        cJSON_Delete(o);
    }
}

static void test_event__from_json_accepts_numeric_id_and_timestamp(void **state)
{
    (void)state;
    struct event ev;
    cJSON *o = parse("{\"type\":\"a:b\",\"id\":42,\"timestamp\":1500}");
    assert_int_equal(event_from_json(o, &ev), 0);
    assert_true(ev.seq == 42);
    assert_int_equal(ev.ts_ms, 1500);
    event_deinit(&ev);
    cJSON_Delete(o);
}

static void test_event__copy_is_deep(void **state)
{
    (void)state;
    struct event a, b;
    event_init(&a, "a:b", 5, parse("{\"k\":1}"));
    a.seq = 3;
    event_copy(&b, &a);
    event_deinit(&a);
    assert_true(b.seq == 3);
    assert_string_equal(b.type, "a:b");
    assert_int_equal(cJSON_GetObjectItem(b.data, "k")->valueint, 1);
    event_deinit(&b);
}

static void test_event__vec_push_takes_ownership(void **state)
{
    (void)state;
    struct event_vec v;
    event_vec_init(&v);
    for (int i = 0; i < 20; i++) {
        struct event ev;
        event_init(&ev, "a:b", i, NULL);
        ev.seq = (uint64_t)i + 1;
        event_vec_push(&v, &ev);
        assert_null(ev.type);
    }
    assert_int_equal(v.len, 20);
    assert_true(v.items[19].seq == 20);
    event_vec_clear(&v);
    assert_int_equal(v.len, 0);
    struct event ev;
    event_init(&ev, "a:c", 0, NULL);
    event_vec_push(&v, &ev);
    assert_string_equal(v.items[0].type, "a:c");
    event_vec_deinit(&v);
    event_vec_deinit(NULL);
    event_deinit(NULL);
}

static void test_event__type_reserved_is_the_hubs_namespaces(void **state)
{
    (void)state;
    const char *hub[] = {"agent:registered", "file:unlocked",    "task:completed",
                         "server:removed",   "tools:changed",    "cache:invalidate",
                         "guidance:message", "insight:critical", "file:anything"};
    for (size_t i = 0; i < sizeof(hub) / sizeof(hub[0]); i++)
        assert_true(event_type_reserved(hub[i]));
    const char *open[] = {"health:status", "health:degraded", "files:x", "agents:x", "taskx:y",
                          "ci:file",       "my-app:task",     "nocolon", ""};
    for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); i++)
        assert_false(event_type_reserved(open[i]));
    assert_false(event_type_reserved(NULL));
}

static void test_event__type_valid(void **state)
{
    (void)state;
    assert_true(event_type_valid("file:locked"));
    assert_true(event_type_valid("my-app.v2:build_done"));
    assert_false(event_type_valid(NULL));
    assert_false(event_type_valid(""));
    assert_false(event_type_valid("nocolon"));
    assert_false(event_type_valid(":x"));
    assert_false(event_type_valid("x:"));
    assert_false(event_type_valid("a:b:c"));
    assert_false(event_type_valid("File:locked"));
    assert_false(event_type_valid("a b:c"));
    char longt[80];
    memset(longt, 'a', sizeof(longt));
    longt[3] = ':';
    longt[64] = '\0';
    assert_true(event_type_valid(longt));
    longt[64] = 'a';
    longt[65] = '\0';
    assert_false(event_type_valid(longt));
}

static void test_event__type_matches(void **state)
{
    (void)state;
    assert_true(event_type_matches("*", "file:locked"));
    assert_true(event_type_matches("file:*", "file:locked"));
    assert_false(event_type_matches("file:*", "task:created"));
    assert_true(event_type_matches("task:completed", "task:completed"));
    assert_false(event_type_matches("task:completed", "task:completedx"));
    assert_true(event_type_matches("*:completed", "task:completed"));
    assert_true(event_type_matches("t*k:*d", "task:completed"));
    assert_false(event_type_matches("", "a:b"));
    assert_false(event_type_matches(NULL, "a:b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event__to_json_has_wire_fields),
        cmocka_unit_test(test_event__omits_absent_optional_fields),
        cmocka_unit_test(test_event__round_trip_preserves_everything),
        cmocka_unit_test(test_event__from_json_defaults_and_rejects),
        cmocka_unit_test(test_event__from_json_accepts_numeric_id_and_timestamp),
        cmocka_unit_test(test_event__copy_is_deep),
        cmocka_unit_test(test_event__vec_push_takes_ownership),
        cmocka_unit_test(test_event__type_valid),
        cmocka_unit_test(test_event__type_reserved_is_the_hubs_namespaces),
        cmocka_unit_test(test_event__type_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
