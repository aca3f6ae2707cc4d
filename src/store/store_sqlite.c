/* store_sqlite — the embedded default backend
 * (docs/architecture.md, "Group commit").
 *
 * One database file per workspace (`<state-dir>/hub.db`), created mode
 * 0600; its parent directory must exist. Schema (versioned by PRAGMA
 * user_version, marked by PRAGMA application_id):
 *   events(seq INTEGER PRIMARY KEY, type, ts, source, source_id,
 *          signature, data)          data is the event's JSON object text
 *   snapshot(id = 1, seq, text)      only the newest snapshot is kept
 *   meta(key, value)                 'trimmed': highest seq dropped by trim
 *   leases(key, pattern, agent_id, mode, token, reason, task_id,
 *          locked_at, expires_at)     materialised from the log
 *
 * The leases table lets tools outside the hub (a git hook, `sqlite3
 * hub.db`) see who holds what without a running hub. The append keeps it
 * in the same transaction as the events, from the event data it already
 * holds as JSON (no re-parsing in SQL): a hub-sourced file:locked upserts
 * the holder's row (a renewal keeps locked_at), a file:unlocked deletes
 * the row with that token. The hub never reads it (its state is the fold
 * of the log), malformed file:* data is skipped rather than failing the
 * append, and rows are not removed by the clock: a reader compares
 * expires_at with its own now, because expiry events are written by a
 * running hub. Trimming the log leaves the table as it is.
 *
 * Invariants:
 *   - events holds a contiguous run of seqs trimmed+1 .. last; the log's
 *     last seq is max(max(events.seq), trimmed), so it survives a trim that
 *     empties the table; first_seq is trimmed+1.
 *   - append is one BEGIN IMMEDIATE … COMMIT transaction: it re-reads the
 *     last seq *inside* the write lock (another process may share the
 *     file), inserts the whole batch, and commits before the callback runs.
 *     This is the group-commit unit: the hub appends a loop turn's events
 *     in one call. Any failure rolls back, so a batch is all or nothing.
 *   - statements are prepared once at open (SQLITE_PREPARE_PERSISTENT) and
 *     reset after every use, so no statement holds a read transaction open
 *     between calls.
 *
 * Durability: WAL with synchronous=NORMAL by default. A committed
 * transaction is in the WAL file before COMMIT returns, so killing the
 * process (kill -9) at any moment loses no answered append; an OS crash or
 * power loss may lose the last transactions (never corrupting the file).
 * opts->durable == STORE_DURABLE_POWER selects synchronous=FULL, which
 * fsyncs the WAL at every commit. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/xmalloc.h"

#define STORE_SQLITE_SCHEMA_VERSION 1
#define STORE_SQLITE_APP_ID 0x43484842 /* "CHHB" */
#define STORE_SQLITE_BUSY_MS 2000      /* another process holding the write lock */

enum store_sqlite_stmt {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_LAST,
    STMT_INSERT,
    STMT_READ,
    STMT_SNAP_SEQ,
    STMT_SNAP_SAVE,
    STMT_SNAP_LOAD,
    STMT_TRIM,
    STMT_SET_TRIMMED,
    STMT_LEASE_UPSERT,
    STMT_LEASE_DELETE,
    STMT_META_CLAIM,
    STMT_META_GET,
    STMT_COUNT_
};

