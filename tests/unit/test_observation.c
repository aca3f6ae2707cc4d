/* Unit tests for the observations the workspace reports (core/observation.h)
 * through the sink of its config: refused lock requests, queue joins and
 * leaves, claim refusals — each with its fields — and none from a replay,
 * a restore, a success, an argument error or a sink that wants nothing.
 * Every test ends with the replay check of fx_deinit(), whose fresh
 * workspace has the same sink: a replay that observed would show in the
 * counts the tests check after it. */
#include "core_fixture.h"

#include "base/clock.h"
#include "core/observation.h"

/* The sink: every observation as its JSON, in order. */
struct seen {
    cJSON *all; /* array */
    bool wanted;
};

static void seen_fn(void *arg, const struct observation *o)
{
    struct seen *s = arg;
    cJSON_AddItemToArray(s->all, observation_to_json(o));
}

static bool seen_wanted(void *arg)
{
    return ((struct seen *)arg)->wanted;
}

static void obs_init(struct fx *f, struct seen *s, const struct workspace_config *base)
{
    s->all = cJSON_CreateArray();
    s->wanted = true;
    struct workspace_config cfg = {0};
    if (base)
        cfg = *base;
    cfg.observe.fn = seen_fn;
    cfg.observe.wanted = seen_wanted;
    cfg.observe.arg = s;
    fx_init_cfg(f, &cfg);
}

static void obs_deinit(struct fx *f, struct seen *s)
{
    int before = cJSON_GetArraySize(s->all);
    fx_deinit(f); /* replays the log into a workspace with the same sink */
    assert_int_equal(cJSON_GetArraySize(s->all), before);
    cJSON_Delete(s->all);
}

static int obs_count(const struct seen *s)
{
    return cJSON_GetArraySize(s->all);
}

/* The i-th observation (borrowed). */
static const cJSON *obs_at(const struct seen *s, int i)
{
    const cJSON *o = cJSON_GetArrayItem(s->all, i);
    if (!o)
        fail_msg("no observation %d (have %d)", i, obs_count(s));
    return o;
}

static void obs_assert_time(const cJSON *o, const char *key, int64_t ms)
{
    char want[40];
    clock_format_iso(ms, want, sizeof(want));
    fx_assert_str(o, key, want);
}

static void obs_assert_absent(const cJSON *o, const char *key)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        fail_msg("member '%s' should be absent", key);
}

static void obs_assert_num(const cJSON *o, const char *key, int64_t want)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(m) || (int64_t)m->valuedouble != want)
        fail_msg("member '%s': got %g, want %lld", key, m ? m->valuedouble : -1.0, (long long)want);
}

static void test_observation__lock_refused_names_holder_and_expiry(void **state)
{
    (void)state;
    struct fx f;
    struct seen s;
    obs_init(&f, &s, NULL);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"src/x.c\",\"ttl\":60}"));
    assert_int_equal(obs_count(&s), 0); /* a grant is no observation */
    int64_t granted_at = f.now;
    f.now += 1000;
    cJSON *r = fx_call(&f, &b, "lock_file", "{\"file\":\"src/x.c\",\"mode\":\"shared\"}");
    assert_true(fx_bool(r, "success", false));
    cJSON_Delete(r);
    assert_int_equal(obs_count(&s), 1);
    const cJSON *o = obs_at(&s, 0);
    fx_assert_str(o, "kind", "lock:refused");
    obs_assert_time(o, "at", f.now);
    fx_assert_str(o, "agentId", "b");
    fx_assert_str(o, "sessionId", "s2");
    fx_assert_str(o, "file", "src/x.c");
    fx_assert_str(o, "mode", "shared");
    fx_assert_str(o, "lockedBy", "a");
    obs_assert_time(o, "expiresAt", granted_at + 60 * 1000);
    obs_assert_absent(o, "pattern");
    obs_assert_absent(o, "queuedBy");
    obs_assert_absent(o, "waiterId");

    /* a pattern request meeting the same holder */
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"pattern\":\"src/*.c\"}"));
    o = obs_at(&s, 1);
    fx_assert_str(o, "kind", "lock:refused");
    fx_assert_str(o, "file", "src/*.c");
    assert_true(fx_bool(o, "pattern", true));
    fx_assert_str(o, "mode", "exclusive");
    fx_assert_str(o, "lockedBy", "a");

    /* argument errors and other agents' free keys observe nothing */
    fx_fail(&f, &b, "lock_file", "{\"file\":\"../out\"}", -ERR_INVALID);
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"src/y.c\"}"));
    assert_int_equal(obs_count(&s), 2);
    obs_deinit(&f, &s);
}

