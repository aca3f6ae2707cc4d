/* rest — REST twins of the coordination tools (see rest.h).
 *
 * Nothing here knows what a tool does: an endpoint is a tool name, the
 * method that reaches it and where its arguments come from. Arguments are
 * converted (rest_args.c) and validated against the tool's own
 * inputSchema, then handed to the hub, which runs them on the same path
 * as MCP. A request is answered from the hub's callback, possibly in a
 * later loop turn (after the group commit); if the peer goes away first
 * the answer is dropped (the server frees the request with its connection).
 * A call that is still queued then (lock_file with waitMs) is cancelled
 * through the host (struct api_host.cancel), the way /mcp and the socket
 * cancel a departed client's waits, so it is never granted.
 *
 * Invariant: a struct rest_req lives until its last callback ran, or
 * until the host said that no callback is left (a cancel); the hub calls
 * done at most once per call, never after a cancel took it, and never
 * after api_free. */
#include "api/rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api/rest_args.h"
#include "auth/keys.h"
#include "base/json.h"
#include "core/events_filter.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "net/http.h"
#include "rpc/tools.h"

#define REST_PREFIX "/api/v1/"

struct rest_req {
    struct rest *rest;
    struct http_request *req;          /* NULL once the peer went away */
    int ok_status;                     /* 200 or 201 */
    const struct events_filter *allow; /* borrowed: events the caller may see; NULL: all */
    struct api_caller who;             /* who.signature owned */
    struct rest_batch batch;
    bool called; /* a tool call was made for it (rest_req_call) */
    struct rest_req *prev, *next;
};

struct rest {
    struct http_server *http;
    const struct api_host *host;
    struct rest_req *reqs;    /* owned: in flight */
    uint64_t events_reserved; /* POST /events refused for a reserved type */
};

uint64_t rest_events_reserved(const struct rest *r)
{
    return r->events_reserved;
}

void rest_events_reserved_note(struct rest *r)
{
    r->events_reserved++;
}

struct rest *rest_new(struct http_server *http, const struct api_host *host)
{
    struct rest *r = xcalloc(1, sizeof(*r));
    r->http = http;
    r->host = host;
    return r;
}

static void rest_req_free(struct rest_req *rr)
{
    struct rest *r = rr->rest;
    if (rr->prev)
        rr->prev->next = rr->next;
    else
        r->reqs = rr->next;
    if (rr->next)
        rr->next->prev = rr->prev;
    if (rr->req && r->http)
        http_request_on_close(rr->req, NULL, NULL);
    free((char *)rr->who.signature);
    cJSON_Delete(rr->batch.ids);
    cJSON_Delete(rr->batch.error);
    free(rr);
}

void rest_free(struct rest *r)
{
    if (!r)
        return;
    r->http = NULL; /* the server is gone: no hooks to remove */
    while (r->reqs) {
        r->reqs->req = NULL;
        rest_req_free(r->reqs);
    }
    free(r);
}

static void rest_req_closed(void *arg)
{
    struct rest_req *rr = arg;
    rr->req = NULL; /* the answer, when it comes, goes nowhere */
    /* A call still queued (a lock request with waitMs) must not be
     * granted to a client that is gone: the hub cancels it, and when
     * nothing of rr is left in flight rr goes now. */
    const struct api_host *host = rr->rest->host;
    if (rr->called && host->cancel && host->cancel(host->arg, rr))
        rest_req_free(rr);
}

struct rest_req *rest_req_new(struct rest *r, struct http_request *req, const struct keys_key *key,
                              const char *signature)
{
    struct rest_req *rr = xcalloc(1, sizeof(*rr));
    rr->rest = r;
    rr->who.admin = !key || key->access >= KEYS_ACCESS_ADMIN;
    rr->who.signature = signature ? xstrdup(signature) : NULL;
    rr->req = req;
    rr->ok_status = 200;
    rr->next = r->reqs;
    if (r->reqs)
        r->reqs->prev = rr;
    r->reqs = rr;
    http_request_on_close(req, rest_req_closed, rr);
    return rr;
}

