/* Unit tests for keys: creating (shape, rights, defaults), authenticating
 * in constant time through the digest (wrong secret, wrong id, revoked),
 * the file (0600, no secret, reload gives the same keys, refused changes
 * leave memory and file unchanged, malformed files refused with the
 * record named), keys_any_active, and the token bucket on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/keys.h"

#define NOW_MS 1764000000000LL

struct fx {
    char dir[256];
    char path[300];
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/coordhub-keys.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/keys.json", f->dir);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    char p[320];
    unlink(f->path);
    snprintf(p, sizeof(p), "%s.tmp", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static const struct keys_key *create(struct keys *ks, const struct keys_spec *spec, char **text)
{
    const struct keys_key *k = NULL;
    char *err = NULL;
    int rc = keys_create(ks, spec, NOW_MS, text, &k, &err);
    if (rc)
        fail_msg("keys_create: %d %s", rc, err ? err : "");
    return k;
}

static void test_keys__create_and_authenticate(void **state)
{
    struct fx *f = *state;
    struct keys *ks = keys_new(f->path);
    assert_false(keys_any_active(ks));
    struct keys_spec spec = {
        .name = "ci", .publish = "ci:*", .subscribe = "ci:*, file:*", .access = KEYS_ACCESS_READ};
    char *text = NULL;
    const struct keys_key *k = create(ks, &spec, &text);
    assert_int_equal(strlen(text), KEYS_TEXT_LEN);
    assert_memory_equal(text, "chk_", 4);
    assert_memory_equal(text + 4, k->id, KEYS_ID_HEX);
    assert_int_equal(text[4 + KEYS_ID_HEX], '_');
    assert_string_equal(k->name, "ci");
    assert_int_equal(k->access, KEYS_ACCESS_READ);
    assert_true(k->rate == KEYS_DEFAULT_RATE);
    assert_int_equal(k->burst, KEYS_DEFAULT_BURST);
    assert_int_equal(k->created_ms, NOW_MS);
    assert_true(keys_key_may_publish(k, "ci:done"));
    assert_false(keys_key_may_publish(k, "file:locked"));
    assert_true(keys_key_may_subscribe(k, "file:locked"));
    assert_false(keys_key_may_subscribe(k, "task:claimed"));
    assert_true(keys_any_active(ks));
    assert_ptr_equal(keys_authenticate(ks, text, strlen(text)), k);
    /* A wrong secret with the right id, the right secret cut short, junk. */
    char *wrong = strdup(text);
    wrong[KEYS_TEXT_LEN - 1] = wrong[KEYS_TEXT_LEN - 1] == '0' ? '1' : '0';
    assert_null(keys_authenticate(ks, wrong, strlen(wrong)));
    assert_null(keys_authenticate(ks, text, strlen(text) - 1));
    assert_null(keys_authenticate(ks, "chk_", 4));
    assert_null(keys_authenticate(NULL, text, strlen(text)));
    /* A key with no patterns may neither publish nor receive anything. */
    struct keys_spec bare = {.access = KEYS_ACCESS_WRITE};
    char *text2 = NULL;
    const struct keys_key *k2 = create(ks, &bare, &text2);
    assert_false(keys_key_may_publish(k2, "ci:done"));
    assert_false(keys_key_may_subscribe(k2, "ci:done"));
    assert_string_equal(k2->name, "");
    assert_string_not_equal(k->id, k2->id);
    /* Revoked: never again; revoking twice is refused. */
    char *err = NULL;
    assert_int_equal(keys_revoke(ks, k->id, NOW_MS + 5, NULL, &err), 0);
    assert_true(k->revoked);
    assert_int_equal(k->revoked_ms, NOW_MS + 5);
    assert_null(keys_authenticate(ks, text, strlen(text)));
    assert_int_equal(keys_revoke(ks, k->id, NOW_MS, NULL, &err), -ERR_STATE);
    assert_non_null(strstr(err, "already revoked"));
    free(err);
    assert_int_equal(keys_revoke(ks, "ffffffffffff", NOW_MS, NULL, &err), -ERR_NOT_FOUND);
    free(err);
    assert_true(keys_any_active(ks)); /* k2 */
    assert_int_equal(keys_revoke(ks, k2->id, NOW_MS, NULL, &err), 0);
    assert_false(keys_any_active(ks));
    free(wrong);
    free(text);
    free(text2);
    keys_free(ks);
}

