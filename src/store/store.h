/* store — the durable event log behind one interface
 * (docs/architecture.md, "The store layer").
 *
 * A backend is a const table of operations (`struct store_ops`):
 * store_memory.c, store_sqlite.c and store_redis.c keep everything static
 * and export only their table. The core never includes SQLite or hiredis;
 * the hub talks to a `struct store *` through these ops.
 *
 * The contract every backend honours (tests/contract runs one suite
 * against each):
 *   - append(expected_seq, events) is compare-and-append, the only write
 *     path: if the log's last seq is expected_seq the events (whose seqs
 *     must be expected_seq+1, +2, …) are appended atomically and durably
 *     *before* the callback reports success; otherwise nothing is written
 *     and the callback reports -ERR_CONFLICT with the current last seq.
 *   - read(since, limit) returns events with seq > since, ascending, at
 *     most limit of them, identical (type, data, timestamp, source) to what
 *     was appended.
 *   - snapshot_save/load keep the newest state snapshot (seq + opaque
 *     text), so a hub starts from a snapshot plus the tail.
 *   - now() is the clock that decides expiry (sqlite/memory: the hub's
 *     wall clock; redis: TIME on the server).
 *   - a backend may trim events at or below its newest snapshot's seq;
 *     first_seq() tells where the log now begins.
 *
 * Asynchrony: append completes through a callback, exactly once, and a
 * caller must be ready for either timing. Local backends complete
 * synchronously: the callback runs before append() returns. The redis
 * backend opened with opts.async (and opts.loop) returns at once and the
 * callback runs later from that loop, which goes on serving meanwhile
 * (the hub keeps one batch in flight, app/hub_commit.h); without
 * opts.async it waits for the answer on a private base before returning.
 * If append() returns an error, the callback is never called (libuv's
 * rule). close() completes what is in flight with -ERR_UNAVAILABLE; it
 * must not be called from inside an append's callback. read_async (redis
 * with opts.async) reads the same way; read, snapshots, trim, meta_claim
 * and now() are synchronous: a network backend makes a blocking round
 * trip for them (docs/architecture.md lists when the hub makes them while
 * serving). */
#ifndef COORDHUB_STORE_STORE_H
#define COORDHUB_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/event.h"

/* The common head of every backend's handle: backends embed it as their
 * first member (`struct store_sqlite { struct store base; … }`). */
struct store {
    const struct store_ops *ops;
};

/* Completion of an append. status: 0 (recorded; current_seq is the new
 * last seq), -ERR_CONFLICT (nothing written; current_seq is the log's last
 * seq), or another negative error (nothing written). */
typedef void (*store_append_cb)(void *arg, int status, uint64_t current_seq);

/* Completion of an asynchronous read: status 0 with the events read (evs
 * is the store's: valid during the callback, take items by moving them
 * out and zeroing len), or a negative error with evs empty. */
typedef void (*store_read_cb)(void *arg, int status, struct event_vec *evs);

/* A read in flight (store_ops.read_async), until its callback. */
struct store_read;

/* Events appended by another writer (a second hub on the same Redis),
 * delivered in seq order. Local single-writer backends never call it.
 * n == 0 (evs NULL): the backend lost its tail of the log (the server
 * closed the connection, or a reconnect failed) — the store may be away.
 * The tail reconnects by itself and misses nothing; the listener may read
 * to learn whether the store still answers. Never called from inside
 * listen(). */
typedef void (*store_listen_cb)(void *arg, const struct event *evs, size_t n);

/* What a store heard on a shared channel from other systems (the redis
 * store's ingestion of foreign events on mcp:events), counted in messages
 * since the handle was opened. */
struct store_ingest_stats {
    uint64_t ingested;  /* appended to the log (one or more events) */
    uint64_t duplicate; /* the same bytes were ingested within the window */
    uint64_t ignored;   /* a hub's own publication, or another workspace's */
    uint64_t invalid;   /* refused: not JSON, a bad type, data, size, … */
    uint64_t reserved;  /* refused: a type of the hub's own namespaces */
    uint64_t failed;    /* valid, but the store could not append it */
};

struct store_open_opts {
    const char *workspace; /* workspace name (key prefix for shared backends) */
    void *loop;            /* struct event_base *, for network backends; may be NULL */
    int durable;           /* 1 (default): fsync-grade durability as documented */
    /* A network backend's appends complete later, from loop (which must
     * be set), and never hold it up; false: append waits for the answer
     * before it returns. Local backends always complete synchronously. */
    bool async;
};

