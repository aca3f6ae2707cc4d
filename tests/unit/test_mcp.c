/* test_mcp — drives MCP sessions through a fake host that records every
 * message sent, every tool call and cancellation, and validates what the
 * engine emits against the official MCP JSON Schemas, as copied into
 * tests/e2e/schema/<version>/schema.json (COORDHUB_MCP_SCHEMA_DIR overrides
 * where they are looked for; missing schemas fail the suite), with a small
 * interpreter for the keywords those schemas use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "rpc/jsonrpc.h"
#include "rpc/catalog.h"
#include "rpc/mcp.h"
#include "rpc/registry.h"
#include "rpc/tools.h"

/* ---- official schema validation ----------------------------------------- */

static cJSON *schema_latest; /* 2025-11-25 */
static cJSON *schema_0618;   /* 2025-06-18, also used for 2025-03-26 sessions */
static char schema_fail[512];

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    cJSON *v = cJSON_Parse(buf);
    free(buf);
    return v;
}

/* The official schemas, as copied into the repository for the e2e tests
 * (or COORDHUB_MCP_SCHEMA_DIR). */
static void schemas_load(void)
{
    char dir[1024];
    const char *env = getenv("COORDHUB_MCP_SCHEMA_DIR");
    if (env && *env) {
        snprintf(dir, sizeof(dir), "%s", env);
    } else {
        /* __FILE__ is <repo>/tests/unit/test_mcp.c */
        char repo[900];
        snprintf(repo, sizeof(repo), "%s", __FILE__);
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(repo, '/');
            if (slash)
                *slash = '\0';
        }
        snprintf(dir, sizeof(dir), "%s/tests/e2e/schema", repo);
    }
    char p[sizeof(dir) + 32];
    snprintf(p, sizeof(p), "%s/2025-11-25/schema.json", dir);
    schema_latest = load_json(p);
    snprintf(p, sizeof(p), "%s/2025-06-18/schema.json", dir);
    schema_0618 = load_json(p);
}

static const cJSON *sv_defs(const cJSON *root)
{
    const cJSON *d = cJSON_GetObjectItem(root, "$defs");
    return d ? d : cJSON_GetObjectItem(root, "definitions");
}

static bool sv_check(const cJSON *root, const cJSON *s, const cJSON *v, const char *path);

static bool sv_fail(const char *path, const char *what)
{
    snprintf(schema_fail, sizeof(schema_fail), "%s: %s", path, what);
    return false;
}

static bool sv_type(const char *t, const cJSON *v)
{
    if (!strcmp(t, "object"))
        return cJSON_IsObject(v);
    if (!strcmp(t, "array"))
        return cJSON_IsArray(v);
    if (!strcmp(t, "string"))
        return cJSON_IsString(v);
    if (!strcmp(t, "boolean"))
        return cJSON_IsBool(v);
    if (!strcmp(t, "null"))
        return cJSON_IsNull(v);
    if (!strcmp(t, "number"))
        return cJSON_IsNumber(v);
    if (!strcmp(t, "integer"))
        return cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble;
    return false;
}

static bool sv_check(const cJSON *root, const cJSON *s, const cJSON *v, const char *path)
{
    char sub[400];
    if (cJSON_IsTrue(s) || !cJSON_IsObject(s))
        return true;
    const cJSON *k = cJSON_GetObjectItem(s, "$ref");
    if (k) {
        const char *name = strrchr(k->valuestring, '/') + 1;
        if (!sv_check(root, cJSON_GetObjectItem(sv_defs(root), name), v, path))
            return false;
    }
    if ((k = cJSON_GetObjectItem(s, "type"))) {
        bool ok = false;
        if (cJSON_IsString(k)) {
            ok = sv_type(k->valuestring, v);
        } else {
            const cJSON *t;
            cJSON_ArrayForEach(t, k) ok = ok || sv_type(t->valuestring, v);
        }
        if (!ok)
            return sv_fail(path, "wrong type");
    }
    if ((k = cJSON_GetObjectItem(s, "const")) && !cJSON_Compare(k, v, 1))
        return sv_fail(path, "const mismatch");
    if ((k = cJSON_GetObjectItem(s, "enum"))) {
        bool ok = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, k) ok = ok || cJSON_Compare(e, v, 1);
        if (!ok)
            return sv_fail(path, "not in enum");
    }
    if ((k = cJSON_GetObjectItem(s, "minimum")) && cJSON_IsNumber(v) &&
        v->valuedouble < k->valuedouble)
        return sv_fail(path, "below minimum");
    if ((k = cJSON_GetObjectItem(s, "maximum")) && cJSON_IsNumber(v) &&
        v->valuedouble > k->valuedouble)
        return sv_fail(path, "above maximum");
    if ((k = cJSON_GetObjectItem(s, "allOf"))) {
        const cJSON *e;
        cJSON_ArrayForEach(e, k) if (!sv_check(root, e, v, path)) return false;
    }
    if ((k = cJSON_GetObjectItem(s, "anyOf"))) {
        bool ok = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, k) ok = ok || sv_check(root, e, v, path);
        if (!ok)
            return sv_fail(path, "matches no anyOf branch");
    }
    if (cJSON_IsObject(v)) {
        const cJSON *props = cJSON_GetObjectItem(s, "properties");
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(s, "required"))
        {
            if (!cJSON_GetObjectItem(v, e->valuestring)) {
                snprintf(sub, sizeof(sub), "missing required '%s'", e->valuestring);
                return sv_fail(path, sub);
            }
        }
        const cJSON *addl = cJSON_GetObjectItem(s, "additionalProperties");
        cJSON_ArrayForEach(e, v)
        {
            snprintf(sub, sizeof(sub), "%s.%s", path, e->string);
            const cJSON *ps = cJSON_GetObjectItem(props, e->string);
            if (ps) {
                if (!sv_check(root, ps, e, sub))
                    return false;
            } else if (cJSON_IsFalse(addl)) {
                return sv_fail(sub, "additional property not allowed");
            } else if (cJSON_IsObject(addl) && !sv_check(root, addl, e, sub)) {
                return false;
            }
        }
    }
    if (cJSON_IsArray(v) && (k = cJSON_GetObjectItem(s, "items"))) {
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            snprintf(sub, sizeof(sub), "%s[%d]", path, i++);
            if (!sv_check(root, k, e, sub))
                return false;
        }
    }
    return true;
}

/* Validate v against definition def of the schema a session on version
 * speaks (group_setup has loaded both). */
static void assert_schema(const char *version, const char *def, const cJSON *v)
{
    cJSON *root = strcmp(version, "2025-11-25") == 0 ? schema_latest : schema_0618;
    assert_non_null(root);
    if (strcmp(version, "2025-11-25") != 0) {
        if (!strcmp(def, "JSONRPCResultResponse"))
            def = "JSONRPCResponse";
        else if (!strcmp(def, "JSONRPCErrorResponse"))
            def = "JSONRPCError";
    }
    const cJSON *s = cJSON_GetObjectItem(sv_defs(root), def);
    if (!s)
        fail_msg("no definition %s in the %s schema", def, version);
    if (!sv_check(root, s, v, def)) {
        char *t = cJSON_PrintUnformatted(v);
        fail_msg("%s (%s) invalid: %s\n%s", def, version, schema_fail, t);
    }
}

/* ---- fake host ------------------------------------------------------------ */

struct fake_call {
    uint64_t id;
    char name[64];
    cJSON *args;
};

struct fake_host {
    struct mcp_session *s;
    cJSON *sent; /* every message, parsed */
    cJSON *raw;  /* every message as sent (strings) */
    struct fake_call calls[32];
    int ncalls;
    uint64_t cancelled[32];
    int ncancelled;
    int initialized;
    bool complete_inline; /* answer tool calls from inside tool_call */
    /* The host's tools as a hub serves them: a registry with the core's
     * provider (tools.h's table) and maybe another, and the catalog built
     * from it on every change (then sessions are told, as a hub does). */
    struct tool_registry *registry;
    struct tool_catalog *catalog;
    const struct tool_def *core_defs[64];
    size_t ncore;
    bool want_roots;      /* ask for roots once initialised */
    int roots_listed;     /* roots_listed calls */
    int roots_requested;  /* roots_requested calls */
    cJSON *roots;         /* owned: the last roots listed (NULL: none or an error) */
    int calls_at_listing; /* ncalls when roots_listed ran */
};

