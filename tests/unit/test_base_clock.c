/* test_base_clock — the ISO-8601 form of event timestamps: known values,
 * format/parse round trips across the whole 0000..9999 range, strict
 * parsing (no normalised impossible dates, no sscanf leniency) and the
 * clamping of values the 4-digit-year form cannot show. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <stdio.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"

static void test_clock__format_known_values(void **state)
{
    (void)state;
    char out[40];
    clock_format_iso(0, out, sizeof(out));
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    clock_format_iso(1790000000123, out, sizeof(out));
    assert_string_equal(out, "2026-09-21T14:13:20.123Z");
    clock_format_iso(-1, out, sizeof(out));
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    clock_format_iso(-1000, out, sizeof(out));
    assert_string_equal(out, "1969-12-31T23:59:59.000Z");
    clock_format_iso(951782400000, out, sizeof(out)); /* leap day */
    assert_string_equal(out, "2000-02-29T00:00:00.000Z");
    /* A short buffer is truncated, never overrun. */
    char small[8];
    memset(small, 'x', sizeof(small));
    clock_format_iso(0, small, sizeof(small));
    assert_string_equal(small, "1970-01");
}

/* The hand-written formatter agrees with gmtime_r on a spread of instants
 * across the whole range (before and after 1970, leap days, centuries). */
static void test_clock__format_matches_gmtime(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ULL; /* xorshift64, fixed seed */
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t span = 253402300799999LL + 62167219200000LL;
        int64_t ms = (int64_t)(x % (uint64_t)span) - 62167219200000LL;
        time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        int frac = (int)(ms - (int64_t)secs * 1000);
        struct tm tm;
        assert_non_null(gmtime_r(&secs, &tm));
        char want[96], got[40];
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
        clock_format_iso(ms, got, sizeof(got));
        if (strcmp(want, got) != 0)
            fail_msg("ms %lld: want %s got %s", (long long)ms, want, got);
    }
}

static void test_clock__format_clamps_out_of_range(void **state)
{
    (void)state;
    char out[40];
    clock_format_iso(INT64_MAX, out, sizeof(out));
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    clock_format_iso(INT64_MIN, out, sizeof(out));
    assert_string_equal(out, "0000-01-01T00:00:00.000Z");
    clock_format_iso(253402300800000, out, sizeof(out)); /* 10000-01-01 */
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
}

static void test_clock__round_trip(void **state)
{
    (void)state;
    char out[40];
    int64_t back = 0;
    static const int64_t fixed[] = {
        0,
        1,
        999,
        1000,
        -1,
        -999,
        -1001,
        1790000000123,
        951782400000,
        4107542400000,
        -62167219200000, /* 0000-01-01 */
        253402300799999, /* 9999-12-31T23:59:59.999 */
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++) {
        clock_format_iso(fixed[i], out, sizeof(out));
        assert_int_equal(clock_parse_iso(out, &back), 0);
        assert_true(back == fixed[i]);
    }
    /* A deterministic sweep across the whole range. */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = -62167219200000 + (int64_t)(x % (253402300799999ULL + 62167219200000ULL));
        clock_format_iso(ms, out, sizeof(out));
        assert_int_equal(strlen(out), 24);
        assert_int_equal(clock_parse_iso(out, &back), 0);
        if (back != ms)
            fail_msg("%s parsed back as %lld, not %lld", out, (long long)back, (long long)ms);
    }
}

static void test_clock__parse_forms(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(clock_parse_iso("2026-09-21T14:13:20Z", &ms), 0);
    assert_true(ms == 1790000000000);
    assert_int_equal(clock_parse_iso("2026-09-21T14:13:20.5Z", &ms), 0);
    assert_true(ms == 1790000000500);
    assert_int_equal(clock_parse_iso("2026-09-21T14:13:20.12Z", &ms), 0);
    assert_true(ms == 1790000000120);
    assert_int_equal(clock_parse_iso("2026-09-21T14:13:20.123456789Z", &ms), 0);
    assert_true(ms == 1790000000123); /* truncated to ms */
    assert_int_equal(clock_parse_iso("2024-02-29T00:00:00Z", &ms), 0);
    assert_int_equal(clock_parse_iso("2000-02-29T00:00:00Z", &ms), 0);
}

