/* Unit tests for rest_args: query parameters typed by a tool's
 * inputSchema (integers, booleans, lists, strings, refusals naming the
 * parameter, the credential skipped, a renamed parameter) and endpoint
 * path patterns with their captured segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cmocka.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api/rest_args.h"
#include "rpc/tools.h"

/* Parse qs as a query string and convert it for tool. */
static int convert_alias(const char *tool, const char *qs, const struct rest_alias *alias,
                         cJSON **out, char **msg)
{
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    assert_int_equal(evhttp_parse_query_str(qs, &q), 0);
    const struct tool_def *t = tools_find(tool);
    assert_non_null(t);
    int rc = rest_query_args(t->input_schema, &q, alias, out, msg);
    evhttp_clear_headers(&q);
    return rc;
}

static int convert(const char *tool, const char *qs, cJSON **out, char **msg)
{
    return convert_alias(tool, qs, NULL, out, msg);
}

static void test_rest_args__types_follow_the_schema(void **state)
{
    (void)state;
    cJSON *a = NULL;
    char *msg = NULL;
    assert_int_equal(
        convert("unlock_file", "file=src/a%20b.c&force=true&agentId=bob&token=x", &a, &msg), 0);
    assert_null(msg);
    assert_string_equal(cJSON_GetObjectItem(a, "file")->valuestring, "src/a b.c");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(a, "force")));
    assert_string_equal(cJSON_GetObjectItem(a, "agentId")->valuestring, "bob");
    assert_null(cJSON_GetObjectItem(a, "token")); /* the credential is not an argument */
    cJSON_Delete(a);

    assert_int_equal(
        convert("wait_for_events", "since=42&types=file:*,,task:completed&limit=5", &a, &msg), 0);
    /* since is ["integer","string"]: kept as the string the tool accepts */
    assert_string_equal(cJSON_GetObjectItem(a, "since")->valuestring, "42");
    const cJSON *types = cJSON_GetObjectItem(a, "types");
    assert_int_equal(cJSON_GetArraySize(types), 2);
    assert_string_equal(cJSON_GetArrayItem(types, 0)->valuestring, "file:*");
    assert_string_equal(cJSON_GetArrayItem(types, 1)->valuestring, "task:completed");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(a, "limit")));
    assert_int_equal(cJSON_GetObjectItem(a, "limit")->valueint, 5);
    cJSON_Delete(a);

    assert_int_equal(convert("list_agents", "", &a, &msg), 0);
    assert_int_equal(cJSON_GetArraySize(a), 0);
    cJSON_Delete(a);
}

static void test_rest_args__refusals_name_the_parameter(void **state)
{
    (void)state;
    static const struct {
        const char *tool, *qs, *needle;
    } cases[] = {
        {"wait_for_events", "limit=5x", "query parameter 'limit': must be an integer"},
        {"wait_for_events", "limit=", "query parameter 'limit': must be an integer"},
        {"unlock_file", "force=yes", "query parameter 'force': must be true or false"},
        {"list_agents", "bogus=1", "query parameter 'bogus': not accepted here"},
        {"list_tasks", "status=open&status=claimed", "'status': given more than once"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *a = (cJSON *)1;
        char *msg = NULL;
        assert_int_equal(convert(cases[i].tool, cases[i].qs, &a, &msg), -ERR_INVALID);
        assert_null(a);
        assert_non_null(msg);
        if (!strstr(msg, cases[i].needle))
            fail_msg("case %zu: '%s' lacks '%s'", i, msg, cases[i].needle);
        free(msg);
    }
}

static void test_rest_args__a_renamed_parameter(void **state)
{
    (void)state;
    static const struct rest_alias fencing = {"fencingToken", "token"};
    cJSON *a = NULL;
    char *msg = NULL;
    /* token stays the credential; fencingToken carries the argument */
    assert_int_equal(
        convert_alias("check_lock", "token=secret&fencingToken=17", &fencing, &a, &msg), 0);
    assert_null(msg);
    assert_int_equal(cJSON_GetArraySize(a), 1);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(a, "token")));
    assert_int_equal(cJSON_GetObjectItem(a, "token")->valueint, 17);
    cJSON_Delete(a);
    assert_int_equal(convert_alias("check_lock", "fencingToken=x", &fencing, &a, &msg),
                     -ERR_INVALID);
    assert_null(a);
    assert_string_equal(msg, "query parameter 'fencingToken': must be an integer");
    free(msg);
    assert_int_equal(
        convert_alias("check_lock", "fencingToken=1&fencingToken=2", &fencing, &a, &msg),
        -ERR_INVALID);
    assert_non_null(strstr(msg, "'fencingToken': given more than once"));
    free(msg);
    /* without the alias the parameter is unknown */
    assert_int_equal(convert("check_lock", "fencingToken=1", &a, &msg), -ERR_INVALID);
    assert_string_equal(msg, "query parameter 'fencingToken': not accepted here");
    free(msg);
    /* an alias whose argument name is not the credential refuses that name */
    static const struct rest_alias lim = {"max", "limit"};
    assert_int_equal(convert_alias("find_available_tasks", "limit=3", &lim, &a, &msg),
                     -ERR_INVALID);
    assert_string_equal(msg, "query parameter 'limit': not accepted here; use 'max'");
    free(msg);
    assert_int_equal(convert_alias("find_available_tasks", "max=3", &lim, &a, &msg), 0);
    assert_int_equal(cJSON_GetObjectItem(a, "limit")->valueint, 3);
    cJSON_Delete(a);
}

