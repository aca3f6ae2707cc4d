/* status — /healthz, /status and the index.
 *
 * The shape check guards the contract external consumers (the seed's
 * dashboards and backends) rely on: if the hub ever built a status
 * without one of the seed's fields, answering 500 is better than a 200
 * they would misread. */
#include "api/status.h"

#include "net/http.h"

static const char *const status_seed_fields[] = {"enabled", "activeAgents", "lockedFiles",
                                                 "activeTasks", "systemHealth"};

void status_reply_health(struct http_request *req, cJSON *store)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", store ? "degraded" : "ok");
    if (store)
        cJSON_AddItemToObject(o, "store", store);
    http_reply_json(req, 200, o);
}

void status_reply_status(struct http_request *req, cJSON *status)
{
    if (!status) {
        http_reply_error(req, 503, "unavailable", "the hub cannot build its status right now");
        return;
    }
    for (size_t i = 0; i < sizeof(status_seed_fields) / sizeof(status_seed_fields[0]); i++) {
        if (!cJSON_HasObjectItem(status, status_seed_fields[i])) {
            cJSON_Delete(status);
            http_reply_error(req, 500, "internal",
                             "the hub's status lacks a field of its contract");
            return;
        }
    }
    http_reply_json(req, 200, status);
}

void status_reply_index(struct http_request *req, const char *workspace, const char *version,
                        bool mcp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "service", "coordhub");
    cJSON_AddStringToObject(o, "version", version);
    cJSON_AddStringToObject(o, "workspace", workspace);
    cJSON *ep = cJSON_AddObjectToObject(o, "endpoints");
    cJSON_AddStringToObject(ep, "/healthz", "liveness (no credential)");
    cJSON_AddStringToObject(ep, "/status", "agents, leases, tasks and health");
    cJSON_AddStringToObject(ep, "/events",
                            "the event log as Server-Sent Events (GET); publish events (POST)");
    if (mcp)
        cJSON_AddStringToObject(ep, "/mcp",
                                "MCP over Streamable HTTP (POST messages, GET the session's "
                                "stream, DELETE the session)");
    cJSON_AddStringToObject(ep, "/api/v1", "REST twins of the coordination tools");
    cJSON_AddStringToObject(ep, "/metrics", "Prometheus metrics");
    http_reply_json(req, 200, o);
}
