/* Unit tests for core/wildmatch: git wildmatch cases, validation, and the
 * overlap test checked against brute force on random patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/wildmatch.h"

struct wm_case {
    const char *pattern, *path;
    bool match;
};

static void test_wildmatch__git_cases(void **state)
{
    (void)state;
    static const struct wm_case cases[] = {
        {"foo", "foo", true},
        {"bar", "foo", false},
        {"", "", true},
        {"???", "foo", true},
        {"??", "foo", false},
        {"*", "foo", true},
        {"f*", "foo", true},
        {"*f", "foo", false},
        {"*foo*", "foo", true},
        {"*ob*a*r*", "foobar", true},
        {"*ab", "aaaaaaabababab", true},
        {"foo\\*", "foo*", true},
        {"foo\\*bar", "foobar", false},
        {"f\\\\oo", "f\\oo", true},
        {"*[al]?", "ball", true},
        {"[ten]", "ten", false},
        {"**[!te]", "ten", true},
        {"**[!ten]", "ten", false},
        {"t[a-g]n", "ten", true},
        {"t[!a-g]n", "ten", false},
        {"t[!a-g]n", "ton", true},
        {"t[^a-g]n", "ton", true},
        {"a[]]b", "a]b", true},
        {"a[]-]b", "a-b", true},
        {"a[]-]b", "a]b", true},
        {"a[]-]b", "aab", false},
        {"a[]a-]b", "aab", true},
        {"]", "]", true},
        {"foo*bar", "foo/baz/bar", false},
        {"foo**bar", "foo/baz/bar", false},
        {"foo**bar", "foobazbar", true},
        {"foo/**/bar", "foo/baz/bar", true},
        {"foo/**/**/bar", "foo/baz/bar", true},
        {"foo/**/bar", "foo/b/a/z/bar", true},
        {"foo/**/bar", "foo/bar", true},
        {"foo/**/bar", "foo/barx", false},
        {"foo?bar", "foo/bar", false},
        {"foo[/]bar", "foo/bar", false},
        {"foo[^a-z]bar", "foo/bar", false},
        {"f[^eiu][^eiu][^eiu][^eiu][^eiu]r", "f/oo/bar", false},
        {"f[^eiu][^eiu][^eiu][^eiu][^eiu]r", "foo-bar", true},
        {"**/foo", "foo", true},
        {"**/foo", "XXX/foo", true},
        {"**/foo", "bar/baz/foo", true},
        {"*/foo", "bar/baz/foo", false},
        {"**/bar*", "foo/bar/baz", false},
        {"**/bar/*", "deep/foo/bar/baz", true},
        {"**/bar/*", "deep/foo/bar/baz/", false},
        {"**/bar/**", "deep/foo/bar/baz/", true},
        {"**/bar/*", "deep/foo/bar", false},
        {"**/bar/**", "deep/foo/bar/", true},
        {"**/bar**", "foo/bar/baz", false},
        {"*/bar/**", "deep/foo/bar/baz/x", false},
        {"**/bar/*/*", "deep/foo/bar/baz/x", true},
        {"**", "foo", true},
        {"**", "a/b/c", true},
        {"src/**", "src/a/b.c", true},
        {"src/**", "src", false},
        {"src/**", "srcx/a", false},
        {"*.rs", "main.rs", true},
        {"*.rs", "src/main.rs", false},
        {"**/*.rs", "src/main.rs", true},
        {"**/*.rs", "main.rs", true},
        {"a/**/b/**/c", "a/x/b/y/z/c", true},
        {"a/**/b/**/c", "a/x/y/c", false},
        {"-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
         "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1", true},
        {"-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
         "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1", false},
        {"XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*",
         "XXX/adobe/courier/bold/o/normal//12/120/75/75/m/70/iso8859/1", true},
        {"**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt", true},
        {"**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz", false},
        {"[[:alpha:]][[:digit:]][[:upper:]]", "a1B", true},
        {"[[:digit:][:upper:][:space:]]", "a", false},
        {"[[:digit:][:upper:][:space:]]", "A", true},
        {"[[:digit:][:upper:][:space:]]", " ", true},
        {"[[:xdigit:]]", "f", true},
        {"[a-c[:digit:]x-z]", "5", true},
        {"[a-c[:digit:]x-z]", "y", true},
        {"[a-c[:digit:]x-z]", "q", false},
        {"[\\-_]", "-", true},
        {"[\\]]", "]", true},
        {"[\\]]", "\\]", false},
        {"[!]-]", "]", false},
        {"[!]-]", "a", true},
        {"a[", "a[", true},
        {"app/[id]/page.tsx", "app/i/page.tsx", true},
        {"app/\\[id\\]/page.tsx", "app/[id]/page.tsx", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = wildmatch_match(cases[i].pattern, cases[i].path);
        if (got != cases[i].match)
            fail_msg("'%s' vs '%s': expected %d", cases[i].pattern, cases[i].path, cases[i].match);
    }
}

