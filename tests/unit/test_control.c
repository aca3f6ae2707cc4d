/* test_control — the socket's control lines (rpc/control.c): every kind
 * built and parsed back to the same message, the lines the hub and its
 * clients send recognised, and each refusal (not JSON, U+0000, duplicate
 * key, over the bound, no or an unknown kind, a missing or ill-typed
 * member) with its error code and message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/json.h"
#include "rpc/control.h"

/* Build m, check the line is one line of JSON ending in a newline, and
 * parse it back (as a request or a reply) into *out. */
static char *round_trip(const struct control_msg *m, bool request, struct control_msg *out)
{
    char *line = control_build(m);
    assert_non_null(line);
    size_t n = strlen(line);
    assert_true(n > 1 && line[n - 1] == '\n');
    assert_null(memchr(line, '\n', n - 1));
    assert_true(control_is_line(line, n - 1));
    struct control_error e;
    int rc = request ? control_parse_request(line, n - 1, out, &e)
                     : control_parse_reply(line, n - 1, out, &e);
    if (rc)
        fail_msg("%s: %s", line, e.message);
    assert_int_equal(out->kind, m->kind);
    return line;
}

static void test_control__attach_and_resume_round_trip(void **state)
{
    (void)state;
    cJSON *init =
        cJSON_Parse("{\"protocolVersion\":\"2025-11-25\",\"clientInfo\":{\"name\":\"x\"}}");
    enum control_kind kinds[] = {CONTROL_ATTACH, CONTROL_RESUME};
    for (size_t i = 0; i < 2; i++) {
        struct control_msg m = {.kind = kinds[i]};
        m.u.attach = (struct control_attach){
            .cwd = "/work/repo", .agent = "alice", .agent_id = "alice-2", .init = init};
        struct control_msg p;
        char *line = round_trip(&m, true, &p);
        assert_string_equal(p.u.attach.cwd, "/work/repo");
        assert_string_equal(p.u.attach.agent, "alice");
        assert_string_equal(p.u.attach.agent_id, "alice-2");
        assert_true(cJSON_Compare(p.u.attach.init, init, 1));
        assert_null(p.token);
        control_msg_free(&p);
        assert_null(p.root);
        control_line_free(line);
        /* Every member is optional. */
        struct control_msg bare = {.kind = kinds[i]};
        line = round_trip(&bare, true, &p);
        assert_string_equal(line,
                            i == 0 ? "{\"coordhub\":\"attach\"}\n" : "{\"coordhub\":\"resume\"}\n");
        assert_null(p.u.attach.cwd);
        assert_null(p.u.attach.init);
        control_msg_free(&p);
        control_line_free(line);
    }
    cJSON_Delete(init);
}

static void test_control__admin_and_stop_carry_the_token(void **state)
{
    (void)state;
    enum control_kind kinds[] = {CONTROL_ADMIN, CONTROL_STOP};
    for (size_t i = 0; i < 2; i++) {
        struct control_msg m = {.kind = kinds[i], .token = "0123abcd"};
        struct control_msg p;
        char *line = round_trip(&m, true, &p);
        assert_true(p.token_given);
        assert_string_equal(p.token, "0123abcd");
        control_msg_free(&p);
        control_line_free(line);
    }
    /* Without a token the line still parses: the hub refuses it as
     * unauthorized, never as malformed. */
    struct control_msg p;
    struct control_error e;
    const char *none = "{\"coordhub\":\"admin\"}";
    assert_int_equal(control_parse_request(none, strlen(none), &p, &e), 0);
    assert_false(p.token_given);
    assert_null(p.token);
    control_msg_free(&p);
    const char *num = "{\"coordhub\":\"stop\",\"token\":12}";
    assert_int_equal(control_parse_request(num, strlen(num), &p, &e), 0);
    assert_int_equal(p.kind, CONTROL_STOP);
    assert_true(p.token_given);
    assert_null(p.token);
    control_msg_free(&p);
}

