/* Unit tests for tasks through the workspace: creation rules, availability,
 * the atomic claim, completion and release, cancel, reopen and update.
 * Every test ends with the
 * replay check of fx_deinit(). */
#include "core_fixture.h"

#include "core/task.h"
#include "rpc/tools.h"

static cJSON *task_of(const cJSON *r)
{
    return cJSON_GetObjectItem(r, "task");
}

static int n_items(const cJSON *r, const char *key)
{
    return cJSON_GetArraySize(cJSON_GetObjectItem(r, key));
}

static void test_task__create_generates_ids_and_normalises(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON *r = fx_call(&f, &a, "create_task",
                       "{\"title\":\"API\",\"files\":[\"./src//api.rs\",\"src/api.rs\"],"
                       "\"patterns\":[\"tests/\"],\"capabilities\":[\"rust\"],\"priority\":5}");
    cJSON *t = task_of(r);
    fx_assert_str(t, "taskId", "task-2");
    fx_assert_str(t, "status", "open");
    fx_assert_str(t, "createdBy", "a");
    fx_assert_str(t, "createdAt", "2026-11-29T21:14:31.000Z");
    assert_int_equal(n_items(t, "files"), 1);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "files"), 0)->valuestring,
                        "src/api.rs");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "patterns"), 0)->valuestring,
                        "tests/**");
    assert_int_equal(json_get_i64(t, "priority", 0), 5);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(t, "claimedBy")));
    const struct event *ev = fx_last(&f);
    assert_string_equal(ev->type, EVENT_TASK_CREATED);
    assert_true(cJSON_Compare(cJSON_GetObjectItem(ev->data, "task"), t, 1));
    cJSON_Delete(r);
    /* a caller-chosen id that looks generated pushes the generator aside */
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"task-4\",\"title\":\"x\"}"));
    r = fx_call(&f, &a, "create_task", "{\"title\":\"y\"}");
    fx_assert_str(task_of(r), "taskId", "task-4-2");
    cJSON_Delete(r);
    fx_deinit(&f);
}

static void test_task__create_rejects_bad_arguments(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    struct workspace_caller c = fx_as(NULL, NULL);
    cJSON_Delete(fx_call(&f, &c, "create_task", "{\"taskId\":\"ARCH-002\",\"title\":\"t\"}"));
    fx_fail_msg(&f, &c, "create_task", "{\"taskId\":\"ARCH-002\",\"title\":\"t\"}", -ERR_INVALID,
                "already exists");
    fx_fail_msg(&f, &c, "create_task", "{\"title\":\"t\",\"dependsOn\":[\"ARCH-002\",\"NOPE\"]}",
                -ERR_INVALID, "argument 'dependsOn': unknown task 'NOPE'");
    fx_fail_msg(&f, &c, "create_task", "{}", -ERR_INVALID, "'title'");
    fx_fail_msg(&f, &c, "create_task", "{\"title\":\"t\",\"files\":[\"../x\"]}", -ERR_INVALID,
                "'files'");
    fx_fail_msg(&f, &c, "create_task", "{\"title\":\"t\",\"patterns\":[\"a/../b\"]}", -ERR_INVALID,
                "'patterns'");
    fx_fail_msg(&f, &c, "create_task", "{\"title\":\"t\",\"taskId\":\"has space\"}", -ERR_INVALID,
                "'taskId'");
    fx_fail_msg(&f, &c, "create_task", "{\"title\":\"t\",\"priority\":\"high\"}", -ERR_INVALID,
                "'priority'");
    fx_deinit(&f);
}

