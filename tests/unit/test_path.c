/* Unit tests for core/path: file keys and pattern keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/path.h"

#define ROOT "/home/u/shop"

static void expect_key(const char *root, const char *arg, const char *want)
{
    char *out = NULL, *msg = NULL;
    int rc = path_normalize(root, arg, strlen(arg), &out, &msg);
    if (rc != 0)
        fail_msg("'%s': unexpected error %s", arg, msg);
    if (strcmp(out, want) != 0)
        fail_msg("'%s': got '%s', want '%s'", arg, out, want);
    free(out);
}

static void expect_error(const char *root, const char *arg, size_t len, const char *needle)
{
    char *out = NULL, *msg = NULL;
    int rc = path_normalize(root, arg, len, &out, &msg);
    if (rc != -ERR_INVALID)
        fail_msg("'%s': expected -ERR_INVALID, got %d (%s)", arg, rc, out ? out : "");
    assert_null(out);
    assert_non_null(msg);
    if (!strstr(msg, needle))
        fail_msg("'%s': message '%s' lacks '%s'", arg, msg, needle);
    free(msg);
}

static void test_path__normalises_relative(void **state)
{
    (void)state;
    expect_key(ROOT, "src/main.c", "src/main.c");
    expect_key(ROOT, "./src/main.c", "src/main.c");
    expect_key(ROOT, "src//main.c", "src/main.c");
    expect_key(ROOT, "src/./lib/../main.c", "src/main.c");
    expect_key(ROOT, "src/", "src");
    expect_key(ROOT, "a/b/c/../../d", "a/d");
    expect_key(ROOT, "app/[id]/page.tsx", "app/[id]/page.tsx");
    expect_key(ROOT, "weird\\name*?.txt", "weird\\name*?.txt");
    expect_key(ROOT, "..foo/.bar", "..foo/.bar");
    expect_key(NULL, "x/y", "x/y");
}

static void test_path__absolute_under_root_made_relative(void **state)
{
    (void)state;
    expect_key(ROOT, "/home/u/shop/src/api.rs", "src/api.rs");
    expect_key(ROOT, "/home/u/shop//src/../src/api.rs", "src/api.rs");
    expect_key(ROOT "/", "/home/u/shop/a", "a");
    expect_key("/home/u/./shop", "/home/u/shop/a", "a");
    expect_key("/", "/etc/passwd", "etc/passwd");
}

static void test_path__rejects_escape_and_outside(void **state)
{
    (void)state;
    expect_error(ROOT, "../secret", 9, "escapes the workspace root");
    expect_error(ROOT, "a/../../b", 9, "escapes");
    expect_error(ROOT, "/etc/passwd", 11, "outside the workspace root");
    expect_error(ROOT, "/home/u/shopping/x", 18, "outside");
    expect_error(ROOT, "/home/u/shop/../other/x", 23, "outside");
    expect_error(NULL, "/abs/x", 6, "root is unknown");
}

static void test_path__rejects_empty_nul_root_and_long(void **state)
{
    (void)state;
    expect_error(ROOT, "", 0, "must not be empty");
    expect_error(ROOT, "a\0b", 3, "NUL");
    expect_error(ROOT, ".", 1, "workspace root itself");
    expect_error(ROOT, "./", 2, "workspace root itself");
    expect_error(ROOT, "a/..", 4, "workspace root itself");
    expect_error(ROOT, "/home/u/shop", 12, "workspace root itself");
    expect_error(ROOT, "/home/u/shop/", 13, "workspace root itself");
    char *big = malloc(PATH_MAX_LEN + 2);
    memset(big, 'a', PATH_MAX_LEN + 1);
    big[PATH_MAX_LEN + 1] = '\0';
    expect_error(ROOT, big, PATH_MAX_LEN + 1, "longer than");
    big[PATH_MAX_LEN] = '\0';
    expect_key(ROOT, big, big);
    free(big);
}

/* File names and patterns with a C0 control or DEL are refused, naming
 * the character (written out) and where; C1 and other UTF-8 are names. */
static void test_path__rejects_control_characters(void **state)
{
    (void)state;
    expect_error(ROOT, "a\x1b[31m.c", 8, "control character \\x1b at byte 1");
    expect_error(ROOT, "evil.c\nsrc/forged.c  alice", 25, "control character \\n at byte 6");
    expect_error(ROOT, "a\rb", 3, "control character \\r at byte 1");
    expect_error(ROOT, "tab\t.c", 6, "\\t at byte 3");
    expect_error(ROOT, "\x01", 1, "\\x01 at byte 0");
    expect_error(ROOT, "del\x7f", 4, "\\x7f at byte 3");
    expect_error(ROOT, "/home/u/shop/x\x1f", 15, "\\x1f at byte 14");
    expect_error(ROOT, "a\x1b", 2, "not allowed in file names");
    expect_key(ROOT, "caf\xc3\xa9/\xc2\x9b.c", "caf\xc3\xa9/\xc2\x9b.c");
    char *out = NULL, *msg = NULL;
    assert_int_equal(path_pattern_normalize(ROOT, "src/\x1b*", 6, &out, &msg), -ERR_INVALID);
    assert_null(out);
    assert_non_null(strstr(msg, "pattern contains the control character \\x1b at byte 4"));
    free(msg);
    msg = NULL;
    assert_int_equal(path_resolve(ROOT, "src", "x\n.c", 4, false, &out, &msg), -ERR_INVALID);
    assert_non_null(strstr(msg, "\\n at byte 1"));
    free(msg);
}

