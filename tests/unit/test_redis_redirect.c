/* test_redis_redirect — the one parser of Redis Cluster redirections:
 * MOVED and ASK with their slot and address (IPv4, IPv6, a name, the
 * empty host of ":<port>"), the errors that only say "later" (TRYAGAIN,
 * CLUSTERDOWN), and everything else read as no redirection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "store/redis_redirect.h"

static void test_redis_redirect__moved_with_address(void **state)
{
    (void)state;
    struct redis_redirect rd;
    assert_int_equal(redis_redirect_parse("MOVED 3999 127.0.0.1:6381", &rd), REDIS_REDIRECT_MOVED);
    assert_int_equal(rd.kind, REDIS_REDIRECT_MOVED);
    assert_int_equal(rd.slot, 3999);
    assert_true(rd.has_addr);
    assert_true(rd.has_host);
    assert_string_equal(rd.host, "127.0.0.1");
    assert_int_equal(rd.port, 6381);

    /* An IPv6 host keeps its colons: the port is after the last one. */
    assert_int_equal(redis_redirect_parse("MOVED 0 ::1:7000", &rd), REDIS_REDIRECT_MOVED);
    assert_int_equal(rd.slot, 0);
    assert_string_equal(rd.host, "::1");
    assert_int_equal(rd.port, 7000);

    assert_int_equal(redis_redirect_parse("MOVED 16383 redis-2.example:65535", &rd),
                     REDIS_REDIRECT_MOVED);
    assert_int_equal(rd.slot, 16383);
    assert_string_equal(rd.host, "redis-2.example");
    assert_int_equal(rd.port, 65535);
}

static void test_redis_redirect__moved_without_host(void **state)
{
    (void)state;
    struct redis_redirect rd;
    /* The answering node does not know its peer's address. */
    assert_int_equal(redis_redirect_parse("MOVED 12 :6380", &rd), REDIS_REDIRECT_MOVED);
    assert_true(rd.has_addr);
    assert_false(rd.has_host);
    assert_string_equal(rd.host, "");
    assert_int_equal(rd.port, 6380);
}

static void test_redis_redirect__moved_without_usable_address(void **state)
{
    (void)state;
    const char *bad[] = {
        "MOVED 3999",          "MOVED 3999 ",           "MOVED 3999 host",     "MOVED 3999 host:",
        "MOVED 3999 host:0",   "MOVED 3999 host:65536", "MOVED 3999 host:80x", "MOVED 3999 host:-1",
        "MOVED 3999 host:+80", "MOVED 3999 host: 80",   "MOVED 1 h:1234567",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct redis_redirect rd;
        assert_int_equal(redis_redirect_parse(bad[i], &rd), REDIS_REDIRECT_MOVED);
        assert_false(rd.has_addr);
        assert_false(rd.has_host);
        assert_int_equal(rd.port, 0);
    }
    /* A host longer than a name may be counts as no address. */
    char long_host[400] = "MOVED 7 ";
    memset(long_host + 8, 'h', 300);
    memcpy(long_host + 308, ":6379", 6);
    struct redis_redirect rd;
    assert_int_equal(redis_redirect_parse(long_host, &rd), REDIS_REDIRECT_MOVED);
    assert_false(rd.has_addr);
    assert_int_equal(rd.slot, 7);
}

static void test_redis_redirect__slot(void **state)
{
    (void)state;
    struct redis_redirect rd;
    redis_redirect_parse("MOVED 16384 a:1", &rd);
    assert_int_equal(rd.slot, -1); /* out of range: unread, the kind stands */
    assert_int_equal(rd.kind, REDIS_REDIRECT_MOVED);
    assert_true(rd.has_addr);
    redis_redirect_parse("MOVED x1 a:1", &rd);
    assert_int_equal(rd.slot, -1);
    redis_redirect_parse("MOVED  a:1", &rd);
    assert_int_equal(rd.slot, -1);
}

static void test_redis_redirect__ask(void **state)
{
    (void)state;
    struct redis_redirect rd;
    assert_int_equal(redis_redirect_parse("ASK 42 10.0.0.1:7001", &rd), REDIS_REDIRECT_ASK);
    assert_int_equal(rd.slot, 42);
    assert_true(rd.has_addr);
    assert_string_equal(rd.host, "10.0.0.1");
    assert_int_equal(rd.port, 7001);
    assert_int_equal(redis_redirect_parse("ASK 42", &rd), REDIS_REDIRECT_ASK);
    assert_false(rd.has_addr);
}

static void test_redis_redirect__later(void **state)
{
    (void)state;
    struct redis_redirect rd;
    assert_int_equal(
        redis_redirect_parse("TRYAGAIN Multiple keys request during rehashing of slot", &rd),
        REDIS_REDIRECT_TRYAGAIN);
    assert_false(rd.has_addr);
    assert_int_equal(redis_redirect_parse("CLUSTERDOWN The cluster is down", &rd),
                     REDIS_REDIRECT_CLUSTERDOWN);
    assert_int_equal(redis_redirect_parse("CLUSTERDOWN", &rd), REDIS_REDIRECT_CLUSTERDOWN);
}

static void test_redis_redirect__not_a_redirection(void **state)
{
    (void)state;
    const char *none[] = {"",
                          "ERR unknown command",
                          "NOSCRIPT No matching script",
                          "MOVED",
                          "MOVEDX 1 a:1",
                          "moved 1 a:1",
                          " MOVED 1 a:1",
                          "ASK",
                          "ASKING",
                          "OOM command not allowed"};
    for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++) {
        struct redis_redirect rd;
        memset(&rd, 0x5a, sizeof(rd));
        assert_int_equal(redis_redirect_parse(none[i], &rd), REDIS_REDIRECT_NONE);
        assert_false(rd.has_addr);
        assert_int_equal(rd.slot, -1);
    }
    struct redis_redirect rd;
    assert_int_equal(redis_redirect_parse(NULL, &rd), REDIS_REDIRECT_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_redirect__moved_with_address),
        cmocka_unit_test(test_redis_redirect__moved_without_host),
        cmocka_unit_test(test_redis_redirect__moved_without_usable_address),
        cmocka_unit_test(test_redis_redirect__slot),
        cmocka_unit_test(test_redis_redirect__ask),
        cmocka_unit_test(test_redis_redirect__later),
        cmocka_unit_test(test_redis_redirect__not_a_redirection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