static void test_task__find_available_filters_and_orders(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    struct workspace_caller reg = fx_as(NULL, "s1");
    cJSON_Delete(fx_call(&f, &reg, "register_agent",
                         "{\"agentId\":\"a\",\"capabilities\":[\"rust\",\"backend\"]}"));
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"low\",\"title\":\"l\"}"));
    f.now += 1;
    cJSON_Delete(
        fx_call(&f, &a, "create_task", "{\"taskId\":\"high\",\"title\":\"h\",\"priority\":9}"));
    f.now += 1;
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"low2\",\"title\":\"l\"}"));
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"dep\",\"title\":\"d\",\"dependsOn\":[\"low\"]}"));
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"ts\",\"title\":\"t\",\"capabilities\":[\"typescript\"]}"));
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"rs\",\"title\":\"r\",\"capabilities\":[\"rust\"],"
                         "\"files\":[\"x.rs\"]}"));
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"pat\",\"title\":\"p\",\"patterns\":[\"web/**\"]}"));

    cJSON *r = fx_call(&f, &a, "find_available_tasks", NULL);
    cJSON *ts = cJSON_GetObjectItem(r, "tasks");
    const char *want[] = {"high", "low", "low2", "pat", "rs"};
    assert_int_equal(cJSON_GetArraySize(ts), 5);
    for (int i = 0; i < 5; i++)
        fx_assert_str(cJSON_GetArrayItem(ts, i), "taskId", want[i]);
    cJSON_Delete(r);
    /* b has no capabilities; an explicit list overrides the agent's */
    r = fx_call(&f, &b, "find_available_tasks", "{\"limit\":2}");
    assert_int_equal(n_items(r, "tasks"), 2);
    cJSON_Delete(r);
    r = fx_call(&f, &b, "find_available_tasks", "{\"capabilities\":[\"typescript\"]}");
    assert_int_equal(n_items(r, "tasks"), 5); /* high low low2 pat ts */
    cJSON_Delete(r);
    /* another agent's lease hides a task; one's own lease does not */
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"web/index.html\"}"));
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.rs\",\"mode\":\"shared\"}"));
    r = fx_call(&f, &a, "find_available_tasks", NULL);
    assert_int_equal(n_items(r, "tasks"), 4);
    cJSON_Delete(r);
    r = fx_call(&f, &b, "find_available_tasks", "{\"capabilities\":[\"rust\"]}");
    assert_int_equal(n_items(r, "tasks"), 4); /* rs blocked by a's shared lease; pat is b's */
    cJSON_Delete(r);
    /* completing a dependency makes the dependant available */
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"low\"}"));
    cJSON_Delete(fx_call(&f, &a, "complete_task", "{\"taskId\":\"low\"}"));
    r = fx_call(&f, &a, "find_available_tasks", "{\"limit\":1000}");
    bool has_dep = false;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(r, "tasks"))
    {
        has_dep |= strcmp(json_get_str(e, "taskId", ""), "dep") == 0;
    }
    assert_true(has_dep);
    cJSON_Delete(r);
    fx_fail(&f, &a, "find_available_tasks", "{\"limit\":0}", -ERR_INVALID);
    fx_deinit(&f);
}

