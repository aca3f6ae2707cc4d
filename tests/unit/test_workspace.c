/* Unit tests for core/workspace: agents, sessions, leases, waiters,
 * events, snapshots. Every test ends with the replay check of
 * fx_deinit(). */
#include "core_fixture.h"

#include "base/clock.h"
#include "base/xmalloc.h"
#include "rpc/tools.h"

/* ---- agents and sessions ---- */

static void test_workspace__register_emits_event_and_attaches(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    struct workspace_caller c = fx_as(NULL, "s1");
    cJSON *r = fx_call(&f, &c, "register_agent",
                       "{\"agentId\":\"cursor-1a2b3c\",\"capabilities\":[\"rust\"],"
                       "\"mcpServers\":[\"db\"],\"metadata\":{\"ide\":\"cursor\"}}");
    fx_assert_str(r, "agentId", "cursor-1a2b3c");
    fx_assert_str(r, "sessionId", "s1");
    assert_true(fx_bool(r, "resumed", false));
    assert_null(cJSON_GetObjectItem(r, "renamedFrom"));
    cJSON_Delete(r);
    const struct event *ev = fx_last(&f);
    assert_string_equal(ev->type, EVENT_AGENT_REGISTERED);
    assert_true(ev->seq == 1);
    fx_assert_str(ev->data, "agentId", "cursor-1a2b3c");
    fx_assert_str(ev->data, "sessionId", "s1");
    fx_assert_str(ev->data, "status", "active");
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItem(ev->data, "capabilities"), 0)->valuestring, "rust");
    fx_assert_str(cJSON_GetObjectItem(ev->data, "metadata"), "ide", "cursor");
    assert_true(workspace_agent_live_elsewhere(f.ws, "cursor-1a2b3c", "s2"));
    assert_false(workspace_agent_live_elsewhere(f.ws, "cursor-1a2b3c", "s1"));
    fx_deinit(&f);
}

static void test_workspace__register_taken_id_is_uniquified(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "claude", "s1");
    struct workspace_caller c2 = fx_as(NULL, "s2"), c3 = fx_as(NULL, "s3");
    cJSON *r = fx_call(&f, &c2, "register_agent", "{\"agentId\":\"claude\"}");
    fx_assert_str(r, "agentId", "claude-2");
    fx_assert_str(r, "renamedFrom", "claude");
    cJSON_Delete(r);
    fx_assert_str(fx_last(&f)->data, "renamedFrom", "claude");
    r = fx_call(&f, &c3, "register_agent", "{\"agentId\":\"claude\"}");
    fx_assert_str(r, "agentId", "claude-3");
    cJSON_Delete(r);
    /* the same session registering again keeps its id */
    struct workspace_caller c1 = fx_as("claude", "s1");
    r = fx_call(&f, &c1, "register_agent", "{\"agentId\":\"claude\",\"status\":\"busy\"}");
    fx_assert_str(r, "agentId", "claude");
    assert_true(fx_bool(r, "resumed", false));
    fx_assert_str(r, "status", "busy");
    cJSON_Delete(r);
    fx_deinit(&f);
}

static void test_workspace__register_validates_arguments(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    struct workspace_caller c = fx_as(NULL, "s1");
    fx_fail_msg(&f, &c, "register_agent", "{}", -ERR_INVALID, "'agentId'");
    fx_fail_msg(&f, &c, "register_agent", "{\"agentId\":\"bad id\"}", -ERR_INVALID, "'agentId'");
    fx_fail_msg(&f, &c, "register_agent", "{\"agentId\":\"a\",\"status\":\"offline\"}",
                -ERR_INVALID, "'status'");
    fx_fail_msg(&f, &c, "register_agent", "{\"agentId\":\"a\",\"capabilities\":\"rust\"}",
                -ERR_INVALID, "'capabilities'");
    fx_fail_msg(&f, &c, "register_agent", "{\"agentId\":\"a\",\"metadata\":[]}", -ERR_INVALID,
                "'metadata'");
    char id[140];
    memset(id, 'x', 129);
    id[129] = '\0';
    char json[200];
    snprintf(json, sizeof(json), "{\"agentId\":\"%s\"}", id);
    fx_fail(&f, &c, "register_agent", json, -ERR_INVALID);
    fx_fail(&f, &c, "no_such_op", "{}", -ERR_INVALID);
    cJSON *args = cJSON_CreateArray(), *result = NULL;
    char *msg = NULL;
    assert_int_equal(
        workspace_exec(f.ws, &c, fx_op("list_agents"), args, f.now, &f.log, &result, &msg),
        -ERR_INVALID);
    free(msg);
    cJSON_Delete(args);
    fx_deinit(&f);
}

static void test_workspace__detached_agent_goes_offline_after_grace(void **state)
{
    (void)state;
    struct fx f;
    struct workspace_config cfg = {.offline_grace_ms = 30000};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"pattern\":\"docs/**\"}"));
    workspace_session_detach(f.ws, "s1", f.now);
    assert_int_equal(workspace_next_deadline(f.ws), f.now + 30000);
    f.now += 29999;
    size_t before = f.log.len;
    fx_tick(&f);
    assert_int_equal(f.log.len, before);
    f.now += 1;
    fx_tick(&f);
    assert_int_equal(f.log.len, before + 3);
    assert_string_equal(fx_ev(&f, 2)->type, EVENT_AGENT_LEFT);
    fx_assert_str(fx_ev(&f, 2)->data, "reason", "disconnected");
    assert_string_equal(fx_ev(&f, 1)->type, EVENT_FILE_UNLOCKED);
    fx_assert_str(fx_ev(&f, 1)->data, "reason", "offline");
    fx_assert_str(fx_ev(&f, 1)->data, "file", "docs/**");
    fx_assert_str(fx_ev(&f, 1)->data, "pattern", "docs/**");
    fx_assert_str(fx_ev(&f, 0)->data, "file", "x.c");
    /* nothing more to do, and offline agents are not re-announced */
    before = f.log.len;
    f.now += 100000;
    fx_tick(&f);
    assert_int_equal(f.log.len, before);
    struct workspace_caller any = fx_as(NULL, NULL);
    cJSON *r = fx_call(&f, &any, "list_agents", "{\"status\":\"offline\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "agents")), 1);
    cJSON_Delete(r);
    fx_deinit(&f);
}

static void test_workspace__sessionless_agent_keeps_leases_until_ttl(void **state)
{
    (void)state;
    struct fx f;
    struct workspace_config cfg = {.offline_grace_ms = 30000};
    fx_init_cfg(&f, &cfg);
    /* The CLI registers and acts for a person's agent without a session. */
    struct workspace_caller cli = fx_admin(NULL);
    cJSON_Delete(fx_call(&f, &cli, "register_agent", "{\"agentId\":\"cli-ann\"}"));
    cJSON_Delete(
        fx_call(&f, &cli, "lock_file", "{\"file\":\"x.c\",\"ttl\":120,\"agentId\":\"cli-ann\"}"));
    /* A restart makes every agent count as detached: not this one. */
    workspace_sessions_reset(f.ws, f.now);
    assert_int_equal(workspace_next_deadline(f.ws), f.now + 120000);
    size_t before = f.log.len;
    f.now += 60000;
    fx_tick(&f);
    assert_int_equal(f.log.len, before);
    f.now += 60000;
    fx_tick(&f);
    /* its last lease ended: it goes offline (it has no session to lose) */
    assert_int_equal(f.log.len, before + 2);
    assert_string_equal(fx_ev(&f, 1)->type, EVENT_FILE_UNLOCKED);
    fx_assert_str(fx_ev(&f, 1)->data, "reason", "expired");
    assert_string_equal(fx_ev(&f, 0)->type, EVENT_AGENT_LEFT);
    fx_assert_str(fx_ev(&f, 0)->data, "agentId", "cli-ann");
    fx_assert_str(fx_ev(&f, 0)->data, "reason", "idle");
    fx_deinit(&f);
}

static void test_workspace__keep_policy_keeps_leases_until_ttl(void **state)
{
    (void)state;
    struct fx f;
    struct workspace_config cfg = {.offline_policy = WORKSPACE_OFFLINE_KEEP};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\",\"ttl\":60}"));
    workspace_session_detach(f.ws, "s1", f.now);
    f.now += 30000;
    fx_tick(&f);
    assert_string_equal(fx_last(&f)->type, EVENT_AGENT_LEFT);
    f.now += 30000;
    fx_tick(&f);
    assert_string_equal(fx_last(&f)->type, EVENT_FILE_UNLOCKED);
    fx_assert_str(fx_last(&f)->data, "reason", "expired");
    fx_deinit(&f);
}

static void test_workspace__reregister_before_grace_resumes_without_leaving(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON *r = fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}");
    uint64_t token = (uint64_t)json_get_i64(r, "token", 0);
    cJSON_Delete(r);
    workspace_session_detach(f.ws, "s1", f.now);
    f.now += 10000;
    struct workspace_caller b = fx_as(NULL, "s2");
    r = fx_call(&f, &b, "register_agent", "{\"agentId\":\"a\"}");
    fx_assert_str(r, "agentId", "a");
    assert_true(fx_bool(r, "resumed", true));
    cJSON_Delete(r);
    f.now += 60000;
    size_t before = f.log.len;
    fx_tick(&f);
    assert_int_equal(f.log.len, before); /* no agent:left, lease kept */
    struct workspace_caller a2 = fx_as("a", "s2");
    r = fx_call(&f, &a2, "check_lock", "{\"file\":\"x.c\"}");
    assert_true(fx_bool(r, "locked", true));
    assert_true((uint64_t)json_get_i64(r, "token", 0) == token);
    cJSON_Delete(r);
    fx_deinit(&f);
}

static void test_workspace__offline_agent_resumes_with_its_tasks(void **state)
{
    (void)state;
    struct fx f;
    struct workspace_config cfg = {.offline_policy = WORKSPACE_OFFLINE_KEEP};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T1\",\"title\":\"t\"}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T1\"}"));
    workspace_session_detach(f.ws, "s1", f.now);
    f.now += 31000;
    fx_tick(&f);
    assert_string_equal(fx_last(&f)->type, EVENT_AGENT_LEFT);
    struct workspace_caller n = fx_as(NULL, "s9");
    cJSON *r = fx_call(&f, &n, "register_agent", "{\"agentId\":\"a\"}");
    assert_true(fx_bool(r, "resumed", true));
    fx_assert_str(r, "status", "active");
    cJSON_Delete(r);
    r = fx_call(&f, &n, "list_tasks", "{\"agentId\":\"a\",\"status\":\"claimed\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tasks")), 1);
    cJSON_Delete(r);
    fx_deinit(&f);
}

/* Resumed after the grace period under the release policy: the leases of
 * its claimed tasks come back where they are free, with new tokens, and
 * the answer names what another agent took meanwhile. */
