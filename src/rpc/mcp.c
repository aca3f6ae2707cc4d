/* mcp — one MCP session: message intake, batches, replies and the
 * host-facing API. The request handlers live in mcp_methods.c.
 *
 * Flow: mcp_session_handle() parses and classifies a message
 * (jsonrpc.h); requests go to mcp__dispatch(), notifications are handled
 * here, responses from the client answer the engine's own requests
 * (mcp__request(): roots/list, mcp_roots.c) and are otherwise dropped.
 * Every answer goes through emit(): straight to ops->send, or into the
 * batch being collected.
 *
 * Invariants:
 *   - A tools/call is answered exactly once: by mcp_session_tool_done() or
 *     mcp_session_tool_fail(), or never if it was cancelled. The call
 *     record is unlinked before anything is sent or any host callback
 *     runs, so a host re-entering the session (completing a call from
 *     inside tool_call or tool_cancel) always sees consistent state.
 *   - A batch is sent once, after it is sealed and its pending tool calls
 *     reach zero; a batch that produced no responses sends nothing.
 *   - Nothing is sent before initialize is answered except error answers
 *     and ping results; log and resource notifications wait for it.
 *   - Call ids count up from 1 and are never reused within a session. */
#include "rpc/mcp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/xmalloc.h"
#include "rpc/jsonrpc.h"
#include "rpc/mcp_content.h"
#include "rpc/mcp_internal.h"

static const char *const log_level_names[] = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency",
};

/* ---- sending -------------------------------------------------------------- */

static void send_text(struct mcp_session *s, char *text)
{
    s->ops->send(s->host, s, text, strlen(text));
    free(text);
}

/* Queue one response (taken) for b, or send it at once. */
static void emit(struct mcp_session *s, struct mcp_batch *b, char *text, const cJSON *id)
{
    if (!b) {
        send_text(s, text);
        return;
    }
    bool ok = (b->responses == 0 || buf_append(&b->out, ",", 1) == 0) &&
              buf_append_str(&b->out, text) == 0;
    free(text);
    if (!ok) {
        /* Past the cap: answer this element with a short error instead. */
        char *err = jsonrpc_build_error(id, JSONRPC_INTERNAL_ERROR,
                                        "Internal error: batch response exceeds 16 MiB", NULL);
        ok = (b->responses == 0 || buf_append(&b->out, ",", 1) == 0) &&
             buf_append_str(&b->out, err) == 0;
        free(err);
        if (!ok)
            return;
    }
    b->responses++;
}

static void batch_free(struct mcp_batch *b)
{
    buf_deinit(&b->out);
    free(b);
}

/* Send and free b once it is sealed and nothing is pending. */
static void batch_maybe_flush(struct mcp_session *s, struct mcp_batch *b)
{
    if (!b || !b->sealed || b->pending > 0)
        return;
    for (struct mcp_batch **pp = &s->batches; *pp; pp = &(*pp)->next) {
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    }
    if (b->responses > 0) {
        struct buf out;
        buf_init(&out, 0);
        int rc = buf_append(&out, "[", 1);
        rc |= buf_append(&out, b->out.data, b->out.len);
        rc |= buf_append(&out, "]", 1);
        (void)rc; /* uncapped buffer: cannot fail */
        s->ops->send(s->host, s, out.data, out.len);
        buf_deinit(&out);
    }
    batch_free(b);
}

void mcp__reply_result(struct mcp_session *s, const struct mcp_req *r, cJSON *result)
{
    emit(s, r->batch, jsonrpc_build_result(r->id, result), r->id);
}

void mcp__reply_error(struct mcp_session *s, const struct mcp_req *r, int code, const char *message,
                      cJSON *data)
{
    emit(s, r->batch, jsonrpc_build_error(r->id, code, message, data), r->id);
}

