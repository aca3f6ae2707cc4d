/* Unit tests for http_parse: well-formed heads (fields, framing, keep-alive
 * by version), every refusal with its status, the limits (414, 431 by
 * size and by field count), a head split at every byte giving the same
 * result as the whole, and pipelined heads in one buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net/http_parse.h"

static const struct http_parse_limits lim = {.max_line = 64, .max_head = 512, .max_fields = 8};

/* Scan then parse text whole: the head's length (> 0), or the refusal's
 * status (negated). */
static int parse(const char *text, struct http_head *h, struct http_field *fields)
{
    struct http_scan st = {0};
    struct http_parse_error err = {0};
    size_t len = strlen(text);
    int n = http_head_scan(&st, text, len, &lim, &err);
    if (n < 0) {
        assert_non_null(err.message);
        return -err.status;
    }
    if (n == 0)
        return 0;
    h->fields = fields;
    if (http_head_parse(text, (size_t)n, &lim, h, &err) != 0) {
        assert_non_null(err.message);
        assert_non_null(err.code);
        return -err.status;
    }
    return n;
}

static int status_of(const char *text)
{
    struct http_head h;
    struct http_field f[8];
    return parse(text, &h, f);
}

static void test_http_parse__simple(void **state)
{
    (void)state;
    struct http_head h;
    struct http_field f[8];
    const char *req = "GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Long:   spaced value \t\r\n\r\nBODY";
    int n = parse(req, &h, f);
    assert_int_equal(n, (int)(strstr(req, "BODY") - req));
    assert_int_equal(h.method_len, 3);
    assert_memory_equal(h.method, "GET", 3);
    assert_int_equal(h.target_len, 6);
    assert_memory_equal(h.target, "/a?b=c", 6);
    assert_int_equal(h.minor, 1);
    assert_int_equal(h.nfields, 2);
    size_t len;
    const char *v = http_head_field(&h, "x-long", &len);
    assert_non_null(v);
    assert_int_equal(len, 12);
    assert_memory_equal(v, "spaced value", 12);
    assert_null(http_head_field(&h, "Missing", &len));
    assert_false(h.has_length);
    assert_false(h.close);
    /* Content-Length, Connection and Expect. */
    n = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0012\r\nConnection: keep-alive, "
              "Close\r\nExpect: 100-continue\r\n\r\n",
              &h, f);
    assert_true(n > 0);
    assert_true(h.has_length);
    assert_int_equal(h.content_length, 12);
    assert_true(h.close);
    assert_true(h.expect_continue);
    /* HTTP/1.0: no Host needed, closes unless keep-alive. */
    assert_true(parse("GET / HTTP/1.0\r\n\r\n", &h, f) > 0);
    assert_int_equal(h.minor, 0);
    assert_true(h.close);
    assert_true(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h, f) > 0);
    assert_false(h.close);
    assert_true(parse("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", &h, f) > 0);
    /* Empty values are values. */
    assert_true(parse("GET / HTTP/1.1\r\nHost:\r\nX-E: \r\n\r\n", &h, f) > 0);
    assert_int_equal(h.nfields, 2);
    assert_int_equal(h.fields[1].value_len, 0);
}

