/* test_jsonrpc — the line framer (caps, splits, CRLF, oversize recovery),
 * parsing and classification of JSON-RPC messages, and the builders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/jsonrpc.h"

/* ---- framer ---------------------------------------------------------------- */

/* Feed all of data; collect messages (joined by '|') and count oversize
 * events. Returns the largest pending size seen. */
struct frames {
    char out[4096];
    size_t out_len;
    int messages;
    int oversize;
    size_t max_pending;
};

static void feed(struct jsonrpc_framer *f, const char *data, size_t n, struct frames *fr)
{
    const char *msg;
    size_t len;
    for (;;) {
        enum jsonrpc_frame ev = jsonrpc_framer_next(f, &data, &n, &msg, &len);
        size_t pend = jsonrpc_framer_pending(f);
        if (pend > fr->max_pending)
            fr->max_pending = pend;
        if (ev == JSONRPC_FRAME_NEED_MORE)
            break;
        if (ev == JSONRPC_FRAME_OVERSIZE) {
            fr->oversize++;
            continue;
        }
        fr->messages++;
        if (fr->out_len + len + 1 < sizeof(fr->out)) {
            memcpy(fr->out + fr->out_len, msg, len);
            fr->out_len += len;
            fr->out[fr->out_len++] = '|';
            fr->out[fr->out_len] = '\0';
        }
    }
    assert_int_equal(n, 0);
}

static void test_jsonrpc__framer_splits_lines(void **state)
{
    (void)state;
    struct jsonrpc_framer f;
    struct frames fr = {0};
    jsonrpc_framer_init(&f, 0);
    assert_int_equal(f.max, JSONRPC_MAX_MESSAGE);
    const char *in = "{\"a\":1}\n{\"b\":2}\r\n\n   \n{\"c\":3}\n";
    feed(&f, in, strlen(in), &fr);
    assert_string_equal(fr.out, "{\"a\":1}|{\"b\":2}|{\"c\":3}|");
    assert_int_equal(fr.oversize, 0);
    assert_int_equal(jsonrpc_framer_pending(&f), 0);
    jsonrpc_framer_deinit(&f);
}

static void test_jsonrpc__framer_joins_split_message(void **state)
{
    (void)state;
    struct jsonrpc_framer f;
    struct frames fr = {0};
    jsonrpc_framer_init(&f, 0);
    feed(&f, "{\"met", 5, &fr);
    assert_int_equal(fr.messages, 0);
    assert_int_equal(jsonrpc_framer_pending(&f), 5);
    feed(&f, "hod\":", 5, &fr);
    feed(&f, "1}\n{\"x\"", 7, &fr);
    assert_string_equal(fr.out, "{\"method\":1}|");
    feed(&f, ":2}\r\n", 5, &fr);
    assert_string_equal(fr.out, "{\"method\":1}|{\"x\":2}|");
    jsonrpc_framer_deinit(&f);
}

static void test_jsonrpc__framer_zero_copy_when_whole(void **state)
{
    (void)state;
    struct jsonrpc_framer f;
    jsonrpc_framer_init(&f, 0);
    const char *in = "{\"a\":1}\n";
    const char *p = in, *msg;
    size_t n = strlen(in), len;
    assert_int_equal(jsonrpc_framer_next(&f, &p, &n, &msg, &len), JSONRPC_FRAME_MESSAGE);
    assert_ptr_equal(msg, in);
    assert_int_equal(len, 7);
    jsonrpc_framer_deinit(&f);
}

static void test_jsonrpc__framer_cap_is_exact(void **state)
{
    (void)state;
    struct jsonrpc_framer f;
    struct frames fr = {0};
    jsonrpc_framer_init(&f, 8);
    feed(&f, "12345678\n", 9, &fr);    /* exactly the cap */
    feed(&f, "12345678\r\n", 10, &fr); /* the cap plus CR */
    assert_int_equal(fr.messages, 2);
    assert_int_equal(fr.oversize, 0);
    feed(&f, "123456789\n", 10, &fr); /* one over, newline in the same feed */
    assert_int_equal(fr.oversize, 1);
    feed(&f, "1234", 4, &fr); /* one over, split across feeds */
    feed(&f, "56789\nok\n", 9, &fr);
    assert_int_equal(fr.oversize, 2);
    assert_string_equal(fr.out, "12345678|12345678|ok|");
    jsonrpc_framer_deinit(&f);
}

