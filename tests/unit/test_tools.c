/* test_tools — the coordination tool table, its schemas, the published
 * Tool objects, the argument validator's verdicts and messages, the
 * result validator and the anchored pattern matcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/schema_check.h"
#include "rpc/tools.h"

static const char *const expected_names[] = {
    "register_agent",       "set_agent_status",
    "list_agents",          "lock_file",
    "unlock_file",          "renew_locks",
    "check_lock",           "list_locked_files",
    "detect_conflicts",     "create_task",
    "find_available_tasks", "claim_task",
    "complete_task",        "release_task",
    "list_tasks",           "cancel_task",
    "reopen_task",          "update_task",
    "remove_agent",         "list_servers",
    "get_unified_health",   "get_coordination_status",
    "publish_event",        "wait_for_events",
};

#define N_EXPECTED (sizeof(expected_names) / sizeof(expected_names[0]))

static void test_tools__table_has_every_tool_in_order(void **state)
{
    (void)state;
    size_t n;
    const struct tool_def *all = tools_all(&n);
    assert_int_equal(n, N_EXPECTED);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(all[i].name, expected_names[i]);
        assert_ptr_equal(tools_find(expected_names[i]), &all[i]);
    }
    assert_null(tools_find("get_guidance"));
    assert_null(tools_find("lock_files"));
    assert_null(tools_find(""));
    assert_null(tools_find(NULL));
}

static void test_tools__schemas_parse_and_are_supported(void **state)
{
    (void)state;
    size_t n;
    const struct tool_def *all = tools_all(&n);
    for (size_t i = 0; i < n; i++) {
        const struct tool_def *t = &all[i];
        assert_non_null(t->title);
        assert_true(t->description && strlen(t->description) > 60);
        const char *texts[2] = {t->input_schema, t->output_schema};
        for (int k = 0; k < 2; k++) {
            cJSON *s = cJSON_Parse(texts[k]);
            if (!s)
                fail_msg("%s: %s schema does not parse", t->name, k ? "output" : "input");
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
            assert_true(cJSON_IsString(type));
            assert_string_equal(type->valuestring, "object");
            assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s, "properties")));
            char *msg = NULL;
            if (!schema_check_supported(s, &msg))
                fail_msg("%s: %s", t->name, msg);
            if (k == 0)
                assert_true(
                    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "additionalProperties")));
            /* No composition at the root: several clients reject it. */
            assert_null(cJSON_GetObjectItemCaseSensitive(s, "oneOf"));
            assert_null(cJSON_GetObjectItemCaseSensitive(s, "anyOf"));
            assert_null(cJSON_GetObjectItemCaseSensitive(s, "allOf"));
            cJSON_Delete(s);
        }
    }
}

static void test_tools__to_json_publishes_a_valid_tool(void **state)
{
    (void)state;
    size_t n;
    const struct tool_def *all = tools_all(&n);
    for (size_t i = 0; i < n; i++) {
        cJSON *t = tools_to_json(&all[i]);
        assert_string_equal(cJSON_GetObjectItem(t, "name")->valuestring, all[i].name);
        assert_string_equal(cJSON_GetObjectItem(t, "title")->valuestring, all[i].title);
        assert_true(cJSON_IsString(cJSON_GetObjectItem(t, "description")));
        const cJSON *in = cJSON_GetObjectItem(t, "inputSchema");
        const cJSON *out = cJSON_GetObjectItem(t, "outputSchema");
        assert_string_equal(cJSON_GetObjectItem(in, "type")->valuestring, "object");
        assert_string_equal(cJSON_GetObjectItem(out, "type")->valuestring, "object");
        char *text = cJSON_PrintUnformatted(t);
        assert_null(strstr(text, "x-exactlyOneOf")); /* vendor keyword stripped */
        free(text);
        const cJSON *ann = cJSON_GetObjectItem(t, "annotations");
        assert_true(cJSON_IsFalse(cJSON_GetObjectItem(ann, "openWorldHint")));
        assert_true(cJSON_IsBool(cJSON_GetObjectItem(ann, "readOnlyHint")));
        assert_true(cJSON_IsBool(cJSON_GetObjectItem(ann, "destructiveHint")));
        assert_true(cJSON_IsBool(cJSON_GetObjectItem(ann, "idempotentHint")));
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(ann, "readOnlyHint")), all[i].read_only);
        cJSON_Delete(t);
    }
    /* Spot-check the hints that matter to clients. */
    assert_true(tools_find("list_agents")->read_only);
    assert_true(tools_find("wait_for_events")->read_only);
    assert_false(tools_find("lock_file")->read_only);
    assert_true(tools_find("unlock_file")->destructive);
    assert_false(tools_find("create_task")->idempotent);
}

