/* rest — the REST face: /api/v1 endpoints as twins of the coordination
 * tools, and POST /events (events_post.c). The endpoint table is in rest.c:
 *
 *   GET    /api/v1/agents[?status=]              list_agents
 *   POST   /api/v1/agents {agentId,…}            register_agent        201
 *   PUT|POST /api/v1/agents/{agentId}/status {status,note}  set_agent_status
 *   DELETE /api/v1/agents/{agentId}              remove_agent (admin)
 *   GET    /api/v1/locks[?agentId=]              list_locked_files
 *   POST   /api/v1/locks {file|pattern,agentId,…} lock_file            201 / 409
 *   DELETE /api/v1/locks?file=|pattern=&agentId=[&force=true] unlock_file / 409
 *   POST   /api/v1/locks/renew {agentId,files,ttl}  renew_locks
 *   GET    /api/v1/locks/{file}[?fencingToken=]  check_lock (token)
 *   GET    /api/v1/conflicts?files=&patterns=&agentId=  detect_conflicts
 *   GET    /api/v1/tasks[?status=&agentId=]      list_tasks
 *   POST   /api/v1/tasks {title,…}               create_task           201
 *   GET    /api/v1/tasks/available[?capabilities=&limit=&agentId=]  find_available_tasks
 *   POST   /api/v1/tasks/{id}/claim|complete|release {agentId,…}   claim/complete/release
 *   POST   /api/v1/tasks/{id}/cancel|reopen {agentId?,reason?}     cancel_task / reopen_task
 *   PATCH  /api/v1/tasks/{id}, POST …/{id}/update {title?,…}      update_task
 *   GET    /api/v1/servers                       list_servers
 *   GET    /api/v1/health                        get_unified_health
 *   GET    /api/v1/events[?since=&types=&limit=] wait_for_events, timeoutMs 0
 *
 * Arguments come from the query (GET, DELETE) or a JSON object body
 * (POST, PUT; Content-Type application/json, else 415), plus the variable
 * path segments (percent-decoded; repeating one in the query or body is a
 * 400), and are validated against the tool's inputSchema (400 naming the
 * argument). An unknown path is 404, a known one with another method 405
 * with Allow. The call runs through the hub exactly like an MCP
 * tools/call (struct api_host.call): the answer waits for the group
 * commit. A tool's result is the body; a tool error becomes
 * {error:{code,message}} with err_to_http's status; a domain refusal
 * (success:false, e.g. "locked by another agent") is 409 with the refusal
 * object under "result".
 *
 * The caller holds the admin token (or an API key whose rights allow the
 * call, checked here: a tool annotated readOnlyHint needs canAccessState
 * `read`, any other `write`, a forced unlock and remove_agent `admin`, and the events
 * endpoint canSubscribe, whose patterns also filter its answer; 403
 * `forbidden` otherwise). The admin token and `admin` keys act for any
 * agent; a key below `admin` acts as the agent a call names, under the
 * core's ownership rules (it cannot complete another agent's task). Calls
 * that act for an agent (status, lock, unlock, renew, claim, complete,
 * release) and POST /api/v1/agents need agentId (400 without); an agent
 * the workspace does not know is registered by the hub in the same
 * command (metadata {ide:"http"}). */
#ifndef COORDHUB_API_REST_H
#define COORDHUB_API_REST_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "api/api.h"

struct http_request;
struct evkeyvalq;
struct http_server;
struct rest;
struct rest_req;
struct keys_key;

/* The REST face on http, calling tools through host (borrowed). */
struct rest *rest_new(struct http_server *http, const struct api_host *host);
/* Forget every request in flight (their connections are gone: call after
 * http_server_free). NULL ok. */
void rest_free(struct rest *r);

/* POST /events bodies refused because an event's type is in the hub's
 * own namespaces, for /metrics. */
uint64_t rest_events_reserved(const struct rest *r);
/* Count one such refusal (events_post.c). */
void rest_events_reserved_note(struct rest *r);

/* Route handler for every path under /api/v1/. key is the API key the
 * request authenticated with (borrowed: keys outlive the face), or NULL
 * for the admin token. */
void rest_handle(struct rest *r, struct http_request *req, const struct evkeyvalq *q,
                 const struct keys_key *key);
/* POST /events (events_post.c). key, when not NULL, is the API key the
 * request authenticated with: every event's type must be in its
 * canPublish patterns, else the whole body is refused with 403 and
 * nothing is published. signature, when not NULL, is the request's
 * verified X-Coordhub-Signature: every event records it. */
void rest_handle_events_post(struct rest *r, struct http_request *req, const struct keys_key *key,
                             const char *signature);

/* ---- shared with events_post.c ---- */

/* Read req's body as JSON into *out (caller owns). An empty body gives
 * NULL and 0. Otherwise the Content-Type must be application/json (415)
 * and the bytes valid JSON within the depth cap (400 parse_error), with
 * no string holding U+0000 and no duplicate key (400 invalid_argument,
 * the message naming the offset). On error the request has been answered
 * and the result is -1. */
int rest_read_body(struct http_request *req, cJSON **out);
/* A request that will be answered later: tracks the peer going away. Its
 * calls run as key says (NULL: the admin token; see struct api_caller),
 * with signature (copied; NULL: none) for publish_event. */
struct rest_req *rest_req_new(struct rest *r, struct http_request *req, const struct keys_key *key,
                              const char *signature);
/* Answer (if the peer is still there; takes body) and free rr. */
void rest_req_finish(struct rest_req *rr, int status, cJSON *body);
/* Answer {error:{code,message}} with status and free rr. */
void rest_req_fail(struct rest_req *rr, int status, const char *code, const char *message);
/* Make a tool call for rr; done(rr, result, is_error) takes result. */
void rest_req_call(struct rest_req *rr, const char *tool, cJSON *args,
                   void (*done)(void *rr, cJSON *result, bool is_error));
/* Error status and code of a tool error result ({error, code}). */
int rest_error_status(const cJSON *result, const char **code);
/* Batch state for POST /events (events_post.c owns its meaning). */
struct rest_batch {
    size_t want, got;
    cJSON *ids;   /* owned: answered ids, in order */
    cJSON *error; /* owned: the first error result, or NULL */
    bool error_is_tool;
};
struct rest_batch *rest_req_batch(struct rest_req *rr);

#endif
