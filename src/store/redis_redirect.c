/* redis_redirect — see redis_redirect.h. */
#include "store/redis_redirect.h"

#include <string.h>

#include "base/str.h"

/* A decimal lo..hi spanning exactly [s, end): its value, or -1. */
static long redis_redirect_number(const char *s, const char *end, long hi)
{
    if (s == end || end - s > 6)
        return -1;
    long v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v <= hi ? v : -1;
}

/* "<slot> <host>:<port>" after "MOVED " or "ASK ". */
static void redis_redirect_target(const char *s, struct redis_redirect *out)
{
    const char *sp = strchr(s, ' ');
    out->slot = redis_redirect_number(s, sp ? sp : s + strlen(s), 16383);
    if (!sp)
        return;
    const char *addr = sp + 1;
    const char *colon = strrchr(addr, ':');
    if (!colon)
        return;
    long port = redis_redirect_number(colon + 1, colon + 1 + strlen(colon + 1), 65535);
    size_t hlen = (size_t)(colon - addr);
    if (port <= 0 || hlen > REDIS_REDIRECT_HOST_MAX)
        return;
    memcpy(out->host, addr, hlen);
    out->host[hlen] = '\0';
    out->port = (int)port;
    out->has_addr = true;
    out->has_host = hlen > 0;
}

enum redis_redirect_kind redis_redirect_parse(const char *err, struct redis_redirect *out)
{
    memset(out, 0, sizeof(*out));
    out->slot = -1;
    if (!err)
        return out->kind;
    if (str_has_prefix(err, "MOVED ")) {
        out->kind = REDIS_REDIRECT_MOVED;
        redis_redirect_target(err + 6, out);
    } else if (str_has_prefix(err, "ASK ")) {
        out->kind = REDIS_REDIRECT_ASK;
        redis_redirect_target(err + 4, out);
    } else if (str_has_prefix(err, "TRYAGAIN")) {
        out->kind = REDIS_REDIRECT_TRYAGAIN;
    } else if (str_has_prefix(err, "CLUSTERDOWN")) {
        out->kind = REDIS_REDIRECT_CLUSTERDOWN;
    }
    return out->kind;
}
