/* mcp_http_check — Origin, Host, Accept and protocol-revision checks (see
 * the header). Names compare case-insensitively; ports are decimal, at
 * most 65535, and absent ones are the scheme's (443 for HTTPS, else 80);
 * anything malformed is refused. */
#include "api/mcp_http_check.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rpc/tools.h"

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

/* One parsed "name[:port]" or "[v6][:port]" with the port its scheme
 * implies when absent. */
struct mcp_http_check_hp {
    const char *name;
    size_t n;
    bool bracketed;
    uint16_t port;
};

/* Parse s as a host and port; default_port when it names none. False when
 * malformed: an empty name, a name of other characters than letters,
 * digits, '-', '.' and '_' (bracketed: hex digits, ':' and '.'), a bad
 * port, anything after it. */
static bool mcp_http_check_parse(const char *s, uint16_t default_port,
                                 struct mcp_http_check_hp *out)
{
    bool has_port = false;
    uint16_t port = 0;
    if (!mcp_http_check_hostport(s, &out->name, &out->n, &has_port, &port))
        return false;
    out->bracketed = s[0] == '[';
    for (size_t i = 0; i < out->n; i++) {
        char c = out->name[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        bool ok = out->bracketed ? hex || c == ':' || c == '.'
                                 : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                                       (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_';
        if (!ok)
            return false;
    }
    out->port = has_port ? port : default_port;
    return true;
}

static uint16_t mcp_http_check_default_port(bool tls)
{
    return tls ? 443 : 80;
}

/* A loopback name as a Host or Origin spells it: localhost, 127.0.0.1 or
 * [::1] (an IPv6 literal only in brackets). */
static bool mcp_http_check_hp_loopback(const struct mcp_http_check_hp *hp)
{
    if (hp->bracketed)
        return mcp_http_check_name_is(hp->name, hp->n, "::1");
    return mcp_http_check_loopback_name(hp->name, hp->n);
}

/* Split an origin into https or not and its host and port. */
static bool mcp_http_check_origin_parse(const char *origin, bool *https,
                                        struct mcp_http_check_hp *hp)
{
    const char *rest;
    if (strncasecmp(origin, "http://", 7) == 0) {
        rest = origin + 7;
        *https = false;
    } else if (strncasecmp(origin, "https://", 8) == 0) {
        rest = origin + 8;
        *https = true;
    } else {
        return false;
    }
    return mcp_http_check_parse(rest, mcp_http_check_default_port(*https), hp);
}

bool mcp_http_check_origin(const char *origin, const char *host, const struct mcp_http_bind *b)
{
    if (!origin || !b)
        return false;
    bool https = false;
    struct mcp_http_check_hp o;
    if (!mcp_http_check_origin_parse(origin, &https, &o))
        return false;
    if (mcp_http_check_hp_loopback(&o))
        return true;
    if (b->loopback || !host)
        return false;
    /* Non-loopback bind: the page the hub itself is reached as. */
    struct mcp_http_check_hp h;
    if (!mcp_http_check_parse(host, mcp_http_check_default_port(b->tls), &h))
        return false;
    return https == b->tls && o.bracketed == h.bracketed && o.n == h.n &&
           strncasecmp(o.name, h.name, o.n) == 0 && o.port == h.port;
}

bool mcp_http_check_host(const char *host, const struct mcp_http_bind *b)
{
    if (!host || !b)
        return false;
    struct mcp_http_check_hp h;
    if (!mcp_http_check_parse(host, mcp_http_check_default_port(b->tls), &h))
        return false;
    if (!b->loopback)
        return true;
    if (!mcp_http_check_hp_loopback(&h) && !mcp_http_check_name_is(h.name, h.n, b->host))
        return false;
    return h.port == b->port;
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

/* True when v is a JSON number greater than zero. */
static bool mcp_http_check_positive(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble > 0;
}

bool mcp_http_check_streamed(const cJSON *msg)
{
    if (!cJSON_IsObject(msg))
        return false;
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
    if (!cJSON_IsString(method) || !cJSON_IsObject(params))
        return false;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
    if (cJSON_GetObjectItemCaseSensitive(meta, "progressToken"))
        return true;
    if (strcmp(method->valuestring, "tools/call") != 0)
        return false;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
    if (!cJSON_IsString(name))
        return false;
    /* What the tool's definition says: one that streams does, unless it
     * names the argument that makes it wait and the call does not. */
    const struct tool_def *t = tools_find(name->valuestring);
    if (!t || !t->streams)
        return false;
    if (!t->wait_arg)
        return true;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
    return mcp_http_check_positive(cJSON_GetObjectItemCaseSensitive(args, t->wait_arg));
}

int mcp_http_reply_id_format(char *out, size_t outlen, uint64_t stream, uint64_t n)
{
    int w = snprintf(out, outlen, "r%llu-%llu", (unsigned long long)stream, (unsigned long long)n);
    return w < 0 || (size_t)w >= outlen ? -1 : w;
}

/* Decimal digits at *p up to a non-digit, into *out; false on none or
 * overflow. *p moves past them. */
static bool mcp_http_check_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return true;
}

bool mcp_http_reply_id_parse(const char *text, uint64_t *stream, uint64_t *n)
{
    if (!text || *text != 'r')
        return false;
    const char *p = text + 1;
    uint64_t k = 0, m = 0;
    if (!mcp_http_check_u64(&p, &k) || k == 0 || *p != '-')
        return false;
    p++;
    if (!mcp_http_check_u64(&p, &m) || *p)
        return false;
    *stream = k;
    *n = m;
    return true;
}