static void test_workspace__resume_after_grace_regrants_task_leases(void **state)
{
    (void)state;
    struct fx f;
    struct workspace_config cfg = {.offline_grace_ms = 30000};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"T1\",\"title\":\"t\",\"files\":[\"x.c\",\"y.c\"],"
                         "\"patterns\":[\"web/**\"]}"));
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T2\",\"title\":\"u\"}"));
    cJSON *r = fx_call(&f, &a, "claim_task", "{\"taskId\":\"T1\"}");
    uint64_t old_x =
        (uint64_t)json_get_i64(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "locks"), 0), "token", 0);
    cJSON_Delete(r);
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T2\"}"));
    workspace_session_detach(f.ws, "s1", f.now);
    f.now += 31000;
    fx_tick(&f);
    r = fx_call(&f, &b, "list_locked_files", "{\"agentId\":\"a\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "locks")), 0);
    cJSON_Delete(r);
    /* meanwhile b takes y.c */
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"y.c\",\"reason\":\"fix\"}"));

    size_t before = f.log.len;
    struct workspace_caller n = fx_as(NULL, "s9");
    r = fx_call(&f, &n, "register_agent", "{\"agentId\":\"a\"}");
    assert_true(fx_bool(r, "resumed", true));
    const cJSON *re = cJSON_GetObjectItem(r, "regranted");
    const cJSON *tk = cJSON_GetObjectItem(r, "taken");
    assert_int_equal(cJSON_GetArraySize(re), 2);
    const cJSON *x = cJSON_GetArrayItem(re, 0), *w = cJSON_GetArrayItem(re, 1);
    fx_assert_str(x, "file", "x.c");
    fx_assert_str(x, "taskId", "T1");
    fx_assert_str(w, "file", "web/**");
    assert_true(fx_bool(w, "pattern", true));
    assert_int_equal(cJSON_GetArraySize(tk), 1);
    fx_assert_str(cJSON_GetArrayItem(tk, 0), "file", "y.c");
    fx_assert_str(cJSON_GetArrayItem(tk, 0), "lockedBy", "b");
    fx_assert_str(cJSON_GetArrayItem(tk, 0), "taskId", "T1");
    /* agent:registered, then one ordinary grant per free key: the token
     * is the grant's seq, newer than the lost one */
    assert_int_equal(f.log.len, before + 3);
    assert_string_equal(f.log.items[before].type, EVENT_AGENT_REGISTERED);
    for (size_t i = 1; i < 3; i++) {
        const struct event *ev = &f.log.items[before + i];
        assert_string_equal(ev->type, EVENT_FILE_LOCKED);
        assert_true((uint64_t)json_get_i64(ev->data, "token", 0) == ev->seq);
        fx_assert_str(ev->data, "taskId", "T1");
        assert_null(cJSON_GetObjectItem(ev->data, "renewed"));
    }
    /* the answer is valid under register_agent's published outputSchema */
    char *why = NULL;
    if (!tools_validate_result(tools_find("register_agent"), r, &why))
        fail_msg("register_agent result does not match its outputSchema: %s", why);
    uint64_t new_x = (uint64_t)json_get_i64(x, "token", 0);
    assert_true(new_x > old_x);
    assert_true(new_x == f.log.items[before + 1].seq);
    cJSON_Delete(r);
    r = fx_call(&f, &b, "check_lock", "{\"file\":\"y.c\"}");
    fx_assert_str(r, "lockedBy", "b");
    cJSON_Delete(r);
    r = fx_call(&f, &b, "check_lock", "{\"file\":\"web/a.js\"}");
    fx_assert_str(r, "lockedBy", "a");
    cJSON_Delete(r);
    /* registering again on the same session resumes nothing */
    struct workspace_caller a9 = fx_as("a", "s9");
    before = f.log.len;
    r = fx_call(&f, &a9, "register_agent", "{\"agentId\":\"a\"}");
    assert_null(cJSON_GetObjectItem(r, "regranted"));
    assert_int_equal(f.log.len, before + 1);
    cJSON_Delete(r);
    fx_deinit(&f);
}

/* The extra files a claim leased beside the task's own come back on
 * resume too, in claim_task's order, also after a snapshot round trip
 * (the state keeps them with the claim, from task:claimed). */
static void test_workspace__resume_regrants_extra_claim_files(void **state)
{
    (void)state;
    struct fx f;
    struct workspace_config cfg = {.offline_grace_ms = 30000};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "create_task",
                         "{\"taskId\":\"T1\",\"title\":\"t\",\"files\":[\"x.c\"],"
                         "\"patterns\":[\"web/**\"]}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task",
                         "{\"taskId\":\"T1\",\"files\":[\"x.c\",\"extra.c\",\"./more.c\"]}"));
    /* task:claimed carries the claim's own files (the task's x.c is not
     * repeated), normalised */
    const struct event *claimed = fx_ev(&f, 4);
    assert_string_equal(claimed->type, EVENT_TASK_CLAIMED);
    const cJSON *extra_files = cJSON_GetObjectItem(claimed->data, "extraFiles");
    assert_non_null(extra_files);
    char *extra = json_print(extra_files);
    assert_string_equal(extra, "[\"extra.c\",\"more.c\"]");
    free(extra);

    /* through a snapshot: the claim and its files survive a restore */
    cJSON *snap = workspace_snapshot(f.ws);
    char *text = json_print(snap);
    assert_non_null(strstr(text, "\"claimFiles\":[\"extra.c\",\"more.c\"]"));
    free(text);
    assert_int_equal(workspace_restore(f.ws, snap, f.now), 0);
    cJSON_Delete(snap);
    workspace_session_attach(f.ws, "a", "s1", f.now);
    workspace_session_attach(f.ws, "b", "s2", f.now);

    workspace_session_detach(f.ws, "s1", f.now);
    f.now += 31000;
    fx_tick(&f);
    cJSON *r = fx_call(&f, &b, "list_locked_files", "{\"agentId\":\"a\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "locks")), 0);
    cJSON_Delete(r);
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"more.c\"}"));

    struct workspace_caller n = fx_as(NULL, "s9");
    r = fx_call(&f, &n, "register_agent", "{\"agentId\":\"a\"}");
    assert_true(fx_bool(r, "resumed", true));
    const cJSON *re = cJSON_GetObjectItem(r, "regranted");
    const cJSON *tk = cJSON_GetObjectItem(r, "taken");
    assert_int_equal(cJSON_GetArraySize(re), 3);
    fx_assert_str(cJSON_GetArrayItem(re, 0), "file", "x.c");
    fx_assert_str(cJSON_GetArrayItem(re, 1), "file", "extra.c");
    fx_assert_str(cJSON_GetArrayItem(re, 1), "taskId", "T1");
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(re, 1), "pattern"));
    fx_assert_str(cJSON_GetArrayItem(re, 2), "file", "web/**");
    assert_int_equal(cJSON_GetArraySize(tk), 1);
    fx_assert_str(cJSON_GetArrayItem(tk, 0), "file", "more.c");
    fx_assert_str(cJSON_GetArrayItem(tk, 0), "lockedBy", "b");
    cJSON_Delete(r);
    r = fx_call(&f, &b, "check_lock", "{\"file\":\"extra.c\"}");
    fx_assert_str(r, "lockedBy", "a");
    fx_assert_str(r, "taskId", "T1");
    cJSON_Delete(r);

    /* completing the task ends the extra lease with the others, and the
     * claim's files go with the claim */
    struct workspace_caller a9 = fx_as("a", "s9");
    r = fx_call(&f, &a9, "complete_task", "{\"taskId\":\"T1\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "unlockedFiles")), 3);
    cJSON_Delete(r);
    snap = workspace_snapshot(f.ws);
    text = json_print(snap);
    assert_null(strstr(text, "claimFiles"));
    free(text);
    cJSON_Delete(snap);
    /* the replay of fx_deinit starts from the empty workspace, not from
     * the restored one: same state either way */
    fx_deinit(&f);
}

/* Fold one hub event built from json at the next seq (a log as an older
 * hub wrote it); returns the fold's answer. Accepted events enter f's log. */
static int fx_fold_hub(struct fx *f, const char *type, const char *json)
{
    struct event ev;
    event_init(&ev, type, f->now, fx_parse(json));
    ev.seq = workspace_seq(f->ws) + 1;
    int rc = workspace_apply(f->ws, &ev);
    if (rc == 0)
        event_vec_push(&f->log, &ev);
    else
        event_deinit(&ev);
    return rc;
}

/* A task:claimed written before the claim's files were kept (no
 * extraFiles) folds as it did: the task is claimed, the claim has no
 * extra files. A malformed extraFiles is refused and changes nothing. */
static void test_workspace__old_task_claimed_without_extra_files_folds(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T\",\"title\":\"t\"}"));
    cJSON *before = workspace_snapshot(f.ws);
    char *sb = json_print(before);
    assert_int_equal(fx_fold_hub(&f, EVENT_TASK_CLAIMED,
                                 "{\"taskId\":\"T\",\"agentId\":\"a\",\"extraFiles\":[1]}"),
                     -ERR_INVALID);
    cJSON *same = workspace_snapshot(f.ws);
    char *ss = json_print(same);
    assert_string_equal(sb, ss);
    free(sb);
    free(ss);
    cJSON_Delete(before);
    cJSON_Delete(same);
    assert_int_equal(fx_fold_hub(&f, EVENT_TASK_CLAIMED,
                                 "{\"taskId\":\"T\",\"agentId\":\"a\",\"files\":[\"e.c\"],"
                                 "\"patterns\":[],\"tokens\":[]}"),
                     0);
    cJSON *r = fx_call(&f, &a, "list_tasks", "{\"status\":\"claimed\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tasks")), 1);
    cJSON_Delete(r);
    cJSON *snap = workspace_snapshot(f.ws);
    char *text = json_print(snap);
    assert_null(strstr(text, "claimFiles"));
    free(text);
    cJSON_Delete(snap);
    fx_deinit(&f);
}

/* remove_agent: admin only; ends the agent's leases, gives its claimed
 * tasks back, drops its queued requests, and removes the record. */
