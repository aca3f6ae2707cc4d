/* test_base_json — json_parse_bounded() enforces the limits of
 * docs/security.md, "Input limits",
 * before cJSON sees the bytes (depth 64 passes, 65 fails; invalid UTF-8,
 * NUL bytes and trailing garbage fail, with the documented error codes),
 * and the accessors return defaults instead of undefined conversions.
 * cJSON allocates through xmalloc in every test (tests/support/
 * json_hooks.c), and a printed line leaves no copy in what cJSON frees. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/json.h"

/* Parse s (its strlen) with JSON_MAX_DEPTH; returns the error (0 on
 * success) and frees the value. */
static int parse_err(const char *s, size_t n)
{
    int err = 12345;
    cJSON *v = json_parse_bounded(s, n, JSON_MAX_DEPTH, &err);
    assert_true((v != NULL) == (err == 0));
    cJSON_Delete(v);
    return err;
}

#define PARSE(s) parse_err(s, sizeof(s) - 1)

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
/* An allocation that cannot be met returns NULL under ASan too, rather
 * than ending the process in ASan's report before xmalloc sees it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

/* depth opening brackets of kind open/close around inner ("" for none). */
static char *nested(int depth, char open, char close, const char *inner)
{
    struct buf b;
    buf_init(&b, 0);
    for (int i = 0; i < depth; i++) {
        if (open == '{')
            assert_int_equal(buf_append_str(&b, "{\"k\":"), 0);
        else
            assert_int_equal(buf_append(&b, &open, 1), 0);
    }
    assert_int_equal(buf_append_str(&b, inner), 0);
    for (int i = 0; i < depth; i++)
        assert_int_equal(buf_append(&b, &close, 1), 0);
    return buf_take(&b);
}

static void test_json__depth_limit_64_passes_65_fails(void **state)
{
    (void)state;
    char *s = nested(64, '[', ']', "1");
    assert_int_equal(parse_err(s, strlen(s)), 0);
    free(s);
    s = nested(65, '[', ']', "1");
    assert_int_equal(parse_err(s, strlen(s)), -ERR_TOO_LARGE);
    free(s);
    s = nested(64, '{', '}', "1");
    assert_int_equal(parse_err(s, strlen(s)), 0);
    free(s);
    s = nested(65, '{', '}', "1");
    assert_int_equal(parse_err(s, strlen(s)), -ERR_TOO_LARGE);
    free(s);
    /* A very deep input is refused by the pre-scan, before cJSON recurses. */
    s = nested(100000, '[', ']', "");
    assert_int_equal(parse_err(s, strlen(s)), -ERR_TOO_LARGE);
    free(s);
    /* Siblings do not add up: many shallow containers are fine. */
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "["), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_append_str(&b, i ? ",[[]]" : "[[]]"), 0);
    assert_int_equal(buf_append_str(&b, "]"), 0);
    assert_int_equal(parse_err(b.data, b.len), 0);
    buf_deinit(&b);
}

static void test_json__brackets_in_strings_do_not_count(void **state)
{
    (void)state;
    /* 100 brackets inside a string, with escaped quotes and backslashes
     * that must not end the string early. */
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "{\"s\":\"\\\\\\\"["), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_append_str(&b, "[{"), 0);
    assert_int_equal(buf_append_str(&b, "\\\"\"}"), 0);
    int err = 1;
    cJSON *v = json_parse_bounded(b.data, b.len, JSON_MAX_DEPTH, &err);
    assert_int_equal(err, 0);
    assert_non_null(v);
    const char *str = json_get_str(v, "s", NULL);
    assert_non_null(str);
    assert_int_equal(strncmp(str, "\\\"[[{", 5), 0);
    cJSON_Delete(v);
    buf_deinit(&b);
}

static void test_json__trailing_garbage_fails(void **state)
{
    (void)state;
    assert_int_equal(PARSE("{}"), 0);
    assert_int_equal(PARSE(" \t\r\n{\"a\":1} \t\r\n"), 0);
    assert_int_equal(PARSE("{} x"), -ERR_PARSE);
    assert_int_equal(PARSE("{}{}"), -ERR_PARSE);
    assert_int_equal(PARSE("[1] ]"), -ERR_PARSE);
    assert_int_equal(PARSE("1 2"), -ERR_PARSE);
    assert_int_equal(PARSE("\"a\"\""), -ERR_PARSE);
    assert_int_equal(PARSE("{}\f"), -ERR_PARSE); /* form feed is not JSON whitespace */
    /* Only n bytes count: garbage past n is not seen. */
    assert_int_equal(parse_err("{}garbage", 2), 0);
}

