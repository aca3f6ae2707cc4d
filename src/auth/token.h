/* token — checking a presented secret against the admin token
 * (docs/security.md, "Admin over the socket").
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

/* Fill buf with n bytes from OpenSSL's CSPRNG (RAND_bytes). false on failure. */
bool token_random(unsigned char *buf, size_t n);
/* HMAC-SHA256 with key over the bytes a then b (b may be NULL when blen
 * is 0) into out (32 bytes). false if OpenSSL fails. */
bool token_hmac_sha256(const unsigned char *key, size_t keylen, const void *a, size_t alen,
                       const void *b, size_t blen, unsigned char out[TOKEN_DIGEST_LEN]);
/* True when the n bytes at a and b are equal, in constant time
 * (CRYPTO_memcmp). */
bool token_equal(const void *a, const void *b, size_t n);
/* Overwrite n bytes at p in a way the compiler keeps (OPENSSL_cleanse). */
void token_cleanse(void *p, size_t n);

#define TOKEN_FILE_MAX 256 /* bytes of a token file read */

/* Read the admin token file at path (`<state-dir>/token`, one line of
 * hex written at the hub's first start): its first word into *out
 * (caller frees). 0; -ENOENT when the file is missing, -ENODATA when it is
 * empty, another -errno when it cannot be read. */
int token_file_read(const char *path, char **out);

#endif
