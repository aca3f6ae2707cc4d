/* Unit tests for sse's encoding: event frames (multi-line data, optional
 * fields, refusals, the cap), comments and event-id parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/sse.h"

static void test_sse__event_frame(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(sse_encode_event(&b, "42", "file:locked", "{\"a\":1}", 7), 0);
    assert_string_equal(b.data, "id: 42\nevent: file:locked\ndata: {\"a\":1}\n\n");
    buf_reset(&b);
    assert_int_equal(sse_encode_event(&b, NULL, NULL, "x", 1), 0);
    assert_string_equal(b.data, "data: x\n\n");
    buf_deinit(&b);
}

static void test_sse__multiline_data(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    const char *d = "a\nb\r\nc\rd";
    assert_int_equal(sse_encode_event(&b, NULL, "t:x", d, strlen(d)), 0);
    assert_string_equal(b.data, "event: t:x\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    buf_reset(&b);
    assert_int_equal(sse_encode_event(&b, NULL, NULL, "a\n", 2), 0);
    assert_string_equal(b.data, "data: a\ndata: \n\n");
    buf_reset(&b);
    assert_int_equal(sse_encode_event(&b, NULL, NULL, "", 0), 0);
    assert_string_equal(b.data, "data: \n\n");
    buf_deinit(&b);
}

static void test_sse__refusals_leave_the_buffer_unchanged(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 32);
    assert_int_equal(sse_encode_comment(&b, "hi"), 0);
    assert_int_equal(sse_encode_event(&b, "1\n2", NULL, "x", 1), -ERR_INVALID);
    assert_int_equal(sse_encode_event(&b, NULL, "a\rb", "x", 1), -ERR_INVALID);
    assert_int_equal(sse_encode_event(&b, NULL, NULL, "x\0y", 3), -ERR_INVALID);
    assert_int_equal(sse_encode_event(&b, "1", "t", "0123456789012345678901234567890", 31),
                     -ERR_TOO_LARGE);
    assert_string_equal(b.data, ": hi\n\n");
    assert_int_equal(b.len, 6);
    assert_int_equal(sse_encode_comment(&b, "x\ny"), -ERR_INVALID);
    buf_deinit(&b);
}

static void test_sse__parse_id(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(sse_parse_id("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sse_parse_id(" 1042 ", &v), 0);
    assert_int_equal(v, 1042);
    assert_int_equal(sse_parse_id("18446744073709551615", &v), 0);
    assert_true(v == UINT64_MAX);
    static const char *const bad[] = {"",
                                      " ",
                                      "-1",
                                      "+1",
                                      "1e3",
                                      "0x10",
                                      "12a",
                                      "1 2",
                                      "18446744073709551616",
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 5;
        if (sse_parse_id(bad[i], &v) != -ERR_INVALID)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(v, 5);
    }
    assert_int_equal(sse_parse_id(NULL, &v), -ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse__event_frame),
        cmocka_unit_test(test_sse__multiline_data),
        cmocka_unit_test(test_sse__refusals_leave_the_buffer_unchanged),
        cmocka_unit_test(test_sse__parse_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
