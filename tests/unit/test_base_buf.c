/* test_base_buf — the capped buffer: appends and formatting keep the data
 * NUL-terminated, the cap is exact (max bytes fit, max+1 do not) and a
 * refused append leaves the contents untouched; consume, reset and take
 * hand over or drop data as documented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"

static void test_buf__append_keeps_nul_terminated(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_append_str(&b, "hello"), 0);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "hello");
    assert_int_equal(buf_append(&b, ", world", 7), 0);
    assert_string_equal(b.data, "hello, world");
    assert_int_equal(buf_append(&b, "ignored", 0), 0);
    assert_int_equal(b.len, 12);
    /* Binary data with NULs counts every byte. */
    assert_int_equal(buf_append(&b, "\0x\0", 3), 0);
    assert_int_equal(b.len, 15);
    assert_memory_equal(b.data + 12, "\0x\0", 4); /* and the terminator */
    buf_deinit(&b);
    assert_null(b.data);
    buf_deinit(NULL);
}

static void test_buf__growth_is_correct(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(b.len, 1000000);
    assert_true(b.cap > b.len);
    for (size_t i = 0; i < b.len; i += 99991)
        assert_int_equal(b.data[i], '0' + (char)(i % 10));
    assert_int_equal(b.data[b.len], '\0');
    buf_deinit(&b);
}

static void test_buf__cap_is_exact_and_refusal_changes_nothing(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append(&b, "12345", 5), 0);
    assert_int_equal(buf_append(&b, "678901", 6), -ERR_TOO_LARGE);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_int_equal(buf_append(&b, "67890", 5), 0); /* exactly max */
    assert_string_equal(b.data, "1234567890");
    assert_int_equal(buf_append(&b, "x", 1), -ERR_TOO_LARGE);
    assert_int_equal(buf_printf(&b, "%d", 7), -ERR_TOO_LARGE);
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_string_equal(b.data, "1234567890");
    /* Consuming makes room again. */
    buf_consume(&b, 4);
    assert_string_equal(b.data, "567890");
    assert_int_equal(buf_printf(&b, "%s", "abcd"), 0);
    assert_string_equal(b.data, "567890abcd");
    assert_int_equal(buf_printf(&b, "%s", "e"), -ERR_TOO_LARGE);
    assert_string_equal(b.data, "567890abcd");
    buf_deinit(&b);

    /* A huge length must not wrap the size arithmetic. */
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "ab"), 0);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX), -ERR_TOO_LARGE);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX - 2), -ERR_TOO_LARGE);
    assert_string_equal(b.data, "ab");
    buf_deinit(&b);
}

static void test_buf__printf_formats(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_printf(&b, "%s", ""), 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(buf_printf(&b, "%d-%s-%05.1f", 42, "x", 3.14159), 0);
    assert_string_equal(b.data, "42-x-003.1");
    /* Long output through the measuring pass. */
    char big[3000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 10 + 2 + sizeof(big) - 1);
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    buf_deinit(&b);
}

static void test_buf__consume_reset_take(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    buf_consume(&b, 5); /* on an empty buffer: nothing happens */
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_append_str(&b, "line1\nline2\n"), 0);
    buf_consume(&b, 6);
    assert_string_equal(b.data, "line2\n");
    buf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(buf_append_str(&b, "again"), 0);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");

    assert_int_equal(buf_append_str(&b, "mine"), 0);
    char *s = buf_take(&b);
    assert_string_equal(s, "mine");
    free(s);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    s = buf_take(&b); /* never NULL, even when empty */
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    /* The buffer is reusable after take, cap included. */
    assert_int_equal(buf_append_str(&b, "reuse"), 0);
    assert_string_equal(b.data, "reuse");
    buf_deinit(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf__append_keeps_nul_terminated),
        cmocka_unit_test(test_buf__growth_is_correct),
        cmocka_unit_test(test_buf__cap_is_exact_and_refusal_changes_nothing),
        cmocka_unit_test(test_buf__printf_formats),
        cmocka_unit_test(test_buf__consume_reset_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
