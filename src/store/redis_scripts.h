/* redis_scripts — the redis store's Lua scripts, the one definition of
 * their argument layouts, and running them.
 *
 * Every write is a script, loaded on each fresh blocking connection
 * (SCRIPT LOAD, the connection's setup hook) and run with EVALSHA; a
 * NOSCRIPT answer (the server restarted, SCRIPT FLUSH, a cluster node new
 * to the handle) loads them again and retries once, which is safe because
 * nothing ran.
 *   append: compares mcp:{ws}:seq with the expected seq; on a match XADDs
 *     every event, PUBLISHes its wire JSON on mcp:events (the "sourceId"
 *     the hub stamps on its events is how a hub recognises its own), sets
 *     the version; else returns the current version (conflict). The
 *     seed's keys (redis_compat.h) are written with redis.pcall and their
 *     errors ignored (a foreign key of another type, an ACL user without
 *     access to them): Redis scripts do not roll back, so a failing
 *     compatibility write must not stop the script after its XADD. Seqs
 *     are compared as decimal strings and ids built in C: Lua numbers are
 *     doubles and would print large seqs as 1e+15. The script checks the
 *     stream's type before its first write, so it cannot fail half-way on
 *     a foreign key.
 *   ingest: a foreign message's events (redis_ingest.c parsed and checked
 *     them): unless its digest key exists (SET NX EX: the same bytes were
 *     ingested within the window, by this hub or another), XADDs them
 *     after the current version (counting in decimal strings) with "w" =
 *     "foreign:<writer>" and sets the version. It PUBLISHes nothing (every
 *     subscriber already has the message) and takes no compare: a foreign
 *     event does not depend on the state, and a hub appending at the same
 *     moment meets the new version as a conflict.
 *   snapshot save: refuses a seq above the version or below the stored
 *     snapshot, in the same script that writes it (atomic with the
 *     version).
 *   trim: refuses upto above the snapshot's seq; XTRIM MINID, then records
 *     the trim point.
 *
 * Layout. Each script's KEYS and ARGV positions are written once, in the
 * REDIS_SCRIPT_<NAME>_* lists below: the C side fills its argument vector
 * by those names, and each script's Lua text begins with a prologue
 * generated from the same lists ("local K_SEQ = KEYS[1]", "local A_N =
 * ARGV[2]", "local E_NF = 1"), after which the Lua body refers to names
 * only. tests/unit/test_redis_scripts.c checks that no body indexes KEYS
 * or ARGV by a number, that every name a body uses is declared, that the
 * positions are consecutive, and that the vector the C side builds holds
 * each value where the script reads it. */
#ifndef COORDHUB_STORE_REDIS_SCRIPTS_H
#define COORDHUB_STORE_REDIS_SCRIPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "core/event.h"
#include "store/redis_args.h"
#include "store/redis_conn.h"

/* X(name, position). K_: KEYS[position]; A_: ARGV[position], a value;
 * P_: an ARGV position (where a repeated block starts); E_ and T_:
 * offsets inside one event's block. */
/* clang-format off */
#define REDIS_SCRIPT_APPEND_KEYS(X) \
    X(K_SEQ, 1)                     \
    X(K_LOG, 2)
#define REDIS_SCRIPT_APPEND_ARGS(X) \
    X(A_EXPECTED, 1)                \
    X(A_N, 2)                       \
    X(A_LAST, 3)                    \
    X(A_CHANNEL, 4)                 \
    X(A_REGISTRY, 5)                \
    X(A_SERVERS, 6)
/* Per event, from its block's start i: the entry id, the count nf of
 * field strings, the fields; then, from j = i + E_FIELDS + nf, the wire
 * JSON and the compatibility operations (redis_compat.h); the next block
 * starts at j + T_END. */
#define REDIS_SCRIPT_APPEND_OFFSETS(X) \
    X(P_EVENTS, 7)                     \
    X(E_ID, 0)                         \
    X(E_NF, 1)                         \
    X(E_FIELDS, 2)                     \
    X(T_WIRE, 0)                       \
    X(T_LOCK_OP, 1)                    \
    X(T_LOCK_KEY, 2)                   \
    X(T_LOCK_VALUE, 3)                 \
    X(T_LOCK_PXAT, 4)                  \
    X(T_REG_OP, 5)                     \
    X(T_REG_ID, 6)                     \
    X(T_REG_MEMBER, 7)                 \
    X(T_END, 8)

#define REDIS_SCRIPT_INGEST_KEYS(X) \
    X(K_SEQ, 1)                     \
    X(K_LOG, 2)                     \
    X(K_SEEN, 3)