static void test_task__claim_is_atomic(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"T\",\"title\":\"t\",\"files\":[\"a.c\",\"b.c\"],"
                         "\"patterns\":[\"gen/**\"]}"));
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"gen/out.c\",\"reason\":\"regen\"}"));
    size_t before = f.log.len;
    cJSON *r = fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}");
    assert_int_equal(f.log.len, before);
    assert_true(fx_bool(r, "success", false));
    assert_int_equal(n_items(r, "conflicts"), 1);
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "conflicts"), 0);
    fx_assert_str(c0, "file", "gen/**");
    fx_assert_str(c0, "lockedBy", "b");
    fx_assert_str(c0, "lockedKey", "gen/out.c");
    fx_assert_str(c0, "reason", "regen");
    assert_non_null(strstr(json_get_str(r, "error", ""), "locked by b"));
    cJSON_Delete(r);
    r = fx_call(&f, &a, "list_locked_files", "{\"agentId\":\"a\"}");
    assert_int_equal(n_items(r, "locks"), 0);
    cJSON_Delete(r);

    cJSON_Delete(fx_call(&f, &b, "unlock_file", "{\"file\":\"gen/out.c\"}"));
    /* a already holds a.c exclusively: the claim keeps that token */
    r = fx_call(&f, &a, "lock_file", "{\"file\":\"a.c\"}");
    int64_t held = json_get_i64(r, "token", 0);
    cJSON_Delete(r);
    before = f.log.len;
    r = fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\",\"files\":[\"extra.c\"]}");
    assert_true(fx_bool(r, "success", true));
    fx_assert_str(task_of(r), "status", "claimed");
    fx_assert_str(task_of(r), "claimedBy", "a");
    cJSON *locks = cJSON_GetObjectItem(r, "locks");
    assert_int_equal(cJSON_GetArraySize(locks), 4);
    assert_int_equal(f.log.len, before + 5);
    const struct event *claimed = &f.log.items[before];
    assert_string_equal(claimed->type, EVENT_TASK_CLAIMED);
    assert_true(cJSON_Compare(cJSON_GetObjectItem(claimed->data, "tokens"), locks, 1));
    fx_assert_str(cJSON_GetArrayItem(locks, 0), "file", "a.c");
    assert_int_equal(json_get_i64(cJSON_GetArrayItem(locks, 0), "token", 0), held);
    for (int i = 0; i < 4; i++) {
        const struct event *ev = &f.log.items[before + 1 + (size_t)i];
        const cJSON *lk = cJSON_GetArrayItem(locks, i);
        assert_string_equal(ev->type, EVENT_FILE_LOCKED);
        fx_assert_str(ev->data, "file", json_get_str(lk, "file", ""));
        fx_assert_str(ev->data, "taskId", "T");
        fx_assert_str(ev->data, "reason", "task T");
        assert_int_equal(json_get_i64(ev->data, "token", 0), json_get_i64(lk, "token", 0));
        if (i > 0)
            assert_true((uint64_t)json_get_i64(lk, "token", 0) == ev->seq);
    }
    fx_assert_str(cJSON_GetArrayItem(locks, 3), "file", "gen/**");
    assert_true(fx_bool(cJSON_GetArrayItem(locks, 3), "pattern", true));
    cJSON_Delete(r);

    r = fx_call(&f, &b, "claim_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    fx_assert_str(r, "claimedBy", "a");
    cJSON_Delete(r);
    fx_fail(&f, &a, "claim_task", "{\"taskId\":\"nope\"}", -ERR_NOT_FOUND);
    fx_fail(&f, &a, "claim_task", "{}", -ERR_INVALID);
    fx_deinit(&f);
}

static void test_task__claim_refused_without_required_capabilities(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    struct workspace_caller reg = fx_as(NULL, "s1");
    cJSON_Delete(
        fx_call(&f, &reg, "register_agent", "{\"agentId\":\"a\",\"capabilities\":[\"rust\"]}"));
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    struct workspace_caller admin = fx_admin(NULL);
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"T\",\"title\":\"t\",\"files\":[\"x.rs\"],"
                         "\"capabilities\":[\"rust\",\"db\",\"ops\"]}"));
    size_t before = f.log.len;
    /* a has rust only: refused, naming what it lacks; nothing changes */
    cJSON *r = fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    const char *err = json_get_str(r, "error", "");
    assert_non_null(strstr(err, "db, ops"));
    assert_non_null(strstr(err, "'a'"));
    const cJSON *missing = cJSON_GetObjectItem(r, "missingCapabilities");
    assert_int_equal(cJSON_GetArraySize(missing), 2);
    assert_string_equal(cJSON_GetArrayItem(missing, 0)->valuestring, "db");
    assert_string_equal(cJSON_GetArrayItem(missing, 1)->valuestring, "ops");
    fx_assert_str(cJSON_GetObjectItem(r, "task"), "status", "open");
    cJSON_Delete(r);
    /* an admin acting for b does not lend b capabilities */
    r = fx_call(&f, &admin, "claim_task", "{\"taskId\":\"T\",\"agentId\":\"b\"}");
    assert_true(fx_bool(r, "success", false));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "missingCapabilities")), 3);
    cJSON_Delete(r);
    assert_int_equal(f.log.len, before);
    r = fx_call(&f, &b, "check_lock", "{\"file\":\"x.rs\"}");
    assert_true(fx_bool(r, "locked", false));
    cJSON_Delete(r);
    /* with every capability the same claim succeeds */
    cJSON_Delete(fx_call(&f, &a, "register_agent",
                         "{\"agentId\":\"a\",\"capabilities\":[\"ops\",\"rust\",\"db\"]}"));
    r = fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", true));
    assert_null(cJSON_GetObjectItem(r, "missingCapabilities"));
    cJSON_Delete(r);
    fx_deinit(&f);
}

