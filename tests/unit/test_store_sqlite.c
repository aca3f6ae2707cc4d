/* test_store_sqlite — what the contract suite cannot see of the SQLite
 * backend: file creation and modes, precise open errors, schema version
 * checks, WAL mode, failures inside a batch and under a foreign write lock
 * (both must leave nothing written and report through the callback), two
 * handles on one file, and damaged rows. A raw sqlite3 connection plays
 * the other process or the disk going bad. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/clock.h"
#include "base/xmalloc.h"
#include "store/store.h"

struct fixture {
    char dir[256];
    char path[300]; /* dir/hub.db */
    char url[310];  /* sqlite:path */
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/coordhub-sqlite-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/hub.db", f->dir);
    snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[320];
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct store *open_ok(const char *url)
{
    struct store *s = NULL;
    char *err = NULL;
    int rc = store_open(url, NULL, &s, &err);
    if (rc)
        fail_msg("open %s: %d %s", url, rc, err ? err : "");
    return s;
}

/* Open expecting failure; returns the message (caller frees). */
static char *open_fails(const char *url, int want_rc)
{
    struct store *s = (struct store *)&s;
    char *err = NULL;
    assert_int_equal(store_open(url, NULL, &s, &err), want_rc);
    assert_null(s);
    assert_non_null(err);
    return err;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("raw exec %s: %s", sql, msg);
    sqlite3_close(db);
}

struct ack {
    int calls;
    int status;
    uint64_t seq;
};

static void ack_cb(void *arg, int status, uint64_t seq)
{
    struct ack *a = arg;
    a->calls++;
    a->status = status;
    a->seq = seq;
}

/* Append n events after expected; returns append()'s value. */
static int append_n(struct store *s, uint64_t expected, size_t n, struct ack *a)
{
    struct event *evs = xcalloc(n, sizeof(*evs));
    for (size_t i = 0; i < n; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "i", (double)(expected + 1 + i));
        event_init(&evs[i], EVENT_TASK_CREATED, 1000, d);
        evs[i].seq = expected + 1 + i;
    }
    memset(a, 0, sizeof(*a));
    int rc = s->ops->append(s, expected, evs, n, ack_cb, a);
    for (size_t i = 0; i < n; i++)
        event_deinit(&evs[i]);
    free(evs);
    return rc;
}

static uint64_t last_seq(struct store *s)
{
    uint64_t seq = 12345;
    assert_int_equal(s->ops->last_seq(s, &seq), 0);
    return seq;
}

static void test_store_sqlite__creates_private_file(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    struct ack a;
    mode_t old = umask(022);
    struct store *s = open_ok(f->url);
    umask(old);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(append_n(s, 0, 3, &a), 0);
    assert_int_equal(a.status, 0);
    char wal[320];
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    assert_int_equal(stat(wal, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    store_close(s);
}

static void test_store_sqlite__plain_path_same_database(void **state)
{
    struct fixture *f = *state;
    struct ack a;
    struct store *s = open_ok(f->url);
    assert_int_equal(append_n(s, 0, 2, &a), 0);
    store_close(s);
    s = open_ok(f->path); /* no "sqlite:" prefix */
    assert_ptr_equal(s->ops, &store_sqlite_ops);
    assert_int_equal(last_seq(s), 2);
    store_close(s);
}

static void test_store_sqlite__missing_parent_is_precise(void **state)
{
    struct fixture *f = *state;
    char url[400], want[400];
    snprintf(url, sizeof(url), "sqlite:%s/no/such/dir/hub.db", f->dir);
    snprintf(want, sizeof(want), "cannot open %s/no/such/dir/hub.db: ", f->dir);
    char *err = open_fails(url, -ENOENT);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "No such file or directory"));
    assert_non_null(strstr(err, "parent directory must exist"));
    free(err);
}

static void test_store_sqlite__directory_is_refused(void **state)
{
    struct fixture *f = *state;
    char url[300];
    snprintf(url, sizeof(url), "sqlite:%s", f->dir);
    char *err = open_fails(url, -EISDIR);
    assert_non_null(strstr(err, "cannot open "));
    free(err);
}

