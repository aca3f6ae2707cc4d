/* token — SHA-256 + CRYPTO_memcmp. Comparing digests rather than the
 * secrets themselves gives equal-length inputs to the constant-time
 * compare whatever the candidate's length. */
#include "auth/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

bool token_digest_init(struct token_digest *t, const char *secret, size_t len)
{
    unsigned int n = 0;
    return EVP_Digest(secret, len, t->d, &n, EVP_sha256(), NULL) == 1 && n == TOKEN_DIGEST_LEN;
}

bool token_digest_matches(const struct token_digest *t, const char *candidate, size_t len)
{
    struct token_digest c;
    if (!token_digest_init(&c, candidate, len))
        return false;
    return CRYPTO_memcmp(c.d, t->d, TOKEN_DIGEST_LEN) == 0;
}
