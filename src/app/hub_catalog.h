/* hub_catalog — the hub's side of the tool catalog (rpc/catalog.h) and of
 * the providers plugged in through app/tool_host.h (hub_catalog.c says
 * how). */
#ifndef COORDHUB_APP_HUB_CATALOG_H
#define COORDHUB_APP_HUB_CATALOG_H

#include <stdint.h>

#include "app/hub_state.h"

struct mcp_session;

/* The registry's `changed` (arg: the hub): rebuild h->catalog, then tell
 * every initialised MCP session (notifications/tools/list_changed). */
void hub_catalog_changed(void *hub);
/* Plug the providers of tool_host_plug() into h->registry (after the
 * hub's own) and attach them; detach them, forget held calls and free
 * the catalog. */
void hub_catalog_plug(struct hub *h);
void hub_catalog_fini(struct hub *h);
/* The sessions part's `catalog` op: the hub's catalog. */
const struct tool_catalog *hub_catalog_of(void *hub);
/* Session left: each call a provider holds for it is offered to the
 * providers' cancel and forgotten. */
void hub_catalog_drop_session(struct hub *h, uint64_t session);
/* The held call (session, call_id) was cancelled: forget it. */
void hub_catalog_forget(struct hub *h, uint64_t session, uint64_t call_id);

#endif