static void test_store_sqlite__not_a_database(void **state)
{
    struct fixture *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is a text file, not an SQLite database\n", fp);
    fclose(fp);
    char *err = open_fails(f->url, -ERR_STORE);
    assert_non_null(strstr(err, "cannot open "));
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "not a database"));
    free(err);
}

static void test_store_sqlite__foreign_database_refused(void **state)
{
    struct fixture *f = *state;
    raw_exec(f->path, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)");
    char *err = open_fails(f->url, -ERR_STORE);
    assert_non_null(strstr(err, "not a coordhub database"));
    free(err);
}

static void test_store_sqlite__newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    store_close(open_ok(f->url));
    raw_exec(f->path, "PRAGMA user_version = 99");
    char *err = open_fails(f->url, -ERR_STORE);
    assert_non_null(strstr(err, "schema version 99 is newer"));
    free(err);
}

static void test_store_sqlite__special_names_refused(void **state)
{
    (void)state;
    char *err = open_fails("sqlite::memory:", -ERR_INVALID);
    assert_non_null(strstr(err, "memory:"));
    free(err);
    err = open_fails("sqlite:", -ERR_INVALID);
    free(err);
}

static void test_store_sqlite__wal_mode(void **state)
{
    struct fixture *f = *state;
    store_close(open_ok(f->url));
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_store_sqlite__failure_mid_batch_writes_nothing(void **state)
{
    struct fixture *f = *state;
    struct ack a;
    struct store *s = open_ok(f->url);
    assert_int_equal(append_n(s, 0, 2, &a), 0);
    /* The disk "fails" on the 4th event of the next batch. */
    raw_exec(f->path, "CREATE TRIGGER boom BEFORE INSERT ON events WHEN new.seq = 6 "
                      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    assert_int_equal(append_n(s, 2, 10, &a), 0);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, -ERR_STORE);
    assert_int_equal(last_seq(s), 2);
    struct event_vec v;
    event_vec_init(&v);
    assert_int_equal(s->ops->read(s, 0, 100, &v), 0);
    assert_int_equal(v.len, 2);
    event_vec_deinit(&v);
    /* The handle recovers once the fault is gone. */
    raw_exec(f->path, "DROP TRIGGER boom");
    assert_int_equal(append_n(s, 2, 10, &a), 0);
    assert_int_equal(a.status, 0);
    assert_int_equal(a.seq, 12);
    assert_int_equal(last_seq(s), 12);
    store_close(s);
}

static void test_store_sqlite__foreign_write_lock_fails_cleanly(void **state)
{
    struct fixture *f = *state;
    struct ack a;
    struct store *s = open_ok(f->url);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    int64_t t0 = clock_mono_ns();
    assert_int_equal(append_n(s, 0, 3, &a), 0);
    int64_t waited_ms = (clock_mono_ns() - t0) / 1000000;
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, -ERR_STORE);
    /* It waited for the lock (busy_timeout) before giving up. */
    assert_true(waited_ms >= 1000);
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(last_seq(s), 0);
    assert_int_equal(append_n(s, 0, 3, &a), 0);
    assert_int_equal(a.status, 0);
    store_close(s);
}

static void test_store_sqlite__two_handles_compare_and_append(void **state)
{
    struct fixture *f = *state;
    struct ack a;
    struct store *x = open_ok(f->url);
    struct store *y = open_ok(f->url);
    assert_int_equal(append_n(x, 0, 3, &a), 0);
    assert_int_equal(a.status, 0);
    /* y has not seen x's events: its append must conflict. */
    assert_int_equal(append_n(y, 0, 1, &a), 0);
    assert_int_equal(a.status, -ERR_CONFLICT);
    assert_int_equal(a.seq, 3);
    assert_int_equal(last_seq(y), 3);
    assert_int_equal(append_n(y, 3, 1, &a), 0);
    assert_int_equal(a.status, 0);
    assert_int_equal(last_seq(x), 4);
    store_close(x);
    store_close(y);
}