static void fake_send(void *host, struct mcp_session *s, const char *msg, size_t len)
{
    struct fake_host *h = host;
    assert_ptr_equal(s, h->s);
    assert_null(memchr(msg, '\n', len)); /* one line on stdio framing */
    cJSON *v = cJSON_ParseWithLength(msg, len);
    if (!v)
        fail_msg("engine sent invalid JSON: %.*s", (int)len, msg);
    cJSON_AddItemToArray(h->sent, v);
    char *text = malloc(len + 1);
    memcpy(text, msg, len);
    text[len] = '\0';
    cJSON_AddItemToArray(h->raw, cJSON_CreateString(text));
    free(text);
}

static void fake_tool_call(void *host, struct mcp_session *s, uint64_t call_id, const char *name,
                           const cJSON *args)
{
    struct fake_host *h = host;
    assert_true(h->ncalls < 32);
    struct fake_call *c = &h->calls[h->ncalls++];
    c->id = call_id;
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->args = cJSON_Duplicate(args, 1);
    if (h->complete_inline) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddBoolToObject(r, "inline", true);
        mcp_session_tool_done(s, call_id, r, false);
    }
}

static void fake_tool_cancel(void *host, struct mcp_session *s, uint64_t call_id)
{
    struct fake_host *h = host;
    (void)s;
    h->cancelled[h->ncancelled++] = call_id;
}

static cJSON *fake_resource_read(void *host, struct mcp_session *s, const char *uri)
{
    (void)host;
    (void)s;
    if (strncmp(uri, "coord://", 8) != 0)
        return NULL;
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "resource", uri + 8);
    cJSON_AddNumberToObject(v, "n", 3);
    return v;
}

static void fake_initialized(void *host, struct mcp_session *s)
{
    struct fake_host *h = host;
    assert_ptr_equal(s, h->s);
    h->initialized++;
    if (h->want_roots)
        mcp_session_request_roots(s);
}

static void fake_roots_listed(void *host, struct mcp_session *s, const cJSON *roots)
{
    struct fake_host *h = host;
    assert_ptr_equal(s, h->s);
    h->roots_listed++;
    h->calls_at_listing = h->ncalls;
    cJSON_Delete(h->roots);
    h->roots = roots ? cJSON_Duplicate(roots, 1) : NULL;
}

static void fake_roots_requested(void *host, struct mcp_session *s)
{
    struct fake_host *h = host;
    (void)s;
    h->roots_requested++;
}

static const struct tool_catalog *fake_catalog(void *host, struct mcp_session *s)
{
    struct fake_host *h = host;
    (void)s;
    return h->catalog;
}

static const struct tool_def *const *fake_core_list(void *self, size_t *n)
{
    struct fake_host *h = self;
    *n = h->ncore;
    return h->core_defs;
}

static void fake_provider_call(void *self, struct tool_call *call, const struct tool_def *def,
                               const cJSON *args)
{
    (void)self;
    (void)call;
    (void)def;
    (void)args;
    fail_msg("the engine calls its host's tool_call, never a provider");
}

static const struct tool_provider_ops fake_core_provider = {
    .name = "core", .list = fake_core_list, .call = fake_provider_call};

static void fake_catalog_changed(void *arg)
{
    struct fake_host *h = arg;
    tool_catalog_build(h->catalog, h->registry);
    if (h->s)
        mcp_session_tools_changed(h->s);
}

static const struct mcp_host_ops fake_ops = {
    .send = fake_send,
    .tool_call = fake_tool_call,
    .tool_cancel = fake_tool_cancel,
    .resource_read = fake_resource_read,
    .initialized = fake_initialized,
    .catalog = fake_catalog,
    .roots_listed = fake_roots_listed,
    .roots_requested = fake_roots_requested,
};

static const struct mcp_server_info info = {"coordhub", "0.1.0", NULL};

static void host_init(struct fake_host *h)
{
    memset(h, 0, sizeof(*h));
    h->sent = cJSON_CreateArray();
    h->raw = cJSON_CreateArray();
    size_t n;
    const struct tool_def *all = tools_all(&n);
    assert_true(n <= sizeof(h->core_defs) / sizeof(h->core_defs[0]));
    for (size_t i = 0; i < n; i++)
        h->core_defs[h->ncore++] = &all[i];
    h->catalog = tool_catalog_new();
    h->registry = tool_registry_new(fake_catalog_changed, h);
    assert_int_equal(tool_registry_add(h->registry, &fake_core_provider, h), 0);
    h->s = mcp_session_new(&fake_ops, h, &info);
}

static void host_deinit(struct fake_host *h)
{
    mcp_session_free(h->s);
    h->s = NULL;
    tool_registry_free(h->registry);
    tool_catalog_free(h->catalog);
    cJSON_Delete(h->roots);
    cJSON_Delete(h->sent);
    cJSON_Delete(h->raw);
    for (int i = 0; i < h->ncalls; i++)
        cJSON_Delete(h->calls[i].args);
}

static void in(struct fake_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hand one formatted message to the session. */
static void in(struct fake_host *h, const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    mcp_session_handle(h->s, buf, (size_t)n);
}

static int nsent(const struct fake_host *h)
{
    return cJSON_GetArraySize(h->sent);
}

static const cJSON *sent(const struct fake_host *h, int i)
{
    const cJSON *v = cJSON_GetArrayItem(h->sent, i < 0 ? nsent(h) + i : i);
    assert_non_null(v);
    return v;
}

static void clear(struct fake_host *h)
{
    cJSON_Delete(h->sent);
    cJSON_Delete(h->raw);
    h->sent = cJSON_CreateArray();
    h->raw = cJSON_CreateArray();
}

/* The last message exactly as sent. */
static const char *last_raw(const struct fake_host *h)
{
    return cJSON_GetArrayItem(h->raw, cJSON_GetArraySize(h->raw) - 1)->valuestring;
}

static const cJSON *get(const cJSON *o, const char *path)
{
    char key[128];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        if (cJSON_IsArray(o))
            o = cJSON_GetArrayItem(o, (int)strtol(key, NULL, 10));
        else
            o = cJSON_GetObjectItem(o, key);
        path += n + (dot ? 1 : 0);
    }
    return o;
}

static const char *str(const cJSON *o, const char *path)
{
    const cJSON *v = get(o, path);
    if (!cJSON_IsString(v))
        fail_msg("%s is not a string", path);
    return v->valuestring;
}

static double num(const cJSON *o, const char *path)
{
    const cJSON *v = get(o, path);
    if (!cJSON_IsNumber(v))
        fail_msg("%s is not a number", path);
    return v->valuedouble;
}

/* Check the last message is an error with code and message, answering id
 * (a JSON literal, "null" for none). */
static void expect_error(const struct fake_host *h, const char *version, int code,
                         const char *message, const char *id_json)
{
    const cJSON *m = sent(h, -1);
    if (!get(m, "error")) {
        char *t = cJSON_PrintUnformatted(m);
        fail_msg("expected error %d, got %s", code, t);
    }
    assert_string_equal(str(m, "jsonrpc"), "2.0");
    assert_int_equal((int)num(m, "error.code"), code);
    assert_string_equal(str(m, "error.message"), message);
    char *id = cJSON_PrintUnformatted(get(m, "id"));
    assert_string_equal(id, id_json);
    free(id);
    if (strcmp(id_json, "null") != 0)
        assert_schema(version, "JSONRPCErrorResponse", m);
}

/* The result of the last message, validated as def. */
static const cJSON *expect_result(const struct fake_host *h, const char *version, const char *def)
{
    const cJSON *m = sent(h, -1);
    if (!get(m, "result")) {
        char *t = cJSON_PrintUnformatted(m);
        fail_msg("expected a result, got %s", t);
    }
    assert_schema(version, "JSONRPCResultResponse", m);
    assert_schema(version, def, get(m, "result"));
    return get(m, "result");
}