static void test_keys__file_holds_no_secret_and_reloads(void **state)
{
    struct fx *f = *state;
    struct keys *ks = keys_new(f->path);
    struct keys_spec spec = {.name = "deploy \xc3\xa9",
                             .publish = "deploy:*",
                             .access = KEYS_ACCESS_ADMIN,
                             .require_signature = true,
                             .rate = 2.5,
                             .burst = 7};
    char *text = NULL;
    const struct keys_key *k = create(ks, &spec, &text);
    char *err = NULL;
    char *t2 = NULL;
    const struct keys_key *revoked = create(ks, &spec, &t2);
    assert_int_equal(keys_revoke(ks, revoked->id, NOW_MS + 1, NULL, &err), 0);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *file = read_file(f->path);
    assert_null(strstr(file, text + 5 + KEYS_ID_HEX)); /* the secret */
    assert_null(strstr(file, t2 + 5 + KEYS_ID_HEX));
    assert_non_null(strstr(file, "\"sha256\""));
    free(file);
    cJSON *j = keys_key_json(k);
    char *shown = cJSON_PrintUnformatted(j);
    assert_null(strstr(shown, "sha256"));
    assert_null(strstr(shown, text + 5 + KEYS_ID_HEX));
    assert_non_null(strstr(shown, "\"canAccessState\":\"admin\""));
    assert_non_null(strstr(shown, "\"rateLimit\":{\"perSecond\":2.5,\"burst\":7}"));
    free(shown);
    cJSON_Delete(j);

    struct keys *again = keys_new(f->path);
    assert_int_equal(keys_load(again, &err), 0);
    assert_int_equal(keys_count(again), 2);
    const struct keys_key *k2 = keys_authenticate(again, text, strlen(text));
    assert_non_null(k2);
    assert_string_equal(k2->id, k->id);
    assert_string_equal(k2->name, "deploy \xc3\xa9");
    assert_int_equal(k2->access, KEYS_ACCESS_ADMIN);
    assert_true(k2->require_signature);
    assert_true(k2->rate == 2.5);
    assert_int_equal(k2->burst, 7);
    assert_int_equal(k2->created_ms, NOW_MS);
    assert_true(keys_key_may_publish(k2, "deploy:done"));
    assert_null(keys_authenticate(again, t2, strlen(t2)));
    assert_true(keys_at(again, 1)->revoked);
    assert_int_equal(keys_at(again, 1)->revoked_ms, NOW_MS + 1);
    keys_free(again);
    free(text);
    free(t2);
    keys_free(ks);
}