static void test_jsonrpc__framer_oversize_line_stays_bounded(void **state)
{
    (void)state;
    struct jsonrpc_framer f;
    struct frames fr = {0};
    jsonrpc_framer_init(&f, 0);
    /* A 3 MiB line fed in 64 KiB chunks, then a valid message. */
    size_t chunk = 64 * 1024;
    char *block = malloc(chunk);
    memset(block, 'x', chunk);
    for (size_t sent = 0; sent < 3 * JSONRPC_MAX_MESSAGE; sent += chunk)
        feed(&f, block, chunk, &fr);
    assert_int_equal(fr.oversize, 1); /* reported once, as soon as it passed the cap */
    assert_true(fr.max_pending <= JSONRPC_MAX_MESSAGE + 1);
    assert_int_equal(jsonrpc_framer_pending(&f), 0); /* nothing kept while discarding */
    assert_true(f.line.cap <= 64 * 1024);            /* storage was released */
    feed(&f, "tail-of-big-line\n{\"ok\":true}\n", 29, &fr);
    assert_int_equal(fr.oversize, 1);
    assert_string_equal(fr.out, "{\"ok\":true}|");
    free(block);
    jsonrpc_framer_deinit(&f);
}

static void test_jsonrpc__framer_finish(void **state)
{
    (void)state;
    struct jsonrpc_framer f;
    struct frames fr = {0};
    const char *msg;
    size_t len;
    jsonrpc_framer_init(&f, 16);
    feed(&f, "{\"last\":1}", 10, &fr);
    assert_int_equal(jsonrpc_framer_finish(&f, &msg, &len), JSONRPC_FRAME_MESSAGE);
    assert_int_equal(len, 10);
    assert_memory_equal(msg, "{\"last\":1}", 10);
    assert_int_equal(jsonrpc_framer_finish(&f, &msg, &len), JSONRPC_FRAME_NEED_MORE);
    feed(&f, "   ", 3, &fr);
    assert_int_equal(jsonrpc_framer_finish(&f, &msg, &len), JSONRPC_FRAME_NEED_MORE);
    /* An oversize tail already reported is not reported again. */
    feed(&f, "0123456789abcdefXYZ", 19, &fr);
    assert_int_equal(fr.oversize, 1);
    assert_int_equal(jsonrpc_framer_finish(&f, &msg, &len), JSONRPC_FRAME_NEED_MORE);
    jsonrpc_framer_deinit(&f);
    jsonrpc_framer_deinit(NULL);
}

/* ---- parse and classify ---------------------------------------------------- */

static void expect_parse_error(const char *text, size_t n, const char *needle)
{
    struct jsonrpc_msg m;
    cJSON *v = jsonrpc_parse(text, n, &m);
    assert_null(v);
    assert_int_equal(m.kind, JSONRPC_KIND_INVALID);
    assert_int_equal(m.code, JSONRPC_PARSE_ERROR);
    assert_null(m.id);
    assert_non_null(strstr(m.message, needle));
}

static void test_jsonrpc__parse_errors(void **state)
{
    (void)state;
    expect_parse_error("{\"jsonrpc\":", 11, "not valid JSON");
    expect_parse_error("{} trailing", 11, "not valid JSON");
    expect_parse_error("\"\xC3\x28\"", 4, "UTF-8");
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    expect_parse_error(deep, 130, "deeper than 64");
    struct jsonrpc_msg m;
    cJSON *v = jsonrpc_parse(deep + 1, 128, &m); /* 64 levels are fine */
    assert_non_null(v);
    cJSON_Delete(v);
}