void mcp__reply_error_name(struct mcp_session *s, const struct mcp_req *r, int code,
                           const char *prefix, const char *name)
{
    struct buf b;
    buf_init(&b, 0);
    size_t n = strlen(name);
    bool cut = n > MCP_NAME_ECHO_MAX;
    if (cut) {
        n = MCP_NAME_ECHO_MAX;
        while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
    }
    int rc = buf_append_str(&b, prefix);
    rc |= buf_append(&b, name, n);
    if (cut)
        rc |= buf_append_str(&b, "...");
    (void)rc; /* uncapped buffer: cannot fail */
    mcp__reply_error(s, r, code, b.data, NULL);
    buf_deinit(&b);
}

static void notify(struct mcp_session *s, const char *method, cJSON *params)
{
    send_text(s, jsonrpc_build_notification(method, params));
}

/* ---- calls -------------------------------------------------------------- */

struct mcp_call *mcp__call_start(struct mcp_session *s, const struct mcp_req *r)
{
    struct mcp_call *c = xcalloc(1, sizeof(*c));
    c->call_id = ++s->last_call_id;
    c->req_id = jsonrpc_id_dup(r->id);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(r->params, "_meta");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(meta, "progressToken");
    c->progress_token = jsonrpc_id_dup(tok);
    c->batch = r->batch;
    if (c->batch)
        c->batch->pending++;
    c->next = s->calls;
    s->calls = c;
    return c;
}

bool mcp__call_id_in_use(const struct mcp_session *s, const cJSON *req_id)
{
    for (const struct mcp_call *c = s->calls; c; c = c->next)
        if (jsonrpc_id_equal(c->req_id, req_id))
            return true;
    return false;
}

static struct mcp_call *call_find(const struct mcp_session *s, uint64_t call_id)
{
    for (struct mcp_call *c = s->calls; c; c = c->next)
        if (c->call_id == call_id)
            return c;
    return NULL;
}

/* Unlink a call from the session; the caller finishes and frees it. */
static void call_unlink(struct mcp_session *s, struct mcp_call *c)
{
    for (struct mcp_call **pp = &s->calls; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            return;
        }
    }
}

static void call_free(struct mcp_call *c)
{
    free(c->held_name);
    cJSON_Delete(c->held_args);
    cJSON_Delete(c->req_id);
    cJSON_Delete(c->progress_token);
    free(c);
}

void mcp__call_dispatch(struct mcp_session *s, struct mcp_call *c, const char *name,
                        const cJSON *args)
{
    if (s->roots_inflight) {
        /* Its paths resolve against roots not known yet (mcp_roots.c). */
        c->held_name = xstrdup(name);
        c->held_args = args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject();
        return;
    }
    cJSON *empty = args ? NULL : cJSON_CreateObject();
    /* The host may complete the call before returning; the record is then
     * gone, so nothing here touches it afterwards. */
    s->ops->tool_call(s->host, s, c->call_id, name, args ? args : empty);
    cJSON_Delete(empty);
}

void mcp__calls_release(struct mcp_session *s)
{
    for (;;) {
        /* Oldest first; the host may finish calls while we go, so look
         * the next one up afresh each time. */
        struct mcp_call *c = NULL;
        for (struct mcp_call *x = s->calls; x; x = x->next)
            if (x->held_name && (!c || x->call_id < c->call_id))
                c = x;
        if (!c)
            return;
        char *name = c->held_name;
        cJSON *args = c->held_args;
        c->held_name = NULL;
        c->held_args = NULL;
        s->ops->tool_call(s->host, s, c->call_id, name, args);
        free(name);
        cJSON_Delete(args);
    }
}

/* ---- requests to the client ----------------------------------------------- */

static char *out_req_id(uint64_t n)
{
    char buf[40];
    snprintf(buf, sizeof(buf), "coordhub-%llu", (unsigned long long)n);
    return xstrdup(buf);
}

bool mcp__request(struct mcp_session *s, const char *method, cJSON *params, mcp__answer_fn fn)
{
    if (s->nout_reqs >= MCP_OUT_REQ_MAX) {
        cJSON_Delete(params);
        return false;
    }
    struct mcp_out_req *q = xcalloc(1, sizeof(*q));
    q->n = ++s->last_out_req;
    q->on_answer = fn;
    q->next = s->out_reqs;
    s->out_reqs = q;
    s->nout_reqs++;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "jsonrpc", "2.0");
    char *id = out_req_id(q->n);
    cJSON_AddStringToObject(o, "id", id);
    free(id);
    cJSON_AddStringToObject(o, "method", method);
    if (params)
        cJSON_AddItemToObject(o, "params", params);
    send_text(s, json_print(o));
    cJSON_Delete(o);
    return true;
}

