/* Unit tests for mcp_http_check: loopback Origins, Host against
 * the bound address (DNS rebinding), Accept media ranges and protocol
 * revisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mcp_http_check__origin_loopback_allowed),
        cmocka_unit_test(test_mcp_http_check__origin_foreign_refused),
        cmocka_unit_test(test_mcp_http_check__host_matches_bound),
        cmocka_unit_test(test_mcp_http_check__host_rebinding_refused),
        cmocka_unit_test(test_mcp_http_check__accept),
        cmocka_unit_test(test_mcp_http_check__versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