static void test_workspace__remove_agent(void **state)
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
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"y.c\"}"));
    cJSON *q = fx_call(&f, &a, "lock_file", "{\"file\":\"y.c\",\"waitMs\":5000}");
    uint64_t wid = (uint64_t)json_get_i64(q, "waiterId", 0);
    assert_true(wid > 0);
    cJSON_Delete(q);

    /* bad input changes nothing */
    fx_fail_msg(&f, &b, "remove_agent", "{\"agentId\":\"a\"}", -ERR_DENIED, "only an admin");
    fx_fail_msg(&f, &admin, "remove_agent", "{\"agentId\":\"nobody\"}", -ERR_NOT_FOUND,
                "no agent 'nobody'");
    fx_fail_msg(&f, &admin, "remove_agent", "{}", -ERR_INVALID, "'agentId'");
    fx_fail_msg(&f, &admin, "remove_agent", "{\"agentId\":\"bad id\"}", -ERR_INVALID, "'agentId'");

    size_t before = f.log.len;
    cJSON *r = fx_call(&f, &admin, "remove_agent", "{\"agentId\":\"a\"}");
    assert_true(fx_bool(r, "success", true));
    char *why = NULL;
    if (!tools_validate_result(tools_find("remove_agent"), r, &why))
        fail_msg("remove_agent result does not match its outputSchema: %s", why);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "unlockedFiles")), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "releasedTasks")), 1);
    cJSON_Delete(r);
    /* two file:unlocked, task:released, agent:removed */
    assert_int_equal(f.log.len, before + 4);
    fx_assert_str(f.log.items[before].data, "reason", "agent_removed");
    assert_string_equal(f.log.items[before + 2].type, EVENT_TASK_RELEASED);
    fx_assert_str(f.log.items[before + 2].data, "reason", "agent removed");
    assert_string_equal(fx_last(&f)->type, EVENT_AGENT_REMOVED);
    fx_assert_str(fx_last(&f)->data, "agentId", "a");
    fx_assert_str(fx_last(&f)->data, "reason", "removed");
    fx_assert_str(fx_last(&f)->data, "removedBy", "admin");
    assert_false(workspace_agent_known(f.ws, "a"));
    assert_false(workspace_agent_live_elsewhere(f.ws, "a", "zz"));
    r = fx_call(&f, &b, "list_tasks", "{\"status\":\"open\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tasks")), 1);
    cJSON_Delete(r);
    /* the removed agent's queued request is answered, never granted */
    cJSON_Delete(fx_call(&f, &b, "unlock_file", "{\"file\":\"y.c\"}"));
    struct workspace_waiter_done_vec done = {0};
    size_t n0 = f.log.len;
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 1);
    assert_true(done.items[0].waiter_id == wid);
    assert_true(fx_bool(done.items[0].result, "success", false));
    assert_non_null(strstr(json_get_str(done.items[0].result, "error", ""), "was removed"));
    workspace_waiter_done_vec_deinit(&done);
    assert_int_equal(f.log.len, n0);
    /* its old session acts no more as it */
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"x.c\"}", -ERR_STATE, "not registered");
    /* the id can be registered again, as a new agent */
    fx_register(&f, "a", "s1");
    fx_deinit(&f);
}

/* An agent registered without a session (the CLI, REST) goes offline when
 * its last lease ends; acting again needs a registration. */
static void test_workspace__sessionless_agent_goes_offline_with_its_last_lease(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    struct workspace_caller cli = fx_admin(NULL);
    cJSON_Delete(fx_call(&f, &cli, "register_agent", "{\"agentId\":\"cli-me\"}"));
    cJSON_Delete(fx_call(&f, &cli, "lock_file", "{\"file\":\"a.c\",\"agentId\":\"cli-me\"}"));
    cJSON_Delete(fx_call(&f, &cli, "lock_file", "{\"file\":\"b.c\",\"agentId\":\"cli-me\"}"));
    size_t before = f.log.len;
    cJSON_Delete(fx_call(&f, &cli, "unlock_file", "{\"file\":\"a.c\",\"agentId\":\"cli-me\"}"));
    assert_int_equal(f.log.len, before + 1); /* b.c still held */
    cJSON_Delete(fx_call(&f, &cli, "unlock_file", "{\"file\":\"b.c\",\"agentId\":\"cli-me\"}"));
    assert_int_equal(f.log.len, before + 3);
    assert_string_equal(fx_last(&f)->type, EVENT_AGENT_LEFT);
    fx_assert_str(fx_last(&f)->data, "reason", "idle");
    cJSON *r = fx_call(&f, &cli, "list_agents", "{\"status\":\"offline\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "agents")), 1);
    cJSON_Delete(r);
    /* acting for it again: it must be registered first (the hub does it
     * in the same command), so it never holds a lease while offline */
    fx_fail_msg(&f, &cli, "lock_file", "{\"file\":\"a.c\",\"agentId\":\"cli-me\"}", -ERR_STATE,
                "is offline");
    cJSON_Delete(fx_call(&f, &cli, "register_agent", "{\"agentId\":\"cli-me\"}"));
    cJSON_Delete(fx_call(&f, &cli, "lock_file", "{\"file\":\"a.c\",\"agentId\":\"cli-me\"}"));
    /* a forced unlock is a lease ending too; a session agent is unaffected */
    fx_register(&f, "s-agent", "s1");
    struct workspace_caller sa = fx_as("s-agent", "s1");
    cJSON_Delete(fx_call(&f, &sa, "lock_file", "{\"file\":\"s.c\"}"));
    cJSON_Delete(fx_call(&f, &sa, "unlock_file", "{\"file\":\"s.c\"}"));
    assert_string_equal(fx_last(&f)->type, EVENT_FILE_UNLOCKED);
    cJSON_Delete(fx_call(&f, &cli, "unlock_file", "{\"file\":\"a.c\",\"force\":true}"));
    assert_string_equal(fx_last(&f)->type, EVENT_AGENT_LEFT);
    fx_assert_str(fx_last(&f)->data, "agentId", "cli-me");
    /* with a claimed task it stays: the task is work in progress */
    cJSON_Delete(
        fx_call(&f, &cli, "create_task", "{\"taskId\":\"T\",\"title\":\"t\",\"files\":[\"t.c\"]}"));
    cJSON_Delete(fx_call(&f, &cli, "register_agent", "{\"agentId\":\"cli-me\"}"));
    cJSON_Delete(fx_call(&f, &cli, "claim_task", "{\"taskId\":\"T\",\"agentId\":\"cli-me\"}"));
    cJSON_Delete(fx_call(&f, &cli, "lock_file", "{\"file\":\"z.c\",\"agentId\":\"cli-me\"}"));
    cJSON_Delete(fx_call(&f, &cli, "unlock_file", "{\"file\":\"z.c\",\"agentId\":\"cli-me\"}"));
    assert_string_equal(fx_last(&f)->type, EVENT_FILE_UNLOCKED);
    cJSON_Delete(fx_call(&f, &cli, "complete_task", "{\"taskId\":\"T\",\"agentId\":\"cli-me\"}"));
    assert_string_equal(fx_last(&f)->type, EVENT_AGENT_LEFT);
    fx_deinit(&f);
}

/* Offline agents with no lease and no task are pruned a retention after
 * they were last seen, by the tick (fake clock); the others stay. */
static void test_workspace__offline_agents_are_pruned_after_retention(void **state)
{
    (void)state;
    struct fx f;
    struct workspace_config cfg = {.offline_grace_ms = 30000, .agent_retention_ms = 3600000};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "gone", "s1");
    fx_register(&f, "busy", "s2");
    fx_register(&f, "live", "s3");
    struct workspace_caller busy = fx_as("busy", "s2");
    cJSON_Delete(fx_call(&f, &busy, "create_task", "{\"taskId\":\"T\",\"title\":\"t\"}"));
    cJSON_Delete(fx_call(&f, &busy, "claim_task", "{\"taskId\":\"T\"}"));
    workspace_session_detach(f.ws, "s1", f.now);
    workspace_session_detach(f.ws, "s2", f.now);
    f.now += 31000;
    fx_tick(&f); /* both go offline */
    int64_t left_at = f.now;
    /* the next deadline is the prune of "gone" (busy has a task) */
    assert_true(workspace_next_deadline(f.ws) == left_at + 3600000);
    size_t before = f.log.len;
    f.now = left_at + 3600000 - 1;
    fx_tick(&f);
    assert_int_equal(f.log.len, before);
    f.now = left_at + 3600000;
    fx_tick(&f);
    assert_int_equal(f.log.len, before + 1);
    assert_string_equal(fx_last(&f)->type, EVENT_AGENT_REMOVED);
    fx_assert_str(fx_last(&f)->data, "agentId", "gone");
    fx_assert_str(fx_last(&f)->data, "reason", "pruned");
    assert_false(workspace_agent_known(f.ws, "gone"));
    assert_true(workspace_agent_known(f.ws, "busy"));
    assert_true(workspace_agent_known(f.ws, "live"));
    assert_true(workspace_next_deadline(f.ws) == INT64_MAX);
    /* once its task is given back, busy is pruned too, a retention after
     * it was last seen */
    struct workspace_caller admin = fx_admin(NULL);
    cJSON_Delete(fx_call(&f, &admin, "release_task", "{\"taskId\":\"T\"}"));
    f.now += 1;
    fx_tick(&f);
    assert_string_equal(fx_last(&f)->type, EVENT_AGENT_REMOVED);
    fx_assert_str(fx_last(&f)->data, "agentId", "busy");
    fx_deinit(&f);
}

/* Many tasks, a few claimed: an offline agent is pruned exactly when its
 * last claimed task is given back, whoever held which, also after a
 * snapshot round trip (the per-agent count of claimed tasks is rebuilt
 * from the records). */
static void test_workspace__prune_follows_claim_count_among_many_tasks(void **state)
{
    (void)state;
    struct fx f;
    struct workspace_config cfg = {.offline_grace_ms = 1000, .agent_retention_ms = 60000};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "busy", "s1");
    fx_register(&f, "other", "s2");
    struct workspace_caller busy = fx_as("busy", "s1"), other = fx_as("other", "s2");
    struct workspace_caller admin = fx_admin(NULL);
    char json[128];
    for (int i = 0; i < 300; i++) {
        snprintf(json, sizeof(json), "{\"taskId\":\"T%d\",\"title\":\"t\"}", i);
        cJSON_Delete(fx_call(&f, &other, "create_task", json));
    }
    for (int i = 0; i < 3; i++) {
        snprintf(json, sizeof(json), "{\"taskId\":\"T%d\"}", i * 100 + 7);
        cJSON_Delete(fx_call(&f, &busy, "claim_task", json));
    }
    cJSON_Delete(fx_call(&f, &other, "claim_task", "{\"taskId\":\"T8\"}"));
    /* a task released and claimed again by another agent moves its count */
    cJSON_Delete(fx_call(&f, &other, "release_task", "{\"taskId\":\"T8\"}"));
    cJSON_Delete(fx_call(&f, &busy, "claim_task", "{\"taskId\":\"T8\"}"));
    workspace_session_detach(f.ws, "s1", f.now);
    f.now += 1000;
    fx_tick(&f);
    assert_true(workspace_next_deadline(f.ws) == INT64_MAX); /* offline, but claims */

    cJSON *snap = workspace_snapshot(f.ws);
    assert_int_equal(workspace_restore(f.ws, snap, f.now), 0);
    cJSON_Delete(snap);
    workspace_session_attach(f.ws, "other", "s2", f.now);

    static const char *const give_back[4][2] = {{"release_task", "T7"},
                                                {"complete_task", "T107"},
                                                {"cancel_task", "T207"},
                                                {"release_task", "T8"}};
    for (int i = 0; i < 4; i++) {
        f.now += 60000;
        fx_tick(&f);
        assert_true(workspace_agent_known(f.ws, "busy"));
        assert_true(workspace_next_deadline(f.ws) == INT64_MAX);
        snprintf(json, sizeof(json), "{\"taskId\":\"%s\"}", give_back[i][1]);
        cJSON_Delete(fx_call(&f, &admin, give_back[i][0], json));
    }
    /* no claim left: pruned a retention after it was last seen */
    assert_true(workspace_next_deadline(f.ws) <= f.now);
    fx_tick(&f);
    assert_string_equal(fx_last(&f)->type, EVENT_AGENT_REMOVED);
    fx_assert_str(fx_last(&f)->data, "agentId", "busy");
    assert_false(workspace_agent_known(f.ws, "busy"));
    fx_deinit(&f);
}

/* ns per commit (lock_file + unlock_file by a live agent, each followed by
 * workspace_next_deadline, as the hub does after every commit) in a
 * workspace of ntasks open tasks and an offline agent that keeps a
 * claimed task: the best of three rounds. */
