/* test_base_str — str_escape_controls(): what a terminal would act on
 * (C0, DEL, C1, bytes outside well-formed UTF-8) is written out, and
 * everything else, printable UTF-8 included, comes through unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/str.h"

static void expect_escape(const char *in, const char *want)
{
    char *got = str_escape_controls(in);
    assert_string_equal(got, want);
    free(got);
}

static void test_str__escape_controls_writes_out_what_a_terminal_acts_on(void **state)
{
    (void)state;
    /* a forged table row: colour, cursor movement, a new line */
    expect_escape("a\x1b[31mred\x1b[0m\nb.c  alice", "a\\x1b[31mred\\x1b[0m\\nb.c  alice");
    expect_escape("\r\t\x01\x07\x08\x7f", "\\r\\t\\x01\\x07\\x08\\x7f");
    /* C1 in UTF-8: U+009B is CSI on terminals that honour C1 */
    expect_escape("x\xc2\x9b"
                  "2Jy\xc2\x80\xc2\x9f",
                  "x\\u009b2Jy\\u0080\\u009f");
    /* bytes that are not UTF-8: a raw 0x9b is CSI in 8-bit mode */
    expect_escape("\x9b"
                  "2J\xff\xc0\xaf\xe2\x82",
                  "\\x9b2J\\xff\\xc0\\xaf\\xe2\\x82");
    expect_escape(NULL, "");
    expect_escape("", "");
}

static void test_str__escape_controls_keeps_printable_text(void **state)
{
    (void)state;
    const char *same[] = {
        "src/app/[id]/page.tsx", "plain ASCII ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
        "caf\xc3\xa9 \xc2\xa0nbsp \xc2\xa1",          /* U+00A0, U+00A1: just past C1 */
        "\xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad", /* euro, emoji, CJK */
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        expect_escape(same[i], same[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str__escape_controls_writes_out_what_a_terminal_acts_on),
        cmocka_unit_test(test_str__escape_controls_keeps_printable_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
