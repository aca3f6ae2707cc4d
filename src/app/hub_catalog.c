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
 * A call a provider holds (tool_call_hold) is recorded in h->held with
 * its session, call id and metrics clock until the provider answers it
 * (tool_host_reply), the client cancels it (hub_tool_cancel, after the
 * provider's cancel dropped it) or its session leaves
 * (hub_catalog_drop_session: offered to the providers' cancel, then
 * forgotten).
 *
 * Invariants: h->catalog always reflects h->registry once the first
 * provider is in; sessions are told only after the catalog is rebuilt; a
 * held record's session counts it in its inflight calls. */
#include <stddef.h>
#include <stdlib.h>

#include "app/hub_internal.h"
#include "app/tool_host.h"
#include "base/err.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "rpc/catalog.h"
#include "rpc/mcp.h"
#include "rpc/registry.h"

struct hub_held {
    struct hub_held *next;
    uint64_t session;
    uint64_t call_id;
    struct hub_call_clock clock;
};

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
    while (h->held) {
        struct hub_held *d = h->held;
        h->held = d->next;
        free(d);
    }
    tool_catalog_free(h->catalog);
    h->catalog = NULL;
}

/* Unlink and return the record of (session, call_id), or NULL. */
static struct hub_held *hub_catalog_take(struct hub *h, uint64_t session, uint64_t call_id)
{
    for (struct hub_held **pp = &h->held; *pp; pp = &(*pp)->next) {
        struct hub_held *d = *pp;
        if (d->session == session && d->call_id == call_id) {
            *pp = d->next;
            return d;
        }
    }
    return NULL;
}

void hub_catalog_forget(struct hub *h, uint64_t session, uint64_t call_id)
{
    free(hub_catalog_take(h, session, call_id));
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
        struct hub_session *s = hub_session_find(h, session);
        if (s)
            s->inflight--;
        free(d);
    }
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

void tool_call_hold(struct tool_call *c)
{
    if (!c->call_id)
        return; /* internal: nobody to answer */
    struct hub_held *d = xcalloc(1, sizeof(*d));
    d->session = c->session->id;
    d->call_id = c->call_id;
    d->clock = c->clock;
    d->next = c->hub->held;
    c->hub->held = d;
}

int tool_host_reply(struct tool_host *host, uint64_t session, uint64_t call_id, cJSON *result,
                    bool is_error)
{
    struct hub *h = host->hub;
    struct hub_held *d = hub_catalog_take(h, session, call_id);
    struct hub_session *s = d ? hub_session_find(h, session) : NULL;
    if (!s) {
        free(d);
        cJSON_Delete(result);
        return -ERR_NOT_FOUND;
    }
    hub_reply_timed(h, s, call_id, result, is_error, d->clock);
    free(d);
    return 0;
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
