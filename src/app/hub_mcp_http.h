/* hub_mcp_http — MCP over Streamable HTTP (/mcp): its sessions are agent sessions of
 * the hub, of the "mcp-http" kind. */
#ifndef COORDHUB_APP_HUB_MCP_HTTP_H
#define COORDHUB_APP_HUB_MCP_HTTP_H

#include "app/hub_state.h"

struct api_config;

/* Point cfg's /mcp host at the hub: HTTP MCP sessions are agent sessions
 * of h (COORDHUB_MCP_IDLE_MS overrides their idle lifetime, for tests). */
void hub_mcp_http_config(struct hub *h, struct api_config *cfg);

#endif