static double commit_cost_ns(int ntasks)
{
    struct fx f;
    struct workspace_config cfg = {.offline_grace_ms = 1000, .agent_retention_ms = 3600000};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "gone", "s1");
    fx_register(&f, "w", "s2");
    struct workspace_caller gone = fx_as("gone", "s1"), w = fx_as("w", "s2");
    char json[128];
    for (int i = 0; i < ntasks; i++) {
        snprintf(json, sizeof(json), "{\"taskId\":\"T%d\",\"title\":\"t\"}", i);
        cJSON_Delete(fx_call(&f, &w, "create_task", json));
    }
    cJSON_Delete(fx_call(&f, &gone, "claim_task", "{\"taskId\":\"T0\"}"));
    workspace_session_detach(f.ws, "s1", f.now);
    f.now += 1000;
    fx_tick(&f);
    assert_true(workspace_next_deadline(f.ws) == INT64_MAX);
    double best = 0;
    for (int round = 0; round < 3; round++) {
        int64_t t0 = clock_mono_ns();
        for (int i = 0; i < 200; i++) {
            cJSON_Delete(fx_call(&f, &w, "lock_file", "{\"file\":\"hot.c\"}"));
            assert_true(workspace_next_deadline(f.ws) < INT64_MAX); /* the lease's expiry */
            cJSON_Delete(fx_call(&f, &w, "unlock_file", "{\"file\":\"hot.c\"}"));
            assert_true(workspace_next_deadline(f.ws) == INT64_MAX);
        }
        double ns = (double)(clock_mono_ns() - t0) / 400.0;
        if (round == 0 || ns < best)
            best = ns;
    }
    workspace_free(f.ws); /* no replay check: the log is the same shape at every size */
    event_vec_deinit(&f.log);
    return best;
}

/* The commit cost does not grow with the number of tasks when an offline
 * agent keeps a claimed task (docs/architecture.md: the per-agent count of
 * claimed tasks). Printed as a ratio, never asserted as a time. */
static void test_workspace__commit_cost_with_many_tasks(void **state)
{
    (void)state;
    double small = commit_cost_ns(10), big = commit_cost_ns(10000);
    print_message("commit + next deadline, 10000 tasks vs 10 tasks, one offline claimer: "
                  "%.2fx (%.0f ns vs %.0f ns)\n",
                  big / small, big, small);
}

static void test_workspace__session_switch_detaches_previous_agent(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller c = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &c, "register_agent", "{\"agentId\":\"b\"}"));
    assert_false(workspace_agent_live_elsewhere(f.ws, "a", "zz"));
    assert_true(workspace_agent_live_elsewhere(f.ws, "b", "zz"));
    workspace_session_attach(f.ws, "a", "s1", f.now);
    assert_true(workspace_agent_live_elsewhere(f.ws, "a", "zz"));
    assert_false(workspace_agent_live_elsewhere(f.ws, "b", "zz"));
    workspace_session_attach(f.ws, "nobody", "s1", f.now); /* unknown: no-op */
    assert_true(workspace_agent_live_elsewhere(f.ws, "a", "zz"));
    fx_deinit(&f);
}

static void test_workspace__task_claimed_at_survives_completion(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T1\",\"title\":\"t\"}"));
    int64_t at = 0;
    assert_int_equal(workspace_task_claimed_at(f.ws, "T1", &at), -ERR_NOT_FOUND); /* open */
    assert_int_equal(workspace_task_claimed_at(f.ws, "nope", &at), -ERR_NOT_FOUND);
    f.now += 5000;
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T1\"}"));
    assert_int_equal(workspace_task_claimed_at(f.ws, "T1", &at), 0);
    assert_int_equal(at, FX_T0 + 5000);
    f.now += 7000;
    cJSON_Delete(fx_call(&f, &a, "complete_task", "{\"taskId\":\"T1\"}"));
    at = 0;
    assert_int_equal(workspace_task_claimed_at(f.ws, "T1", &at), 0);
    assert_int_equal(at, FX_T0 + 5000);
    fx_deinit(&f);
}

static void test_workspace__set_agent_status(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON *r = fx_call(&f, &a, "set_agent_status", "{\"status\":\"busy\",\"note\":\"tests\"}");
    fx_assert_str(r, "status", "busy");
    fx_assert_str(r, "previous", "active");
    cJSON_Delete(r);
    assert_string_equal(fx_last(&f)->type, EVENT_AGENT_STATUS_CHANGED);
    fx_assert_str(fx_last(&f)->data, "note", "tests");
    fx_fail_msg(&f, &a, "set_agent_status", "{\"status\":\"sleepy\"}", -ERR_INVALID, "'status'");
    fx_fail_msg(&f, &a, "set_agent_status", "{}", -ERR_INVALID, "'status'");
    struct workspace_caller none = fx_as(NULL, "s2");
    fx_fail_msg(&f, &none, "set_agent_status", "{\"status\":\"idle\"}", -ERR_STATE,
                "register_agent");
    struct workspace_caller ghost = fx_as("ghost", "s3");
    fx_fail_msg(&f, &ghost, "set_agent_status", "{\"status\":\"idle\"}", -ERR_STATE, "ghost");
    fx_deinit(&f);
}

static void test_workspace__agent_id_argument_needs_ownership_or_admin(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1");
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"x\",\"agentId\":\"b\"}", -ERR_DENIED,
                "'agentId'");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x\",\"agentId\":\"a\"}"));
    struct workspace_caller cli = fx_admin(NULL);
    fx_fail(&f, &cli, "lock_file", "{\"file\":\"y\"}", -ERR_STATE);
    cJSON *r = fx_call(&f, &cli, "lock_file", "{\"file\":\"y\",\"agentId\":\"b\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    fx_assert_str(fx_last(&f)->data, "agentId", "b");
    fx_fail_msg(&f, &cli, "lock_file", "{\"file\":\"y\",\"agentId\":\"zed\"}", -ERR_STATE, "zed");
    fx_deinit(&f);
}

/* ---- leases ---- */

static void test_workspace__lock_grant_and_refusal(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON *r = fx_call(&f, &a, "lock_file",
                       "{\"file\":\"./backend//src/api.rs\",\"reason\":\"refactor\",\"ttl\":60}");
    assert_true(fx_bool(r, "success", true));
    assert_true(fx_bool(r, "locked", true));
    fx_assert_str(r, "file", "backend/src/api.rs");
    fx_assert_str(r, "mode", "exclusive");
    fx_assert_str(r, "expiresAt", "2026-11-29T21:15:31.000Z");
    const struct event *ev = fx_last(&f);
    assert_string_equal(ev->type, EVENT_FILE_LOCKED);
    assert_true((uint64_t)json_get_i64(r, "token", 0) == ev->seq);
    assert_true((uint64_t)json_get_i64(ev->data, "token", 0) == ev->seq);
    fx_assert_str(ev->data, "reason", "refactor");
    assert_int_equal(json_get_i64(ev->data, "ttl", 0), 60);
    fx_assert_str(ev->data, "expiresAt", "2026-11-29T21:15:31.000Z");
    uint64_t token = ev->seq;
    cJSON_Delete(r);

    size_t before = f.log.len;
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"/home/u/shop/backend/src/api.rs\"}");
    assert_int_equal(f.log.len, before);
    assert_true(fx_bool(r, "success", false));
    assert_true(fx_bool(r, "locked", true));
    fx_assert_str(r, "lockedBy", "a");
    fx_assert_str(r, "reason", "refactor");
    assert_true((uint64_t)json_get_i64(r, "token", 0) == token);
    assert_non_null(strstr(json_get_str(r, "error", ""), "locked by a"));
    cJSON_Delete(r);
    struct workspace_stats st;
    workspace_stats_get(f.ws, &st);
    assert_int_equal(st.lock_contended, 1);
    assert_int_equal(st.lock_granted, 1);
    assert_int_equal(st.leases, 1);
    fx_deinit(&f);
}

static void test_workspace__relock_renews_and_keeps_token(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON *r = fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\",\"ttl\":10}");
    int64_t token = json_get_i64(r, "token", 0);
    cJSON_Delete(r);
    f.now += 5000;
    r = fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\",\"ttl\":100}");
    assert_int_equal(json_get_i64(r, "token", 0), token);
    assert_true(fx_bool(r, "renewed", true));
    cJSON_Delete(r);
    assert_true(fx_bool(fx_last(&f)->data, "renewed", true));
    assert_int_equal(json_get_i64(fx_last(&f)->data, "token", 0), token);
    assert_true(fx_last(&f)->seq != (uint64_t)token);
    f.now += 50000;
    size_t before = f.log.len;
    fx_tick(&f); /* the renewal moved expiry past now */
    assert_int_equal(f.log.len, before);
    /* a mode change is a new grant with a new token */
    r = fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\",\"mode\":\"shared\"}");
    assert_true(json_get_i64(r, "token", 0) > token);
    cJSON_Delete(r);
    assert_int_equal(json_get_i64(fx_last(&f)->data, "previousToken", 0), token);
    fx_deinit(&f);
}

static void test_workspace__shared_and_exclusive_modes(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    fx_register(&f, "c", "s3");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2"), c = fx_as("c", "s3");
    cJSON *r = fx_call(&f, &a, "lock_file", "{\"file\":\"s.h\",\"mode\":\"shared\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"s.h\",\"mode\":\"shared\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    r = fx_call(&f, &c, "lock_file", "{\"file\":\"s.h\"}");
    assert_true(fx_bool(r, "success", false));
    cJSON_Delete(r);
    r = fx_call(&f, &c, "check_lock", "{\"file\":\"s.h\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "holders")), 2);
    cJSON_Delete(r);
    /* a releases only its own share */
    r = fx_call(&f, &a, "unlock_file", "{\"file\":\"s.h\"}");
    assert_true(fx_bool(r, "unlocked", true));
    cJSON_Delete(r);
    r = fx_call(&f, &c, "check_lock", "{\"file\":\"s.h\"}");
    fx_assert_str(r, "lockedBy", "b");
    cJSON_Delete(r);
    /* exclusive blocks shared */
    r = fx_call(&f, &c, "lock_file", "{\"file\":\"e.h\"}");
    cJSON_Delete(r);
    r = fx_call(&f, &a, "lock_file", "{\"file\":\"e.h\",\"mode\":\"shared\"}");
    assert_true(fx_bool(r, "success", false));
    fx_assert_str(r, "lockedBy", "c");
    cJSON_Delete(r);
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"e.h\",\"mode\":\"rw\"}", -ERR_INVALID, "'mode'");
    fx_deinit(&f);
}

static void test_workspace__patterns_conflict_with_files_and_patterns(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON *r = fx_call(&f, &a, "lock_file", "{\"pattern\":\"src/api/**\"}");
    assert_true(fx_bool(r, "success", true));
    assert_true(fx_bool(r, "pattern", true));
    cJSON_Delete(r);
    fx_assert_str(fx_last(&f)->data, "pattern", "src/api/**");
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"src/api/v1/users.rs\"}");
    assert_true(fx_bool(r, "success", false));
    fx_assert_str(r, "lockedKey", "src/api/**");
    assert_non_null(strstr(json_get_str(r, "error", ""), "src/api/**"));
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"pattern\":\"**/*.rs\"}");
    assert_true(fx_bool(r, "success", false));
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"pattern\":\"docs/**\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"src/main.rs\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    /* a pattern is refused by a file it matches */
    r = fx_call(&f, &a, "lock_file", "{\"pattern\":\"src/*.rs\"}");
    assert_true(fx_bool(r, "success", false));
    fx_assert_str(r, "lockedBy", "b");
    cJSON_Delete(r);
    /* own leases never conflict */
    r = fx_call(&f, &a, "lock_file", "{\"file\":\"src/api/x.rs\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    /* the same string as file and as pattern are separate keys */
    r = fx_call(&f, &b, "unlock_file", "{\"pattern\":\"src/main.rs\"}");
    fx_assert_str(r, "error", "not locked");
    cJSON_Delete(r);
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"a\",\"pattern\":\"b\"}", -ERR_INVALID,
                "not both");
    fx_fail_msg(&f, &a, "lock_file", "{}", -ERR_INVALID, "'file'");
    fx_fail_msg(&f, &a, "lock_file", "{\"pattern\":\"src/[x\"}", -ERR_INVALID, "unterminated");
    fx_deinit(&f);
}

