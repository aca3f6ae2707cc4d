/* Unit tests for mcp_http_check: Host and Origin against the bind (the
 * loopback rules against DNS rebinding, any Host and the hub's own Origin
 * on a non-loopback bind, the scheme's default port), Accept media ranges, protocol
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

/* Binds the checks are run against. */
static const struct mcp_http_bind LO = {.host = "127.0.0.1", .port = 7420, .loopback = true};
static const struct mcp_http_bind LO2 = {.host = "127.0.0.2", .port = 7420, .loopback = true};
static const struct mcp_http_bind LO6 = {.host = "::1", .port = 7420, .loopback = true};
static const struct mcp_http_bind LO80 = {.host = "127.0.0.1", .port = 80, .loopback = true};
static const struct mcp_http_bind LO443 = {
    .host = "127.0.0.1", .port = 443, .tls = true, .loopback = true};
static const struct mcp_http_bind LO443_PLAIN = {
    .host = "127.0.0.1", .port = 443, .loopback = true};
static const struct mcp_http_bind ANY = {.host = "0.0.0.0", .port = 7420, .loopback = false};
static const struct mcp_http_bind ANY_TLS = {
    .host = "0.0.0.0", .port = 443, .tls = true, .loopback = false};

struct host_case {
    const char *host;
    const struct mcp_http_bind *bind;
    bool ok;
};

