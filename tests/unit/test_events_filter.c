/* Unit tests for events_filter: parsing ?types= lists (spaces, empty
 * items, bounds, alphabet, all-or-nothing) and matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/events_filter.h"

static void test_events_filter__parse_and_match(void **state)
{
    (void)state;
    struct events_filter f;
    events_filter_init(&f);
    assert_true(events_filter_match(&f, "file:locked")); /* empty: everything */
    const char *why;
    assert_int_equal(events_filter_parse(&f, " file:* , task:completed,,", &why), 0);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.patterns[0], "file:*");
    assert_string_equal(f.patterns[1], "task:completed");
    assert_true(events_filter_match(&f, "file:locked"));
    assert_true(events_filter_match(&f, "file:unlocked"));
    assert_true(events_filter_match(&f, "task:completed"));
    assert_false(events_filter_match(&f, "task:claimed"));
    assert_false(events_filter_match(&f, "agent:registered"));
    /* A second parameter adds to the list. */
    assert_int_equal(events_filter_parse(&f, "agent:*", &why), 0);
    assert_int_equal(f.n, 3);
    assert_true(events_filter_match(&f, "agent:left"));
    events_filter_deinit(&f);
    assert_int_equal(f.n, 0);
    events_filter_init(&f);
    assert_int_equal(events_filter_parse(&f, "*", &why), 0);
    assert_true(events_filter_match(&f, "anything:at_all"));
    events_filter_deinit(&f);
}

static void test_events_filter__refusals_change_nothing(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        " , ,",
        "File:*",
        "file:locked,bad pattern",
        "file:locked,\"x\"",
        "a:b,c:\xc3\xa9",
        "x:0123456789012345678901234567890123456789012345678901234567890123456789",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct events_filter f;
        events_filter_init(&f);
        const char *why = NULL;
        assert_int_equal(events_filter_parse(&f, "task:*", &why), 0);
        if (events_filter_parse(&f, bad[i], &why) != -ERR_INVALID)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(why);
        assert_int_equal(f.n, 1); /* nothing of the bad list was added */
        events_filter_deinit(&f);
    }
}

static void test_events_filter__at_most_32_patterns(void **state)
{
    (void)state;
    char csv[32 * 8 + 16] = "";
    size_t n = 0;
    for (int i = 0; i < 32; i++)
        n += (size_t)snprintf(csv + n, sizeof(csv) - n, "%sa:%d", i ? "," : "", i);
    struct events_filter f;
    events_filter_init(&f);
    const char *why;
    assert_int_equal(events_filter_parse(&f, csv, &why), 0);
    assert_int_equal(f.n, 32);
    assert_int_equal(events_filter_parse(&f, "b:1", &why), -ERR_INVALID);
    assert_int_equal(f.n, 32);
    events_filter_deinit(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_filter__parse_and_match),
        cmocka_unit_test(test_events_filter__refusals_change_nothing),
        cmocka_unit_test(test_events_filter__at_most_32_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