/* Levels of store_open_opts.durable (0 counts as STORE_DURABLE_PROCESS, so
 * a zeroed opts struct gets the documented default).
 *   STORE_DURABLE_PROCESS: an answered append survives the hub being killed
 *     (kill -9, crash, OOM kill). sqlite: WAL + synchronous=NORMAL — the
 *     commit is in the WAL file (OS page cache) before the callback runs,
 *     but an OS crash or power loss may lose the last transactions (never
 *     corrupting the database).
 *   STORE_DURABLE_POWER: also survives OS crash and power loss. sqlite: WAL
 *     + synchronous=FULL (the WAL is fsynced at every commit, which costs
 *     one fsync per append call, i.e. per group-committed loop turn).
 *   redis: neither level can be chosen by the client; durability is the
 *     server's appendonly/appendfsync setting (appendfsync always gives
 *     both levels), and open warns when it is weaker. */
enum store_durability {
    STORE_DURABLE_PROCESS = 1,
    STORE_DURABLE_POWER = 2,
};

/* What a backend is, declared in its ops table so the hub asks the table
 * instead of comparing it with a particular backend's (the contract suite
 * checks each backend's declaration, tests/contract). */
struct store_caps {
    /* Other writers (hubs on other machines) append to the same log:
     * listen delivers their events. Exactly when listen is non-NULL. */
    bool shared;
    /* The store lives behind a network and may be away for a while: calls
     * fail -ERR_UNAVAILABLE and succeed again later without a reopen. The
     * hub then keeps a replica to answer reads from (app/hub_outage.c). */
    bool may_go_away;
    /* trim drops events (exactly when trim is non-NULL). */
    bool trims;
    /* ingest_stats counts foreign events (exactly when it is non-NULL). */
    bool ingests;
    /* Events kept behind the newest snapshot when the operator sets no
     * --retain-events; 0 keeps everything (a log on disk), a bound keeps
     * a log that lives in the server's memory from growing without end. */
    uint64_t default_retain;
};