static void test_json__malformed_and_empty_fail(void **state)
{
    (void)state;
    assert_int_equal(parse_err("", 0), -ERR_PARSE);
    assert_int_equal(PARSE("   "), -ERR_PARSE);
    assert_int_equal(PARSE("{"), -ERR_PARSE);
    assert_int_equal(PARSE("{\"a\":}"), -ERR_PARSE);
    assert_int_equal(PARSE("[1,]"), -ERR_PARSE);
    assert_int_equal(PARSE("'single'"), -ERR_PARSE);
    assert_int_equal(PARSE("{\"a\":1,}"), -ERR_PARSE);
    int err = 0;
    assert_null(json_parse_bounded(NULL, 0, JSON_MAX_DEPTH, &err));
    assert_int_equal(err, -ERR_PARSE);
}

static void test_json__long_numbers_parse_whole(void **state)
{
    (void)state;
    /* A 100-digit number is read whole (older cJSON copied at most 63
     * characters of a number), inside an array too. */
    char text[110];
    memset(text, '7', 100);
    text[100] = '\0';
    int err = 1;
    cJSON *v = json_parse_bounded(text, 100, JSON_MAX_DEPTH, &err);
    assert_non_null(v);
    assert_true(v->valuedouble > 7.7e99 && v->valuedouble < 7.8e99);
    cJSON_Delete(v);
    memmove(text + 1, text, 100);
    text[0] = '[';
    text[101] = ']';
    v = json_parse_bounded(text, 102, JSON_MAX_DEPTH, &err);
    assert_non_null(v);
    assert_true(cJSON_GetArraySize(v) == 1);
    assert_true(cJSON_GetArrayItem(v, 0)->valuedouble > 7.7e99);
    cJSON_Delete(v);
}

static void test_json__invalid_utf8_and_nul_fail(void **state)
{
    (void)state;
    assert_int_equal(PARSE("{\"a\":\"caf\xc3\xa9\"}"), 0);
    assert_int_equal(PARSE("{\"a\":\"\xc3\"}"), -ERR_PARSE);         /* truncated */
    assert_int_equal(PARSE("{\"a\":\"\xc0\xaf\"}"), -ERR_PARSE);     /* overlong */
    assert_int_equal(PARSE("{\"a\":\"\xed\xa0\x80\"}"), -ERR_PARSE); /* surrogate */
    assert_int_equal(PARSE("{\"a\":\"\xff\"}"), -ERR_PARSE);
    assert_int_equal(PARSE("{\"\xfe\":1}"), -ERR_PARSE); /* in a key */
    assert_int_equal(PARSE("{\"a\":\"x\x00y\"}"), -ERR_PARSE);
    assert_int_equal(PARSE("{}\x00"), -ERR_PARSE);
    assert_int_equal(PARSE("\x00{}"), -ERR_PARSE);
    /* An escaped character other than NUL is ordinary JSON text. */
    assert_int_equal(PARSE("{\"a\":\"\\u0041\"}"), 0);
}

/* Parse with json_parse_checked; the value is freed. Returns the error. */
static struct json_error checked(const char *s)
{
    struct json_error je;
    memset(&je, 0x5a, sizeof(je));
    cJSON *v = json_parse_checked(s, strlen(s), JSON_MAX_DEPTH, &je);
    assert_true((v != NULL) == (je.err == 0));
    if (v)
        assert_string_equal(je.message, "");
    cJSON_Delete(v);
    return je;
}

static void expect_refused(const char *s, int err, size_t offset, const char *message)
{
    struct json_error je = checked(s);
    assert_int_equal(je.err, err);
    assert_int_equal(je.offset, offset);
    assert_string_equal(je.message, message);
}

