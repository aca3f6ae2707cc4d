/* token — checking a presented secret against the admin token (DESIGN §5).
 *
 * Only the token's SHA-256 digest is kept. A candidate is hashed and the
 * two digests are compared with CRYPTO_memcmp, so the time taken does not
 * depend on where a wrong candidate differs, nor on its length. The API
 * keys of a later increment will be checked the same way (they are stored
 * as SHA-256 too).
 *
 * This header includes nothing of OpenSSL's: its headers define names
 * (ERR_STATE) that clash with base/err.h. */
#ifndef COORDHUB_AUTH_TOKEN_H
#define COORDHUB_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_DIGEST_LEN 32

struct token_digest {
    unsigned char d[TOKEN_DIGEST_LEN];
};

/* Digest len bytes of secret into t. false if SHA-256 is unavailable. */
bool token_digest_init(struct token_digest *t, const char *secret, size_t len);
/* True when the len bytes of candidate hash to t, in constant time. */
bool token_digest_matches(const struct token_digest *t, const char *candidate, size_t len);

#endif