static void test_workspace__file_names_are_literal(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON *r = fx_call(&f, &a, "lock_file", "{\"file\":\"app/[id]/page.tsx\"}");
    fx_assert_str(r, "file", "app/[id]/page.tsx");
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"app/i/page.tsx\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"app/[id]/page.tsx\"}");
    assert_true(fx_bool(r, "success", false));
    cJSON_Delete(r);
    fx_deinit(&f);
}

static void test_workspace__bad_paths_are_invalid_arguments(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"../etc/passwd\"}", -ERR_INVALID,
                "argument 'file': path '../etc/passwd' escapes the workspace root");
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"/etc/passwd\"}", -ERR_INVALID, "outside");
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"\"}", -ERR_INVALID, "empty");
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\".\"}", -ERR_INVALID, "root itself");
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":7}", -ERR_INVALID, "string");
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"x\",\"ttl\":0}", -ERR_INVALID, "'ttl'");
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"x\",\"ttl\":86401}", -ERR_INVALID, "'ttl'");
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"x\",\"ttl\":1.5}", -ERR_INVALID, "'ttl'");
    fx_fail_msg(&f, &a, "lock_file", "{\"file\":\"x\",\"waitMs\":60001}", -ERR_INVALID, "'waitMs'");
    fx_fail_msg(&f, &a, "check_lock", "{\"file\":\"../x\"}", -ERR_INVALID, "escapes");
    fx_deinit(&f);
}

static void test_workspace__unlock_rules(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    struct workspace_caller admin_b = {"b", "s2", true, NULL};
    cJSON *r = fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}");
    int64_t token = json_get_i64(r, "token", 0);
    cJSON_Delete(r);
    r = fx_call(&f, &b, "unlock_file", "{\"file\":\"x.c\"}");
    assert_true(fx_bool(r, "success", false));
    assert_true(fx_bool(r, "unlocked", false));
    fx_assert_str(r, "error", "held by a");
    cJSON_Delete(r);
    fx_fail_msg(&f, &b, "unlock_file", "{\"file\":\"x.c\",\"force\":true}", -ERR_DENIED, "admin");
    r = fx_call(&f, &admin_b, "unlock_file", "{\"file\":\"x.c\",\"force\":true}");
    assert_true(fx_bool(r, "success", true));
    assert_true(fx_bool(r, "forced", true));
    cJSON_Delete(r);
    const struct event *ev = fx_last(&f);
    fx_assert_str(ev->data, "reason", "forced");
    fx_assert_str(ev->data, "forcedBy", "b");
    fx_assert_str(ev->data, "agentId", "a");
    assert_int_equal(json_get_i64(ev->data, "token", 0), token);
    r = fx_call(&f, &a, "unlock_file", "{\"file\":\"x.c\"}");
    assert_true(fx_bool(r, "success", false));
    fx_assert_str(r, "error", "not locked");
    cJSON_Delete(r);
    /* holder release */
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"y.c\"}"));
    r = fx_call(&f, &a, "unlock_file", "{\"file\":\"y.c\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    fx_assert_str(fx_last(&f)->data, "reason", "released");
    /* an admin without an agent may force */
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"z.c\"}"));
    struct workspace_caller cli = fx_admin(NULL);
    r = fx_call(&f, &cli, "unlock_file", "{\"file\":\"z.c\",\"force\":true}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    fx_assert_str(fx_last(&f)->data, "forcedBy", "admin");
    fx_fail(&f, &cli, "unlock_file", "{\"file\":\"z.c\"}", -ERR_STATE);
    fx_deinit(&f);
}

static void test_workspace__expiry_by_tick_and_on_demand(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\",\"ttl\":10}"));
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"y.c\",\"ttl\":20}"));
    assert_int_equal(workspace_next_deadline(f.ws), f.now + 10000);
    f.now += 10000;
    fx_tick(&f);
    assert_string_equal(fx_last(&f)->type, EVENT_FILE_UNLOCKED);
    fx_assert_str(fx_last(&f)->data, "reason", "expired");
    fx_assert_str(fx_last(&f)->data, "file", "x.c");
    assert_int_equal(workspace_next_deadline(f.ws), f.now + 10000);
    /* past expiry but not ticked: invisible, and expired before a grant */
    f.now += 10000;
    cJSON *r = fx_call(&f, &b, "check_lock", "{\"file\":\"y.c\"}");
    assert_true(fx_bool(r, "locked", false));
    cJSON_Delete(r);
    r = fx_call(&f, &b, "list_locked_files", NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "locks")), 0);
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"y.c\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    assert_string_equal(fx_ev(&f, 1)->type, EVENT_FILE_UNLOCKED);
    fx_assert_str(fx_ev(&f, 1)->data, "reason", "expired");
    fx_assert_str(fx_ev(&f, 1)->data, "agentId", "a");
    fx_assert_str(fx_ev(&f, 0)->data, "agentId", "b");
    struct workspace_stats st;
    workspace_stats_get(f.ws, &st);
    assert_int_equal(st.lock_expired, 2);
    fx_deinit(&f);
}

static void test_workspace__waiter_granted_when_free_in_fifo_order(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    fx_register(&f, "c", "s3");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2"), c = fx_as("c", "s3");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON *r = fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\",\"waitMs\":5000}");
    assert_true(fx_bool(r, "queued", true));
    uint64_t wb = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    r = fx_call(&f, &c, "lock_file", "{\"file\":\"x.c\",\"waitMs\":5000}");
    uint64_t wc = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    assert_true(wb != wc);
    assert_int_equal(workspace_next_deadline(f.ws), f.now + 5000);

    struct workspace_waiter_done_vec done = {0};
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 0);
    cJSON_Delete(fx_call(&f, &a, "unlock_file", "{\"file\":\"x.c\"}"));
    /* the key is free but b is queued: a newcomer may not jump ahead */
    r = fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}");
    assert_true(fx_bool(r, "success", false));
    fx_assert_str(r, "queuedBy", "b");
    cJSON_Delete(r);
    f.now += 100;
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 1);
    assert_true(done.items[0].waiter_id == wb);
    assert_true(fx_bool(done.items[0].result, "success", true));
    assert_int_equal(json_get_i64(done.items[0].result, "waitedMs", -1), 100);
    fx_assert_str(fx_last(&f)->data, "agentId", "b");
    workspace_waiter_done_vec_deinit(&done);
    /* c times out at its deadline with the holder named */
    f.now += 4900;
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 1);
    assert_true(done.items[0].waiter_id == wc);
    assert_true(fx_bool(done.items[0].result, "success", false));
    fx_assert_str(done.items[0].result, "lockedBy", "b");
    assert_int_equal(json_get_i64(done.items[0].result, "waitedMs", -1), 5000);
    workspace_waiter_done_vec_deinit(&done);
    /* no waiter left: the next deadline is b's lease expiry */
    assert_int_equal(workspace_next_deadline(f.ws), FX_T0 + 100 + 3600 * 1000);
    fx_deinit(&f);
}

static void test_workspace__waiters_cancel_detach_and_cap(void **state)
{
    (void)state;
    struct fx f;
    struct workspace_config cfg = {.max_waiters = 2};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    fx_register(&f, "c", "s3");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2"), c = fx_as("c", "s3");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON *r = fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\",\"waitMs\":1000}");
    uint64_t wb = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    cJSON_Delete(fx_call(&f, &c, "lock_file", "{\"file\":\"x.c\",\"waitMs\":1000}"));
    r = fx_call(&f, &c, "lock_file", "{\"file\":\"y.c\",\"waitMs\":1000}");
    assert_true(fx_bool(r, "success", true)); /* free keys never queue */
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\",\"waitMs\":1000}");
    assert_true(fx_bool(r, "success", false));
    assert_non_null(strstr(json_get_str(r, "error", ""), "too many queued"));
    cJSON_Delete(r);
    struct workspace_stats st;
    workspace_stats_get(f.ws, &st);
    assert_int_equal(st.waiters, 2);
    assert_int_equal(workspace_waiter_cancel(f.ws, wb), 0);
    assert_int_equal(workspace_waiter_cancel(f.ws, wb), -ERR_NOT_FOUND);
    workspace_session_detach(f.ws, "s3", f.now);
    workspace_stats_get(f.ws, &st);
    assert_int_equal(st.waiters, 0);
    struct workspace_waiter_done_vec done = {0};
    f.now += 2000;
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 0);
    workspace_waiter_done_vec_deinit(&done);
    fx_deinit(&f);
}

static void test_workspace__shared_waiters_granted_together(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    fx_register(&f, "c", "s3");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2"), c = fx_as("c", "s3");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"pattern\":\"lib/**\"}"));
    cJSON_Delete(
        fx_call(&f, &b, "lock_file", "{\"file\":\"lib/x\",\"mode\":\"shared\",\"waitMs\":1000}"));
    cJSON_Delete(
        fx_call(&f, &c, "lock_file", "{\"file\":\"lib/x\",\"mode\":\"shared\",\"waitMs\":1000}"));
    cJSON_Delete(fx_call(&f, &a, "unlock_file", "{\"pattern\":\"lib/**\"}"));
    struct workspace_waiter_done_vec done = {0};
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 2);
    assert_true(fx_bool(done.items[0].result, "success", true));
    assert_true(fx_bool(done.items[1].result, "success", true));
    workspace_waiter_done_vec_deinit(&done);
    fx_deinit(&f);
}

/* A hub that lost an append race rebuilds its workspace from the log and
 * carries the lock queues over: ids, FIFO places and deadlines are kept, a
 * grant the store did not record is queued again at its place, and a
 * request whose agent's registration was not recorded is answered. */
