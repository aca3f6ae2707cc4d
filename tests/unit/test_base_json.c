/* test_base_json — json_parse_bounded() enforces DESIGN §5's limits
 * before cJSON sees the bytes (depth 64 passes, 65 fails; invalid UTF-8,
 * NUL bytes and trailing garbage fail, with the documented error codes),
 * and the accessors return defaults instead of undefined conversions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/json.h"

/* Parse s (its strlen) with JSON_MAX_DEPTH; returns the error (0 on
 * success) and frees the value. */
static int parse_err(const char *s, size_t n)
{
    int err = 12345;
    cJSON *v = json_parse_bounded(s, n, JSON_MAX_DEPTH, &err);
    assert_true((v != NULL) == (err == 0));
    cJSON_Delete(v);
    return err;
}

#define PARSE(s) parse_err(s, sizeof(s) - 1)

/* depth opening brackets of kind open/close around inner ("" for none). */
static char *nested(int depth, char open, char close, const char *inner)
{
    struct buf b;
    buf_init(&b, 0);
    for (int i = 0; i < depth; i++) {
        if (open == '{')
            assert_int_equal(buf_append_str(&b, "{\"k\":"), 0);
        else
            assert_int_equal(buf_append(&b, &open, 1), 0);
    }
    assert_int_equal(buf_append_str(&b, inner), 0);
    for (int i = 0; i < depth; i++)
        assert_int_equal(buf_append(&b, &close, 1), 0);
    return buf_take(&b);
}

static void test_json__depth_limit_64_passes_65_fails(void **state)
{
    (void)state;
    char *s = nested(64, '[', ']', "1");
    assert_int_equal(parse_err(s, strlen(s)), 0);
    free(s);
    s = nested(65, '[', ']', "1");
    assert_int_equal(parse_err(s, strlen(s)), -ERR_TOO_LARGE);
    free(s);
    s = nested(64, '{', '}', "1");
    assert_int_equal(parse_err(s, strlen(s)), 0);
    free(s);
    s = nested(65, '{', '}', "1");
    assert_int_equal(parse_err(s, strlen(s)), -ERR_TOO_LARGE);
    free(s);
    /* A very deep input is refused by the pre-scan, before cJSON recurses. */
    s = nested(100000, '[', ']', "");
    assert_int_equal(parse_err(s, strlen(s)), -ERR_TOO_LARGE);
    free(s);
    /* Siblings do not add up: many shallow containers are fine. */
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "["), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_append_str(&b, i ? ",[[]]" : "[[]]"), 0);
    assert_int_equal(buf_append_str(&b, "]"), 0);
    assert_int_equal(parse_err(b.data, b.len), 0);
    buf_deinit(&b);
}

static void test_json__brackets_in_strings_do_not_count(void **state)
{
    (void)state;
    /* 100 brackets inside a string, with escaped quotes and backslashes
     * that must not end the string early. */
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "{\"s\":\"\\\\\\\"["), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_append_str(&b, "[{"), 0);
    assert_int_equal(buf_append_str(&b, "\\\"\"}"), 0);
    int err = 1;
    cJSON *v = json_parse_bounded(b.data, b.len, JSON_MAX_DEPTH, &err);
    assert_int_equal(err, 0);
    assert_non_null(v);
    const char *str = json_get_str(v, "s", NULL);
    assert_non_null(str);
    assert_int_equal(strncmp(str, "\\\"[[{", 5), 0);
    cJSON_Delete(v);
    buf_deinit(&b);
}

static void test_json__trailing_garbage_fails(void **state)
{
    (void)state;
    assert_int_equal(PARSE("{}"), 0);
    assert_int_equal(PARSE(" \t\r\n{\"a\":1} \t\r\n"), 0);
    assert_int_equal(PARSE("{} x"), -ERR_PARSE);
    assert_int_equal(PARSE("{}{}"), -ERR_PARSE);
    assert_int_equal(PARSE("[1] ]"), -ERR_PARSE);
    assert_int_equal(PARSE("1 2"), -ERR_PARSE);
    assert_int_equal(PARSE("\"a\"\""), -ERR_PARSE);
    assert_int_equal(PARSE("{}\f"), -ERR_PARSE); /* form feed is not JSON whitespace */
    /* Only n bytes count: garbage past n is not seen. */
    assert_int_equal(parse_err("{}garbage", 2), 0);
}

static void test_json__malformed_and_empty_fail(void **state)
{
    (void)state;
    assert_int_equal(parse_err("", 0), -ERR_PARSE);
    assert_int_equal(PARSE("   "), -ERR_PARSE);
    assert_int_equal(PARSE("{"), -ERR_PARSE);
    assert_int_equal(PARSE("{\"a\":}"), -ERR_PARSE);
    assert_int_equal(PARSE("[1,]"), -ERR_PARSE);
    assert_int_equal(PARSE("'single'"), -ERR_PARSE);
    assert_int_equal(PARSE("{\"a\":1,}"), -ERR_PARSE);
    int err = 0;
    assert_null(json_parse_bounded(NULL, 0, JSON_MAX_DEPTH, &err));
    assert_int_equal(err, -ERR_PARSE);
}