static void test_json__escaped_nul_refused_with_offset(void **state)
{
    (void)state;
    /* In a value, in a key, nested in objects and arrays. */
    expect_refused("{\"file\":\"src/a\\u0000b.c\"}", -ERR_INVALID, 14,
                   "string contains U+0000 at offset 14");
    expect_refused("{\"a\\u0000b\":1}", -ERR_INVALID, 3, "string contains U+0000 at offset 3");
    expect_refused("{\"p\":{\"q\":[1,{\"r\":\"x\\u0000\"}]}}", -ERR_INVALID, 20,
                   "string contains U+0000 at offset 20");
    expect_refused("\"\\u0000\"", -ERR_INVALID, 1, "string contains U+0000 at offset 1");
    /* The first one is named. */
    expect_refused("[\"ok\",\"\\u0000\",\"\\u0000\"]", -ERR_INVALID, 7,
                   "string contains U+0000 at offset 7");
    /* An escaped backslash then "u0000" is six ordinary characters... */
    int err = 1;
    cJSON *v = json_parse_bounded("{\"a\":\"\\\\u0000\"}", 15, JSON_MAX_DEPTH, &err);
    assert_int_equal(err, 0);
    assert_string_equal(json_get_str(v, "a", ""), "\\u0000");
    cJSON_Delete(v);
    assert_int_equal(checked("[\"\\\\\\\\u0000\"]").err, 0);
    /* ...but an escaped backslash then an escaped NUL is a NUL. */
    expect_refused("[\"\\\\\\u0000\"]", -ERR_INVALID, 4, "string contains U+0000 at offset 4");
    /* Other escapes of control characters and near misses are fine. */
    assert_int_equal(checked("[\"\\u0001\\u00000\"]").err, -ERR_INVALID);
    assert_int_equal(checked("[\"\\u0001\\u0010\\u1000\\u000a\"]").err, 0);
    /* Invalid JSON is reported as such even when it holds an escaped NUL. */
    assert_int_equal(checked("{\"a\":\"\\u0000").err, -ERR_PARSE);
    /* json_parse_bounded gives the same code. */
    assert_int_equal(PARSE("{\"a\":\"\\u0000\"}"), -ERR_INVALID);
}

static void test_json__duplicate_keys_refused_at_any_depth(void **state)
{
    (void)state;
    expect_refused("{\"file\":\"a\",\"file\":\"b\"}", -ERR_INVALID, 12,
                   "duplicate key \"file\" at offset 12");
    /* Nested in an object, in an array, three deep. */
    expect_refused("{\"a\":{\"b\":[{\"c\":1,\"d\":2,\"c\":3}]}}", -ERR_INVALID, 24,
                   "duplicate key \"c\" at offset 24");
    /* Keys compare decoded: "\u0061" is "a". */
    expect_refused("{\"a\":1, \"\\u0061\":2}", -ERR_INVALID, 8, "duplicate key \"a\" at offset 8");
    /* The same key in sibling or nested objects is fine. */
    assert_int_equal(checked("[{\"id\":1},{\"id\":2}]").err, 0);
    assert_int_equal(checked("{\"id\":{\"id\":{\"id\":1}},\"x\":{\"id\":2}}").err, 0);
    /* Strings that look like keys inside values do not count. */
    assert_int_equal(checked("{\"a\":\"\\\",\\\"a\\\":\",\"b\":[\"a\",\"a\"]}").err, 0);
    /* The offset is that of the repeated key, after a nested object and a
     * string holding braces and commas. */
    expect_refused("{\"x\":{\"y\":\"{,}\"},\"z\":[{}],\"x\":0}", -ERR_INVALID, 26,
                   "duplicate key \"x\" at offset 26");
    /* Control characters in the key are shown as '?'; a long key is cut. */
    expect_refused("{\"a\\nb\":1,\"a\\nb\":2}", -ERR_INVALID, 10,
                   "duplicate key \"a?b\" at offset 10");
}

