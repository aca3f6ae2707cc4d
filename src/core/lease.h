/* lease — the lease table: who holds which file or pattern, until when.
 *
 * A key is a normalised file path or a pattern (path.h); the two live in
 * separate namespaces (a pattern lease "src/main.c" is not the file lease
 * "src/main.c", though they conflict). A key has one exclusive holder or
 * any number of shared holders, at most one per agent. Each holder carries
 * its fencing token (the seq of its granting event).
 *
 * Indexes, so the hot path never walks every lease: files and patterns
 * are hash maps by key; every holder is also on its agent's list and in a
 * min-heap by expiry. Conflict checks for a file cost O(holders of that
 * file + pattern keys); for a pattern O(pattern keys + file keys sharing
 * its literal prefix test), which is the one linear scan, accepted because
 * pattern leases are rare and short-prefix patterns are coarse anyway.
 *
 * The table knows nothing about events or time beyond the numbers it is
 * given; the workspace decides what may be granted. */
#ifndef COORDHUB_CORE_LEASE_H
#define COORDHUB_CORE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/map.h"

enum lease_mode {
    LEASE_EXCLUSIVE = 0,
    LEASE_SHARED,
};

struct lease_key;

struct lease {
    struct lease_key *key; /* the key this holder is on (owned by the table) */
    const char *agent_id;  /* borrowed from the table's per-agent record (interned) */
    char *reason;          /* owned, may be NULL */
    char *task_id;         /* owned, may be NULL: set for task leases */
    struct lease *next_in_key;
    struct lease *agent_prev, *agent_next;
    uint64_t token;     /* seq of the granting event */
    int64_t locked_at;  /* ms since epoch */
    int64_t expires_at; /* ms since epoch */
    int64_t ttl_ms;     /* the TTL last granted or renewed with */
    uint32_t heap_idx;  /* position in the expiry heap */
    enum lease_mode mode;
};

struct lease_key {
    struct lease *holders; /* singly linked, insertion order */
    size_t prefix_len;     /* patterns: wildmatch_prefix_len(key) */
    bool pattern;
    char key[]; /* the key itself (allocated with the record); the map key */
};

struct lease_agent {
    char *agent_id; /* owned; the map key */
    struct lease *head;
    size_t count;
};

struct lease_table {
    struct map files;    /* key -> struct lease_key */
    struct map patterns; /* key -> struct lease_key */
    struct map agents;   /* agent id -> struct lease_agent */
    struct lease **heap; /* owned array; min-heap on expires_at */
    uint32_t len, cap;   /* holders in the heap (= all holders) */
};

/* A vector of borrowed holder pointers. */
struct lease_vec {
    struct lease **items; /* owned array */
    size_t len, cap;
};

void lease_table_init(struct lease_table *t);
/* Free every key and holder. NULL ok. */
void lease_table_deinit(struct lease_table *t);
static inline size_t lease_table_len(const struct lease_table *t)
{
    return t->len;
}

/* The key record, or NULL when nobody holds key. */
struct lease_key *lease_table_key(const struct lease_table *t, const char *key, bool pattern);
/* agent's holder on key, or NULL. */
struct lease *lease_table_holder(const struct lease_table *t, const char *key, bool pattern,
                                 const char *agent_id);
/* Add a holder (agent must not already hold key). Strings are copied;
 * reason and task_id may be NULL. Never fails. */
struct lease *lease_table_insert(struct lease_table *t, const char *key, bool pattern,
                                 const char *agent_id, enum lease_mode mode, uint64_t token,
                                 const char *reason, const char *task_id, int64_t locked_at,
                                 int64_t expires_at, int64_t ttl_ms);
/* Remove and free one holder (and its key when it was the last). */
void lease_table_remove(struct lease_table *t, struct lease *l);
/* Move l's expiry (keeps the heap ordered). */
void lease_table_set_expiry(struct lease_table *t, struct lease *l, int64_t expires_at,
                            int64_t ttl_ms);
/* Replace l's reason / task id (strings copied; NULL clears). */
void lease_table_set_reason(struct lease *l, const char *reason);
void lease_table_set_task(struct lease *l, const char *task_id);

/* Append to out every holder of another agent than self (NULL: nobody
 * is excluded) on a key that overlaps key: for a file, holders of that
 * file and of patterns matching it; for a pattern, holders of overlapping
 * patterns and of files it matches. Only holders that conflict with a
 * request in mode are added (exclusive conflicts with all, shared only
 * with exclusive holders); any_mode adds every holder regardless.
 * Holders with expires_at <= now_ms are skipped unless include_expired. */
void lease_table_conflicts(const struct lease_table *t, const char *key, bool pattern,
                           const char *self, enum lease_mode mode, bool any_mode, int64_t now_ms,
                           bool include_expired, struct lease_vec *out);

/* agent's holders (list head, follow agent_next), or NULL. */
struct lease *lease_table_agent_leases(const struct lease_table *t, const char *agent_id);
size_t lease_table_agent_count(const struct lease_table *t, const char *agent_id);
/* Append every holder with expires_at <= now_ms to out. */
void lease_table_expired(const struct lease_table *t, int64_t now_ms, struct lease_vec *out);
/* Earliest expiry, INT64_MAX when the table is empty. */
int64_t lease_table_next_expiry(const struct lease_table *t);
/* Append every holder to out. */
void lease_table_all(const struct lease_table *t, struct lease_vec *out);

/* Sort holders by (key, pattern flag, agent id): the canonical order. */
void lease_vec_sort(struct lease_vec *v);
void lease_vec_push(struct lease_vec *v, struct lease *l);
void lease_vec_deinit(struct lease_vec *v);

const char *lease_mode_name(enum lease_mode m);
int lease_mode_parse(const char *s, enum lease_mode *out);

/* The record {file, pattern?:true, agentId, reason, mode, token, lockedAt,
 * expiresAt, ttl (s), taskId?}. Caller owns. */
cJSON *lease_to_json(const struct lease *l);
/* Parse such a record and insert it. -ERR_INVALID (t unchanged) when
 * malformed or when the agent already holds that key. */
COORDHUB_MUST_CHECK int lease_table_insert_json(struct lease_table *t, const cJSON *rec);

#endif