static void test_rest_args__path_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *path, *name, *value;
    } good[] = {
        {"tasks/{taskId}/claim", "tasks/ARCH-002/claim", "taskId", "ARCH-002"},
        {"tasks/{taskId}/complete", "tasks/a%20b/complete", "taskId", "a b"},
        /* the rest of the path, slashes (raw or encoded) included */
        {"locks/{file*}", "locks/src/a%20b/c.c", "file", "src/a b/c.c"},
        {"locks/{file*}", "locks/src%2Fx.c", "file", "src/x.c"},
        {"agents/{agentId}/status", "agents/bob/status", "agentId", "bob"},
        {"tasks", "tasks", NULL, NULL},
        {"tasks/available", "tasks/available", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cJSON *c = rest_path_match(good[i].pattern, good[i].path);
        if (!c)
            fail_msg("'%s' did not match '%s'", good[i].path, good[i].pattern);
        assert_int_equal(cJSON_GetArraySize(c), good[i].name ? 1 : 0);
        if (good[i].name) {
            const cJSON *v = cJSON_GetObjectItem(c, good[i].name);
            assert_true(cJSON_IsString(v));
            assert_string_equal(v->valuestring, good[i].value);
        }
        cJSON_Delete(c);
    }

    static const struct {
        const char *pattern, *path;
    } bad[] = {
        {"tasks/{taskId}/claim", ""},
        {"tasks/{taskId}/claim", "ARCH-002/claim"},
        {"tasks/{taskId}/claim", "tasks/T"},
        {"tasks/{taskId}/claim", "tasks//claim"},
        {"tasks/{taskId}/claim", "tasks/T/"},
        {"tasks/{taskId}/claim", "tasks/T/claimx"},
        {"tasks/{taskId}/claim", "tasks/T/claim/"},
        {"tasks/{taskId}/claim", "tasks/T/x/claim"},
        {"tasks/{taskId}/claim", "tasks/a%2Fb/claim"},
        {"tasks/{taskId}/claim", "tasks/a%00/claim"},
        {"tasks/{taskId}/claim", "tasks/a%2/claim"},
        {"tasks/{taskId}/claim", "tasks/a%/claim"},
        {"tasks/{taskId}/claim", "tasks/T/CLAIM"},
        {"tasks", "tasks/"},
        {"tasks", "task"},
        {"tasks/available", "tasks"},
        {"locks/{file*}", "locks"},
        {"locks/{file*}", "locks/"},
        {"locks/{file*}", "locks/a%00b"},
        {"locks/{file*}", "locks/a%zz"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *c = rest_path_match(bad[i].pattern, bad[i].path);
        if (c)
            fail_msg("'%s' matched '%s'", bad[i].path, bad[i].pattern);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rest_args__types_follow_the_schema),
        cmocka_unit_test(test_rest_args__refusals_name_the_parameter),
        cmocka_unit_test(test_rest_args__a_renamed_parameter),
        cmocka_unit_test(test_rest_args__path_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