/* A response from the client: the answer to one of our requests, or
 * nothing we asked for (ignored). */
static void handle_response(struct mcp_session *s, const cJSON *v, const cJSON *id)
{
    if (!cJSON_IsString(id))
        return;
    for (struct mcp_out_req **pp = &s->out_reqs; *pp; pp = &(*pp)->next) {
        struct mcp_out_req *q = *pp;
        char *want = out_req_id(q->n);
        bool match = strcmp(want, id->valuestring) == 0;
        free(want);
        if (!match)
            continue;
        *pp = q->next;
        s->nout_reqs--;
        mcp__answer_fn fn = q->on_answer;
        free(q);
        fn(s, cJSON_GetObjectItemCaseSensitive(v, "result"),
           cJSON_GetObjectItemCaseSensitive(v, "error"));
        return;
    }
}

/* A call left its batch (answered or cancelled). */
static void call_finish_batch(struct mcp_session *s, struct mcp_call *c)
{
    struct mcp_batch *b = c->batch;
    if (!b)
        return;
    b->pending--;
    batch_maybe_flush(s, b);
}

/* ---- lifecycle ---------------------------------------------------------- */

bool mcp__legacy(const struct mcp_session *s)
{
    return s->version && strcmp(s->version, MCP_VERSION_2025_03_26) == 0;
}

const char *mcp__negotiate(const char *requested)
{
    static const char *const supported[] = {MCP_VERSION_LATEST, MCP_VERSION_2025_06_18,
                                            MCP_VERSION_2025_03_26};
    for (size_t i = 0; requested && i < sizeof(supported) / sizeof(supported[0]); i++)
        if (strcmp(requested, supported[i]) == 0)
            return supported[i];
    return MCP_VERSION_LATEST;
}

void mcp__handshake_complete(struct mcp_session *s)
{
    if (s->handshake_done)
        return;
    s->handshake_done = true;
    if (s->ops->initialized)
        s->ops->initialized(s->host, s);
}

struct mcp_session *mcp_session_new(const struct mcp_host_ops *ops, void *host,
                                    const struct mcp_server_info *info)
{
    struct mcp_session *s = xcalloc(1, sizeof(*s));
    s->ops = ops;
    s->host = host;
    s->server_name = xstrdup(info && info->name ? info->name : "coordhub");
    s->server_version = xstrdup(info && info->version ? info->version : "0.0.0");
    s->instructions =
        xstrdup(info && info->instructions ? info->instructions : mcp_content_instructions());
    s->log_level = MCP_LOG_INFO;
    s->page_size = MCP_DEFAULT_PAGE_SIZE;
    return s;
}

void mcp_session_free(struct mcp_session *s)
{
    if (!s)
        return;
    while (s->calls) {
        struct mcp_call *c = s->calls;
        s->calls = c->next;
        call_free(c);
    }
    while (s->batches) {
        struct mcp_batch *b = s->batches;
        s->batches = b->next;
        batch_free(b);
    }
    while (s->out_reqs) {
        struct mcp_out_req *q = s->out_reqs;
        s->out_reqs = q->next;
        free(q);
    }
    cJSON_Delete(s->init_params);
    free(s->server_name);
    free(s->server_version);
    free(s->instructions);
    free(s);
}

int mcp_session_resume(struct mcp_session *s, const cJSON *init_params)
{
    const char *pv = json_get_str(init_params, "protocolVersion", NULL);
    if (s->initialized || !cJSON_IsObject(init_params) || !pv)
        return -ERR_INVALID;
    s->version = mcp__negotiate(pv);
    s->init_params = cJSON_Duplicate(init_params, 1);
    s->initialized = true;
    mcp__handshake_complete(s);
    return 0;
}

/* ---- intake --------------------------------------------------------------- */