static const char *const store_sqlite_sql[STMT_COUNT_] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_LAST] = "SELECT coalesce((SELECT max(seq) FROM events), 0),"
                  " (SELECT value FROM meta WHERE key = 'trimmed')",
    [STMT_INSERT] = "INSERT INTO events(seq, type, ts, source, source_id, signature, data)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [STMT_READ] = "SELECT seq, type, ts, source, source_id, signature, data FROM events"
                  " WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [STMT_SNAP_SEQ] = "SELECT seq FROM snapshot WHERE id = 1",
    [STMT_SNAP_SAVE] = "INSERT INTO snapshot(id, seq, text) VALUES (1, ?1, ?2)"
                       " ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, text = excluded.text",
    [STMT_SNAP_LOAD] = "SELECT seq, text FROM snapshot WHERE id = 1",
    [STMT_TRIM] = "DELETE FROM events WHERE seq <= ?1",
    [STMT_SET_TRIMMED] = "UPDATE meta SET value = ?1 WHERE key = 'trimmed'",
    [STMT_LEASE_UPSERT] =
        "INSERT INTO leases(key, pattern, agent_id, mode, token, reason, task_id, locked_at,"
        " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT(key, pattern, agent_id) DO UPDATE SET"
        "  locked_at = CASE WHEN leases.token IS excluded.token THEN leases.locked_at"
        "   ELSE excluded.locked_at END,"
        "  mode = excluded.mode, token = excluded.token, reason = excluded.reason,"
        "  task_id = excluded.task_id, expires_at = excluded.expires_at",
    [STMT_LEASE_DELETE] = "DELETE FROM leases WHERE key = ?1 AND pattern = ?2 AND agent_id = ?3"
                          " AND token IS ?4",
    /* meta_claim's keys live beside 'trimmed' under a prefix of their own. */
    [STMT_META_CLAIM] = "INSERT OR IGNORE INTO meta(key, value) VALUES ('claim:' || ?1, ?2)",
    [STMT_META_GET] = "SELECT value FROM meta WHERE key = 'claim:' || ?1",
};

static const char store_sqlite_schema[] =
    "CREATE TABLE events ("
    " seq INTEGER PRIMARY KEY," /* the workspace sequence number */
    " type TEXT NOT NULL,"
    " ts INTEGER NOT NULL," /* ms since epoch */
    " source TEXT,"
    " source_id TEXT,"
    " signature TEXT,"
    " data TEXT NOT NULL);" /* JSON object */
    "CREATE TABLE snapshot ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " seq INTEGER NOT NULL,"
    " text TEXT NOT NULL);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value);"
    "INSERT INTO meta(key, value) VALUES ('trimmed', 0);"
    /* Materialised leases for readers outside the hub (see the top of
     * this file). The key rules mirror core/workspace_fold.c: a string
     * "pattern" is the key of a pattern lease, "pattern":true marks
     * "file" as one; a lease is (key, pattern, agentId). */
    "CREATE TABLE leases ("
    " key TEXT NOT NULL," /* path relative to the root, or the pattern */
    " pattern INTEGER NOT NULL,"
    " agent_id TEXT NOT NULL,"
    " mode TEXT,"
    " token INTEGER," /* fencing token: seq of the granting event */
    " reason TEXT,"
    " task_id TEXT,"
    " locked_at INTEGER," /* ms since epoch of the grant */
    " expires_at TEXT,"   /* RFC 3339 UTC, as in the event */
    " PRIMARY KEY (key, pattern, agent_id)) WITHOUT ROWID;";

struct store_sqlite {
    struct store base;
    sqlite3 *db;                     /* owned */
    char *path;                      /* owned, for messages */
    sqlite3_stmt *stmt[STMT_COUNT_]; /* owned, prepared at open */
    uint64_t last_known;             /* last seq this handle saw (failed-append reports) */
    char error[256];  /* SQLite's message for the last failure since the append began; "" none */
    int64_t last_now; /* ms since epoch; now() never goes below it */
    /* WAL checkpoints run on a helper thread with its own connection, so the
     * fsync of a checkpoint never lands inside a commit on the loop. */
    pthread_t ckpt_thread;
    bool ckpt_running;
    bool ckpt_stop; /* guarded by ckpt_mu */
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
};

#define STORE_SQLITE_CKPT_MS 200 /* period of passive checkpoints */

/* The checkpointer: a PASSIVE checkpoint every STORE_SQLITE_CKPT_MS on its
 * own connection. PASSIVE never blocks the writer; the loop's connection
 * has wal_autocheckpoint off, so it never pays for a checkpoint itself. */
static void *store_sqlite_ckpt_main(void *arg)
{
    struct store_sqlite *q = arg;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(q->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        log_error("store %s: checkpointer cannot open: %s", q->path,
                  db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, STORE_SQLITE_BUSY_MS);
    pthread_mutex_lock(&q->ckpt_mu);
    while (!q->ckpt_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)STORE_SQLITE_CKPT_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&q->ckpt_cv, &q->ckpt_mu, &ts);
        if (q->ckpt_stop)
            break;
        pthread_mutex_unlock(&q->ckpt_mu);
        int nlog = 0, nckpt = 0;
        int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_warn("store %s: checkpoint failed: %s", q->path, sqlite3_errmsg(db));
        pthread_mutex_lock(&q->ckpt_mu);
    }
    pthread_mutex_unlock(&q->ckpt_mu);
    sqlite3_close(db);
    return NULL;
}

