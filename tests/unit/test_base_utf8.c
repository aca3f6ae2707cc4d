/* test_base_utf8 — utf8_valid() against the classic malformed sequences
 * (overlongs, surrogates, code points above U+10FFFF, truncations, stray
 * continuation bytes) and, exhaustively for every 1-, 2- and 3-byte input
 * and a large sample of 4-byte ones, against an independent reference
 * decoder written from the Unicode definition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/utf8.h"

#define V(s) assert_true(utf8_valid(s, sizeof(s) - 1))
#define X(s) assert_false(utf8_valid(s, sizeof(s) - 1))

static void test_utf8__valid_sequences(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid(NULL, 0));
    V("plain ascii");
    V("\x00\x01\x7f");     /* NUL is allowed (callers that forbid it check) */
    V("\xc2\x80");         /* U+0080, smallest 2-byte */
    V("\xdf\xbf");         /* U+07FF */
    V("\xe0\xa0\x80");     /* U+0800, smallest 3-byte */
    V("\xed\x9f\xbf");     /* U+D7FF, just below the surrogates */
    V("\xee\x80\x80");     /* U+E000, just above them */
    V("\xef\xbf\xbf");     /* U+FFFF */
    V("\xef\xbb\xbf");     /* BOM as a character */
    V("\xf0\x90\x80\x80"); /* U+10000, smallest 4-byte */
    V("\xf4\x8f\xbf\xbf"); /* U+10FFFF, the last code point */
    V("caf\xc3\xa9 \xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x99\x82");
}

static void test_utf8__overlongs_rejected(void **state)
{
    (void)state;
    X("\xc0\x80"); /* NUL as 2 bytes (Java's "modified UTF-8") */
    X("\xc0\xaf"); /* '/' as 2 bytes */
    X("\xc1\xbf");
    X("\xe0\x80\x80");
    X("\xe0\x80\xaf");
    X("\xe0\x9f\xbf"); /* U+07FF as 3 bytes */
    X("\xf0\x80\x80\x80");
    X("\xf0\x80\x80\xaf");
    X("\xf0\x8f\xbf\xbf"); /* U+FFFF as 4 bytes */
    X("\xf8\x80\x80\x80\xaf");
    X("\xfc\x80\x80\x80\x80\xaf");
}

static void test_utf8__surrogates_rejected(void **state)
{
    (void)state;
    X("\xed\xa0\x80");             /* U+D800 */
    X("\xed\xad\xbf");             /* U+DB7F */
    X("\xed\xae\x80");             /* U+DB80 */
    X("\xed\xaf\xbf");             /* U+DBFF */
    X("\xed\xb0\x80");             /* U+DC00 */
    X("\xed\xbf\xbf");             /* U+DFFF */
    X("\xed\xa0\x80\xed\xb0\x80"); /* a CESU-8 surrogate pair */
}

static void test_utf8__above_max_rejected(void **state)
{
    (void)state;
    X("\xf4\x90\x80\x80"); /* U+110000 */
    X("\xf4\xbf\xbf\xbf");
    X("\xf5\x80\x80\x80");
    X("\xf7\xbf\xbf\xbf"); /* U+1FFFFF */
    X("\xf8\x88\x80\x80\x80");
    X("\xfb\xbf\xbf\xbf\xbf");
    X("\xfc\x84\x80\x80\x80\x80");
    X("\xfd\xbf\xbf\xbf\xbf\xbf");
    X("\xfe");
    X("\xff");
    X("\xfe\xfe\xff\xff");
}

static void test_utf8__truncated_and_stray_rejected(void **state)
{
    (void)state;
    X("\xc2");
    X("\xe0\xa0");
    X("\xe1");
    X("\xf0\x90\x80");
    X("\xf0\x90");
    X("\xf4");
    X("abc\xe6\xbc"); /* cut at the end of otherwise fine text */
    X("\x80");        /* lone continuation bytes */
    X("\xbf");
    X("a\x80z");
    X("\xc2\x41"); /* continuation replaced by ASCII */
    X("\xe1\x80\x41");
    X("\xf1\x80\x80\x41");
    X("\xc2\xc2\x80"); /* lead byte where a continuation belongs */
    X("\xe1\x80\xe1\x80\x80");
    /* Only n bytes count: a valid sequence cut by n is invalid, and bytes
     * past n are not looked at. */
    assert_false(utf8_valid("\xe6\xbc\xa2", 2));
    assert_true(utf8_valid("ok\xff", 2));
}

/* Reference: decode one sequence at p (n bytes left) the long way. Returns
 * its length, or 0 if ill-formed. */
static size_t ref_decode(const uint8_t *p, size_t n)
{
    size_t len;
    uint32_t cp, min;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = p[0] & 0x1f;
        min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = p[0] & 0x0f;
        min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = p[0] & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static bool ref_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = ref_decode(p + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

static void test_utf8__exhaustive_against_reference(void **state)
{
    (void)state;
    uint8_t b[4];
    size_t mismatches = 0;
    for (uint32_t x = 0; x < 0x100; x++) {
        b[0] = (uint8_t)x;
        mismatches += utf8_valid(b, 1) != ref_valid(b, 1);
    }
    for (uint32_t x = 0; x < 0x10000; x++) {
        b[0] = (uint8_t)(x >> 8);
        b[1] = (uint8_t)x;
        mismatches += utf8_valid(b, 2) != ref_valid(b, 2);
    }
    for (uint32_t x = 0; x < 0x1000000; x++) {
        b[0] = (uint8_t)(x >> 16);
        b[1] = (uint8_t)(x >> 8);
        b[2] = (uint8_t)x;
        mismatches += utf8_valid(b, 3) != ref_valid(b, 3);
    }
    /* 4 bytes: every lead byte from 0xf0 with every pair of second and
     * third bytes, and a fourth byte from a spread of interesting values. */
    static const uint8_t last[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0xa0, 0xbf, 0xc0, 0xff};
    for (uint32_t x = 0; x < 0x10000; x++) {
        for (uint32_t lead = 0xf0; lead <= 0xff; lead++) {
            for (size_t k = 0; k < sizeof(last); k++) {
                b[0] = (uint8_t)lead;
                b[1] = (uint8_t)(x >> 8);
                b[2] = (uint8_t)x;
                b[3] = last[k];
                mismatches += utf8_valid(b, 4) != ref_valid(b, 4);
            }
        }
    }
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8__valid_sequences),
        cmocka_unit_test(test_utf8__overlongs_rejected),
        cmocka_unit_test(test_utf8__surrogates_rejected),
        cmocka_unit_test(test_utf8__above_max_rejected),
        cmocka_unit_test(test_utf8__truncated_and_stray_rejected),
        cmocka_unit_test(test_utf8__exhaustive_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