/* A free key with an earlier queued request that may not be overtaken:
 * refused, naming the queued agent (no lease, so no expiry). */
static void test_observation__lock_refused_behind_a_queued_request(void **state)
{
    (void)state;
    struct fx f;
    struct seen s;
    obs_init(&f, &s, NULL);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    fx_register(&f, "c", "s3");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2"), c = fx_as("c", "s3");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\",\"waitMs\":5000}"));
    cJSON_Delete(fx_call(&f, &a, "unlock_file", "{\"file\":\"x.c\"}"));
    cJSON *r = fx_call(&f, &c, "lock_file", "{\"file\":\"x.c\"}");
    fx_assert_str(r, "queuedBy", "b");
    cJSON_Delete(r);
    assert_int_equal(obs_count(&s), 2); /* b's join, c's refusal */
    const cJSON *o = obs_at(&s, 1);
    fx_assert_str(o, "kind", "lock:refused");
    fx_assert_str(o, "agentId", "c");
    fx_assert_str(o, "queuedBy", "b");
    obs_assert_absent(o, "lockedBy");
    obs_assert_absent(o, "expiresAt");
    obs_deinit(&f, &s);
}

/* Queue joined, then granted when the holder unlocks: the wait time. */
static void test_observation__queue_joined_then_granted(void **state)
{
    (void)state;
    struct fx f;
    struct seen s;
    obs_init(&f, &s, NULL);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\",\"ttl\":30}"));
    int64_t held_until = f.now + 30 * 1000;
    int64_t joined = f.now;
    cJSON *r = fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\",\"waitMs\":5000}");
    uint64_t wid = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    assert_int_equal(obs_count(&s), 1);
    const cJSON *o = obs_at(&s, 0);
    fx_assert_str(o, "kind", "queue:joined");
    obs_assert_time(o, "at", joined);
    fx_assert_str(o, "agentId", "b");
    fx_assert_str(o, "sessionId", "s2");
    fx_assert_str(o, "file", "x.c");
    fx_assert_str(o, "lockedBy", "a");
    obs_assert_time(o, "expiresAt", held_until);
    obs_assert_num(o, "waiterId", (int64_t)wid);
    obs_assert_time(o, "joinedAt", joined);
    obs_assert_time(o, "deadline", joined + 5000);
    obs_assert_absent(o, "end");
    obs_assert_absent(o, "waitedMs");

    f.now += 1200;
    cJSON_Delete(fx_call(&f, &a, "unlock_file", "{\"file\":\"x.c\"}"));
    struct workspace_waiter_done_vec done = {0};
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 1);
    workspace_waiter_done_vec_deinit(&done);
    assert_int_equal(obs_count(&s), 2);
    o = obs_at(&s, 1);
    fx_assert_str(o, "kind", "queue:left");
    fx_assert_str(o, "end", "granted");
    obs_assert_time(o, "at", f.now);
    fx_assert_str(o, "agentId", "b");
    obs_assert_num(o, "waiterId", (int64_t)wid);
    obs_assert_num(o, "waitedMs", 1200);
    obs_assert_time(o, "joinedAt", joined);
    obs_assert_absent(o, "lockedBy");
    /* servicing with nothing queued observes nothing */
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    workspace_waiter_done_vec_deinit(&done);
    assert_int_equal(obs_count(&s), 2);
    obs_deinit(&f, &s);
}

/* Timed out (with the holder still in the way), cancelled by the hub
 * (no clock: no at, no waitedMs), cancelled by the session's end, and
 * dropped when the agent is removed. */