static void store_sqlite_ckpt_stop(struct store_sqlite *q)
{
    if (!q->ckpt_running)
        return;
    pthread_mutex_lock(&q->ckpt_mu);
    q->ckpt_stop = true;
    pthread_cond_signal(&q->ckpt_cv);
    pthread_mutex_unlock(&q->ckpt_mu);
    pthread_join(q->ckpt_thread, NULL);
    q->ckpt_running = false;
}

static struct store_sqlite *store_sqlite_of(struct store *s)
{
    return (struct store_sqlite *)s;
}

/* Log an unexpected SQLite failure with the database's own message. */
/* The first message of an append is kept for last_error: a rollback
 * after it must not replace the cause. */
static void store_sqlite_log(struct store_sqlite *q, const char *what)
{
    log_error("store %s: %s failed: %s (%d)", q->path, what, sqlite3_errmsg(q->db),
              sqlite3_extended_errcode(q->db));
    if (!q->error[0])
        snprintf(q->error, sizeof(q->error), "%s", sqlite3_errmsg(q->db));
}

/* Reset st for its next use and drop its bindings (they may point to
 * caller memory). */
static void store_sqlite_reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Run a statement that returns no rows. 0 or -ERR_STORE (logged). */
static int store_sqlite_exec(struct store_sqlite *q, enum store_sqlite_stmt which, const char *what)
{
    sqlite3_stmt *st = q->stmt[which];
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        store_sqlite_log(q, what);
    store_sqlite_reset(st);
    return rc == SQLITE_DONE ? 0 : -ERR_STORE;
}

/* Roll back the open transaction, if any. */
static void store_sqlite_rollback(struct store_sqlite *q)
{
    if (!sqlite3_get_autocommit(q->db))
        (void)store_sqlite_exec(q, STMT_ROLLBACK, "rollback");
}

/* Commit; on failure roll back so the handle is usable again. */
static int store_sqlite_commit(struct store_sqlite *q)
{
    int rc = store_sqlite_exec(q, STMT_COMMIT, "commit");
    if (rc)
        store_sqlite_rollback(q);
    return rc;
}

/* Read the log's last seq and trim point. 0 or -ERR_STORE. */
static int store_sqlite_query_last(struct store_sqlite *q, uint64_t *last, uint64_t *trimmed)
{
    sqlite3_stmt *st = q->stmt[STMT_LAST];
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_sqlite_log(q, "reading the last seq");
        store_sqlite_reset(st);
        return -ERR_STORE;
    }
    sqlite3_int64 max_seq = sqlite3_column_int64(st, 0);
    sqlite3_int64 trim = sqlite3_column_int64(st, 1);
    store_sqlite_reset(st);
    *trimmed = trim > 0 ? (uint64_t)trim : 0;
    *last = max_seq > trim ? (uint64_t)max_seq : *trimmed;
    q->last_known = *last;
    return 0;
}

/* Read the newest snapshot's seq; *has is false when there is none. */
static int store_sqlite_query_snap_seq(struct store_sqlite *q, bool *has, uint64_t *seq)
{
    sqlite3_stmt *st = q->stmt[STMT_SNAP_SEQ];
    int rc = sqlite3_step(st);
    *has = rc == SQLITE_ROW;
    *seq = *has ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        store_sqlite_log(q, "reading the snapshot seq");
    store_sqlite_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -ERR_STORE;
}

/* "cannot open PATH: DETAIL" on the heap, for *errmsg. */
static char *store_sqlite_open_msg(const char *path, const char *detail)
{
    size_t n = strlen(path) + strlen(detail) + 16;
    char *m = xmalloc(n);
    snprintf(m, n, "cannot open %s: %s", path, detail);
    return m;
}

/* Run one-row PRAGMA sql and return its integer (or text in *text when
 * text is non-NULL, up to textlen bytes). 0 or a SQLite error code. */
