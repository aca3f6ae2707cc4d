/* test_foreign_msg — what a message on mcp:events becomes: the seed's
 * object and array forms ingested with the publisher's source, sourceId,
 * signature and timestamp; the hub's own publications and other
 * workspaces' messages ignored; every malformed message refused whole,
 * with a reason naming what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "store/foreign_msg.h"

#define NOW 1795986871000LL

struct parsed {
    enum foreign_msg_verdict verdict;
    struct event_vec evs;
    size_t ignored;
    char why[256];
};

static void parse_n(struct parsed *p, const char *msg, size_t len, const char *ws)
{
    event_vec_init(&p->evs);
    p->verdict = foreign_msg_parse(msg, len, ws, NOW, &p->evs, &p->ignored, p->why, sizeof(p->why));
}

static void parse(struct parsed *p, const char *msg)
{
    parse_n(p, msg, strlen(msg), "shop");
}

static void done(struct parsed *p)
{
    event_vec_deinit(&p->evs);
}

/* msg must be refused whole, the reason containing needle. */
static void expect_invalid(const char *msg, const char *needle)
{
    struct parsed p;
    parse(&p, msg);
    if (p.verdict != FOREIGN_MSG_INVALID)
        fail_msg("accepted: %s", msg);
    assert_int_equal(p.evs.len, 0);
    if (!strstr(p.why, needle))
        fail_msg("%s: reason '%s' lacks '%s'", msg, p.why, needle);
    done(&p);
}

static void test_foreign_msg__seed_object_is_ingested_with_its_fields(void **state)
{
    (void)state;
    struct parsed p;
    parse(&p, "{\"type\":\"health:status\",\"source\":\"backend\",\"sourceId\":\"be-1\","
              "\"signature\":\"abc\",\"timestamp\":\"2026-11-24T21:14:31.123Z\",\"id\":\"77\","
              "\"data\":{\"status\":\"healthy\",\"services\":{\"db\":\"up\"}}}");
    assert_int_equal(p.verdict, FOREIGN_MSG_INGEST);
    assert_int_equal(p.ignored, 0);
    assert_int_equal(p.evs.len, 1);
    const struct event *ev = &p.evs.items[0];
    assert_string_equal(ev->type, "health:status");
    assert_string_equal(ev->source, "backend");
    assert_string_equal(ev->source_id, "be-1");
    assert_string_equal(ev->signature, "abc");
    int64_t ts = 0;
    assert_int_equal(clock_parse_iso("2026-11-24T21:14:31.123Z", &ts), 0);
    assert_true(ev->ts_ms == ts);
    assert_true(ev->seq == 0); /* the publisher's id is not the log's */
    assert_string_equal(json_get_str(ev->data, "status", ""), "healthy");
    assert_false(event_is_hub(ev));
    done(&p);
}

static void test_foreign_msg__array_keeps_order(void **state)
{
    (void)state;
    struct parsed p;
    parse(&p, "[{\"type\":\"build:completed\",\"source\":\"backend\",\"data\":{\"taskId\":\"X\"},"
              "\"timestamp\":1700000000123},"
              "{\"type\":\"deploy:done\",\"source\":\"ci\",\"data\":{},\"workspace\":\"shop\"}]");
    assert_int_equal(p.verdict, FOREIGN_MSG_INGEST);
    assert_int_equal(p.evs.len, 2);
    assert_string_equal(p.evs.items[0].type, "build:completed");
    assert_true(p.evs.items[0].ts_ms == 1700000000123LL);
    assert_null(p.evs.items[0].source_id);
    assert_null(p.evs.items[0].signature);
    assert_string_equal(p.evs.items[1].type, "deploy:done");
    assert_string_equal(p.evs.items[1].source, "ci");
    assert_true(p.evs.items[1].ts_ms == NOW); /* no timestamp: the store's clock */
    done(&p);
}

/* The hub's own namespaces are refused from outside, the whole message,
 * by the rule publish_event applies (event_type_reserved); health:status
 * and other namespaces stay open. */