static void test_mcp_http_check__host_table(void **state)
{
    (void)state;
    static const struct host_case cases[] = {
        /* loopback bind: the loopback names and the bound address, bound port */
        {"127.0.0.1:7420", &LO, true},
        {"localhost:7420", &LO, true},
        {"LocalHost:7420", &LO, true},
        {"[::1]:7420", &LO6, true},
        {"[::1]:7420", &LO, true},
        {"127.0.0.2:7420", &LO2, true},
        {"localhost", &LO80, true},
        {"evil.example:7420", &LO, false}, /* DNS rebinding */
        {"evil.example", &LO80, false},
        {"127.0.0.1:7421", &LO, false},
        {"localhost", &LO, false},
        {"127.0.0.2:7420", &LO, false},
        {"[::2]:7420", &LO, false},
        {"::1", &LO, false},
        /* an absent port is the scheme's: 443 with TLS, 80 without */
        {"localhost", &LO443, true},
        {"127.0.0.1", &LO443, true},
        {"localhost:443", &LO443, true},
        {"localhost", &LO443_PLAIN, false},
        {"localhost:80", &LO443, false},
        /* non-loopback bind: any well-formed Host, whatever its port */
        {"hub.example:7420", &ANY, true},
        {"hub.example", &ANY, true},
        {"HUB.example:8080", &ANY, true},
        {"10.1.2.3:7420", &ANY, true},
        {"[2001:db8::1]:7420", &ANY, true},
        {"localhost:7420", &ANY, true},
        {"hub.example", &ANY_TLS, true},
        {"my_hub-1.internal:443", &ANY_TLS, true},
        /* malformed anywhere */
        {NULL, &LO, false},
        {NULL, &ANY, false},
        {"", &LO, false},
        {"", &ANY, false},
        {"127.0.0.1:7420x", &LO, false},
        {"127.0.0.1:", &LO, false},
        {"hub.example:", &ANY, false},
        {"hub.example:99999", &ANY, false},
        {"hub.example:7420x", &ANY, false},
        {"hub.example/path", &ANY, false},
        {"user@hub.example", &ANY, false},
        {"hub example", &ANY, false},
        {"[2001:db8::1", &ANY, false},
        {"[hub.example]:7420", &ANY, false},
        {"2001:db8::1", &ANY, false},
        {":7420", &ANY, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = mcp_http_check_host(cases[i].host, cases[i].bind);
        if (got != cases[i].ok)
            fail_msg("case %zu: Host %s on %s:%u (%s, %s): got %d", i,
                     cases[i].host ? cases[i].host : "(none)", cases[i].bind->host,
                     (unsigned)cases[i].bind->port, cases[i].bind->tls ? "tls" : "plain",
                     cases[i].bind->loopback ? "loopback" : "non-loopback", got);
    }
    assert_false(mcp_http_check_host("localhost:7420", NULL));
}

struct origin_case {
    const char *origin;
    const char *host;
    const struct mcp_http_bind *bind;
    bool ok;
};

static void test_mcp_http_check__origin_table(void **state)
{
    (void)state;
    static const struct origin_case cases[] = {
        /* loopback origins, on any bind */
        {"http://127.0.0.1:7420", "127.0.0.1:7420", &LO, true},
        {"http://127.0.0.1", "127.0.0.1:7420", &LO, true},
        {"http://localhost:3000", "127.0.0.1:7420", &LO, true},
        {"HTTP://LocalHost:3000", "127.0.0.1:7420", &LO, true},
        {"http://[::1]:8080", "127.0.0.1:7420", &LO, true},
        {"https://localhost", "127.0.0.1:7420", &LO, true},
        {"http://localhost:3000", "hub.example:7420", &ANY, true},
        /* anything else on a loopback bind, even when it equals Host */
        {"http://evil.example", "evil.example", &LO80, false},
        {"http://evil.example:7420", "127.0.0.1:7420", &LO, false},
        {"http://localhost.evil.example", "127.0.0.1:7420", &LO, false},
        {"http://127.0.0.1.evil.example:80", "127.0.0.1:7420", &LO, false},
        {"http://127.0.0.2:7420", "127.0.0.2:7420", &LO2, false},
        /* non-loopback bind: the hub's own origin as Host names it */
        {"http://hub.example:7420", "hub.example:7420", &ANY, true},
        {"http://HUB.EXAMPLE:7420", "hub.example:7420", &ANY, true},
        {"http://hub.example", "hub.example", &ANY, true},
        {"http://hub.example:80", "hub.example", &ANY, true},
        {"http://[2001:db8::1]:7420", "[2001:db8::1]:7420", &ANY, true},
        {"https://hub.example", "hub.example", &ANY_TLS, true},
        {"https://hub.example:443", "hub.example", &ANY_TLS, true},
        {"https://hub.example", "hub.example:443", &ANY_TLS, true},
        {"http://hub.example", "hub.example", &ANY_TLS, false}, /* scheme differs */
        {"https://hub.example", "hub.example", &ANY, false},    /* scheme differs */
        {"http://hub.example:7421", "hub.example:7420", &ANY, false},
        {"http://hub.example", "hub.example:7420", &ANY, false},
        {"http://evil.example:7420", "hub.example:7420", &ANY, false},
        {"http://hub.example.evil:7420", "hub.example:7420", &ANY, false},
        {"http://hub.example:7420", NULL, &ANY, false},
        {"http://hub.example:7420", "bad host:7420", &ANY, false},
        {"http://hub.example:7420/", "hub.example:7420", &ANY, false},
        /* malformed anywhere */
        {NULL, "127.0.0.1:7420", &LO, false},
        {"", "127.0.0.1:7420", &LO, false},
        {"null", "127.0.0.1:7420", &LO, false},
        {"null", "hub.example:7420", &ANY, false},
        {"http://127.0.0.1:7420/path", "127.0.0.1:7420", &LO, false},
        {"http://127.0.0.1:99999", "127.0.0.1:7420", &LO, false},
        {"http://127.0.0.1:", "127.0.0.1:7420", &LO, false},
        {"http://[::2]:80", "127.0.0.1:7420", &LO, false},
        {"http://[::1", "127.0.0.1:7420", &LO, false},
        {"ftp://localhost", "127.0.0.1:7420", &LO, false},
        {"ftp://hub.example:7420", "hub.example:7420", &ANY, false},
        {"file://", "127.0.0.1:7420", &LO, false},
        {"http://user@localhost", "127.0.0.1:7420", &LO, false},
        {"http://user@hub.example:7420", "hub.example:7420", &ANY, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = mcp_http_check_origin(cases[i].origin, cases[i].host, cases[i].bind);
        if (got != cases[i].ok)
            fail_msg("case %zu: Origin %s, Host %s on %s:%u: got %d", i,
                     cases[i].origin ? cases[i].origin : "(none)",
                     cases[i].host ? cases[i].host : "(none)", cases[i].bind->host,
                     (unsigned)cases[i].bind->port, got);
    }
    assert_false(mcp_http_check_origin("http://localhost", "localhost", NULL));
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
        cmocka_unit_test(test_mcp_http_check__host_table),
        cmocka_unit_test(test_mcp_http_check__origin_table),
        cmocka_unit_test(test_mcp_http_check__accept),
        cmocka_unit_test(test_mcp_http_check__versions),
        cmocka_unit_test(test_mcp_http_check__streamed_long_or_progress),
        cmocka_unit_test(test_mcp_http_check__quick_calls_are_json),
        cmocka_unit_test(test_mcp_http_check__reply_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