struct rest_batch *rest_req_batch(struct rest_req *rr)
{
    return &rr->batch;
}

void rest_req_finish(struct rest_req *rr, int status, cJSON *body)
{
    struct http_request *req = rr->req;
    if (req)
        http_request_on_close(req, NULL, NULL);
    rr->req = NULL;
    if (req)
        http_reply_json(req, status, body);
    else
        cJSON_Delete(body);
    rest_req_free(rr);
}

void rest_req_fail(struct rest_req *rr, int status, const char *code, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    rest_req_finish(rr, status, o);
}

void rest_req_call(struct rest_req *rr, const char *tool, cJSON *args,
                   void (*done)(void *rr, cJSON *result, bool is_error))
{
    rr->called = true;
    rr->rest->host->call(rr->rest->host->arg, &rr->who, tool, args, done, rr);
}

int rest_error_status(const cJSON *result, const char **code)
{
    const char *name = json_get_str(result, "code", NULL);
    int err = ERR_INVALID;
    for (int e = ERR_INVALID; name && e < ERR_MAX_; e++) {
        if (strcmp(err_name(e), name) == 0) {
            err = e;
            break;
        }
    }
    *code = err_name(err);
    return err_to_http(err);
}

int rest_read_body(struct http_request *req, cJSON **out)
{
    *out = NULL;
    size_t n;
    const char *text = http_request_body(req, &n);
    if (n == 0)
        return 0;
    const char *ct = http_request_header(req, "Content-Type");
    size_t base = ct ? strcspn(ct, "; \t") : 0;
    if (!ct || base != strlen("application/json") ||
        strncasecmp(ct, "application/json", base) != 0) {
        http_reply_error(req, 415, "unsupported_media_type",
                         "the body must be JSON with Content-Type: application/json");
        return -1;
    }
    struct json_error je;
    cJSON *v = text ? json_parse_checked(text, n, JSON_MAX_DEPTH, &je) : NULL;
    if (!v && text && je.err == -ERR_INVALID) {
        /* JSON, but not what any face takes (docs/security.md). */
        char msg[sizeof(je.message) + 32];
        snprintf(msg, sizeof(msg), "the body is refused: %s", je.message);
        http_reply_error(req, 400, "invalid_argument", msg);
        return -1;
    }
    if (!v) {
        http_reply_error(req, 400, "parse_error",
                         "the body is not valid JSON (UTF-8, nesting at most 64 levels)");
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- the endpoints ------------------------------------------------------- */

/* Flags of an endpoint. */
#define REST_BODY 1u    /* arguments in a JSON object body (else the query) */
#define REST_CREATED 2u /* a success is 201 (else 200) */
#define REST_ACTS 4u    /* needs agentId: the caller acts for (as) the agent it names */
#define REST_NO_WAIT 8u /* wait_for_events: timeoutMs 0, never given */
#define REST_ADMIN 16u  /* only the admin token or an `admin` key */

/* One REST twin: a path pattern under /api/v1/ (rest_path_match), the
 * methods that reach it (HTTP_METHOD_*), its flags, the tool it calls and
 * a renamed query parameter (or NULL). Variable path segments are
 * arguments too. */
struct rest_endpoint {
    const char *path;
    unsigned methods;
    unsigned flags;
    const char *tool;
    const struct rest_alias *alias;
};

#define REST_GET HTTP_METHOD_GET
#define REST_POST HTTP_METHOD_POST
#define REST_PUT HTTP_METHOD_PUT
#define REST_DELETE HTTP_METHOD_DELETE
#define REST_PATCH HTTP_METHOD_PATCH

/* `token` in a query is the credential; check_lock's token is fencingToken. */
static const struct rest_alias rest_fencing = {"fencingToken", "token"};

/* First match wins: "locks/renew" (POST) is listed before "locks/{file*}"
 * (GET), so a GET of locks/renew checks a file of that name. */
static const struct rest_endpoint rest_endpoints[] = {
    {"agents", REST_GET, 0, TOOL_LIST_AGENTS, NULL},
    {"agents", REST_POST, REST_BODY | REST_CREATED | REST_ACTS, TOOL_REGISTER_AGENT, NULL},
    {"agents/{agentId}/status", REST_PUT | REST_POST, REST_BODY | REST_ACTS, TOOL_SET_AGENT_STATUS,
     NULL},
    {"agents/{agentId}", REST_DELETE, REST_ADMIN, TOOL_REMOVE_AGENT, NULL},
    {"locks", REST_GET, 0, TOOL_LIST_LOCKED_FILES, NULL},
    {"locks", REST_POST, REST_BODY | REST_CREATED | REST_ACTS, TOOL_LOCK_FILE, NULL},
    {"locks", REST_DELETE, REST_ACTS, TOOL_UNLOCK_FILE, NULL},
    {"locks/renew", REST_POST, REST_BODY | REST_ACTS, TOOL_RENEW_LOCKS, NULL},
    {"locks/{file*}", REST_GET, 0, TOOL_CHECK_LOCK, &rest_fencing},
    {"conflicts", REST_GET, 0, TOOL_DETECT_CONFLICTS, NULL},
    {"tasks", REST_GET, 0, TOOL_LIST_TASKS, NULL},
    {"tasks", REST_POST, REST_BODY | REST_CREATED, TOOL_CREATE_TASK, NULL},
    {"tasks/available", REST_GET, 0, TOOL_FIND_AVAILABLE_TASKS, NULL},
    {"tasks/{taskId}/claim", REST_POST, REST_BODY | REST_ACTS, TOOL_CLAIM_TASK, NULL},
    {"tasks/{taskId}/complete", REST_POST, REST_BODY | REST_ACTS, TOOL_COMPLETE_TASK, NULL},
    {"tasks/{taskId}/release", REST_POST, REST_BODY | REST_ACTS, TOOL_RELEASE_TASK, NULL},
    {"tasks/{taskId}/cancel", REST_POST, REST_BODY, TOOL_CANCEL_TASK, NULL},
    {"tasks/{taskId}/reopen", REST_POST, REST_BODY, TOOL_REOPEN_TASK, NULL},
    {"tasks/{taskId}/update", REST_POST, REST_BODY, TOOL_UPDATE_TASK, NULL},
    {"tasks/{taskId}", REST_PATCH, REST_BODY, TOOL_UPDATE_TASK, NULL},
    {"servers", REST_GET, 0, TOOL_LIST_SERVERS, NULL},
    {"health", REST_GET, 0, TOOL_GET_UNIFIED_HEALTH, NULL},
    {"events", REST_GET, REST_NO_WAIT, TOOL_WAIT_FOR_EVENTS, NULL},
};

/* The tool's answer: the body, a mapped error or a 409 refusal. */
static void rest_tool_done(void *arg, cJSON *result, bool is_error)
{
    struct rest_req *rr = arg;
    if (is_error) {
        const char *code;
        int status = rest_error_status(result, &code);
        const char *msg = json_get_str(result, "error", "the call failed");
        char *m = xstrdup(msg);
        cJSON_Delete(result);
        rest_req_fail(rr, status, code, m);
        free(m);
        return;
    }
    const cJSON *success = cJSON_GetObjectItemCaseSensitive(result, "success");
    if (cJSON_IsFalse(success)) {
        cJSON *o = cJSON_CreateObject();
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "code", err_name(ERR_BUSY));
        cJSON_AddStringToObject(e, "message", json_get_str(result, "error", "refused"));
        cJSON_AddItemToObject(o, "result", result);
        rest_req_finish(rr, err_to_http(ERR_BUSY), o);
        return;
    }
    if (rr->allow) {
        /* Drop what the key may not see; lastId still moves past it. */
        cJSON *events = cJSON_GetObjectItemCaseSensitive(result, "events");
        for (int i = cJSON_GetArraySize(events) - 1; i >= 0; i--) {
            const cJSON *ev = cJSON_GetArrayItem(events, i);
            if (!events_filter_match(rr->allow, json_get_str(ev, "type", "")))
                cJSON_DeleteItemFromArray(events, i);
        }
    }
    rest_req_finish(rr, rr->ok_status, result);
}

static void rest_bad(struct http_request *req, char *msg)
{
    http_reply_error(req, 400, "invalid_argument", msg);
    free(msg);
}

/* Validate args (taken) for e's tool and run it as key (NULL: the admin
 * token), answering req; the events endpoint shows only what key may
 * receive. An agent the workspace does not know is registered by the hub
 * in the same command (hub_tools.c), so this is one call. */
static void rest_call(struct rest *r, struct http_request *req, const struct rest_endpoint *e,
                      cJSON *args, const struct keys_key *key)
{
    const struct tool_def *t = tools_find(e->tool);
    char *msg = NULL;
    if (!cJSON_IsObject(args)) {
        cJSON_Delete(args);
        http_reply_error(req, 400, "invalid_argument", "the body must be a JSON object");
        return;
    }
    if (!t || !tools_validate_args(t, args, &msg)) {
        cJSON_Delete(args);
        char *argname = e->alias ? str_printf("argument '%s'", e->alias->arg) : NULL;
        if (msg && argname && strncmp(msg, argname, strlen(argname)) == 0) {
            /* Name the parameter the caller wrote, not the argument. */
            char *m = str_printf("query parameter '%s'%s", e->alias->param, msg + strlen(argname));
            free(msg);
            msg = m;
        }
        free(argname);
        rest_bad(req, msg ? msg : xstrdup("unknown tool"));
        return;
    }
    if ((e->flags & REST_ACTS) &&
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(args, "agentId"))) {
        cJSON_Delete(args);
        http_reply_error(req, 400, "invalid_argument",
                         "argument 'agentId': required (an HTTP call acts for the agent it "
                         "names)");
        return;
    }
    struct rest_req *rr = rest_req_new(r, req, key, NULL);
    rr->ok_status = e->flags & REST_CREATED ? 201 : 200;
    rr->allow = key && strcmp(e->tool, TOOL_WAIT_FOR_EVENTS) == 0 ? &key->subscribe : NULL;
    rest_req_call(rr, e->tool, args, rest_tool_done);
}

