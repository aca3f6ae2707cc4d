/* tools — the coordination tools' definitions: name, title, description,
 * inputSchema, outputSchema and annotations (docs/tools.md, "Tool reference"), plus a small
 * validator for the JSON-Schema subset those schemas use.
 *
 * The table is the single source of truth: tools/list is rendered from it,
 * tools/call arguments are validated against it, and docs/tools.md
 * documents it. */
#ifndef COORDHUB_RPC_TOOLS_H
#define COORDHUB_RPC_TOOLS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

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
    bool core_op;     /* evaluated by the core (workspace_exec): the core provider's */
    bool needs_agent; /* acts for an agent: registers one on first use */
    bool streams;     /* may be answered later, with progress on the way */
    bool needs_store; /* reads or writes the store: refused while it is away,
                       * unless read_only and answered from a replica */
    /* The argument whose positive value makes a streaming tool wait
     * (without it the call is answered at once), or NULL: it always may. */
    const char *wait_arg;
};

/* The built-in tools, in tools/list order. */
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
