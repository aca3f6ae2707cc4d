/* test_store — URL dispatch of store.c: which backend a --store URL picks,
 * and the errors for URLs this build cannot serve. The backends' behaviour
 * is covered by tests/contract; sqlite specifics by test_store_sqlite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

static void test_store__url_picks_backend(void **state)
{
    (void)state;
    assert_ptr_equal(store_ops_for_url("memory:"), &store_memory_ops);
    assert_ptr_equal(store_ops_for_url("sqlite:/var/x/hub.db"), &store_sqlite_ops);
    assert_ptr_equal(store_ops_for_url("sqlite:relative.db"), &store_sqlite_ops);
    assert_ptr_equal(store_ops_for_url("/abs/path/hub.db"), &store_sqlite_ops);
    assert_ptr_equal(store_ops_for_url("hub.db"), &store_sqlite_ops);
    assert_ptr_equal(store_ops_for_url("./a:b.db"), &store_sqlite_ops);
    assert_ptr_equal(store_ops_for_url("../x/hub.db"), &store_sqlite_ops);
    assert_ptr_equal(store_ops_for_url("dir/with:colon"), &store_sqlite_ops);
    assert_ptr_equal(store_ops_for_url("redis://localhost:6379"), &store_redis_ops);
    assert_ptr_equal(store_ops_for_url("unix:///run/redis.sock"), &store_redis_ops);
    /* TLS to Redis is not built, so no ops. */
    assert_null(store_ops_for_url("rediss://u:p@host:6380/2"));
    /* Unknown schemes and nothing at all. */
    assert_null(store_ops_for_url("http://example.com/db"));
    assert_null(store_ops_for_url("a:b.db"));
    assert_null(store_ops_for_url(""));
    assert_null(store_ops_for_url(NULL));
    assert_string_equal(store_memory_ops.name, "memory");
    assert_string_equal(store_sqlite_ops.name, "sqlite");
    assert_string_equal(store_redis_ops.name, "redis");
}

/* Refusals of redis URLs never quote the password: not for TLS (not
 * built), not for a malformed URL, not for an unreachable server. */
static void test_store__redis_errors_never_leak_password(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int rc;
        const char *says;
    } cases[] = {
        {"rediss://alice:s3cr3t@db.example:6379/0", -ERR_UNAVAILABLE, "(rediss://) is not built"},
        {"redis://alice:s3cr3t@db.example:99999/0", -ERR_INVALID, "port"},
        {"redis://alice:s3cr3t@/0", -ERR_INVALID, "no host"},
        {"unix://alice:s3cr3t@relative/redis.sock", -ERR_INVALID, "unix:///"},
        /* Nothing listens on this socket path. */
        {"unix:///nonexistent-coordhub-dir/redis.sock", -ERR_UNAVAILABLE, "cannot connect"},
        {"unix://alice:s3cr3t@/nonexistent-coordhub-dir/redis.sock", -ERR_UNAVAILABLE,
         "cannot connect"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct store *s = (struct store *)&s; /* must be reset to NULL */
        char *err = NULL;
        assert_int_equal(store_open(cases[i].url, NULL, &s, &err), cases[i].rc);
        assert_null(s);
        assert_non_null(err);
        if (!strstr(err, cases[i].says))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].says);
        assert_null(strstr(err, "s3cr3t"));
        free(err);
    }
}

static void test_store__unknown_scheme_and_empty_refused(void **state)
{
    (void)state;
    struct store *s = NULL;
    char *err = NULL;
    assert_int_equal(store_open("ftp://host/x", NULL, &s, &err), -ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(err, "'ftp:'"));
    free(err);
    err = NULL;
    assert_int_equal(store_open("", NULL, &s, &err), -ERR_INVALID);
    assert_non_null(err);
    free(err);
    err = NULL;
    assert_int_equal(store_open(NULL, NULL, &s, &err), -ERR_INVALID);
    assert_non_null(err);
    free(err);
}

static void test_store__open_memory(void **state)
{
    (void)state;
    struct store *s = NULL;
    char *err = NULL;
    assert_int_equal(store_open("memory:", NULL, &s, &err), 0);
    assert_null(err);
    assert_non_null(s);
    assert_ptr_equal(s->ops, &store_memory_ops);
    store_close(s);
    store_close(NULL);
}

static void test_store__url_redact_hides_passwords(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"redis://alice:s3cr3t@db:6379/2", "redis://alice:***@db:6379/2"},
        {"redis://:s3cr3t@db", "redis://:***@db"},
        {"redis://db:6379", "redis://db:6379"},
        {"rediss://u:p@q@db", "rediss://u:***@db"},
        {"unix://hub:s3cr3t@/run/r.sock?db=1", "unix://hub:***@/run/r.sock?db=1"},
        {"unix:///run/a@/r.sock", "unix:///run/a@/r.sock"},
        {"sqlite:/x/hub.db", "sqlite:/x/hub.db"},
        {"memory:", "memory:"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *r = store_url_redact(cases[i].in);
        assert_string_equal(r, cases[i].out);
        free(r);
    }
    char *r = store_url_redact(NULL);
    assert_string_equal(r, "");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store__url_picks_backend),
        cmocka_unit_test(test_store__redis_errors_never_leak_password),
        cmocka_unit_test(test_store__unknown_scheme_and_empty_refused),
        cmocka_unit_test(test_store__open_memory),
        cmocka_unit_test(test_store__url_redact_hides_passwords),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
