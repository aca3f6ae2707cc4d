/* hub_catalog — the hub's side of the tool catalog and of the providers
 * plugged in through the seam (app/tool_host.h; docs/architecture.md,
 * "Tools: providers and the registry").
 *
 * The registry calls hub_catalog_changed whenever a provider comes, goes
 * or reports that its list changed: the catalog (rpc/catalog.h) is
 * serialised again, and every initialised MCP session — socket and stdio
 * sessions, /mcp sessions (their engine's notifications go to the GET
 * stream, or are kept for it: api/mcp_http.h) — gets
 * notifications/tools/list_changed (hub_sessions_tools_changed). tools/list
 * is served from the catalog, never built per request.
 *
 * The providers of tool_host_plug() are plugged into the registry after
 * the hub's own two and told their host. A call one of them holds
 * (tool_call_hold, tool_host.c) is on h->held until it is answered
 * (tool_host_reply), the client cancels it (hub_tool_cancel, after the
 * provider's cancel dropped it: hub_catalog_forget) or its session leaves
 * (hub_catalog_drop_session: offered to the providers' cancel, then
 * forgotten).
 *
 * Invariants: h->catalog reflects h->registry once the first provider is
 * in; sessions are told only after the catalog is rebuilt; a held record
 * counts in its session's inflight calls. */
#include <stddef.h>
#include <stdlib.h>

#include "app/hub_catalog.h"
#include "app/hub_session.h"
#include "app/tool_host.h"
#include "base/log.h"
#include "rpc/catalog.h"
#include "rpc/registry.h"

void hub_catalog_changed(void *hub)
{
    struct hub *h = hub;
    if (!h->catalog)
        h->catalog = tool_catalog_new();
    tool_catalog_build(h->catalog, h->registry);
    hub_sessions_tools_changed(&h->sessions);
}

void hub_catalog_plug(struct hub *h)
{
    h->host.hub = h;
    size_t n = 0;
    const struct tool_host_plugin *const *plugins = tool_host_plugins(&n);
    for (size_t i = 0; i < n; i++) {
        const struct tool_host_plugin *p = plugins[i];
        if (tool_registry_add(h->registry, p->ops, p->self) != 0) {
            log_error("tool provider %s: one of its tools is already served; not plugged in",
                      p->ops->name);
            continue;
        }
        if (p->attach)
            p->attach(p->self, &h->host);
    }
}

void hub_catalog_fini(struct hub *h)
{
    size_t n = 0;
    const struct tool_host_plugin *const *plugins = tool_host_plugins(&n);
    for (size_t i = 0; i < n; i++)
        if (plugins[i]->detach)
            plugins[i]->detach(plugins[i]->self, &h->host);
    while (h->held) {
        struct hub_held *d = h->held;
        h->held = d->next;
        free(d);
    }
    tool_catalog_free(h->catalog);
    h->catalog = NULL;
}

const struct tool_catalog *hub_catalog_of(void *hub)
{
    const struct hub *h = hub;
    return h->catalog;
}

void hub_catalog_forget(struct hub *h, uint64_t session, uint64_t call_id)
{
    for (struct hub_held **pp = &h->held; *pp; pp = &(*pp)->next) {
        struct hub_held *d = *pp;
        if (d->session == session && d->call_id == call_id) {
            *pp = d->next;
            free(d);
            return;
        }
    }
}

void hub_catalog_drop_session(struct hub *h, uint64_t session)
{
    struct hub_held **pp = &h->held;
    while (*pp) {
        struct hub_held *d = *pp;
        if (d->session != session) {
            pp = &d->next;
            continue;
        }
        *pp = d->next;
        (void)tool_registry_cancel(h->registry, session, d->call_id);
        struct hub_session *s = hub_session_find(&h->sessions, session);
        if (s)
            s->inflight--;
        free(d);
    }
}
