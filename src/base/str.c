/* str — formatted allocation on top of vsnprintf (two passes: measure,
 * then write), so no caller ever sizes a buffer by guesswork. */
#include "base/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "base/xmalloc.h"

char *str_vprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return xstrdup("");
    char *s = xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = str_vprintf(fmt, ap);
    va_end(ap);
    return s;
}

bool str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int str_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *str_percent_decode(const char *s, size_t n, bool encoded_slash)
{
    char *d = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? str_hex_digit(s[i + 1]) : -1;
            int lo = hi >= 0 ? str_hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0) ||
                (!encoded_slash && hi == 2 && lo == 15)) {
                free(d);
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        d[k++] = c;
    }
    d[k] = '\0';
    return d;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 when
 * the bytes there are not one. */
static size_t str_utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0xc2 ? 0 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;
    return len && len <= n && utf8_valid(s, len) ? len : 0;
}

char *str_escape_controls(const char *s)
{
    if (!s)
        return xstrdup("");
    size_t n = strlen(s);
    char *out = xmalloc(n * 6 + 1); /* the worst case: every byte a 6-byte \u00HH */
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char ch = p[i];
        if (ch >= 0x20 && ch < 0x7f) {
            out[w++] = (char)ch;
            i++;
            continue;
        }
        size_t len = ch >= 0x80 ? str_utf8_seq_len(p + i, n - i) : 0;
        if (len == 2 && ch == 0xc2 && p[i + 1] < 0xa0) {
            w += (size_t)snprintf(out + w, 7, "\\u%04x", (unsigned)p[i + 1]);
        } else if (len) {
            memcpy(out + w, p + i, len);
            w += len;
            i += len;
            continue;
        } else if (ch == '\n' || ch == '\r' || ch == '\t') {
            out[w++] = '\\';
            out[w++] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't';
        } else {
            w += (size_t)snprintf(out + w, 5, "\\x%02x", ch);
        }
        i += len ? len : 1;
    }
    out[w] = '\0';
    return out;
}
