/* mcp_methods — the MCP requests the engine answers, one handler each,
 * selected through a table.
 *
 * Rules every handler follows:
 *   - a request answers exactly once through mcp__reply_*(), except
 *     tools/call with valid arguments, which the host answers later;
 *   - malformed params are -32602 with a message naming the parameter;
 *     tool-argument problems are CallToolResult isError:true instead, so
 *     the model can read and correct them;
 *   - sessions on 2025-03-26 get no title or outputSchema, which that
 *     revision's Tool, Resource, Prompt and Implementation lack;
 *   - an unknown method is -32601 whatever the session state, so a client
 *     of a later revision probing with e.g. server/discover gets an
 *     answer it can fall back on; known methods other than initialize and
 *     ping are refused with -32600 until initialize has been answered.
 *
 * Pagination cursors are base64url("<list>:<offset>"): opaque to clients,
 * checked on return (list name, digits, offset inside the list). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/xmalloc.h"
#include "rpc/catalog.h"
#include "rpc/jsonrpc.h"
#include "rpc/mcp_content.h"
#include "rpc/mcp_internal.h"

#define CURSOR_MAX 64 /* bytes of an encoded cursor we ever issue */

/* ---- pagination ------------------------------------------------------------ */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *cursor_encode(const char *list, size_t offset)
{
    char raw[48];
    int n = snprintf(raw, sizeof(raw), "%s:%zu", list, offset);
    char *out = xmalloc(CURSOR_MAX + 1);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (int i = 0; i < n && o < CURSOR_MAX; i++) {
        acc = (acc << 8) | (unsigned char)raw[i];
        bits += 8;
        while (bits >= 6 && o < CURSOR_MAX) {
            bits -= 6;
            out[o++] = b64url[(acc >> bits) & 63];
        }
    }
    if (bits > 0 && o < CURSOR_MAX)
        out[o++] = b64url[(acc << (6 - bits)) & 63];
    out[o] = '\0';
    return out;
}

/* Decode a cursor for list; the offset must point inside (0, total). */
static bool cursor_decode(const char *cursor, const char *list, size_t total, size_t *offset)
{
    size_t n = strlen(cursor);
    if (n == 0 || n > CURSOR_MAX || n % 4 == 1)
        return false;
    char raw[CURSOR_MAX];
    size_t r = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = memchr(b64url, cursor[i], 64);
        if (!p)
            return false;
        acc = (acc << 6) | (unsigned)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[r++] = (char)((acc >> bits) & 0xFF);
        }
    }
    size_t ln = strlen(list);
    if (r <= ln + 1 || memcmp(raw, list, ln) != 0 || raw[ln] != ':' || r - ln - 1 > 9)
        return false;
    size_t v = 0;
    for (size_t i = ln + 1; i < r; i++) {
        if (raw[i] < '0' || raw[i] > '9')
            return false;
        v = v * 10 + (size_t)(raw[i] - '0');
    }
    if (v == 0 || v >= total)
        return false;
    *offset = v;
    return true;
}

/* The bounds [*start, *end) of the requested page. false when the cursor
 * is invalid; the request has then been answered with -32602. */
static bool page_bounds(struct mcp_session *s, const struct mcp_req *r, const char *list,
                        size_t total, size_t *start, size_t *end)
{
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(r->params, "cursor");
    *start = 0;
    if (cur && !cJSON_IsNull(cur) &&
        (!cJSON_IsString(cur) || !cursor_decode(cur->valuestring, list, total, start))) {
        mcp__reply_error(s, r, JSONRPC_INVALID_PARAMS, "Invalid params: invalid cursor", NULL);
        return false;
    }
    *end = total - *start > s->page_size ? *start + s->page_size : total;
    return true;
}

static void page_next(cJSON *result, const char *list, size_t end, size_t total)
{
    if (end >= total)
        return;
    char *c = cursor_encode(list, end);
    cJSON_AddStringToObject(result, "nextCursor", c);
    free(c);
}

/* ---- lifecycle ---------------------------------------------------------- */

