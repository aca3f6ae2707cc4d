/* Unit tests for mcp_http_check: loopback Origins, Host against
 * the bound address (DNS rebinding), Accept media ranges, protocol
 * revisions, which requests get an SSE answer, and the event ids of
 * response streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "api/mcp_http_check.h"

static void test_mcp_http_check__origin_loopback_allowed(void **state)
{
    (void)state;
    assert_true(mcp_http_check_origin("http://127.0.0.1:7420"));
    assert_true(mcp_http_check_origin("http://127.0.0.1"));
    assert_true(mcp_http_check_origin("http://localhost:3000"));
    assert_true(mcp_http_check_origin("HTTP://LocalHost:3000"));
    assert_true(mcp_http_check_origin("http://[::1]:8080"));
    assert_true(mcp_http_check_origin("https://localhost"));
}

static void test_mcp_http_check__origin_foreign_refused(void **state)
{
    (void)state;
    assert_false(mcp_http_check_origin(NULL));
    assert_false(mcp_http_check_origin(""));
    assert_false(mcp_http_check_origin("null"));
    assert_false(mcp_http_check_origin("http://evil.example"));
    assert_false(mcp_http_check_origin("http://evil.example:7420"));
    assert_false(mcp_http_check_origin("http://localhost.evil.example"));
    assert_false(mcp_http_check_origin("http://127.0.0.1.evil.example:80"));
    assert_false(mcp_http_check_origin("http://127.0.0.1:7420/path"));
    assert_false(mcp_http_check_origin("http://127.0.0.1:99999"));
    assert_false(mcp_http_check_origin("http://127.0.0.1:"));
    assert_false(mcp_http_check_origin("http://[::2]:80"));
    assert_false(mcp_http_check_origin("http://[::1"));
    assert_false(mcp_http_check_origin("ftp://localhost"));
    assert_false(mcp_http_check_origin("file://"));
    assert_false(mcp_http_check_origin("http://user@localhost"));
}

static void test_mcp_http_check__host_matches_bound(void **state)
{
    (void)state;
    assert_true(mcp_http_check_host("127.0.0.1:7420", "127.0.0.1", 7420));
    assert_true(mcp_http_check_host("localhost:7420", "127.0.0.1", 7420));
    assert_true(mcp_http_check_host("[::1]:7420", "::1", 7420));
    assert_true(mcp_http_check_host("127.0.0.2:7420", "127.0.0.2", 7420));
    assert_true(mcp_http_check_host("localhost", "127.0.0.1", 80));
}

static void test_mcp_http_check__host_rebinding_refused(void **state)
{
    (void)state;
    assert_false(mcp_http_check_host(NULL, "127.0.0.1", 7420));
    assert_false(mcp_http_check_host("", "127.0.0.1", 7420));
    assert_false(mcp_http_check_host("evil.example:7420", "127.0.0.1", 7420));
    assert_false(mcp_http_check_host("evil.example", "127.0.0.1", 80));
    assert_false(mcp_http_check_host("127.0.0.1:7421", "127.0.0.1", 7420));
    assert_false(mcp_http_check_host("localhost", "127.0.0.1", 7420));
    assert_false(mcp_http_check_host("127.0.0.2:7420", "127.0.0.1", 7420));
    assert_false(mcp_http_check_host("[::2]:7420", "127.0.0.1", 7420));
    assert_false(mcp_http_check_host("127.0.0.1:7420x", "127.0.0.1", 7420));
    assert_false(mcp_http_check_host("127.0.0.1:", "127.0.0.1", 7420));
}

static void test_mcp_http_check__accept(void **state)
{
    (void)state;
    assert_true(mcp_http_check_accept("application/json, text/event-stream", true, true));
    assert_true(mcp_http_check_accept("text/event-stream;q=0.9,application/json", true, true));
    assert_true(mcp_http_check_accept("*/*", true, true));
    assert_true(mcp_http_check_accept("text/event-stream", false, true));
    assert_false(mcp_http_check_accept("application/json", true, true));
    assert_false(mcp_http_check_accept("text/event-stream", true, true));
    assert_false(mcp_http_check_accept("application/jsonx, text/event-stream", true, true));
    assert_false(mcp_http_check_accept("text/html", false, true));
    assert_false(mcp_http_check_accept(NULL, false, true));
}

