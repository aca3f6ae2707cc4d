/* rest — REST twins of the coordination tools (see rest.h).
 *
 * Nothing here knows what a tool does: an endpoint is a tool name, the
 * method that reaches it and where its arguments come from. Arguments are
 * converted (rest_args.c) and validated against the tool's own
 * inputSchema, then handed to the hub, which runs them on the same path
 * as MCP. A request is answered from the hub's callback, possibly in a
 * later loop turn (after the group commit); if the peer goes away first
 * the answer is dropped, and the request is freed as evhttp requires.
 *
 * Invariant: a struct rest_req lives until its last callback ran; the
 * hub calls done exactly once per call, and never after api_free. */
#include "api/rest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api/rest_args.h"
#include "base/json.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "net/http.h"
#include "rpc/tools.h"

#define REST_TASKS_PREFIX "/api/v1/tasks/"

struct rest_req {
    struct rest *rest;
    struct evhttp_request *req; /* NULL once the peer went away */
    const char *tool;           /* static: the call being made */
    cJSON *args;                /* owned: held while the agent is ensured */
    int ok_status;              /* 200 or 201 */
    struct rest_batch batch;
    struct rest_req *prev, *next;
};

struct rest {
    struct http_server *http;
    const struct api_host *host;
    struct rest_req *reqs; /* owned: in flight */
};

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
        http_request_on_close(r->http, rr->req, NULL, NULL);
    cJSON_Delete(rr->args);
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
    if (rr->req && http_request_detached(rr->req))
        evhttp_request_free(rr->req);
    rr->req = NULL; /* the answer, when it comes, goes nowhere */
}

struct rest_req *rest_req_new(struct rest *r, struct evhttp_request *req)
{
    struct rest_req *rr = xcalloc(1, sizeof(*rr));
    rr->rest = r;
    rr->req = req;
    rr->ok_status = 200;
    rr->next = r->reqs;
    if (r->reqs)
        r->reqs->prev = rr;
    r->reqs = rr;
    http_request_on_close(r->http, req, rest_req_closed, rr);
    return rr;
}

struct rest_batch *rest_req_batch(struct rest_req *rr)
{
    return &rr->batch;
}