/* Initialise a session on version (sending notifications/initialized). */
static void open_session(struct fake_host *h, const char *version)
{
    host_init(h);
    in(h,
       "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
       "\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}",
       version);
    assert_int_equal(nsent(h), 1);
    in(h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    assert_int_equal(h->initialized, 1);
    clear(h);
}

static int group_setup(void **state)
{
    (void)state;
    schemas_load();
    if (!schema_latest || !schema_0618) {
        fprintf(stderr, "test_mcp: the MCP schemas (tests/e2e/schema) cannot be read\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cJSON_Delete(schema_latest);
    cJSON_Delete(schema_0618);
    return 0;
}

/* ---- lifecycle ------------------------------------------------------------ */

static void test_mcp__schemas_available(void **state)
{
    (void)state;
    /* The interpreter must reject what the schema rejects. */
    cJSON *bad = cJSON_Parse("{\"content\":[{\"type\":\"text\"}]}");
    assert_false(sv_check(schema_latest, get(sv_defs(schema_latest), "CallToolResult"), bad, "r"));
    cJSON_Delete(bad);
}

static void test_mcp__handshake_each_version(void **state)
{
    (void)state;
    const char *versions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
    for (int i = 0; i < 3; i++) {
        struct fake_host h;
        host_init(&h);
        assert_false(mcp_session_is_initialized(h.s));
        assert_null(mcp_session_protocol_version(h.s));
        assert_null(mcp_session_init_params(h.s));
        in(&h,
           "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
           "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"claude\","
           "\"version\":\"2\"}}}",
           versions[i]);
        const cJSON *r = expect_result(&h, versions[i], "InitializeResult");
        assert_string_equal(str(r, "protocolVersion"), versions[i]);
        assert_true(cJSON_IsTrue(get(r, "capabilities.tools.listChanged")));
        assert_true(cJSON_IsTrue(get(r, "capabilities.resources.subscribe")));
        assert_true(cJSON_IsFalse(get(r, "capabilities.resources.listChanged")));
        assert_true(cJSON_IsFalse(get(r, "capabilities.prompts.listChanged")));
        assert_true(cJSON_IsObject(get(r, "capabilities.logging")));
        assert_null(get(r, "capabilities.completions"));
        assert_string_equal(str(r, "serverInfo.name"), "coordhub");
        assert_string_equal(str(r, "serverInfo.version"), "0.1.0");
        if (i == 2)
            assert_null(get(r, "serverInfo.title"));
        else
            assert_non_null(strstr(str(r, "serverInfo.title"), "coordhub"));
        const char *ins = str(r, "instructions");
        assert_true(strlen(ins) < 1200);
        assert_non_null(strstr(ins, "register_agent"));
        assert_non_null(strstr(ins, "lock_file"));
        assert_non_null(strstr(ins, "unlock_file"));
        assert_non_null(strstr(ins, "claim_task"));
        assert_non_null(strstr(ins, "release_task"));
        assert_non_null(strstr(ins, "wait_for_events"));

        assert_true(mcp_session_is_initialized(h.s));
        assert_string_equal(mcp_session_protocol_version(h.s), versions[i]);
        assert_string_equal(str(mcp_session_init_params(h.s), "clientInfo.name"), "claude");
        assert_int_equal(h.initialized, 0);
        in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        assert_int_equal(h.initialized, 1);
        in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        assert_int_equal(h.initialized, 1);
        assert_int_equal(nsent(&h), 1); /* notifications get no answer */
        host_deinit(&h);
    }
}

static void test_mcp__unknown_version_gets_latest(void **state)
{
    (void)state;
    const char *asks[] = {"2024-11-05", "2099-01-01", ""};
    for (int i = 0; i < 3; i++) {
        struct fake_host h;
        host_init(&h);
        in(&h,
           "{\"jsonrpc\":\"2.0\",\"id\":\"init\",\"method\":\"initialize\",\"params\":{"
           "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"c\","
           "\"version\":\"1\"}}}",
           asks[i]);
        const cJSON *r = expect_result(&h, "2025-11-25", "InitializeResult");
        assert_string_equal(str(r, "protocolVersion"), "2025-11-25");
        assert_string_equal(mcp_session_protocol_version(h.s), "2025-11-25");
        host_deinit(&h);
    }
}

static void test_mcp__initialize_errors(void **state)
{
    (void)state;
    struct fake_host h;
    host_init(&h);
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}");
    expect_error(&h, "2025-11-25", -32602,
                 "Invalid params: initialize needs a string 'protocolVersion'", "1");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{"
           "\"protocolVersion\":20250618}}");
    expect_error(&h, "2025-11-25", -32602,
                 "Invalid params: initialize needs a string 'protocolVersion'", "2");
    assert_false(mcp_session_is_initialized(h.s));
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":{"
           "\"protocolVersion\":\"2025-06-18\"}}");
    expect_result(&h, "2025-06-18", "InitializeResult");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"initialize\",\"params\":{"
           "\"protocolVersion\":\"2025-06-18\"}}");
    expect_error(&h, "2025-06-18", -32600, "Invalid Request: session already initialized", "4");
    assert_string_equal(mcp_session_protocol_version(h.s), "2025-06-18");
    host_deinit(&h);
}

static void test_mcp__requests_before_initialize_are_refused(void **state)
{
    (void)state;
    struct fake_host h;
    host_init(&h);
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    expect_error(&h, "2025-11-25", -32600, "session not initialized: send initialize first", "1");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_agents\"}}");
    expect_error(&h, "2025-11-25", -32600, "session not initialized: send initialize first",
                 "\"c\"");
    assert_int_equal(h.ncalls, 0);
    /* ping is allowed, and an unknown method is still "not found". */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
    const cJSON *r = expect_result(&h, "2025-11-25", "EmptyResult");
    assert_int_equal(cJSON_GetArraySize(r), 0);
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"server/discover\",\"params\":{}}");
    expect_error(&h, "2025-11-25", -32601, "Method not found: server/discover", "3");
    /* Notifications and host notifications produce nothing yet. */
    int before = nsent(&h);
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    mcp_session_log(h.s, MCP_LOG_EMERGENCY, "hub", NULL);
    mcp_session_resource_updated(h.s, "coord://status");
    assert_int_equal(nsent(&h), before);
    assert_int_equal(h.initialized, 0);
    host_deinit(&h);
}

static void test_mcp__request_after_initialize_completes_handshake(void **state)
{
    (void)state;
    struct fake_host h;
    host_init(&h);
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
           "\"protocolVersion\":\"2025-11-25\"}}");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
    assert_int_equal(h.initialized, 0); /* ping does not count */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}");
    assert_int_equal(h.initialized, 1);
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    assert_int_equal(h.initialized, 1);
    host_deinit(&h);
}

static void test_mcp__ping_and_unknown_methods(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-11-25");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"p-1\",\"method\":\"ping\"}");
    expect_result(&h, "2025-11-25", "EmptyResult");
    assert_string_equal(str(sent(&h, -1), "id"), "p-1");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"foo/bar\"}");
    expect_error(&h, "2025-11-25", -32601, "Method not found: foo/bar", "5");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"server/discover\",\"params\":{\"_meta\":{"
           "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}");
    expect_error(&h, "2025-11-25", -32601, "Method not found: server/discover", "6");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"completion/complete\",\"params\":{}}");
    expect_error(&h, "2025-11-25", -32601, "Method not found: completion/complete", "7");
    /* A long method name is cut in the message. */
    char longname[600];
    memset(longname, 'm', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"%s\"}", longname);
    const char *msg = str(sent(&h, -1), "error.message");
    assert_true(strlen(msg) < 200);
    assert_non_null(strstr(msg, "..."));
    /* Unknown notifications and client responses are ignored. */
    int before = nsent(&h);
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/roots/list_changed\"}");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":98,\"error\":{\"code\":-1,\"message\":\"x\"}}");
    assert_int_equal(nsent(&h), before);
    host_deinit(&h);
}

/* Every request is answered at once, whatever its id: a valid one under
 * its own id as sent, a refused integer one with -32600 under its own
 * digits, any other with -32600 under null (the socket and stdio take
 * this path; tests/unit/test_jsonrpc.c has the full table). */
static void test_mcp__ids_answered_as_sent(void **state)
{
    (void)state;
    static const struct {
        const char *id, *echo;
        bool taken;
    } rows[] = {
        {"0.5", "null", false},
        {"1e2", "null", false},
        {"-0", "-0", false},
        {"1e300", "null", false},
        {"9007199254740992", "9007199254740992", false},
        {"9007199254740993", "9007199254740993", false},
        {"18446744073709551616", "18446744073709551616", false},
        {"9007199254740991", "9007199254740991", true},
        {"1000000000000000", "1000000000000000", true},
        {"-1", "-1", true},
        {"\"1\"", "\"1\"", true},
        {"true", "null", false},
        {"{}", "null", false},
    };
    struct fake_host h;
    open_session(&h, "2025-11-25");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int before = nsent(&h);
        in(&h, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}", rows[i].id);
        assert_int_equal(nsent(&h), before + 1);
        const char *raw = cJSON_GetArrayItem(h.raw, before)->valuestring;
        char want[256];
        if (rows[i].taken)
            snprintf(want, sizeof(want), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}",
                     rows[i].echo);
        else
            snprintf(
                want, sizeof(want),
                "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32600,\"message\":\"%s\"}}",
                rows[i].echo,
                "Invalid Request: \\\"id\\\" must be a string or an integer "
                "from -(2^53 - 1) to 2^53 - 1 written plainly (no fraction, "
                "exponent or -0)");
        if (strcmp(raw, want) != 0)
            fail_msg("id %s: sent %s, want %s", rows[i].id, raw, want);
    }
    host_deinit(&h);
}

