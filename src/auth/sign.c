/* sign — header parsing, HMAC-SHA256 and the replay cache.
 *
 * The replay cache is a map from "<signer> <hex v1>" to an entry that
 * owns that string and the time the entry stops mattering (t + the
 * tolerance: after it, the same signature is refused as stale anyway).
 * Expired entries are swept when the cache is full, so memory stays
 * within cap entries; a cache that is still full after the sweep refuses. */
#include "auth/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token.h"
#include "base/map.h"
#include "base/xmalloc.h"

#define SIGN_SIGNER_MAX 63
#define SIGN_T_DIGITS_MAX 12 /* unix seconds far beyond any real clock */

struct sign_replay_entry {
    char key[SIGN_SIGNER_MAX + 1 + 2 * SIGN_MAC_LEN + 1]; /* the map key */
    int64_t expires_s;
};

struct sign_replay {
    struct map seen; /* key → struct sign_replay_entry (owned) */
    size_t cap;
};

static int sign_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sign_header_parse(const char *value, int64_t *t, unsigned char v1[SIGN_MAC_LEN],
                      const char **why)
{
    bool have_t = false, have_v1 = false;
    const char *p = value ? value : "";
    *why = NULL;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *b = end;
        while (b > p && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        size_t n = (size_t)(b - p);
        if (n > 2 && memcmp(p, "t=", 2) == 0) {
            if (have_t || n - 2 > SIGN_T_DIGITS_MAX) {
                *why = "t= must appear once and be at most 12 digits";
                return -ERR_INVALID;
            }
            int64_t v = 0;
            for (const char *q = p + 2; q < b; q++) {
                if (*q < '0' || *q > '9') {
                    *why = "t= must be unix seconds (digits only)";
                    return -ERR_INVALID;
                }
                v = v * 10 + (*q - '0');
            }
            *t = v;
            have_t = true;
        } else if (n > 3 && memcmp(p, "v1=", 3) == 0) {
            if (have_v1 || n - 3 != 2 * SIGN_MAC_LEN) {
                *why = "v1= must appear once and be 64 hex characters (HMAC-SHA256)";
                return -ERR_INVALID;
            }
            for (size_t i = 0; i < SIGN_MAC_LEN; i++) {
                int hi = sign_hex_value(p[3 + 2 * i]), lo = sign_hex_value(p[4 + 2 * i]);
                if (hi < 0 || lo < 0) {
                    *why = "v1= must be 64 hex characters (HMAC-SHA256)";
                    return -ERR_INVALID;
                }
                v1[i] = (unsigned char)(hi << 4 | lo);
            }
            have_v1 = true;
        } else if (n > 0) {
            *why = "the header holds only t=<unix seconds> and v1=<hex>, comma-separated";
            return -ERR_INVALID;
        }
        p = *end ? end + 1 : end;
    }
    if (!have_t || !have_v1) {
        *why = "the header needs both t=<unix seconds> and v1=<hex>";
        return -ERR_INVALID;
    }
    return 0;
}

bool sign_compute(const unsigned char key[32], int64_t t, const char *body, size_t len,
                  unsigned char out[SIGN_MAC_LEN])
{
    char prefix[32];
    int n = snprintf(prefix, sizeof(prefix), "%lld.", (long long)t);
    if (n < 0 || (size_t)n >= sizeof(prefix))
        return false;
    return token_hmac_sha256(key, 32, prefix, (size_t)n, body, len, out);
}

void sign_hex(const unsigned char mac[SIGN_MAC_LEN], char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < SIGN_MAC_LEN; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[2 * SIGN_MAC_LEN] = '\0';
}

struct sign_replay *sign_replay_new(size_t cap)
{
    struct sign_replay *r = xcalloc(1, sizeof(*r));
    map_init(&r->seen);
    r->cap = cap ? cap : SIGN_REPLAY_DEFAULT_CAP;
    return r;
}

void sign_replay_free(struct sign_replay *r)
{
    if (!r)
        return;
    size_t it = 0;
    void *v;
    while (map_next(&r->seen, &it, NULL, &v))
        free(v);
    map_deinit(&r->seen);
    free(r);
}

size_t sign_replay_len(const struct sign_replay *r)
{
    return map_len(&r->seen);
}

/* Drop the entries whose window has passed. */
static void sign_replay_sweep(struct sign_replay *r, int64_t now_s)
{
    for (;;) {
        struct sign_replay_entry *victim = NULL;
        size_t it = 0;
        void *v;
        while (map_next(&r->seen, &it, NULL, &v)) {
            struct sign_replay_entry *e = v;
            if (e->expires_s < now_s) {
                victim = e;
                break;
            }
        }
        if (!victim)
            return;
        map_del(&r->seen, victim->key);
        free(victim);
    }
}

enum sign_result sign_verify(struct sign_replay *r, const char *signer, const unsigned char key[32],
                             const char *header, const char *body, size_t len, int64_t now_s,
                             const char **why)
{
    int64_t t = 0;
    unsigned char v1[SIGN_MAC_LEN], want[SIGN_MAC_LEN];
    if (sign_header_parse(header, &t, v1, why) != 0)
        return SIGN_MALFORMED;
    if (t < now_s - SIGN_TOLERANCE_S || t > now_s + SIGN_TOLERANCE_S) {
        *why = "the signature's time t= is more than 300 s away from the hub's clock (stale or "
               "from the future)";
        return SIGN_STALE;
    }
    if (!sign_compute(key, t, body, len, want)) {
        *why = "cannot compute HMAC-SHA256 (OpenSSL failed)";
        return SIGN_INTERNAL;
    }
    if (!token_equal(want, v1, SIGN_MAC_LEN)) {
        *why = "the signature does not match: v1 must be HMAC-SHA256 over '<t>.<raw body>' keyed "
               "with the SHA-256 digest of the credential";
        return SIGN_MISMATCH;
    }
    struct sign_replay_entry *e = xcalloc(1, sizeof(*e));
    char hex[2 * SIGN_MAC_LEN + 1];
    sign_hex(v1, hex);
    snprintf(e->key, sizeof(e->key), "%.*s %s", SIGN_SIGNER_MAX, signer, hex);
    e->expires_s = t + SIGN_TOLERANCE_S;
    if (map_get(&r->seen, e->key)) {
        free(e);
        *why = "this signature was used before (replay): sign each request with a new time";
        return SIGN_REPLAYED;
    }
    if (map_len(&r->seen) >= r->cap)
        sign_replay_sweep(r, now_s);
    if (map_len(&r->seen) >= r->cap) {
        free(e);
        *why = "too many recent signatures to remember another; retry later";
        return SIGN_CACHE_FULL;
    }
    map_put(&r->seen, e->key, e);
    return SIGN_OK;
}
