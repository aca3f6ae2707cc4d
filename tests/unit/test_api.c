/* Unit tests for api: the bind rule of docs/security.md (which addresses may be
 * served, with or without API keys and TLS) and the checks api_new makes
 * before it binds anything. No test binds a non-loopback address. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "api/api.h"

static void test_api__bind_rule(void **state)
{
    (void)state;
    /* Loopback: always served, keys or not, TLS or not. */
    assert_int_equal(api_bind_check(true, false, false), API_BIND_OK);
    assert_int_equal(api_bind_check(true, false, true), API_BIND_OK);
    assert_int_equal(api_bind_check(true, true, false), API_BIND_OK);
    /* Non-loopback: refused without keys, even with TLS. */
    assert_int_equal(api_bind_check(false, false, false), API_BIND_DENIED);
    assert_int_equal(api_bind_check(false, false, true), API_BIND_DENIED);
    /* With keys: served; without TLS only with a warning. */
    assert_int_equal(api_bind_check(false, true, true), API_BIND_OK);
    assert_int_equal(api_bind_check(false, true, false), API_BIND_INSECURE);
}

/* api_new on cfg; returns its result and checks the failure contract. */
static int api_try(struct event_base *base, const struct api_config *cfg, char **msg)
{
    struct api *a = (struct api *)0x1;
    int rc = api_new(base, cfg, &a, msg);
    assert_int_not_equal(rc, 0);
    assert_null(a);
    assert_non_null(*msg);
    return rc;
}

static void test_api__non_loopback_refused_without_keys(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct api_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.token = "secret";
    const char *addrs[] = {"0.0.0.0:0", "192.0.2.1:7420", "[::]:0"};
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        cfg.addr = addrs[i];
        char *msg = NULL;
        assert_int_equal(api_try(base, &cfg, &msg), -ERR_DENIED);
        if (!strstr(msg, "non-loopback") || !strstr(msg, "unrevoked API key") ||
            !strstr(msg, "'coordhub key create'") || !strstr(msg, "127.0.0.1:PORT"))
            fail_msg("refusal for %s does not say what to do: %s", addrs[i], msg);
        free(msg);
    }
    /* With TLS files too: still refused, and before they are read. */
    cfg.addr = "0.0.0.0:0";
    cfg.tls_cert = "/nonexistent/cert.pem";
    cfg.tls_key = "/nonexistent/key.pem";
    char *msg = NULL;
    assert_int_equal(api_try(base, &cfg, &msg), -ERR_DENIED);
    free(msg);
    event_base_free(base);
}

static void test_api__tls_files_checked_before_binding(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct api_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.token = "secret";
    cfg.addr = "127.0.0.1:0";
    char *msg = NULL;
    cfg.tls_cert = "/nonexistent/cert.pem";
    assert_int_equal(api_try(base, &cfg, &msg), -ERR_INVALID);
    assert_non_null(strstr(msg, "needs its private key too"));
    free(msg);
    cfg.tls_cert = NULL;
    cfg.tls_key = "/nonexistent/key.pem";
    assert_int_equal(api_try(base, &cfg, &msg), -ERR_INVALID);
    assert_non_null(strstr(msg, "needs its certificate too"));
    free(msg);
    cfg.tls_cert = "/nonexistent/cert.pem";
    assert_int_equal(api_try(base, &cfg, &msg), -ENOENT);
    assert_string_equal(msg, "cannot read the TLS certificate /nonexistent/cert.pem: No such file "
                             "or directory");
    free(msg);
    /* A file that is not PEM at all. */
    char path[] = "/tmp/coordhub-test-api-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a certificate\n", 18), 18);
    close(fd);
    cfg.tls_cert = path;
    cfg.tls_key = path;
    assert_int_equal(api_try(base, &cfg, &msg), -ERR_INVALID);
    assert_non_null(strstr(msg, "is not a PEM certificate chain"));
    free(msg);
    unlink(path);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api__bind_rule),
        cmocka_unit_test(test_api__non_loopback_refused_without_keys),
        cmocka_unit_test(test_api__tls_files_checked_before_binding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
