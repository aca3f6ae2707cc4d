/* keys — the API keys of the HTTP face (docs/security.md) and their file.
 *
 * A key is the string `chk_<id>_<secret>`: id is KEYS_ID_HEX lower-case
 * hex characters (public: it names the key in lists, logs and
 * revocations), secret is 32 random bytes (OpenSSL RAND_bytes) as 64 hex
 * characters. The full string is returned once, by keys_create; the store
 * keeps only its SHA-256 digest (struct token_digest), which is compared
 * in constant time. The digest is also the key of the HMAC of signed
 * events (auth/sign.h), so keys.json alone can neither authenticate nor
 * sign: both need the full string, which only its holder has.
 *
 * Each key carries its rights:
 *   canPublish     event-type patterns a key may publish (POST /events,
 *                  the publish_event tool); none: it may publish nothing
 *   canSubscribe   event-type patterns it may receive (GET /events, event
 *                  reads and waits); none: it may receive no events
 *   canAccessState none | read | write | admin (see docs/security.md)
 *   requireSignature  POST /events must be signed
 *   rate limit     a token bucket: `rate` requests per second, `burst`
 *                  at most at once (in memory only; a restart refills it)
 * The patterns have the syntax of GET /events `types` (core/events_filter.h).
 *
 * The store is the hub's: it holds every key in memory and persists each
 * change to its file (`<state-dir>/keys.json`, mode 0600) before the
 * change is visible — temp file, fsync, rename, then fsync of the
 * directory — so a crash leaves the old file or the new one, and a
 * change the file did not take is undone (the caller gets the error and
 * nothing changed). Revoked keys stay in the file with their revocation
 * time; they never authenticate again. A key record is never freed before
 * the store, so callers may keep `const struct keys_key *` pointers for
 * the store's lifetime (open streams remember the key that opened them).
 *
 * Nothing here logs or prints a secret or a digest; keys_key_json shows
 * what `coordhub key list` may show. */
#ifndef COORDHUB_AUTH_KEYS_H
#define COORDHUB_AUTH_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "auth/token.h"
#include "base/err.h"
#include "core/events_filter.h"

#define KEYS_MAX 1024      /* keys in a store, revoked ones included */
#define KEYS_ID_HEX 12     /* characters of a key id */
#define KEYS_SECRET_HEX 64 /* characters of a secret (32 bytes) */
#define KEYS_NAME_MAX 128  /* bytes of a key's name */
#define KEYS_FILE_MAX (4u << 20)
#define KEYS_DEFAULT_RATE 50.0 /* requests per second */
#define KEYS_DEFAULT_BURST 100
#define KEYS_RATE_MIN 0.01 /* requests per second: one per 100 s */
#define KEYS_RATE_MAX 100000.0
#define KEYS_BURST_MAX 100000
#define KEYS_RETRY_MAX_MS 100000.0 /* the longest wait a bucket can need (1 / KEYS_RATE_MIN s) */
/* "chk_" + id + "_" + secret */
#define KEYS_TEXT_LEN (4 + KEYS_ID_HEX + 1 + KEYS_SECRET_HEX)

enum keys_access {
    KEYS_ACCESS_NONE = 0,
    KEYS_ACCESS_READ,
    KEYS_ACCESS_WRITE,
    KEYS_ACCESS_ADMIN,
};

struct keys_key {
    char id[KEYS_ID_HEX + 1];
    char *name;                     /* owned; "" when none was given */
    int64_t created_ms;             /* ms since epoch */
    struct events_filter publish;   /* canPublish (owned); n == 0: nothing */
    struct events_filter subscribe; /* canSubscribe (owned); n == 0: nothing */
    enum keys_access access;        /* canAccessState */
    bool require_signature;
    double rate;    /* requests per second */
    uint32_t burst; /* bucket size */
    bool revoked;
    int64_t revoked_ms;         /* ms since epoch; 0 while not revoked */
    struct token_digest digest; /* SHA-256 of the full key string */
    /* the token bucket (not persisted) */
    double tokens;
    int64_t refill_ns; /* monotonic ns of the last refill; 0: never used */
};

/* What keys_create makes. Strings are borrowed. */
struct keys_spec {
    const char *name;      /* NULL or "": no name */
    const char *publish;   /* comma-separated patterns, NULL: none */
    const char *subscribe; /* comma-separated patterns, NULL: none */
    enum keys_access access;
    bool require_signature;
    double rate;    /* 0: KEYS_DEFAULT_RATE */
    uint32_t burst; /* 0: KEYS_DEFAULT_BURST */
};