/* ---- argument validation --------------------------------------------------- */

static void expect_ok(const char *tool, const char *args_json)
{
    cJSON *args = args_json ? cJSON_Parse(args_json) : NULL;
    if (args_json && !args)
        fail_msg("bad test JSON: %s", args_json);
    char *msg = NULL;
    if (!tools_validate_args(tools_find(tool), args, &msg))
        fail_msg("%s %s rejected: %s", tool, args_json ? args_json : "(null)", msg);
    assert_null(msg);
    cJSON_Delete(args);
}

static void expect_bad(const char *tool, const char *args_json, const char *message)
{
    cJSON *args = cJSON_Parse(args_json);
    if (!args)
        fail_msg("bad test JSON: %s", args_json);
    char *msg = NULL;
    if (tools_validate_args(tools_find(tool), args, &msg))
        fail_msg("%s %s accepted", tool, args_json);
    if (strcmp(msg, message) != 0)
        fail_msg("%s %s:\n  got      '%s'\n  expected '%s'", tool, args_json, msg, message);
    free(msg);
    cJSON_Delete(args);
}

static void test_tools__accepts_good_arguments(void **state)
{
    (void)state;
    expect_ok("register_agent", NULL);
    expect_ok("register_agent", "{}");
    expect_ok("register_agent", "{\"agentId\":\"cursor-1a2b3c\",\"capabilities\":[\"rust\"],"
                                "\"mcpServers\":[\"github\"],\"status\":\"active\","
                                "\"metadata\":{\"ide\":\"cursor\",\"version\":\"1.2\"}}");
    expect_ok("register_agent", "{\"agentId\":\"a.b_c:d@e-f\"}");
    expect_ok("set_agent_status", "{\"status\":\"busy\",\"note\":\"refactoring\"}");
    expect_ok("list_agents", "{\"status\":\"offline\"}");
    expect_ok("lock_file", "{\"file\":\"src/api.rs\"}");
    expect_ok("lock_file", "{\"file\":\"app/[id]/page.tsx\",\"reason\":\"fix\",\"ttl\":1,"
                           "\"mode\":\"shared\",\"waitMs\":60000}");
    expect_ok("lock_file", "{\"pattern\":\"src/api/**\",\"ttl\":86400,\"waitMs\":0}");
    expect_ok("lock_file",
              "{\"file\":\"a.c\",\"pattern\":null,\"reason\":null}"); /* null = absent */
    expect_ok("lock_file", "{\"file\":\"a.c\",\"ttl\":60.0}");        /* integral */
    expect_ok("unlock_file", "{\"pattern\":\"*.rs\",\"force\":true}");
    expect_ok("renew_locks", "{}");
    expect_ok("renew_locks", "{\"files\":[\"a\",\"b\"],\"ttl\":600}");
    expect_ok("check_lock", "{\"file\":\"a\",\"token\":1042}");
    expect_ok("list_locked_files", "{\"agentId\":\"claude-1\"}");
    expect_ok("detect_conflicts", "{\"files\":[\"a\"],\"patterns\":[\"b/**\"]}");
    expect_ok("create_task", "{\"taskId\":\"ARCH-002\",\"title\":\"Split the API\","
                             "\"description\":\"…\",\"files\":[\"a\"],\"patterns\":[\"b/*\"],"
                             "\"capabilities\":[\"rust\"],\"dependsOn\":[\"ARCH-001\"],"
                             "\"priority\":-5}");
    expect_ok("find_available_tasks", "{\"capabilities\":[\"ts\"],\"limit\":1000}");
    expect_ok("claim_task", "{\"taskId\":\"T1\",\"files\":[\"extra.c\"]}");
    expect_ok("complete_task", "{\"taskId\":\"T1\",\"result\":\"done\"}");
    expect_ok("complete_task", "{\"taskId\":\"T1\",\"result\":{\"tests\":12}}");
    expect_ok("release_task", "{\"taskId\":\"T1\",\"reason\":\"blocked\",\"failed\":true}");
    expect_ok("list_tasks", "{\"status\":\"cancelled\",\"agentId\":\"x\"}");
    expect_ok("list_servers", "{}");
    expect_ok("get_unified_health", NULL);
    expect_ok("get_coordination_status", "{}");
    expect_ok("publish_event", "{\"type\":\"build:failed\",\"data\":{\"job\":7}}");
    expect_ok("wait_for_events", "{\"since\":\"1042\",\"types\":[\"file:*\"],\"timeoutMs\":0,"
                                 "\"limit\":1}");
    expect_ok("wait_for_events", "{\"since\":0}");
}