static void test_mcp__malformed_messages(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-11-25");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,");
    expect_error(&h, "2025-11-25", -32700, "Parse error: message is not valid JSON", "null");
    mcp_session_handle(h.s, "{\"a\":\"\xff\"}", 9);
    expect_error(&h, "2025-11-25", -32700, "Parse error: message is not valid UTF-8", "null");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":3}");
    expect_error(&h, "2025-11-25", -32600, "Invalid Request: \"method\" must be a string", "2");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}");
    expect_error(&h, "2025-11-25", -32600, JSONRPC_ID_REFUSED, "null");
    in(&h, "{\"id\":3,\"method\":\"ping\"}");
    expect_error(&h, "2025-11-25", -32600, "Invalid Request: \"jsonrpc\" must be \"2.0\"", "3");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\",\"params\":[1]}");
    expect_error(&h, "2025-11-25", -32602, "Invalid params: params must be an object", "4");
    /* A U+0000 in an argument or a key twice refuses the whole message
     * before any tool runs, with the request's id when it is certain. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"lock_file\",\"arguments\":{\"file\":\"src/a\\u0000b.c\"}}}");
    expect_error(&h, "2025-11-25", -32600, "Invalid Request: string contains U+0000 at offset 101",
                 "5");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"six\",\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"lock_file\",\"arguments\":{\"file\":\"a\",\"file\":\"b\"}}}");
    expect_error(&h, "2025-11-25", -32600, "Invalid Request: duplicate key \"file\" at offset 103",
                 "\"six\"");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":7,\"id\":8,\"method\":\"ping\"}");
    expect_error(&h, "2025-11-25", -32600, "Invalid Request: duplicate key \"id\" at offset 24",
                 "null");
    assert_int_equal(h.ncalls, 0);
    /* Large integer ids are echoed exactly, as integers. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":9007199254740991,\"method\":\"ping\"}");
    assert_string_equal(last_raw(&h),
                        "{\"jsonrpc\":\"2.0\",\"id\":9007199254740991,\"result\":{}}");
    /* 1e15 is not an integer literal: refused, never answered as 10^15. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1e15,\"method\":\"ping\"}");
    expect_error(&h, "2025-11-25", -32600, JSONRPC_ID_REFUSED, "null");
    host_deinit(&h);
}

/* ---- logging -------------------------------------------------------------- */

static void test_mcp__set_level_filters_log_messages(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-11-25");
    cJSON *data = cJSON_CreateString("lease expired");
    mcp_session_log(h.s, MCP_LOG_DEBUG, "hub", data); /* below the default (info) */
    assert_int_equal(nsent(&h), 0);
    mcp_session_log(h.s, MCP_LOG_INFO, "hub", data);
    assert_int_equal(nsent(&h), 1);
    const cJSON *m = sent(&h, -1);
    assert_schema("2025-11-25", "LoggingMessageNotification", m);
    assert_string_equal(str(m, "method"), "notifications/message");
    assert_string_equal(str(m, "params.level"), "info");
    assert_string_equal(str(m, "params.logger"), "hub");
    assert_string_equal(str(m, "params.data"), "lease expired");

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\",\"params\":{\"level\":"
           "\"warning\"}}");
    expect_result(&h, "2025-11-25", "EmptyResult");
    clear(&h);
    mcp_session_log(h.s, MCP_LOG_NOTICE, "hub", data);
    assert_int_equal(nsent(&h), 0);
    mcp_session_log(h.s, MCP_LOG_WARNING, NULL, NULL);
    mcp_session_log(h.s, MCP_LOG_EMERGENCY, "guide", data);
    assert_int_equal(nsent(&h), 2);
    assert_schema("2025-11-25", "LoggingMessageNotification", sent(&h, 0));
    assert_null(get(sent(&h, 0), "params.logger"));
    assert_true(cJSON_IsNull(get(sent(&h, 0), "params.data")));
    assert_string_equal(str(sent(&h, 1), "params.level"), "emergency");

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"logging/setLevel\",\"params\":{\"level\":"
           "\"verbose\"}}");
    expect_error(&h, "2025-11-25", -32602,
                 "Invalid params: level must be one of debug, info, notice, warning, error, "
                 "critical, alert, emergency",
                 "2");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"logging/setLevel\"}");
    expect_error(&h, "2025-11-25", -32602,
                 "Invalid params: level must be one of debug, info, notice, warning, error, "
                 "critical, alert, emergency",
                 "3");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"logging/setLevel\",\"params\":{\"level\":"
           "\"debug\"}}");
    clear(&h);
    mcp_session_log(h.s, MCP_LOG_DEBUG, "hub", data);
    assert_int_equal(nsent(&h), 1);
    cJSON_Delete(data);

    assert_int_equal(mcp_log_level_parse("alert"), MCP_LOG_ALERT);
    assert_int_equal(mcp_log_level_parse("Alert"), -1);
    assert_int_equal(mcp_log_level_parse(NULL), -1);
    assert_string_equal(mcp_log_level_name(MCP_LOG_CRITICAL), "critical");
    host_deinit(&h);
}

/* ---- tools ---------------------------------------------------------------- */

/* base64url without padding, as the engine's cursors. */
static void b64url(const char *raw, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned acc = 0;
    int bits = 0;
    for (; *raw; raw++) {
        acc = (acc << 8) | (unsigned char)*raw;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            *out++ = a[(acc >> bits) & 63];
        }
    }
    if (bits)
        *out++ = a[(acc << (6 - bits)) & 63];
    *out = '\0';
}

static void test_mcp__tools_list_paginates(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-11-25");
    size_t ntools;
    const struct tool_def *all = tools_all(&ntools);

    /* Default page size: everything at once. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    const cJSON *r = expect_result(&h, "2025-11-25", "ListToolsResult");
    assert_int_equal(cJSON_GetArraySize(get(r, "tools")), (int)ntools);
    assert_null(get(r, "nextCursor"));

    mcp_session_set_page_size(h.s, 7);
    size_t seen = 0;
    char cursor[128] = "";
    int pages = 0;
    do {
        if (cursor[0])
            in(&h,
               "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{"
               "\"cursor\":\"%s\"}}",
               cursor);
        else
            in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{}}");
        r = expect_result(&h, "2025-11-25", "ListToolsResult");
        const cJSON *t;
        cJSON_ArrayForEach(t, get(r, "tools"))
        {
            assert_true(seen < ntools);
            assert_string_equal(str(t, "name"), all[seen].name);
            assert_non_null(get(t, "outputSchema"));
            assert_non_null(get(t, "title"));
            seen++;
        }
        const cJSON *next = get(r, "nextCursor");
        snprintf(cursor, sizeof(cursor), "%s", next ? next->valuestring : "");
        pages++;
    } while (cursor[0]);
    assert_int_equal(seen, ntools);
    assert_int_equal(pages, (int)((ntools + 6) / 7));

    /* Bad cursors. */
    char forged[64];
    const char *bad[5] = {"garbage!", "", forged, NULL, NULL};
    b64url("tools:999", forged);
    char zero[64], other[64];
    b64url("tools:0", zero);
    b64url("resources:1", other);
    bad[3] = zero;
    bad[4] = other;
    for (int i = 0; i < 5; i++) {
        in(&h,
           "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{\"cursor\":"
           "\"%s\"}}",
           bad[i]);
        expect_error(&h, "2025-11-25", -32602, "Invalid params: invalid cursor", "3");
    }
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\",\"params\":{\"cursor\":7}}");
    expect_error(&h, "2025-11-25", -32602, "Invalid params: invalid cursor", "4");
    /* A cursor the engine could issue is accepted. */
    char ok[64];
    b64url("tools:14", ok);
    in(&h,
       "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\",\"params\":{\"cursor\":\"%s\"}}",
       ok);
    r = expect_result(&h, "2025-11-25", "ListToolsResult");
    assert_string_equal(str(r, "tools.0.name"), all[14].name);
    host_deinit(&h);
}