static void method_initialize(struct mcp_session *s, const struct mcp_req *r)
{
    if (r->batch) {
        mcp__reply_error(s, r, JSONRPC_INVALID_REQUEST,
                         "Invalid Request: initialize must not be part of a batch", NULL);
        return;
    }
    if (s->initialized) {
        mcp__reply_error(s, r, JSONRPC_INVALID_REQUEST,
                         "Invalid Request: session already initialized", NULL);
        return;
    }
    const char *pv = json_get_str(r->params, "protocolVersion", NULL);
    if (!pv) {
        mcp__reply_error(s, r, JSONRPC_INVALID_PARAMS,
                         "Invalid params: initialize needs a string 'protocolVersion'", NULL);
        return;
    }
    s->version = mcp__negotiate(pv);
    s->init_params = cJSON_Duplicate(r->params, 1);
    s->initialized = true;

    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "protocolVersion", s->version);
    cJSON *caps = cJSON_AddObjectToObject(res, "capabilities");
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(caps, "tools"), "listChanged", true);
    cJSON *rc = cJSON_AddObjectToObject(caps, "resources");
    cJSON_AddBoolToObject(rc, "subscribe", true);
    cJSON_AddBoolToObject(rc, "listChanged", false);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(caps, "prompts"), "listChanged", false);
    cJSON_AddObjectToObject(caps, "logging");
    cJSON *info = cJSON_AddObjectToObject(res, "serverInfo");
    cJSON_AddStringToObject(info, "name", s->server_name);
    cJSON_AddStringToObject(info, "version", s->server_version);
    if (!mcp__legacy(s))
        cJSON_AddStringToObject(info, "title", "coordhub: coordination hub for AI coding agents");
    cJSON_AddStringToObject(res, "instructions", s->instructions);
    mcp__reply_result(s, r, res);
}

static void method_ping(struct mcp_session *s, const struct mcp_req *r)
{
    mcp__reply_result(s, r, NULL);
}

static void method_set_level(struct mcp_session *s, const struct mcp_req *r)
{
    int level = mcp_log_level_parse(json_get_str(r->params, "level", NULL));
    if (level < 0) {
        mcp__reply_error(s, r, JSONRPC_INVALID_PARAMS,
                         "Invalid params: level must be one of debug, info, notice, warning, "
                         "error, critical, alert, emergency",
                         NULL);
        return;
    }
    s->log_level = (enum mcp_log_level)level;
    mcp__reply_result(s, r, NULL);
}

/* ---- tools ---------------------------------------------------------------- */

/* The host's catalog, or NULL (no tools). */
static const struct tool_catalog *session_catalog(struct mcp_session *s)
{
    return s->ops->catalog ? s->ops->catalog(s->host, s) : NULL;
}

/* A page of the catalog: its texts joined, no JSON built per request. */
static void method_tools_list(struct mcp_session *s, const struct mcp_req *r)
{
    size_t start, end;
    const struct tool_catalog *cat = session_catalog(s);
    size_t total = cat ? tool_catalog_count(cat) : 0;
    if (!page_bounds(s, r, "tools", total, &start, &end))
        return;
    if (!cat) {
        cJSON *res = cJSON_CreateObject();
        cJSON_AddArrayToObject(res, "tools");
        mcp__reply_result(s, r, res);
        return;
    }
    char *next = end < total ? cursor_encode("tools", end) : NULL;
    char *page = tool_catalog_page(cat, start, end, mcp__legacy(s), next);
    free(next);
    mcp__reply_result(s, r, cJSON_CreateRaw(page));
    free(page);
}

/* A CallToolResult reporting a tool error with text. */
static cJSON *tool_error_result(const char *text)
{
    cJSON *res = cJSON_CreateObject();
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "type", "text");
    cJSON_AddStringToObject(item, "text", text);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "content"), item);
    cJSON_AddBoolToObject(res, "isError", true);
    return res;
}

