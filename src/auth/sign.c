/* sign — header parsing, HMAC-SHA256 and the replay cache.
 *
 * The replay cache is a map from "<signer> <hex v1>" to an entry that
 * owns that string and the time the entry stops mattering (t + the
 * tolerance: after it, the same signature is refused as stale anyway),
 * and a map from signer to its count of entries. Expired entries are
 * swept (at most once per second of the caller's clock) when the cache
 * or a signer's quota is full, so memory stays within cap entries and no
 * signer holds more than per_signer of them; a cache or quota that is
 * still full after the sweep refuses. */
#include "auth/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token.h"
#include "base/map.h"
#include "base/str.h"
#include "base/xmalloc.h"

#define SIGN_SIGNER_MAX 63
#define SIGN_T_DIGITS_MAX 12 /* unix seconds far beyond any real clock */

struct sign_signer {
    char name[SIGN_SIGNER_MAX + 1]; /* the map key */
    size_t n;                       /* its entries in seen; > 0 while in the map */
};

struct sign_replay_entry {
    char key[SIGN_SIGNER_MAX + 1 + 2 * SIGN_MAC_LEN + 1]; /* the map key */
    int64_t expires_s;
    struct sign_signer *signer; /* borrowed from signers */
};

struct sign_replay {
    struct map seen;    /* key → struct sign_replay_entry (owned) */
    struct map signers; /* signer → struct sign_signer (owned) */
    size_t cap, per_signer;
    int64_t swept_s; /* the caller's time of the last sweep; INT64_MIN: never */
};

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
                int hi = str_hex_digit(p[3 + 2 * i]), lo = str_hex_digit(p[4 + 2 * i]);
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

bool sign_compute(const unsigned char key[TOKEN_DIGEST_LEN], int64_t t, const char *body,
                  size_t len, unsigned char out[SIGN_MAC_LEN])
{
    char prefix[STR_INT_LEN + 1]; /* "<t>." */
    int n = snprintf(prefix, sizeof(prefix), "%lld.", (long long)t);
    if (n < 0 || (size_t)n >= sizeof(prefix))
        return false;
    return token_hmac_sha256(key, TOKEN_DIGEST_LEN, prefix, (size_t)n, body, len, out);
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

struct sign_replay *sign_replay_new(size_t cap, size_t per_signer)
{
    struct sign_replay *r = xcalloc(1, sizeof(*r));
    map_init(&r->seen);
    map_init(&r->signers);
    r->cap = cap ? cap : SIGN_REPLAY_DEFAULT_CAP;
    r->per_signer = per_signer ? per_signer : SIGN_REPLAY_SIGNER_CAP;
    r->swept_s = INT64_MIN;
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
    it = 0;
    while (map_next(&r->signers, &it, NULL, &v))
        free(v);
    map_deinit(&r->signers);
    free(r);
}

size_t sign_replay_len(const struct sign_replay *r)
{
    return map_len(&r->seen);
}

/* Forget entry e (in seen): its signer's count drops, and a signer with
 * none left is forgotten too. */
static void sign_replay_drop(struct sign_replay *r, struct sign_replay_entry *e)
{
    map_del(&r->seen, e->key);
    struct sign_signer *sg = e->signer;
    if (--sg->n == 0) {
        map_del(&r->signers, sg->name);
        free(sg);
    }
    free(e);
}

/* Drop the entries whose window has passed: one pass to find them (the
 * map must not change while it is iterated), then one to drop them. At
 * most once per second of now_s, so a caller that keeps a full cache
 * full costs one scan a second, not one a request. */
static void sign_replay_sweep(struct sign_replay *r, int64_t now_s)
{
    if (now_s == r->swept_s)
        return;
    r->swept_s = now_s;
    size_t n = 0;
    struct sign_replay_entry **victims = xmalloc((map_len(&r->seen) + 1) * sizeof(*victims));
    size_t it = 0;
    void *v;
    while (map_next(&r->seen, &it, NULL, &v)) {
        struct sign_replay_entry *e = v;
        if (e->expires_s < now_s)
            victims[n++] = e;
    }
    for (size_t i = 0; i < n; i++)
        sign_replay_drop(r, victims[i]);
    free(victims);
}

enum sign_result sign_verify(struct sign_replay *r, const char *signer,
                             const unsigned char key[TOKEN_DIGEST_LEN], const char *header,
                             const char *body, size_t len, int64_t now_s, const char **why)
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
    char name[SIGN_SIGNER_MAX + 1];
    snprintf(name, sizeof(name), "%s", signer);
    struct sign_signer *sg = map_get(&r->signers, name);
    if (map_len(&r->seen) >= r->cap || (sg && sg->n >= r->per_signer)) {
        sign_replay_sweep(r, now_s);
        sg = map_get(&r->signers, name); /* the sweep may have forgotten it */
    }
    if (sg && sg->n >= r->per_signer) {
        free(e);
        *why = "this credential signed too many requests inside the window to remember another; "
               "retry later";
        return SIGN_SIGNER_FULL;
    }
    if (map_len(&r->seen) >= r->cap) {
        free(e);
        *why = "too many recent signatures to remember another; retry later";
        return SIGN_CACHE_FULL;
    }
    if (!sg) {
        sg = xcalloc(1, sizeof(*sg));
        memcpy(sg->name, name, sizeof(name));
        map_put(&r->signers, sg->name, sg);
    }
    sg->n++;
    e->signer = sg;
    map_put(&r->seen, e->key, e);
    return SIGN_OK;
}