static void test_mcp__tools_call_validation_error(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-11-25");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"lock_file\",\"arguments\":{\"file\":\"a.c\",\"ttl\":0}}}");
    const cJSON *r = expect_result(&h, "2025-11-25", "CallToolResult");
    assert_true(cJSON_IsTrue(get(r, "isError")));
    assert_string_equal(str(r, "content.0.type"), "text");
    assert_string_equal(str(r, "content.0.text"),
                        "argument 'ttl': must be an integer between 1 and 86400");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"lock_file\",\"arguments\":{\"fiel\":\"a.c\"}}}");
    r = expect_result(&h, "2025-11-25", "CallToolResult");
    assert_string_equal(str(r, "content.0.text"), "unknown argument 'fiel'");
    assert_int_equal(h.ncalls, 0);

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"nope\"}}");
    expect_error(&h, "2025-11-25", -32602, "Unknown tool: nope", "3");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{}}");
    expect_error(&h, "2025-11-25", -32602, "Invalid params: tools/call needs a string 'name'", "4");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_agents\",\"arguments\":[]}}");
    expect_error(&h, "2025-11-25", -32602, "Invalid params: 'arguments' must be an object", "5");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"get_guidance\"}}");
    expect_error(&h, "2025-11-25", -32602, "Unknown tool: get_guidance", "6");
    assert_int_equal(h.ncalls, 0);
    host_deinit(&h);
}

static void test_mcp__tools_call_dispatch_and_done(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-11-25");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"L1\",\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"lock_file\",\"arguments\":{\"file\":\"src/api.rs\",\"reason\":\"refactor\"}}}");
    assert_int_equal(nsent(&h), 0); /* answered when the host finishes */
    assert_int_equal(h.ncalls, 1);
    assert_int_equal(h.calls[0].id, 1);
    assert_string_equal(h.calls[0].name, "lock_file");
    assert_string_equal(str(h.calls[0].args, "file"), "src/api.rs");

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_agents\"}}");
    assert_int_equal(h.ncalls, 2);
    assert_int_equal(h.calls[1].id, 2);
    assert_true(cJSON_IsObject(h.calls[1].args)); /* no arguments → {} */
    assert_int_equal(cJSON_GetArraySize(h.calls[1].args), 0);

    /* The same id while the first call is in flight is refused. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"L1\",\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_agents\"}}");
    expect_error(&h, "2025-11-25", -32600,
                 "Invalid Request: id is already used by a call in progress", "\"L1\"");
    clear(&h);

    cJSON *res = cJSON_Parse("{\"success\":true,\"locked\":true,\"file\":\"src/api.rs\","
                             "\"token\":1042,\"expiresAt\":\"2026-11-24T21:14:31.123Z\"}");
    char *text = cJSON_PrintUnformatted(res);
    mcp_session_tool_done(h.s, 1, res, false);
    const cJSON *r = expect_result(&h, "2025-11-25", "CallToolResult");
    assert_string_equal(str(sent(&h, -1), "id"), "L1");
    assert_string_equal(str(r, "content.0.type"), "text");
    assert_string_equal(str(r, "content.0.text"), text);
    assert_int_equal(num(r, "structuredContent.token"), 1042);
    assert_null(get(r, "isError"));
    free(text);
    char *msg = NULL;
    assert_true(tools_validate_result(tools_find("lock_file"), get(r, "structuredContent"), &msg));

    /* Completing again (or an unknown id) sends nothing. */
    mcp_session_tool_done(h.s, 1, cJSON_CreateObject(), false);
    mcp_session_tool_done(h.s, 77, cJSON_CreateObject(), false);
    mcp_session_tool_fail(h.s, 77, -32603, "x");
    assert_int_equal(nsent(&h), 1);

    /* A tool error result. */
    mcp_session_tool_done(h.s, 2, cJSON_Parse("{\"error\":\"not registered\"}"), true);
    r = expect_result(&h, "2025-11-25", "CallToolResult");
    assert_true(cJSON_IsTrue(get(r, "isError")));
    assert_int_equal(num(sent(&h, -1), "id"), 7);

    /* A JSON-RPC failure. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_tasks\",\"arguments\":{}}}");
    mcp_session_tool_fail(h.s, h.calls[2].id, -32603, "store unavailable");
    expect_error(&h, "2025-11-25", -32603, "store unavailable", "8");

    /* A host that answers from inside tool_call. */
    h.complete_inline = true;
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_servers\",\"arguments\":null}}");
    r = expect_result(&h, "2025-11-25", "CallToolResult");
    assert_true(cJSON_IsTrue(get(r, "structuredContent.inline")));
    host_deinit(&h);
}

static void test_mcp__cancellation(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-06-18");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"wait_for_events\",\"arguments\":{\"timeoutMs\":60000}}}");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"wait_for_events\",\"arguments\":{}}}");
    assert_int_equal(h.ncalls, 2);
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
           "\"requestId\":11,\"reason\":\"user stopped\"}}");
    assert_int_equal(h.ncancelled, 1);
    assert_int_equal(h.cancelled[0], h.calls[0].id);
    assert_int_equal(nsent(&h), 0);
    /* The host finishing it anyway sends nothing; the other call answers. */
    mcp_session_tool_done(h.s, h.calls[0].id, cJSON_CreateObject(), false);
    assert_int_equal(nsent(&h), 0);
    /* Unknown, repeated and mistyped cancellations are ignored. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
           "\"requestId\":11}}");
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
           "\"requestId\":\"12\"}}");
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\"}");
    assert_int_equal(h.ncancelled, 1);
    mcp_session_tool_done(h.s, h.calls[1].id, cJSON_Parse("{\"events\":[],\"lastId\":\"5\"}"),
                          false);
    assert_int_equal(num(sent(&h, -1), "id"), 12);
    expect_result(&h, "2025-06-18", "CallToolResult");
    /* Cancelling after the answer does nothing. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
           "\"requestId\":12}}");
    assert_int_equal(h.ncancelled, 1);
    host_deinit(&h);
}

static void test_mcp__progress(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-11-25");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"lock_file\",\"arguments\":{\"file\":\"a\",\"waitMs\":5000},\"_meta\":{"
           "\"progressToken\":\"tok-1\"}}}");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"lock_file\",\"arguments\":{\"file\":\"b\"}}}");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"lock_file\",\"arguments\":{\"file\":\"c\"},\"_meta\":{\"progressToken\":"
           "1000000000000000}}}");
    uint64_t c1 = h.calls[0].id, c2 = h.calls[1].id, c3 = h.calls[2].id;

    mcp_session_progress(h.s, c1, 1, 5, "queued behind cursor-1a2b3c");
    assert_int_equal(nsent(&h), 1);
    const cJSON *m = sent(&h, -1);
    assert_schema("2025-11-25", "ProgressNotification", m);
    assert_string_equal(str(m, "method"), "notifications/progress");
    assert_string_equal(str(m, "params.progressToken"), "tok-1");
    assert_int_equal(num(m, "params.progress"), 1);
    assert_int_equal(num(m, "params.total"), 5);
    assert_string_equal(str(m, "params.message"), "queued behind cursor-1a2b3c");

    mcp_session_progress(h.s, c1, 1, 5, NULL); /* not increasing: dropped */
    assert_int_equal(nsent(&h), 1);
    mcp_session_progress(h.s, c1, 2, 0, NULL); /* no total */
    assert_int_equal(nsent(&h), 2);
    assert_null(get(sent(&h, -1), "params.total"));
    assert_null(get(sent(&h, -1), "params.message"));

    mcp_session_progress(h.s, c2, 1, 0, NULL); /* no progressToken: nothing */
    assert_int_equal(nsent(&h), 2);

    clear(&h);
    mcp_session_progress(h.s, c3, 0.5, 1, NULL);
    assert_schema("2025-11-25", "ProgressNotification", sent(&h, -1));
    assert_non_null(strstr(last_raw(&h), "\"progressToken\":1000000000000000,"));

    mcp_session_tool_done(h.s, c1, cJSON_CreateObject(), false);
    int before = nsent(&h);
    mcp_session_progress(h.s, c1, 3, 5, NULL); /* finished: nothing */
    assert_int_equal(nsent(&h), before);
    host_deinit(&h); /* frees the calls still in flight */
}

/* Another provider's tools, as a hub serves them beside the core's: its
 * own schema enforced by the engine, a schema beyond schema_check (a
 * proxied tool's) passed on with only object-ness checked. */