static void test_keys__refusals_change_nothing(void **state)
{
    struct fx *f = *state;
    struct keys *ks = keys_new(f->path);
    char *text = NULL;
    struct keys_spec ok = {.name = "a"};
    const struct keys_key *k = create(ks, &ok, &text);
    (void)k;
    char *before = read_file(f->path);
    const struct {
        struct keys_spec spec;
        const char *says;
    } bad[] = {
        {{.publish = "Bad Pattern"}, "canPublish:"},
        {{.subscribe = ""}, "canSubscribe:"},
        {{.name = "a\nb"}, "name:"},
        {{.rate = -1}, "rate limit"},
        {{.rate = 1e9}, "rate limit"},
        {{.rate = 1e-300, .burst = 1}, "rate limit"},
        {{.rate = 0.009}, "rate limit"},
        {{.burst = KEYS_BURST_MAX + 1}, "rate limit"},
        {{.access = (enum keys_access)9}, "canAccessState"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *t = NULL, *err = NULL;
        const struct keys_key *out = NULL;
        assert_int_equal(keys_create(ks, &bad[i].spec, NOW_MS, &t, &out, &err), -ERR_INVALID);
        assert_null(t);
        assert_null(out);
        if (!err || !strstr(err, bad[i].says))
            fail_msg("case %zu: '%s'", i, err ? err : "(none)");
        free(err);
    }
    assert_int_equal(keys_count(ks), 1);
    char *after = read_file(f->path);
    assert_string_equal(before, after);
    free(before);
    free(after);
    keys_free(ks);
    free(text);

    /* A file that cannot be written: the key is not made. */
    struct keys *nowhere = keys_new("/nonexistent-dir/keys.json");
    char *t = NULL, *err = NULL;
    const struct keys_key *out = NULL;
    assert_true(keys_create(nowhere, &ok, NOW_MS, &t, &out, &err) < 0);
    assert_non_null(strstr(err, "cannot write"));
    assert_null(t);
    assert_int_equal(keys_count(nowhere), 0);
    free(err);
    keys_free(nowhere);
}

static void test_keys__malformed_files_refused(void **state)
{
    struct fx *f = *state;
    const char *rec = "\"name\":\"\",\"createdAt\":\"2026-01-01T00:00:00.000Z\","
                      "\"sha256\":\"" /* 64 hex */
                      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\","
                      "\"canAccessState\":\"read\",\"rateLimit\":{\"perSecond\":1,\"burst\":1}";
    char good[1024], dup[2048], badstate[1024];
    snprintf(good, sizeof(good), "{\"version\":1,\"keys\":[{\"id\":\"0123456789ab\",%s}]}", rec);
    snprintf(dup, sizeof(dup),
             "{\"version\":1,\"keys\":[{\"id\":\"0123456789ab\",%s},{\"id\":\"0123456789ab\",%s}]}",
             rec, rec);
    snprintf(badstate, sizeof(badstate), "{\"version\":1,\"keys\":[{\"id\":\"0123456789ab\",%s}]}",
             rec);
    char *p = strstr(badstate, "\"read\"");
    memcpy(p, "\"rude\"", 6);
    const struct {
        const char *text;
        const char *says;
    } cases[] = {
        {"not json", "not valid JSON"},
        {"{\"version\":2,\"keys\":[]}", "expected"},
        {"{\"version\":1,\"keys\":[{\"id\":\"zz\"}]}", "key [0]: id"},
        {dup, "key [1]: id is used twice"},
        {badstate, "key [0]: canAccessState"},
    };
    char *err = NULL;
    write_file(f->path, good);
    struct keys *ks = keys_new(f->path);
    assert_int_equal(keys_load(ks, &err), 0);
    assert_int_equal(keys_count(ks), 1);
    assert_true(keys_any_active(ks));
    keys_free(ks);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file(f->path, cases[i].text);
        ks = keys_new(f->path);
        err = NULL;
        assert_true(keys_load(ks, &err) < 0);
        if (!err || !strstr(err, cases[i].says))
            fail_msg("case %zu: '%s'", i, err ? err : "(none)");
        assert_int_equal(keys_count(ks), 0);
        free(err);
        keys_free(ks);
    }
    /* No file: an empty store. */
    unlink(f->path);
    ks = keys_new(f->path);
    assert_int_equal(keys_load(ks, &err), 0);
    assert_int_equal(keys_count(ks), 0);
    keys_free(ks);
}

static void test_keys__token_bucket(void **state)
{
    struct fx *f = *state;
    struct keys *ks = keys_new(f->path);
    struct keys_spec spec = {.rate = 2, .burst = 3};
    char *text = NULL;
    const struct keys_key *k = create(ks, &spec, &text);
    int64_t t = 5000000000LL, retry = 0;
    for (int i = 0; i < 3; i++)
        assert_int_equal(keys_rate_take(ks, k, t, &retry), 0);
    assert_int_equal(keys_rate_take(ks, k, t, &retry), -ERR_BUSY);
    assert_int_equal(retry, 500); /* one token at 2/s */
    t += 250000000LL;             /* half a token later */
    assert_int_equal(keys_rate_take(ks, k, t, &retry), -ERR_BUSY);
    assert_int_equal(retry, 250);
    t += 250000000LL;
    assert_int_equal(keys_rate_take(ks, k, t, &retry), 0);
    /* A long pause refills at most to the burst. */
    t += 3600LL * 1000000000LL;
    for (int i = 0; i < 3; i++)
        assert_int_equal(keys_rate_take(ks, k, t, &retry), 0);
    assert_int_equal(keys_rate_take(ks, k, t, &retry), -ERR_BUSY);
    /* A clock that seems to go back takes nothing away. */
    assert_int_equal(keys_rate_take(ks, k, t - 1000000000LL, &retry), -ERR_BUSY);
    /* The slowest bucket allowed waits 100 s at most for a token. */
    struct keys_spec slow = {.rate = KEYS_RATE_MIN, .burst = 1};
    char *text2 = NULL;
    const struct keys_key *s = create(ks, &slow, &text2);
    assert_int_equal(keys_rate_take(ks, s, t, &retry), 0);
    assert_int_equal(keys_rate_take(ks, s, t, &retry), -ERR_BUSY);
    assert_int_equal(retry, 100000);
    free(text2);
    struct keys_key stranger;
    memset(&stranger, 0, sizeof(stranger));
    assert_int_equal(keys_rate_take(ks, &stranger, t, &retry), -ERR_NOT_FOUND);
    free(text);
    keys_free(ks);
}