static void handle_notification(struct mcp_session *s, const struct jsonrpc_msg *m)
{
    if (strcmp(m->method, "notifications/initialized") == 0) {
        if (s->initialized)
            mcp__handshake_complete(s);
        return;
    }
    if (strcmp(m->method, "notifications/cancelled") == 0) {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(m->params, "requestId");
        struct mcp_call *c = s->calls;
        while (c && !jsonrpc_id_equal(c->req_id, rid))
            c = c->next;
        if (!c)
            return; /* unknown or already answered: ignore, as the spec says */
        uint64_t call_id = c->call_id;
        bool held = c->held_name != NULL; /* the host never saw it */
        call_unlink(s, c);
        call_finish_batch(s, c);
        call_free(c);
        if (s->ops->tool_cancel && !held)
            s->ops->tool_cancel(s->host, s, call_id);
        return;
    }
    if (strcmp(m->method, "notifications/roots/list_changed") == 0) {
        mcp__roots_list_changed(s);
        return;
    }
    /* Any other notification is ignored. */
}

/* Handle one element (a whole message, or one member of a batch). */
static void handle_value(struct mcp_session *s, const cJSON *v, struct mcp_batch *b)
{
    struct jsonrpc_msg m;
    bool allow_batch = !b && s->initialized && mcp__legacy(s);
    if (b && cJSON_IsArray(v)) {
        emit(s, b,
             jsonrpc_build_error(NULL, JSONRPC_INVALID_REQUEST,
                                 "Invalid Request: a batch element must be a JSON object", NULL),
             NULL);
        return;
    }
    switch (jsonrpc_classify(v, allow_batch, &m)) {
    case JSONRPC_KIND_INVALID:
        emit(s, b, jsonrpc_build_error(m.id, m.code, m.message, NULL), m.id);
        return;
    case JSONRPC_KIND_RESPONSE:
        handle_response(s, v, m.id);
        return;
    case JSONRPC_KIND_NOTIFICATION:
        handle_notification(s, &m);
        return;
    case JSONRPC_KIND_BATCH: {
        struct mcp_batch *nb = xcalloc(1, sizeof(*nb));
        buf_init(&nb->out, MCP_BATCH_OUTPUT_MAX);
        nb->next = s->batches;
        s->batches = nb;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            handle_value(s, e, nb);
        }
        nb->sealed = true;
        batch_maybe_flush(s, nb);
        return;
    }
    case JSONRPC_KIND_REQUEST: {
        struct mcp_req r = {.method = m.method, .id = m.id, .params = m.params, .batch = b};
        if (m.params && !cJSON_IsObject(m.params)) {
            r.params = NULL;
            mcp__reply_error(s, &r, JSONRPC_INVALID_PARAMS,
                             "Invalid params: params must be an object", NULL);
            return;
        }
        mcp__dispatch(s, &r);
        return;
    }
    }
}

void mcp_session_handle(struct mcp_session *s, const char *msg, size_t len)
{
    struct jsonrpc_msg m;
    cJSON *v = jsonrpc_parse(msg, len, &m);
    if (!v) {
        emit(s, NULL, jsonrpc_build_error(m.id, m.code, m.message, NULL), NULL);
        cJSON_Delete(m.refused_id);
        return;
    }
    handle_value(s, v, NULL);
    cJSON_Delete(v);
}

/* ---- host API ------------------------------------------------------------- */