static void test_clock__parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026-09-21",
        "2026-09-21T14:13:20",       /* no zone */
        "2026-09-21T14:13:20.123",   /* no zone */
        "2026-09-21T14:13:20+00:00", /* offsets are not produced, not accepted */
        "2026-09-21T14:13:20z",      /* lower-case */
        "2026-09-21 14:13:20Z",      /* space separator */
        "2026-09-21T14:13:20.Z",     /* dot without digits */
        "2026-09-21T14:13:20.123Zx", /* trailing text */
        "2026-09-21T14:13:20ZZ",
        " 2026-09-21T14:13:20Z", /* sscanf would skip the blank */
        "+2026-09-21T14:13:20Z",
        "2026-9-21T14:13:20Z", /* single-digit fields */
        "2026-09-1T14:13:20Z",
        "2026-09-21T4:13:20Z",
        "2026-+9-21T14:13:20Z", /* sign inside a field */
        "2026-09-21T14:-3:20Z",
        "2026- 9-21T14:13:20Z",
        "20260-09-21T14:13:20Z", /* 5-digit year */
        "2026-00-21T14:13:20Z",  /* month 0 */
        "2026-13-01T00:00:00Z",  /* month 13 */
        "2026-01-00T00:00:00Z",  /* day 0 */
        "2026-01-32T00:00:00Z",
        "2026-04-31T00:00:00Z", /* April has 30 days */
        "2026-02-29T00:00:00Z", /* not a leap year */
        "2100-02-29T00:00:00Z", /* century, not a leap year */
        "2026-09-21T24:00:00Z",
        "2026-09-21T23:60:00Z",
        "2026-09-21T23:59:60Z", /* leap seconds are not produced */
        "2026-13-45T99:99:99Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        int64_t ms = 42;
        if (clock_parse_iso(bad[i], &ms) != -ERR_INVALID)
            fail_msg("accepted \"%s\" as %lld", bad[i], (long long)ms);
        assert_true(ms == 42); /* untouched on error */
    }
}

static void test_clock__clocks_are_sane(void **state)
{
    (void)state;
    int64_t wall = clock_wall_ms();
    assert_true(wall > 1577836800000); /* after 2020-01-01 */
    assert_true(wall < 4102444800000); /* before 2100-01-01 */
    int64_t prev = clock_mono_ns();
    for (int i = 0; i < 10000; i++) {
        int64_t now = clock_mono_ns();
        assert_true(now >= prev);
        prev = now;
    }
}

static void test_clock__backoff_doubles_to_its_cap(void **state)
{
    (void)state;
    int next = 100;
    const int want[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000};
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
        assert_int_equal(clock_backoff_next(&next, 5000), want[k]);
    assert_int_equal(next, 5000);
    next = 2500; /* exactly half the cap: doubles to the cap */
    assert_int_equal(clock_backoff_next(&next, 5000), 2500);
    assert_int_equal(next, 5000);
    next = 0x40000000; /* no overflow past the cap */
    assert_int_equal(clock_backoff_next(&next, 5000), 0x40000000);
    assert_int_equal(next, 5000);
}

static void test_clock__timeval_of_ms(void **state)
{
    (void)state;
    struct timeval tv = clock_timeval_ms(2345);
    assert_int_equal(tv.tv_sec, 2);
    assert_int_equal(tv.tv_usec, 345000);
    tv = clock_timeval_ms(0);
    assert_int_equal(tv.tv_sec, 0);
    assert_int_equal(tv.tv_usec, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock__format_known_values),
        cmocka_unit_test(test_clock__format_matches_gmtime),
        cmocka_unit_test(test_clock__format_clamps_out_of_range),
        cmocka_unit_test(test_clock__round_trip),
        cmocka_unit_test(test_clock__parse_forms),
        cmocka_unit_test(test_clock__parse_rejects),
        cmocka_unit_test(test_clock__clocks_are_sane),
        cmocka_unit_test(test_clock__backoff_doubles_to_its_cap),
        cmocka_unit_test(test_clock__timeval_of_ms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
