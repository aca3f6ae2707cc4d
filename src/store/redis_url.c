/* redis_url — strict parsing of redis:// and unix:// store URLs.
 *
 * The parser walks the URL once, left to right: scheme, optional userinfo
 * (up to the last '@' before the path, so a password may contain '@' only
 * percent-encoded), host, port, db. Every refusal names the part that is
 * wrong and never quotes it, because the URL may carry a password. */
#include "store/redis_url.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/xmalloc.h"

static int redis_url_fail(struct redis_url *out, char **errmsg, const char *why)
{
    redis_url_deinit(out);
    *errmsg = xstrdup(why);
    return -ERR_INVALID;
}

/* Parse the decimal digits p[0..n) into *v, which must not exceed max. */
static bool redis_url_number(const char *p, size_t n, long max, long *v)
{
    if (n == 0 || n > 10)
        return false;
    long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        x = x * 10 + (p[i] - '0');
    }
    if (x > max)
        return false;
    *v = x;
    return true;
}

static bool redis_url_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

/* userinfo "user:pass" or ":pass" in p[0..n). */
static int redis_url_parse_userinfo(const char *p, size_t n, struct redis_url *out, char **errmsg)
{
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return redis_url_fail(out, errmsg, "redis URL user has no password (write user:password@)");
    size_t ulen = (size_t)(colon - p);
    size_t plen = n - ulen - 1;
    if (plen == 0)
        return redis_url_fail(out, errmsg, "redis URL password is empty");
    /* An encoded NUL is refused: AUTH arguments are C strings. */
    out->pass = str_percent_decode(colon + 1, plen, true);
    if (!out->pass)
        return redis_url_fail(out, errmsg, "redis URL password has a bad %-escape");
    if (ulen > 0) {
        out->user = str_percent_decode(p, ulen, true);
        if (!out->user)
            return redis_url_fail(out, errmsg, "redis URL user has a bad %-escape");
    }
    return 0;
}

/* host[:port] in p[0..n). */
static int redis_url_parse_hostport(const char *p, size_t n, struct redis_url *out, char **errmsg)
{
    size_t hlen;
    const char *after;
    if (n > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close)
            return redis_url_fail(out, errmsg, "redis URL IPv6 host lacks its ']'");
        hlen = (size_t)(close - p - 1);
        for (size_t i = 1; i <= hlen; i++) {
            char c = p[i];
            if (!(isxdigit((unsigned char)c) || c == ':' || c == '.'))
                return redis_url_fail(out, errmsg, "redis URL IPv6 host is malformed");
        }
        if (hlen == 0)
            return redis_url_fail(out, errmsg, "redis URL has no host");
        out->host = xstrndup(p + 1, hlen);
        after = close + 1;
    } else {
        const char *colon = memchr(p, ':', n);
        hlen = colon ? (size_t)(colon - p) : n;
        if (hlen == 0)
            return redis_url_fail(out, errmsg, "redis URL has no host");
        for (size_t i = 0; i < hlen; i++) {
            if (!redis_url_host_char(p[i]))
                return redis_url_fail(out, errmsg,
                                      "redis URL host has a character that is not "
                                      "allowed (letters, digits, '.', '-', '_')");
        }
        out->host = xstrndup(p, hlen);
        after = p + hlen;
    }
    size_t left = n - (size_t)(after - p);
    out->port = REDIS_URL_DEFAULT_PORT;
    if (left == 0)
        return 0;
    long port = 0;
    if (after[0] != ':')
        return redis_url_fail(out, errmsg, "redis URL has junk after the host");
    if (!redis_url_number(after + 1, left - 1, 65535, &port) || port == 0)
        return redis_url_fail(out, errmsg, "redis URL port must be a number 1..65535");
    out->port = (int)port;
    return 0;
}

/* unix://[userinfo@]/path[?db=N]: rest is what follows "unix://". */
static int redis_url_parse_unix(const char *rest, struct redis_url *out, char **errmsg)
{
    const char *at = strstr(rest, "@/");
    if (at && memchr(rest, '/', (size_t)(at - rest)) == NULL) {
        int rc = redis_url_parse_userinfo(rest, (size_t)(at - rest), out, errmsg);
        if (rc)
            return rc;
        rest = at + 1;
    }
    if (rest[0] != '/')
        return redis_url_fail(out, errmsg,
                              "unix store URL must be unix:///absolute/path/redis.sock");
    const char *query = strchr(rest, '?');
    size_t plen = query ? (size_t)(query - rest) : strlen(rest);
    if (plen <= 1)
        return redis_url_fail(out, errmsg, "unix store URL has no socket path");
    if (memchr(rest, '#', strlen(rest)))
        return redis_url_fail(out, errmsg, "unix store URL must not have a fragment");
    if (query) {
        long db = 0;
        if (strncmp(query, "?db=", 4) != 0)
            return redis_url_fail(out, errmsg, "unix store URL query may only be ?db=N");
        if (!redis_url_number(query + 4, strlen(query + 4), INT32_MAX, &db))
            return redis_url_fail(out, errmsg, "redis URL database must be a number 0..2147483647");
        out->db = (int)db;
    }
    out->is_unix = true;
    out->path = xstrndup(rest, plen);
    return 0;
}

int redis_url_parse(const char *url, struct redis_url *out, char **errmsg)
{
    memset(out, 0, sizeof(*out));
    *errmsg = NULL;
    if (!url)
        return redis_url_fail(out, errmsg, "empty store URL");
    if (strncmp(url, "unix://", 7) == 0)
        return redis_url_parse_unix(url + 7, out, errmsg);
    if (strncmp(url, "redis://", 8) != 0)
        return redis_url_fail(out, errmsg, "redis store URL must start with redis:// or unix://");
    const char *auth = url + 8;
    if (strpbrk(auth, "?#"))
        return redis_url_fail(out, errmsg, "redis URL must not have a query or fragment");
    const char *slash = strchr(auth, '/');
    size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
    /* The last '@' of the authority ends the userinfo. */
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    int rc = 0;
    const char *hp = auth;
    if (at) {
        rc = redis_url_parse_userinfo(auth, (size_t)(at - auth), out, errmsg);
        if (rc)
            return rc;
        hp = at + 1;
    }
    rc = redis_url_parse_hostport(hp, alen - (size_t)(hp - auth), out, errmsg);
    if (rc)
        return rc;
    if (slash && slash[1] != '\0') {
        long db = 0;
        if (!redis_url_number(slash + 1, strlen(slash + 1), INT32_MAX, &db))
            return redis_url_fail(out, errmsg, "redis URL database must be a number 0..2147483647");
        out->db = (int)db;
    }
    return 0;
}

void redis_url_deinit(struct redis_url *u)
{
    if (!u)
        return;
    free(u->host);
    free(u->path);
    free(u->user);
    if (u->pass)
        memset(u->pass, 0, strlen(u->pass));
    free(u->pass);
    memset(u, 0, sizeof(*u));
}
