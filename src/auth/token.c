/* token — SHA-256 + CRYPTO_memcmp. Comparing digests rather than the
 * secrets themselves gives equal-length inputs to the constant-time
 * compare whatever the candidate's length. */
#include "auth/token.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/xmalloc.h"

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

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

bool token_random(unsigned char *buf, size_t n)
{
    return n <= 0x7fffffff && RAND_bytes(buf, (int)n) == 1;
}

void token_cleanse(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

bool token_hmac_sha256(const unsigned char *key, size_t keylen, const void *a, size_t alen,
                       const void *b, size_t blen, unsigned char out[TOKEN_DIGEST_LEN])
{
    bool ok = false;
    size_t outlen = 0;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (ctx && EVP_MAC_init(ctx, key, keylen, params) == 1 && EVP_MAC_update(ctx, a, alen) == 1 &&
        (blen == 0 || EVP_MAC_update(ctx, b, blen) == 1) &&
        EVP_MAC_final(ctx, out, &outlen, TOKEN_DIGEST_LEN) == 1 && outlen == TOKEN_DIGEST_LEN)
        ok = true;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok;
}

bool token_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int token_file_read(const char *path, char **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char buf[TOKEN_FILE_MAX + 1];
    ssize_t n;
    do {
        n = read(fd, buf, TOKEN_FILE_MAX);
    } while (n < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    buf[n] = '\0';
    size_t len = strcspn(buf, " \t\r\n");
    if (len == 0)
        return -ENODATA;
    *out = xstrndup(buf, len);
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}