static void expect_pattern(const char *arg, const char *want)
{
    char *out = NULL, *msg = NULL;
    int rc = path_pattern_normalize(ROOT, arg, strlen(arg), &out, &msg);
    if (rc != 0)
        fail_msg("'%s': unexpected error %s", arg, msg);
    if (strcmp(out, want) != 0)
        fail_msg("'%s': got '%s', want '%s'", arg, out, want);
    free(out);
}

static void expect_pattern_error(const char *arg, const char *needle)
{
    char *out = NULL, *msg = NULL;
    assert_int_equal(path_pattern_normalize(ROOT, arg, strlen(arg), &out, &msg), -ERR_INVALID);
    assert_null(out);
    if (!strstr(msg, needle))
        fail_msg("'%s': message '%s' lacks '%s'", arg, msg, needle);
    free(msg);
}

static void test_path__patterns(void **state)
{
    (void)state;
    expect_pattern("src/api/**", "src/api/**");
    expect_pattern("./src//*.rs", "src/*.rs");
    expect_pattern("src/", "src/**");
    expect_pattern("/home/u/shop/web/**", "web/**");
    expect_pattern("**", "**");
    expect_pattern_error("", "must not be empty");
    expect_pattern_error("src/../x/*", "'..'");
    expect_pattern_error("/etc/*", "outside");
    expect_pattern_error("./", "root itself");
    expect_pattern_error("src/[ab", "unterminated");
    expect_pattern_error("src/x\\", "backslash");
}

static void expect_resolved(const char *prefix, const char *arg, bool pattern, const char *want)
{
    char *out = NULL, *msg = NULL;
    int rc = path_resolve(ROOT, prefix, arg, strlen(arg), pattern, &out, &msg);
    if (rc)
        fail_msg("'%s' in '%s': %s", arg, prefix ? prefix : "(null)", msg);
    assert_string_equal(out, want);
    free(out);
}

static void expect_resolve_error(const char *prefix, const char *arg, size_t len, bool pattern,
                                 const char *needle)
{
    char *out = NULL, *msg = NULL;
    assert_int_equal(path_resolve(ROOT, prefix, arg, len, pattern, &out, &msg), -ERR_INVALID);
    assert_null(out);
    if (!strstr(msg, needle))
        fail_msg("'%s' in '%s': message '%s' lacks '%s'", arg, prefix, msg, needle);
    free(msg);
}

static void test_path__resolve_against_a_subdirectory(void **state)
{
    (void)state;
    expect_resolved("src", "a.c", false, "src/a.c");
    expect_resolved("packages/web", "src/x.ts", false, "packages/web/src/x.ts");
    expect_resolved("packages/web", "../api/y.ts", false, "packages/api/y.ts");
    expect_resolved("src", "./deep//b.c", false, "src/deep/b.c");
    expect_resolved("", "a.c", false, "a.c");
    expect_resolved(NULL, "a.c", false, "a.c");
    /* Absolute paths ignore the prefix: they are under the worktree. */
    expect_resolved("src", "/home/u/shop/lib/c.c", false, "lib/c.c");
    expect_resolved("src", "*.c", true, "src/*.c");
    expect_resolved("src", "api/", true, "src/api/**");
    expect_resolved("src", "/home/u/shop/web/**", true, "web/**");
    expect_resolve_error("src", "../../etc/passwd", 16, false, "path '../../etc/passwd' escapes");
    expect_resolve_error("src", "/etc/passwd", 11, false, "outside the workspace root");
    expect_resolve_error("src", "..", 2, false, "'..' is the workspace root itself");
    expect_resolve_error("src", "", 0, false, "must not be empty");
    expect_resolve_error("src", "a\0b.c", 5, false, "NUL");
    expect_resolve_error("src", "../lib/*", 8, true, "pattern '../lib/*' contains '..'");
}

/* Below a directory by whole segments, "" for the directory itself. */
static void test_path__below(void **state)
{
    (void)state;
    static const struct {
        const char *top, *dir, *want;
    } cases[] = {
        {"/repo", "/repo", ""}, {"/repo", "/repo/src/a", "src/a"}, {"/repo", "/repository", NULL},
        {"/repo", "/re", NULL}, {"/repo", "/other/repo", NULL},    {"/", "/repo/src", "repo/src"},
        {"/", "/", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = path_below(cases[i].top, cases[i].dir);
        if (cases[i].want)
            assert_string_equal(got, cases[i].want);
        else
            assert_null(got);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path__normalises_relative),
        cmocka_unit_test(test_path__absolute_under_root_made_relative),
        cmocka_unit_test(test_path__rejects_escape_and_outside),
        cmocka_unit_test(test_path__rejects_empty_nul_root_and_long),
        cmocka_unit_test(test_path__rejects_control_characters),
        cmocka_unit_test(test_path__patterns),
        cmocka_unit_test(test_path__resolve_against_a_subdirectory),
        cmocka_unit_test(test_path__below),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