static const struct tool_def other_guidance = {
    .name = "get_guidance",
    .title = "Get guidance",
    .description = "d",
    .input_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
                    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}}}",
    .output_schema = "{\"type\":\"object\",\"properties\":{\"messages\":{\"type\":\"array\"}}}",
    .read_only = true,
};
static const struct tool_def other_search = {
    .name = "github__search",
    .description = "proxied",
    .input_schema = "{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\","
                    "\"format\":\"regex\"}},\"required\":[\"q\"]}",
};
static const struct tool_def other_clash = {
    .name = "lock_file", .description = "not the core's", .input_schema = "{\"type\":\"object\"}"};

struct other_provider {
    const struct tool_def *defs[3];
    size_t n;
};

static const struct tool_def *const *other_list(void *self, size_t *n)
{
    struct other_provider *p = self;
    *n = p->n;
    return p->defs;
}

static const struct tool_provider_ops other_ops = {
    .name = "other", .list = other_list, .call = fake_provider_call};

static bool sent_list_changed(const struct fake_host *h, const char *version)
{
    for (int i = 0; i < nsent(h); i++) {
        const cJSON *m = sent(h, i);
        const cJSON *method = get(m, "method");
        if (cJSON_IsString(method) &&
            strcmp(method->valuestring, "notifications/tools/list_changed") == 0) {
            assert_schema(version, "ToolListChangedNotification", m);
            return true;
        }
    }
    return false;
}

static void test_mcp__other_provider_tools(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-11-25");
    struct other_provider other = {.defs = {&other_guidance, &other_search}, .n = 2};
    assert_int_equal(tool_registry_add(h.registry, &other_ops, &other), 0);
    assert_true(sent_list_changed(&h, "2025-11-25")); /* the catalog changed: told */
    /* A tool that clashes with the core's is dropped when the list is
     * read again: the core's keeps its name. */
    other.defs[2] = &other_clash;
    other.n = 3;
    tool_registry_changed(h.registry, &other);
    size_t nb;
    tools_all(&nb);
    mcp_session_set_page_size(h.s, nb + 1); /* the second page starts inside the other's */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    const cJSON *r = expect_result(&h, "2025-11-25", "ListToolsResult");
    assert_int_equal(cJSON_GetArraySize(get(r, "tools")), (int)nb + 1);
    assert_string_equal(str(cJSON_GetArrayItem(get(r, "tools"), (int)nb), "name"), "get_guidance");
    char cursor[128];
    snprintf(cursor, sizeof(cursor), "%s", str(r, "nextCursor"));
    in(&h,
       "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{\"cursor\":"
       "\"%s\"}}",
       cursor);
    r = expect_result(&h, "2025-11-25", "ListToolsResult");
    assert_int_equal(cJSON_GetArraySize(get(r, "tools")), 1); /* the clash dropped */
    assert_string_equal(str(r, "tools.0.name"), "github__search");
    assert_null(get(r, "nextCursor"));

    /* get_guidance: its simple schema is enforced by the engine. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"get_guidance\",\"arguments\":{\"limit\":0}}}");
    r = expect_result(&h, "2025-11-25", "CallToolResult");
    assert_string_equal(str(r, "content.0.text"),
                        "argument 'limit': must be an integer between 1 and 100");
    assert_int_equal(h.ncalls, 0);
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"get_guidance\",\"arguments\":{\"limit\":5}}}");
    assert_int_equal(h.ncalls, 1);
    assert_string_equal(h.calls[0].name, "get_guidance");
    /* A proxied tool whose schema uses keywords the engine does not
     * implement is passed through; only object-ness is checked. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"github__search\",\"arguments\":{}}}");
    assert_int_equal(h.ncalls, 2);
    assert_string_equal(h.calls[1].name, "github__search");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"github__search\",\"arguments\":\"q\"}}");
    expect_error(&h, "2025-11-25", -32602, "Invalid params: 'arguments' must be an object", "6");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"github__nope\"}}");
    expect_error(&h, "2025-11-25", -32602, "Unknown tool: github__nope", "7");

    /* The provider drops a tool: the session is told, the list no longer
     * has it and a call to it is an unknown tool, nothing reaching the
     * host. */
    clear(&h);
    other.n = 1;
    tool_registry_changed(h.registry, &other);
    assert_true(sent_list_changed(&h, "2025-11-25"));
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"github__search\",\"arguments\":{\"q\":\"x\"}}}");
    expect_error(&h, "2025-11-25", -32602, "Unknown tool: github__search", "8");
    assert_int_equal(h.ncalls, 2);
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\"}");
    r = expect_result(&h, "2025-11-25", "ListToolsResult");
    assert_int_equal(cJSON_GetArraySize(get(r, "tools")), (int)nb + 1);
    assert_null(get(r, "nextCursor"));
    host_deinit(&h);

    /* 2025-03-26 sessions get the other's tools without title and
     * outputSchema. */
    open_session(&h, "2025-03-26");
    other.n = 2;
    assert_int_equal(tool_registry_add(h.registry, &other_ops, &other), 0);
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    r = expect_result(&h, "2025-03-26", "ListToolsResult");
    const cJSON *g = cJSON_GetArrayItem(get(r, "tools"), (int)nb);
    assert_string_equal(str(g, "name"), "get_guidance");
    assert_null(get(g, "title"));
    assert_null(get(g, "outputSchema"));
    host_deinit(&h);

    /* A session not initialised yet is not told (nothing before the
     * initialize answer). */
    host_init(&h);
    assert_int_equal(tool_registry_add(h.registry, &other_ops, &other), 0);
    assert_int_equal(nsent(&h), 0);
    host_deinit(&h);
}

/* ---- resources and prompts ------------------------------------------------- */

static void test_mcp__resources(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-11-25");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}");
    const cJSON *r = expect_result(&h, "2025-11-25", "ListResourcesResult");
    const char *uris[] = {"coord://status", "coord://agents", "coord://locks",
                          "coord://tasks",  "coord://health", "coord://events/recent"};
    assert_int_equal(cJSON_GetArraySize(get(r, "resources")), 6);
    for (int i = 0; i < 6; i++) {
        const cJSON *res = cJSON_GetArrayItem(get(r, "resources"), i);
        assert_string_equal(str(res, "uri"), uris[i]);
        assert_string_equal(str(res, "mimeType"), "application/json");
        assert_true(strlen(str(res, "name")) > 0);
        assert_true(strlen(str(res, "title")) > 0);
        assert_true(strlen(str(res, "description")) > 20);
    }
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/templates/list\"}");
    r = expect_result(&h, "2025-11-25", "ListResourceTemplatesResult");
    assert_int_equal(cJSON_GetArraySize(get(r, "resourceTemplates")), 0);

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":"
           "\"coord://locks\"}}");
    r = expect_result(&h, "2025-11-25", "ReadResourceResult");
    assert_string_equal(str(r, "contents.0.uri"), "coord://locks");
    assert_string_equal(str(r, "contents.0.mimeType"), "application/json");
    assert_string_equal(str(r, "contents.0.text"), "{\"resource\":\"locks\",\"n\":3}");

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/read\",\"params\":{\"uri\":"
           "\"file:///etc/passwd\"}}");
    expect_error(&h, "2025-11-25", -32002, "Resource not found", "4");
    assert_string_equal(str(sent(&h, -1), "error.data.uri"), "file:///etc/passwd");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"resources/read\",\"params\":{}}");
    expect_error(&h, "2025-11-25", -32602, "Invalid params: 'uri' must be a string", "5");

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"resources/subscribe\",\"params\":{\"uri\":"
           "\"coord://locks\"}}");
    expect_result(&h, "2025-11-25", "EmptyResult");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/subscribe\",\"params\":{\"uri\":"
           "\"coord://nothing\"}}");
    expect_error(&h, "2025-11-25", -32002, "Resource not found", "7");
    assert_string_equal(str(sent(&h, -1), "error.data.uri"), "coord://nothing");
    clear(&h);

    mcp_session_resource_updated(h.s, "coord://locks");
    mcp_session_resource_updated(h.s, "coord://tasks"); /* not subscribed */
    mcp_session_resource_updated(h.s, "coord://bogus");
    assert_int_equal(nsent(&h), 1);
    assert_schema("2025-11-25", "ResourceUpdatedNotification", sent(&h, 0));
    assert_string_equal(str(sent(&h, 0), "method"), "notifications/resources/updated");
    assert_string_equal(str(sent(&h, 0), "params.uri"), "coord://locks");

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"resources/unsubscribe\",\"params\":{"
           "\"uri\":\"coord://locks\"}}");
    expect_result(&h, "2025-11-25", "EmptyResult");
    clear(&h);
    mcp_session_resource_updated(h.s, "coord://locks");
    assert_int_equal(nsent(&h), 0);
    host_deinit(&h);
}