static void test_jsonrpc__nul_and_duplicate_keys_are_invalid_requests(void **state)
{
    (void)state;
    struct jsonrpc_msg m;
    const char *t =
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\",\"params\":{\"a\":\"\\u0000\"}}";
    assert_null(jsonrpc_parse(t, strlen(t), &m));
    assert_int_equal(m.kind, JSONRPC_KIND_INVALID);
    assert_int_equal(m.code, JSONRPC_INVALID_REQUEST);
    assert_string_equal(m.message, "Invalid Request: string contains U+0000 at offset 52");
    assert_true(cJSON_IsNumber(m.id) && m.id->valuedouble == 3);
    assert_ptr_equal(m.id, m.refused_id);
    cJSON_Delete(m.refused_id);
    /* An id that is not a valid one (a fraction) is not echoed. */
    t = "{\"id\":1.5,\"a\":1,\"a\":2}";
    assert_null(jsonrpc_parse(t, strlen(t), &m));
    assert_int_equal(m.code, JSONRPC_INVALID_REQUEST);
    assert_string_equal(m.message, "Invalid Request: duplicate key \"a\" at offset 16");
    assert_null(m.id);
    assert_null(m.refused_id);
    /* An escaped backslash before u0000 is text, not a NUL. */
    t = "{\"id\":1,\"a\":\"\\\\u0000\"}";
    cJSON *v = jsonrpc_parse(t, strlen(t), &m);
    assert_non_null(v);
    cJSON_Delete(v);
}

static enum jsonrpc_kind classify_text(const char *text, bool allow_batch, struct jsonrpc_msg *m,
                                       cJSON **keep)
{
    struct jsonrpc_msg pm;
    cJSON *v = jsonrpc_parse(text, strlen(text), &pm);
    assert_non_null(v);
    *keep = v;
    return jsonrpc_classify(v, allow_batch, m);
}

static void test_jsonrpc__classify_kinds(void **state)
{
    (void)state;
    struct jsonrpc_msg m;
    cJSON *v;

    assert_int_equal(
        classify_text("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}", false, &m, &v),
        JSONRPC_KIND_REQUEST);
    assert_string_equal(m.method, "ping");
    assert_int_equal(m.id->valuedouble, 7);
    assert_null(m.params);
    cJSON_Delete(v);

    assert_int_equal(classify_text("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\","
                                   "\"params\":{\"a\":1}}",
                                   false, &m, &v),
                     JSONRPC_KIND_NOTIFICATION);
    assert_null(m.id);
    assert_true(cJSON_IsObject(m.params));
    cJSON_Delete(v);

    assert_int_equal(
        classify_text("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{}}", false, &m, &v),
        JSONRPC_KIND_RESPONSE);
    assert_string_equal(m.id->valuestring, "a");
    cJSON_Delete(v);

    assert_int_equal(
        classify_text("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":1}}", false, &m, &v),
        JSONRPC_KIND_RESPONSE);
    cJSON_Delete(v);

    assert_int_equal(classify_text("[{\"jsonrpc\":\"2.0\",\"method\":\"a\"}]", true, &m, &v),
                     JSONRPC_KIND_BATCH);
    cJSON_Delete(v);
}

static void expect_invalid(const char *text, bool allow_batch, const char *needle, bool id_echoed)
{
    struct jsonrpc_msg m;
    cJSON *v;
    assert_int_equal(classify_text(text, allow_batch, &m, &v), JSONRPC_KIND_INVALID);
    assert_int_equal(m.code, JSONRPC_INVALID_REQUEST);
    if (!strstr(m.message, needle))
        fail_msg("'%s' gave '%s', expected '%s'", text, m.message, needle);
    if (id_echoed)
        assert_non_null(m.id);
    else
        assert_null(m.id);
    cJSON_Delete(v);
}

