/* Unit tests for rest_args: query parameters typed by a tool's
 * inputSchema (integers, booleans, lists, strings, refusals naming the
 * parameter, the credential skipped) and task action paths. */
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
static int convert(const char *tool, const char *qs, cJSON **out, char **msg)
{
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    assert_int_equal(evhttp_parse_query_str(qs, &q), 0);
    const struct tool_def *t = tools_find(tool);
    assert_non_null(t);
    int rc = rest_query_args(t->input_schema, &q, out, msg);
    evhttp_clear_headers(&q);
    return rc;
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

static void test_rest_args__task_paths(void **state)
{
    (void)state;
    char *id = NULL;
    const char *action = NULL;
    assert_int_equal(rest_task_path("ARCH-002/claim", &id, &action), 0);
    assert_string_equal(id, "ARCH-002");
    assert_string_equal(action, "claim");
    free(id);
    assert_int_equal(rest_task_path("a%20b/complete", &id, &action), 0);
    assert_string_equal(id, "a b");
    assert_string_equal(action, "complete");
    free(id);
    assert_int_equal(rest_task_path("T/release", &id, &action), 0);
    assert_string_equal(action, "release");
    free(id);
    static const char *const bad[] = {
        "",          "T",           "/claim",     "T/",        "T/claimx", "T/claim/",
        "T/x/claim", "a%2Fb/claim", "a%00/claim", "a%2/claim", "a%/claim", "T/CLAIM",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        id = (char *)1;
        if (rest_task_path(bad[i], &id, &action) != -ERR_NOT_FOUND)
            fail_msg("'%s' accepted", bad[i]);
        assert_null(id);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rest_args__types_follow_the_schema),
        cmocka_unit_test(test_rest_args__refusals_name_the_parameter),
        cmocka_unit_test(test_rest_args__task_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
