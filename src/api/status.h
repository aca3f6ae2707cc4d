/* status — the read-only documents of the HTTP face: GET /healthz
 * (liveness), GET /status (the coordination status) and GET / (an index
 * of the endpoints).
 *
 * /status is the object get_coordination_status and coord://status
 * return (docs/http-api.md: the seed's shape {enabled, activeAgents[],
 * lockedFiles[], activeTasks[], systemHealth} plus `details`); the hub
 * builds it, this module only checks the shape and answers. */
#ifndef COORDHUB_API_STATUS_H
#define COORDHUB_API_STATUS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

struct http_request;

/* 200 {"status":"ok"}, or 200 with store (taken, NULL: none) as
 * {"status":"degraded","store":store}: the hub is alive and serving (reads)
 * while its store is away; liveness is not readiness, so still 200. */
void status_reply_health(struct http_request *req, cJSON *store);
/* 200 with status (taken), or 500 if it lacks a field of the seed's
 * shape, 503 if NULL (the hub could not build it). */
void status_reply_status(struct http_request *req, cJSON *status);
/* 200 {"service":"coordhub","version","workspace","endpoints":{…}};
 * endpoints lists /mcp when mcp is true (the hub serves MCP over HTTP). */
void status_reply_index(struct http_request *req, const char *workspace, const char *version,
                        bool mcp);

#endif