/* The arguments of a call to e: from the query or the body, plus the
 * captured path segments (taken). NULL when req has been answered. */
static cJSON *rest_args(struct http_request *req, const struct rest_endpoint *e,
                        const struct evkeyvalq *q, cJSON *captured)
{
    const char *where = e->flags & REST_BODY ? "argument" : "query parameter";
    cJSON *args = NULL;
    if (!(e->flags & REST_BODY)) {
        const struct tool_def *t = tools_find(e->tool);
        char *msg = NULL;
        if (!t || rest_query_args(t->input_schema, q, e->alias, &args, &msg) != 0) {
            cJSON_Delete(captured);
            rest_bad(req, msg ? msg : xstrdup("unknown tool"));
            return NULL;
        }
    } else {
        const struct evkeyval *kv;
        TAILQ_FOREACH(kv, q, next)
        {
            if (strcmp(kv->key, "token") != 0) {
                cJSON_Delete(captured);
                rest_bad(req, str_printf("query parameter '%s': not accepted here; arguments "
                                         "go in the JSON body",
                                         kv->key));
                return NULL;
            }
        }
        if (rest_read_body(req, &args) != 0) {
            cJSON_Delete(captured);
            return NULL;
        }
        if (!args)
            args = cJSON_CreateObject();
    }
    cJSON *c;
    while (cJSON_IsObject(args) && (c = captured->child) != NULL) {
        if (cJSON_GetObjectItemCaseSensitive(args, c->string)) {
            rest_bad(req, str_printf("%s '%s': not accepted here; it comes from the path", where,
                                     c->string));
            cJSON_Delete(captured);
            cJSON_Delete(args);
            return NULL;
        }
        cJSON_DetachItemViaPointer(captured, c);
        cJSON_AddItemToObject(args, c->string, c);
    }
    cJSON_Delete(captured);
    bool no_wait = e->flags & REST_NO_WAIT;
    if (no_wait && cJSON_GetObjectItemCaseSensitive(args, "timeoutMs")) {
        cJSON_Delete(args);
        http_reply_error(req, 400, "invalid_argument",
                         "query parameter 'timeoutMs': not accepted here (this endpoint never "
                         "waits; use GET /events for a stream)");
        return NULL;
    }
    if (no_wait)
        cJSON_AddNumberToObject(args, "timeoutMs", 0);
    return args;
}

