/* tool_host — the seam a tool provider plugs into (tool_host.h): the
 * providers plugged in before the hub serves (a process-wide list: the
 * process serves one hub; tests and the supervisor plug theirs in before
 * serving), and what a provider answers its calls with. The hub's side —
 * plugging them into its registry, the catalog, dropping held calls — is
 * hub_catalog.c.
 *
 * Invariants: the list only grows, before any hub serves; a held call is
 * on h->held (struct hub_held) from tool_call_hold until it is answered
 * here or dropped by hub_catalog.c. */
#include <stdlib.h>

#include "app/tool_host.h"

#include "app/hub_commit.h"
#include "app/hub_session.h"
#include "app/hub_state.h"
#include "base/err.h"
#include "base/xmalloc.h"

static const struct tool_host_plugin *tool_host_list[TOOL_HOST_PLUGINS_MAX];
static size_t tool_host_nlist;

int tool_host_plug(const struct tool_host_plugin *p)
{
    if (tool_host_nlist == TOOL_HOST_PLUGINS_MAX)
        return -ERR_TOO_LARGE;
    tool_host_list[tool_host_nlist++] = p;
    return 0;
}

const struct tool_host_plugin *const *tool_host_plugins(size_t *n)
{
    *n = tool_host_nlist;
    return tool_host_list;
}

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
    struct hub_held *d = NULL;
    for (struct hub_held **pp = &h->held; *pp; pp = &(*pp)->next) {
        if ((*pp)->session == session && (*pp)->call_id == call_id) {
            d = *pp;
            *pp = d->next;
            break;
        }
    }
    struct hub_session *s = d ? hub_session_find(&h->sessions, session) : NULL;
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