void rest_req_finish(struct rest_req *rr, int status, cJSON *body)
{
    struct evhttp_request *req = rr->req;
    if (req)
        http_request_on_close(rr->rest->http, req, NULL, NULL);
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
    rr->rest->host->call(rr->rest->host->arg, tool, args, done, rr);
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

int rest_read_body(struct evhttp_request *req, cJSON **out)
{
    *out = NULL;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    if (n == 0)
        return 0;
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    size_t base = ct ? strcspn(ct, "; \t") : 0;
    if (!ct || base != strlen("application/json") ||
        strncasecmp(ct, "application/json", base) != 0) {
        http_reply_error(req, 415, "unsupported_media_type",
                         "the body must be JSON with Content-Type: application/json");
        return -1;
    }
    const char *text = (const char *)evbuffer_pullup(in, -1);
    int err = 0;
    cJSON *v = text ? json_parse_bounded(text, n, JSON_MAX_DEPTH, &err) : NULL;
    if (!v) {
        http_reply_error(req, 400, "parse_error",
                         "the body is not valid JSON (UTF-8, nesting at most 64 levels)");
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- calling a tool ------------------------------------------------------ */

static bool rest_acts_for_agent(const char *tool)
{
    static const char *const acting[] = {"lock_file", "unlock_file", "claim_task", "complete_task",
                                         "release_task"};
    for (size_t i = 0; i < sizeof(acting) / sizeof(acting[0]); i++)
        if (strcmp(acting[i], tool) == 0)
            return true;
    return false;
}

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
    rest_req_finish(rr, rr->ok_status, result);
}

static void rest_run(struct rest_req *rr)
{
    cJSON *args = rr->args;
    rr->args = NULL;
    rest_req_call(rr, rr->tool, args, rest_tool_done);
}

static void rest_registered(void *arg, cJSON *result, bool is_error)
{
    struct rest_req *rr = arg;
    if (is_error) {
        rest_tool_done(rr, result, true);
        return;
    }
    cJSON_Delete(result);
    rest_run(rr);
}

/* list_agents answered: register the named agent if it is unknown. */
static void rest_agent_known(void *arg, cJSON *result, bool is_error)
{
    struct rest_req *rr = arg;
    const char *id = json_get_str(rr->args, "agentId", "");
    bool known = false;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(result, "agents"))
    {
        if (strcmp(json_get_str(a, "agentId", ""), id) == 0)
            known = true;
    }
    if (is_error || known) {
        cJSON_Delete(result);
        rest_run(rr);
        return;
    }
    cJSON_Delete(result);
    cJSON *reg = cJSON_CreateObject();
    cJSON_AddStringToObject(reg, "agentId", id);
    cJSON *meta = cJSON_AddObjectToObject(reg, "metadata");
    cJSON_AddStringToObject(meta, "ide", "http");
    rest_req_call(rr, "register_agent", reg, rest_registered);
}

/* Validate args (taken) for tool and run it, answering req. */
static void rest_call(struct rest *r, struct evhttp_request *req, const char *tool, cJSON *args,
                      int ok_status)
{
    const struct tool_def *t = tools_find(tool);
    char *msg = NULL;
    if (!cJSON_IsObject(args)) {
        cJSON_Delete(args);
        http_reply_error(req, 400, "invalid_argument", "the body must be a JSON object");
        return;
    }
    if (!t || !tools_validate_args(t, args, &msg)) {
        http_reply_error(req, 400, "invalid_argument", msg ? msg : "unknown tool");
        free(msg);
        cJSON_Delete(args);
        return;
    }
    bool acting = rest_acts_for_agent(tool);
    if ((acting || strcmp(tool, "register_agent") == 0) &&
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(args, "agentId"))) {
        cJSON_Delete(args);
        http_reply_error(req, 400, "invalid_argument",
                         "argument 'agentId': required (the HTTP caller is the admin and acts "
                         "for the agent it names)");
        return;
    }
    struct rest_req *rr = rest_req_new(r, req);
    rr->tool = tool;
    rr->args = args;
    rr->ok_status = ok_status;
    if (acting)
        rest_req_call(rr, "list_agents", NULL, rest_agent_known);
    else
        rest_run(rr);
}

/* Arguments from the query string for tool; answers 400 and returns NULL
 * on a bad parameter. */
static cJSON *rest_query(struct evhttp_request *req, const char *tool, const struct evkeyvalq *q)
{
    const struct tool_def *t = tools_find(tool);
    cJSON *args = NULL;
    char *msg = NULL;
    if (!t || rest_query_args(t->input_schema, q, &args, &msg) != 0) {
        http_reply_error(req, 400, "invalid_argument", msg ? msg : "unknown tool");
        free(msg);
        return NULL;
    }
    return args;
}

static void rest_from_query(struct rest *r, struct evhttp_request *req, const char *tool,
                            const struct evkeyvalq *q)
{
    cJSON *args = rest_query(req, tool, q);
    if (args)
        rest_call(r, req, tool, args, 200);
}

/* A POST endpoint: the body is the arguments; only `token` may be in
 * the query. */
static void rest_from_body(struct rest *r, struct evhttp_request *req, const char *tool,
                           const struct evkeyvalq *q, int ok_status)
{
    const struct evkeyval *kv;
    TAILQ_FOREACH(kv, q, next)
    {
        if (strcmp(kv->key, "token") != 0) {
            char *m = str_printf("query parameter '%s': not accepted here; arguments go in "
                                 "the JSON body",
                                 kv->key);
            http_reply_error(req, 400, "invalid_argument", m);
            free(m);
            return;
        }
    }
    cJSON *body;
    if (rest_read_body(req, &body) != 0)
        return;
    rest_call(r, req, tool, body ? body : cJSON_CreateObject(), ok_status);
}