static void test_jsonrpc__classify_invalid(void **state)
{
    (void)state;
    expect_invalid("42", false, "must be a JSON object", false);
    expect_invalid("\"x\"", false, "must be a JSON object", false);
    expect_invalid("{\"id\":1,\"method\":\"ping\"}", false, "\"jsonrpc\" must be \"2.0\"", true);
    expect_invalid("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", false, "\"2.0\"", true);
    expect_invalid("{\"jsonrpc\":2.0,\"id\":\"s\",\"method\":\"ping\"}", false, "\"2.0\"", true);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", false,
                   "\"method\" must be a string", true);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", false,
                   "\"id\" must be a string or an integer", false);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", false, "\"id\"", false);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", false, "\"id\"", false);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", false, "\"id\"", false);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":12345678901234567890,\"method\":\"ping\"}", false,
                   "\"id\"", true);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":3}", false,
                   "\"params\" must be an object", true);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1}", false, "missing \"method\"", true);
    expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}", false,
                   "exactly one of", true);
    expect_invalid("[{\"jsonrpc\":\"2.0\",\"method\":\"a\"}]", false, "batches are not supported",
                   false);
    expect_invalid("[]", true, "empty batch", false);
}

static void test_jsonrpc__batch_size_cap(void **state)
{
    (void)state;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < JSONRPC_MAX_BATCH; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(i));
    struct jsonrpc_msg m;
    assert_int_equal(jsonrpc_classify(arr, true, &m), JSONRPC_KIND_BATCH);
    cJSON_AddItemToArray(arr, cJSON_CreateNumber(0));
    assert_int_equal(jsonrpc_classify(arr, true, &m), JSONRPC_KIND_INVALID);
    assert_non_null(strstr(m.message, "more than 1024"));
    cJSON_Delete(arr);
}

static void test_jsonrpc__ids(void **state)
{
    (void)state;
    cJSON *a = cJSON_CreateNumber(5), *b = cJSON_CreateNumber(5), *s = cJSON_CreateString("5");
    cJSON *big = cJSON_CreateNumber(9007199254740992.0), *neg = cJSON_CreateNumber(-3);
    assert_true(jsonrpc_id_valid(a));
    assert_true(jsonrpc_id_valid(s));
    assert_true(jsonrpc_id_valid(neg));
    assert_false(jsonrpc_id_valid(big));
    assert_false(jsonrpc_id_valid(NULL));
    assert_true(jsonrpc_id_equal(a, b));
    assert_false(jsonrpc_id_equal(a, s));
    assert_false(jsonrpc_id_equal(a, NULL));
    cJSON *d = jsonrpc_id_dup(s);
    assert_true(jsonrpc_id_equal(d, s));
    assert_null(jsonrpc_id_dup(big));
    cJSON_Delete(d);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(s);
    cJSON_Delete(big);
    cJSON_Delete(neg);
}

/* One row of the id table: an id as sent, and what the answer carries. */
struct id_case {
    const char *id;   /* JSON text of the id */
    bool valid;       /* taken: the request is a REQUEST */
    const char *echo; /* the answer's id as printed: the same text, or "null" */
};

/* Every transport answers these at once (tests/load/test_mcp_ids.sh runs
 * the same table against the socket and /mcp). */
static const struct id_case id_table[] = {
    {"0.5", false, "null"},
    {"1.5", false, "null"},
    {"-0", false, "-0"},
    {"1e2", false, "null"},
    {"1E2", false, "null"},
    {"100.0", false, "null"},
    {"1e300", false, "null"},
    {"1e400", false, "null"},
    {"9007199254740991", true, "9007199254740991"},
    {"-9007199254740991", true, "-9007199254740991"},
    {"9007199254740992", false, "9007199254740992"},
    {"9007199254740993", false, "9007199254740993"},
    {"-9007199254740993", false, "-9007199254740993"},
    {"18446744073709551616", false, "18446744073709551616"},
    {"1000000000000000", true, "1000000000000000"},
    {"-1", true, "-1"},
    {"0", true, "0"},
    {"\"1\"", true, "\"1\""},
    {"\"\"", true, "\"\""},
    {"true", false, "null"},
    {"null", false, "null"},
    {"{}", false, "null"},
    {"[]", false, "null"},
};

