/* fuzz_redis_redirect — libFuzzer driver for the parser of Redis Cluster
 * redirections (store/redis_redirect.c).
 *
 * The input is taken as an error reply's text (cut at the first NUL).
 * Invariants checked (abort() = a finding):
 *   - the kind is one of the enum's, and it follows from the prefix alone
 *     ("MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN", else none);
 *   - only MOVED and ASK carry an address; with one, the port is
 *     1..65535, the host is NUL-terminated within its buffer, has_host
 *     says whether it is empty, and "<host>:<port>" ends the input;
 *   - the slot is -1 or 0..16383;
 *   - parsing is a function of the text: a second parse agrees. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"
#include "store/redis_redirect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static void fuzz_check_kind(const char *err, enum redis_redirect_kind kind)
{
    enum redis_redirect_kind want = REDIS_REDIRECT_NONE;
    if (fuzz_prefix(err, "MOVED "))
        want = REDIS_REDIRECT_MOVED;
    else if (fuzz_prefix(err, "ASK "))
        want = REDIS_REDIRECT_ASK;
    else if (fuzz_prefix(err, "TRYAGAIN"))
        want = REDIS_REDIRECT_TRYAGAIN;
    else if (fuzz_prefix(err, "CLUSTERDOWN"))
        want = REDIS_REDIRECT_CLUSTERDOWN;
    if (kind != want)
        abort();
}

static void fuzz_check_addr(const char *err, const struct redis_redirect *rd)
{
    bool targeted = rd->kind == REDIS_REDIRECT_MOVED || rd->kind == REDIS_REDIRECT_ASK;
    if (!rd->has_addr) {
        if (rd->has_host || rd->port != 0)
            abort();
        return;
    }
    if (!targeted || rd->port < 1 || rd->port > 65535)
        abort();
    size_t hlen = strnlen(rd->host, sizeof(rd->host));
    if (hlen == sizeof(rd->host) || rd->has_host != (hlen > 0))
        abort();
    /* "<host>:<port>" ends the input (the port may have leading zeros). */
    const char *colon = strrchr(err, ':');
    if (!colon || strtol(colon + 1, NULL, 10) != rd->port || (size_t)(colon - err) < hlen ||
        memcmp(colon - hlen, rd->host, hlen) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *err = xstrndup((const char *)data, size);
    struct redis_redirect rd, again;
    enum redis_redirect_kind kind = redis_redirect_parse(err, &rd);
    if (kind != rd.kind)
        abort();
    fuzz_check_kind(err, kind);
    fuzz_check_addr(err, &rd);
    if (rd.slot < -1 || rd.slot > 16383)
        abort();
    redis_redirect_parse(err, &again);
    if (memcmp(&rd, &again, sizeof(rd)) != 0)
        abort();
    free(err);
    return 0;
}