static void test_task__claim_refused_until_dependencies_complete(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"A\",\"title\":\"a\"}"));
    cJSON_Delete(
        fx_call(&f, &a, "create_task", "{\"taskId\":\"B\",\"title\":\"b\",\"dependsOn\":[\"A\"]}"));
    cJSON *r = fx_call(&f, &a, "claim_task", "{\"taskId\":\"B\"}");
    assert_true(fx_bool(r, "success", false));
    assert_non_null(strstr(json_get_str(r, "error", ""), "unfinished task 'A'"));
    assert_int_equal(n_items(r, "blockedBy"), 1);
    assert_int_equal(n_items(r, "conflicts"), 0);
    fx_assert_str(task_of(r), "status", "open");
    cJSON_Delete(r);
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"A\"}"));
    cJSON_Delete(fx_call(&f, &a, "complete_task", "{\"taskId\":\"A\"}"));
    r = fx_call(&f, &a, "claim_task", "{\"taskId\":\"B\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    fx_deinit(&f);
}

static void test_task__complete_releases_only_task_leases(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"T\",\"title\":\"t\",\"files\":[\"t1.c\",\"t2.c\"]}"));
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"mine.c\"}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}"));
    cJSON *r = fx_call(&f, &b, "complete_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    assert_non_null(strstr(json_get_str(r, "error", ""), "claimed by a"));
    cJSON_Delete(r);
    f.now += 1000;
    size_t before = f.log.len;
    r = fx_call(&f, &a, "complete_task", "{\"taskId\":\"T\",\"result\":{\"pr\":17}}");
    assert_true(fx_bool(r, "success", true));
    fx_assert_str(task_of(r), "status", "completed");
    fx_assert_str(task_of(r), "completedAt", "2026-11-29T21:14:32.000Z");
    assert_int_equal(json_get_i64(cJSON_GetObjectItem(task_of(r), "result"), "pr", 0), 17);
    cJSON *unl = cJSON_GetObjectItem(r, "unlockedFiles");
    assert_int_equal(cJSON_GetArraySize(unl), 2);
    assert_string_equal(cJSON_GetArrayItem(unl, 0)->valuestring, "t1.c");
    cJSON_Delete(r);
    assert_int_equal(f.log.len, before + 3);
    assert_string_equal(f.log.items[before].type, EVENT_TASK_COMPLETED);
    fx_assert_str(f.log.items[before].data, "completedBy", "a");
    fx_assert_str(f.log.items[before + 1].data, "reason", "task_completed");
    fx_assert_str(f.log.items[before + 1].data, "taskId", "T");
    r = fx_call(&f, &a, "list_locked_files", NULL);
    assert_int_equal(n_items(r, "locks"), 1);
    cJSON_Delete(r);
    r = fx_call(&f, &a, "complete_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    assert_non_null(strstr(json_get_str(r, "error", ""), "completed"));
    cJSON_Delete(r);
    fx_deinit(&f);
}

static void test_task__release_and_fail(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    struct workspace_caller admin = fx_admin(NULL);
    cJSON_Delete(
        fx_call(&f, &a, "create_task", "{\"taskId\":\"T\",\"title\":\"t\",\"files\":[\"t.c\"]}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}"));
    cJSON *r = fx_call(&f, &b, "release_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    cJSON_Delete(r);
    r = fx_call(&f, &a, "release_task", "{\"taskId\":\"T\",\"reason\":\"blocked\"}");
    assert_true(fx_bool(r, "success", true));
    fx_assert_str(task_of(r), "status", "open");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(task_of(r), "claimedBy")));
    cJSON_Delete(r);
    assert_string_equal(fx_ev(&f, 1)->type, EVENT_TASK_RELEASED);
    fx_assert_str(fx_ev(&f, 1)->data, "reason", "blocked");
    fx_assert_str(fx_last(&f)->data, "reason", "task_released");
    /* b claims it now; an admin fails it on b's behalf */
    cJSON_Delete(fx_call(&f, &b, "claim_task", "{\"taskId\":\"T\"}"));
    r = fx_call(&f, &admin, "release_task",
                "{\"taskId\":\"T\",\"failed\":true,\"reason\":\"flaky\"}");
    assert_true(fx_bool(r, "success", true));
    fx_assert_str(task_of(r), "status", "failed");
    fx_assert_str(task_of(r), "failureReason", "flaky");
    cJSON_Delete(r);
    assert_string_equal(fx_ev(&f, 1)->type, EVENT_TASK_FAILED);
    fx_assert_str(fx_ev(&f, 1)->data, "releasedBy", "admin");
    fx_assert_str(fx_last(&f)->data, "reason", "task_failed");
    fx_assert_str(fx_last(&f)->data, "agentId", "b");
    r = fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    cJSON_Delete(r);
    fx_deinit(&f);
}