static void test_tools__rejects_each_kind_of_bad_argument(void **state)
{
    (void)state;
    const char *ttl = "argument 'ttl': must be an integer between 1 and 86400";
    expect_bad("lock_file", "{\"file\":\"a\",\"ttl\":0}", ttl);
    expect_bad("lock_file", "{\"file\":\"a\",\"ttl\":86401}", ttl);
    expect_bad("lock_file", "{\"file\":\"a\",\"ttl\":1.5}", ttl);
    expect_bad("lock_file", "{\"file\":\"a\",\"ttl\":\"60\"}", ttl);
    expect_bad("lock_file", "{\"file\":\"a\",\"waitMs\":60001}",
               "argument 'waitMs': must be an integer between 0 and 60000");
    expect_bad("lock_file", "{\"fiel\":\"a\"}", "unknown argument 'fiel'");
    expect_bad("lock_file", "{}", "exactly one of 'file' or 'pattern' is required (got neither)");
    expect_bad("lock_file", "{\"file\":\"a\",\"pattern\":\"b\"}",
               "exactly one of 'file' or 'pattern' is required (got more than one)");
    expect_bad("unlock_file", "{\"force\":true}",
               "exactly one of 'file' or 'pattern' is required (got neither)");
    expect_bad("lock_file", "{\"file\":\"a\",\"mode\":\"EXCLUSIVE\"}",
               "argument 'mode': must be one of exclusive, shared");
    expect_bad("lock_file", "{\"file\":\"\"}",
               "argument 'file': must be a string of 1 to 4096 characters");
    expect_bad("lock_file", "{\"file\":7}",
               "argument 'file': must be a string of 1 to 4096 characters");
    expect_bad("unlock_file", "{\"file\":\"a\",\"force\":\"yes\"}",
               "argument 'force': must be a boolean");
    expect_bad("set_agent_status", "{}", "missing required argument 'status'");
    expect_bad("set_agent_status", "{\"status\":null}", "missing required argument 'status'");
    expect_bad("set_agent_status", "{\"status\":\"offline\"}",
               "argument 'status': must be one of active, idle, busy");
    expect_bad("register_agent", "{\"agentId\":\"has space\"}",
               "argument 'agentId': must be a string matching ^[A-Za-z0-9._:@-]{1,128}$");
    expect_bad("register_agent", "{\"agentId\":\"\"}",
               "argument 'agentId': must be a string matching ^[A-Za-z0-9._:@-]{1,128}$");
    expect_bad("register_agent", "{\"agentId\":\"é\"}",
               "argument 'agentId': must be a string matching ^[A-Za-z0-9._:@-]{1,128}$");
    expect_bad("register_agent", "{\"capabilities\":\"rust\"}",
               "argument 'capabilities': must be an array of at most 64 items");
    expect_bad("register_agent", "{\"capabilities\":[\"rust\",3]}",
               "argument 'capabilities[1]': must be a string of 1 to 64 characters");
    expect_bad("register_agent", "{\"metadata\":[]}",
               "argument 'metadata': must be an object with at most 32 properties");
    expect_bad("create_task", "{}", "missing required argument 'title'");
    expect_bad("create_task", "{\"title\":\"t\",\"priority\":2.5}",
               "argument 'priority': must be an integer between -1000000 and 1000000");
    expect_bad("create_task", "{\"title\":\"t\",\"dependsOn\":[\"ok\",\"bad id\"]}",
               "argument 'dependsOn[1]': must be a string matching ^[A-Za-z0-9._:@-]{1,128}$");
    expect_bad("find_available_tasks", "{\"limit\":0}",
               "argument 'limit': must be an integer between 1 and 1000");
    expect_bad("check_lock", "{\"file\":\"a\",\"token\":-1}",
               "argument 'token': must be an integer >= 0");
    expect_bad("list_tasks", "{\"status\":\"done\"}",
               "argument 'status': must be one of open, claimed, completed, failed, cancelled");
    expect_bad("complete_task", "{\"taskId\":\"T\",\"result\":5}",
               "argument 'result': must be a string or an object");
    expect_bad("publish_event", "{\"type\":\"nocolon\",\"data\":{}}",
               "argument 'type': must be a string of at most 64 characters matching "
               "^[a-z0-9_.-]{1,63}:[a-z0-9_.-]{1,63}$");
    expect_bad("publish_event", "{\"type\":\"a:b\"}", "missing required argument 'data'");
    expect_bad("wait_for_events", "{\"since\":\"-1\"}",
               "argument 'since': must be an integer >= 0 or a string matching ^[0-9]{1,20}$");
    expect_bad("wait_for_events", "{\"since\":-1}",
               "argument 'since': must be an integer >= 0 or a string matching ^[0-9]{1,20}$");
    expect_bad("wait_for_events", "{\"types\":[\"\"]}",
               "argument 'types[0]': must be a string of 1 to 130 characters");
    expect_bad("list_servers", "{\"verbose\":true}", "unknown argument 'verbose'");
    expect_bad("list_servers", "[]", "arguments must be an object");
    expect_bad("list_servers", "\"x\"", "arguments must be an object");
}