static void test_json__long_numbers_parse_whole(void **state)
{
    (void)state;
    /* A 100-digit number is read whole (older cJSON copied at most 63
     * characters of a number), inside an array too. */
    char text[110];
    memset(text, '7', 100);
    text[100] = '\0';
    int err = 1;
    cJSON *v = json_parse_bounded(text, 100, JSON_MAX_DEPTH, &err);
    assert_non_null(v);
    assert_true(v->valuedouble > 7.7e99 && v->valuedouble < 7.8e99);
    cJSON_Delete(v);
    memmove(text + 1, text, 100);
    text[0] = '[';
    text[101] = ']';
    v = json_parse_bounded(text, 102, JSON_MAX_DEPTH, &err);
    assert_non_null(v);
    assert_true(cJSON_GetArraySize(v) == 1);
    assert_true(cJSON_GetArrayItem(v, 0)->valuedouble > 7.7e99);
    cJSON_Delete(v);
}

static void test_json__invalid_utf8_and_nul_fail(void **state)
{
    (void)state;
    assert_int_equal(PARSE("{\"a\":\"caf\xc3\xa9\"}"), 0);
    assert_int_equal(PARSE("{\"a\":\"\xc3\"}"), -ERR_PARSE);         /* truncated */
    assert_int_equal(PARSE("{\"a\":\"\xc0\xaf\"}"), -ERR_PARSE);     /* overlong */
    assert_int_equal(PARSE("{\"a\":\"\xed\xa0\x80\"}"), -ERR_PARSE); /* surrogate */
    assert_int_equal(PARSE("{\"a\":\"\xff\"}"), -ERR_PARSE);
    assert_int_equal(PARSE("{\"\xfe\":1}"), -ERR_PARSE); /* in a key */
    assert_int_equal(PARSE("{\"a\":\"x\x00y\"}"), -ERR_PARSE);
    assert_int_equal(PARSE("{}\x00"), -ERR_PARSE);
    assert_int_equal(PARSE("\x00{}"), -ERR_PARSE);
    /* An escaped NUL is ordinary JSON text. */
    assert_int_equal(PARSE("{\"a\":\"\\u0041\"}"), 0);
}

static void test_json__accessors_default_on_wrong_type(void **state)
{
    (void)state;
    const char *text = "{\"s\":\"str\",\"n\":42.9,\"neg\":-7.5,\"b\":true,\"huge\":1e300,"
                       "\"two63\":9223372036854775808,\"min\":-9223372036854775808,"
                       "\"null\":null}";
    int err = 1;
    cJSON *o = json_parse_bounded(text, strlen(text), JSON_MAX_DEPTH, &err);
    assert_non_null(o);
    assert_string_equal(json_get_str(o, "s", "d"), "str");
    assert_string_equal(json_get_str(o, "n", "d"), "d");
    assert_string_equal(json_get_str(o, "missing", "d"), "d");
    assert_null(json_get_str(o, "null", NULL));
    assert_int_equal(json_get_i64(o, "n", -1), 42);
    assert_int_equal(json_get_i64(o, "neg", 0), -7);
    assert_int_equal(json_get_i64(o, "s", -1), -1);
    /* Out of int64 range: the default, never an undefined conversion. */
    assert_int_equal(json_get_i64(o, "huge", -1), -1);
    assert_int_equal(json_get_i64(o, "two63", -1), -1);
    assert_true(json_get_i64(o, "min", 0) == INT64_MIN);
    assert_true(json_get_bool(o, "b", false));
    assert_false(json_get_bool(o, "s", false));
    assert_true(json_get_bool(o, "missing", true));
    cJSON_Delete(o);
}

static void test_json__is_int_in_range(void **state)
{
    (void)state;
    cJSON *v = cJSON_CreateNumber(5);
    assert_true(json_is_int_in(v, 0, 10));
    assert_true(json_is_int_in(v, 5, 5));
    assert_false(json_is_int_in(v, 6, 10));
    cJSON_SetNumberValue(v, 5.5);
    assert_false(json_is_int_in(v, 0, 10));
    cJSON_SetNumberValue(v, -1);
    assert_false(json_is_int_in(v, 0, 10));
    /* 2^63 is above INT64_MAX even though (double)INT64_MAX == 2^63. */
    cJSON_SetNumberValue(v, 9223372036854775808.0);
    assert_false(json_is_int_in(v, 0, INT64_MAX));
    cJSON_SetNumberValue(v, 1e300);
    assert_false(json_is_int_in(v, INT64_MIN, INT64_MAX));
    cJSON_SetNumberValue(v, 9007199254740992.0);
    assert_true(json_is_int_in(v, 0, INT64_MAX));
    assert_false(json_is_int_in(v, 0, 9007199254740991));
    cJSON_Delete(v);
    cJSON *s = cJSON_CreateString("5");
    assert_false(json_is_int_in(s, 0, 10));
    cJSON_Delete(s);
}

static void test_json__builders(void **state)
{
    (void)state;
    cJSON *o = cJSON_CreateObject();
    assert_non_null(json_add_u64(o, "seq", 1042));
    assert_non_null(json_add_time(o, "at", 1790000000123));
    char *s = json_print(o);
    assert_string_equal(s, "{\"seq\":1042,\"at\":\"2026-09-21T14:13:20.123Z\"}");
    free(s);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json__depth_limit_64_passes_65_fails),
        cmocka_unit_test(test_json__brackets_in_strings_do_not_count),
        cmocka_unit_test(test_json__trailing_garbage_fails),
        cmocka_unit_test(test_json__malformed_and_empty_fail),
        cmocka_unit_test(test_json__long_numbers_parse_whole),
        cmocka_unit_test(test_json__invalid_utf8_and_nul_fail),
        cmocka_unit_test(test_json__accessors_default_on_wrong_type),
        cmocka_unit_test(test_json__is_int_in_range),
        cmocka_unit_test(test_json__builders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