static void test_control__key_requests_round_trip(void **state)
{
    (void)state;
    struct control_msg m = {.kind = CONTROL_KEY, .token = "t0k"};
    m.u.key = (struct control_key){.op = CONTROL_KEY_CREATE,
                                   .name = "ci",
                                   .publish = "build:*",
                                   .subscribe = "task:*",
                                   .state = "read",
                                   .has_rate = true,
                                   .rate = 2.5,
                                   .has_burst = true,
                                   .burst = 7,
                                   .require_signature = true};
    struct control_msg p;
    char *line = round_trip(&m, true, &p);
    assert_int_equal(p.u.key.op, CONTROL_KEY_CREATE);
    assert_string_equal(p.u.key.name, "ci");
    assert_string_equal(p.u.key.publish, "build:*");
    assert_string_equal(p.u.key.subscribe, "task:*");
    assert_string_equal(p.u.key.state, "read");
    assert_true(p.u.key.has_rate && p.u.key.rate == 2.5);
    assert_true(p.u.key.has_burst && p.u.key.burst == 7);
    assert_true(p.u.key.require_signature);
    assert_string_equal(p.token, "t0k");
    control_msg_free(&p);
    control_line_free(line);

    struct control_msg list = {.kind = CONTROL_KEY};
    list.u.key.op = CONTROL_KEY_LIST;
    line = round_trip(&list, true, &p);
    assert_string_equal(line, "{\"coordhub\":\"key\",\"op\":\"list\"}\n");
    assert_int_equal(p.u.key.op, CONTROL_KEY_LIST);
    assert_false(p.u.key.has_rate);
    control_msg_free(&p);
    control_line_free(line);

    struct control_msg revoke = {.kind = CONTROL_KEY};
    revoke.u.key.op = CONTROL_KEY_REVOKE;
    revoke.u.key.id = "ab12cd34ef56";
    line = round_trip(&revoke, true, &p);
    assert_string_equal(p.u.key.id, "ab12cd34ef56");
    control_msg_free(&p);
    control_line_free(line);
}

static void test_control__call_round_trip(void **state)
{
    (void)state;
    cJSON *args = cJSON_Parse("{\"file\":\"src/a.c\"}");
    struct control_msg m = {.kind = CONTROL_CALL, .token = "t0k"};
    m.u.call = (struct control_call){.tool = "check_lock", .arguments = args};
    struct control_msg p;
    char *line = round_trip(&m, true, &p);
    assert_string_equal(p.u.call.tool, "check_lock");
    assert_true(cJSON_Compare(p.u.call.arguments, args, 1));
    assert_true(p.token_given);
    assert_string_equal(p.token, "t0k");
    control_msg_free(&p);
    control_line_free(line);
    cJSON_Delete(args);
    /* Without the token (an agent's call) and without arguments. */
    struct control_msg bare = {.kind = CONTROL_CALL};
    bare.u.call.tool = "list_locked_files";
    line = round_trip(&bare, true, &p);
    assert_string_equal(line, "{\"coordhub\":\"call\",\"tool\":\"list_locked_files\"}\n");
    assert_false(p.token_given);
    assert_null(p.u.call.arguments);
    control_msg_free(&p);
    control_line_free(line);
    struct control_msg ans = control_answer_ok(CONTROL_CALL, NULL);
    line = round_trip(&ans, false, &p);
    assert_int_equal(p.u.answer.of, CONTROL_CALL);
    control_msg_free(&p);
    control_line_free(line);
}