static void test_tools__limits_are_exact(void **state)
{
    (void)state;
    /* 1000 files pass, 1001 fail. */
    cJSON *args = cJSON_CreateObject();
    cJSON *files = cJSON_AddArrayToObject(args, "files");
    for (int i = 0; i < 1000; i++)
        cJSON_AddItemToArray(files, cJSON_CreateString("f"));
    char *msg = NULL;
    assert_true(tools_validate_args(tools_find("renew_locks"), args, &msg));
    cJSON_AddItemToArray(files, cJSON_CreateString("f"));
    assert_false(tools_validate_args(tools_find("renew_locks"), args, &msg));
    assert_string_equal(msg, "argument 'files': must be an array of at most 1000 items");
    free(msg);
    cJSON_Delete(args);

    /* agentId: 128 characters pass, 129 fail. */
    char id[140];
    memset(id, 'a', 129);
    id[128] = '\0';
    args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "agentId", id);
    assert_true(tools_validate_args(tools_find("register_agent"), args, &msg));
    cJSON_Delete(args);
    id[128] = 'a';
    id[129] = '\0';
    args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "agentId", id);
    assert_false(tools_validate_args(tools_find("register_agent"), args, &msg));
    free(msg);
    cJSON_Delete(args);

    /* Length counts characters, not bytes: 64 two-byte characters pass. */
    char cap[200];
    for (int i = 0; i < 64; i++)
        memcpy(cap + 2 * i, "\xC3\xA9", 2);
    cap[128] = '\0';
    args = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(args, "capabilities"), cJSON_CreateString(cap));
    assert_true(tools_validate_args(tools_find("register_agent"), args, &msg));
    cJSON_Delete(args);

    /* metadata: 32 properties pass, 33 fail. */
    args = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(args, "metadata");
    for (int i = 0; i < 33; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        if (i == 32) {
            assert_true(tools_validate_args(tools_find("register_agent"), args, &msg));
        }
        cJSON_AddNumberToObject(meta, k, i);
    }
    assert_false(tools_validate_args(tools_find("register_agent"), args, &msg));
    assert_string_equal(msg, "argument 'metadata': must be an object with at most 32 properties");
    free(msg);
    cJSON_Delete(args);
}

static void test_tools__echoed_names_are_truncated(void **state)
{
    (void)state;
    char key[2000];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    cJSON *args = cJSON_CreateObject();
    cJSON_AddTrueToObject(args, key);
    char *msg = NULL;
    assert_false(tools_validate_args(tools_find("list_servers"), args, &msg));
    assert_true(strlen(msg) < 100);
    assert_non_null(strstr(msg, "unknown argument 'kkkk"));
    assert_non_null(strstr(msg, "...'"));
    free(msg);
    cJSON_Delete(args);
}

/* ---- results ---------------------------------------------------------------- */