static void test_observation__queue_left_timed_out_cancelled_dropped(void **state)
{
    (void)state;
    struct fx f;
    struct seen s;
    obs_init(&f, &s, NULL);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    fx_register(&f, "c", "s3");
    fx_register(&f, "d", "s4");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2"), c = fx_as("c", "s3"),
                            d = fx_as("d", "s4"), admin = fx_admin(NULL);
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\",\"ttl\":600}"));
    int64_t t0 = f.now;
    cJSON *r = fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\",\"waitMs\":1000}");
    uint64_t wb = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    r = fx_call(&f, &c, "lock_file", "{\"file\":\"x.c\",\"waitMs\":60000,\"mode\":\"shared\"}");
    uint64_t wc = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    cJSON_Delete(fx_call(&f, &d, "lock_file", "{\"file\":\"x.c\",\"waitMs\":60000}"));
    cJSON_Delete(fx_call(&f, &d, "lock_file", "{\"file\":\"y.c\",\"waitMs\":60000}"));
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"z.c\"}"));
    cJSON_Delete(fx_call(&f, &d, "lock_file", "{\"file\":\"z.c\",\"waitMs\":60000}"));
    assert_int_equal(obs_count(&s), 4); /* joins of b, c, d (x.c), d (z.c); y.c was free */

    f.now = t0 + 1000; /* b's deadline */
    struct workspace_waiter_done_vec done = {0};
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 1);
    workspace_waiter_done_vec_deinit(&done);
    assert_int_equal(obs_count(&s), 5);
    const cJSON *o = obs_at(&s, 4);
    fx_assert_str(o, "kind", "queue:left");
    fx_assert_str(o, "end", "timed_out");
    fx_assert_str(o, "agentId", "b");
    obs_assert_num(o, "waiterId", (int64_t)wb);
    obs_assert_num(o, "waitedMs", 1000);
    fx_assert_str(o, "lockedBy", "a");
    obs_assert_time(o, "expiresAt", t0 + 600 * 1000);

    assert_int_equal(workspace_waiter_cancel(f.ws, wc), 0);
    o = obs_at(&s, 5);
    fx_assert_str(o, "kind", "queue:left");
    fx_assert_str(o, "end", "cancelled");
    fx_assert_str(o, "agentId", "c");
    fx_assert_str(o, "mode", "shared");
    obs_assert_num(o, "waiterId", (int64_t)wc);
    obs_assert_time(o, "joinedAt", t0);
    obs_assert_absent(o, "at");
    obs_assert_absent(o, "waitedMs");
    assert_int_equal(workspace_waiter_cancel(f.ws, wc), -ERR_NOT_FOUND);
    assert_int_equal(obs_count(&s), 6);

    /* d's requests: x.c ends with its session, z.c with its removal */
    f.now = t0 + 2500;
    cJSON *rm = fx_call(&f, &admin, "remove_agent", "{\"agentId\":\"d\"}");
    cJSON_Delete(rm);
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 2);
    workspace_waiter_done_vec_deinit(&done);
    assert_int_equal(obs_count(&s), 8);
    for (int i = 6; i < 8; i++) {
        o = obs_at(&s, i);
        fx_assert_str(o, "end", "dropped");
        fx_assert_str(o, "agentId", "d");
        obs_assert_num(o, "waitedMs", 2500);
    }
    fx_assert_str(obs_at(&s, 6), "file", "x.c");
    fx_assert_str(obs_at(&s, 7), "file", "z.c");

    fx_register(&f, "e", "s5");
    struct workspace_caller e = fx_as("e", "s5");
    cJSON_Delete(fx_call(&f, &e, "lock_file", "{\"file\":\"x.c\",\"waitMs\":60000}"));
    f.now += 700;
    workspace_session_detach(f.ws, "s5", f.now);
    assert_int_equal(obs_count(&s), 10);
    o = obs_at(&s, 9);
    fx_assert_str(o, "kind", "queue:left");
    fx_assert_str(o, "end", "cancelled");
    fx_assert_str(o, "agentId", "e");
    fx_assert_str(o, "sessionId", "s5");
    obs_assert_num(o, "waitedMs", 700);
    obs_assert_time(o, "at", f.now);
    obs_deinit(&f, &s);
}

