/* test_redis_url — the strict parser of redis:// and unix:// store URLs:
 * every accepted form with its fields, and every refusal with the part it
 * names (never the password). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/redis_url.h"

static void test_redis_url__tcp_forms(void **state)
{
    (void)state;
    struct redis_url u;
    char *err = NULL;

    assert_int_equal(redis_url_parse("redis://localhost:6380", &u, &err), 0);
    assert_null(err);
    assert_false(u.is_unix);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6380);
    assert_null(u.user);
    assert_null(u.pass);
    assert_int_equal(u.db, 0);
    redis_url_deinit(&u);

    assert_int_equal(redis_url_parse("redis://10.0.0.7", &u, &err), 0);
    assert_string_equal(u.host, "10.0.0.7");
    assert_int_equal(u.port, REDIS_URL_DEFAULT_PORT);
    redis_url_deinit(&u);

    assert_int_equal(redis_url_parse("redis://hub:s%40cr%3At@db.example:6379/3", &u, &err), 0);
    assert_string_equal(u.user, "hub");
    assert_string_equal(u.pass, "s@cr:t");
    assert_string_equal(u.host, "db.example");
    assert_int_equal(u.db, 3);
    redis_url_deinit(&u);

    /* Password only: AUTH with the default user. A trailing '/' is db 0. */
    assert_int_equal(redis_url_parse("redis://:pw@h/", &u, &err), 0);
    assert_null(u.user);
    assert_string_equal(u.pass, "pw");
    assert_int_equal(u.port, REDIS_URL_DEFAULT_PORT);
    assert_int_equal(u.db, 0);
    redis_url_deinit(&u);

    assert_int_equal(redis_url_parse("redis://[::1]:7000/2147483647", &u, &err), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 2147483647);
    redis_url_deinit(&u);
    redis_url_deinit(NULL);
}

static void test_redis_url__unix_form(void **state)
{
    (void)state;
    struct redis_url u;
    char *err = NULL;
    assert_int_equal(redis_url_parse("unix:///run/redis/redis.sock", &u, &err), 0);
    assert_true(u.is_unix);
    assert_string_equal(u.path, "/run/redis/redis.sock");
    assert_null(u.host);
    assert_int_equal(u.db, 0);
    redis_url_deinit(&u);

    assert_int_equal(redis_url_parse("unix://hub:p%40ss@/tmp/r.sock?db=4", &u, &err), 0);
    assert_true(u.is_unix);
    assert_string_equal(u.path, "/tmp/r.sock");
    assert_string_equal(u.user, "hub");
    assert_string_equal(u.pass, "p@ss");
    assert_int_equal(u.db, 4);
    redis_url_deinit(&u);

    /* An '@' inside the path is part of the path. */
    assert_int_equal(redis_url_parse("unix:///run/a@/r.sock", &u, &err), 0);
    assert_string_equal(u.path, "/run/a@/r.sock");
    assert_null(u.pass);
    redis_url_deinit(&u);
}

static void test_redis_url__refusals_name_the_part(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *says;
    } cases[] = {
        {"redis://", "no host"},
        {"redis://:6379", "no host"},
        {"redis://h:0", "port"},
        {"redis://h:65536", "port"},
        {"redis://h:63x9", "port"},
        {"redis://h:", "port"},
        {"redis://h:6379/x", "database"},
        {"redis://h:6379/-1", "database"},
        {"redis://h:6379/2147483648", "database"},
        {"redis://h:6379/1/2", "database"},
        {"redis://h:6379?db=1", "query"},
        {"redis://h:6379#x", "query or fragment"},
        {"redis://ho st:6379", "host"},
        {"redis://[::1:6379", "']'"},
        {"redis://[zz]:6379", "IPv6"},
        {"redis://[::1]x", "junk"},
        {"redis://alice@h", "no password"},
        {"redis://alice:@h", "password is empty"},
        {"redis://alice:p%zz@h", "password has a bad"},
        {"redis://alice:p%00@h", "password has a bad"},
        {"redis://alice:p%4@h", "password has a bad"},
        {"redis://al%g1ce:pw@h", "user has a bad"},
        {"unix://", "unix:///"},
        {"unix://relative.sock", "unix:///"},
        {"unix:///", "no socket path"},
        {"unix:///tmp/r.sock?x=1", "only be ?db=N"},
        {"unix:///tmp/r.sock?db=x", "database"},
        {"unix:///tmp/r.sock#f", "fragment"},
        {"unix:///?db=1", "no socket path"},
        {"unix://alice@/tmp/r.sock", "no password"},
        {"http://h", "must start with"},
        {NULL, "empty"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct redis_url u;
        char *err = NULL;
        memset(&u, 0x5a, sizeof(u));
        assert_int_equal(redis_url_parse(cases[i].url, &u, &err), -ERR_INVALID);
        assert_non_null(err);
        if (!strstr(err, cases[i].says))
            fail_msg("case %zu (%s): '%s' lacks '%s'", i, cases[i].url ? cases[i].url : "NULL", err,
                     cases[i].says);
        /* Nothing is left owned after a refusal. */
        assert_null(u.host);
        assert_null(u.path);
        assert_null(u.user);
        assert_null(u.pass);
        free(err);
    }
}

static void test_redis_url__errors_never_quote_the_password(void **state)
{
    (void)state;
    const char *bad[] = {"redis://al:s3cr3t@h:0", "redis://al:s3cr3t@:1", "redis://al:s3cr3t@h/x",
                         "redis://al:s3cr3t@h?x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct redis_url u;
        char *err = NULL;
        assert_int_equal(redis_url_parse(bad[i], &u, &err), -ERR_INVALID);
        assert_null(strstr(err, "s3cr3t"));
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_url__tcp_forms),
        cmocka_unit_test(test_redis_url__unix_form),
        cmocka_unit_test(test_redis_url__refusals_name_the_part),
        cmocka_unit_test(test_redis_url__errors_never_quote_the_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