static int store_sqlite_pragma(sqlite3 *db, const char *sql, sqlite3_int64 *val, char *text,
                               size_t textlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (val)
            *val = sqlite3_column_int64(st, 0);
        if (text) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(text, textlen, "%s", t ? (const char *)t : "");
        }
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Create the schema in a fresh file, or check an existing one is ours and
 * not newer than this code. On error *errmsg says why. */
static int store_sqlite_schema_ready(sqlite3 *db, const char *path, char **errmsg)
{
    char detail[160];
    sqlite3_int64 version = 0, app_id = 0, objects = 0;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = store_sqlite_pragma(db, "PRAGMA user_version", &version, NULL, 0);
    if (rc == SQLITE_OK)
        rc = store_sqlite_pragma(db, "PRAGMA application_id", &app_id, NULL, 0);
    if (rc == SQLITE_OK)
        rc = store_sqlite_pragma(db, "SELECT count(*) FROM sqlite_master", &objects, NULL, 0);
    if (rc != SQLITE_OK)
        goto fail_sqlite;
    if (app_id != 0 && app_id != STORE_SQLITE_APP_ID) {
        *errmsg = store_sqlite_open_msg(path, "not a coordhub database (foreign application_id)");
        goto fail;
    }
    if (version == 0 && objects > 0) {
        *errmsg = store_sqlite_open_msg(path, "not a coordhub database (it has other tables)");
        goto fail;
    }
    if (version > STORE_SQLITE_SCHEMA_VERSION) {
        snprintf(detail, sizeof(detail),
                 "schema version %lld is newer than this coordhub supports (%d)",
                 (long long)version, STORE_SQLITE_SCHEMA_VERSION);
        *errmsg = store_sqlite_open_msg(path, detail);
        goto fail;
    }
    if (version == 0) {
        char sql[96];
        rc = sqlite3_exec(db, store_sqlite_schema, NULL, NULL, NULL);
        snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
                 STORE_SQLITE_APP_ID, STORE_SQLITE_SCHEMA_VERSION);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            goto fail_sqlite;
    }
    /* Future versions migrate here, one step per version, in this transaction. */
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        goto fail_sqlite;
    return 0;

fail_sqlite:
    snprintf(detail, sizeof(detail), "preparing the schema: %s", sqlite3_errmsg(db));
    *errmsg = store_sqlite_open_msg(path, detail);
fail:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -ERR_STORE;
}

/* Create path with mode 0600 if it does not exist, so SQLite (which would
 * use 0644) and its -wal/-shm files (which copy the main file's mode) are
 * private to the owner. */
static int store_sqlite_precreate(const char *path, char **errmsg)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        char detail[160];
        snprintf(detail, sizeof(detail), "%s%s", strerror(e),
                 e == ENOENT ? " (the parent directory must exist)" : "");
        *errmsg = store_sqlite_open_msg(path, detail);
        return -e;
    }
    close(fd);
    return 0;
}

static void store_sqlite_close(struct store *s)
{
    if (!s)
        return;
    struct store_sqlite *q = store_sqlite_of(s);
    store_sqlite_ckpt_stop(q);
    pthread_mutex_destroy(&q->ckpt_mu);
    pthread_cond_destroy(&q->ckpt_cv);
    for (int i = 0; i < STMT_COUNT_; i++)
        sqlite3_finalize(q->stmt[i]);
    if (q->db && sqlite3_close(q->db) != SQLITE_OK)
        log_error("store %s: close failed: %s", q->path, sqlite3_errmsg(q->db));
    free(q->path);
    free(q);
}

static int store_sqlite_open(const char *url, const struct store_open_opts *opts,
                             struct store **out, char **errmsg)
{
    char detail[160];
    struct store_sqlite *q = NULL;
    int rc = -ERR_STORE;
    *out = NULL;
    *errmsg = NULL;
    const char *path = url && strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
    if (!path || !path[0]) {
        *errmsg = xstrdup("sqlite store URL has no path (expected sqlite:PATH)");
        return -ERR_INVALID;
    }
    if (path[0] == ':') {
        *errmsg = store_sqlite_open_msg(path, "special SQLite names are not supported "
                                              "(use the memory: store)");
        return -ERR_INVALID;
    }
    rc = store_sqlite_precreate(path, errmsg);
    if (rc)
        return rc;

