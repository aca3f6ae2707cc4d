/* catalog — the tools/list catalog, serialised once (docs/architecture.md,
 * "Tools: providers and the registry").
 *
 * Built from a tool registry (rpc/registry.h): for every tool in listing
 * order, the text of its MCP Tool object in both flavours — the current
 * one, and the legacy one of 2025-03-26 without title and outputSchema —
 * and its parsed inputSchema for validating calls. A tools/list page is
 * then the texts joined, with no JSON built per request. The host
 * rebuilds the catalog when the registry says its list changed, and only
 * then; sessions keep a pointer to it, which stays valid across rebuilds.
 *
 * Invariants: entries are in the registry's listing order; a rebuild
 * bumps the generation; a tool's definition is borrowed from its provider
 * and so valid until the next rebuild (which the registry's `changed`
 * callback triggers before anyone can call a tool that left). No I/O. */
#ifndef COORDHUB_RPC_CATALOG_H
#define COORDHUB_RPC_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "rpc/tools.h"

struct tool_registry;
struct tool_catalog;

/* An empty catalog (no tools, generation 0). Never NULL. */
struct tool_catalog *tool_catalog_new(void);
void tool_catalog_free(struct tool_catalog *c); /* NULL ok */
/* Re-serialise every tool of r (in its listing order); generation + 1. */
void tool_catalog_build(struct tool_catalog *c, const struct tool_registry *r);

size_t tool_catalog_count(const struct tool_catalog *c);
/* Counts the builds: a client-visible change of the list bumps it. */
uint64_t tool_catalog_generation(const struct tool_catalog *c);
/* The tool called name, or NULL. */
const struct tool_def *tool_catalog_find(const struct tool_catalog *c, const char *name);
/* The text of tool i's Tool object (legacy: the 2025-03-26 flavour), or
 * NULL past the end; borrowed until the next build. */
const char *tool_catalog_text(const struct tool_catalog *c, size_t i, bool legacy);
/* The ListToolsResult text of tools [start, end) (clamped to the count),
 * with "nextCursor": next_cursor unless it is NULL. Caller frees. */
char *tool_catalog_page(const struct tool_catalog *c, size_t start, size_t end, bool legacy,
                        const char *next_cursor);
/* Validate args (an object or NULL = {}) of a call to def (one of c's)
 * against its inputSchema. A schema that uses what rpc/schema_check.h does
 * not implement (a provider's choice) is not checked beyond the arguments
 * being an object, which the engine has already checked. false with *msg
 * (caller frees) naming the argument and the reason. */
bool tool_catalog_validate(const struct tool_catalog *c, const struct tool_def *def,
                           const cJSON *args, char **msg);

#endif