static void test_foreign_msg__hub_namespaces_are_reserved(void **state)
{
    (void)state;
    const char *types[] = {"agent:registered", "file:unlocked",   "task:completed",
                           "server:removed",   "tools:changed",   "cache:invalidate",
                           "guidance:message", "insight:critical"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char msg[200], want[80];
        snprintf(msg, sizeof(msg), "{\"type\":\"%s\",\"source\":\"backend\",\"data\":{}}",
                 types[i]);
        snprintf(want, sizeof(want), "type: '%s' is reserved for the hub", types[i]);
        struct parsed p;
        parse(&p, msg);
        assert_int_equal(p.verdict, FOREIGN_MSG_RESERVED);
        assert_int_equal(p.evs.len, 0);
        assert_string_equal(p.why, want);
        done(&p);
    }
    struct parsed p;
    parse(&p, "[{\"type\":\"deploy:done\",\"source\":\"ci\",\"data\":{}},"
              "{\"type\":\"guidance:message\",\"source\":\"ci\",\"data\":{\"text\":\"x\"}}]");
    assert_int_equal(p.verdict, FOREIGN_MSG_RESERVED);
    assert_int_equal(p.evs.len, 0);
    assert_string_equal(p.why, "event [1]: type: 'guidance:message' is reserved for the hub");
    done(&p);
    /* A namespace that only begins like a reserved one is open. */
    const char *open_types[] = {"health:status", "health:degraded", "files:changed", "agents:x",
                                "taskforce:ok"};
    for (size_t i = 0; i < sizeof(open_types) / sizeof(open_types[0]); i++) {
        char msg[200];
        snprintf(msg, sizeof(msg), "{\"type\":\"%s\",\"source\":\"backend\",\"data\":{}}",
                 open_types[i]);
        parse(&p, msg);
        assert_int_equal(p.verdict, FOREIGN_MSG_INGEST);
        done(&p);
    }
    /* A hub's own publication (its source) is still ignored, not refused. */
    parse(&p, "{\"type\":\"file:locked\",\"source\":\"agent-coordination\",\"data\":{}}");
    assert_int_equal(p.verdict, FOREIGN_MSG_IGNORED);
    done(&p);
}

static void test_foreign_msg__unusable_timestamps_take_the_store_clock(void **state)
{
    (void)state;
    const char *stamps[] = {"\"yesterday\"", "-5", "0", "1e300", "true", "null", "{}"};
    for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "{\"type\":\"a:b\",\"source\":\"x\",\"data\":{},\"timestamp\":%s}", stamps[i]);
        struct parsed p;
        parse(&p, msg);
        assert_int_equal(p.verdict, FOREIGN_MSG_INGEST);
        if (p.evs.items[0].ts_ms != NOW)
            fail_msg("timestamp %s gave %lld", stamps[i], (long long)p.evs.items[0].ts_ms);
        done(&p);
    }
}

static void test_foreign_msg__own_and_other_workspace_are_ignored(void **state)
{
    (void)state;
    struct parsed p;
    /* A hub's own publication (what the append script PUBLISHes). */
    parse(&p, "{\"id\":\"3\",\"type\":\"file:locked\",\"source\":\"agent-coordination\","
              "\"sourceId\":\"hub-1\",\"workspace\":\"shop\",\"data\":{}}");
    assert_int_equal(p.verdict, FOREIGN_MSG_IGNORED);
    assert_string_equal(p.why, "own");
    assert_int_equal(p.ignored, 1);
    assert_int_equal(p.evs.len, 0);
    done(&p);
    /* A hub's publication is known by its first bytes: what follows them
     * is not parsed. */
    parse(&p, "{\"id\":\"12\",\"type\":\"task:completed\",\"source\":\"agent-coordination\","
              "\"data\":{oops");
    assert_int_equal(p.verdict, FOREIGN_MSG_IGNORED);
    assert_string_equal(p.why, "own");
    done(&p);
    /* Near misses of that prefix go through the full parse. */
    parse(&p, "{\"id\":\"\",\"type\":\"a:b\",\"source\":\"agent-coordination\",\"data\":{oops");
    assert_int_equal(p.verdict, FOREIGN_MSG_INVALID);
    done(&p);
    parse(&p, "{\"id\":\"1\",\"type\":\"a:b\",\"source\":\"agent-coordinations\",\"data\":{}}");
    assert_int_equal(p.verdict, FOREIGN_MSG_INGEST);
    done(&p);
    /* The hub's source from anyone else is not ingested either. */
    parse(&p, "{\"type\":\"task:completed\",\"source\":\"agent-coordination\",\"data\":{}}");
    assert_int_equal(p.verdict, FOREIGN_MSG_IGNORED);
    done(&p);
    parse(&p, "{\"type\":\"a:b\",\"source\":\"x\",\"data\":{},\"workspace\":\"docs\"}");
    assert_int_equal(p.verdict, FOREIGN_MSG_IGNORED);
    assert_string_equal(p.why, "workspace");
    done(&p);
    /* A message for workspace "docs" is ingested by docs' hubs. */
    const char *docs = "{\"type\":\"a:b\",\"source\":\"x\",\"data\":{},\"workspace\":\"docs\"}";
    parse_n(&p, docs, strlen(docs), "docs");
    assert_int_equal(p.verdict, FOREIGN_MSG_INGEST);
    done(&p);
    /* In an array only the ignored items are dropped. */
    parse(&p, "[{\"type\":\"a:b\",\"source\":\"agent-coordination\",\"data\":{}},"
              "{\"type\":\"a:c\",\"source\":\"x\",\"data\":{}},"
              "{\"type\":\"a:d\",\"source\":\"x\",\"data\":{},\"workspace\":\"docs\"}]");
    assert_int_equal(p.verdict, FOREIGN_MSG_INGEST);
    assert_int_equal(p.ignored, 2);
    assert_int_equal(p.evs.len, 1);
    assert_string_equal(p.evs.items[0].type, "a:c");
    done(&p);
}