static void test_control__hub_lines_round_trip(void **state)
{
    (void)state;
    struct control_msg p;
    enum control_kind bare[] = {CONTROL_ATTACHED, CONTROL_BYE, CONTROL_STOPPING};
    const char *text[] = {"{\"coordhub\":\"attached\"}\n", "{\"coordhub\":\"bye\"}\n",
                          "{\"coordhub\":\"stopping\"}\n"};
    for (size_t i = 0; i < 3; i++) {
        struct control_msg m = {.kind = bare[i]};
        char *line = round_trip(&m, false, &p);
        assert_string_equal(line, text[i]);
        control_msg_free(&p);
        control_line_free(line);
    }
    cJSON *init = cJSON_Parse("{\"capabilities\":{\"roots\":{}}}");
    struct control_msg s = {.kind = CONTROL_SESSION};
    s.u.session = (struct control_session){.init = init, .agent_id = "bob"};
    char *line = round_trip(&s, false, &p);
    assert_true(cJSON_Compare(p.u.session.init, init, 1));
    assert_string_equal(p.u.session.agent_id, "bob");
    control_msg_free(&p);
    control_line_free(line);
    cJSON_Delete(init);

    struct control_msg r = {.kind = CONTROL_REFUSED};
    r.u.refused.error = "no descriptors";
    line = round_trip(&r, false, &p);
    assert_string_equal(p.u.refused.error, "no descriptors");
    control_msg_free(&p);
    control_line_free(line);
}

static void test_control__answers_round_trip(void **state)
{
    (void)state;
    struct control_msg p;
    cJSON *result = cJSON_Parse("{\"keys\":[{\"id\":\"k1\"}]}");
    struct control_msg ok = control_answer_ok(CONTROL_KEY, result);
    char *line = round_trip(&ok, false, &p);
    assert_int_equal(p.u.answer.of, CONTROL_KEY);
    assert_true(p.u.answer.ok);
    assert_true(cJSON_Compare(p.u.answer.result, result, 1));
    control_msg_free(&p);
    control_line_free(line);
    cJSON_Delete(result);

    struct control_msg stop = control_answer_ok(CONTROL_STOP, NULL);
    stop.u.answer.pid = 4242;
    line = round_trip(&stop, false, &p);
    assert_string_equal(line, "{\"coordhub\":\"stop\",\"ok\":true,\"pid\":4242}\n");
    assert_int_equal(p.u.answer.pid, 4242);
    control_msg_free(&p);
    control_line_free(line);

    struct control_msg no =
        control_answer_fail(CONTROL_ADMIN, "unauthorized", "the admin token is wrong");
    line = round_trip(&no, false, &p);
    assert_string_equal(line, "{\"coordhub\":\"admin\",\"ok\":false,\"code\":\"unauthorized\","
                              "\"error\":\"the admin token is wrong\"}\n");
    assert_int_equal(p.u.answer.of, CONTROL_ADMIN);
    assert_false(p.u.answer.ok);
    assert_string_equal(p.u.answer.code, "unauthorized");
    control_msg_free(&p);
    control_line_free(line);

    /* A line of no known kind is answered as "error". */
    struct control_msg unknown = control_answer_fail(CONTROL_NONE, "invalid_argument", "what?");
    line = round_trip(&unknown, false, &p);
    assert_string_equal(line, "{\"coordhub\":\"error\",\"ok\":false,\"code\":\"invalid_argument\","
                              "\"error\":\"what?\"}\n");
    assert_int_equal(p.u.answer.of, CONTROL_NONE);
    control_msg_free(&p);
    control_line_free(line);

    struct control_msg none = {.kind = CONTROL_NONE};
    assert_null(control_build(&none));
}