static void method_tools_call(struct mcp_session *s, const struct mcp_req *r)
{
    const char *name = json_get_str(r->params, "name", NULL);
    if (!name) {
        mcp__reply_error(s, r, JSONRPC_INVALID_PARAMS,
                         "Invalid params: tools/call needs a string 'name'", NULL);
        return;
    }
    const struct tool_catalog *cat = session_catalog(s);
    const struct tool_def *t = cat ? tool_catalog_find(cat, name) : NULL;
    if (!t) {
        mcp__reply_error_name(s, r, JSONRPC_INVALID_PARAMS, "Unknown tool: ", name);
        return;
    }
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(r->params, "arguments");
    if (cJSON_IsNull(args))
        args = NULL;
    if (args && !cJSON_IsObject(args)) {
        mcp__reply_error(s, r, JSONRPC_INVALID_PARAMS,
                         "Invalid params: 'arguments' must be an object", NULL);
        return;
    }
    if (mcp__call_id_in_use(s, r->id)) {
        mcp__reply_error(s, r, JSONRPC_INVALID_REQUEST,
                         "Invalid Request: id is already used by a call in progress", NULL);
        return;
    }
    char *msg = NULL;
    if (!tool_catalog_validate(cat, t, args, &msg)) {
        mcp__reply_result(s, r, tool_error_result(msg));
        free(msg);
        return;
    }
    mcp__call_dispatch(s, mcp__call_start(s, r), t->name, args);
}

/* ---- resources ------------------------------------------------------------ */

static void method_resources_list(struct mcp_session *s, const struct mcp_req *r)
{
    size_t n, start, end;
    const struct mcp_content_resource *all = mcp_content_resources(&n);
    if (!page_bounds(s, r, "resources", n, &start, &end))
        return;
    cJSON *res = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(res, "resources");
    for (size_t i = start; i < end; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "uri", all[i].uri);
        cJSON_AddStringToObject(o, "name", all[i].name);
        if (!mcp__legacy(s))
            cJSON_AddStringToObject(o, "title", all[i].title);
        cJSON_AddStringToObject(o, "description", all[i].description);
        cJSON_AddStringToObject(o, "mimeType", MCP_CONTENT_MIME);
        cJSON_AddItemToArray(arr, o);
    }
    page_next(res, "resources", end, n);
    mcp__reply_result(s, r, res);
}

static void method_templates_list(struct mcp_session *s, const struct mcp_req *r)
{
    size_t start, end;
    if (!page_bounds(s, r, "templates", 0, &start, &end))
        return;
    cJSON *res = cJSON_CreateObject();
    cJSON_AddArrayToObject(res, "resourceTemplates");
    mcp__reply_result(s, r, res);
}

/* The uri parameter, or NULL after answering -32602. */
static const char *param_uri(struct mcp_session *s, const struct mcp_req *r)
{
    const char *uri = json_get_str(r->params, "uri", NULL);
    if (!uri)
        mcp__reply_error(s, r, JSONRPC_INVALID_PARAMS, "Invalid params: 'uri' must be a string",
                         NULL);
    return uri;
}

static void reply_not_found(struct mcp_session *s, const struct mcp_req *r, const char *uri)
{
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "uri", uri);
    mcp__reply_error(s, r, JSONRPC_RESOURCE_NOT_FOUND, "Resource not found", data);
}

static void method_resources_read(struct mcp_session *s, const struct mcp_req *r)
{
    const char *uri = param_uri(s, r);
    if (!uri)
        return;
    cJSON *v = s->ops->resource_read ? s->ops->resource_read(s->host, s, uri) : NULL;
    if (!v) {
        reply_not_found(s, r, uri);
        return;
    }
    char *text = json_print(v);
    cJSON_Delete(v);
    cJSON *res = cJSON_CreateObject();
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "uri", uri);
    cJSON_AddStringToObject(item, "mimeType", MCP_CONTENT_MIME);
    cJSON_AddStringToObject(item, "text", text);
    free(text);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "contents"), item);
    mcp__reply_result(s, r, res);
}

static void subscription_set(struct mcp_session *s, const struct mcp_req *r, bool on)
{
    const char *uri = param_uri(s, r);
    if (!uri)
        return;
    int i = mcp_content_resource_index(uri);
    if (i < 0) {
        reply_not_found(s, r, uri);
        return;
    }
    if (on)
        s->subscribed |= 1u << i;
    else
        s->subscribed &= ~(1u << i);
    mcp__reply_result(s, r, NULL);
}