static void rest_forbid(struct http_request *req, char *msg)
{
    http_reply_error(req, 403, "forbidden", msg);
    free(msg);
}

/* May key (NULL: the admin token) call e's tool? Before the arguments are
 * read: a read-only tool needs `read`, any other `write`, the events
 * endpoint canSubscribe. With args: a forced unlock needs `admin`. On
 * false req has been answered 403. */
static bool rest_allowed(struct http_request *req, const struct rest_endpoint *e, const cJSON *args,
                         const struct keys_key *key)
{
    if (!key)
        return true;
    const struct tool_def *t = tools_find(e->tool);
    enum keys_access need = t && t->read_only ? KEYS_ACCESS_READ : KEYS_ACCESS_WRITE;
    const char *what =
        need == KEYS_ACCESS_READ ? "reading through /api/v1" : "changing state through /api/v1";
    if (args && strcmp(e->tool, TOOL_UNLOCK_FILE) == 0 &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "force"))) {
        need = KEYS_ACCESS_ADMIN;
        what = "a forced unlock";
    }
    if (e->flags & REST_ADMIN) {
        need = KEYS_ACCESS_ADMIN;
        what = e->tool;
    }
    if (key->access < need) {
        rest_forbid(req, str_printf("%s needs canAccessState '%s'; this API key has '%s'", what,
                                    keys_access_name(need), keys_access_name(key->access)));
        return false;
    }
    if (strcmp(e->tool, TOOL_WAIT_FOR_EVENTS) == 0 && key->subscribe.n == 0) {
        rest_forbid(req, xstrdup("GET /api/v1/events needs canSubscribe patterns; this API key "
                                 "has none"));
        return false;
    }
    return true;
}