struct store_ops {
    const char *name; /* "memory", "sqlite", "redis" */
    struct store_caps caps;
    /* Open the store at url (backend-specific: "memory:", "sqlite:/path",
     * "/path/hub.db"). On error *out is NULL and *errmsg (caller frees) says
     * why. */
    int (*open)(const char *url, const struct store_open_opts *opts, struct store **out,
                char **errmsg);
    /* Close and free. NULL ok. Pending appends are failed with
     * -ERR_UNAVAILABLE before it returns. */
    void (*close)(struct store *s);
    /* Compare-and-append (see the top of this file). Returns -ERR_INVALID,
     * without calling cb and without writing, when the request itself is
     * wrong: cb NULL, evs NULL or n == 0, seqs not expected_seq+1, +2, …,
     * a seq above INT64_MAX, or an event without a type. Otherwise returns
     * 0 and cb reports exactly once: 0, -ERR_CONFLICT, or a store failure
     * (-ERR_STORE, -ERR_UNAVAILABLE) with nothing written, or -ERR_TIMEOUT
     * (a network store sent the append and never heard back: it may have
     * been written; read the log to know). */
    int (*append)(struct store *s, uint64_t expected_seq, const struct event *evs, size_t n,
                  store_append_cb cb, void *arg);
    /* Events with seq > since, ascending, at most limit, appended to out.
     * A since below first_seq() reads from first_seq(). On error out is
     * left as it was. */
    int (*read)(struct store *s, uint64_t since, size_t limit, struct event_vec *out);
    /* read() without waiting: 0 with *handle set, and cb runs once, later,
     * from the loop of opts.async (never inside this call); or an error
     * and cb never runs: -ERR_STATE when the store cannot read this way
     * now (not opened with opts.async, its asynchronous connection not
     * up): the caller reads with read() instead. Optional: NULL for the
     * local backends, whose read() does not wait on a network. */
    int (*read_async)(struct store *s, uint64_t since, size_t limit, store_read_cb cb, void *arg,
                      struct store_read **handle);
    /* Forget a read in flight: its callback never runs. With read_async. */
    void (*read_cancel)(struct store *s, struct store_read *r);
    /* Last appended seq (0 for an empty log). */
    int (*last_seq)(struct store *s, uint64_t *seq);
    /* Lowest seq still readable (1 when nothing was trimmed; last+1 if empty). */
    int (*first_seq)(struct store *s, uint64_t *seq);
    /* Save the snapshot of the state at seq (seq <= last_seq). Only the
     * newest is kept: a seq below the stored snapshot's is -ERR_INVALID
     * (an equal seq replaces the text). text must hold no NUL in its len
     * bytes (-ERR_INVALID), since snapshot_load returns a C string. */
    int (*snapshot_save)(struct store *s, uint64_t seq, const char *text, size_t len);
    /* Load the newest snapshot: *text (caller frees) or NULL with *seq 0. */
    int (*snapshot_load)(struct store *s, uint64_t *seq, char **text);
    /* The store's clock, ms since epoch. The local backends read the
     * wall clock but never return less than an earlier call on the same
     * handle, so expiry decisions do not run backwards when the system
     * clock is stepped back (it is held flat until it catches up). */
    int (*now)(struct store *s, int64_t *ms);
    /* Register the listener for other writers' events; NULL cb removes it.
     * Optional: NULL for single-writer backends. */
    void (*listen)(struct store *s, store_listen_cb cb, void *arg);
    /* Drop events with seq <= upto. upto must not exceed the newest
     * snapshot's seq (else -ERR_INVALID, nothing dropped), so a hub can
     * always start from the snapshot plus the tail. Afterwards first_seq()
     * is upto+1 (trimming is monotone: a lower upto is a no-op) and
     * last_seq() is unchanged even if no event is left. Optional: NULL for
     * a backend that never trims. */
    int (*trim)(struct store *s, uint64_t upto);
    /* A workspace fact decided once: record value under key unless the
     * store already holds one, and return in *recorded (caller frees) the
     * value held afterwards — value, or what an earlier hub recorded. Every
     * hub of a workspace thus adopts the first hub's answer (the case
     * folding of lease keys, docs/configuration.md). key is 1 to
     * STORE_META_KEY_MAX bytes of [A-Za-z0-9._-], value at most
     * STORE_META_VALUE_MAX bytes without NUL (-ERR_INVALID otherwise). Kept
     * as durably as the log, never trimmed. */
    int (*meta_claim)(struct store *s, const char *key, const char *value, char **recorded);
    /* Counters of foreign events heard (see struct store_ingest_stats).
     * Optional: NULL for a backend that ingests nothing. */
    void (*ingest_stats)(struct store *s, struct store_ingest_stats *out);
    /* The cause of the failure the last append reported, in the
     * backend's own words (SQLite: "database or disk is full"), or NULL
     * when it has nothing to add to the error code. Valid until the next
     * call on the store. Optional: NULL for a backend that never says. */
    const char *(*last_error)(struct store *s);
};

extern const struct store_ops store_memory_ops;
extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_redis_ops;

/* Pick the backend for a URL: "memory:" → memory; "sqlite:PATH" or a
 * plain path → sqlite; "redis://", "unix://" → redis. NULL for an
 * unknown scheme and for "rediss://" (TLS to Redis is not built). */
const struct store_ops *store_ops_for_url(const char *url);

/* The local backends' now(): the wall clock, never going below *last (the
 * handle's previous answer), which it updates. */
int64_t store_clock_monotone(int64_t *last);

/* What every backend's append refuses (-ERR_INVALID) before it looks at
 * the log: an empty batch, seqs other than expected+1, +2, … (within
 * int64), an event without a type. 0 when the batch is well formed. */
int store_check_batch(uint64_t expected, const struct event *evs, size_t n);

/* A copy of url fit for messages and logs (caller frees): the password
 * of a redis:// or unix:// URL ("user:password@") is replaced by "***".
 * Other URLs are returned unchanged. */
char *store_url_redact(const char *url);

#define STORE_META_KEY_MAX 64
#define STORE_META_VALUE_MAX 1024

/* What every backend's meta_claim refuses (-ERR_INVALID) first: a key or
 * value outside the limits of store_ops.meta_claim. 0 when fine. */
int store_check_meta(const char *key, const char *value);

/* Open url with the backend store_ops_for_url() picks. */
int store_open(const char *url, const struct store_open_opts *opts, struct store **out,
               char **errmsg);

/* Close s through its backend. NULL ok. */
void store_close(struct store *s);

#endif
