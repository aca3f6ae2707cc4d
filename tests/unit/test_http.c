/* Unit tests for http's pure parts: HOST:PORT parsing (loopback
 * detection, bracketed IPv6, bare ports, refusals) and Bearer credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http.h"

static void test_http__addr_ipv4(void **state)
{
    (void)state;
    struct http_addr a;
    const char *why;
    assert_int_equal(http_addr_parse("127.0.0.1:7420", &a, &why), 0);
    assert_string_equal(a.text, "127.0.0.1:7420");
    assert_int_equal(a.port, 7420);
    assert_true(a.loopback);
    assert_int_equal(http_addr_parse("127.1.2.3:0", &a, &why), 0);
    assert_true(a.loopback);
    assert_int_equal(a.port, 0);
    assert_int_equal(http_addr_parse("0.0.0.0:80", &a, &why), 0);
    assert_false(a.loopback);
    assert_int_equal(http_addr_parse("192.168.1.5:8080", &a, &why), 0);
    assert_false(a.loopback);
    assert_string_equal(a.text, "192.168.1.5:8080");
}

static void test_http__addr_ipv6_localhost_and_bare_port(void **state)
{
    (void)state;
    struct http_addr a;
    const char *why;
    assert_int_equal(http_addr_parse("[::1]:7420", &a, &why), 0);
    assert_true(a.loopback);
    assert_string_equal(a.text, "[::1]:7420");
    assert_int_equal(http_addr_parse("[::]:7420", &a, &why), 0);
    assert_false(a.loopback);
    assert_int_equal(http_addr_parse("localhost:9000", &a, &why), 0);
    assert_string_equal(a.text, "127.0.0.1:9000");
    assert_int_equal(http_addr_parse("8080", &a, &why), 0);
    assert_string_equal(a.text, "127.0.0.1:8080");
    assert_true(a.loopback);
}

static void test_http__addr_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "127.0.0.1:",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "127.0.0.1:80x",
        ":80",
        "::1:80",
        "[::1]80",
        "[::1",
        "example.com:80",
        "127.0.0.1:123456",
        "300.1.1.1:80",
        "[127.0.0.1]:80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_addr a;
        const char *why = NULL;
        int rc = http_addr_parse(bad[i], &a, &why);
        if (rc != -ERR_INVALID)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(why);
    }
    struct http_addr a;
    const char *why;
    assert_int_equal(http_addr_parse(NULL, &a, &why), -ERR_INVALID);
}

static void test_http__bearer(void **state)
{
    (void)state;
    const char *tok;
    size_t len;
    assert_true(http_bearer_parse("Bearer abc123", &tok, &len));
    assert_int_equal(len, 6);
    assert_memory_equal(tok, "abc123", 6);
    assert_true(http_bearer_parse("bearer   abc  ", &tok, &len));
    assert_int_equal(len, 3);
    assert_memory_equal(tok, "abc", 3);
    assert_true(http_bearer_parse("  BEARER\tx", &tok, &len));
    assert_int_equal(len, 1);
    assert_false(http_bearer_parse("Bearer", &tok, &len));
    assert_false(http_bearer_parse("Bearer   ", &tok, &len));
    assert_false(http_bearer_parse("Basic dXNlcjpwYXNz", &tok, &len));
    assert_false(http_bearer_parse("Bearerabc", &tok, &len));
    assert_false(http_bearer_parse("", &tok, &len));
    assert_false(http_bearer_parse(NULL, &tok, &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http__addr_ipv4),
        cmocka_unit_test(test_http__addr_ipv6_localhost_and_bare_port),
        cmocka_unit_test(test_http__addr_refusals),
        cmocka_unit_test(test_http__bearer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