static void test_foreign_msg__malformed_messages_are_refused_whole(void **state)
{
    (void)state;
    expect_invalid("not json", "not UTF-8 JSON");
    expect_invalid("{\"type\":\"a:b\",\"source\":\"x\",\"data\":{\"s\":\"\xff\"}}",
                   "not UTF-8 JSON");
    /* A NUL or a duplicate key refuses the message, saying where. */
    expect_invalid("{\"type\":\"a:b\",\"source\":\"x\",\"data\":{\"s\":\"a\\u0000\"}}",
                   "string contains U+0000 at offset 41");
    expect_invalid("{\"type\":\"a:b\",\"source\":\"x\",\"source\":\"y\",\"data\":{}}",
                   "duplicate key \"source\" at offset 27");
    expect_invalid("[{\"type\":\"a:b\",\"source\":\"x\",\"data\":{\"k\":1,\"k\":2}}]",
                   "duplicate key \"k\" at offset 42");
    expect_invalid("42", "an event must be a JSON object");
    expect_invalid("[]", "1 to 100 events (it holds 0)");
    expect_invalid("[1]", "event [0]: an event must be a JSON object");
    expect_invalid("{\"source\":\"x\",\"data\":{}}", "type: required");
    expect_invalid("{\"type\":\"Bad\",\"source\":\"x\",\"data\":{}}", "type:");
    expect_invalid("{\"type\":\"nocolon\",\"source\":\"x\",\"data\":{}}", "type:");
    expect_invalid("{\"type\":\"a:b\",\"data\":{}}", "source: required");
    expect_invalid("{\"type\":\"a:b\",\"source\":\"\",\"data\":{}}", "source: required");
    expect_invalid("{\"type\":\"a:b\",\"source\":7,\"data\":{}}", "source: required");
    expect_invalid("{\"type\":\"a:b\",\"source\":\"x\"}", "data: required, an object");
    expect_invalid("{\"type\":\"a:b\",\"source\":\"x\",\"data\":[1]}", "data: required");
    expect_invalid("{\"type\":\"a:b\",\"source\":\"x\",\"data\":{},\"sourceId\":1}", "sourceId:");
    expect_invalid("{\"type\":\"a:b\",\"source\":\"x\",\"data\":{},\"signature\":[]}",
                   "signature:");
    expect_invalid("{\"type\":\"a:b\",\"source\":\"x\",\"data\":{},\"workspace\":5}", "workspace:");
    /* One bad item refuses the array, valid items included. */
    expect_invalid("[{\"type\":\"a:b\",\"source\":\"x\",\"data\":{}},"
                   "{\"type\":\"a:b\",\"source\":\"x\",\"data\":null}]",
                   "event [1]: data:");
}