/* Parse, classify and answer one request with id: as the engine does. */
static void check_id_case(const struct id_case *c)
{
    char text[256];
    snprintf(text, sizeof(text),
             "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\",\"params\":{\"x\":[1.5,2e3]}}",
             c->id);
    struct jsonrpc_msg pm, m;
    cJSON *v = jsonrpc_parse(text, strlen(text), &pm);
    assert_non_null(v);
    enum jsonrpc_kind k = jsonrpc_classify(v, false, &m);
    if (c->valid != (k == JSONRPC_KIND_REQUEST))
        fail_msg("id %s: kind %d", c->id, (int)k);
    if (!c->valid)
        assert_string_equal(m.message, JSONRPC_ID_REFUSED);
    char *out = c->valid ? jsonrpc_build_result(m.id, NULL)
                         : jsonrpc_build_error(m.id, m.code, m.message, NULL);
    char want[256];
    snprintf(want, sizeof(want), "{\"jsonrpc\":\"2.0\",\"id\":%s,", c->echo);
    if (strncmp(out, want, strlen(want)) != 0)
        fail_msg("id %s: answered %s, want %s", c->id, out, want);
    free(out);
    /* Other numbers are left as they were. */
    const cJSON *x = cJSON_GetObjectItem(cJSON_GetObjectItem(v, "params"), "x");
    assert_true(cJSON_IsNumber(cJSON_GetArrayItem(x, 0)));
    assert_true(cJSON_GetArrayItem(x, 1)->valuedouble == 2000);
    cJSON_Delete(v);
}

static void test_jsonrpc__id_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(id_table) / sizeof(id_table[0]); i++)
        check_id_case(&id_table[i]);
}

/* Ids in a batch, a cancellation's requestId and a progressToken keep
 * their text; numbers before them (in keys' values, strings holding
 * digits) do not confuse the pairing of numbers with their text. */
static void test_jsonrpc__id_text_in_batches_and_params(void **state)
{
    (void)state;
    const char *t =
        "[{\"a\":[1,\"2\",{\"b\":3e1}],\"jsonrpc\":\"2.0\",\"id\":1e2,\"method\":\"x\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"y\",\"params\":{\"_meta\":"
        "{\"progressToken\":2.50}}},"
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
        "{\"requestId\":9007199254740993,\"n\":0.1}},"
        "{\"id\":\"4\\\"5\",\"jsonrpc\":\"2.0\",\"method\":\"z\",\"r\":-0}]";
    struct jsonrpc_msg pm;
    cJSON *v = jsonrpc_parse(t, strlen(t), &pm);
    assert_non_null(v);
    char *out = cJSON_PrintUnformatted(v);
    assert_string_equal(
        out, "[{\"a\":[1,\"2\",{\"b\":30}],\"jsonrpc\":\"2.0\",\"id\":1e2,\"method\":\"x\"},"
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"y\",\"params\":{\"_meta\":"
             "{\"progressToken\":2.50}}},"
             "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
             "{\"requestId\":9007199254740993,\"n\":0.1}},"
             "{\"id\":\"4\\\"5\",\"jsonrpc\":\"2.0\",\"method\":\"z\",\"r\":-0}]");
    free(out);
    const cJSON *e0 = cJSON_GetArrayItem(v, 0);
    assert_true(cJSON_IsRaw(cJSON_GetObjectItem(e0, "id")));
    assert_false(jsonrpc_id_valid(cJSON_GetObjectItem(e0, "id")));
    assert_false(jsonrpc_id_refused_integer(cJSON_GetObjectItem(e0, "id")));
    const cJSON *e2 = cJSON_GetArrayItem(v, 2);
    const cJSON *rid = cJSON_GetObjectItem(cJSON_GetObjectItem(e2, "params"), "requestId");
    assert_true(jsonrpc_id_refused_integer(rid));
    cJSON *n7 = cJSON_CreateNumber(9007199254740992.0);
    assert_false(jsonrpc_id_equal(rid, n7)); /* never cancels what its double names */
    cJSON_Delete(n7);
    const cJSON *tok = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 1), "params"), "_meta"),
        "progressToken");
    assert_null(jsonrpc_id_dup(tok)); /* no progress under a token it would round */
    cJSON_Delete(v);

    /* A refused message (duplicate key) still echoes an integer id exactly. */
    t = "{\"id\":9007199254740993,\"a\":1,\"a\":2}";
    assert_null(jsonrpc_parse(t, strlen(t), &pm));
    assert_non_null(pm.id);
    char *e = jsonrpc_build_error(pm.id, pm.code, pm.message, NULL);
    assert_non_null(strstr(e, "\"id\":9007199254740993,"));
    free(e);
    cJSON_Delete(pm.refused_id);
    t = "{\"id\":1e2,\"a\":1,\"a\":2}";
    assert_null(jsonrpc_parse(t, strlen(t), &pm));
    assert_null(pm.id);
}

