/* registry — the one registry of the tools a hub serves, and the seam
 * through which tool providers plug in (docs/architecture.md, "Tools:
 * providers and the registry").
 *
 * A provider owns a set of tools (struct tool_def, which carries whether a
 * tool needs an agent, streams its answer and needs the store) and answers
 * their calls through its ops table: list (its tools now), call, cancel.
 * The registry indexes every provider's tools by name, so a tool is
 * defined once, by its provider, and everything else — dispatch,
 * transports, REST, the CLI, the outage rule — asks the registry.
 *
 * A call is handed to its provider with the host's call context (struct
 * tool_call, opaque here: the host defines it) through which the provider
 * answers by the host's ops. A provider whose list changes says so
 * (tool_registry_changed); the registry re-reads every list and tells the
 * host (its `changed` callback), which rebuilds what it derives from the
 * catalog.
 *
 * Invariants: a name belongs to at most one provider (adding a provider,
 * or re-reading a list, whose tool collides with another's is refused /
 * drops the later tool, logged); the definitions are borrowed from their
 * provider until it reports a change or is removed. No I/O. */
#ifndef COORDHUB_RPC_REGISTRY_H
#define COORDHUB_RPC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "rpc/tools.h"

struct tool_call; /* the host's call context: defined by the host */
struct tool_registry;

struct tool_provider_ops {
    const char *name; /* the provider's name, for logs ("core", "hub") */
    /* The provider's tools now, in listing order; *n their count. The
     * array and the definitions stay valid until the provider reports a
     * change (tool_registry_changed) or is removed. */
    const struct tool_def *const *(*list)(void *self, size_t *n);
    /* Run def (one of list's) for call with args (validated against its
     * inputSchema, or NULL). The provider answers through the host's
     * call context, now or later. */
    void (*call)(void *self, struct tool_call *call, const struct tool_def *def, const cJSON *args);
    /* Optional. The client of session `session` cancelled call_id (or
     * left): drop the call if the provider holds it parked, unanswered.
     * True when it did. */
    bool (*cancel)(void *self, uint64_t session, uint64_t call_id);
};

/* A registry; changed(arg) runs after the catalog changed (NULL: none). */
struct tool_registry *tool_registry_new(void (*changed)(void *arg), void *arg);
void tool_registry_free(struct tool_registry *r); /* NULL ok; providers are not freed */
/* Plug a provider in; its tools are listed after those already there.
 * 0, or -ERR_CONFLICT when one of its tools' names is taken (nothing
 * is added). */
int tool_registry_add(struct tool_registry *r, const struct tool_provider_ops *ops, void *self);
/* Unplug the provider self (its tools leave the catalog; changed runs). */
void tool_registry_remove(struct tool_registry *r, void *self);
/* The provider self's list changed: re-read every list, then changed. */
void tool_registry_changed(struct tool_registry *r, void *self);

/* The tool called name, or NULL. */
const struct tool_def *tool_registry_find(const struct tool_registry *r, const char *name);
/* The catalog: how many tools, and the i-th in listing order. */
size_t tool_registry_count(const struct tool_registry *r);
const struct tool_def *tool_registry_at(const struct tool_registry *r, size_t i);
/* Hand call to the provider of name. 0, or -ERR_NOT_FOUND (nobody called,
 * nothing answered). */
int tool_registry_call(struct tool_registry *r, struct tool_call *call, const char *name,
                       const cJSON *args);
/* Offer a cancel to every provider until one holds the call. */
bool tool_registry_cancel(struct tool_registry *r, uint64_t session, uint64_t call_id);

#endif