static void test_foreign_msg__bounds(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    /* data over the cap */
    assert_int_equal(buf_append_str(&b, "{\"type\":\"a:b\",\"source\":\"x\",\"data\":{\"s\":\""),
                     0);
    for (int i = 0; i < FOREIGN_MSG_MAX_DATA; i++)
        assert_int_equal(buf_append(&b, "y", 1), 0);
    assert_int_equal(buf_append_str(&b, "\"}}"), 0);
    struct parsed p;
    parse_n(&p, b.data, b.len, "shop");
    assert_int_equal(p.verdict, FOREIGN_MSG_INVALID);
    assert_non_null(strstr(p.why, "data: larger than 65536 bytes"));
    done(&p);
    /* an array of 100 is accepted, 101 refused */
    for (int n = 100; n <= 101; n++) {
        b.len = 0;
        assert_int_equal(buf_append_str(&b, "["), 0);
        for (int i = 0; i < n; i++)
            assert_int_equal(
                buf_append_str(&b, i ? ",{\"type\":\"a:b\",\"source\":\"x\",\"data\":{}}"
                                     : "{\"type\":\"a:b\",\"source\":\"x\",\"data\":{}}"),
                0);
        assert_int_equal(buf_append_str(&b, "]"), 0);
        parse_n(&p, b.data, b.len, "shop");
        assert_int_equal(p.verdict, n == 100 ? FOREIGN_MSG_INGEST : FOREIGN_MSG_INVALID);
        assert_int_equal(p.evs.len, n == 100 ? 100 : 0);
        done(&p);
    }
    /* nesting past the depth bound */
    b.len = 0;
    assert_int_equal(buf_append_str(&b, "{\"type\":\"a:b\",\"source\":\"x\",\"data\":"), 0);
    for (int i = 0; i < FOREIGN_MSG_MAX_DEPTH; i++)
        assert_int_equal(buf_append_str(&b, "{\"k\":"), 0);
    assert_int_equal(buf_append_str(&b, "1"), 0);
    for (int i = 0; i < FOREIGN_MSG_MAX_DEPTH + 1; i++)
        assert_int_equal(buf_append_str(&b, "}"), 0);
    parse_n(&p, b.data, b.len, "shop");
    assert_int_equal(p.verdict, FOREIGN_MSG_INVALID);
    assert_string_equal(p.why, "JSON nested too deep");
    done(&p);
    /* a message over 1 MiB is refused before it is parsed */
    b.len = 0;
    assert_int_equal(buf_append_str(&b, "{\"type\":\"a:b\",\"source\":\"x\",\"data\":{\"s\":\""),
                     0);
    while (b.len < (size_t)FOREIGN_MSG_MAX_BYTES)
        assert_int_equal(buf_append(&b, "y", 1), 0);
    assert_int_equal(buf_append_str(&b, "\"}}"), 0);
    parse_n(&p, b.data, b.len, "shop");
    assert_int_equal(p.verdict, FOREIGN_MSG_INVALID);
    assert_non_null(strstr(p.why, "message larger than"));
    done(&p);
    /* a source over its cap */
    b.len = 0;
    assert_int_equal(buf_append_str(&b, "{\"type\":\"a:b\",\"data\":{},\"source\":\""), 0);
    for (int i = 0; i <= FOREIGN_MSG_MAX_ID; i++)
        assert_int_equal(buf_append(&b, "s", 1), 0);
    assert_int_equal(buf_append_str(&b, "\"}"), 0);
    parse_n(&p, b.data, b.len, "shop");
    assert_int_equal(p.verdict, FOREIGN_MSG_INVALID);
    assert_non_null(strstr(p.why, "source: required, a string of 1 to 128"));
    done(&p);
    buf_deinit(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foreign_msg__seed_object_is_ingested_with_its_fields),
        cmocka_unit_test(test_foreign_msg__array_keeps_order),
        cmocka_unit_test(test_foreign_msg__hub_namespaces_are_reserved),
        cmocka_unit_test(test_foreign_msg__unusable_timestamps_take_the_store_clock),
        cmocka_unit_test(test_foreign_msg__own_and_other_workspace_are_ignored),
        cmocka_unit_test(test_foreign_msg__malformed_messages_are_refused_whole),
        cmocka_unit_test(test_foreign_msg__bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
