/* tls — the server side of TLS for the HTTP face (docs/http-api.md, "TLS"), on
 * OpenSSL.
 *
 * A `struct tls_context` is a certificate chain and its private key loaded
 * from PEM files, with the protocol floor at TLS 1.2, forward-secret AEAD
 * ciphers only for TLS 1.2 (TLS 1.3 suites are all AEAD), no compression
 * and no renegotiation. http.c makes one server-side connection state per
 * accepted connection from it (tls_context_bufferevent).
 *
 * Loading checks what a user gets wrong: a file that cannot be read, a
 * file that holds no PEM certificate or key, and a key that does not
 * belong to the certificate; each has its own message naming the file. */
#ifndef COORDHUB_NET_TLS_H
#define COORDHUB_NET_TLS_H

#include "base/err.h"

struct tls_context;
struct bufferevent;
struct event_base;

/* Load cert_path (PEM: the certificate, then any intermediates) and
 * key_path (PEM private key, unencrypted). On error *out is NULL, *errmsg
 * (caller frees) names the file and the reason, and the result is
 * -errno (the file cannot be opened) or -ERR_INVALID (not a usable PEM
 * certificate or key, or the key does not match the certificate). */
COORDHUB_MUST_CHECK int tls_context_new(const char *cert_path, const char *key_path,
                                        struct tls_context **out, char **errmsg);
/* NULL ok. Connections made from it keep what they need. */
void tls_context_free(struct tls_context *t);
/* A bufferevent for one accepted connection, in the TLS accepting state
 * and without a socket yet (http.c sets it, which starts the handshake);
 * it closes the socket and frees its TLS state when freed. A peer that
 * closes without a close_notify alert ends the connection normally.
 * NULL when out of memory. */
struct bufferevent *tls_context_bufferevent(struct tls_context *t, struct event_base *base);

#endif
