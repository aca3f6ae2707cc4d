/* tools — the coordination tools' definitions: name, title, description,
 * inputSchema, outputSchema and annotations (docs/tools.md, "Tool reference"), plus a small
 * validator for the JSON-Schema subset those schemas use.
 *
 * The table is the single source of truth: the hub's providers serve its
 * tools (tools/list is rendered from their definitions once, rpc/catalog.h),
 * tools/call arguments are validated against it, and docs/tools.md
 * documents it. */
#ifndef COORDHUB_RPC_TOOLS_H
#define COORDHUB_RPC_TOOLS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/workspace.h"

/* The tools' names, each written once: here, for their definitions
 * (tools.c) and for everything that names a tool — REST routes, the CLI
 * (a separate process, which shares the constant), the rights of API
 * keys. */
#define TOOL_REGISTER_AGENT "register_agent"
#define TOOL_SET_AGENT_STATUS "set_agent_status"
#define TOOL_LIST_AGENTS "list_agents"
#define TOOL_LOCK_FILE "lock_file"
#define TOOL_UNLOCK_FILE "unlock_file"
#define TOOL_RENEW_LOCKS "renew_locks"
#define TOOL_CHECK_LOCK "check_lock"
#define TOOL_LIST_LOCKED_FILES "list_locked_files"
#define TOOL_DETECT_CONFLICTS "detect_conflicts"
#define TOOL_CREATE_TASK "create_task"
#define TOOL_FIND_AVAILABLE_TASKS "find_available_tasks"
#define TOOL_CLAIM_TASK "claim_task"
#define TOOL_COMPLETE_TASK "complete_task"
#define TOOL_RELEASE_TASK "release_task"
#define TOOL_LIST_TASKS "list_tasks"
#define TOOL_CANCEL_TASK "cancel_task"
#define TOOL_REOPEN_TASK "reopen_task"
#define TOOL_UPDATE_TASK "update_task"
#define TOOL_REMOVE_AGENT "remove_agent"
#define TOOL_LIST_SERVERS "list_servers"
#define TOOL_GET_UNIFIED_HEALTH "get_unified_health"
#define TOOL_GET_COORDINATION_STATUS "get_coordination_status"
#define TOOL_PUBLISH_EVENT "publish_event"
#define TOOL_WAIT_FOR_EVENTS "wait_for_events"

/* Which arguments of a tool are workspace paths (struct tool_def.paths):
 * a host resolving a session's relative paths rewrites exactly these. */
#define TOOL_PATH_FILE 1u     /* "file": a literal path */
#define TOOL_PATH_PATTERN 2u  /* "pattern": a wildmatch pattern */
#define TOOL_PATH_FILES 4u    /* "files": an array of literal paths */
#define TOOL_PATH_PATTERNS 8u /* "patterns": an array of patterns */

struct tool_def {
    const char *name;
    const char *title;
    const char *description;
    const char *input_schema;  /* JSON text */
    const char *output_schema; /* JSON text */
    unsigned paths;            /* TOOL_PATH_* bits */
    bool read_only;            /* annotations.readOnlyHint */
    bool destructive;          /* annotations.destructiveHint */
    bool idempotent;           /* annotations.idempotentHint */
    /* What a host must know to run it (the registry's providers and
     * their host, docs/architecture.md): */
    enum workspace_op core_op; /* the core's op that evaluates it (workspace_exec), or
                                * WORKSPACE_OP_NONE: the core provider's tools */
    bool needs_agent;          /* acts for an agent: registers one on first use */
    bool streams;              /* may be answered later, with progress on the way */
    bool needs_store;          /* reads or writes the store: refused while it is away,
                                * unless read_only and answered from a replica */
    /* The argument whose positive value makes a streaming tool wait
     * (without it the call is answered at once), or NULL: it always may. */
    const char *wait_arg;
};

/* The built-in tools, in the table's order (docs/tools.md's). tools/list
 * lists them in the registry's order instead: the core provider's first,
 * then the hub's own (app/hub_tools.c). */
const struct tool_def *tools_all(size_t *n);
/* Look a tool up by name; NULL if unknown. */
const struct tool_def *tools_find(const char *name);
/* The Tool object for tools/list (caller owns). */
cJSON *tools_to_json(const struct tool_def *t);
/* Validate args (an object or NULL = {}) against t's inputSchema. On
 * failure returns false and *msg (caller frees) names the argument and the
 * reason, e.g. "argument 'ttl': must be an integer >= 1". */
bool tools_validate_args(const struct tool_def *t, const cJSON *args, char **msg);
/* Validate a tool's result (its structuredContent) against t's
 * outputSchema; true when t has none. On failure *msg (caller frees)
 * names the location, e.g. "result 'locks[0].token': must be an integer".
 * For hosts' tests and debug assertions. */
bool tools_validate_result(const struct tool_def *t, const cJSON *result, char **msg);

#endif