static void test_json__duplicate_keys_in_large_objects(void **state)
{
    (void)state;
    /* Past the pairwise bound the members are sorted: a late repeat of an
     * early key is found, and so is the earliest of several repeats. */
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "{"), 0);
    for (int i = 0; i < 1000; i++) {
        char m[32];
        snprintf(m, sizeof(m), "%s\"k%d\":%d", i ? "," : "", i, i);
        assert_int_equal(buf_append_str(&b, m), 0);
    }
    size_t before = b.len;
    assert_int_equal(buf_append_str(&b, "}"), 0);
    int err = 1;
    cJSON *v = json_parse_bounded(b.data, b.len, JSON_MAX_DEPTH, &err);
    assert_int_equal(err, 0);
    cJSON_Delete(v);
    b.len = before;
    assert_int_equal(buf_append_str(&b, ",\"k500\":1,\"k7\":2,\"k500\":3}"), 0);
    struct json_error je;
    assert_null(json_parse_checked(b.data, b.len, JSON_MAX_DEPTH, &je));
    assert_int_equal(je.err, -ERR_INVALID);
    assert_int_equal(je.offset, before + 1);
    char want[160];
    snprintf(want, sizeof(want), "duplicate key \"k500\" at offset %zu", before + 1);
    assert_string_equal(je.message, want);
    buf_deinit(&b);
    /* A long key is cut on a character boundary, marked with an ellipsis. */
    char key[80];
    memset(key, 'x', 47);
    memcpy(key + 47, "\xc3\xa9yyyy", 7); /* é straddles byte 48 */
    key[54] = '\0';
    char text[200];
    snprintf(text, sizeof(text), "{\"%s\":1,\"%s\":2}", key, key);
    je = checked(text);
    assert_int_equal(je.err, -ERR_INVALID);
    char shown[80];
    memset(shown, 'x', 47);
    memcpy(shown + 47, "\xe2\x80\xa6", 4);
    snprintf(want, sizeof(want), "duplicate key \"%s\" at offset 59", shown);
    assert_string_equal(je.message, want);
}

static void test_json__parse_errors_say_where(void **state)
{
    (void)state;
    expect_refused("{\"a\":}", -ERR_PARSE, 5, "not valid JSON (at offset 5)");
    expect_refused("{} x", -ERR_PARSE, 3, "not valid JSON (text after the value at offset 3)");
    expect_refused("[[[1]]]", 0, 0, "");
    struct json_error je;
    assert_null(json_parse_checked("[[1]]", 5, 1, &je));
    assert_int_equal(je.err, -ERR_TOO_LARGE);
    assert_string_equal(je.message, "nested deeper than 1 levels at offset 1");
    assert_null(json_parse_checked("{}\0", 3, 8, &je));
    assert_string_equal(je.message, "a NUL byte at offset 2");
    assert_null(json_parse_checked("\"\xff\"", 3, 8, &je));
    assert_string_equal(je.message, "not valid UTF-8");
}

static void test_json__refused_member_echoes_unambiguous_ids(void **state)
{
    (void)state;
    const char *t = "{\"jsonrpc\":\"2.0\",\"id\":7,\"params\":{\"f\":\"a\\u0000b\"}}";
    cJSON *id = json_refused_member(t, strlen(t), "id");
    assert_true(cJSON_IsNumber(id) && id->valuedouble == 7);
    cJSON_Delete(id);
    t = "{\"id\":\"r-1\",\"a\":1,\"a\":2}";
    id = json_refused_member(t, strlen(t), "id");
    assert_true(cJSON_IsString(id));
    assert_string_equal(id->valuestring, "r-1");
    cJSON_Delete(id);
    /* The id holds the NUL, appears twice, is not a scalar, or is absent:
     * it cannot be known. */
    const char *unknown[] = {
        "{\"id\":\"r\\u0000x\",\"method\":\"m\"}",
        "{\"id\":1,\"id\":2}",
        "{\"id\":{\"a\":\"\\u0000\"}}",
        "{\"method\":\"\\u0000\"}",
        "[{\"id\":1,\"x\":\"\\u0000\"}]",
        "not json",
    };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_null(json_refused_member(unknown[i], strlen(unknown[i]), "id"));
}