static void expect_result(const char *tool, const char *json, const char *message)
{
    cJSON *v = cJSON_Parse(json);
    if (!v)
        fail_msg("bad test JSON: %s", json);
    char *msg = NULL;
    bool ok = tools_validate_result(tools_find(tool), v, &msg);
    if (!message && !ok)
        fail_msg("%s result %s rejected: %s", tool, json, msg);
    if (message) {
        if (ok)
            fail_msg("%s result %s accepted", tool, json);
        assert_string_equal(msg, message);
    }
    free(msg);
    cJSON_Delete(v);
}

static void test_tools__results_match_output_schemas(void **state)
{
    (void)state;
    expect_result("register_agent", "{\"agentId\":\"a\",\"sessionId\":\"s\",\"renamed\":true}",
                  NULL);
    expect_result("lock_file",
                  "{\"success\":true,\"locked\":true,\"file\":\"a\",\"token\":1042,"
                  "\"expiresAt\":\"2026-11-24T21:14:31.123Z\",\"mode\":\"exclusive\"}",
                  NULL);
    expect_result("lock_file",
                  "{\"success\":false,\"locked\":true,\"file\":\"a\",\"lockedBy\":\"b\","
                  "\"reason\":\"editing\",\"error\":\"locked by another agent\"}",
                  NULL);
    expect_result("lock_file", "{\"success\":true,\"locked\":true,\"token\":\"1042\"}",
                  "result 'token': must be an integer");
    expect_result("lock_file", "{\"locked\":true}", "result: missing required property 'success'");
    expect_result("check_lock", "{\"locked\":false}", NULL);
    expect_result("list_locked_files",
                  "{\"locks\":[{\"file\":\"a\",\"agentId\":\"b\",\"reason\":null,\"mode\":"
                  "\"shared\",\"token\":3,\"lockedAt\":\"t\",\"expiresAt\":\"t\"}]}",
                  NULL);
    expect_result("list_locked_files",
                  "{\"locks\":[{\"file\":\"a\",\"agentId\":\"b\",\"token\":1.5}]}",
                  "result 'locks[0].token': must be an integer");
    expect_result("detect_conflicts", "{\"hasConflicts\":false,\"conflicts\":[]}", NULL);
    expect_result("create_task",
                  "{\"task\":{\"taskId\":\"T1\",\"title\":\"x\",\"status\":\"open\",\"files\":[],"
                  "\"priority\":0,\"claimedBy\":null,\"createdAt\":\"t\"}}",
                  NULL);
    expect_result("claim_task",
                  "{\"success\":true,\"task\":{\"taskId\":\"T1\",\"status\":\"claimed\"},"
                  "\"locks\":[{\"file\":\"a\",\"token\":9}]}",
                  NULL);
    expect_result("complete_task",
                  "{\"success\":true,\"task\":{\"taskId\":\"T1\",\"status\":\"completed\"},"
                  "\"unlockedFiles\":[\"a\"]}",
                  NULL);
    expect_result("get_coordination_status",
                  "{\"enabled\":true,\"activeAgents\":[\"a\"],\"lockedFiles\":[],\"activeTasks\":"
                  "[],\"systemHealth\":\"healthy\",\"details\":{}}",
                  NULL);
    expect_result("get_unified_health",
                  "{\"overall\":\"healthy\",\"hub\":{\"status\":\"healthy\"},\"store\":\"ok\","
                  "\"servers\":[]}",
                  NULL);
    expect_result("publish_event", "{\"id\":\"1043\"}", NULL);
    expect_result("wait_for_events",
                  "{\"events\":[{\"id\":\"1042\",\"type\":\"file:locked\",\"source\":"
                  "\"agent-coordination\",\"timestamp\":\"t\",\"data\":{}}],\"lastId\":\"1042\"}",
                  NULL);
    expect_result("wait_for_events", "{\"events\":[{\"type\":\"file:locked\"}]}",
                  "result 'events[0]': missing required property 'id'");
}

/* ---- schema machinery ---------------------------------------------------- */

static int match(const char *pat, const char *s)
{
    return schema_pattern_match(pat, s, strlen(s));
}

