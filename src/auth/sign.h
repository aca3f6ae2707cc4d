/* sign — signed events (docs/security.md, "Signed events"):
 * `X-Coordhub-Signature: t=<unix seconds>,v1=<hex>` where v1 is
 * HMAC-SHA256 over `<t>.<raw body>`.
 *
 * The HMAC key is the 32-byte SHA-256 digest of the credential the
 * request authenticates with (the full `chk_…` key string, or the admin
 * token): the hub stores only that digest, and a client computes it from
 * the string it holds (`printf %s "$KEY" | openssl dgst -sha256 -binary`).
 *
 * A signature is accepted when its time is within ±SIGN_TOLERANCE_S of
 * the hub's clock, its v1 matches (CRYPTO_memcmp), and the pair (signer,
 * v1) was not seen inside the window: struct sign_replay remembers each
 * accepted pair until its time leaves the window. The cache is bounded,
 * overall and per signer (so one credential signing as fast as it can
 * fills only its own quota, never the others' room); when the cache or
 * the signer's quota is full of live entries a new signature is refused
 * (the client retries later) rather than an entry forgotten, which would
 * let a replay through.
 *
 * Parsing and checking do no I/O; time is an argument. */
#ifndef COORDHUB_AUTH_SIGN_H
#define COORDHUB_AUTH_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/token.h"
#include "base/err.h"

#define SIGN_HEADER "X-Coordhub-Signature"
#define SIGN_TOLERANCE_S 300
#define SIGN_MAC_LEN 32
/* Live entries overall and per signer: a signer's quota is about 27
 * signed requests a second over the longest window an entry lives (600 s:
 * t may be 300 s ahead); the whole cache holds 16 full quotas. */
#define SIGN_REPLAY_DEFAULT_CAP 262144
#define SIGN_REPLAY_SIGNER_CAP 16384

/* Parse a header value "t=<digits>,v1=<64 hex>" (items in any order,
 * spaces around items ignored; other items are refused). 0, or
 * -ERR_INVALID with *why (static text). */
COORDHUB_MUST_CHECK int sign_header_parse(const char *value, int64_t *t,
                                          unsigned char v1[SIGN_MAC_LEN], const char **why);

/* HMAC-SHA256(key, "<t>.<body>") into out. false if OpenSSL fails. */
bool sign_compute(const unsigned char key[TOKEN_DIGEST_LEN], int64_t t, const char *body,
                  size_t len, unsigned char out[SIGN_MAC_LEN]);

/* Lower-case hex of mac into out (2 * SIGN_MAC_LEN + 1 bytes). */
void sign_hex(const unsigned char mac[SIGN_MAC_LEN], char *out);

struct sign_replay;

/* A replay cache of at most cap entries (0: SIGN_REPLAY_DEFAULT_CAP), at
 * most per_signer of them for one signer (0: SIGN_REPLAY_SIGNER_CAP). */
struct sign_replay *sign_replay_new(size_t cap, size_t per_signer);
void sign_replay_free(struct sign_replay *r);
/* Entries currently held (for tests and metrics). */
size_t sign_replay_len(const struct sign_replay *r);

enum sign_result {
    SIGN_OK = 0,
    SIGN_MALFORMED,   /* the header cannot be parsed */
    SIGN_STALE,       /* t is outside ±SIGN_TOLERANCE_S of now */
    SIGN_MISMATCH,    /* v1 is not the HMAC of this body */
    SIGN_REPLAYED,    /* this (signer, v1) was accepted before */
    SIGN_CACHE_FULL,  /* too many live signatures to remember another */
    SIGN_SIGNER_FULL, /* this signer's quota of live signatures is full */
    SIGN_INTERNAL,    /* OpenSSL failed */
};

/* Check header (the value of SIGN_HEADER) over body for signer (an id;
 * copied into the cache, at most 63 bytes) whose HMAC key is key, at wall
 * time now_s. On SIGN_OK the signature is remembered; on any other result
 * nothing is, and *why (static text) says what is wrong. */
enum sign_result sign_verify(struct sign_replay *r, const char *signer,
                             const unsigned char key[TOKEN_DIGEST_LEN], const char *header,
                             const char *body, size_t len, int64_t now_s, const char **why);

#endif