static void test_json__accessors_default_on_wrong_type(void **state)
{
    (void)state;
    const char *text = "{\"s\":\"str\",\"n\":42.9,\"neg\":-7.5,\"b\":true,\"huge\":1e300,"
                       "\"two63\":9223372036854775808,\"min\":-9223372036854775808,"
                       "\"null\":null}";
    int err = 1;
    cJSON *o = json_parse_bounded(text, strlen(text), JSON_MAX_DEPTH, &err);
    assert_non_null(o);
    assert_string_equal(json_get_str(o, "s", "d"), "str");
    assert_string_equal(json_get_str(o, "n", "d"), "d");
    assert_string_equal(json_get_str(o, "missing", "d"), "d");
    assert_null(json_get_str(o, "null", NULL));
    assert_int_equal(json_get_i64(o, "n", -1), 42);
    assert_int_equal(json_get_i64(o, "neg", 0), -7);
    assert_int_equal(json_get_i64(o, "s", -1), -1);
    /* Out of int64 range: the default, never an undefined conversion. */
    assert_int_equal(json_get_i64(o, "huge", -1), -1);
    assert_int_equal(json_get_i64(o, "two63", -1), -1);
    assert_true(json_get_i64(o, "min", 0) == INT64_MIN);
    assert_true(json_get_bool(o, "b", false));
    assert_false(json_get_bool(o, "s", false));
    assert_true(json_get_bool(o, "missing", true));
    cJSON_Delete(o);
}

static void test_json__is_int_in_range(void **state)
{
    (void)state;
    cJSON *v = cJSON_CreateNumber(5);
    assert_true(json_is_int_in(v, 0, 10));
    assert_true(json_is_int_in(v, 5, 5));
    assert_false(json_is_int_in(v, 6, 10));
    cJSON_SetNumberValue(v, 5.5);
    assert_false(json_is_int_in(v, 0, 10));
    cJSON_SetNumberValue(v, -1);
    assert_false(json_is_int_in(v, 0, 10));
    /* 2^63 is above INT64_MAX even though (double)INT64_MAX == 2^63. */
    cJSON_SetNumberValue(v, 9223372036854775808.0);
    assert_false(json_is_int_in(v, 0, INT64_MAX));
    cJSON_SetNumberValue(v, 1e300);
    assert_false(json_is_int_in(v, INT64_MIN, INT64_MAX));
    cJSON_SetNumberValue(v, 9007199254740992.0);
    assert_true(json_is_int_in(v, 0, INT64_MAX));
    assert_false(json_is_int_in(v, 0, 9007199254740991));
    cJSON_Delete(v);
    cJSON *s = cJSON_CreateString("5");
    assert_false(json_is_int_in(s, 0, 10));
    cJSON_Delete(s);
}

static void test_json__builders(void **state)
{
    (void)state;
    cJSON *o = cJSON_CreateObject();
    assert_non_null(json_add_u64(o, "seq", 1042));
    assert_non_null(json_add_time(o, "at", 1790000000123));
    char *s = json_print(o);
    assert_string_equal(s, "{\"seq\":1042,\"at\":\"2026-09-21T14:13:20.123Z\"}");
    free(s);
    cJSON_Delete(o);
    /* Large values print as their digits and read back exactly. */
    static const uint64_t big[] = {999999999999999ULL, 1000000000000000ULL, 9007199254740993ULL,
                                   UINT64_MAX};
    static const char *const text[] = {"999999999999999", "1000000000000000", "9007199254740993",
                                       "18446744073709551615"};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        o = cJSON_CreateObject();
        json_add_u64(o, "n", big[i]);
        s = json_print(o);
        char want[64];
        snprintf(want, sizeof(want), "{\"n\":%s}", text[i]);
        assert_string_equal(s, want);
        free(s);
        if (big[i] <= INT64_MAX)
            assert_true((uint64_t)json_get_i64(o, "n", -1) == big[i]);
        else
            assert_int_equal(json_get_i64(o, "n", -1), -1); /* beyond int64_t: dflt */
        cJSON_Delete(o);
    }
}

/* One line of the newline-delimited framing: the compact text and '\n'. */
static void test_base_json__print_line(void **state)
{
    (void)state;
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "coordhub", "admin");
    cJSON_AddNumberToObject(v, "n", 3);
    char *line = json_print_line(v);
    assert_string_equal(line, "{\"coordhub\":\"admin\",\"n\":3}\n");
    free(line);
    cJSON_Delete(v);
}

/* cJSON allocates through xmalloc: an allocation that cannot be met ends
 * the process with xmalloc's message, where cJSON's default malloc would
 * return NULL (the child then exits 0). */
