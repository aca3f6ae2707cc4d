/* Unit tests for launch: the start record (hub.json) and the decisions an
 * automatic start and a `coordhub serve` make from it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/launch.h"
#include "app/options.h"
#include "base/err.h"
#include "base/json.h"

#define REC_PATH "/ws/.coordhub/hub.json"

static void opts(struct options *o, const char *store)
{
    memset(o, 0, sizeof(*o));
    o->store_url = (char *)store;
    o->workspace = (char *)"shop";
}

static void test_launch__record_strips_the_password(void **state)
{
    (void)state;
    struct options o;
    opts(&o, "redis://alice:s3cret@db.example:6380/2");
    o.http = (char *)"127.0.0.1:7500";
    o.retain = (char *)"5000";
    struct launch_record r;
    launch_record_from_options(&o, &r);
    assert_string_equal(r.store, "redis://alice:***@db.example:6380/2");
    assert_true(r.secret);
    cJSON *j = launch_record_json(&r);
    char *text = json_print(j);
    assert_null(strstr(text, "s3cret"));
    struct launch_record back;
    char *err = NULL;
    assert_int_equal(launch_record_parse(j, &back, &err), 0);
    assert_string_equal(back.store, r.store);
    assert_true(back.secret);
    assert_string_equal(back.workspace, "shop");
    assert_string_equal(back.http, "127.0.0.1:7500");
    assert_false(back.no_http);
    assert_string_equal(back.retain, "5000");
    assert_null(back.tls_cert);
    free(text);
    cJSON_Delete(j);
    launch_record_deinit(&back);
    launch_record_deinit(&r);

    opts(&o, "sqlite:/ws/.coordhub/hub.db");
    o.no_http = true;
    o.http = (char *)"127.0.0.1:7500"; /* --no-http wins */
    launch_record_from_options(&o, &r);
    assert_false(r.secret);
    j = launch_record_json(&r);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "http")));
    assert_int_equal(launch_record_parse(j, &back, &err), 0);
    assert_true(back.no_http);
    assert_null(back.http);
    cJSON_Delete(j);
    launch_record_deinit(&back);
    launch_record_deinit(&r);
}

static void test_launch__parse_refuses_bad_fields(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *field;
    } rows[] = {
        {"[]", "object"},
        {"{\"workspace\":\"w\"}", "store"},
        {"{\"store\":\"\",\"workspace\":\"w\"}", "store"},
        {"{\"store\":\"memory:\"}", "workspace"},
        {"{\"store\":\"memory:\",\"workspace\":\"w\",\"storeNeedsSecret\":1}", "storeNeedsSecret"},
        {"{\"store\":\"memory:\",\"workspace\":\"w\",\"http\":true}", "http"},
        {"{\"store\":\"memory:\",\"workspace\":\"w\",\"http\":\"\"}", "http"},
        {"{\"store\":\"memory:\",\"workspace\":\"w\",\"retainEvents\":5000}", "retainEvents"},
        {"{\"store\":\"memory:\",\"workspace\":\"w\",\"tlsKey\":\"\"}", "tlsKey"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int perr = 0;
        cJSON *j = json_parse_bounded(rows[i].json, strlen(rows[i].json), 8, &perr);
        assert_non_null(j);
        struct launch_record r;
        char *err = NULL;
        assert_int_equal(launch_record_parse(j, &r, &err), -ERR_INVALID);
        assert_non_null(err);
        if (!strstr(err, rows[i].field))
            fail_msg("row %zu: '%s' does not name %s", i, err, rows[i].field);
        assert_null(r.store);
        free(err);
        cJSON_Delete(j);
    }
}