void mcp_session_tool_done(struct mcp_session *s, uint64_t call_id, cJSON *result, bool is_error)
{
    struct mcp_call *c = call_find(s, call_id);
    if (!c) {
        cJSON_Delete(result);
        return;
    }
    call_unlink(s, c);
    if (!result)
        result = cJSON_CreateObject();
    cJSON *r = cJSON_CreateObject();
    cJSON *content = cJSON_AddArrayToObject(r, "content");
    cJSON *text = cJSON_CreateObject();
    cJSON_AddStringToObject(text, "type", "text");
    /* A tool error is text for the model to read ("argument 'file': …"),
     * without structuredContent: the outputSchema describes results, and
     * clients validate any structuredContent they get against it. */
    const char *msg = is_error ? cJSON_GetStringValue(cJSON_GetObjectItem(result, "error")) : NULL;
    char *body = msg ? NULL : json_print(result);
    cJSON_AddStringToObject(text, "text", msg ? msg : body);
    cJSON_AddItemToArray(content, text);
    /* structuredContent goes to every revision: docs/tools.md promises it, and
     * on 2025-03-26 it is an extra member the Result type allows. It is the
     * text content's JSON spliced in raw, so the result is printed once. */
    if (cJSON_IsObject(result) && !is_error)
        cJSON_AddItemToObject(r, "structuredContent", cJSON_CreateRaw(body));
    free(body);
    cJSON_Delete(result);
    if (is_error)
        cJSON_AddBoolToObject(r, "isError", true);
    emit(s, c->batch, jsonrpc_build_result(c->req_id, r), c->req_id);
    call_finish_batch(s, c);
    call_free(c);
}

void mcp_session_tool_fail(struct mcp_session *s, uint64_t call_id, int code, const char *message)
{
    struct mcp_call *c = call_find(s, call_id);
    if (!c)
        return;
    call_unlink(s, c);
    emit(s, c->batch,
         jsonrpc_build_error(c->req_id, code, message ? message : "Internal error", NULL),
         c->req_id);
    call_finish_batch(s, c);
    call_free(c);
}

void mcp_session_resource_updated(struct mcp_session *s, const char *uri)
{
    int i = mcp_content_resource_index(uri);
    if (!s->initialized || i < 0 || !(s->subscribed & (1u << i)))
        return;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "uri", uri);
    notify(s, "notifications/resources/updated", p);
}

void mcp_session_tools_changed(struct mcp_session *s)
{
    if (s->initialized)
        notify(s, "notifications/tools/list_changed", NULL);
}

bool mcp_session_log_wanted(const struct mcp_session *s, enum mcp_log_level level)
{
    return s->initialized && level >= s->log_level && level <= MCP_LOG_EMERGENCY;
}

void mcp_session_log(struct mcp_session *s, enum mcp_log_level level, const char *logger,
                     const cJSON *data)
{
    if (!mcp_session_log_wanted(s, level))
        return;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "level", log_level_names[level]);
    if (logger)
        cJSON_AddStringToObject(p, "logger", logger);
    cJSON_AddItemToObject(p, "data", data ? cJSON_Duplicate(data, 1) : cJSON_CreateNull());
    notify(s, "notifications/message", p);
}

void mcp_session_progress(struct mcp_session *s, uint64_t call_id, double progress, double total,
                          const char *message)
{
    struct mcp_call *c = call_find(s, call_id);
    if (!c || !c->progress_token || !isfinite(progress))
        return;
    if (c->progressed && progress <= c->last_progress)
        return; /* progress must increase with each notification */
    c->progressed = true;
    c->last_progress = progress;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(p, "progressToken", jsonrpc_id_to_wire(c->progress_token));
    cJSON_AddNumberToObject(p, "progress", progress);
    if (isfinite(total) && total > 0)
        cJSON_AddNumberToObject(p, "total", total);
    if (message)
        cJSON_AddStringToObject(p, "message", message);
    notify(s, "notifications/progress", p);
}

bool mcp_session_is_initialized(const struct mcp_session *s)
{
    return s->initialized;
}

const char *mcp_session_protocol_version(const struct mcp_session *s)
{
    return s->version;
}

const cJSON *mcp_session_init_params(const struct mcp_session *s)
{
    return s->init_params;
}

void mcp_session_set_userdata(struct mcp_session *s, void *ud)
{
    s->userdata = ud;
}

void *mcp_session_userdata(const struct mcp_session *s)
{
    return s->userdata;
}

void mcp_session_set_page_size(struct mcp_session *s, size_t n)
{
    s->page_size = n ? n : MCP_DEFAULT_PAGE_SIZE;
}

int mcp_log_level_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++)
        if (strcmp(name, log_level_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *mcp_log_level_name(enum mcp_log_level level)
{
    if ((int)level < 0 || level > MCP_LOG_EMERGENCY)
        return "info";
    return log_level_names[level];
}
