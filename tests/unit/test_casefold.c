/* Unit tests for casefold: the probe on this machine's temp directory, and
 * the one-time decision through the memory store — the first hub's probe
 * is recorded and a later hub with the other answer adopts it. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/casefold.h"
#include "store/store.h"

static void test_casefold__probe_agrees_with_the_file_system(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/coordhub-casefold.XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    bool folds = true;
    assert_int_equal(casefold_probe(dir, &folds), 0);
    /* Ask the file system the same question another way: a file named
     * in upper case, looked up in lower case. */
    char upper[PATH_MAX], lower[PATH_MAX];
    snprintf(upper, sizeof(upper), "%s/PROBE-TWO", dir);
    snprintf(lower, sizeof(lower), "%s/probe-two", dir);
    FILE *fp = fopen(upper, "w");
    assert_non_null(fp);
    fclose(fp);
    struct stat st;
    assert_int_equal(folds, stat(lower, &st) == 0);
    unlink(upper);
    assert_int_equal(rmdir(dir), 0); /* the probe left nothing behind */
    assert_int_not_equal(casefold_probe("/nonexistent/coordhub-dir", &folds), 0);
}

static void test_casefold__first_hub_decides(void **state)
{
    (void)state;
    struct store *s = NULL;
    char *err = NULL;
    assert_int_equal(store_open("memory:", NULL, &s, &err), 0);
    bool fold = false;
    char *note = NULL;
    /* A macOS hub comes first: its file system folds. */
    assert_int_equal(casefold_decide(s, true, &fold, &note), 0);
    assert_true(fold);
    assert_null(note);
    /* A Linux hub on the same store adopts it and says so. */
    assert_int_equal(casefold_decide(s, false, &fold, &note), 0);
    assert_true(fold);
    assert_non_null(note);
    assert_non_null(strstr(note, "keys fold"));
    free(note);
    store_close(s);
    /* And the other way round. */
    assert_int_equal(store_open("memory:", NULL, &s, &err), 0);
    assert_int_equal(casefold_decide(s, false, &fold, &note), 0);
    assert_false(fold);
    assert_int_equal(casefold_decide(s, true, &fold, &note), 0);
    assert_false(fold);
    assert_non_null(strstr(note, "keep case"));
    free(note);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_casefold__probe_agrees_with_the_file_system),
        cmocka_unit_test(test_casefold__first_hub_decides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