/* cancel_task: open or claimed → cancelled, the claimer's task leases
 * released; creator, claimer or admin only; bad input changes nothing. */
static void test_task__cancel(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    fx_register(&f, "c", "s3");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2"), c = fx_as("c", "s3");
    struct workspace_caller admin = fx_admin(NULL);
    cJSON_Delete(
        fx_call(&f, &a, "create_task", "{\"taskId\":\"T\",\"title\":\"t\",\"files\":[\"x.c\"]}"));
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"U\",\"title\":\"u\"}"));
    cJSON_Delete(fx_call(&f, &b, "claim_task", "{\"taskId\":\"T\"}"));
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"own.c\"}"));

    /* bad input: a tool error, nothing emitted */
    fx_fail_msg(&f, &a, "cancel_task", "{\"taskId\":\"NOPE\"}", -ERR_NOT_FOUND, "no task 'NOPE'");
    fx_fail_msg(&f, &a, "cancel_task", "{}", -ERR_INVALID, "'taskId'");
    fx_fail_msg(&f, &a, "cancel_task", "{\"taskId\":\"T\",\"agentId\":\"b\"}", -ERR_DENIED,
                "'agentId'");
    /* neither creator nor claimer: refused, naming who may */
    size_t before = f.log.len;
    cJSON *r = fx_call(&f, &c, "cancel_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    assert_non_null(strstr(json_get_str(r, "error", ""), "created by a and claimed by b"));
    fx_assert_str(cJSON_GetObjectItem(r, "task"), "status", "claimed");
    cJSON_Delete(r);
    assert_int_equal(f.log.len, before);

    /* the claimer cancels: task:cancelled, then its task lease ends */
    r = fx_call(&f, &b, "cancel_task", "{\"taskId\":\"T\",\"reason\":\"obsolete\"}");
    assert_true(fx_bool(r, "success", true));
    char *why = NULL;
    if (!tools_validate_result(tools_find("cancel_task"), r, &why))
        fail_msg("cancel_task result does not match its outputSchema: %s", why);
    fx_assert_str(cJSON_GetObjectItem(r, "task"), "status", "cancelled");
    fx_assert_str(cJSON_GetObjectItem(r, "task"), "failureReason", "obsolete");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "unlockedFiles")), 1);
    cJSON_Delete(r);
    assert_int_equal(f.log.len, before + 2);
    const struct event *ev = &f.log.items[before];
    assert_string_equal(ev->type, EVENT_TASK_CANCELLED);
    fx_assert_str(ev->data, "taskId", "T");
    fx_assert_str(ev->data, "agentId", "b");
    fx_assert_str(ev->data, "cancelledBy", "b");
    fx_assert_str(ev->data, "reason", "obsolete");
    assert_string_equal(fx_last(&f)->type, EVENT_FILE_UNLOCKED);
    fx_assert_str(fx_last(&f)->data, "reason", "task_cancelled");
    r = fx_call(&f, &c, "check_lock", "{\"file\":\"own.c\"}");
    assert_true(fx_bool(r, "locked", true)); /* b's other lease is kept */
    cJSON_Delete(r);

    /* wrong state: refused, nothing changes */
    before = f.log.len;
    r = fx_call(&f, &a, "cancel_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    assert_non_null(strstr(json_get_str(r, "error", ""), "task 'T' is cancelled"));
    cJSON_Delete(r);
    fx_fail(&f, &a, "claim_task", "{\"taskId\":\"T\",\"files\":[\"../x\"]}", -ERR_INVALID);
    r = fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    cJSON_Delete(r);
    assert_int_equal(f.log.len, before);

    /* an open task, cancelled by an admin */
    r = fx_call(&f, &admin, "cancel_task", "{\"taskId\":\"U\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    fx_assert_str(fx_last(&f)->data, "cancelledBy", "admin");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(fx_last(&f)->data, "agentId")));
    r = fx_call(&f, &a, "list_tasks", "{\"status\":\"cancelled\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tasks")), 2);
    cJSON_Delete(r);
    fx_deinit(&f);
}

