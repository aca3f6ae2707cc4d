/* fuzz_redis_url — libFuzzer driver for the Redis store URL parser.
 *
 * The input is taken as a URL (cut at the first NUL). Invariants checked
 * (abort() = a finding):
 *   - the parser returns 0 or -ERR_INVALID, nothing else;
 *   - on a refusal there is a message, it never contains the password part
 *     of the input, and nothing is left owned;
 *   - on success the fields are coherent: the unix form has an absolute
 *     path and no host, the TCP form a host and a port 1..65535, db >= 0,
 *     and a user never comes without a password. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"
#include "store/redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = xstrndup((const char *)data, size);
    struct redis_url u;
    char *err = NULL;
    int rc = redis_url_parse(url, &u, &err);
    if (rc != 0 && rc != -ERR_INVALID)
        abort();
    if (rc != 0) {
        if (!err || u.host || u.path || u.user || u.pass)
            abort();
        /* Messages are fixed texts: none quotes its input. */
        if (strlen(url) >= 8 && strstr(err, url))
            abort();
    } else {
        if (err)
            abort();
        if (u.is_unix && (!u.path || u.path[0] != '/' || u.host))
            abort();
        if (!u.is_unix && (!u.host || !u.host[0] || u.port < 1 || u.port > 65535 || u.path))
            abort();
        if (u.db < 0 || (u.user && !u.pass))
            abort();
    }
    free(err);
    redis_url_deinit(&u);
    free(url);
    return 0;
}
