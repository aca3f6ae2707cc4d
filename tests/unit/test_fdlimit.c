/* Unit tests for fdlimit: caps that fit are kept; caps that do not are
 * shared out fairly (a small share keeps its want), never below their
 * minimum; the soft limit is raised to the hard one, capped, never
 * lowered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "net/fdlimit.h"

static void test_fdlimit__caps_that_fit_are_kept(void **state)
{
    (void)state;
    struct fdlimit_share s[2] = {{.what = "socket", .want = 4096, .cost = 3, .min = 8},
                                 {.what = "http", .want = 1024, .cost = 1, .min = 8}};
    assert_false(fdlimit_fit(65536, 128, s, 2));
    assert_int_equal(s[0].got, 4096);
    assert_int_equal(s[1].got, 1024);
    /* Exactly full still fits. */
    assert_false(fdlimit_fit(4096 * 3 + 1024 + 128, 128, s, 2));
    assert_int_equal(s[0].got, 4096);
}

static void test_fdlimit__shared_out_fairly(void **state)
{
    (void)state;
    /* 1024 - 128 = 896 descriptors: both want more than 448, so each gets
     * an equal part of the descriptors: 448 HTTP connections, 149
     * sessions of 3. */
    struct fdlimit_share s[2] = {{.what = "socket", .want = 4096, .cost = 3, .min = 8},
                                 {.what = "http", .want = 1024, .cost = 1, .min = 8}};
    assert_true(fdlimit_fit(1024, 128, s, 2));
    assert_int_equal(s[0].got, 149);
    assert_int_equal(s[1].got, 448);
    assert_true(s[0].got * 3 + s[1].got <= 1024 - 128);
    /* A share wanting less than its part keeps its want; the other takes
     * the rest. */
    s[1].want = 100;
    assert_true(fdlimit_fit(1024, 128, s, 2));
    assert_int_equal(s[1].got, 100);
    assert_int_equal(s[0].got, (896 - 100) / 3);
    /* Three shares, one settled in the second round: 900 / 3 = 300 each;
     * "a" (250) settles, leaving 650 for two: 325 each; "b" wants 320
     * and settles in the next round; "c" takes 330. */
    struct fdlimit_share t[3] = {{.what = "a", .want = 250, .cost = 1},
                                 {.what = "b", .want = 320, .cost = 1},
                                 {.what = "c", .want = 5000, .cost = 1}};
    assert_true(fdlimit_fit(1000, 100, t, 3));
    assert_int_equal(t[0].got, 250);
    assert_int_equal(t[1].got, 320);
    assert_int_equal(t[2].got, 330);
}

static void test_fdlimit__minimum_holds(void **state)
{
    (void)state;
    struct fdlimit_share s[2] = {{.what = "socket", .want = 4096, .cost = 3, .min = 16},
                                 {.what = "http", .want = 1024, .cost = 1, .min = 16}};
    /* Less than the reserve: nothing to share, the minimums hold. */
    assert_true(fdlimit_fit(64, 128, s, 2));
    assert_int_equal(s[0].got, 16);
    assert_int_equal(s[1].got, 16);
    /* cost 0 counts as 1. */
    struct fdlimit_share z = {.what = "z", .want = 50, .cost = 0};
    assert_true(fdlimit_fit(40, 0, &z, 1));
    assert_int_equal(z.got, 40);
}

static void test_fdlimit__raise(void **state)
{
    (void)state;
    struct rlimit saved;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 200)
        skip();
    struct rlimit low = saved;
    low.rlim_cur = 100;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    size_t before = 0, after = 0;
    assert_int_equal(fdlimit_raise(150, &before, &after), 0);
    assert_int_equal(before, 100);
    assert_int_equal(after, 150);
    struct rlimit now;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &now), 0);
    assert_int_equal(now.rlim_cur, 150);
    /* Never lowered: a ceiling below the soft limit leaves it. */
    assert_int_equal(fdlimit_raise(120, &before, &after), 0);
    assert_int_equal(before, 150);
    assert_int_equal(after, 150);
    /* The hard limit bounds the raise. */
    low.rlim_cur = 100;
    low.rlim_max = 130;
    if (setrlimit(RLIMIT_NOFILE, &low) == 0) {
        assert_int_equal(fdlimit_raise(65536, &before, &after), 0);
        assert_int_equal(after, 130);
    }
    /* Raising the hard limit back needs privilege; this process ends
     * soon either way. */
    (void)setrlimit(RLIMIT_NOFILE, &saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fdlimit__caps_that_fit_are_kept),
        cmocka_unit_test(test_fdlimit__shared_out_fairly),
        cmocka_unit_test(test_fdlimit__minimum_holds),
        cmocka_unit_test(test_fdlimit__raise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
