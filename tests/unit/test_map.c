/* Unit tests for base/map, checked against a plain array under random
 * insert/delete churn (backward-shift deletion is the subtle part). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/map.h"

static void test_map__basic_put_get_del(void **state)
{
    (void)state;
    struct map m;
    map_init(&m);
    int a = 1, b = 2;
    assert_null(map_get(&m, "x"));
    assert_null(map_del(&m, "x"));
    assert_null(map_put(&m, "x", &a));
    assert_ptr_equal(map_get(&m, "x"), &a);
    assert_ptr_equal(map_put(&m, "x", &b), &a);
    assert_int_equal(map_len(&m), 1);
    assert_ptr_equal(map_del(&m, "x"), &b);
    assert_int_equal(map_len(&m), 0);
    assert_null(map_get(&m, "x"));
    map_deinit(&m);
    map_deinit(NULL);
}

static void test_map__random_churn_matches_oracle(void **state)
{
    (void)state;
    enum { N = 2000 };
    static char keys[N][12];
    static int present[N];
    struct map m;
    map_init(&m);
    for (int i = 0; i < N; i++)
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
    uint64_t r = 88172645463325252ULL;
    size_t live = 0;
    for (int step = 0; step < 200000; step++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        int k = (int)(r % N);
        if ((r >> 32) & 1) {
            void *prev = map_put(&m, keys[k], &present[k]);
            assert_true(present[k] ? prev == &present[k] : prev == NULL);
            live += !present[k];
            present[k] = 1;
        } else {
            void *prev = map_del(&m, keys[k]);
            assert_true(present[k] ? prev == &present[k] : prev == NULL);
            live -= present[k];
            present[k] = 0;
        }
        if (step % 10000 == 0) {
            for (int i = 0; i < N; i++)
                assert_true((map_get(&m, keys[i]) != NULL) == (present[i] != 0));
        }
    }
    assert_int_equal(map_len(&m), live);
    size_t it = 0, seen = 0;
    const char *key;
    void *val;
    while (map_next(&m, &it, &key, &val)) {
        int i = (int)strtol(key + 1, NULL, 10);
        assert_ptr_equal(val, &present[i]);
        assert_true(present[i]);
        seen++;
    }
    assert_int_equal(seen, live);
    map_deinit(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map__basic_put_get_del),
        cmocka_unit_test(test_map__random_churn_matches_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