    q = xcalloc(1, sizeof(*q));
    q->base.ops = &store_sqlite_ops;
    q->path = xstrdup(path);
    pthread_mutex_init(&q->ckpt_mu, NULL);
    pthread_cond_init(&q->ckpt_cv, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK) {
        *errmsg = store_sqlite_open_msg(path, q->db ? sqlite3_errmsg(q->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, STORE_SQLITE_BUSY_MS);

    /* The first statement reads the header: a non-database fails here. */
    char mode[16];
    if (store_sqlite_pragma(q->db, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode)) !=
        SQLITE_OK) {
        *errmsg = store_sqlite_open_msg(path, sqlite3_errmsg(q->db));
        goto fail;
    }
    if (strcmp(mode, "wal") != 0) {
        snprintf(detail, sizeof(detail), "cannot enable WAL mode (journal_mode is %s)", mode);
        *errmsg = store_sqlite_open_msg(path, detail);
        goto fail;
    }
    const char *sync = opts && opts->durable >= STORE_DURABLE_POWER ? "PRAGMA synchronous = FULL"
                                                                    : "PRAGMA synchronous = NORMAL";
    if (sqlite3_exec(q->db, sync, NULL, NULL, NULL) != SQLITE_OK) {
        *errmsg = store_sqlite_open_msg(path, sqlite3_errmsg(q->db));
        goto fail;
    }
    /* Truncate the WAL back to 64 MiB after checkpoints, so one burst of
     * appends does not leave a huge -wal file behind for good; checkpoints
     * are the helper thread's job, never a commit's. */
    if (sqlite3_exec(q->db, "PRAGMA journal_size_limit = 67108864; PRAGMA wal_autocheckpoint = 0",
                     NULL, NULL, NULL) != SQLITE_OK) {
        *errmsg = store_sqlite_open_msg(path, sqlite3_errmsg(q->db));
        goto fail;
    }
    rc = store_sqlite_schema_ready(q->db, path, errmsg);
    if (rc)
        goto fail;
    for (int i = 0; i < STMT_COUNT_; i++) {
        if (sqlite3_prepare_v3(q->db, store_sqlite_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &q->stmt[i], NULL) != SQLITE_OK) {
            snprintf(detail, sizeof(detail), "preparing statements: %s", sqlite3_errmsg(q->db));
            *errmsg = store_sqlite_open_msg(path, detail);
            goto fail;
        }
    }
    uint64_t last, trimmed;
    if (store_sqlite_query_last(q, &last, &trimmed)) {
        snprintf(detail, sizeof(detail), "reading the log: %s", sqlite3_errmsg(q->db));
        *errmsg = store_sqlite_open_msg(path, detail);
        goto fail;
    }
    if (pthread_create(&q->ckpt_thread, NULL, store_sqlite_ckpt_main, q) == 0)
        q->ckpt_running = true;
    else
        log_warn("store %s: no checkpoint thread; checkpoints happen at close", q->path);
    *out = &q->base;
    return 0;

fail:
    store_sqlite_close(&q->base);
    return -ERR_STORE;
}

/* Bind a nullable string (the caller keeps it alive until the reset). */
static int store_sqlite_bind_str(sqlite3_stmt *st, int idx, const char *s)
{
    return s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
}

static int store_sqlite_bind_json(sqlite3_stmt *st, int idx, const cJSON *v)
{
    if (cJSON_IsString(v))
        return sqlite3_bind_text(st, idx, v->valuestring, -1, SQLITE_STATIC);
    if (cJSON_IsNumber(v))
        return sqlite3_bind_int64(st, idx, (sqlite3_int64)v->valuedouble);
    return sqlite3_bind_null(st, idx);
}

/* Keep the materialised leases table in step with a hub-sourced
 * file:locked / file:unlocked event. The key rules mirror
 * core/workspace_fold.c: a string "pattern" is the key of a pattern lease,
 * "pattern":true marks "file" as one. Events whose data lacks a key or an
 * agent are skipped (the log is the truth; this table is a convenience). */
static int store_sqlite_lease(struct store_sqlite *q, const struct event *ev)
{
    bool locked = strcmp(ev->type, EVENT_FILE_LOCKED) == 0;
    if ((!locked && strcmp(ev->type, EVENT_FILE_UNLOCKED) != 0) || !ev->source ||
        strcmp(ev->source, EVENT_SOURCE_HUB) != 0)
        return 0;
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(ev->data, "pattern");
    const cJSON *key =
        cJSON_IsString(pat) ? pat : cJSON_GetObjectItemCaseSensitive(ev->data, "file");
    const cJSON *agent = cJSON_GetObjectItemCaseSensitive(ev->data, "agentId");
    if (!cJSON_IsString(key) || !cJSON_IsString(agent))
        return 0;
    int is_pat = cJSON_IsString(pat) || cJSON_IsTrue(pat);
    sqlite3_stmt *st = q->stmt[locked ? STMT_LEASE_UPSERT : STMT_LEASE_DELETE];
    int rc = sqlite3_bind_text(st, 1, key->valuestring, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 2, is_pat);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, agent->valuestring, -1, SQLITE_STATIC);
    const cJSON *d = ev->data;
    if (locked) {
        if (rc == SQLITE_OK)
            rc = store_sqlite_bind_json(st, 4, cJSON_GetObjectItemCaseSensitive(d, "mode"));
        if (rc == SQLITE_OK)
            rc = store_sqlite_bind_json(st, 5, cJSON_GetObjectItemCaseSensitive(d, "token"));
        if (rc == SQLITE_OK)
            rc = store_sqlite_bind_json(st, 6, cJSON_GetObjectItemCaseSensitive(d, "reason"));
        if (rc == SQLITE_OK)
            rc = store_sqlite_bind_json(st, 7, cJSON_GetObjectItemCaseSensitive(d, "taskId"));
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, 8, ev->ts_ms);
        if (rc == SQLITE_OK)
            rc = store_sqlite_bind_json(st, 9, cJSON_GetObjectItemCaseSensitive(d, "expiresAt"));
    } else if (rc == SQLITE_OK) {
        rc = store_sqlite_bind_json(st, 4, cJSON_GetObjectItemCaseSensitive(d, "token"));
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        store_sqlite_log(q, "updating the leases table");
    store_sqlite_reset(st);
    return rc == SQLITE_DONE ? 0 : -ERR_STORE;
}