#define REDIS_SCRIPT_INGEST_ARGS(X) \
    X(A_WINDOW, 1)                  \
    X(A_N, 2)                       \
    X(A_WRITER, 3)
/* Per event, from its block's start i: nf, then the fields; the next
 * block starts at i + E_FIELDS + nf. */
#define REDIS_SCRIPT_INGEST_OFFSETS(X) \
    X(P_EVENTS, 4)                     \
    X(E_NF, 0)                         \
    X(E_FIELDS, 1)

#define REDIS_SCRIPT_SNAPSHOT_KEYS(X) \
    X(K_SEQ, 1)                       \
    X(K_SNAP, 2)
#define REDIS_SCRIPT_SNAPSHOT_ARGS(X) \
    X(A_SEQ, 1)                       \
    X(A_TEXT, 2)
#define REDIS_SCRIPT_SNAPSHOT_OFFSETS(X)

#define REDIS_SCRIPT_TRIM_KEYS(X) \
    X(K_SNAP, 1)                  \
    X(K_TRIMMED, 2)               \
    X(K_LOG, 3)
#define REDIS_SCRIPT_TRIM_ARGS(X) \
    X(A_UPTO, 1)                  \
    X(A_MINID, 2)
#define REDIS_SCRIPT_TRIM_OFFSETS(X)
/* clang-format on */

/* The C names: REDIS_APPEND_K_SEQ, REDIS_APPEND_A_N, REDIS_APPEND_T_END … */
#define REDIS_SCRIPT_ENUM_(script, name, pos) REDIS_##script##_##name = (pos),
#define REDIS_SCRIPT_APPEND_ENUM_(name, pos) REDIS_SCRIPT_ENUM_(APPEND, name, pos)
#define REDIS_SCRIPT_INGEST_ENUM_(name, pos) REDIS_SCRIPT_ENUM_(INGEST, name, pos)
#define REDIS_SCRIPT_SNAPSHOT_ENUM_(name, pos) REDIS_SCRIPT_ENUM_(SNAPSHOT, name, pos)
#define REDIS_SCRIPT_TRIM_ENUM_(name, pos) REDIS_SCRIPT_ENUM_(TRIM, name, pos)
/* Counts: REDIS_APPEND_NKEYS, REDIS_APPEND_NARGS (the head before the
 * event blocks), …: one char per name in a struct, so its size. */
#define REDIS_SCRIPT_COUNT_(name, pos) char name;
/* clang-format off */
enum { REDIS_SCRIPT_APPEND_KEYS(REDIS_SCRIPT_APPEND_ENUM_) };
enum { REDIS_SCRIPT_APPEND_ARGS(REDIS_SCRIPT_APPEND_ENUM_) };
enum { REDIS_SCRIPT_APPEND_OFFSETS(REDIS_SCRIPT_APPEND_ENUM_) };
enum { REDIS_SCRIPT_INGEST_KEYS(REDIS_SCRIPT_INGEST_ENUM_) };
enum { REDIS_SCRIPT_INGEST_ARGS(REDIS_SCRIPT_INGEST_ENUM_) };
enum { REDIS_SCRIPT_INGEST_OFFSETS(REDIS_SCRIPT_INGEST_ENUM_) };
enum { REDIS_SCRIPT_SNAPSHOT_KEYS(REDIS_SCRIPT_SNAPSHOT_ENUM_) };
enum { REDIS_SCRIPT_SNAPSHOT_ARGS(REDIS_SCRIPT_SNAPSHOT_ENUM_) };
enum { REDIS_SCRIPT_TRIM_KEYS(REDIS_SCRIPT_TRIM_ENUM_) };
enum { REDIS_SCRIPT_TRIM_ARGS(REDIS_SCRIPT_TRIM_ENUM_) };
struct redis_append_keys_ { REDIS_SCRIPT_APPEND_KEYS(REDIS_SCRIPT_COUNT_) };
struct redis_append_args_ { REDIS_SCRIPT_APPEND_ARGS(REDIS_SCRIPT_COUNT_) };
struct redis_ingest_keys_ { REDIS_SCRIPT_INGEST_KEYS(REDIS_SCRIPT_COUNT_) };
struct redis_ingest_args_ { REDIS_SCRIPT_INGEST_ARGS(REDIS_SCRIPT_COUNT_) };
struct redis_snapshot_keys_ { REDIS_SCRIPT_SNAPSHOT_KEYS(REDIS_SCRIPT_COUNT_) };
struct redis_snapshot_args_ { REDIS_SCRIPT_SNAPSHOT_ARGS(REDIS_SCRIPT_COUNT_) };
struct redis_trim_keys_ { REDIS_SCRIPT_TRIM_KEYS(REDIS_SCRIPT_COUNT_) };
struct redis_trim_args_ { REDIS_SCRIPT_TRIM_ARGS(REDIS_SCRIPT_COUNT_) };
enum {
    REDIS_APPEND_NKEYS = sizeof(struct redis_append_keys_),
    REDIS_APPEND_NARGS = sizeof(struct redis_append_args_),
    REDIS_INGEST_NKEYS = sizeof(struct redis_ingest_keys_),
    REDIS_INGEST_NARGS = sizeof(struct redis_ingest_args_),
    REDIS_SNAPSHOT_NKEYS = sizeof(struct redis_snapshot_keys_),
    REDIS_SNAPSHOT_NARGS = sizeof(struct redis_snapshot_args_),
    REDIS_TRIM_NKEYS = sizeof(struct redis_trim_keys_),
    REDIS_TRIM_NARGS = sizeof(struct redis_trim_args_),
};
/* clang-format on */