static void test_mcp__prompts(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-06-18");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}");
    const cJSON *r = expect_result(&h, "2025-06-18", "ListPromptsResult");
    assert_int_equal(cJSON_GetArraySize(get(r, "prompts")), 1);
    assert_string_equal(str(r, "prompts.0.name"), "coordination_protocol");
    assert_non_null(get(r, "prompts.0.title"));

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/get\",\"params\":{\"name\":"
           "\"coordination_protocol\"}}");
    r = expect_result(&h, "2025-06-18", "GetPromptResult");
    assert_string_equal(str(r, "messages.0.role"), "user");
    assert_string_equal(str(r, "messages.0.content.type"), "text");
    const char *text = str(r, "messages.0.content.text");
    assert_true(strlen(text) > 2000);
    const char *needles[] = {
        "## Why",    "## The workflow", "## Handling refusals", "## Fencing tokens", "## Waiting",
        "lock_file", "claim_task",      "wait_for_events",      "check_lock"};
    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
        if (!strstr(text, needles[i]))
            fail_msg("prompt lacks '%s'", needles[i]);

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"prompts/get\",\"params\":{\"name\":"
           "\"other\"}}");
    expect_error(&h, "2025-06-18", -32602, "Unknown prompt: other", "3");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"prompts/get\",\"params\":{}}");
    expect_error(&h, "2025-06-18", -32602, "Invalid params: 'name' must be a string", "4");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"prompts/get\",\"params\":{\"name\":"
           "\"coordination_protocol\",\"arguments\":5}}");
    expect_error(&h, "2025-06-18", -32602, "Invalid params: 'arguments' must be an object", "5");
    host_deinit(&h);
}

/* ---- revision differences and batches --------------------------------------- */

static void test_mcp__legacy_revision_omits_new_fields(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-03-26");
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    const cJSON *r = expect_result(&h, "2025-03-26", "ListToolsResult");
    const cJSON *t;
    cJSON_ArrayForEach(t, get(r, "tools"))
    {
        assert_null(get(t, "title"));
        assert_null(get(t, "outputSchema"));
        assert_non_null(get(t, "inputSchema"));
        assert_non_null(get(t, "annotations.title")); /* ToolAnnotations has it in 03-26 */
    }
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/list\"}");
    r = expect_result(&h, "2025-03-26", "ListResourcesResult");
    assert_null(get(r, "resources.0.title"));
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"prompts/list\"}");
    r = expect_result(&h, "2025-03-26", "ListPromptsResult");
    assert_null(get(r, "prompts.0.title"));
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_agents\"}}");
    mcp_session_tool_done(h.s, h.calls[0].id, cJSON_Parse("{\"agents\":[]}"), false);
    r = expect_result(&h, "2025-03-26", "CallToolResult");
    /* Kept on 2025-03-26 (docs/tools.md, "Versions"; an extra member its
     * Result allows). */
    assert_true(cJSON_IsArray(get(r, "structuredContent.agents")));
    assert_string_equal(str(r, "content.0.text"), "{\"agents\":[]}");
    host_deinit(&h);
}

static void test_mcp__batches_on_2025_03_26(void **state)
{
    (void)state;
    struct fake_host h;
    open_session(&h, "2025-03-26");
    in(&h, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
           "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_agents\"}},"
           "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
           "5,"
           "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":{"
           "\"protocolVersion\":\"2025-03-26\"}},"
           "[1],"
           "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"nope\"}]");
    assert_int_equal(nsent(&h), 0); /* waits for the tool call */
    assert_int_equal(h.ncalls, 1);
    mcp_session_tool_done(h.s, h.calls[0].id, cJSON_Parse("{\"agents\":[]}"), false);
    assert_int_equal(nsent(&h), 1);
    const cJSON *b = sent(&h, 0);
    assert_true(cJSON_IsArray(b));
    assert_int_equal(cJSON_GetArraySize(b), 6);
    const cJSON *e;
    cJSON_ArrayForEach(e, b)
    {
        if (!cJSON_IsNull(get(e, "id"))) /* JSON-RPC's null id is outside the MCP schema */
            assert_schema("2025-03-26", "JSONRPCMessage", e);
    }
    assert_int_equal(num(b, "0.id"), 1);
    assert_true(cJSON_IsObject(get(b, "0.result")));
    assert_int_equal(num(b, "1.error.code"), -32600); /* 5 */
    assert_int_equal(num(b, "2.id"), 3);
    assert_string_equal(str(b, "2.error.message"),
                        "Invalid Request: initialize must not be part of a batch");
    assert_int_equal(num(b, "3.error.code"), -32600); /* [1] */
    assert_int_equal(num(b, "4.error.code"), -32601);
    assert_int_equal(num(b, "5.id"), 2); /* the tool call, answered last */
    assert_string_equal(str(b, "5.result.content.0.text"), "{\"agents\":[]}");

    /* Only notifications: no answer at all. */
    clear(&h);
    in(&h, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
           "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}]");
    assert_int_equal(nsent(&h), 0);

    /* A cancelled call leaves the batch, which is then sent without it. */
    in(&h, "[{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_tasks\"}},{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"method\":\"ping\"}]");
    assert_int_equal(nsent(&h), 0);
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
           "\"requestId\":\"a\"}}");
    assert_int_equal(nsent(&h), 1);
    assert_int_equal(cJSON_GetArraySize(sent(&h, 0)), 1);
    assert_string_equal(str(sent(&h, 0), "0.id"), "b");

    /* Inline completion inside a batch. */
    clear(&h);
    h.complete_inline = true;
    in(&h, "[{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_tasks\"}}]");
    assert_int_equal(nsent(&h), 1);
    assert_string_equal(str(sent(&h, 0), "0.id"), "c");

    /* Empty batch: one error object, not an array. */
    clear(&h);
    in(&h, "[]");
    assert_int_equal(nsent(&h), 1);
    assert_true(cJSON_IsObject(sent(&h, 0)));
    expect_error(&h, "2025-03-26", -32600, "Invalid Request: empty batch", "null");

    /* A batch left pending when the session is freed is released. */
    h.complete_inline = false;
    in(&h, "[{\"jsonrpc\":\"2.0\",\"id\":\"d\",\"method\":\"tools/call\",\"params\":{\"name\":"
           "\"list_tasks\"}}]");
    host_deinit(&h);
}