/* Insert one event inside the open transaction. 0 or -ERR_STORE. */
static int store_sqlite_insert(struct store_sqlite *q, const struct event *ev)
{
    sqlite3_stmt *st = q->stmt[STMT_INSERT];
    char *data = ev->data ? json_print(ev->data) : xstrdup("{}");
    int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)ev->seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, ev->type, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, ev->ts_ms);
    if (rc == SQLITE_OK)
        rc = store_sqlite_bind_str(st, 4, ev->source);
    if (rc == SQLITE_OK)
        rc = store_sqlite_bind_str(st, 5, ev->source_id);
    if (rc == SQLITE_OK)
        rc = store_sqlite_bind_str(st, 6, ev->signature);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 7, data, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        store_sqlite_log(q, "inserting an event");
    store_sqlite_reset(st);
    free(data);
    return rc == SQLITE_DONE ? 0 : -ERR_STORE;
}

static int store_sqlite_append(struct store *s, uint64_t expected_seq, const struct event *evs,
                               size_t n, store_append_cb cb, void *arg)
{
    struct store_sqlite *q = store_sqlite_of(s);
    uint64_t last = 0, trimmed = 0;
    q->error[0] = '\0';
    if (!cb)
        return -ERR_INVALID;
    int rc = store_check_batch(expected_seq, evs, n);
    if (rc)
        return rc;

    rc = store_sqlite_exec(q, STMT_BEGIN, "begin");
    if (rc)
        goto fail;
    rc = store_sqlite_query_last(q, &last, &trimmed);
    if (rc)
        goto fail;
    if (last != expected_seq) {
        store_sqlite_rollback(q);
        cb(arg, -ERR_CONFLICT, last);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        rc = store_sqlite_insert(q, &evs[i]);
        if (!rc)
            rc = store_sqlite_lease(q, &evs[i]);
        if (rc)
            goto fail;
    }
    rc = store_sqlite_commit(q);
    if (rc)
        goto fail;
    q->last_known = expected_seq + n;
    cb(arg, 0, q->last_known);
    return 0;

fail:
    store_sqlite_rollback(q);
    cb(arg, rc, q->last_known);
    return 0;
}