static void test_workspace__waiters_carried_into_rebuilt_workspace(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    fx_register(&f, "c", "s3");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2"), c = fx_as("c", "s3");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON *r = fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\",\"waitMs\":5000}");
    uint64_t wb = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    r = fx_call(&f, &c, "lock_file", "{\"file\":\"x.c\",\"waitMs\":3000}");
    uint64_t wc = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);

    /* Not recorded: e registers and queues, a unlocks, b is granted. */
    struct event_vec lost;
    event_vec_init(&lost);
    struct workspace_caller e = fx_as(NULL, "s5");
    cJSON *args = cJSON_Parse("{\"agentId\":\"e\"}");
    char *msg = NULL;
    assert_int_equal(
        workspace_exec(f.ws, &e, fx_op("register_agent"), args, f.now, &lost, &r, &msg), 0);
    cJSON_Delete(r);
    cJSON_Delete(args);
    e.agent_id = "e";
    args = cJSON_Parse("{\"file\":\"x.c\",\"waitMs\":5000}");
    assert_int_equal(workspace_exec(f.ws, &e, fx_op("lock_file"), args, f.now, &lost, &r, &msg), 0);
    uint64_t we = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    cJSON_Delete(args);
    args = cJSON_Parse("{\"file\":\"x.c\"}");
    assert_int_equal(workspace_exec(f.ws, &a, fx_op("unlock_file"), args, f.now, &lost, &r, &msg),
                     0);
    cJSON_Delete(r);
    cJSON_Delete(args);
    struct workspace_waiter_done_vec granted = {0};
    workspace_waiters_service(f.ws, f.now + 100, &lost, &granted);
    assert_int_equal(granted.len, 1);
    assert_true(granted.items[0].waiter_id == wb);
    assert_non_null(granted.items[0].waiter);
    assert_true(workspace_waiter_id(granted.items[0].waiter) == wb);

    /* Rebuild from the recorded log and carry the queues over. */
    struct workspace *rebuilt = workspace_new(&f.cfg);
    for (size_t i = 0; i < f.log.len; i++)
        assert_int_equal(workspace_apply(rebuilt, &f.log.items[i]), 0);
    struct workspace_waiter_done_vec dropped = {0};
    workspace_carry_ephemeral(rebuilt, f.ws, &dropped);
    struct workspace_stats st;
    workspace_stats_get(f.ws, &st);
    assert_int_equal(st.waiters, 0);
    assert_int_equal(dropped.len, 1);
    assert_true(dropped.items[0].waiter_id == we);
    assert_null(dropped.items[0].waiter);
    assert_true(fx_bool(dropped.items[0].result, "success", false));
    assert_non_null(
        strstr(json_get_str(dropped.items[0].result, "error", ""), "e is not registered"));
    workspace_waiter_done_vec_deinit(&dropped);
    workspace_stats_get(rebuilt, &st);
    assert_int_equal(st.waiters, 1);
    assert_int_equal(workspace_waiter_requeue(rebuilt, granted.items[0].waiter), 0);
    granted.items[0].waiter = NULL;
    workspace_waiter_done_vec_deinit(&granted);
    workspace_stats_get(rebuilt, &st);
    assert_int_equal(st.waiters, 2);
    workspace_free(f.ws);
    event_vec_deinit(&lost);
    f.ws = rebuilt;

    /* c's deadline is unchanged; b is ahead of c again. */
    assert_int_equal(workspace_next_deadline(f.ws), FX_T0 + 3000);
    r = fx_call(&f, &a, "lock_file", "{\"file\":\"y.c\"}");
    cJSON_Delete(r);
    cJSON_Delete(fx_call(&f, &a, "unlock_file", "{\"file\":\"x.c\"}"));
    struct workspace_waiter_done_vec done = {0};
    f.now += 200;
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 1);
    assert_true(done.items[0].waiter_id == wb);
    assert_true(fx_bool(done.items[0].result, "success", true));
    assert_int_equal(json_get_i64(done.items[0].result, "waitedMs", -1), 200);
    fx_assert_str(fx_last(&f)->data, "agentId", "b");
    workspace_waiter_done_vec_deinit(&done);
    /* Ids are never reused, not even those of dropped requests. */
    r = fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\",\"waitMs\":1000}");
    assert_true(fx_bool(r, "queued", true));
    uint64_t wa = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    assert_true(wa > we);
    assert_int_equal(workspace_waiter_cancel(f.ws, wa), 0);
    /* c times out at its original deadline, b named as the holder. */
    f.now = FX_T0 + 3000;
    workspace_waiters_service(f.ws, f.now, &f.log, &done);
    assert_int_equal(done.len, 1);
    assert_true(done.items[0].waiter_id == wc);
    fx_assert_str(done.items[0].result, "lockedBy", "b");
    assert_int_equal(json_get_i64(done.items[0].result, "waitedMs", -1), 3000);
    workspace_waiter_done_vec_deinit(&done);
    fx_deinit(&f);
}

/* A request queued again goes to its place by id, after one queued
 * earlier and before one queued later, and only once. */
static void test_workspace__waiter_requeue_keeps_fifo_place(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    fx_register(&f, "c", "s3");
    fx_register(&f, "d", "s4");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2"), c = fx_as("c", "s3"),
                            d = fx_as("d", "s4");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\",\"waitMs\":1000}"));
    cJSON_Delete(fx_call(&f, &c, "lock_file", "{\"file\":\"x.c\",\"waitMs\":5000}"));
    cJSON_Delete(fx_call(&f, &d, "lock_file", "{\"file\":\"x.c\",\"waitMs\":5000}"));
    /* b times out and is taken off; queue it again: ahead of c and d. */
    f.now += 1000;
    struct workspace_waiter_done_vec out = {0};
    workspace_waiters_service(f.ws, f.now, &f.log, &out);
    assert_int_equal(out.len, 1);
    struct workspace_waiter *wb = out.items[0].waiter;
    out.items[0].waiter = NULL;
    workspace_waiter_done_vec_deinit(&out);
    assert_int_equal(workspace_waiter_requeue(f.ws, wb), 0);
    assert_int_equal(workspace_waiter_requeue(f.ws, wb), -ERR_STATE);
    /* once x.c is free, a newcomer is refused naming b, first in line */
    cJSON_Delete(fx_call(&f, &a, "unlock_file", "{\"file\":\"x.c\"}"));
    cJSON *r = fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}");
    fx_assert_str(r, "queuedBy", "b");
    cJSON_Delete(r);
    /* the key is free: b, first in line, is granted (a free key is
     * granted even at the deadline); c and d wait on */
    workspace_waiters_service(f.ws, f.now, &f.log, &out);
    assert_int_equal(out.len, 1);
    assert_true(fx_bool(out.items[0].result, "success", true));
    fx_assert_str(fx_last(&f)->data, "agentId", "b");
    struct workspace_stats st;
    workspace_stats_get(f.ws, &st);
    assert_int_equal(st.waiters, 2);
    workspace_waiter_done_vec_deinit(&out);
    fx_deinit(&f);
}

/* A rebuild does not restart the grace period of an agent that was
 * already detached; agents live before count as detached since the
 * rebuild (the hub attaches its live sessions again). */
static void test_workspace__carry_keeps_detach_times(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "z", "s9");
    workspace_session_detach(f.ws, "s9", f.now);
    struct workspace *rebuilt = workspace_new(&f.cfg);
    for (size_t i = 0; i < f.log.len; i++)
        assert_int_equal(workspace_apply(rebuilt, &f.log.items[i]), 0);
    workspace_sessions_reset(rebuilt, f.now + 500);
    struct workspace_waiter_done_vec dropped = {0};
    workspace_carry_ephemeral(rebuilt, f.ws, &dropped);
    assert_int_equal(dropped.len, 0);
    workspace_free(f.ws);
    f.ws = rebuilt;
    f.now += 30 * 1000; /* z's grace is over, a's (detached by the rebuild) not */
    size_t before = f.log.len;
    fx_tick(&f);
    assert_int_equal(f.log.len, before + 1);
    fx_assert_str(fx_last(&f)->data, "agentId", "z");
    f.now += 500;
    fx_tick(&f);
    assert_int_equal(f.log.len, before + 2);
    fx_assert_str(fx_last(&f)->data, "agentId", "a");
    fx_deinit(&f);
}

static void test_workspace__renew_locks(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON *r = fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\",\"ttl\":10}");
    int64_t token = json_get_i64(r, "token", 0);
    cJSON_Delete(r);
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"pattern\":\"d/**\",\"ttl\":10}"));
    f.now += 5000;
    r = fx_call(&f, &a, "renew_locks", NULL);
    cJSON *ren = cJSON_GetObjectItem(r, "renewed");
    assert_int_equal(cJSON_GetArraySize(ren), 2);
    fx_assert_str(cJSON_GetArrayItem(ren, 0), "file", "d/**");
    fx_assert_str(cJSON_GetArrayItem(ren, 1), "file", "x.c");
    fx_assert_str(cJSON_GetArrayItem(ren, 1), "expiresAt", "2026-11-29T21:14:46.000Z");
    assert_int_equal(json_get_i64(cJSON_GetArrayItem(ren, 1), "token", 0), token);
    cJSON_Delete(r);
    r = fx_call(&f, &a, "renew_locks", "{\"files\":[\"./x.c\",\"nope.c\"],\"ttl\":600}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "renewed")), 1);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "notHeld"), 0)->valuestring,
                        "nope.c");
    cJSON_Delete(r);
    assert_int_equal(json_get_i64(fx_last(&f)->data, "ttl", 0), 600);
    assert_true(fx_bool(fx_last(&f)->data, "renewed", true));
    fx_fail(&f, &a, "renew_locks", "{\"files\":[\"../up\"]}", -ERR_INVALID);
    fx_deinit(&f);
}

static void test_workspace__check_lock_validates_tokens(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON *r = fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}");
    int64_t t1 = json_get_i64(r, "token", 0);
    cJSON_Delete(r);
    char json[96];
    snprintf(json, sizeof(json), "{\"file\":\"x.c\",\"token\":%lld}", (long long)t1);
    r = fx_call(&f, &b, "check_lock", json);
    assert_true(fx_bool(r, "locked", true));
    assert_true(fx_bool(r, "valid", true));
    fx_assert_str(r, "lockedBy", "a");
    fx_assert_str(r, "mode", "exclusive");
    cJSON_Delete(r);
    cJSON_Delete(fx_call(&f, &a, "unlock_file", "{\"file\":\"x.c\"}"));
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"x.c\"}");
    int64_t t2 = json_get_i64(r, "token", 0);
    cJSON_Delete(r);
    assert_true(t2 > t1);
    r = fx_call(&f, &a, "check_lock", json); /* a's token is stale now */
    assert_true(fx_bool(r, "valid", false));
    fx_assert_str(r, "lockedBy", "b");
    cJSON_Delete(r);
    r = fx_call(&f, &a, "check_lock", "{\"file\":\"free.c\",\"token\":3}");
    assert_true(fx_bool(r, "locked", false));
    assert_true(fx_bool(r, "valid", false));
    cJSON_Delete(r);
    /* a pattern lease covers files it matches */
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"pattern\":\"gen/*.pb\"}"));
    r = fx_call(&f, &b, "check_lock", "{\"file\":\"gen/a.pb\"}");
    assert_true(fx_bool(r, "locked", true));
    fx_assert_str(r, "lockedKey", "gen/*.pb");
    assert_null(cJSON_GetObjectItem(r, "valid"));
    cJSON_Delete(r);
    fx_deinit(&f);
}