static void test_mcp__batches_refused_on_later_revisions(void **state)
{
    (void)state;
    const char *versions[] = {"2025-11-25", "2025-06-18"};
    for (int i = 0; i < 2; i++) {
        struct fake_host h;
        open_session(&h, versions[i]);
        in(&h, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
        expect_error(&h, versions[i], -32600,
                     "Invalid Request: batches are not supported by this protocol version", "null");
        host_deinit(&h);
    }
    struct fake_host h;
    host_init(&h); /* before initialize */
    in(&h, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
           "\"protocolVersion\":\"2025-03-26\"}}]");
    expect_error(&h, "2025-03-26", -32600,
                 "Invalid Request: batches are not supported by this protocol version", "null");
    assert_false(mcp_session_is_initialized(h.s));
    host_deinit(&h);
}

/* ---- resume ------------------------------------------------------------------- */

static void test_mcp__resume(void **state)
{
    (void)state;
    struct fake_host h;
    host_init(&h);
    cJSON *bad = cJSON_Parse("{\"capabilities\":{}}");
    assert_int_equal(mcp_session_resume(h.s, bad), -ERR_INVALID);
    assert_int_equal(mcp_session_resume(h.s, NULL), -ERR_INVALID);
    cJSON_Delete(bad);
    assert_false(mcp_session_is_initialized(h.s));

    cJSON *params = cJSON_Parse("{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
                                "\"clientInfo\":{\"name\":\"cursor\",\"version\":\"1\"}}");
    assert_int_equal(mcp_session_resume(h.s, params), 0);
    cJSON_Delete(params); /* copied */
    assert_true(mcp_session_is_initialized(h.s));
    assert_int_equal(h.initialized, 1);
    assert_int_equal(nsent(&h), 0); /* no initialize answer */
    assert_string_equal(mcp_session_protocol_version(h.s), "2025-06-18");
    assert_string_equal(str(mcp_session_init_params(h.s), "clientInfo.name"), "cursor");

    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    expect_result(&h, "2025-06-18", "ListToolsResult");
    assert_int_equal(h.initialized, 1);
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{"
           "\"protocolVersion\":\"2025-06-18\"}}");
    expect_error(&h, "2025-06-18", -32600, "Invalid Request: session already initialized", "2");
    params = cJSON_Parse("{\"protocolVersion\":\"2025-06-18\"}");
    assert_int_equal(mcp_session_resume(h.s, params), -ERR_INVALID);
    cJSON_Delete(params);

    int marker = 5;
    mcp_session_set_userdata(h.s, &marker);
    assert_ptr_equal(mcp_session_userdata(h.s), &marker);
    host_deinit(&h);

    /* An unsupported version resumes on the latest, as a fresh
     * negotiation would have. */
    host_init(&h);
    params = cJSON_Parse("{\"protocolVersion\":\"2030-01-01\"}");
    assert_int_equal(mcp_session_resume(h.s, params), 0);
    cJSON_Delete(params);
    assert_string_equal(mcp_session_protocol_version(h.s), "2025-11-25");
    host_deinit(&h);
    mcp_session_free(NULL);
}

/* ---- roots ---------------------------------------------------------------- */

static const char *init_with_roots =
    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
    "\"2025-11-25\",\"capabilities\":{\"roots\":{\"listChanged\":true}},\"clientInfo\":{"
    "\"name\":\"test\",\"version\":\"1\"}}}";

#define LOCK_CALL(id)                                                                              \
    "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"tools/call\",\"params\":{\"name\":"          \
    "\"lock_file\",\"arguments\":{\"file\":\"src/a.c\"}}}"

/* The last roots/list the engine sent, checked against the schema; its id. */
static const char *expect_roots_request(const struct fake_host *h)
{
    const cJSON *m = sent(h, -1);
    assert_string_equal(str(m, "method"), "roots/list");
    assert_schema("2025-11-25", "JSONRPCRequest", m);
    assert_schema("2025-11-25", "ListRootsRequest", m);
    return str(m, "id");
}

static void test_mcp__roots_listed_and_calls_held_meanwhile(void **state)
{
    (void)state;
    struct fake_host h;
    host_init(&h);
    h.want_roots = true;
    in(&h, "%s", init_with_roots);
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    assert_true(mcp_session_client_has_roots(h.s));
    assert_int_equal(h.roots_requested, 1);
    char id[64];
    snprintf(id, sizeof(id), "%s", expect_roots_request(&h));
    /* A call made before the answer waits for it, and so does one after
     * it within the same batch of input. */
    in(&h, LOCK_CALL(5));
    in(&h, LOCK_CALL(6));
    assert_int_equal(h.ncalls, 0);
    /* A response to something the engine never asked is ignored. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"other\",\"result\":{\"roots\":[]}}");
    assert_int_equal(h.roots_listed, 0);
    in(&h,
       "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"roots\":[{\"uri\":\"file:///w/a\","
       "\"name\":\"a\"},{\"uri\":\"file:///w/b\"}]}}",
       id);
    assert_int_equal(h.roots_listed, 1);
    assert_int_equal(h.calls_at_listing, 0); /* roots first, then the calls */
    assert_int_equal(cJSON_GetArraySize(h.roots), 2);
    assert_string_equal(str(h.roots, "0.uri"), "file:///w/a");
    assert_int_equal(h.ncalls, 2);
    assert_true(h.calls[0].id < h.calls[1].id); /* oldest first */
    assert_string_equal(str(h.calls[0].args, "file"), "src/a.c");
    /* The same answer twice is not taken twice. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"roots\":[]}}", id);
    assert_int_equal(h.roots_listed, 1);
    /* Later calls go straight to the host. */
    in(&h, LOCK_CALL(7));
    assert_int_equal(h.ncalls, 3);
    host_deinit(&h);
}

static void test_mcp__roots_list_changed_asks_again(void **state)
{
    (void)state;
    struct fake_host h;
    host_init(&h);
    h.want_roots = true;
    in(&h, "%s", init_with_roots);
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    char id1[64], id2[64];
    snprintf(id1, sizeof(id1), "%s", expect_roots_request(&h));
    /* Changed while the first is unanswered: one more request after it. */
    int before = nsent(&h);
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/roots/list_changed\"}");
    assert_int_equal(nsent(&h), before);
    in(&h, LOCK_CALL(8));
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"roots\":[{\"uri\":\"file:///old\"}]}}",
       id1);
    assert_int_equal(h.roots_listed, 1);
    snprintf(id2, sizeof(id2), "%s", expect_roots_request(&h));
    assert_string_not_equal(id1, id2);
    assert_int_equal(h.ncalls, 0); /* still held: the roots changed */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"roots\":[{\"uri\":\"file:///new\"}]}}",
       id2);
    assert_int_equal(h.roots_listed, 2);
    assert_string_equal(str(h.roots, "0.uri"), "file:///new");
    assert_int_equal(h.ncalls, 1);
    /* An error answer lists no roots and releases the calls. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/roots/list_changed\"}");
    snprintf(id1, sizeof(id1), "%s", expect_roots_request(&h));
    in(&h, LOCK_CALL(9));
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"error\":{\"code\":-32601,\"message\":\"no\"}}",
       id1);
    assert_int_equal(h.roots_listed, 3);
    assert_null(h.roots);
    assert_int_equal(h.ncalls, 2);
    host_deinit(&h);
}

static void test_mcp__roots_give_up_and_cancel_held(void **state)
{
    (void)state;
    struct fake_host h;
    host_init(&h);
    h.want_roots = true;
    in(&h, "%s", init_with_roots);
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    char id[64];
    snprintf(id, sizeof(id), "%s", expect_roots_request(&h));
    in(&h, LOCK_CALL(10));
    in(&h, LOCK_CALL(11));
    /* Cancelling a held call: never reaches the host, no cancel either. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
           "\"requestId\":10}}");
    assert_int_equal(h.ncancelled, 0);
    mcp_session_roots_give_up(h.s);
    assert_int_equal(h.ncalls, 1);
    /* The late answer is still passed on. */
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"roots\":[{\"uri\":\"file:///x\"}]}}",
       id);
    assert_int_equal(h.roots_listed, 1);
    assert_int_equal(h.ncalls, 1);
    host_deinit(&h);
}

static void test_mcp__roots_not_asked_without_the_capability(void **state)
{
    (void)state;
    struct fake_host h;
    host_init(&h);
    h.want_roots = true;
    in(&h, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
           "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{"
           "\"name\":\"test\",\"version\":\"1\"}}}");
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    assert_false(mcp_session_client_has_roots(h.s));
    assert_int_equal(h.roots_requested, 0);
    assert_int_equal(nsent(&h), 1); /* only the initialize answer */
    in(&h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/roots/list_changed\"}");
    assert_int_equal(nsent(&h), 1);
    in(&h, LOCK_CALL(3));
    assert_int_equal(h.ncalls, 1);
    host_deinit(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mcp__schemas_available),
        cmocka_unit_test(test_mcp__handshake_each_version),
        cmocka_unit_test(test_mcp__unknown_version_gets_latest),
        cmocka_unit_test(test_mcp__initialize_errors),
        cmocka_unit_test(test_mcp__requests_before_initialize_are_refused),
        cmocka_unit_test(test_mcp__request_after_initialize_completes_handshake),
        cmocka_unit_test(test_mcp__ping_and_unknown_methods),
        cmocka_unit_test(test_mcp__malformed_messages),
        cmocka_unit_test(test_mcp__ids_answered_as_sent),
        cmocka_unit_test(test_mcp__set_level_filters_log_messages),
        cmocka_unit_test(test_mcp__tools_list_paginates),
        cmocka_unit_test(test_mcp__tools_call_validation_error),
        cmocka_unit_test(test_mcp__tools_call_dispatch_and_done),
        cmocka_unit_test(test_mcp__other_provider_tools),
        cmocka_unit_test(test_mcp__cancellation),
        cmocka_unit_test(test_mcp__progress),
        cmocka_unit_test(test_mcp__resources),
        cmocka_unit_test(test_mcp__prompts),
        cmocka_unit_test(test_mcp__legacy_revision_omits_new_fields),
        cmocka_unit_test(test_mcp__batches_on_2025_03_26),
        cmocka_unit_test(test_mcp__batches_refused_on_later_revisions),
        cmocka_unit_test(test_mcp__resume),
        cmocka_unit_test(test_mcp__roots_listed_and_calls_held_meanwhile),
        cmocka_unit_test(test_mcp__roots_list_changed_asks_again),
        cmocka_unit_test(test_mcp__roots_give_up_and_cancel_held),
        cmocka_unit_test(test_mcp__roots_not_asked_without_the_capability),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