static void test_store_sqlite__damaged_row_fails_read(void **state)
{
    struct fixture *f = *state;
    struct ack a;
    struct store *s = open_ok(f->url);
    assert_int_equal(append_n(s, 0, 5, &a), 0);
    raw_exec(f->path, "UPDATE events SET data = '{not json' WHERE seq = 4");
    struct event_vec v;
    event_vec_init(&v);
    assert_int_equal(s->ops->read(s, 0, 2, &v), 0); /* rows before it are fine */
    assert_int_equal(v.len, 2);
    /* The failed read leaves what the caller already had. */
    assert_int_equal(s->ops->read(s, 2, 10, &v), -ERR_STORE);
    assert_int_equal(v.len, 2);
    assert_int_equal(v.items[1].seq, 2);
    event_vec_deinit(&v);
    store_close(s);
}

static void test_store_sqlite__durable_power_level(void **state)
{
    struct fixture *f = *state;
    struct store_open_opts opts = {.workspace = "w", .durable = STORE_DURABLE_POWER};
    struct store *s = NULL;
    char *err = NULL;
    struct ack a;
    assert_int_equal(store_open(f->url, &opts, &s, &err), 0);
    assert_int_equal(append_n(s, 0, 100, &a), 0);
    assert_int_equal(a.status, 0);
    store_close(s);
    s = open_ok(f->url);
    assert_int_equal(last_seq(s), 100);
    store_close(s);
}

/* Append one event with the given type, source and JSON data at seq. */
static void append_json(struct store *s, uint64_t seq, const char *type, const char *source,
                        const char *json)
{
    struct event ev;
    struct ack a;
    cJSON *data = cJSON_Parse(json);
    assert_non_null(data);
    event_init(&ev, type, 1000 + (int64_t)seq, data);
    ev.seq = seq;
    free(ev.source);
    ev.source = xstrdup(source);
    memset(&a, 0, sizeof(a));
    assert_int_equal(s->ops->append(s, seq - 1, &ev, 1, ack_cb, &a), 0);
    assert_int_equal(a.status, 0);
    event_deinit(&ev);
}

/* The leases table as one line per row, ordered by key:
 * "key|pattern|agent|mode|token|reason|task|locked_at|expires_at;". */
