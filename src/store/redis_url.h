/* redis_url — the parser for Redis store URLs
 * (docs/configuration.md, "Store URLs").
 *
 * Two forms, parsed strictly (no I/O here, bytes in, fields out):
 *   redis://[user:password@]host[:port][/db]
 *   unix://[user:password@]/absolute/path/redis.sock[?db=N]
 * host is a name, an IPv4 address or a bracketed IPv6 address; port
 * defaults to 6379 and must be 1..65535; db defaults to 0 and must be a
 * decimal 0..2147483647 (the server says whether it has that many). The
 * userinfo may be percent-encoded; "user:pass" authenticates as an ACL user
 * (AUTH user pass), ":pass" with the default user (AUTH pass); a user
 * without a password, an empty host, a query or a fragment are refused.
 * Error messages never echo the URL, which may carry a password. */
#ifndef COORDHUB_STORE_REDIS_URL_H
#define COORDHUB_STORE_REDIS_URL_H

#include <stdbool.h>

#include "base/err.h"

#define REDIS_URL_DEFAULT_PORT 6379

struct redis_url {
    bool is_unix; /* unix:// form: path is set, host is NULL */
    char *host;   /* owned; brackets of an IPv6 address removed */
    int port;     /* 1..65535 (0 for the unix form) */
    char *path;   /* owned; absolute socket path (unix form only) */
    char *user;   /* owned, may be NULL: ACL user name */
    char *pass;   /* owned, may be NULL: password */
    int db;       /* SELECT index, 0 by default */
};

/* Parse url into *out (zeroed first). 0, or -ERR_INVALID with *errmsg
 * (caller frees) saying which part is wrong; *out then holds nothing. */
int redis_url_parse(const char *url, struct redis_url *out, char **errmsg) COORDHUB_MUST_CHECK;

/* Release what u owns; u may be reused. NULL ok. */
void redis_url_deinit(struct redis_url *u);

#endif
