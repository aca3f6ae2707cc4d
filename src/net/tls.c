/* tls — an OpenSSL server context built once at start-up.
 *
 * Files are opened with fopen first so "cannot read" comes back with the
 * exact errno text, then parsed by OpenSSL; its reason string is appended
 * to our own sentence, never shown alone. The key is parsed separately
 * from its installation so "this is not a key" and "this key is not the
 * certificate's" are told apart.
 *
 * The OpenSSL error queue is per thread; every failure path here drains
 * it (tls_reason) so a later, unrelated check does not read a stale
 * error. */
#include "net/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenSSL's headers typedef ERR_STATE, a name base/err.h gives an error
 * code (included through net/tls.h): theirs is renamed while they are
 * included (nothing here uses it). */
#define ERR_STATE openssl_err_state
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#undef ERR_STATE

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "base/xmalloc.h"

/* TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AEAD ciphers. */
#define TLS_CIPHERS_12                                                                             \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct tls_context {
    SSL_CTX *ctx;
};

/* OpenSSL's reason for the first failure it queued (the root cause;
 * later entries are its consequences), as static text, and an empty
 * queue afterwards. */
static const char *tls_reason(void)
{
    unsigned long first = ERR_get_error();
    while (ERR_get_error() != 0)
        ;
    const char *r = first ? ERR_reason_error_string(first) : NULL;
    return r ? r : "unknown error";
}

/* "<what>: <OpenSSL reason>" (caller frees). */
static char *tls_err_internal(const char *what)
{
    const char *why = tls_reason();
    size_t n = strlen(what) + strlen(why) + 3;
    char *m = xmalloc(n);
    snprintf(m, n, "%s: %s", what, why);
    return m;
}

static char *tls_errf(const char *fmt, const char *path, const char *detail)
{
    size_t n = strlen(fmt) + strlen(path) + strlen(detail) + 1;
    char *m = xmalloc(n);
    snprintf(m, n, fmt, path, detail);
    return m;
}

/* 0 when path can be opened for reading, else -errno with *errmsg set. */
static int tls_check_readable(const char *what, const char *path, char **errmsg)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int err = errno;
        size_t n = strlen(what) + strlen(path) + 128;
        *errmsg = xmalloc(n);
        snprintf(*errmsg, n, "cannot read the TLS %s %s: %s", what, path, strerror(err));
        return -err;
    }
    fclose(f);
    return 0;
}

/* A password callback that supplies none: an encrypted key fails to load
 * instead of prompting on the terminal. */
static int tls_no_password(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)arg;
    return 0;
}

static EVP_PKEY *tls_read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, tls_no_password, NULL);
    fclose(f);
    return k;
}

int tls_context_new(const char *cert_path, const char *key_path, struct tls_context **out,
                    char **errmsg)
{
    *out = NULL;
    *errmsg = NULL;
    int rc = tls_check_readable("certificate", cert_path, errmsg);
    if (!rc)
        rc = tls_check_readable("key", key_path, errmsg);
    if (rc)
        return rc;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        *errmsg = tls_err_internal("cannot create a TLS context");
        return -ERR_INTERNAL;
    }
    EVP_PKEY *key = NULL;
    rc = -ERR_INVALID;
    SSL_CTX_set_default_passwd_cb(ctx, tls_no_password);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1) {
        *errmsg = tls_err_internal("cannot configure TLS");
        rc = -ERR_INTERNAL;
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        *errmsg = tls_errf("the TLS certificate %s is not a PEM certificate chain "
                           "(-----BEGIN CERTIFICATE-----) OpenSSL accepts: %s",
                           cert_path, tls_reason());
        goto fail;
    }
    key = tls_read_key(key_path);
    if (!key) {
        *errmsg = tls_errf("the TLS key %s is not an unencrypted PEM private key "
                           "(-----BEGIN PRIVATE KEY-----): %s",
                           key_path, tls_reason());
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        (void)tls_reason();
        size_t n = strlen(cert_path) + strlen(key_path) + 96;
        *errmsg = xmalloc(n);
        snprintf(*errmsg, n, "the TLS key %s does not match the certificate %s", key_path,
                 cert_path);
        goto fail;
    }
    EVP_PKEY_free(key);
    struct tls_context *t = xcalloc(1, sizeof(*t));
    t->ctx = ctx;
    *out = t;
    return 0;
fail:
    EVP_PKEY_free(key);
    SSL_CTX_free(ctx);
    return rc;
}

void tls_context_free(struct tls_context *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

struct bufferevent *tls_context_bufferevent(struct tls_context *t, struct event_base *base)
{
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl)
        return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    /* Most clients close the TCP connection after a complete response
     * without a close_notify alert: a normal end, not an error. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}
