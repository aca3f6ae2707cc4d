/* tool_host — the seam a tool provider plugs into, without the hub's
 * private headers (docs/architecture.md, "Tools: providers and the
 * registry").
 *
 * A provider is a struct tool_provider_ops (rpc/registry.h) and its self.
 * It is plugged into the hubs this process serves before they serve
 * (tool_host_plug), its tools are listed after the hub's own, and the
 * host hands it its calls as a struct tool_call, which it answers through
 * the functions below, now or later. A provider whose list changes says so
 * (tool_host_changed): the host re-reads every list, rebuilds its
 * pre-serialised catalog and sends notifications/tools/list_changed to
 * every initialised MCP session.
 *
 * A provider answers a call within it (tool_call_reply), or holds it
 * (tool_call_hold) and answers it later by its session and call id
 * (tool_host_reply), as a downstream server's tool would. A held call the
 * client cancels, or whose session leaves, is offered to the provider's
 * `cancel` (which drops it) and can no longer be answered.
 *
 * Invariants: a struct tool_call is valid only while the provider's call
 * runs; every call is answered exactly once, or held and then answered or
 * cancelled. The host runs on one thread: every function here is called
 * from it. */
#ifndef COORDHUB_APP_TOOL_HOST_H
#define COORDHUB_APP_TOOL_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "rpc/registry.h"

struct tool_host; /* a hub, as its providers see it */
struct tool_call; /* one call while it runs */

#define TOOL_HOST_PLUGINS_MAX 8 /* providers plugged in besides the hub's own */

struct tool_host_plugin {
    const struct tool_provider_ops *ops;
    void *self;
    /* Optional: the host it was plugged into, before that host serves
     * (keep it to report changes); and that host is being torn down. */
    void (*attach)(void *self, struct tool_host *host);
    void (*detach)(void *self, struct tool_host *host);
};

/* Plug p (borrowed: it and its self outlive every hub) into every hub
 * this process serves from now on. 0, or -ERR_TOO_LARGE past
 * TOOL_HOST_PLUGINS_MAX. A provider one of whose tools is named like a
 * tool already served is not plugged in (logged); a name its list brings
 * later that is taken is dropped from the catalog (logged). */
int tool_host_plug(const struct tool_host_plugin *p);
/* For the host: the providers plugged in so far, in order; *n their count. */
const struct tool_host_plugin *const *tool_host_plugins(size_t *n);

/* The provider self's list of tools changed. */
void tool_host_changed(struct tool_host *host, void *self);

/* Answer call c: result (taken) is the structuredContent; is_error marks
 * a tool error. */
void tool_call_reply(struct tool_call *c, cJSON *result, bool is_error);

/* Hold call c: it is answered later, with tool_host_reply(). */
void tool_call_hold(struct tool_call *c);
/* Answer a held call of session `session`: 0, or -ERR_NOT_FOUND when it
 * is not held (cancelled, its session gone, answered already); result
 * (taken) is freed then. */
int tool_host_reply(struct tool_host *host, uint64_t session, uint64_t call_id, cJSON *result,
                    bool is_error);

struct tool_host *tool_call_host(const struct tool_call *c);
/* The caller's session id and call id (those a cancel names). */
uint64_t tool_call_session(const struct tool_call *c);
uint64_t tool_call_id(const struct tool_call *c);
/* The agent the call's session acts as, or NULL before it registers. */
const char *tool_call_agent(const struct tool_call *c);
/* The hub's clock (ms since the epoch), the one the core's events carry. */
int64_t tool_call_now(const struct tool_call *c);

#endif
