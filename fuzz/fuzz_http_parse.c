/* fuzz_http_parse — libFuzzer driver for the strict HTTP/1.1 request head
 * parser (net/http_parse.h).
 *
 * The input is a byte stream as a client would send it. It is scanned
 * whole, and again fed in pieces whose sizes come from the input's first
 * byte; a complete head is parsed, and the bytes after it are taken as
 * the next pipelined head, up to a few heads.
 *
 * Invariants checked (abort() = a finding):
 *   - the piecewise scan gives what the whole scan gives;
 *   - a refusal has a status of 400, 411, 414, 417, 431, 501 or 505, a
 *     code and a message;
 *   - a complete head ends with CRLF CRLF, is at most max_head bytes, and
 *     parses to fields inside it with at most max_fields of them, a
 *     method and target inside its request line and minor 0 or 1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct http_parse_limits lim = {.max_line = 256, .max_head = 2048, .max_fields = 16};

static void check_error(const struct http_parse_error *e)
{
    static const int ok[] = {400, 411, 414, 417, 431, 501, 505};
    bool known = false;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        known = known || e->status == ok[i];
    if (!known || !e->code || !e->message)
        abort();
}

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p >= buf && p + n <= buf + len;
}

/* One head at the start of buf; its length, 0 (incomplete) or -1. */
static int one(const char *buf, size_t len, size_t step)
{
    struct http_scan whole = {0}, st = {0};
    struct http_parse_error we = {0}, e = {0};
    int want = http_head_scan(&whole, buf, len, &lim, &we);
    int got = 0;
    for (size_t n = step < len ? step : len; got == 0; n = n + step < len ? n + step : len) {
        got = http_head_scan(&st, buf, n, &lim, &e);
        if (n == len)
            break;
    }
    if (got != want || (want < 0 && e.status != we.status))
        abort();
    if (want < 0) {
        check_error(&we);
        return -1;
    }
    if (want == 0)
        return 0;
    size_t n = (size_t)want;
    if (n > lim.max_head || n < 4 || memcmp(buf + n - 4, "\r\n\r\n", 4) != 0)
        abort();
    struct http_field fields[16];
    struct http_head h = {.fields = fields};
    if (http_head_parse(buf, n, &lim, &h, &e) != 0) {
        check_error(&e);
        return -1;
    }
    if (h.nfields > lim.max_fields || (h.minor != 0 && h.minor != 1) ||
        !inside(h.method, h.method_len, buf, n) || !inside(h.target, h.target_len, buf, n) ||
        h.method_len == 0 || h.target_len == 0)
        abort();
    for (size_t i = 0; i < h.nfields; i++)
        if (!inside(h.fields[i].name, h.fields[i].name_len, buf, n) ||
            !inside(h.fields[i].value, h.fields[i].value_len, buf, n) || h.fields[i].name_len == 0)
            abort();
    return want;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)(data[0] % 16) + 1;
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    for (int k = 0; k < 4 && len > 0; k++) {
        int n = one(buf, len, step);
        if (n <= 0)
            break;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}