static void test_workspace__list_locked_files_and_detect_conflicts(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"z.c\",\"reason\":\"r\"}"));
    cJSON_Delete(fx_call(&f, &b, "lock_file", "{\"file\":\"m.c\",\"mode\":\"shared\"}"));
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"pattern\":\"web/**\"}"));
    cJSON *r = fx_call(&f, &b, "list_locked_files", NULL);
    cJSON *locks = cJSON_GetObjectItem(r, "locks");
    assert_int_equal(cJSON_GetArraySize(locks), 3);
    fx_assert_str(cJSON_GetArrayItem(locks, 0), "file", "m.c");
    fx_assert_str(cJSON_GetArrayItem(locks, 1), "file", "web/**");
    assert_true(fx_bool(cJSON_GetArrayItem(locks, 1), "pattern", true));
    fx_assert_str(cJSON_GetArrayItem(locks, 2), "file", "z.c");
    fx_assert_str(cJSON_GetArrayItem(locks, 2), "lockedAt", "2026-11-29T21:14:31.000Z");
    cJSON_Delete(r);
    r = fx_call(&f, &b, "list_locked_files", "{\"agentId\":\"a\"}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "locks")), 2);
    cJSON_Delete(r);

    r = fx_call(&f, &b, "detect_conflicts",
                "{\"files\":[\"z.c\",\"m.c\",\"web/index.html\"],\"patterns\":[\"*.c\"]}");
    assert_true(fx_bool(r, "hasConflicts", true));
    cJSON *cs = cJSON_GetObjectItem(r, "conflicts");
    assert_int_equal(cJSON_GetArraySize(cs), 3);
    fx_assert_str(cJSON_GetArrayItem(cs, 0), "file", "z.c");
    fx_assert_str(cJSON_GetArrayItem(cs, 0), "lockedBy", "a");
    fx_assert_str(cJSON_GetArrayItem(cs, 0), "reason", "r");
    fx_assert_str(cJSON_GetArrayItem(cs, 1), "file", "web/index.html");
    fx_assert_str(cJSON_GetArrayItem(cs, 1), "lockedKey", "web/**");
    fx_assert_str(cJSON_GetArrayItem(cs, 2), "file", "*.c");
    cJSON_Delete(r);
    r = fx_call(&f, &a, "detect_conflicts", "{\"files\":[\"z.c\"]}");
    assert_true(fx_bool(r, "hasConflicts", false));
    cJSON_Delete(r);
    r = fx_call(&f, &a, "detect_conflicts", "{\"files\":[\"z.c\"],\"agentId\":\"b\"}");
    assert_true(fx_bool(r, "hasConflicts", true));
    cJSON_Delete(r);
    fx_fail_msg(&f, &a, "detect_conflicts", "{\"files\":[\"ok\",\"../no\"]}", -ERR_INVALID,
                "'files'");
    fx_deinit(&f);
}

/* ---- events, status, snapshots ---- */

static void test_workspace__publish_event(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON *r = fx_call(&f, &a, "publish_event",
                       "{\"type\":\"deploy:finished\",\"data\":{\"env\":\"prod\"}}");
    fx_assert_str(r, "id", "2");
    cJSON_Delete(r);
    assert_string_equal(fx_last(&f)->type, "deploy:finished");
    assert_string_equal(fx_last(&f)->source_id, "a");
    fx_assert_str(fx_last(&f)->data, "env", "prod");
    fx_fail_msg(&f, &a, "publish_event", "{\"type\":\"file:locked\",\"data\":{}}", -ERR_INVALID,
                "type 'file:locked' is reserved");
    fx_fail_msg(&f, &a, "publish_event", "{\"type\":\"server:x\",\"data\":{}}", -ERR_INVALID,
                "reserved");
    /* The namespaces Redis ingestion refuses too (event_type_reserved). */
    fx_fail_msg(&f, &a, "publish_event", "{\"type\":\"guidance:message\",\"data\":{}}",
                -ERR_INVALID, "type 'guidance:message' is reserved");
    fx_fail_msg(&f, &a, "publish_event", "{\"type\":\"tools:changed\",\"data\":{}}", -ERR_INVALID,
                "reserved");
    fx_fail_msg(&f, &a, "publish_event", "{\"type\":\"insight:critical\",\"data\":{}}",
                -ERR_INVALID, "reserved");
    fx_fail_msg(&f, &a, "publish_event", "{\"type\":\"cache:invalidate\",\"data\":{}}",
                -ERR_INVALID, "reserved");
    fx_fail_msg(&f, &a, "publish_event", "{\"type\":\"Bad\",\"data\":{}}", -ERR_INVALID, "'type'");
    fx_fail_msg(&f, &a, "publish_event", "{\"type\":\"x:y\"}", -ERR_INVALID, "'data'");
    fx_fail_msg(&f, &a, "publish_event", "{\"type\":\"x:y\",\"data\":[1]}", -ERR_INVALID, "'data'");
    fx_deinit(&f);
}

static void test_workspace__status_json_shape(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "b", "s2");
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T\",\"title\":\"t\"}"));
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"U\",\"title\":\"u\"}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}"));
    cJSON *s = fx_call(&f, &a, "get_coordination_status", NULL);
    char *text = json_print(s);
    assert_non_null(strstr(text, "\"enabled\":true,\"activeAgents\":[\"a\",\"b\"],"
                                 "\"lockedFiles\":[\"x.c\"],\"activeTasks\":[\"T\"],"
                                 "\"systemHealth\":null,\"details\":{"));
    free(text);
    cJSON *details = cJSON_GetObjectItem(s, "details");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(details, "agents")), 2);
    assert_true(
        fx_bool(cJSON_GetArrayItem(cJSON_GetObjectItem(details, "agents"), 0), "connected", true));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(details, "locks")), 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(details, "tasks")), 2);
    cJSON *direct = workspace_status_json(f.ws, f.now);
    assert_true(cJSON_Compare(s, direct, 1));
    cJSON_Delete(direct);
    cJSON_Delete(s);
    struct workspace_stats st;
    workspace_stats_get(f.ws, &st);
    assert_int_equal(st.agents, 2);
    assert_int_equal(st.agents_active, 2);
    assert_int_equal(st.tasks_open, 1);
    assert_int_equal(st.tasks_claimed, 1);
    fx_deinit(&f);
}

static void test_workspace__snapshot_restore_round_trip(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\",\"reason\":\"why\"}"));
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"pattern\":\"p/**\",\"mode\":\"shared\"}"));
    cJSON_Delete(
        fx_call(&f, &a, "create_task", "{\"taskId\":\"T\",\"title\":\"t\",\"files\":[\"y.c\"]}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}"));
    cJSON_Delete(fx_call(&f, &a, "complete_task", "{\"taskId\":\"T\",\"result\":{\"ok\":1}}"));
    cJSON *snap = workspace_snapshot(f.ws);
    assert_int_equal(json_get_i64(snap, "seq", 0), (int64_t)workspace_seq(f.ws));

    struct workspace *w2 = workspace_new(&f.cfg);
    assert_int_equal(workspace_restore(w2, snap, f.now + 5), 0);
    assert_true(workspace_seq(w2) == workspace_seq(f.ws));
    cJSON *snap2 = workspace_snapshot(w2);
    assert_true(cJSON_Compare(snap, snap2, 1));
    /* restored agents count as detached since the restore */
    assert_false(workspace_agent_live_elsewhere(w2, "a", "s1"));
    assert_int_equal(workspace_next_deadline(w2), f.now + 5 + 30000);
    /* the restored workspace continues the log */
    struct event ev;
    event_init(&ev, "x:y", f.now, NULL);
    ev.seq = workspace_seq(w2) + 1;
    assert_int_equal(workspace_apply(w2, &ev), 0);
    event_deinit(&ev);

    /* malformed snapshots change nothing */
    cJSON *bad = cJSON_Duplicate(snap, 1);
    cJSON_AddItemToArray(cJSON_GetObjectItem(bad, "leases"), cJSON_CreateString("junk"));
    assert_int_equal(workspace_restore(w2, bad, f.now), -ERR_INVALID);
    cJSON_Delete(bad);
    bad = cJSON_Duplicate(snap, 1);
    cJSON_ReplaceItemInObject(bad, "version", cJSON_CreateNumber(99));
    assert_int_equal(workspace_restore(w2, bad, f.now), -ERR_INVALID);
    cJSON_Delete(bad);
    bad = cJSON_Duplicate(snap, 1);
    cJSON_AddItemToArray(
        cJSON_GetObjectItem(bad, "agents"),
        cJSON_Duplicate(cJSON_GetArrayItem(cJSON_GetObjectItem(bad, "agents"), 0), 1));
    assert_int_equal(workspace_restore(w2, bad, f.now), -ERR_INVALID);
    cJSON_Delete(bad);
    assert_true(workspace_seq(w2) == workspace_seq(f.ws) + 1);
    cJSON *snap3 = workspace_snapshot(w2);
    cJSON_ReplaceItemInObject(snap3, "seq", cJSON_CreateNumber((double)workspace_seq(f.ws)));
    assert_true(cJSON_Compare(snap, snap3, 1));
    cJSON_Delete(snap3);
    cJSON_Delete(snap2);
    cJSON_Delete(snap);
    workspace_free(w2);
    fx_deinit(&f);
}

static void test_workspace__apply_checks_order_and_shape(void **state)
{
    (void)state;
    struct workspace_config cfg = {.name = "w"};
    struct workspace *ws = workspace_new(&cfg);
    assert_string_equal(workspace_name(ws), "w");
    struct event ev;
    event_init(&ev, "custom:thing", 1, NULL);
    ev.seq = 2;
    assert_int_equal(workspace_apply(ws, &ev), -ERR_INVALID);
    ev.seq = 1;
    assert_int_equal(workspace_apply(ws, &ev), 0);
    assert_int_equal(workspace_apply(ws, &ev), -ERR_INVALID);
    event_deinit(&ev);
    const char *bad[] = {
        "{\"agentId\":\"bad id\",\"capabilities\":[],\"mcpServers\":[],\"metadata\":{},"
        "\"status\":\"active\"}",
        "{\"agentId\":\"a\",\"capabilities\":[],\"mcpServers\":[],\"metadata\":{}}",
    };
    for (size_t i = 0; i < 2; i++) {
        event_init(&ev, EVENT_AGENT_REGISTERED, 1, cJSON_Parse(bad[i]));
        ev.seq = 2;
        assert_int_equal(workspace_apply(ws, &ev), -ERR_INVALID);
        event_deinit(&ev);
    }
    event_init(&ev, EVENT_FILE_UNLOCKED, 1,
               cJSON_Parse("{\"file\":\"x\",\"agentId\":\"a\",\"token\":1,\"reason\":\"r\"}"));
    ev.seq = 2;
    assert_int_equal(workspace_apply(ws, &ev), -ERR_INVALID); /* no such lease */
    event_deinit(&ev);
    event_init(&ev, EVENT_FILE_LOCKED, 1,
               cJSON_Parse("{\"file\":\"x\",\"agentId\":\"a\",\"token\":7,\"mode\":\"exclusive\","
                           "\"expiresAt\":\"2026-01-01T00:00:00.000Z\",\"ttl\":1}"));
    ev.seq = 2;
    assert_int_equal(workspace_apply(ws, &ev), -ERR_INVALID); /* token is not its seq */
    event_deinit(&ev);
    event_init(&ev, EVENT_TASK_CLAIMED, 1, cJSON_Parse("{\"taskId\":\"T\",\"agentId\":\"a\"}"));
    ev.seq = 2;
    assert_int_equal(workspace_apply(ws, &ev), -ERR_INVALID);
    event_deinit(&ev);
    assert_true(workspace_seq(ws) == 1);
    cJSON *snap = workspace_snapshot(ws);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(snap, "agents")), 0);
    cJSON_Delete(snap);
    assert_int_equal(workspace_next_deadline(ws), INT64_MAX);
    workspace_free(ws);
    workspace_free(NULL);
}