static void test_base_json__cjson_allocates_through_xmalloc(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        void *p = cJSON_malloc((size_t)1 << 62);
        _exit(p ? 3 : 0);
    }
    close(fds[1]);
    char err[256] = "";
    size_t got = 0;
    ssize_t n;
    while (got < sizeof(err) - 1 && (n = read(fds[0], err + got, sizeof(err) - 1 - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(err, "coordhub: out of memory allocating 4611686018427387904 bytes"));
}

/* Hooks that remember each block's size and, while watching, count the
 * freed blocks that still hold the secret. */
#define WATCH_MAX 4096
static struct {
    void *p[WATCH_MAX];
    size_t n[WATCH_MAX];
    size_t used;
    bool on;
    int hits;
} watch;
static const char watch_secret[] = "s3cr3t-t0ken-0123456789abcdef";

static void *watch_alloc(size_t n)
{
    void *p = malloc(n);
    assert_non_null(p);
    if (watch.used < WATCH_MAX) {
        watch.p[watch.used] = p;
        watch.n[watch.used++] = n;
    }
    return p;
}

static void watch_free(void *p)
{
    for (size_t i = 0; p && watch.on && i < watch.used; i++) {
        if (watch.p[i] != p)
            continue;
        size_t len = sizeof(watch_secret) - 1;
        for (size_t at = 0; at + len <= watch.n[i]; at++)
            if (memcmp((char *)p + at, watch_secret, len) == 0) {
                watch.hits++;
                break;
            }
    }
    free(p);
}

/* Frees by cJSON while print(v) runs that held the secret. */
static int freed_copies(char *(*print)(const cJSON *), const cJSON *v)
{
    watch.hits = 0;
    watch.on = true;
    char *text = print(v);
    watch.on = false;
    assert_non_null(strstr(text, watch_secret));
    explicit_bzero(text, strlen(text));
    free(text);
    return watch.hits;
}

static char *print_unformatted(const cJSON *v)
{
    return cJSON_PrintUnformatted(v);
}

/* With allocation hooks cJSON does not reallocate: cJSON_Print* copies
 * its text at the end and frees the working buffer unwiped. A control
 * line carrying the admin token must not leave it behind that way. */
static void test_base_json__print_line_leaves_no_freed_copy(void **state)
{
    (void)state;
    watch.used = 0;
    cJSON_Hooks hooks = {.malloc_fn = watch_alloc, .free_fn = watch_free};
    cJSON_InitHooks(&hooks);
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "coordhub", "admin");
    cJSON_AddStringToObject(v, "token", watch_secret);
    cJSON_AddStringToObject(v, "cwd", "/home/someone/src/a-project-with-a-long-name/sub/dir");
    int line_copies = freed_copies(json_print_line, v);
    int plain_copies = freed_copies(print_unformatted, v);
    cJSON_Delete(v);
    json_use_xmalloc();
    assert_int_equal(line_copies, 0);
    assert_true(plain_copies > 0); /* the watch sees the copy it looks for */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_json__cjson_allocates_through_xmalloc),
        cmocka_unit_test(test_base_json__print_line_leaves_no_freed_copy),
        cmocka_unit_test(test_json__depth_limit_64_passes_65_fails),
        cmocka_unit_test(test_json__brackets_in_strings_do_not_count),
        cmocka_unit_test(test_json__trailing_garbage_fails),
        cmocka_unit_test(test_json__malformed_and_empty_fail),
        cmocka_unit_test(test_json__long_numbers_parse_whole),
        cmocka_unit_test(test_json__invalid_utf8_and_nul_fail),
        cmocka_unit_test(test_json__escaped_nul_refused_with_offset),
        cmocka_unit_test(test_json__duplicate_keys_refused_at_any_depth),
        cmocka_unit_test(test_json__duplicate_keys_in_large_objects),
        cmocka_unit_test(test_json__parse_errors_say_where),
        cmocka_unit_test(test_json__refused_member_echoes_unambiguous_ids),
        cmocka_unit_test(test_json__accessors_default_on_wrong_type),
        cmocka_unit_test(test_json__is_int_in_range),
        cmocka_unit_test(test_json__builders),
        cmocka_unit_test(test_base_json__print_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
