/* mcp_http_check — Origin, Host, Accept and protocol-revision checks (see
 * the header). Names compare case-insensitively; ports are decimal, at
 * most 65535; anything malformed is refused. */
#include "api/mcp_http_check.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

bool mcp_http_check_version(const char *version)
{
    return version && (strcmp(version, "2025-11-25") == 0 || strcmp(version, "2025-06-18") == 0 ||
                       strcmp(version, "2025-03-26") == 0);
}

/* Port text: 1–5 digits up to 65535. */
static bool mcp_http_check_port(const char *p, size_t n, uint16_t *out)
{
    if (n == 0 || n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

/* Split "name[:port]" / "[v6][:port]": *name (brackets stripped) of *nlen
 * bytes, *has_port and *port. False when malformed. */
static bool mcp_http_check_hostport(const char *s, const char **name, size_t *nlen, bool *has_port,
                                    uint16_t *port)
{
    const char *rest;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close)
            return false;
        *name = s + 1;
        *nlen = (size_t)(close - s - 1);
        rest = close + 1;
    } else {
        const char *colon = strchr(s, ':');
        *name = s;
        *nlen = colon ? (size_t)(colon - s) : strlen(s);
        rest = s + *nlen;
    }
    if (*nlen == 0)
        return false;
    *has_port = false;
    if (*rest == '\0')
        return true;
    if (*rest != ':')
        return false;
    *has_port = true;
    return mcp_http_check_port(rest + 1, strlen(rest + 1), port);
}

static bool mcp_http_check_name_is(const char *name, size_t n, const char *want)
{
    return want && strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static bool mcp_http_check_loopback_name(const char *name, size_t n)
{
    return mcp_http_check_name_is(name, n, "localhost") ||
           mcp_http_check_name_is(name, n, "127.0.0.1") || mcp_http_check_name_is(name, n, "::1");
}

bool mcp_http_check_origin(const char *origin)
{
    if (!origin)
        return false;
    const char *rest;
    if (strncasecmp(origin, "http://", 7) == 0)
        rest = origin + 7;
    else if (strncasecmp(origin, "https://", 8) == 0)
        rest = origin + 8;
    else
        return false;
    const char *name;
    size_t n;
    bool has_port;
    uint16_t port;
    if (!mcp_http_check_hostport(rest, &name, &n, &has_port, &port))
        return false;
    /* An unbracketed "::1" would have been split at its first colon. */
    if (rest[0] != '[' && memchr(name, ':', n))
        return false;
    if (rest[0] == '[' && !mcp_http_check_name_is(name, n, "::1"))
        return false;
    return mcp_http_check_loopback_name(name, n);
}

bool mcp_http_check_host(const char *host, const char *bound_host, uint16_t bound_port)
{
    if (!host)
        return false;
    const char *name;
    size_t n;
    bool has_port;
    uint16_t port = 80;
    if (!mcp_http_check_hostport(host, &name, &n, &has_port, &port))
        return false;
    if (host[0] == '[' ? !mcp_http_check_name_is(name, n, "::1") &&
                             !mcp_http_check_name_is(name, n, bound_host)
                       : !mcp_http_check_loopback_name(name, n) &&
                             !mcp_http_check_name_is(name, n, bound_host))
        return false;
    if (!has_port)
        port = 80;
    return port == bound_port;
}

/* True when the comma-separated list holds the media range want (its
 * parameters after ';' ignored, case-insensitive). */
static bool mcp_http_check_accept_has(const char *accept, const char *want)
{
    size_t wl = strlen(want);
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',' && *end != ';' && *end != ' ' && *end != '\t')
            end++;
        if ((size_t)(end - p) == wl && strncasecmp(p, want, wl) == 0)
            return true;
        while (*end && *end != ',')
            end++;
        p = end;
    }
    return false;
}

bool mcp_http_check_accept(const char *accept, bool want_json, bool want_sse)
{
    if (!accept)
        return false;
    if (mcp_http_check_accept_has(accept, "*/*"))
        return true;
    if (want_json && !mcp_http_check_accept_has(accept, "application/json") &&
        !mcp_http_check_accept_has(accept, "application/*"))
        return false;
    if (want_sse && !mcp_http_check_accept_has(accept, "text/event-stream") &&
        !mcp_http_check_accept_has(accept, "text/*"))
        return false;
    return true;
}