static void method_subscribe(struct mcp_session *s, const struct mcp_req *r)
{
    subscription_set(s, r, true);
}

static void method_unsubscribe(struct mcp_session *s, const struct mcp_req *r)
{
    subscription_set(s, r, false);
}

/* ---- prompts -------------------------------------------------------------- */

static void method_prompts_list(struct mcp_session *s, const struct mcp_req *r)
{
    size_t start, end;
    if (!page_bounds(s, r, "prompts", 1, &start, &end))
        return;
    cJSON *res = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(res, "prompts");
    if (start < end) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", MCP_CONTENT_PROMPT_NAME);
        if (!mcp__legacy(s))
            cJSON_AddStringToObject(p, "title", mcp_content_prompt_title());
        cJSON_AddStringToObject(p, "description", mcp_content_prompt_description());
        cJSON_AddArrayToObject(p, "arguments");
        cJSON_AddItemToArray(arr, p);
    }
    mcp__reply_result(s, r, res);
}

static void method_prompts_get(struct mcp_session *s, const struct mcp_req *r)
{
    const char *name = json_get_str(r->params, "name", NULL);
    if (!name) {
        mcp__reply_error(s, r, JSONRPC_INVALID_PARAMS, "Invalid params: 'name' must be a string",
                         NULL);
        return;
    }
    if (strcmp(name, MCP_CONTENT_PROMPT_NAME) != 0) {
        mcp__reply_error_name(s, r, JSONRPC_INVALID_PARAMS, "Unknown prompt: ", name);
        return;
    }
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(r->params, "arguments");
    if (args && !cJSON_IsNull(args) && !cJSON_IsObject(args)) {
        mcp__reply_error(s, r, JSONRPC_INVALID_PARAMS,
                         "Invalid params: 'arguments' must be an object", NULL);
        return;
    }
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "description", mcp_content_prompt_description());
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", "user");
    cJSON *content = cJSON_AddObjectToObject(msg, "content");
    cJSON_AddStringToObject(content, "type", "text");
    char *text = mcp_content_prompt_text();
    cJSON_AddStringToObject(content, "text", text);
    free(text);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "messages"), msg);
    mcp__reply_result(s, r, res);
}

/* ---- dispatch ------------------------------------------------------------- */

typedef void mcp_method_fn(struct mcp_session *s, const struct mcp_req *r);

struct mcp_method {
    const char *name;
    mcp_method_fn *fn;
    bool before_init; /* allowed before initialize */
};

static const struct mcp_method methods[] = {
    {"initialize", method_initialize, true},
    {"ping", method_ping, true},
    {"logging/setLevel", method_set_level, false},
    {"tools/list", method_tools_list, false},
    {"tools/call", method_tools_call, false},
    {"resources/list", method_resources_list, false},
    {"resources/templates/list", method_templates_list, false},
    {"resources/read", method_resources_read, false},
    {"resources/subscribe", method_subscribe, false},
    {"resources/unsubscribe", method_unsubscribe, false},
    {"prompts/list", method_prompts_list, false},
    {"prompts/get", method_prompts_get, false},
};

void mcp__dispatch(struct mcp_session *s, const struct mcp_req *r)
{
    const struct mcp_method *m = NULL;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]) && !m; i++)
        if (strcmp(methods[i].name, r->method) == 0)
            m = &methods[i];
    if (!m) {
        mcp__reply_error_name(s, r, JSONRPC_METHOD_NOT_FOUND, "Method not found: ", r->method);
        return;
    }
    if (!m->before_init) {
        if (!s->initialized) {
            mcp__reply_error(s, r, JSONRPC_INVALID_REQUEST,
                             "session not initialized: send initialize first", NULL);
            return;
        }
        /* A request after the initialize answer implies the client saw
         * it; complete the handshake if notifications/initialized has
         * not arrived, so the host always hears of it first. */
        mcp__handshake_complete(s);
    }
    m->fn(s, r);
}