enum redis_script {
    REDIS_SCRIPT_APPEND,
    REDIS_SCRIPT_SNAPSHOT,
    REDIS_SCRIPT_TRIM,
    REDIS_SCRIPT_INGEST,
    REDIS_SCRIPT_COUNT,
};

/* One name of a script's layout, as the prologue declares it. */
struct redis_script_name {
    const char *name; /* "K_SEQ", "A_N", "E_NF", … */
    int pos;
};

/* A script: its full text (prologue + body), where the body begins, and
 * its layout. */
struct redis_script_info {
    const char *text;
    size_t prologue_len;
    const struct redis_script_name *keys, *args, *offsets;
    size_t nkeys, nargs, noffsets;
};

const struct redis_script_info *redis_script_info(enum redis_script which);

/* The SHA1 of each script as the server named it (hex). */
struct redis_scripts {
    char sha[REDIS_SCRIPT_COUNT][41];
};

/* SCRIPT LOAD every script on rc, filling the struct redis_scripts at arg:
 * the connection's setup hook (redis_conn_setup_fn). */
int redis_scripts_load(void *arg, redisContext *rc, char *why, size_t whylen);

/* Run a's command (built by one of the *_args functions below, or by
 * redis_scripts_begin) on the blocking connection; on NOSCRIPT load the
 * scripts again and retry once. NULL when Redis is unreachable. */
redisReply *redis_scripts_run(struct redis_conn *c, const struct redis_scripts *s,
                              enum redis_script which, struct redis_args *a);

/* Start a's vector: EVALSHA <sha> <nkeys> and keys[0..nkeys), which the
 * caller lays out by the script's K_ names. */
void redis_scripts_begin(struct redis_args *a, const struct redis_scripts *s,
                         enum redis_script which, const char *const *keys, size_t nkeys);
/* Put the current SHA of which into a started vector (before each try). */
void redis_scripts_set_sha(struct redis_args *a, const struct redis_scripts *s,
                           enum redis_script which);

/* One append: the batch evs[0..n) after expected, written by writer
 * (the handle's id, field "w") of workspace ws (the wire JSON names it);
 * compat: maintain the seed's keys. */
struct redis_append_req {
    const char *k_seq, *k_log, *k_servers, *channel;
    const char *writer, *ws;
    bool compat;
    uint64_t expected;
    const struct event *evs;
    size_t n;
};

void redis_scripts_append_args(struct redis_args *a, const struct redis_scripts *s,
                               const struct redis_append_req *req);
/* The append script's answer (not an error reply): 0 with *seq the new
 * version, -ERR_CONFLICT with *seq the current one, or -ERR_STORE
 * (logged). */
int redis_scripts_append_answer(const redisReply *rep, uint64_t *seq);

/* One foreign message's events for the ingest script. */
struct redis_ingest_req {
    const char *k_seq, *k_log, *k_seen;
    const char *window_s; /* the dedupe key's lifetime, seconds */
    const char *w;        /* the entries' "w" field: "foreign:<writer>" */
    const struct event *evs;
    size_t n;
};

void redis_scripts_ingest_args(struct redis_args *a, const struct redis_scripts *s,
                               const struct redis_ingest_req *req);
/* The ingest script's answer: 0 appended, 1 a duplicate, -ERR_STORE. */
int redis_scripts_ingest_answer(const redisReply *rep);

#endif