/* Build the event in the current row of STMT_READ. -ERR_STORE when the
 * stored data is not a JSON object (a damaged row). */
static int store_sqlite_row_event(struct store_sqlite *q, sqlite3_stmt *st, struct event *ev)
{
    const char *type = (const char *)sqlite3_column_text(st, 1);
    const char *data = (const char *)sqlite3_column_text(st, 6);
    int data_len = sqlite3_column_bytes(st, 6);
    uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
    cJSON *obj = data ? cJSON_ParseWithLength(data, (size_t)data_len) : NULL;
    if (!type || !cJSON_IsObject(obj)) {
        log_error("store %s: event %" PRIu64 " is damaged (bad type or data)", q->path, seq);
        cJSON_Delete(obj);
        return -ERR_STORE;
    }
    event_init(ev, type, sqlite3_column_int64(st, 2), obj);
    ev->seq = seq;
    free(ev->source);
    ev->source = xstrdup((const char *)sqlite3_column_text(st, 3));
    ev->source_id = xstrdup((const char *)sqlite3_column_text(st, 4));
    ev->signature = xstrdup((const char *)sqlite3_column_text(st, 5));
    return 0;
}

static int store_sqlite_read(struct store *s, uint64_t since, size_t limit, struct event_vec *out)
{
    struct store_sqlite *q = store_sqlite_of(s);
    if (!out)
        return -ERR_INVALID;
    if (limit == 0 || since >= (uint64_t)INT64_MAX)
        return 0;
    sqlite3_stmt *st = q->stmt[STMT_READ];
    size_t old_len = out->len;
    int rc = -ERR_STORE;
    int step;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
    sqlite3_bind_int64(st, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct event ev;
        if (store_sqlite_row_event(q, st, &ev))
            goto fail;
        event_vec_push(out, &ev);
    }
    if (step != SQLITE_DONE) {
        store_sqlite_log(q, "reading events");
        goto fail;
    }
    store_sqlite_reset(st);
    return 0;

fail:
    store_sqlite_reset(st);
    /* Leave out as the caller gave it. */
    for (size_t i = old_len; i < out->len; i++)
        event_deinit(&out->items[i]);
    out->len = old_len;
    return rc;
}

static int store_sqlite_last_seq(struct store *s, uint64_t *seq)
{
    uint64_t trimmed;
    return store_sqlite_query_last(store_sqlite_of(s), seq, &trimmed);
}

static int store_sqlite_first_seq(struct store *s, uint64_t *seq)
{
    uint64_t last, trimmed;
    int rc = store_sqlite_query_last(store_sqlite_of(s), &last, &trimmed);
    if (rc == 0)
        *seq = trimmed + 1;
    return rc;
}

static int store_sqlite_snapshot_save(struct store *s, uint64_t seq, const char *text, size_t len)
{
    struct store_sqlite *q = store_sqlite_of(s);
    uint64_t last, trimmed, snap_seq;
    bool has_snap;
    if (!text || memchr(text, '\0', len) || len > INT32_MAX || seq > (uint64_t)INT64_MAX)
        return -ERR_INVALID;
    int rc = store_sqlite_exec(q, STMT_BEGIN, "begin");
    if (rc)
        return rc;
    rc = store_sqlite_query_last(q, &last, &trimmed);
    if (rc == 0)
        rc = store_sqlite_query_snap_seq(q, &has_snap, &snap_seq);
    if (rc)
        goto fail;
    if (seq > last || (has_snap && seq < snap_seq)) {
        rc = -ERR_INVALID; /* never replace a newer snapshot with an older one */
        goto fail;
    }
    sqlite3_stmt *st = q->stmt[STMT_SNAP_SAVE];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 2, text, (int)len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        store_sqlite_log(q, "saving the snapshot");
    store_sqlite_reset(st);
    rc = rc == SQLITE_DONE ? 0 : -ERR_STORE;
    if (rc == 0)
        rc = store_sqlite_commit(q);
    if (rc)
        goto fail;
    return 0;

fail:
    store_sqlite_rollback(q);
    return rc;
}