/* reopen_task: failed or cancelled → open (claimable again). */
static void test_task__reopen(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    fx_register(&f, "c", "s3");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2"), c = fx_as("c", "s3");
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T\",\"title\":\"t\"}"));
    cJSON_Delete(fx_call(&f, &b, "claim_task", "{\"taskId\":\"T\"}"));
    size_t before = f.log.len;
    /* still claimed: refused */
    cJSON *r = fx_call(&f, &a, "reopen_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    assert_non_null(strstr(json_get_str(r, "error", ""), "only failed or cancelled"));
    cJSON_Delete(r);
    fx_fail(&f, &a, "reopen_task", "{\"taskId\":\"NOPE\"}", -ERR_NOT_FOUND);
    assert_int_equal(f.log.len, before);
    cJSON_Delete(
        fx_call(&f, &b, "release_task", "{\"taskId\":\"T\",\"failed\":true,\"reason\":\"broke\"}"));
    /* c neither created nor claimed it */
    before = f.log.len;
    r = fx_call(&f, &c, "reopen_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", false));
    cJSON_Delete(r);
    assert_int_equal(f.log.len, before);
    /* its last claimer may */
    r = fx_call(&f, &b, "reopen_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", true));
    const cJSON *t = cJSON_GetObjectItem(r, "task");
    fx_assert_str(t, "status", "open");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(t, "claimedBy")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(t, "failureReason")));
    cJSON_Delete(r);
    assert_string_equal(fx_last(&f)->type, EVENT_TASK_REOPENED);
    fx_assert_str(fx_last(&f)->data, "previous", "failed");
    fx_assert_str(fx_last(&f)->data, "reopenedBy", "b");
    /* and it can be claimed again, by anyone */
    r = fx_call(&f, &c, "claim_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    fx_deinit(&f);
}

