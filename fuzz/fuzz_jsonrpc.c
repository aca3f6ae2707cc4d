/* fuzz_jsonrpc — libFuzzer driver for the JSON-RPC framer and the MCP
 * session engine.
 *
 * The input is a byte stream as a client would write it on stdio. The
 * first byte picks how the stream is cut into reads (so split lines and
 * partial CRLFs are explored); the rest goes through two framers, one with
 * the real 1 MiB cap and one with a 200-byte cap (so the oversize path is
 * reached with small inputs), and every framed message goes to an MCP
 * session whose fake host answers tool calls inline, later, with progress,
 * or as failures, depending on the call id.
 *
 * Invariants checked (abort() = a finding):
 *   - every message the engine sends is one line of valid JSON, an
 *     object with "jsonrpc":"2.0" or a non-empty array of such objects;
 *   - the framer never holds more than its cap + 1 bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rpc/catalog.h"
#include "rpc/jsonrpc.h"
#include "rpc/mcp.h"
#include "rpc/registry.h"
#include "rpc/tools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEFERRED_MAX 16

struct fuzz_host {
    struct mcp_session *s;
    uint64_t deferred[DEFERRED_MAX]; /* tool calls to finish at the end */
    size_t ndeferred;
};

static void check_envelope(const cJSON *v)
{
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(v, "jsonrpc");
    if (!cJSON_IsObject(v) || !cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0)
        abort();
}

static void host_send(void *host, struct mcp_session *s, const char *msg, size_t len)
{
    (void)host;
    (void)s;
    if (len == 0 || memchr(msg, '\n', len))
        abort();
    cJSON *v = cJSON_ParseWithLength(msg, len);
    if (!v)
        abort();
    if (cJSON_IsArray(v)) {
        if (cJSON_GetArraySize(v) == 0)
            abort();
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            check_envelope(e);
        }
    } else {
        check_envelope(v);
    }
    cJSON_Delete(v);
}

static void host_tool_call(void *host, struct mcp_session *s, uint64_t call_id, const char *name,
                           const cJSON *args)
{
    struct fuzz_host *h = host;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "tool", name);
    cJSON_AddItemToObject(r, "args", cJSON_Duplicate(args, 1));
    switch (call_id % 4) {
    case 0:
        mcp_session_tool_done(s, call_id, r, false);
        return;
    case 1:
        mcp_session_progress(s, call_id, 1, 2, "working");
        mcp_session_tool_done(s, call_id, r, true);
        return;
    case 2:
        cJSON_Delete(r);
        if (h->ndeferred < DEFERRED_MAX) {
            h->deferred[h->ndeferred++] = call_id;
            return;
        }
        mcp_session_tool_fail(s, call_id, -32603, "busy");
        return;
    default:
        cJSON_Delete(r);
        mcp_session_tool_fail(s, call_id, -32603, "store unavailable");
        return;
    }
}

static void host_tool_cancel(void *host, struct mcp_session *s, uint64_t call_id)
{
    (void)host;
    /* Completing a cancelled call must be a harmless no-op. */
    mcp_session_tool_done(s, call_id, cJSON_CreateObject(), false);
}

static cJSON *host_resource_read(void *host, struct mcp_session *s, const char *uri)
{
    (void)host;
    (void)s;
    if (strncmp(uri, "coord://", 8) != 0)
        return NULL;
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "uri", uri);
    return v;
}

static void host_initialized(void *host, struct mcp_session *s)
{
    (void)host;
    mcp_session_log(s, MCP_LOG_INFO, "fuzz", NULL);
}

/* The host's catalog: the core's tools and another provider's, one with a
 * schema the engine enforces and one beyond schema_check (passed on).
 * Built once; read-only afterwards. */
static const struct tool_def fuzz_other_defs[] = {
    {.name = "get_guidance",
     .input_schema = "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
                     "\"limit\":{\"type\":\"integer\",\"minimum\":1}}}"},
    {.name = "srv__tool", .input_schema = "{\"type\":\"object\",\"anyOf\":[]}"},
};
static const struct tool_def *fuzz_defs[64];
static size_t fuzz_ndefs;

static const struct tool_def *const *fuzz_list(void *self, size_t *n)
{
    (void)self;
    *n = fuzz_ndefs;
    return fuzz_defs;
}

static void fuzz_provider_call(void *self, struct tool_call *call, const struct tool_def *def,
                               const cJSON *args)
{
    (void)self;
    (void)call;
    (void)def;
    (void)args;
}

static const struct tool_provider_ops fuzz_provider = {
    .name = "fuzz", .list = fuzz_list, .call = fuzz_provider_call};

static const struct tool_catalog *host_catalog(void *host, struct mcp_session *s)
{
    static struct tool_catalog *cat;
    (void)host;
    (void)s;
    if (!cat) {
        size_t n;
        const struct tool_def *all = tools_all(&n);
        for (size_t i = 0; i < n && fuzz_ndefs < 62; i++)
            fuzz_defs[fuzz_ndefs++] = &all[i];
        fuzz_defs[fuzz_ndefs++] = &fuzz_other_defs[0];
        fuzz_defs[fuzz_ndefs++] = &fuzz_other_defs[1];
        struct tool_registry *r = tool_registry_new(NULL, NULL);
        (void)tool_registry_add(r, &fuzz_provider, NULL);
        cat = tool_catalog_new();
        tool_catalog_build(cat, r);
        tool_registry_free(r); /* the catalog borrows the definitions, not r */
    }
    return cat;
}

static const struct mcp_host_ops fuzz_ops = {
    .send = host_send,
    .tool_call = host_tool_call,
    .tool_cancel = host_tool_cancel,
    .resource_read = host_resource_read,
    .initialized = host_initialized,
    .catalog = host_catalog,
};

static void run_stream(const uint8_t *data, size_t size, size_t cap, size_t step)
{
    struct fuzz_host h = {0};
    struct mcp_server_info info = {"coordhub", "0.0.0-fuzz", NULL};
    h.s = mcp_session_new(&fuzz_ops, &h, &info);
    struct jsonrpc_framer f;
    jsonrpc_framer_init(&f, cap);

    const char *msg;
    size_t len;
    for (size_t off = 0; off < size;) {
        size_t n = size - off < step ? size - off : step;
        const char *p = (const char *)data + off;
        off += n;
        for (;;) {
            enum jsonrpc_frame ev = jsonrpc_framer_next(&f, &p, &n, &msg, &len);
            if (jsonrpc_framer_pending(&f) > f.max + 1)
                abort();
            if (ev == JSONRPC_FRAME_NEED_MORE)
                break;
            if (ev == JSONRPC_FRAME_MESSAGE)
                mcp_session_handle(h.s, msg, len);
        }
    }
    if (jsonrpc_framer_finish(&f, &msg, &len) == JSONRPC_FRAME_MESSAGE)
        mcp_session_handle(h.s, msg, len);

    /* Host-side activity after the stream. */
    for (size_t i = 0; i < h.ndeferred; i++) {
        mcp_session_progress(h.s, h.deferred[i], 0.5, 0, NULL);
        if (i % 2)
            mcp_session_tool_done(h.s, h.deferred[i], NULL, false);
    }
    mcp_session_resource_updated(h.s, "coord://locks");
    mcp_session_log(h.s, MCP_LOG_ERROR, "fuzz", NULL);
    jsonrpc_framer_deinit(&f);
    mcp_session_free(h.s); /* with deferred calls still in flight */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)data[0] % 64 + 1;
    run_stream(data + 1, size - 1, 0, step);
    run_stream(data + 1, size - 1, 200, step);
    return 0;
}