static int store_sqlite_snapshot_load(struct store *s, uint64_t *seq, char **text)
{
    struct store_sqlite *q = store_sqlite_of(s);
    sqlite3_stmt *st = q->stmt[STMT_SNAP_LOAD];
    *seq = 0;
    *text = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 1);
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
        *text = xstrndup(t ? t : "", (size_t)sqlite3_column_bytes(st, 1));
    } else if (rc != SQLITE_DONE) {
        store_sqlite_log(q, "loading the snapshot");
    }
    store_sqlite_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -ERR_STORE;
}

static int store_sqlite_now(struct store *s, int64_t *ms)
{
    struct store_sqlite *q = store_sqlite_of(s);
    *ms = store_clock_monotone(&q->last_now);
    return 0;
}

static int store_sqlite_trim(struct store *s, uint64_t upto)
{
    struct store_sqlite *q = store_sqlite_of(s);
    uint64_t last, trimmed, snap_seq;
    bool has_snap;
    int rc = store_sqlite_exec(q, STMT_BEGIN, "begin");
    if (rc)
        return rc;
    rc = store_sqlite_query_last(q, &last, &trimmed);
    if (rc == 0)
        rc = store_sqlite_query_snap_seq(q, &has_snap, &snap_seq);
    if (rc)
        goto fail;
    if (upto > (has_snap ? snap_seq : 0)) {
        rc = -ERR_INVALID;
        goto fail;
    }
    if (upto <= trimmed) {
        store_sqlite_rollback(q);
        return 0;
    }
    sqlite3_stmt *st = q->stmt[STMT_TRIM];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)upto);
    rc = store_sqlite_exec(q, STMT_TRIM, "trimming events");
    if (rc == 0) {
        sqlite3_bind_int64(q->stmt[STMT_SET_TRIMMED], 1, (sqlite3_int64)upto);
        rc = store_sqlite_exec(q, STMT_SET_TRIMMED, "recording the trim point");
    }
    if (rc == 0)
        rc = store_sqlite_commit(q);
    if (rc)
        goto fail;
    return 0;

fail:
    store_sqlite_rollback(q);
    return rc;
}

static int store_sqlite_meta_claim(struct store *s, const char *key, const char *value,
                                   char **recorded)
{
    struct store_sqlite *q = store_sqlite_of(s);
    *recorded = NULL;
    if (store_check_meta(key, value))
        return -ERR_INVALID;
    /* One statement claims (autocommit), the next reads what is held: a
     * second hub's claim between them is ignored by INSERT OR IGNORE. */
    sqlite3_stmt *st = q->stmt[STMT_META_CLAIM];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        store_sqlite_log(q, "recording workspace metadata");
    store_sqlite_reset(st);
    if (rc != SQLITE_DONE)
        return -ERR_STORE;
    st = q->stmt[STMT_META_GET];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        *recorded = xstrndup(t ? t : "", (size_t)sqlite3_column_bytes(st, 0));
    } else {
        store_sqlite_log(q, "reading workspace metadata");
    }
    store_sqlite_reset(st);
    return *recorded ? 0 : -ERR_STORE;
}

static const char *store_sqlite_last_error(struct store *s)
{
    const struct store_sqlite *q = store_sqlite_of(s);
    return q->error[0] ? q->error : NULL;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .caps = {.shared = false,
             .may_go_away = false,
             .trims = true,
             .ingests = false,
             .default_retain = 0},
    .open = store_sqlite_open,
    .close = store_sqlite_close,
    .append = store_sqlite_append,
    .read = store_sqlite_read,
    .last_seq = store_sqlite_last_seq,
    .first_seq = store_sqlite_first_seq,
    .snapshot_save = store_sqlite_snapshot_save,
    .snapshot_load = store_sqlite_snapshot_load,
    .now = store_sqlite_now,
    .listen = NULL,
    .trim = store_sqlite_trim,
    .meta_claim = store_sqlite_meta_claim,
    .last_error = store_sqlite_last_error,
};
