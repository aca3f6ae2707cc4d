/* store — picks a backend for a store URL and opens it.
 *
 * URL forms (docs/configuration.md, "Store URLs"):
 *   "memory:"                    the in-memory backend (tests, fakes)
 *   "sqlite:PATH"                SQLite database at PATH
 *   "PATH"                       a plain path, also SQLite. A path that
 *                                looks like "word:…" is read as a scheme,
 *                                so write "./a:b.db" or "sqlite:a:b.db".
 *   "redis://…", "unix://…"      Redis (store_redis.c, redis_url.h).
 *   "rediss://…"                 Redis over TLS: not built, refused with a
 *                                clear message (never a silent fallback).
 *
 * Messages never echo a Redis URL, which may carry a password. */
#include "store/store.h"

#include "base/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/xmalloc.h"

/* Length of the URL's scheme ("sqlite" in "sqlite:x"), or 0 when the URL
 * has none: RFC 3986 scheme characters followed by ':'. */
static size_t store_url_scheme_len(const char *url)
{
    size_t i = 0;
    if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
        return 0;
    for (i = 1; url[i] && url[i] != ':'; i++) {
        char c = url[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '-' || c == '.';
        if (!ok)
            return 0;
    }
    return url[i] == ':' ? i : 0;
}

static bool store_url_has_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    return store_url_scheme_len(url) == n && strncmp(url, scheme, n) == 0;
}

const struct store_ops *store_ops_for_url(const char *url)
{
    if (!url || !url[0])
        return NULL;
    if (store_url_has_scheme(url, "memory"))
        return &store_memory_ops;
    if (store_url_has_scheme(url, "sqlite"))
        return &store_sqlite_ops;
    if (store_url_has_scheme(url, "redis") || store_url_has_scheme(url, "unix"))
        return &store_redis_ops;
    if (store_url_scheme_len(url) == 0)
        return &store_sqlite_ops; /* a plain path */
    return NULL;                  /* rediss (not built) or an unknown scheme */
}

int store_open(const char *url, const struct store_open_opts *opts, struct store **out,
               char **errmsg)
{
    *out = NULL;
    *errmsg = NULL;
    const struct store_ops *ops = store_ops_for_url(url);
    if (ops)
        return ops->open(url, opts, out, errmsg);
    if (!url || !url[0]) {
        *errmsg = xstrdup("empty store URL");
        return -ERR_INVALID;
    }
    if (store_url_has_scheme(url, "rediss")) {
        /* Not -ERR_INVALID: the URL is right, this build cannot serve it. */
        *errmsg = xstrdup("TLS to redis (rediss://) is not built: use redis:// on a trusted "
                          "network or unix:///path/redis.sock");
        return -ERR_UNAVAILABLE;
    }
    char msg[256];
    int n = (int)store_url_scheme_len(url);
    snprintf(msg, sizeof(msg),
             "unknown store URL scheme '%.*s:' (expected sqlite:PATH, a path, memory:, "
             "redis:// or unix://)",
             n > 32 ? 32 : n, url);
    *errmsg = xstrdup(msg);
    return -ERR_INVALID;
}

char *store_url_redact(const char *url)
{
    if (!url)
        return xstrdup("");
    size_t skip = 0;
    if (store_url_has_scheme(url, "redis") || store_url_has_scheme(url, "rediss"))
        skip = strlen(store_url_has_scheme(url, "redis") ? "redis://" : "rediss://");
    else if (store_url_has_scheme(url, "unix"))
        skip = strlen("unix://");
    if (!skip || strncmp(url + skip - 2, "//", 2) != 0)
        return xstrdup(url);
    /* userinfo ends at the last '@' before the path's first '/'. */
    const char *auth = url + skip;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    if (!at && store_url_has_scheme(url, "unix")) {
        /* unix://user:pass@/path: the userinfo ends at "@/". */
        const char *p = strstr(auth, "@/");
        if (p && !memchr(auth, '/', (size_t)(p - auth)))
            at = p;
    }
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (!colon)
        return xstrdup(url);
    size_t head = (size_t)(colon + 1 - url);
    size_t n = head + 3 + strlen(at) + 1;
    char *out = xmalloc(n);
    snprintf(out, n, "%.*s***%s", (int)head, url, at);
    return out;
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

int64_t store_clock_monotone(int64_t *last)
{
    int64_t wall = clock_wall_ms();
    if (wall > *last)
        *last = wall;
    return *last;
}

int store_check_batch(uint64_t expected, const struct event *evs, size_t n)
{
    if (!evs || n == 0 || expected >= (uint64_t)INT64_MAX || n > (uint64_t)INT64_MAX - expected)
        return -ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].seq != expected + 1 + i || !evs[i].type || !evs[i].type[0])
            return -ERR_INVALID;
    }
    return 0;
}

int store_check_meta(const char *key, const char *value)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > STORE_META_KEY_MAX || !value || strlen(value) > STORE_META_VALUE_MAX)
        return -ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return -ERR_INVALID;
    }
    return 0;
}