/* Fold one event from a foreign system (source other than the hub's) at
 * the next seq into f's workspace and its log. */
static void fx_fold_foreign(struct fx *f, const char *type, const char *source, const char *json)
{
    struct event ev;
    event_init(&ev, type, f->now, fx_parse(json));
    ev.seq = workspace_seq(f->ws) + 1;
    free(ev.source);
    ev.source = source ? xstrdup(source) : NULL;
    assert_int_equal(workspace_apply(f->ws, &ev), 0);
    event_vec_push(&f->log, &ev);
}

static void test_workspace__foreign_source_events_only_advance_seq(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace_caller a = fx_as("a", "s1");
    cJSON_Delete(fx_call(&f, &a, "lock_file", "{\"file\":\"x.c\"}"));
    cJSON_Delete(fx_call(&f, &a, "create_task", "{\"taskId\":\"T\",\"title\":\"t\"}"));
    cJSON_Delete(fx_call(&f, &a, "claim_task", "{\"taskId\":\"T\"}"));
    cJSON *before = workspace_snapshot(f.ws);
    uint64_t seq = workspace_seq(f.ws);
    /* Every modelled type, from a foreign source: some would fail the fold
     * (unknown task, lease not held, bad shape), the others would change
     * the state. None does either. */
    fx_fold_foreign(&f, EVENT_TASK_COMPLETED, "backend", "{\"taskId\":\"NOPE\",\"agentId\":\"z\"}");
    fx_fold_foreign(&f, EVENT_TASK_COMPLETED, "backend", "{\"taskId\":\"T\",\"agentId\":\"a\"}");
    fx_fold_foreign(&f, EVENT_TASK_RELEASED, "backend", "{\"taskId\":\"T\",\"agentId\":\"a\"}");
    fx_fold_foreign(&f, EVENT_FILE_UNLOCKED, "backend",
                    "{\"file\":\"x.c\",\"agentId\":\"a\",\"token\":2}");
    fx_fold_foreign(&f, EVENT_FILE_LOCKED, "ci", "{\"file\":\"y.c\"}");
    fx_fold_foreign(&f, EVENT_AGENT_LEFT, "ci", "{\"agentId\":\"a\"}");
    fx_fold_foreign(&f, EVENT_AGENT_REGISTERED, "ci", "{}");
    fx_fold_foreign(&f, EVENT_TASK_CREATED, "ci", "{\"task\":{\"taskId\":\"F\"}}");
    fx_fold_foreign(&f, EVENT_HEALTH_STATUS, "backend", "{\"status\":\"healthy\"}");
    assert_true(workspace_seq(f.ws) == seq + 9);
    cJSON *after = workspace_snapshot(f.ws);
    cJSON_DeleteItemFromObject(before, "seq");
    cJSON_DeleteItemFromObject(after, "seq");
    char *sb = json_print(before), *sa = json_print(after);
    assert_string_equal(sa, sb);
    free(sa);
    free(sb);
    cJSON_Delete(before);
    cJSON_Delete(after);
    /* The same task:completed from the hub (or with no source, read as
     * the hub's) is folded, and refused for an unknown task. */
    struct event ev;
    event_init(&ev, EVENT_TASK_COMPLETED, f.now,
               fx_parse("{\"taskId\":\"NOPE\",\"agentId\":\"z\"}"));
    ev.seq = workspace_seq(f.ws) + 1;
    assert_int_equal(workspace_apply(f.ws, &ev), -ERR_INVALID);
    free(ev.source);
    ev.source = NULL;
    assert_int_equal(workspace_apply(f.ws, &ev), -ERR_INVALID);
    event_deinit(&ev);
    /* publish_event's events are the hub's: sourceId names the agent. */
    cJSON_Delete(fx_call(&f, &a, "publish_event", "{\"type\":\"x:y\",\"data\":{}}"));
    assert_string_equal(fx_last(&f)->source, EVENT_SOURCE_HUB);
    assert_true(event_is_hub(fx_last(&f)));
    fx_deinit(&f); /* the replay folds the foreign events the same way */
}

static void test_workspace__sessions_reset_after_log_rebuild(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    fx_register(&f, "a", "s1");
    struct workspace *w2 = workspace_new(&f.cfg);
    workspace_sessions_reset(w2, f.now + 1000);
    for (size_t i = 0; i < f.log.len; i++)
        assert_int_equal(workspace_apply(w2, &f.log.items[i]), 0);
    /* an agent known only from the log is detached no earlier than the reset */
    assert_int_equal(workspace_next_deadline(w2), f.now + 1000 + 30000);
    workspace_session_attach(w2, "a", "s1", f.now + 2000);
    assert_int_equal(workspace_next_deadline(w2), INT64_MAX);
    workspace_free(w2);
    fx_deinit(&f);
}

/* A case-folding workspace keys "SRC/A.c" and "src/a.C" alike and shows
 * the folded key; a case-sensitive one keeps them apart. */
static void test_workspace__fold_case_is_a_workspace_property(void **state)
{
    (void)state;
    struct fx f;
    struct workspace_config cfg = {.fold_case = true};
    fx_init_cfg(&f, &cfg);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    struct workspace_caller a = fx_as("a", "s1"), b = fx_as("b", "s2");
    cJSON *r = fx_call(&f, &a, "lock_file", "{\"file\":\"SRC/Api/Main.C\"}");
    fx_assert_str(r, "file", "src/api/main.c");
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"src/API/main.c\"}");
    assert_true(fx_bool(r, "success", false));
    fx_assert_str(r, "lockedBy", "a");
    cJSON_Delete(r);
    /* Absolute paths fold after the root is stripped; UTF-8 is kept. */
    r = fx_call(&f, &b, "check_lock", "{\"file\":\"/home/u/shop/Src/API/MAIN.c\"}");
    assert_true(fx_bool(r, "locked", true));
    fx_assert_str(r, "file", "src/api/main.c");
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"Docs/\xc3\x89t\xc3\xa9.MD\"}");
    fx_assert_str(r, "file", "docs/\xc3\x89t\xc3\xa9.md");
    cJSON_Delete(r);
    /* Patterns fold too and conflict across case. */
    r = fx_call(&f, &b, "lock_file", "{\"pattern\":\"SRC/**\"}");
    assert_true(fx_bool(r, "success", false));
    cJSON_Delete(r);
    r = fx_call(&f, &a, "unlock_file", "{\"file\":\"src/api/MAIN.c\"}");
    fx_assert_str(r, "file", "src/api/main.c");
    cJSON_Delete(r);
    fx_deinit(&f);

    /* The same calls on a case-sensitive workspace are two keys. */
    fx_init(&f);
    fx_register(&f, "a", "s1");
    fx_register(&f, "b", "s2");
    r = fx_call(&f, &a, "lock_file", "{\"file\":\"SRC/Api/Main.C\"}");
    fx_assert_str(r, "file", "SRC/Api/Main.C");
    cJSON_Delete(r);
    r = fx_call(&f, &b, "lock_file", "{\"file\":\"src/API/main.c\"}");
    assert_true(fx_bool(r, "success", true));
    cJSON_Delete(r);
    fx_deinit(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workspace__register_emits_event_and_attaches),
        cmocka_unit_test(test_workspace__fold_case_is_a_workspace_property),
        cmocka_unit_test(test_workspace__register_taken_id_is_uniquified),
        cmocka_unit_test(test_workspace__register_validates_arguments),
        cmocka_unit_test(test_workspace__detached_agent_goes_offline_after_grace),
        cmocka_unit_test(test_workspace__sessionless_agent_keeps_leases_until_ttl),
        cmocka_unit_test(test_workspace__keep_policy_keeps_leases_until_ttl),
        cmocka_unit_test(test_workspace__reregister_before_grace_resumes_without_leaving),
        cmocka_unit_test(test_workspace__offline_agent_resumes_with_its_tasks),
        cmocka_unit_test(test_workspace__resume_after_grace_regrants_task_leases),
        cmocka_unit_test(test_workspace__resume_regrants_extra_claim_files),
        cmocka_unit_test(test_workspace__old_task_claimed_without_extra_files_folds),
        cmocka_unit_test(test_workspace__remove_agent),
        cmocka_unit_test(test_workspace__sessionless_agent_goes_offline_with_its_last_lease),
        cmocka_unit_test(test_workspace__offline_agents_are_pruned_after_retention),
        cmocka_unit_test(test_workspace__prune_follows_claim_count_among_many_tasks),
        cmocka_unit_test(test_workspace__commit_cost_with_many_tasks),
        cmocka_unit_test(test_workspace__session_switch_detaches_previous_agent),
        cmocka_unit_test(test_workspace__set_agent_status),
        cmocka_unit_test(test_workspace__agent_id_argument_needs_ownership_or_admin),
        cmocka_unit_test(test_workspace__lock_grant_and_refusal),
        cmocka_unit_test(test_workspace__relock_renews_and_keeps_token),
        cmocka_unit_test(test_workspace__shared_and_exclusive_modes),
        cmocka_unit_test(test_workspace__patterns_conflict_with_files_and_patterns),
        cmocka_unit_test(test_workspace__file_names_are_literal),
        cmocka_unit_test(test_workspace__bad_paths_are_invalid_arguments),
        cmocka_unit_test(test_workspace__unlock_rules),
        cmocka_unit_test(test_workspace__expiry_by_tick_and_on_demand),
        cmocka_unit_test(test_workspace__waiter_granted_when_free_in_fifo_order),
        cmocka_unit_test(test_workspace__waiters_cancel_detach_and_cap),
        cmocka_unit_test(test_workspace__shared_waiters_granted_together),
        cmocka_unit_test(test_workspace__waiters_carried_into_rebuilt_workspace),
        cmocka_unit_test(test_workspace__waiter_requeue_keeps_fifo_place),
        cmocka_unit_test(test_workspace__carry_keeps_detach_times),
        cmocka_unit_test(test_workspace__renew_locks),
        cmocka_unit_test(test_workspace__check_lock_validates_tokens),
        cmocka_unit_test(test_workspace__list_locked_files_and_detect_conflicts),
        cmocka_unit_test(test_workspace__publish_event),
        cmocka_unit_test(test_workspace__status_json_shape),
        cmocka_unit_test(test_workspace__snapshot_restore_round_trip),
        cmocka_unit_test(test_workspace__apply_checks_order_and_shape),
        cmocka_unit_test(test_workspace__foreign_source_events_only_advance_seq),
        cmocka_unit_test(test_workspace__sessions_reset_after_log_rebuild),
        cmocka_unit_test(test_workspace__task_claimed_at_survives_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
