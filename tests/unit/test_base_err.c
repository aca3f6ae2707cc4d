/* test_base_err — the one error table: every ERR_* code has a distinct
 * name, a text, a JSON-RPC code and an HTTP status; signs do not matter;
 * errno values fall through to strerror(); no input crashes it. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"

static void test_err__every_code_is_mapped(void **state)
{
    (void)state;
    const char *names[ERR_MAX_ - ERR_INVALID];
    for (int code = ERR_INVALID; code < ERR_MAX_; code++) {
        const char *name = err_name(code);
        assert_string_not_equal(name, "system_error");
        assert_true(strlen(coordhub_strerror(code)) > 0);
        /* JSON-RPC: the reserved range -32768..-32000. */
        int rpc = err_to_jsonrpc(code);
        assert_true(rpc >= -32768 && rpc <= -32000);
        int http = err_to_http(code);
        assert_true(http >= 400 && http <= 599);
        /* The sign is irrelevant. */
        assert_string_equal(err_name(-code), name);
        assert_int_equal(err_to_jsonrpc(-code), rpc);
        assert_int_equal(err_to_http(-code), http);
        assert_string_equal(coordhub_strerror(-code), coordhub_strerror(code));
        names[code - ERR_INVALID] = name;
        for (int other = ERR_INVALID; other < code; other++)
            assert_string_not_equal(names[other - ERR_INVALID], name);
    }
}

static void test_err__known_mappings(void **state)
{
    (void)state;
    assert_string_equal(coordhub_strerror(0), "success");
    assert_int_equal(err_to_http(0), 200);
    assert_string_equal(err_name(-ERR_INVALID), "invalid_argument");
    assert_int_equal(err_to_jsonrpc(-ERR_INVALID), -32602);
    assert_int_equal(err_to_http(-ERR_INVALID), 400);
    assert_int_equal(err_to_http(-ERR_NOT_FOUND), 404);
    assert_int_equal(err_to_http(-ERR_CONFLICT), 409);
    assert_int_equal(err_to_http(-ERR_DENIED), 403);
    assert_int_equal(err_to_http(-ERR_TOO_LARGE), 413);
    assert_int_equal(err_to_jsonrpc(-ERR_PARSE), -32700);
    assert_int_equal(err_to_http(-ERR_UNAVAILABLE), 503);
    assert_int_equal(err_to_http(-ERR_TIMEOUT), 504);
    assert_int_equal(err_to_http(-ERR_INTERNAL), 500);
}

static void test_err__errno_and_unknown_values(void **state)
{
    (void)state;
    assert_string_equal(coordhub_strerror(-ENOENT), strerror(ENOENT));
    assert_string_equal(coordhub_strerror(EACCES), strerror(EACCES));
    assert_string_equal(err_name(-ENOENT), "system_error");
    assert_int_equal(err_to_http(-ENOENT), 500);
    assert_int_equal(err_to_jsonrpc(-ENOENT), -32603);
    /* Values outside every table, including the one whose negation
     * overflows, give an answer rather than undefined behaviour. */
    static const int odd[] = {INT_MIN, INT_MIN + 1, INT_MAX, ERR_MAX_, -ERR_MAX_, 999999};
    for (size_t i = 0; i < sizeof(odd) / sizeof(*odd); i++) {
        assert_non_null(coordhub_strerror(odd[i]));
        assert_string_equal(err_name(odd[i]), "system_error");
        assert_int_equal(err_to_http(odd[i]), 500);
        assert_int_equal(err_to_jsonrpc(odd[i]), -32603);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err__every_code_is_mapped),
        cmocka_unit_test(test_err__known_mappings),
        cmocka_unit_test(test_err__errno_and_unknown_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