/* update_task: open tasks only, creator or admin; given fields replace. */
static void test_task__update(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    struct workspace_caller admin = fx_admin(NULL);
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"T\",\"title\":\"t\",\"files\":[\"x.c\"],"
                         "\"capabilities\":[\"c\"],\"priority\":1}"));
    size_t before = f.log.len;
    fx_fail_msg(&f, &a, "update_task", "{\"taskId\":\"T\"}", -ERR_INVALID, "at least one of");
    fx_fail_msg(&f, &a, "update_task", "{\"taskId\":\"T\",\"files\":[\"../../etc/passwd\"]}",
                -ERR_INVALID, "'files'");
    fx_fail_msg(&f, &a, "update_task", "{\"taskId\":\"T\",\"priority\":\"high\"}", -ERR_INVALID,
                "'priority'");
    fx_fail(&f, &a, "update_task", "{\"taskId\":\"NOPE\",\"title\":\"x\"}", -ERR_NOT_FOUND);
    cJSON *r = fx_call(&f, &b, "update_task", "{\"taskId\":\"T\",\"title\":\"mine now\"}");
    assert_true(fx_bool(r, "success", false));
    assert_non_null(strstr(json_get_str(r, "error", ""), "may update it"));
    fx_assert_str(cJSON_GetObjectItem(r, "task"), "title", "t");
    cJSON_Delete(r);
    assert_int_equal(f.log.len, before);

    r = fx_call(&f, &a, "update_task",
                "{\"taskId\":\"T\",\"title\":\"t2\",\"priority\":7,\"files\":[\"./y.c\",\"y.c\"],"
                "\"capabilities\":[]}");
    assert_true(fx_bool(r, "success", true));
    const cJSON *t = cJSON_GetObjectItem(r, "task");
    fx_assert_str(t, "title", "t2");
    assert_int_equal(json_get_i64(t, "priority", 0), 7);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(t, "files")), 1);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "files"), 0)->valuestring, "y.c");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(t, "capabilities")), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(t, "description"))); /* untouched */
    cJSON_Delete(r);
    assert_string_equal(fx_last(&f)->type, EVENT_TASK_UPDATED);
    fx_assert_str(fx_last(&f)->data, "updatedBy", "a");
    assert_null(
        cJSON_GetObjectItem(cJSON_GetObjectItem(fx_last(&f)->data, "changes"), "description"));
    /* the new files are what a claim leases */
    r = fx_call(&f, &b, "claim_task", "{\"taskId\":\"T\"}");
    assert_true(fx_bool(r, "success", true));
    fx_assert_str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "locks"), 0), "file", "y.c");
    cJSON_Delete(r);
    /* claimed: no longer updatable, not even by an admin */
    before = f.log.len;
    r = fx_call(&f, &admin, "update_task", "{\"taskId\":\"T\",\"description\":\"d\"}");
    assert_true(fx_bool(r, "success", false));
    assert_non_null(strstr(json_get_str(r, "error", ""), "only open tasks"));
    cJSON_Delete(r);
    assert_int_equal(f.log.len, before);
    fx_deinit(&f);
}

static void test_task__list_tasks_filters(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"Z\",\"title\":\"z\"}"));
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"A\",\"title\":\"a\"}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"A\"}"));
    cJSON *r = fx_call(&f, &a, "list_tasks", NULL);
    assert_int_equal(n_items(r, "tasks"), 2);
    fx_assert_str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "tasks"), 0), "taskId", "Z");
    cJSON_Delete(r);
    r = fx_call(&f, &a, "list_tasks", "{\"status\":\"claimed\"}");
    assert_int_equal(n_items(r, "tasks"), 1);
    cJSON_Delete(r);
    r = fx_call(&f, &a, "list_tasks", "{\"agentId\":\"nobody\"}");
    assert_int_equal(n_items(r, "tasks"), 0);
    cJSON_Delete(r);
    fx_fail_msg(&f, &a, "list_tasks", "{\"status\":\"done\"}", -ERR_INVALID, "'status'");
    fx_deinit(&f);
}