/* ---- builders ------------------------------------------------------------- */

static void test_jsonrpc__build(void **state)
{
    (void)state;
    cJSON *id = cJSON_CreateNumber(1e15);
    char *t = jsonrpc_build_result(id, NULL);
    assert_string_equal(t, "{\"jsonrpc\":\"2.0\",\"id\":1000000000000000,\"result\":{}}");
    free(t);
    cJSON_Delete(id);

    id = cJSON_CreateString("req-\"1\"");
    cJSON *res = cJSON_CreateObject();
    cJSON_AddNumberToObject(res, "n", 2);
    t = jsonrpc_build_result(id, res);
    assert_string_equal(t, "{\"jsonrpc\":\"2.0\",\"id\":\"req-\\\"1\\\"\",\"result\":{\"n\":2}}");
    free(t);
    cJSON_Delete(id);

    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "uri", "coord://x");
    t = jsonrpc_build_error(NULL, -32002, "Resource not found", data);
    assert_string_equal(t, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32002,"
                           "\"message\":\"Resource not found\",\"data\":{\"uri\":\"coord://x\"}}}");
    free(t);

    id = cJSON_CreateNumber(-42);
    t = jsonrpc_build_error(id, -32601, "Method not found: x", NULL);
    assert_string_equal(t, "{\"jsonrpc\":\"2.0\",\"id\":-42,\"error\":{\"code\":-32601,"
                           "\"message\":\"Method not found: x\"}}");
    free(t);
    cJSON_Delete(id);

    t = jsonrpc_build_notification("notifications/tools/list_changed", NULL);
    assert_string_equal(t, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}");
    free(t);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "uri", "coord://locks");
    t = jsonrpc_build_notification("notifications/resources/updated", p);
    assert_string_equal(t, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/resources/updated\","
                           "\"params\":{\"uri\":\"coord://locks\"}}");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonrpc__framer_splits_lines),
        cmocka_unit_test(test_jsonrpc__framer_joins_split_message),
        cmocka_unit_test(test_jsonrpc__framer_zero_copy_when_whole),
        cmocka_unit_test(test_jsonrpc__framer_cap_is_exact),
        cmocka_unit_test(test_jsonrpc__framer_oversize_line_stays_bounded),
        cmocka_unit_test(test_jsonrpc__framer_finish),
        cmocka_unit_test(test_jsonrpc__parse_errors),
        cmocka_unit_test(test_jsonrpc__nul_and_duplicate_keys_are_invalid_requests),
        cmocka_unit_test(test_jsonrpc__classify_kinds),
        cmocka_unit_test(test_jsonrpc__classify_invalid),
        cmocka_unit_test(test_jsonrpc__batch_size_cap),
        cmocka_unit_test(test_jsonrpc__ids),
        cmocka_unit_test(test_jsonrpc__id_table),
        cmocka_unit_test(test_jsonrpc__id_text_in_batches_and_params),
        cmocka_unit_test(test_jsonrpc__build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