static void test_tools__pattern_matcher(void **state)
{
    (void)state;
    assert_int_equal(match("^[A-Za-z0-9._:@-]{1,128}$", "cursor-1a2b3c"), 1);
    assert_int_equal(match("^[A-Za-z0-9._:@-]{1,128}$", ""), 0);
    assert_int_equal(match("^[A-Za-z0-9._:@-]{1,128}$", "a/b"), 0);
    assert_int_equal(match("^[a-z]+:[a-z*]+$", "file:*"), 1);
    assert_int_equal(match("^[a-z]+:[a-z*]+$", "file:"), 0);
    assert_int_equal(match("^[a-z]+:[a-z*]+$", "file:a:b"), 0);
    assert_int_equal(match("^ab?c*d{2}e{1,}$", "addeee"), 1);
    assert_int_equal(match("^ab?c*d{2}e{1,}$", "abcccdde"), 1);
    assert_int_equal(match("^ab?c*d{2}e{1,}$", "abdde"), 1);
    assert_int_equal(match("^ab?c*d{2}e{1,}$", "abde"), 0);
    assert_int_equal(match("^\\.[\\]\\-]$", ".]"), 1);
    assert_int_equal(match("^\\.[\\]\\-]$", ".-"), 1);
    assert_int_equal(match("^\\.[\\]\\-]$", "x-"), 0);
    assert_int_equal(match("^[a-]*$", "a-a"), 1);
    assert_int_equal(match("^[a]{2}[a]*$", "a"), 0); /* backtracking across atoms */
    assert_int_equal(match("^[a]*[a]{2}$", "aaaa"), 1);
    /* Unsupported syntax is reported, never silently matched. */
    assert_int_equal(match("[a-z]+", "abc"), -1);  /* unanchored */
    assert_int_equal(match("^a|b$", "a"), -1);     /* alternation */
    assert_int_equal(match("^(ab)+$", "ab"), -1);  /* groups */
    assert_int_equal(match("^\\d+$", "1"), -1);    /* class escapes */
    assert_int_equal(match("^[^a]$", "b"), -1);    /* negated class */
    assert_int_equal(match("^.$", "b"), -1);       /* dot */
    assert_int_equal(match("^a{2,1}$", "aa"), -1); /* bad bounds */
    assert_int_equal(match("^[z-a]$", "a"), -1);   /* bad range */
    assert_int_equal(match("^[ab$", "a"), -1);     /* open class */
    assert_int_equal(match("^a**$", "a"), -1);     /* double quantifier */
}

static void expect_unsupported(const char *schema_json, const char *needle)
{
    cJSON *s = cJSON_Parse(schema_json);
    assert_non_null(s);
    char *msg = NULL;
    assert_false(schema_check_supported(s, &msg));
    if (!strstr(msg, needle))
        fail_msg("'%s' for %s, expected '%s'", msg, schema_json, needle);
    free(msg);
    cJSON_Delete(s);
}

static void test_tools__schema_self_check(void **state)
{
    (void)state;
    expect_unsupported("{\"type\":\"object\",\"oneOf\":[]}", "unsupported keyword 'oneOf'");
    expect_unsupported("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\","
                       "\"format\":\"uri\"}}}",
                       "unsupported keyword 'format' at '/a'");
    expect_unsupported("{\"type\":\"strin\"}", "bad value of 'type'");
    expect_unsupported("{\"type\":\"string\",\"pattern\":\"^(a)$\"}", "pattern");
    expect_unsupported("{\"type\":\"object\",\"properties\":{},\"required\":[\"a\"]}",
                       "undeclared property");
    expect_unsupported("{\"type\":\"object\",\"properties\":{\"a\":{}},"
                       "\"x-exactlyOneOf\":[\"a\",\"b\"]}",
                       "undeclared property");
    expect_unsupported("{\"type\":\"array\",\"maxItems\":-1}", "bad value of 'maxItems'");
}

/* A host rewrites exactly the arguments a tool marks as paths: the marks
 * follow the input schemas, so a new path argument cannot be missed. */