static bool rest_is(struct evhttp_request *req, enum evhttp_cmd_type cmd)
{
    return evhttp_request_get_command(req) == cmd;
}

/* ---- endpoints ----------------------------------------------------------- */

void rest_handle_agents(struct rest *r, struct evhttp_request *req, const struct evkeyvalq *q)
{
    if (rest_is(req, EVHTTP_REQ_POST))
        rest_from_body(r, req, "register_agent", q, 201);
    else
        rest_from_query(r, req, "list_agents", q);
}

void rest_handle_locks(struct rest *r, struct evhttp_request *req, const struct evkeyvalq *q)
{
    if (rest_is(req, EVHTTP_REQ_POST))
        rest_from_body(r, req, "lock_file", q, 201);
    else if (rest_is(req, EVHTTP_REQ_DELETE))
        rest_from_query(r, req, "unlock_file", q);
    else
        rest_from_query(r, req, "list_locked_files", q);
}

void rest_handle_tasks(struct rest *r, struct evhttp_request *req, const struct evkeyvalq *q)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (path && strncmp(path, REST_TASKS_PREFIX, strlen(REST_TASKS_PREFIX)) == 0) {
        char *id = NULL;
        const char *action = NULL;
        if (rest_task_path(path + strlen(REST_TASKS_PREFIX), &id, &action) != 0) {
            http_reply_error(req, 404, "not_found",
                             "no such endpoint: use /api/v1/tasks/{taskId}/claim, "
                             "/complete or /release");
            return;
        }
        if (!rest_is(req, EVHTTP_REQ_POST)) {
            free(id);
            evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
            http_reply_error(req, 405, "method_not_allowed", "this path accepts POST");
            return;
        }
        const struct evkeyval *kv;
        TAILQ_FOREACH(kv, q, next)
        {
            if (strcmp(kv->key, "token") != 0) {
                free(id);
                http_reply_error(req, 400, "invalid_argument",
                                 "query parameters are not accepted here; arguments go in the "
                                 "JSON body");
                return;
            }
        }
        cJSON *body;
        if (rest_read_body(req, &body) != 0) {
            free(id);
            return;
        }
        if (!body)
            body = cJSON_CreateObject();
        if (cJSON_IsObject(body)) {
            cJSON_DeleteItemFromObjectCaseSensitive(body, "taskId");
            cJSON_AddStringToObject(body, "taskId", id);
        }
        free(id);
        const char *tool = strcmp(action, "claim") == 0      ? "claim_task"
                           : strcmp(action, "complete") == 0 ? "complete_task"
                                                             : "release_task";
        rest_call(r, req, tool, body, 200);
        return;
    }
    if (rest_is(req, EVHTTP_REQ_POST))
        rest_from_body(r, req, "create_task", q, 201);
    else
        rest_from_query(r, req, "list_tasks", q);
}

void rest_handle_servers(struct rest *r, struct evhttp_request *req, const struct evkeyvalq *q)
{
    rest_from_query(r, req, "list_servers", q);
}

void rest_handle_health(struct rest *r, struct evhttp_request *req, const struct evkeyvalq *q)
{
    rest_from_query(r, req, "get_unified_health", q);
}

void rest_handle_events(struct rest *r, struct evhttp_request *req, const struct evkeyvalq *q)
{
    cJSON *args = rest_query(req, "wait_for_events", q);
    if (!args)
        return;
    if (cJSON_GetObjectItemCaseSensitive(args, "timeoutMs")) {
        cJSON_Delete(args);
        http_reply_error(req, 400, "invalid_argument",
                         "query parameter 'timeoutMs': not accepted here (this endpoint never "
                         "waits; use GET /events for a stream)");
        return;
    }
    cJSON_AddNumberToObject(args, "timeoutMs", 0);
    rest_call(r, req, "wait_for_events", args, 200);
}