struct keys;

/* A store backed by path (copied); nothing is read yet. Never NULL. */
struct keys *keys_new(const char *path);
/* Free the store and every key record. NULL ok. */
void keys_free(struct keys *ks);

/* Read the file: a missing file is an empty store. On error (unreadable,
 * malformed, a bad record) the store stays empty, *errmsg (caller frees)
 * says why and the result is -errno, -ERR_PARSE or -ERR_INVALID. */
COORDHUB_MUST_CHECK int keys_load(struct keys *ks, char **errmsg);

/* Parse "none" | "read" | "write" | "admin". 0 or -ERR_INVALID. */
COORDHUB_MUST_CHECK int keys_access_parse(const char *text, enum keys_access *out);
const char *keys_access_name(enum keys_access a);

/* Make a key from spec and persist it. On 0, *text (caller frees) is the
 * full key string — its only copy — and *out the record. Errors change
 * nothing: -ERR_INVALID (bad spec: *errmsg says which field and why),
 * -ERR_TOO_LARGE (KEYS_MAX keys), -ERR_INTERNAL (no randomness) or the
 * file's -errno (*errmsg says so). */
COORDHUB_MUST_CHECK int keys_create(struct keys *ks, const struct keys_spec *spec, int64_t now_ms,
                                    char **text, const struct keys_key **out, char **errmsg);

/* Revoke key id and persist it. 0; -ERR_NOT_FOUND (no such id),
 * -ERR_STATE (already revoked) or the file's -errno — all with *errmsg,
 * and nothing changed. *out (may be NULL) is the record. */
COORDHUB_MUST_CHECK int keys_revoke(struct keys *ks, const char *id, int64_t now_ms,
                                    const struct keys_key **out, char **errmsg);

/* The unrevoked key whose string is cred (len bytes, not NUL-terminated),
 * compared in constant time through its digest; NULL otherwise. */
const struct keys_key *keys_authenticate(const struct keys *ks, const char *cred, size_t len);

/* True when cred has the shape of a key string (`chk_` prefix). */
bool keys_text_is_key(const char *cred, size_t len);

/* True when at least one key exists that is not revoked. For the policy
 * that a non-loopback bind needs keys (docs/security.md). NULL ks: false. */
bool keys_any_active(const struct keys *ks);

/* Number of keys (revoked included) and the i-th, in creation order. */
size_t keys_count(const struct keys *ks);
const struct keys_key *keys_at(const struct keys *ks, size_t i);

/* The record as `key list` shows it: id, name, createdAt (ISO), rights,
 * rateLimit, revoked, revokedAt — never the digest. Caller owns. */
cJSON *keys_key_json(const struct keys_key *k);

/* May k publish / receive events of this type (it has patterns and one
 * matches)? */
bool keys_key_may_publish(const struct keys_key *k, const char *type);
bool keys_key_may_subscribe(const struct keys_key *k, const char *type);

/* What a tool does, as far as a key's rights go (the caller reads it off
 * the tool's definition; this layer knows no tool by name). */
#define KEYS_TOOL_READ_ONLY 1u    /* its readOnlyHint */
#define KEYS_TOOL_PUBLISHES 2u    /* it publishes an event of a caller's type */
#define KEYS_TOOL_READS_EVENTS 4u /* it reads the event log */

/* Why a /mcp session opened with k may not call tool (named in the
 * message; caller frees), or NULL when it may: below `write` only
 * read-only tools; one that publishes only a type (publish_type) inside
 * canPublish, and never with requireSignature (such a key's events must
 * be signed POST /events); one that reads events only with canSubscribe
 * patterns. what: KEYS_TOOL_* bits. */
char *keys_key_tool_refusal(const struct keys_key *k, const char *tool, unsigned what,
                            const char *publish_type);

/* Take one request from the bucket of k (a record of ks) at monotonic
 * time now_ns. 0, or -ERR_BUSY when it is empty, with *retry_after_ms
 * (>= 1) until a token is there; -ERR_NOT_FOUND if k is not in ks. */
COORDHUB_MUST_CHECK int keys_rate_take(struct keys *ks, const struct keys_key *k, int64_t now_ns,
                                       int64_t *retry_after_ms);

#endif