static void test_keys__tool_rights(void **state)
{
    struct fx *f = *state;
    struct keys *ks = keys_new(f->path);
    struct keys_spec rs = {.access = KEYS_ACCESS_READ, .subscribe = "ci:*"};
    struct keys_spec ws = {.access = KEYS_ACCESS_WRITE, .publish = "ci:*"};
    char *t1 = NULL, *t2 = NULL;
    const struct keys_key *r = create(ks, &rs, &t1);
    const struct keys_key *w = create(ks, &ws, &t2);
    char *why;
    assert_null(keys_key_tool_refusal(r, "list_locked_files", KEYS_TOOL_READ_ONLY, ""));
    assert_null(keys_key_tool_refusal(r, "wait_for_events",
                                      KEYS_TOOL_READ_ONLY | KEYS_TOOL_READS_EVENTS, ""));
    why = keys_key_tool_refusal(r, "lock_file", 0, "");
    assert_non_null(strstr(why, "tool 'lock_file' changes state"));
    assert_non_null(strstr(why, "'read'"));
    free(why);
    why = keys_key_tool_refusal(r, "publish_event", KEYS_TOOL_PUBLISHES, "ci:x");
    assert_non_null(strstr(why, "needs 'write'"));
    free(why);
    assert_null(keys_key_tool_refusal(w, "lock_file", 0, ""));
    assert_null(keys_key_tool_refusal(w, "publish_event", KEYS_TOOL_PUBLISHES, "ci:x"));
    why = keys_key_tool_refusal(w, "publish_event", KEYS_TOOL_PUBLISHES, "deploy:x");
    assert_non_null(strstr(why, "'deploy:x' is outside this API key's canPublish"));
    free(why);
    why = keys_key_tool_refusal(w, "wait_for_events", KEYS_TOOL_READ_ONLY | KEYS_TOOL_READS_EVENTS,
                                "");
    assert_non_null(strstr(why, "no canSubscribe patterns"));
    free(why);
    /* A key that requires signatures publishes only signed POST /events. */
    struct keys_spec ss = {
        .publish = "ci:*", .access = KEYS_ACCESS_WRITE, .require_signature = true};
    char *t3 = NULL;
    const struct keys_key *sg = create(ks, &ss, &t3);
    why = keys_key_tool_refusal(sg, "publish_event", KEYS_TOOL_PUBLISHES, "ci:x");
    assert_non_null(strstr(why, "requires signed events"));
    assert_non_null(strstr(why, "POST /events"));
    free(why);
    assert_null(keys_key_tool_refusal(sg, "lock_file", 0, ""));
    free(t3);
    free(t1);
    free(t2);
    keys_free(ks);
}

static void test_keys__access_names(void **state)
{
    (void)state;
    enum keys_access a;
    static const char *const names[] = {"none", "read", "write", "admin"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(keys_access_parse(names[i], &a), 0);
        assert_int_equal(a, i);
        assert_string_equal(keys_access_name(a), names[i]);
    }
    assert_int_equal(keys_access_parse("Admin", &a), -ERR_INVALID);
    assert_int_equal(keys_access_parse(NULL, &a), -ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys__create_and_authenticate, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_keys__file_holds_no_secret_and_reloads, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_keys__refusals_change_nothing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_keys__malformed_files_refused, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_keys__token_bucket, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_keys__tool_rights, fx_setup, fx_teardown),
        cmocka_unit_test(test_keys__access_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