static void test_control__recognises_control_lines(void **state)
{
    (void)state;
    static const char *yes[] = {"{\"coordhub\":\"admin\"}", " { \"coordhub\" :\"x\"",
                                "{\"coordhub\":"};
    static const char *no[] = {"{\"jsonrpc\":\"2.0\",\"coordhub\":\"admin\"}",
                               "{\"coordhubx\":1}",
                               "[{\"coordhub\":\"admin\"}]",
                               "{\"coordhub\"",
                               "",
                               "{\"Coordhub\":\"admin\"}"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(control_is_line(yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(control_is_line(no[i], strlen(no[i])));
}

/* Expect text refused as a request (or reply) with err and a message
 * containing what. */
static void refused(bool request, const char *text, size_t n, int err, const char *what)
{
    struct control_msg p;
    struct control_error e;
    int rc =
        request ? control_parse_request(text, n, &p, &e) : control_parse_reply(text, n, &p, &e);
    if (rc != err || !strstr(e.message, what))
        fail_msg("%.80s: got %d '%s', want %d '%s'", text, rc, e.message, err, what);
    assert_int_equal(e.err, err);
    control_msg_free(&p);
}

#define REQ_REFUSED(s, err, what) refused(true, s, sizeof(s) - 1, err, what)
#define REPLY_REFUSED(s, err, what) refused(false, s, sizeof(s) - 1, err, what)

static void test_control__malformed_lines_refused(void **state)
{
    (void)state;
    REQ_REFUSED("{\"coordhub\":\"admin\",", -ERR_PARSE, "offset");
    REQ_REFUSED("{\"coordhub\":\"admin\"} x", -ERR_PARSE, "");
    REQ_REFUSED("{\"coordhub\":\"a\xff\"}", -ERR_PARSE, "UTF-8");
    REQ_REFUSED("{\"coordhub\":\"admin\",\"token\":\"a\\u0000b\"}", -ERR_INVALID, "U+0000");
    REQ_REFUSED("{\"coordhub\":\"admin\",\"coordhub\":\"stop\"}", -ERR_INVALID,
                "duplicate key \"coordhub\"");
    REPLY_REFUSED("{\"coordhub\":\"bye\",\"x\":1,\"x\":2}", -ERR_INVALID, "duplicate key \"x\"");
    REQ_REFUSED("[\"coordhub\"]", -ERR_INVALID, "an object whose \"coordhub\" names its kind");
    REQ_REFUSED("{\"coordhub\":3}", -ERR_INVALID, "\"coordhub\" names its kind");
    REQ_REFUSED("{\"coordhub\":\"frob\"}", -ERR_INVALID, "unknown control line kind \"frob\"");
    /* A kind that is not plain text is not repeated. */
    REQ_REFUSED("{\"coordhub\":\"a\\nb\"}", -ERR_INVALID,
                "unknown control line kind (attach, resume, admin, key, stop or call)");
    /* Hub lines are not requests, nor requests hub lines. */
    REQ_REFUSED("{\"coordhub\":\"attached\"}", -ERR_INVALID, "unknown control line kind");
    REPLY_REFUSED("{\"coordhub\":\"attach\"}", -ERR_INVALID, "unknown control line kind");

    /* Nesting beyond JSON_MAX_DEPTH. */
    char deep[400];
    size_t n = (size_t)snprintf(deep, sizeof(deep), "{\"coordhub\":\"resume\",\"init\":");
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    refused(true, deep, n, -ERR_TOO_LARGE, "");
}

static void test_control__oversize_lines_refused(void **state)
{
    (void)state;
    /* CONTROL_REQUEST_MAX counts the newline: one byte less of text is
     * the most a request takes. */
    size_t n = CONTROL_REQUEST_MAX - 1;
    char *big = malloc(n + 1);
    const char *head = "{\"coordhub\":\"resume\",\"cwd\":\"/";
    memcpy(big, head, strlen(head));
    memset(big + strlen(head), 'a', n - strlen(head) - 2);
    memcpy(big + n - 2, "\"}", 2);
    struct control_msg p;
    struct control_error e;
    assert_int_equal(control_parse_request(big, n, &p, &e), 0);
    assert_int_equal(strlen(p.u.attach.cwd), n - strlen(head) - 2 + 1);
    control_msg_free(&p);
    big = realloc(big, n + 2);
    memcpy(big + n - 2, "a\"}", 3);
    refused(true, big, n + 1, -ERR_TOO_LARGE, "at most 65536 bytes");
    free(big);
}

static void test_control__ill_typed_members_refused(void **state)
{
    (void)state;
    REQ_REFUSED("{\"coordhub\":\"attach\",\"cwd\":7}", -ERR_INVALID, "cwd: must be a string");
    REQ_REFUSED("{\"coordhub\":\"resume\",\"cwd\":\"rel/dir\"}", -ERR_INVALID,
                "cwd: must be an absolute path");
    REQ_REFUSED("{\"coordhub\":\"attach\",\"agent\":[]}", -ERR_INVALID, "agent: must be a string");
    REQ_REFUSED("{\"coordhub\":\"attach\",\"agentId\":null}", -ERR_INVALID,
                "agentId: must be a string");
    REQ_REFUSED("{\"coordhub\":\"resume\",\"init\":[1]}", -ERR_INVALID, "init: must be an object");
    REQ_REFUSED("{\"coordhub\":\"key\"}", -ERR_INVALID, "op: must be create, list or revoke");
    REQ_REFUSED("{\"coordhub\":\"key\",\"op\":\"rotate\"}", -ERR_INVALID,
                "op: must be create, list or revoke");
    REQ_REFUSED("{\"coordhub\":\"key\",\"op\":\"revoke\"}", -ERR_INVALID, "id: required");
    REQ_REFUSED("{\"coordhub\":\"key\",\"op\":\"revoke\",\"id\":5}", -ERR_INVALID, "id: required");
    REQ_REFUSED("{\"coordhub\":\"key\",\"op\":\"create\",\"name\":1}", -ERR_INVALID,
                "name: must be a string");
    REQ_REFUSED("{\"coordhub\":\"key\",\"op\":\"create\",\"publish\":true}", -ERR_INVALID,
                "publish: must be a string of patterns");
    REQ_REFUSED("{\"coordhub\":\"key\",\"op\":\"create\",\"subscribe\":{}}", -ERR_INVALID,
                "subscribe: must be a string of patterns");
    REQ_REFUSED("{\"coordhub\":\"key\",\"op\":\"create\",\"state\":2}", -ERR_INVALID,
                "state: must be a string");
    REQ_REFUSED("{\"coordhub\":\"key\",\"op\":\"create\",\"requireSignature\":\"yes\"}",
                -ERR_INVALID, "requireSignature: must be true or false");
    REQ_REFUSED("{\"coordhub\":\"key\",\"op\":\"create\",\"rate\":\"fast\"}", -ERR_INVALID,
                "rate: must be a number");
    REQ_REFUSED("{\"coordhub\":\"key\",\"op\":\"create\",\"burst\":1.5}", -ERR_INVALID,
                "burst: must be an integer");
    REQ_REFUSED("{\"coordhub\":\"call\"}", -ERR_INVALID, "tool: required");
    REQ_REFUSED("{\"coordhub\":\"call\",\"tool\":\"\"}", -ERR_INVALID, "tool: required");
    REQ_REFUSED("{\"coordhub\":\"call\",\"tool\":[]}", -ERR_INVALID, "tool: required");
    REQ_REFUSED("{\"coordhub\":\"call\",\"tool\":\"x\",\"arguments\":[1]}", -ERR_INVALID,
                "arguments: must be an object");
    /* null stands for absent where the hub always took it so. */
    struct control_msg p;
    struct control_error e;
    const char *nulls = "{\"coordhub\":\"key\",\"op\":\"create\",\"name\":null,\"state\":null}";
    assert_int_equal(control_parse_request(nulls, strlen(nulls), &p, &e), 0);
    assert_null(p.u.key.name);
    assert_null(p.u.key.state);
    control_msg_free(&p);
    /* Members a kind does not define are left alone. */
    const char *extra = "{\"coordhub\":\"attach\",\"future\":{\"x\":1},\"cwd\":\"/w\"}";
    assert_int_equal(control_parse_request(extra, strlen(extra), &p, &e), 0);
    assert_string_equal(p.u.attach.cwd, "/w");
    control_msg_free(&p);

    REPLY_REFUSED("{\"coordhub\":\"session\",\"init\":\"x\"}", -ERR_INVALID,
                  "init: must be an object");
    REPLY_REFUSED("{\"coordhub\":\"session\",\"agentId\":1}", -ERR_INVALID,
                  "agentId: must be a string");
    REPLY_REFUSED("{\"coordhub\":\"refused\",\"error\":1}", -ERR_INVALID,
                  "error: must be a string");
    REPLY_REFUSED("{\"coordhub\":\"key\",\"ok\":\"yes\"}", -ERR_INVALID,
                  "ok: must be true or false");
    REPLY_REFUSED("{\"coordhub\":\"key\",\"ok\":false,\"error\":\"x\"}", -ERR_INVALID,
                  "a refusal needs \"code\" and \"error\"");
    REPLY_REFUSED("{\"coordhub\":\"stop\",\"ok\":false,\"code\":\"x\",\"error\":2}", -ERR_INVALID,
                  "error: must be a string");
    REPLY_REFUSED("{\"coordhub\":\"stop\",\"ok\":true,\"pid\":-1}", -ERR_INVALID,
                  "pid: must be a process id");
    REPLY_REFUSED("{\"coordhub\":\"bye\",\"ok\":true}", -ERR_INVALID,
                  "names the kind of request it answers");
}

/* A refused request of an admin kind still says which kind and token it
 * carried, so the hub refuses an unauthenticated one as unauthorized. */
static void test_control__refused_request_keeps_kind_and_token(void **state)
{
    (void)state;
    struct control_msg p;
    struct control_error e;
    const char *bad = "{\"coordhub\":\"key\",\"op\":\"create\",\"name\":1,\"token\":\"abc\"}";
    assert_int_equal(control_parse_request(bad, strlen(bad), &p, &e), -ERR_INVALID);
    assert_int_equal(p.kind, CONTROL_KEY);
    assert_true(p.token_given);
    assert_string_equal(p.token, "abc");
    assert_int_equal(p.u.key.op, CONTROL_KEY_NONE);
    control_msg_free(&p);
    assert_null(p.token);
    const char *attach = "{\"coordhub\":\"attach\",\"cwd\":1,\"token\":\"abc\"}";
    assert_int_equal(control_parse_request(attach, strlen(attach), &p, &e), -ERR_INVALID);
    assert_int_equal(p.kind, CONTROL_ATTACH);
    assert_null(p.token);
    control_msg_free(&p);
    const char *unknown = "{\"coordhub\":\"frob\",\"token\":\"abc\"}";
    assert_int_equal(control_parse_request(unknown, strlen(unknown), &p, &e), -ERR_INVALID);
    assert_int_equal(p.kind, CONTROL_NONE);
    assert_null(p.token);
    control_msg_free(&p);
}

static void test_control__kind_names(void **state)
{
    (void)state;
    assert_string_equal(control_kind_name(CONTROL_ATTACH), "attach");
    assert_string_equal(control_kind_name(CONTROL_REFUSED), "refused");
    assert_null(control_kind_name(CONTROL_NONE));
    assert_null(control_kind_name(CONTROL_ANSWER));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_control__attach_and_resume_round_trip),
        cmocka_unit_test(test_control__admin_and_stop_carry_the_token),
        cmocka_unit_test(test_control__key_requests_round_trip),
        cmocka_unit_test(test_control__call_round_trip),
        cmocka_unit_test(test_control__hub_lines_round_trip),
        cmocka_unit_test(test_control__answers_round_trip),
        cmocka_unit_test(test_control__recognises_control_lines),
        cmocka_unit_test(test_control__malformed_lines_refused),
        cmocka_unit_test(test_control__oversize_lines_refused),
        cmocka_unit_test(test_control__ill_typed_members_refused),
        cmocka_unit_test(test_control__refused_request_keeps_kind_and_token),
        cmocka_unit_test(test_control__kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
