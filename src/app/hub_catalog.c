/* hub_catalog — the hub's side of the tool catalog and the provider seam
 * (app/tool_host.h; docs/architecture.md, "Tools: providers and the
 * registry").
 *
 * The registry calls hub_catalog_changed whenever a provider comes, goes
 * or reports that its list changed: the catalog (rpc/catalog.h) is
 * serialised again, and every initialised MCP session — socket and stdio
 * sessions, /mcp sessions (their engine's notifications go to the GET
 * stream, or are kept for it: mcp_http.h) — gets
 * notifications/tools/list_changed. tools/list is served from the
 * catalog, never built per request.
 *
 * Providers of tool_host_plug() are kept in a process-wide list (the
 * process serves one hub; tests and the supervisor plug theirs in before
 * serving) and plugged into each hub after its own two.
 *
 * Invariants: h->catalog always reflects h->registry once the first
 * provider is in; sessions are told only after the catalog is rebuilt. */
#include <stddef.h>

#include "app/hub_internal.h"
#include "app/tool_host.h"
#include "base/err.h"
#include "base/log.h"
#include "rpc/catalog.h"
#include "rpc/mcp.h"
#include "rpc/registry.h"

static const struct tool_host_plugin *hub_catalog_plugins[TOOL_HOST_PLUGINS_MAX];
static size_t hub_catalog_nplugins;

int tool_host_plug(const struct tool_host_plugin *p)
{
    if (hub_catalog_nplugins == TOOL_HOST_PLUGINS_MAX)
        return -ERR_TOO_LARGE;
    hub_catalog_plugins[hub_catalog_nplugins++] = p;
    return 0;
}

void hub_catalog_changed(void *hub)
{
    struct hub *h = hub;
    if (!h->catalog)
        h->catalog = tool_catalog_new();
    tool_catalog_build(h->catalog, h->registry);
    for (struct hub_session *s = h->sessions; s; s = s->next)
        if (s->id != 0 && s->mcp) /* id 0: closing, flushing its output */
            mcp_session_tools_changed(s->mcp);
}

void hub_catalog_plug(struct hub *h)
{
    h->host.hub = h;
    for (size_t i = 0; i < hub_catalog_nplugins; i++) {
        const struct tool_host_plugin *p = hub_catalog_plugins[i];
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
    for (size_t i = 0; i < hub_catalog_nplugins; i++) {
        const struct tool_host_plugin *p = hub_catalog_plugins[i];
        if (p->detach)
            p->detach(p->self, &h->host);
    }
    tool_catalog_free(h->catalog);
    h->catalog = NULL;
}

const struct tool_catalog *hub_catalog_of(void *hub, struct mcp_session *m)
{
    struct hub *h = hub;
    (void)m;
    return h->catalog;
}

/* ---- the seam (tool_host.h) ------------------------------------------------ */

void tool_host_changed(struct tool_host *host, void *self)
{
    tool_registry_changed(host->hub->registry, self);
}

void tool_call_reply(struct tool_call *c, cJSON *result, bool is_error)
{
    hub_reply(c, result, is_error);
}

struct tool_host *tool_call_host(const struct tool_call *c)
{
    return &c->hub->host;
}

uint64_t tool_call_session(const struct tool_call *c)
{
    return c->session->id;
}

uint64_t tool_call_id(const struct tool_call *c)
{
    return c->call_id;
}

const char *tool_call_agent(const struct tool_call *c)
{
    return c->session->agent_id;
}

int64_t tool_call_now(const struct tool_call *c)
{
    return hub_now(c->hub);
}