static void test_task__record_json_round_trip(void **state)
{
    (void)state;
    struct task_table t;
    task_table_init(&t);
    cJSON *rec = cJSON_Parse(
        "{\"taskId\":\"T\",\"title\":\"x\",\"description\":null,\"files\":[\"a\"],"
        "\"patterns\":[],\"capabilities\":[],\"dependsOn\":[],\"priority\":-3,"
        "\"status\":\"claimed\",\"claimedBy\":\"a\",\"createdBy\":null,"
        "\"createdAt\":\"2026-11-29T21:14:31.000Z\",\"claimedAt\":\"2026-11-29T21:14:32.000Z\","
        "\"completedAt\":null,\"result\":null,\"failureReason\":null,\"createdSeq\":4,"
        "\"claimFiles\":[\"e.c\"]}");
    assert_int_equal(task_table_add_json(&t, rec, 0), 0);
    assert_int_equal(task_table_add_json(&t, rec, 0), -ERR_INVALID);
    cJSON *back = task_to_json(task_table_get(&t, "T"), true);
    assert_true(cJSON_Compare(rec, back, 1));
    cJSON_Delete(back);
    assert_int_equal(task_table_claimed_by(&t, "a"), 1);
    assert_int_equal(task_table_claimed_by(&t, "b"), 0);
    /* the claim's files are a snapshot's detail, not the public record's */
    back = task_to_json(task_table_get(&t, "T"), false);
    assert_null(cJSON_GetObjectItem(back, "claimFiles"));
    cJSON_Delete(back);
    cJSON_ReplaceItemInObject(rec, "taskId", cJSON_CreateString("U"));
    cJSON_ReplaceItemInObject(rec, "claimedBy", cJSON_CreateNull());
    assert_int_equal(task_table_add_json(&t, rec, 0), -ERR_INVALID); /* claimed needs claimer */
    cJSON_ReplaceItemInObject(rec, "status", cJSON_CreateString("open"));
    assert_int_equal(task_table_add_json(&t, rec, 0), -ERR_INVALID); /* files of no claim */
    cJSON_ReplaceItemInObject(rec, "status", cJSON_CreateString("claimed"));
    cJSON_ReplaceItemInObject(rec, "claimedBy", cJSON_CreateString("a"));
    cJSON_ReplaceItemInObject(rec, "claimFiles", cJSON_CreateString("e.c"));
    assert_int_equal(task_table_add_json(&t, rec, 0), -ERR_INVALID); /* not an array */
    assert_null(task_table_get(&t, "U"));
    assert_int_equal(task_table_claimed_by(&t, "a"), 1);
    /* the count follows the claim: given back, claimed again, finished */
    struct task *k = task_table_get(&t, "T");
    task_table_set_status(&t, k, TASK_OPEN, true);
    assert_int_equal(task_table_claimed_by(&t, "a"), 0);
    assert_null(k->claimed_by);
    assert_null(k->claim_files);
    task_table_claim(&t, k, "b", cJSON_CreateArray());
    assert_int_equal(task_table_claimed_by(&t, "b"), 1);
    assert_null(k->claim_files); /* an empty list is no list */
    task_table_claim(&t, k, "c", NULL);
    assert_int_equal(task_table_claimed_by(&t, "b"), 0);
    assert_int_equal(task_table_claimed_by(&t, "c"), 1);
    task_table_set_status(&t, k, TASK_COMPLETED, false);
    assert_int_equal(task_table_claimed_by(&t, "c"), 0);
    assert_string_equal(k->claimed_by, "c");
    cJSON_Delete(rec);
    task_table_deinit(&t);
}

/* A refusal because another agent claimed the task names the claimer
 * and since when, in its text and as claimedBy/claimedAt — for claim,
 * complete and release alike. */
static void test_task__claimed_refusal_names_claimer_and_since(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "cursor-1a2b3c", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("cursor-1a2b3c", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T\",\"title\":\"t\"}"));
    f.now += 1500;
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}"));
    size_t events = f.log.len;
    const char *ops[] = {"claim_task", "complete_task", "release_task"};
    for (size_t i = 0; i < 3; i++) {
        cJSON *r = fx_call(&f, &b, ops[i], "{\"taskId\":\"T\"}");
        assert_false(fx_bool(r, "success", true));
        fx_assert_str(r, "error",
                      "task 'T' is claimed by cursor-1a2b3c since 2026-11-29T21:14:32.500Z");
        fx_assert_str(r, "claimedBy", "cursor-1a2b3c");
        fx_assert_str(r, "claimedAt", "2026-11-29T21:14:32.500Z");
        cJSON_Delete(r);
    }
    assert_int_equal(f.log.len, events); /* refusals change nothing */
    fx_deinit(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task__create_generates_ids_and_normalises),
        cmocka_unit_test(test_task__create_rejects_bad_arguments),
        cmocka_unit_test(test_task__find_available_filters_and_orders),
        cmocka_unit_test(test_task__claim_is_atomic),
        cmocka_unit_test(test_task__claim_refused_until_dependencies_complete),
        cmocka_unit_test(test_task__claimed_refusal_names_claimer_and_since),
        cmocka_unit_test(test_task__claim_refused_without_required_capabilities),
        cmocka_unit_test(test_task__complete_releases_only_task_leases),
        cmocka_unit_test(test_task__release_and_fail),
        cmocka_unit_test(test_task__cancel),
        cmocka_unit_test(test_task__reopen),
        cmocka_unit_test(test_task__update),
        cmocka_unit_test(test_task__list_tasks_filters),
        cmocka_unit_test(test_task__record_json_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