static void test_mcp_http_check__versions(void **state)
{
    (void)state;
    assert_true(mcp_http_check_version("2025-11-25"));
    assert_true(mcp_http_check_version("2025-06-18"));
    assert_true(mcp_http_check_version("2025-03-26"));
    assert_false(mcp_http_check_version("2024-11-05"));
    assert_false(mcp_http_check_version("2025-11-25 "));
    assert_false(mcp_http_check_version(""));
    assert_false(mcp_http_check_version(NULL));
}

static bool streamed(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    bool r = mcp_http_check_streamed(j);
    cJSON_Delete(j);
    return r;
}

static void test_mcp_http_check__streamed_long_or_progress(void **state)
{
    (void)state;
    assert_true(streamed("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
                         "\"params\":{\"name\":\"wait_for_events\",\"arguments\":{}}}"));
    assert_true(streamed("{\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
                         "\"lock_file\",\"arguments\":{\"file\":\"a\",\"waitMs\":5}}}"));
    assert_true(streamed("{\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":"
                         "{\"progressToken\":\"t\"}}}"));
    assert_true(streamed("{\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
                         "\"list_agents\",\"_meta\":{\"progressToken\":7}}}"));
}

static void test_mcp_http_check__quick_calls_are_json(void **state)
{
    (void)state;
    assert_false(streamed("{\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
                          "\"lock_file\",\"arguments\":{\"file\":\"a\"}}}"));
    assert_false(streamed("{\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
                          "\"lock_file\",\"arguments\":{\"file\":\"a\",\"waitMs\":0}}}"));
    assert_false(streamed("{\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
                          "\"lock_file\",\"arguments\":{\"file\":\"a\",\"waitMs\":\"9\"}}}"));
    assert_false(streamed("{\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
                          "\"list_agents\"}}"));
    assert_false(streamed("{\"id\":1,\"method\":\"ping\"}"));
    assert_false(streamed("{\"id\":1,\"method\":\"tools/call\",\"params\":[]}"));
    assert_false(streamed("[{\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
                          "\"wait_for_events\"}}]"));
    assert_false(mcp_http_check_streamed(NULL));
}

static void test_mcp_http_check__reply_ids(void **state)
{
    (void)state;
    char id[48];
    assert_int_equal(mcp_http_reply_id_format(id, sizeof(id), 3, 0), 4);
    assert_string_equal(id, "r3-0");
    assert_true(mcp_http_reply_id_format(id, sizeof(id), UINT64_MAX, UINT64_MAX) > 0);
    uint64_t k = 0, n = 0;
    assert_true(mcp_http_reply_id_parse(id, &k, &n));
    assert_true(k == UINT64_MAX && n == UINT64_MAX);
    assert_true(mcp_http_reply_id_parse("r12-7", &k, &n));
    assert_true(k == 12 && n == 7);
    assert_int_equal(mcp_http_reply_id_format(id, 4, 12, 7), -1);
    const char *bad[] = {"12",
                         "r0-1",
                         "r1",
                         "r-1-2",
                         "r1-",
                         "r1-2 ",
                         " r1-2",
                         "R1-2",
                         "r1+2",
                         "r1-2-3",
                         "r1--2",
                         "",
                         "r1-x",
                         "r99999999999999999999-1",
                         "r1-18446744073709551616"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(mcp_http_reply_id_parse(bad[i], &k, &n));
    assert_false(mcp_http_reply_id_parse(NULL, &k, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mcp_http_check__origin_loopback_allowed),
        cmocka_unit_test(test_mcp_http_check__origin_foreign_refused),
        cmocka_unit_test(test_mcp_http_check__host_matches_bound),
        cmocka_unit_test(test_mcp_http_check__host_rebinding_refused),
        cmocka_unit_test(test_mcp_http_check__accept),
        cmocka_unit_test(test_mcp_http_check__versions),
        cmocka_unit_test(test_mcp_http_check__streamed_long_or_progress),
        cmocka_unit_test(test_mcp_http_check__quick_calls_are_json),
        cmocka_unit_test(test_mcp_http_check__reply_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