void rest_handle(struct rest *r, struct http_request *req, const struct evkeyvalq *q,
                 const struct keys_key *key)
{
    const char *path = http_request_path(req);
    if (!path || strncmp(path, REST_PREFIX, strlen(REST_PREFIX)) != 0) {
        http_reply_error(req, 404, "not_found", "no such endpoint");
        return;
    }
    path += strlen(REST_PREFIX);
    unsigned method = http_request_method(req);
    unsigned allowed = 0;
    for (size_t i = 0; i < sizeof(rest_endpoints) / sizeof(rest_endpoints[0]); i++) {
        const struct rest_endpoint *e = &rest_endpoints[i];
        cJSON *captured = rest_path_match(e->path, path);
        if (!captured)
            continue;
        if (!(e->methods & method)) {
            allowed |= e->methods;
            cJSON_Delete(captured);
            continue;
        }
        if (!rest_allowed(req, e, NULL, key)) {
            cJSON_Delete(captured);
            return;
        }
        cJSON *args = rest_args(req, e, q, captured);
        if (!args)
            return;
        if (!rest_allowed(req, e, args, key)) {
            cJSON_Delete(args);
            return;
        }
        rest_call(r, req, e, args, key);
        return;
    }
    if (allowed)
        http_reply_not_allowed(req, allowed);
    else
        http_reply_error(req, 404, "not_found", "no such endpoint");
}