static char *leases_dump(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *out = xstrdup("");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT key || '|' || pattern || '|' || agent_id || '|' ||"
                                        " ifnull(mode,'-') || '|' || ifnull(token,'-') || '|' ||"
                                        " ifnull(reason,'-') || '|' || ifnull(task_id,'-') || '|'"
                                        " || locked_at || '|' || ifnull(expires_at,'-') FROM leases"
                                        " ORDER BY key, pattern, agent_id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *row = (const char *)sqlite3_column_text(st, 0);
        size_t n = strlen(out) + strlen(row) + 2;
        char *next = xmalloc(n);
        snprintf(next, n, "%s%s;", out, row);
        free(out);
        out = next;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static void test_store_sqlite__leases_materialised(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f->url);
    const char *hub = EVENT_SOURCE_HUB;
    append_json(s, 1, EVENT_FILE_LOCKED, hub,
                "{\"file\":\"src/a.c\",\"agentId\":\"A\",\"mode\":\"exclusive\",\"token\":1,"
                "\"reason\":\"edit\",\"ttl\":3600,\"expiresAt\":\"2026-01-01T01:00:00.000Z\"}");
    append_json(s, 2, EVENT_FILE_LOCKED, hub,
                "{\"file\":\"lib/**\",\"pattern\":\"lib/**\",\"agentId\":\"B\",\"mode\":"
                "\"exclusive\",\"token\":2,\"taskId\":\"T-1\",\"ttl\":60,"
                "\"expiresAt\":\"2026-01-01T00:01:00.000Z\"}");
    append_json(s, 3, EVENT_FILE_LOCKED, hub,
                "{\"file\":\"c.c\",\"agentId\":\"A\",\"mode\":\"shared\",\"token\":3,\"ttl\":1,"
                "\"expiresAt\":\"2026-01-01T00:00:01.000Z\"}");
    append_json(s, 4, EVENT_FILE_LOCKED, hub,
                "{\"file\":\"c.c\",\"agentId\":\"B\",\"mode\":\"shared\",\"token\":4,\"ttl\":1,"
                "\"expiresAt\":\"2026-01-01T00:00:01.000Z\"}");
    /* A renewal keeps the token and locked_at, moves the expiry. */
    append_json(s, 5, EVENT_FILE_LOCKED, hub,
                "{\"file\":\"src/a.c\",\"agentId\":\"A\",\"mode\":\"exclusive\",\"token\":1,"
                "\"reason\":\"still editing\",\"ttl\":7200,\"renewed\":true,"
                "\"expiresAt\":\"2026-01-01T02:00:00.000Z\"}");
    /* An unlock with a stale token changes nothing; the right one deletes. */
    append_json(s, 6, EVENT_FILE_UNLOCKED, hub,
                "{\"file\":\"c.c\",\"agentId\":\"A\",\"token\":99,\"reason\":\"released\"}");
    append_json(s, 7, EVENT_FILE_UNLOCKED, hub,
                "{\"file\":\"c.c\",\"agentId\":\"A\",\"token\":3,\"reason\":\"released\"}");
    /* Not from the hub, or malformed: skipped, and the append still works. */
    append_json(s, 8, EVENT_FILE_LOCKED, "someone-else",
                "{\"file\":\"x\",\"agentId\":\"Z\",\"mode\":\"exclusive\",\"token\":8}");
    append_json(s, 9, EVENT_FILE_LOCKED, hub, "{\"file\":\"y\",\"token\":9}");
    append_json(s, 10, EVENT_FILE_LOCKED, hub, "{\"file\":7,\"agentId\":\"A\"}");
    append_json(s, 11, EVENT_FILE_UNLOCKED, hub, "{}");
    assert_int_equal(last_seq(s), 11);

    const char *want = "c.c|0|B|shared|4|-|-|1004|2026-01-01T00:00:01.000Z;"
                       "lib/**|1|B|exclusive|2|-|T-1|1002|2026-01-01T00:01:00.000Z;"
                       "src/a.c|0|A|exclusive|1|still editing|-|1001|2026-01-01T02:00:00.000Z;";
    char *got = leases_dump(f->path);
    assert_string_equal(got, want);
    free(got);

    /* A failed batch leaves the table alone too (same transaction). */
    raw_exec(f->path, "CREATE TRIGGER boom BEFORE INSERT ON events WHEN new.seq = 13 "
                      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    struct event evs[2];
    struct ack a;
    event_init(&evs[0], EVENT_FILE_UNLOCKED, 5,
               cJSON_Parse("{\"file\":\"c.c\",\"agentId\":\"B\",\"token\":4}"));
    evs[0].seq = 12;
    event_init(&evs[1], EVENT_TASK_CREATED, 5, NULL);
    evs[1].seq = 13;
    assert_int_equal(s->ops->append(s, 11, evs, 2, ack_cb, &a), 0);
    assert_int_equal(a.status, -ERR_STORE);
    event_deinit(&evs[0]);
    event_deinit(&evs[1]);
    got = leases_dump(f->path);
    assert_string_equal(got, want);
    free(got);

    /* Trimming the log does not touch it. */
    assert_int_equal(s->ops->snapshot_save(s, 11, "{}", 2), 0);
    assert_int_equal(s->ops->trim(s, 11), 0);
    got = leases_dump(f->path);
    assert_string_equal(got, want);
    free(got);
    store_close(s);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_store_sqlite__creates_private_file),
        T(test_store_sqlite__plain_path_same_database),
        T(test_store_sqlite__missing_parent_is_precise),
        T(test_store_sqlite__directory_is_refused),
        T(test_store_sqlite__not_a_database),
        T(test_store_sqlite__foreign_database_refused),
        T(test_store_sqlite__newer_schema_refused),
        T(test_store_sqlite__special_names_refused),
        T(test_store_sqlite__wal_mode),
        T(test_store_sqlite__failure_mid_batch_writes_nothing),
        T(test_store_sqlite__foreign_write_lock_fails_cleanly),
        T(test_store_sqlite__two_handles_compare_and_append),
        T(test_store_sqlite__damaged_row_fails_read),
        T(test_store_sqlite__durable_power_level),
        T(test_store_sqlite__leases_materialised),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