static void test_http_parse__refusals(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int status;
    } rows[] = {
        /* line ends */
        {"GET / HTTP/1.1\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\n\n", 400},
        {"GET / HTTP/1.1\rHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n", 400},
        {"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        /* request line */
        {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400},
        {"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET\r\nHost: x\r\n\r\n", 400},
        {"GET /\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1\r\nHost: x\r\n\r\n", 400},
        {"GET http://evil.com/ HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"CONNECT evil.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
        {"GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505},
        {"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505},
        /* fields */
        {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\n\tfolded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nA(b: c\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nA: b\x01\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nA: b\x7f\r\n\r\n", 400},
        /* duplicates and framing */
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nHost: evil.com\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nOrigin: http://a\r\nOrigin: http://b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1,1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1234567890123456789\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 411},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n", 417},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int got = status_of(rows[i].text);
        if (got != -rows[i].status)
            fail_msg("row %zu: got %d, want %d", i, got, -rows[i].status);
    }
}

/* A NUL in a value (strlen would cut the text: measured by sizeof). */
static void test_http_parse__nul_in_value(void **state)
{
    (void)state;
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nA: b\0c\r\n\r\n";
    struct http_scan st = {0};
    struct http_parse_error err = {0};
    int n = http_head_scan(&st, req, sizeof(req) - 1, &lim, &err);
    assert_int_equal(n, (int)sizeof(req) - 1);
    struct http_field f[8];
    struct http_head h = {.fields = f};
    assert_int_equal(http_head_parse(req, (size_t)n, &lim, &h, &err), -1);
    assert_int_equal(err.status, 400);
}

/* A head of "GET / HTTP/1.1", Host and n more fields "A: b" into buf;
 * with size > 0, one field "A: vvv…" instead, padding the head to size
 * bytes. */
static void head_of(char *buf, size_t cap, size_t size, int n)
{
    size_t len = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\nHost: x\r\n");
    if (size) {
        len += (size_t)snprintf(buf + len, cap - len, "A: ");
        size_t fill = size - len - 4;
        memset(buf + len, 'v', fill);
        len += fill;
        snprintf(buf + len, cap - len, "\r\n\r\n");
        return;
    }
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "A: b\r\n");
    snprintf(buf + len, cap - len, "\r\n");
}

static void test_http_parse__limits(void **state)
{
    (void)state;
    char buf[1024];
    /* The request line: 64 bytes pass, 65 are 414 (seen before its end). */
    char target[80];
    memset(target, 'a', sizeof(target));
    target[0] = '/';
    snprintf(buf, sizeof(buf), "GET %.*s HTTP/1.1\r\nHost: x\r\n\r\n", 64 - 13, target);
    assert_true(status_of(buf) > 0);
    snprintf(buf, sizeof(buf), "GET %.*s HTTP/1.1\r\nHost: x\r\n\r\n", 65 - 13, target);
    assert_int_equal(status_of(buf), -414);
    snprintf(buf, sizeof(buf), "GET %.*s", 70, target);
    assert_int_equal(status_of(buf), -414); /* no line end yet */
    /* The head: 512 bytes pass, 513 are 431. */
    head_of(buf, sizeof(buf), 512, 1);
    assert_int_equal(strlen(buf), 512);
    assert_int_equal(status_of(buf), 512);
    head_of(buf, sizeof(buf), 513, 1);
    assert_int_equal(status_of(buf), -431);
    /* Fields: 8 pass, 9 are 431. */
    head_of(buf, sizeof(buf), 0, 7);
    assert_true(status_of(buf) > 0);
    head_of(buf, sizeof(buf), 0, 8);
    assert_int_equal(status_of(buf), -431);
    /* Incomplete heads ask for more. */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: x\r\n"), 0);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: x\r\n\r"), 0);
    assert_int_equal(status_of(""), 0);
}

/* Every head fed one byte at a time to one scan gives what the whole does. */
static void test_http_parse__split_at_every_byte(void **state)
{
    (void)state;
    static const char *texts[] = {
        "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        "GET / HTTP/1.1\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\rY\r\n\r\n",
        "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
        "HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    };
    for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
        const char *text = texts[t];
        size_t len = strlen(text);
        struct http_scan whole = {0}, st = {0};
        struct http_parse_error we = {0}, e = {0};
        int want = http_head_scan(&whole, text, len, &lim, &we);
        int got = 0;
        for (size_t i = 1; i <= len && got == 0; i++)
            got = http_head_scan(&st, text, i, &lim, &e);
        assert_int_equal(got, want);
        if (want < 0)
            assert_int_equal(e.status, we.status);
    }
    /* And a head that is split at every point, then parsed, is the same. */
    const char *text = texts[0];
    for (size_t cut = 1; cut < strlen(text); cut++) {
        struct http_scan st = {0};
        struct http_parse_error e = {0};
        int a = http_head_scan(&st, text, cut, &lim, &e);
        int b = a ? a : http_head_scan(&st, text, strlen(text), &lim, &e);
        assert_int_equal(b, (int)(strstr(text, "abc") - text));
    }
}

/* Two heads in one buffer: the first ends where the second begins. */
static void test_http_parse__pipelined(void **state)
{
    (void)state;
    const char *two = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n";
    struct http_scan st = {0};
    struct http_parse_error e = {0};
    int n = http_head_scan(&st, two, strlen(two), &lim, &e);
    assert_int_equal(n, (int)(strstr(two, "GET /2") - two));
    struct http_field f[8];
    struct http_head h = {.fields = f};
    assert_int_equal(http_head_parse(two, (size_t)n, &lim, &h, &e), 0);
    assert_memory_equal(h.target, "/1", 2);
    struct http_scan st2 = {0};
    int m = http_head_scan(&st2, two + n, strlen(two) - (size_t)n, &lim, &e);
    assert_int_equal(m, n);
    assert_int_equal(http_head_parse(two + n, (size_t)m, &lim, &h, &e), 0);
    assert_memory_equal(h.target, "/2", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_parse__simple),
        cmocka_unit_test(test_http_parse__refusals),
        cmocka_unit_test(test_http_parse__nul_in_value),
        cmocka_unit_test(test_http_parse__limits),
        cmocka_unit_test(test_http_parse__split_at_every_byte),
        cmocka_unit_test(test_http_parse__pipelined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