static void test_wildmatch__pathological_pattern_is_fast(void **state)
{
    (void)state;
    char path[4001];
    memset(path, 'a', 4000);
    path[4000] = '\0';
    assert_false(wildmatch_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", path));
    assert_false(wildmatch_match("**/a/**/a/**/a/**/a/**/b",
                                 "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/c"));
}

static void test_wildmatch__validate(void **state)
{
    (void)state;
    char *msg = NULL;
    assert_int_equal(wildmatch_validate("src/**/*.[ch]", &msg), 0);
    assert_null(msg);
    assert_int_equal(wildmatch_validate("a[]]b", &msg), 0);
    assert_int_equal(wildmatch_validate("a[b", &msg), -ERR_INVALID);
    assert_non_null(strstr(msg, "unterminated"));
    free(msg);
    assert_int_equal(wildmatch_validate("a[]", &msg), -ERR_INVALID);
    free(msg);
    assert_int_equal(wildmatch_validate("x\\", &msg), -ERR_INVALID);
    assert_non_null(strstr(msg, "backslash"));
    free(msg);
    assert_int_equal(wildmatch_validate("[[:nope:]]", &msg), -ERR_INVALID);
    assert_non_null(strstr(msg, "class"));
    free(msg);
    assert_int_equal(wildmatch_validate("[[:alpha:]", &msg), -ERR_INVALID);
    free(msg);
}

static void test_wildmatch__prefix_and_literal(void **state)
{
    (void)state;
    assert_int_equal(wildmatch_prefix_len("src/api/**"), 8);
    assert_int_equal(wildmatch_prefix_len("*.rs"), 0);
    assert_int_equal(wildmatch_prefix_len("a\\*b"), 1);
    assert_true(wildmatch_is_literal("src/main.c"));
    assert_false(wildmatch_is_literal("app/[id]/page.tsx"));
}

static void test_wildmatch__overlap_examples(void **state)
{
    (void)state;
    assert_true(wildmatch_overlap("src/**", "src/api/**"));
    assert_true(wildmatch_overlap("src/**", "**/*.rs"));
    assert_true(wildmatch_overlap("*.rs", "m*"));
    assert_false(wildmatch_overlap("*.rs", "*.ts"));
    assert_false(wildmatch_overlap("*.rs", "src/*.rs"));
    assert_false(wildmatch_overlap("src/**", "docs/**"));
    assert_true(wildmatch_overlap("src/*/x", "src/a*/?"));
    assert_false(wildmatch_overlap("src/[ab]", "src/[cd]"));
    assert_true(wildmatch_overlap("src/[a-c]", "src/[!ab]"));
    assert_false(wildmatch_overlap("src/[!a-z]", "src/[a-z]"));
    assert_true(wildmatch_overlap("**", "anything/at/all"));
    assert_true(wildmatch_overlap("a/**/b", "a/b"));
    assert_true(wildmatch_overlap("a/**/b", "**/x/b"));
    assert_false(wildmatch_overlap("a/**/b", "c/**"));
    assert_true(wildmatch_overlap("x", "x"));
    assert_false(wildmatch_overlap("x", "y"));
}

/* ---- random cross-checks ---- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void random_path(char *out, size_t cap)
{
    static const char alpha[] = "ab.";
    size_t o = 0;
    int segs = 1 + (int)rnd(3);
    for (int s = 0; s < segs && o + 8 < cap; s++) {
        if (s)
            out[o++] = '/';
        int len = 1 + (int)rnd(3);
        for (int k = 0; k < len; k++)
            out[o++] = alpha[rnd(3)];
    }
    out[o] = '\0';
}

static void random_pattern(char *out, size_t cap)
{
    static const char *const toks[] = {"a", "b", ".", "*", "?", "[ab]", "[!a]", "\\."};
    size_t o = 0;
    int segs = 1 + (int)rnd(3);
    for (int s = 0; s < segs && o + 16 < cap; s++) {
        if (s)
            out[o++] = '/';
        if (rnd(5) == 0) {
            memcpy(out + o, "**", 2);
            o += 2;
            continue;
        }
        int len = 1 + (int)rnd(3);
        for (int k = 0; k < len; k++) {
            const char *t = toks[rnd(8)];
            size_t tl = strlen(t);
            memcpy(out + o, t, tl);
            o += tl;
        }
    }
    out[o] = '\0';
}

/* A pattern that matches exactly the literal path. */
static void escape_path(const char *path, char *out)
{
    size_t o = 0;
    for (const char *p = path; *p; p++) {
        if (strchr("*?[\\", *p))
            out[o++] = '\\';
        out[o++] = *p;
    }
    out[o] = '\0';
}

/* All paths over {a,b,.} with up to 3 segments of up to 3 bytes. */
static size_t all_paths(char (*paths)[16], size_t cap)
{
    static const char alpha[] = "ab.";
    char segs[40][4];
    size_t nseg = 0;
    for (int len = 1; len <= 3; len++) {
        int total = 1;
        for (int k = 0; k < len; k++)
            total *= 3;
        for (int v = 0; v < total; v++) {
            int x = v;
            for (int k = 0; k < len; k++) {
                segs[nseg][k] = alpha[x % 3];
                x /= 3;
            }
            segs[nseg][len] = '\0';
            nseg++;
        }
    }
    size_t n = 0;
    for (size_t a = 0; a < nseg && n < cap; a++) {
        snprintf(paths[n++], 16, "%s", segs[a]);
        for (size_t b = 0; b < nseg && n < cap; b++) {
            snprintf(paths[n++], 16, "%s/%s", segs[a], segs[b]);
            for (size_t c = 0; c < nseg && n < cap; c++)
                snprintf(paths[n++], 16, "%s/%s/%s", segs[a], segs[b], segs[c]);
        }
    }
    return n;
}

static void test_wildmatch__overlap_agrees_with_match_on_literals(void **state)
{
    (void)state;
    rng_state = 0x9e3779b97f4a7c15ULL;
    char pat[128], path[64], esc[128];
    for (int i = 0; i < 20000; i++) {
        random_pattern(pat, sizeof(pat));
        random_path(path, sizeof(path));
        escape_path(path, esc);
        bool m = wildmatch_match(pat, path);
        if (wildmatch_overlap(pat, esc) != m || wildmatch_overlap(esc, pat) != m)
            fail_msg("pattern '%s' path '%s': match %d but overlap disagrees", pat, path, m);
    }
}

static void test_wildmatch__overlap_never_misses_a_common_path(void **state)
{
    (void)state;
    static char paths[30000][16];
    size_t np = all_paths(paths, 30000);
    assert_true(np > 20000);
    rng_state = 0x2545f4914f6cdd1dULL;
    char a[128], b[128];
    int overlaps = 0, disjoint = 0;
    for (int i = 0; i < 300; i++) {
        random_pattern(a, sizeof(a));
        random_pattern(b, sizeof(b));
        bool common = false;
        for (size_t k = 0; k < np && !common; k++)
            common = wildmatch_match(a, paths[k]) && wildmatch_match(b, paths[k]);
        bool ov = wildmatch_overlap(a, b);
        if (common && !ov)
            fail_msg("'%s' and '%s' share a path but overlap said no", a, b);
        if (ov != wildmatch_overlap(b, a))
            fail_msg("overlap('%s','%s') is not symmetric", a, b);
        overlaps += common;
        disjoint += !ov;
    }
    /* the generator must exercise both outcomes */
    assert_true(overlaps > 10);
    assert_true(disjoint > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wildmatch__git_cases),
        cmocka_unit_test(test_wildmatch__pathological_pattern_is_fast),
        cmocka_unit_test(test_wildmatch__validate),
        cmocka_unit_test(test_wildmatch__prefix_and_literal),
        cmocka_unit_test(test_wildmatch__overlap_examples),
        cmocka_unit_test(test_wildmatch__overlap_agrees_with_match_on_literals),
        cmocka_unit_test(test_wildmatch__overlap_never_misses_a_common_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