static void test_tools__path_arguments_are_marked(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        unsigned bit;
    } args[] = {{"file", TOOL_PATH_FILE},
                {"pattern", TOOL_PATH_PATTERN},
                {"files", TOOL_PATH_FILES},
                {"patterns", TOOL_PATH_PATTERNS}};
    size_t n = 0;
    const struct tool_def *all = tools_all(&n);
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *schema = cJSON_Parse(all[i].input_schema);
        const cJSON *props = cJSON_GetObjectItem(schema, "properties");
        for (size_t k = 0; k < sizeof(args) / sizeof(args[0]); k++) {
            bool has = cJSON_GetObjectItemCaseSensitive(props, args[k].name) != NULL;
            bool marked = (all[i].paths & args[k].bit) != 0;
            if (has != marked)
                fail_msg("%s: argument '%s' %s", all[i].name, args[k].name,
                         has ? "is not marked as a path" : "is marked but absent");
        }
        seen |= all[i].paths;
        cJSON_Delete(schema);
    }
    assert_int_equal(seen,
                     TOOL_PATH_FILE | TOOL_PATH_PATTERN | TOOL_PATH_FILES | TOOL_PATH_PATTERNS);
}

/* What a host needs to run a tool is in its definition and agrees with
 * its schema: the argument a streaming tool waits by is one of its
 * properties; a tool acting for an agent is a core op; only tools that
 * need the store write (every tool that is not read-only needs it). */
static void test_tools__run_flags_agree_with_the_schemas(void **state)
{
    (void)state;
    size_t n = 0;
    const struct tool_def *all = tools_all(&n);
    size_t streaming = 0;
    for (size_t i = 0; i < n; i++) {
        const struct tool_def *t = &all[i];
        if (t->wait_arg) {
            assert_true(t->streams);
            cJSON *schema = cJSON_Parse(t->input_schema);
            const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
            assert_non_null(cJSON_GetObjectItemCaseSensitive(props, t->wait_arg));
            cJSON_Delete(schema);
        }
        if (t->needs_agent)
            assert_true(t->core_op);
        if (!t->read_only)
            assert_true(t->needs_store);
        streaming += t->streams;
    }
    assert_true(tools_find("wait_for_events")->streams);
    assert_null(tools_find("wait_for_events")->wait_arg);
    assert_string_equal(tools_find("lock_file")->wait_arg, "waitMs");
    assert_int_equal(streaming, 2);
    assert_false(tools_find("get_unified_health")->needs_store);
    assert_false(tools_find("list_servers")->needs_store);
    assert_true(tools_find("wait_for_events")->needs_store);
}

/* Every op of the core is carried by exactly one tool, and a tool carries
 * no op the core lacks: the core dispatches by op, never by name. */
static void test_tools__core_ops_are_carried_once(void **state)
{
    (void)state;
    size_t n;
    const struct tool_def *all = tools_all(&n);
    int carried[WORKSPACE_OP_COUNT_] = {0};
    size_t core = 0;
    for (size_t i = 0; i < n; i++) {
        if (!all[i].core_op)
            continue;
        assert_true((unsigned)all[i].core_op < WORKSPACE_OP_COUNT_);
        carried[all[i].core_op]++;
        core++;
    }
    for (int op = WORKSPACE_OP_NONE + 1; op < WORKSPACE_OP_COUNT_; op++)
        assert_int_equal(carried[op], 1);
    assert_int_equal(core, WORKSPACE_OP_COUNT_ - 1);
    assert_int_equal(tools_find(TOOL_LOCK_FILE)->core_op, WORKSPACE_OP_LOCK_FILE);
    assert_string_equal(tools_find(TOOL_WAIT_FOR_EVENTS)->name, "wait_for_events");
    assert_int_equal(tools_find(TOOL_WAIT_FOR_EVENTS)->core_op, WORKSPACE_OP_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tools__table_has_every_tool_in_order),
        cmocka_unit_test(test_tools__schemas_parse_and_are_supported),
        cmocka_unit_test(test_tools__to_json_publishes_a_valid_tool),
        cmocka_unit_test(test_tools__accepts_good_arguments),
        cmocka_unit_test(test_tools__rejects_each_kind_of_bad_argument),
        cmocka_unit_test(test_tools__limits_are_exact),
        cmocka_unit_test(test_tools__echoed_names_are_truncated),
        cmocka_unit_test(test_tools__results_match_output_schemas),
        cmocka_unit_test(test_tools__pattern_matcher),
        cmocka_unit_test(test_tools__schema_self_check),
        cmocka_unit_test(test_tools__path_arguments_are_marked),
        cmocka_unit_test(test_tools__run_flags_agree_with_the_schemas),
        cmocka_unit_test(test_tools__core_ops_are_carried_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