static void test_observation__claim_refusals_say_why(void **state)
{
    (void)state;
    struct fx f;
    struct seen s;
    obs_init(&f, &s, NULL);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T1\",\"title\":\"one\"}"));
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"T2\",\"title\":\"two\",\"dependsOn\":[\"T1\"]}"));
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"T3\",\"title\":\"three\",\"capabilities\":[\"rust\"]}"));
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"T4\",\"title\":\"four\",\"files\":[\"src/held.c\"]}"));
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T5\",\"title\":\"five\"}"));
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"src/held.c\",\"ttl\":90}"));
    int64_t held_until = f.now + 90 * 1000;
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T1\"}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T5\"}"));
    cJSON_Delete(fx_call(&f, &a, "complete_task", "{\"taskId\":\"T5\"}"));
    assert_int_equal(obs_count(&s), 0);

    static const struct {
        const char *task, *reason;
    } cases[] = {
        {"T1", "claimed"},      {"T5", "not_open"},   {"T2", "blocked"},
        {"T3", "capabilities"}, {"T4", "files_held"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char args[64];
        snprintf(args, sizeof(args), "{\"taskId\":\"%s\"}", cases[i].task);
        cJSON *r = fx_call(&f, &b, "claim_task", args);
        assert_true(fx_bool(r, "success", false));
        cJSON_Delete(r);
        assert_int_equal(obs_count(&s), (int)i + 1);
        const cJSON *o = obs_at(&s, (int)i);
        fx_assert_str(o, "kind", "claim:refused");
        obs_assert_time(o, "at", f.now);
        fx_assert_str(o, "agentId", "b");
        fx_assert_str(o, "sessionId", "s2");
        fx_assert_str(o, "taskId", cases[i].task);
        fx_assert_str(o, "reason", cases[i].reason);
    }
    fx_assert_str(obs_at(&s, 0), "claimedBy", "a");
    obs_assert_absent(obs_at(&s, 1), "claimedBy");
    fx_assert_str(obs_at(&s, 2), "blockedBy", "T1");
    obs_assert_absent(obs_at(&s, 3), "file");
    const cJSON *o = obs_at(&s, 4);
    fx_assert_str(o, "file", "src/held.c");
    fx_assert_str(o, "lockedBy", "a");
    obs_assert_time(o, "expiresAt", held_until);
    obs_assert_absent(o, "blockedBy");

    /* an unknown task is an error, not a refusal: nothing observed */
    fx_fail(&f, &b, "claim_task", "{\"taskId\":\"T9\"}", -ERR_NOT_FOUND);
    assert_int_equal(obs_count(&s), 5);
    obs_deinit(&f, &s);
}

/* A sink that wants nothing is never called (its fn would fail). */
static void fail_fn(void *arg, const struct observation *o)
{
    (void)arg;
    fail_msg("observation %s built for a sink that wants none", observation_kind_name(o->kind));
}

static void test_observation__unwanted_sink_is_not_called(void **state)
{
    (void)state;
    struct fx f;
    struct seen s = {.wanted = false};
    struct workspace_config cfg = {.observe = {.fn = fail_fn, .wanted = seen_wanted, .arg = &s}};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON *r = fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\",\"waitMs\":100}");
    uint64_t id = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    assert_int_equal(workspace_waiter_cancel(f.ws, id), 0);
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T\",\"title\":\"t\"}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}"));
    cJSON_Delete(fx_call(&f, &b, "claim_task", "{\"taskId\":\"T\"}"));
    fx_deinit(&f);
}

/* Replaying the log, restoring a snapshot and carrying queued requests
 * into a rebuilt workspace observe nothing: only live evaluation does. */
static void test_observation__replay_restore_and_carry_observe_nothing(void **state)
{
    (void)state;
    struct fx f;
    struct seen s;
    obs_init(&f, &s, NULL);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\",\"waitMs\":5000}"));
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T\",\"title\":\"t\"}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}"));
    cJSON_Delete(fx_call(&f, &b, "claim_task", "{\"taskId\":\"T\"}"));
    assert_int_equal(obs_count(&s), 3);

    struct workspace *replayed = workspace_new(&f.cfg);
    for (size_t i = 0; i < f.log.len; i++)
        assert_int_equal(workspace_apply(replayed, &f.log.items[i]), 0);
    struct workspace *restored = workspace_new(&f.cfg);
    cJSON *snap = workspace_snapshot(f.ws);
    assert_int_equal(workspace_restore(restored, snap, f.now), 0);
    cJSON_Delete(snap);
    struct workspace_waiter_done_vec dropped = {0};
    workspace_carry_ephemeral(restored, f.ws, &dropped);
    assert_int_equal(dropped.len, 0);
    workspace_waiter_done_vec_deinit(&dropped);
    assert_int_equal(obs_count(&s), 3);
    /* the carried request lives on in the rebuilt workspace, observed
     * again only when it leaves there */
    cJSON_Delete(fx_call(&f, &a, "unlock_file", "{\"file\":\"x.c\"}"));
    workspace_free(replayed);
    workspace_free(restored);
    assert_int_equal(obs_count(&s), 3);
    obs_deinit(&f, &s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_observation__lock_refused_names_holder_and_expiry),
        cmocka_unit_test(test_observation__lock_refused_behind_a_queued_request),
        cmocka_unit_test(test_observation__queue_joined_then_granted),
        cmocka_unit_test(test_observation__queue_left_timed_out_cancelled_dropped),
        cmocka_unit_test(test_observation__claim_refusals_say_why),
        cmocka_unit_test(test_observation__unwanted_sink_is_not_called),
        cmocka_unit_test(test_observation__replay_restore_and_carry_observe_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