static void test_launch__autostart_follows_the_record(void **state)
{
    (void)state;
    char *store = NULL, *err = NULL;
    /* No record: what the starter was given, or the default. */
    assert_int_equal(launch_autostart_store(NULL, NULL, REC_PATH, &store, &err), 0);
    assert_null(store);
    assert_int_equal(launch_autostart_store(NULL, "memory:", REC_PATH, &store, &err), 0);
    assert_string_equal(store, "memory:");
    free(store);

    /* A record without a password: its store, whatever the default. */
    struct launch_record plain = {.store = (char *)"unix:///run/redis.sock",
                                  .workspace = (char *)"w"};
    assert_int_equal(launch_autostart_store(&plain, NULL, REC_PATH, &store, &err), 0);
    assert_string_equal(store, "unix:///run/redis.sock");
    free(store);
    /* Given another store: refused, naming both and the way to move. */
    assert_int_equal(launch_autostart_store(&plain, "sqlite:/x.db", REC_PATH, &store, &err),
                     -ERR_STATE);
    assert_null(store);
    assert_non_null(strstr(err, "unix:///run/redis.sock"));
    assert_non_null(strstr(err, "sqlite:/x.db"));
    assert_non_null(strstr(err, REC_PATH));
    assert_non_null(strstr(err, "coordhub serve --store"));
    free(err);
    err = NULL;

    /* A record whose URL had a password: only COORDHUB_STORE (or --store)
     * with that URL brings it; its absence is a refusal saying so. */
    struct launch_record secret = {
        .store = (char *)"redis://alice:***@db:6379/0", .secret = true, .workspace = (char *)"w"};
    assert_int_equal(launch_autostart_store(&secret, NULL, REC_PATH, &store, &err), -ERR_STATE);
    assert_null(store);
    assert_non_null(strstr(err, "COORDHUB_STORE"));
    assert_non_null(strstr(err, "password"));
    assert_non_null(strstr(err, "redis://alice:***@db:6379/0"));
    free(err);
    err = NULL;
    assert_int_equal(
        launch_autostart_store(&secret, "redis://alice:pw@db:6379/0", REC_PATH, &store, &err), 0);
    assert_string_equal(store, "redis://alice:pw@db:6379/0");
    free(store);
    /* Another user, host or database is another store. */
    const char *others[] = {"redis://bob:pw@db:6379/0", "redis://alice:pw@db2:6379/0",
                            "redis://alice:pw@db:6379/1", "redis://db:6379/0"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        assert_int_equal(launch_autostart_store(&secret, others[i], REC_PATH, &store, &err),
                         -ERR_STATE);
        assert_null(store);
        assert_null(strstr(err, ":pw@")); /* the given password is not shown */
        free(err);
        err = NULL;
    }
}

static void test_launch__serve_needs_store_to_move(void **state)
{
    (void)state;
    struct launch_record rec = {
        .store = (char *)"redis://alice:***@db:6379/0", .secret = true, .workspace = (char *)"w"};
    struct options o;
    char *err = NULL;
    opts(&o, "sqlite:/ws/.coordhub/hub.db"); /* the default: --store not given */
    assert_int_equal(launch_serve_check(&rec, &o, REC_PATH, &err), -ERR_STATE);
    assert_non_null(strstr(err, "--store"));
    assert_non_null(strstr(err, "redis://alice:***@db:6379/0"));
    assert_non_null(strstr(err, "sqlite:/ws/.coordhub/hub.db"));
    free(err);
    err = NULL;
    o.store_arg = true; /* given explicitly: the move is wanted */
    assert_int_equal(launch_serve_check(&rec, &o, REC_PATH, &err), 0);
    /* The recorded store (from COORDHUB_STORE, with its password): fine. */
    opts(&o, "redis://alice:other@db:6379/0");
    assert_int_equal(launch_serve_check(&rec, &o, REC_PATH, &err), 0);
    assert_int_equal(launch_serve_check(NULL, &o, REC_PATH, &err), 0);
    assert_null(err);
}

static void test_launch__save_and_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/launch-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/hub.json", dir);
    struct launch_record r, back;
    char *err = NULL;
    assert_int_equal(launch_record_load(path, &back, &err), -ENOENT);
    assert_null(err);
    struct options o;
    opts(&o, "unix://:pw@/run/redis.sock");
    launch_record_from_options(&o, &r);
    assert_int_equal(launch_record_save(path, &r), 0);
    assert_int_equal(launch_record_load(path, &back, &err), 0);
    assert_string_equal(back.store, "unix://:***@/run/redis.sock");
    assert_true(back.secret);
    launch_record_deinit(&back);
    launch_record_deinit(&r);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"store\":", f);
    fclose(f);
    assert_int_equal(launch_record_load(path, &back, &err), -ERR_INVALID);
    assert_non_null(strstr(err, "fix or remove it"));
    free(err);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_launch__record_strips_the_password),
        cmocka_unit_test(test_launch__parse_refuses_bad_fields),
        cmocka_unit_test(test_launch__autostart_follows_the_record),
        cmocka_unit_test(test_launch__serve_needs_store_to_move),
        cmocka_unit_test(test_launch__save_and_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
