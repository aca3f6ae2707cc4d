/* tools — the coordination tools of docs/tools.md (all but get_guidance, which
 * the guide layer adds), as one table.
 *
 * The table is data: a name, a title, an agent-facing description, the
 * inputSchema and outputSchema as JSON text, and the annotation hints.
 * Schemas are written as JSON through the J() macro (the preprocessor's
 * stringizing keeps the text verbatim and escapes it), shared fragments
 * are macros of the same kind, and adjacent literals concatenate.
 *
 * Invariants (tests/unit/test_tools.c checks each):
 *   - every schema parses, is {"type":"object", …} and uses only what
 *     schema_check supports; input schemas set additionalProperties:false;
 *   - "exactly one of file|pattern" is the vendor keyword x-exactlyOneOf,
 *     validated here and removed from what tools/list publishes, because
 *     several MCP clients reject a root-level oneOf;
 *   - parsed schemas are built once (call_once) and never modified; this
 *     write-once cache is the only static state and behaves like a const
 *     table after first use. */
#include "rpc/tools.h"

#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "base/xmalloc.h"
#include "rpc/schema_check.h"

#define J(...) #__VA_ARGS__

/* ---- shared schema fragments --------------------------------------------- */
// clang-format off
#define S_AGENT_ID J({"type": "string", "pattern": "^[A-Za-z0-9._:@-]{1,128}$",            \
    "description": "Agent id: 1-128 characters from A-Z a-z 0-9 . _ : @ -"})
#define S_TASK_ID J({"type": "string", "pattern": "^[A-Za-z0-9._:@-]{1,128}$",             \
    "description": "Task id such as ARCH-002: 1-128 characters from A-Z a-z 0-9 . _ : @ -"})
#define S_FILE J({"type": "string", "minLength": 1, "maxLength": 4096,                      \
    "description": "Path relative to your root (your MCP root holding it, else the directory you were started in) or absolute inside the workspace; the answer shows the workspace-relative key. Always literal: [ ] * ? are not wildcards here."})
#define S_PATTERN J({"type": "string", "minLength": 1, "maxLength": 1024,                   \
    "description": "git-wildmatch pattern such as src/api/** or *.rs"})
#define S_FILES J({"type": "array", "maxItems": 1000, "items": {"type": "string",          \
    "minLength": 1, "maxLength": 4096}, "description": "Literal paths, relative to your root as for file"})
#define S_PATTERNS J({"type": "array", "maxItems": 100, "items": {"type": "string",        \
    "minLength": 1, "maxLength": 1024}, "description": "git-wildmatch patterns"})
#define S_CAPS J({"type": "array", "maxItems": 64, "items": {"type": "string",             \
    "minLength": 1, "maxLength": 64}})
#define S_TTL J({"type": "integer", "minimum": 1, "maximum": 86400,                         \
    "description": "Lease lifetime in seconds (default 3600)"})
#define S_REASON J({"type": "string", "maxLength": 1000})
#define S_ACT_AS J({"type": "string", "pattern": "^[A-Za-z0-9._:@-]{1,128}$",              \
    "description": "Act for this agent: your own id, or any agent when you are the workspace owner (default: your session's agent)"})

/* Output fragments: optional fields also accept null. */
#define O_STR J({"type": ["string", "null"]})
#define O_TIME J({"type": ["string", "null"], "description": "ISO 8601 UTC time"})
#define O_TOKEN J({"type": "integer", "description": "Fencing token: the seq of the granting event"})
#define O_STRS J({"type": "array", "items": {"type": "string"}})
#define O_AGENT J({"type": "object", "required": ["agentId"], "properties": {               \
    "agentId": {"type": "string"}, "sessionId": {"type": ["string", "null"]},               \
    "status": {"type": "string"}, "capabilities": {"type": "array"},                        \
    "mcpServers": {"type": "array"}, "metadata": {"type": ["object", "null"]},              \
    "registeredAt": {"type": ["string", "null"]}, "lastSeen": {"type": ["string", "null"]}}})
#define O_TASK J({"type": "object", "required": ["taskId", "status"], "properties": {        \
    "taskId": {"type": "string"}, "title": {"type": "string"},                              \
    "description": {"type": ["string", "null"]}, "files": {"type": "array"},                \
    "patterns": {"type": "array"}, "capabilities": {"type": "array"},                       \
    "dependsOn": {"type": "array"}, "priority": {"type": "integer"},                        \
    "status": {"type": "string"}, "claimedBy": {"type": ["string", "null"]},                \
    "createdAt": {"type": ["string", "null"]}, "claimedAt": {"type": ["string", "null"]},   \
    "completedAt": {"type": ["string", "null"]}}})
#define O_LOCK J({"type": "object", "required": ["file", "agentId"], "properties": {        \
    "file": {"type": "string"}, "agentId": {"type": "string"},                              \
    "reason": {"type": ["string", "null"]}, "mode": {"type": "string"},                     \
    "token": {"type": "integer"}, "lockedAt": {"type": ["string", "null"]},                 \
    "expiresAt": {"type": ["string", "null"]}, "pattern": {"type": "boolean"},              \
    "taskId": {"type": ["string", "null"]}}})
#define O_CONFLICT J({"type": "object", "required": ["file"], "properties": {              \
    "file": {"type": "string"}, "lockedBy": {"type": ["string", "null"]},                   \
    "reason": {"type": ["string", "null"]}, "taskId": {"type": ["string", "null"]}}})
#define O_EVENT J({"type": "object", "required": ["id", "type"], "properties": {            \
    "id": {"type": ["string", "integer"]}, "type": {"type": "string"},                      \
    "source": {"type": ["string", "null"]}, "timestamp": {"type": ["string", "null"]},      \
    "data": {"type": ["object", "null"]}}})
#define NO_ARGS J({"type": "object", "properties": {}, "additionalProperties": false})

/* ---- the table ------------------------------------------------------------- */

static const struct tool_def tool_table[] = {
{
    .name = TOOL_REGISTER_AGENT,
    .core_op = WORKSPACE_OP_REGISTER_AGENT,
    .needs_store = true,
    .title = "Register agent",
    .description =
        "Register this session as a coordination agent. Call it once at the start, before "
        "locking files or claiming tasks (other coordination tools register you implicitly "
        "under a generated id if you skip it). Pass agentId to resume an identity from an "
        "earlier session: its leases and claimed tasks come back (task leases released while "
        "you were offline are granted again when free: see regranted and taken). If that id is live in "
        "another session you get a distinct id (such as <id>-2) and the result says so. "
        "Returns {agentId, sessionId}.",
    .input_schema = J({"type": "object", "additionalProperties": false, "properties": {
        "agentId":) S_AGENT_ID J(,
        "capabilities":) S_CAPS J(,
        "mcpServers":) S_CAPS J(,
        "status": {"type": "string", "enum": ["active", "idle", "busy"]},
        "metadata": {"type": "object", "maxProperties": 32,
            "description": "Free-form facts about you: ide, version, workspace, ..."}}}),
    .output_schema = J({"type": "object", "required": ["agentId"], "properties": {
        "agentId": {"type": "string"}, "sessionId": {"type": ["string", "null"]},
        "status": {"type": "string"}, "resumed": {"type": "boolean"},
        "renamedFrom": {"type": "string"},
        "regranted": {"type": "array", "description": "Leases of your claimed tasks taken back on resume",
            "items": {"type": "object", "required": ["file", "token"], "properties": {
            "file": {"type": "string"}, "pattern": {"type": "boolean"},
            "taskId": {"type": "string"}, "token":) O_TOKEN J(, "expiresAt":) O_TIME J(}}},
        "taken": {"type": "array", "description": "Keys of your claimed tasks another agent holds now",
            "items": {"type": "object", "required": ["file", "lockedBy"], "properties": {
            "file": {"type": "string"}, "pattern": {"type": "boolean"},
            "taskId": {"type": "string"}, "lockedBy": {"type": "string"},
            "conflicts": {"type": "array", "items":) O_CONFLICT J(}}}}}}),
    .idempotent = true,
},
{
    .name = TOOL_SET_AGENT_STATUS,
    .core_op = WORKSPACE_OP_SET_AGENT_STATUS,
    .needs_agent = true,
    .needs_store = true,
    .title = "Set agent status",
    .description =
        "Tell the other agents what you are doing: active (working), busy (do not hand me "
        "more work) or idle (free to take a task). An optional note is shown to them. "
        "Returns {agentId, status}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["status"], "properties": {
        "agentId":) S_ACT_AS J(,
        "status": {"type": "string", "enum": ["active", "idle", "busy"]},
        "note": {"type": "string", "maxLength": 500}}}),
    .output_schema = J({"type": "object", "required": ["agentId", "status"], "properties": {
        "agentId": {"type": "string"}, "status": {"type": "string"}}}),
    .idempotent = true,
},
{
    .name = TOOL_LIST_AGENTS,
    .core_op = WORKSPACE_OP_LIST_AGENTS,
    .needs_store = true,
    .title = "List agents",
    .description =
        "List the agents of this workspace and what they are doing, optionally only those "
        "with a given status. Look before you start so you know who else is working. "
        "Returns {agents:[{agentId, status, capabilities, lastSeen, ...}]}.",
    .input_schema = J({"type": "object", "additionalProperties": false, "properties": {
        "status": {"type": "string", "enum": ["active", "idle", "busy", "offline"]}}}),
    .output_schema = J({"type": "object", "required": ["agents"], "properties": {
        "agents": {"type": "array", "items":) O_AGENT J(}}}),
    .read_only = true,
},
{
    .name = TOOL_LOCK_FILE,
    .core_op = WORKSPACE_OP_LOCK_FILE,
    .needs_agent = true,
    .streams = true,
    .wait_arg = "waitMs",
    .needs_store = true,
    .paths = TOOL_PATH_FILE | TOOL_PATH_PATTERN,
    .title = "Lock file",
    .description =
        "Take a lease on a file (or on a wildcard pattern) BEFORE you edit it, so no other "
        "agent edits it at the same time. Give exactly one of file or pattern. exclusive "
        "(default) conflicts with any lease another agent holds; shared leases coexist. The "
        "lease expires after ttl seconds (default 3600) unless renewed with renew_locks; "
        "locking a file you already hold renews it and keeps its token. With waitMs the "
        "request queues up to that long for the holder to let go. If another agent holds it "
        "you get success:false with lockedBy and reason: do other work or wait, and never "
        "edit a file you could not lock. On success you get a fencing token (it only grows) "
        "and expiresAt. Release it with unlock_file as soon as you are done.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "x-exactlyOneOf": ["file", "pattern"], "properties": {
        "agentId":) S_ACT_AS J(,
        "file":) S_FILE J(,
        "pattern":) S_PATTERN J(,
        "reason": {"type": "string", "maxLength": 1000,
            "description": "What you are about to do; shown to agents who find it locked"},
        "ttl":) S_TTL J(,
        "mode": {"type": "string", "enum": ["exclusive", "shared"]},
        "waitMs": {"type": "integer", "minimum": 0, "maximum": 60000,
            "description": "How long to wait in line if it is locked (default 0: answer at once)"}}}),
    .output_schema = J({"type": "object", "required": ["success", "locked"], "properties": {
        "success": {"type": "boolean"}, "locked": {"type": "boolean"},
        "file": {"type": "string"}, "pattern": {"type": "boolean", "description": "true when file holds a pattern"},
        "token":) O_TOKEN J(, "expiresAt":) O_TIME J(, "lockedBy":) O_STR J(,
        "reason":) O_STR J(, "mode": {"type": "string"}, "error":) O_STR J(}}),
    .idempotent = true,
},
{
    .name = TOOL_UNLOCK_FILE,
    .core_op = WORKSPACE_OP_UNLOCK_FILE,
    .needs_agent = true,
    .needs_store = true,
    .paths = TOOL_PATH_FILE | TOOL_PATH_PATTERN,
    .title = "Unlock file",
    .description =
        "Release your lease on a file or pattern (exactly one of file or pattern) as soon as "
        "you finish editing, so waiting agents can proceed. force:true releases another "
        "agent's lease; only admin callers may use it, and the previous holder is told. "
        "Returns {success, unlocked, file}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "x-exactlyOneOf": ["file", "pattern"], "properties": {
        "agentId":) S_ACT_AS J(,
        "file":) S_FILE J(,
        "pattern":) S_PATTERN J(,
        "force": {"type": "boolean"}}}),
    .output_schema = J({"type": "object", "required": ["success", "unlocked"], "properties": {
        "success": {"type": "boolean"}, "unlocked": {"type": "boolean"},
        "file": {"type": "string"}, "pattern": {"type": "boolean", "description": "true when file holds a pattern"}, "error":) O_STR J(,
        "lockedBy":) O_STR J(, "forced": {"type": "boolean"},
        "previousHolders": {"type": "array", "items": {"type": "string"},
            "description": "force: the agents whose leases this unlock ended"}}}),
    .destructive = true,
    .idempotent = true,
},
{
    .name = TOOL_RENEW_LOCKS,
    .core_op = WORKSPACE_OP_RENEW_LOCKS,
    .needs_agent = true,
    .needs_store = true,
    .paths = TOOL_PATH_FILES,
    .title = "Renew locks",
    .description =
        "Extend your leases during long work so they do not expire: all of them, or only "
        "the listed files. ttl is the new lifetime in seconds from now (default: each lease's "
        "own TTL). "
        "Returns {renewed:[{file, expiresAt}]}.",
    .input_schema = J({"type": "object", "additionalProperties": false, "properties": {
        "agentId":) S_ACT_AS J(,
        "files":) S_FILES J(,
        "ttl":) S_TTL J(}}),
    .output_schema = J({"type": "object", "required": ["renewed"], "properties": {
        "renewed": {"type": "array", "items": {"type": "object", "required": ["file"],
            "properties": {"file": {"type": "string"}, "expiresAt":) O_TIME J(}}}}}),
    .idempotent = true,
},
{
    .name = TOOL_CHECK_LOCK,
    .core_op = WORKSPACE_OP_CHECK_LOCK,
    .needs_store = true,
    .paths = TOOL_PATH_FILE,
    .title = "Check lock",
    .description =
        "See whether a file is leased and by whom, without taking it. Pass token to check "
        "that a fencing token is still current for the file: valid:false means its holder "
        "lost the lease and must not write. Returns {locked, lockedBy?, token?, valid?}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["file"], "properties": {
        "file":) S_FILE J(,
        "token": {"type": "integer", "minimum": 0}}}),
    .output_schema = J({"type": "object", "required": ["locked"], "properties": {
        "locked": {"type": "boolean"}, "file": {"type": "string"}, "lockedBy":) O_STR J(,
        "token":) O_TOKEN J(, "valid": {"type": "boolean"}, "mode": {"type": "string"},
        "reason":) O_STR J(, "expiresAt":) O_TIME J(}}),
    .read_only = true,
},
{
    .name = TOOL_LIST_LOCKED_FILES,
    .core_op = WORKSPACE_OP_LIST_LOCKED_FILES,
    .needs_store = true,
    .title = "List locked files",
    .description =
        "List the current leases (file, holder, reason, mode, token, lockedAt, expiresAt), "
        "optionally only those of agentId. Shows what is being edited right now.",
    .input_schema = J({"type": "object", "additionalProperties": false, "properties": {
        "agentId":) S_AGENT_ID J(}}),
    .output_schema = J({"type": "object", "required": ["locks"], "properties": {
        "locks": {"type": "array", "items":) O_LOCK J(}}}),
    .read_only = true,
},
{
    .name = TOOL_DETECT_CONFLICTS,
    .core_op = WORKSPACE_OP_DETECT_CONFLICTS,
    .needs_store = true,
    .paths = TOOL_PATH_FILES | TOOL_PATH_PATTERNS,
    .title = "Detect conflicts",
    .description =
        "Before starting work, check whether files or patterns you plan to touch are leased "
        "by other agents (by default, conflicts with you; agentId checks for someone else). "
        "Read-only: nothing is locked. Returns {hasConflicts, conflicts:[{file, lockedBy, "
        "reason, taskId?}]}.",
    .input_schema = J({"type": "object", "additionalProperties": false, "properties": {
        "files":) S_FILES J(,
        "patterns":) S_PATTERNS J(,
        "agentId":) S_AGENT_ID J(}}),
    .output_schema = J({"type": "object", "required": ["hasConflicts", "conflicts"],
        "properties": {"hasConflicts": {"type": "boolean"},
        "conflicts": {"type": "array", "items":) O_CONFLICT J(}}}),
    .read_only = true,
},
{
    .name = TOOL_CREATE_TASK,
    .core_op = WORKSPACE_OP_CREATE_TASK,
    .needs_store = true,
    .paths = TOOL_PATH_FILES | TOOL_PATH_PATTERNS,
    .title = "Create task",
    .description =
        "Put a unit of work on the shared task board so any capable agent can claim it. "
        "List the files (literal paths) and patterns it will touch, so that claiming it "
        "leases them in one step; capabilities a claimer must have; and dependsOn, ids of "
        "existing tasks that must complete first. Higher priority is picked first. Returns "
        "{task}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["title"], "properties": {
        "taskId":) S_TASK_ID J(,
        "title": {"type": "string", "minLength": 1, "maxLength": 500},
        "description": {"type": "string", "maxLength": 20000},
        "files":) S_FILES J(,
        "patterns":) S_PATTERNS J(,
        "capabilities":) S_CAPS J(,
        "dependsOn": {"type": "array", "maxItems": 100, "items":) S_TASK_ID J(},
        "priority": {"type": "integer", "minimum": -1000000, "maximum": 1000000,
            "description": "Higher first (default 0)"}}}),
    .output_schema = J({"type": "object", "required": ["task"], "properties": {
        "task":) O_TASK J(}}),
},
{
    .name = TOOL_FIND_AVAILABLE_TASKS,
    .core_op = WORKSPACE_OP_FIND_AVAILABLE_TASKS,
    .needs_agent = true,
    .needs_store = true,
    .title = "Find available tasks",
    .description =
        "Find open tasks you can start now: dependencies completed, required capabilities "
        "covered (yours, or the ones given) and no file leased by another agent; highest "
        "priority first, then oldest. Claim one with claim_task rather than picking files "
        "yourself. Returns {tasks:[...]}.",
    .input_schema = J({"type": "object", "additionalProperties": false, "properties": {
        "agentId":) S_ACT_AS J(,
        "capabilities":) S_CAPS J(,
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000}}}),
    .output_schema = J({"type": "object", "required": ["tasks"], "properties": {
        "tasks": {"type": "array", "items":) O_TASK J(}}}),
    .read_only = true,
},
{
    .name = TOOL_CLAIM_TASK,
    .core_op = WORKSPACE_OP_CLAIM_TASK,
    .needs_agent = true,
    .needs_store = true,
    .paths = TOOL_PATH_FILES,
    .title = "Claim task",
    .description =
        "Claim an open task in one atomic step: if its dependencies are met and none of its "
        "files conflict, it becomes yours and every file (plus any extra files given) is "
        "leased to you. All or nothing: on a conflict nothing is taken and success:false "
        "lists the conflicts, so choose another task. Returns {success, task, locks:[{file, "
        "token}]}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["taskId"], "properties": {
        "agentId":) S_ACT_AS J(,
        "taskId":) S_TASK_ID J(,
        "files":) S_FILES J(}}),
    .output_schema = J({"type": "object", "required": ["success"], "properties": {
        "success": {"type": "boolean"}, "task":) O_TASK J(,
        "locks": {"type": "array", "items": {"type": "object", "required": ["file"],
            "properties": {"file": {"type": "string"}, "token":) O_TOKEN J(}}},
        "conflicts": {"type": "array", "items":) O_CONFLICT J(}, "error":) O_STR J(,
        "claimedBy":) O_STR J(, "claimedAt":) O_TIME J(}}),
},
{
    .name = TOOL_COMPLETE_TASK,
    .core_op = WORKSPACE_OP_COMPLETE_TASK,
    .needs_agent = true,
    .needs_store = true,
    .title = "Complete task",
    .description =
        "Mark a task you claimed as completed, with an optional result (a summary string or "
        "an object). Its leases are released and tasks that depended on it may become "
        "available. Returns {success, task, unlockedFiles}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["taskId"], "properties": {
        "agentId":) S_ACT_AS J(,
        "taskId":) S_TASK_ID J(,
        "result": {"type": ["string", "object"]}}}),
    .output_schema = J({"type": "object", "required": ["success"], "properties": {
        "success": {"type": "boolean"}, "task":) O_TASK J(,
        "unlockedFiles":) O_STRS J(, "error":) O_STR J(, "claimedBy":) O_STR J(,
        "claimedAt":) O_TIME J(}}),
},
{
    .name = TOOL_RELEASE_TASK,
    .core_op = WORKSPACE_OP_RELEASE_TASK,
    .needs_agent = true,
    .needs_store = true,
    .title = "Release task",
    .description =
        "Give back a task you claimed without completing it: it returns to open (or becomes "
        "failed with failed:true) and its leases are released. Say why in reason. Returns "
        "{success, task}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["taskId"], "properties": {
        "agentId":) S_ACT_AS J(,
        "taskId":) S_TASK_ID J(,
        "reason":) S_REASON J(,
        "failed": {"type": "boolean"}}}),
    .output_schema = J({"type": "object", "required": ["success"], "properties": {
        "success": {"type": "boolean"}, "task":) O_TASK J(, "error":) O_STR J(,
        "claimedBy":) O_STR J(, "claimedAt":) O_TIME J(}}),
    .destructive = true,
},
{
    .name = TOOL_LIST_TASKS,
    .core_op = WORKSPACE_OP_LIST_TASKS,
    .needs_store = true,
    .title = "List tasks",
    .description =
        "List the tasks on the board, optionally filtered by status or by the agent that "
        "claimed them. Returns {tasks:[...]}.",
    .input_schema = J({"type": "object", "additionalProperties": false, "properties": {
        "status": {"type": "string",
            "enum": ["open", "claimed", "completed", "failed", "cancelled"]},
        "agentId":) S_AGENT_ID J(}}),
    .output_schema = J({"type": "object", "required": ["tasks"], "properties": {
        "tasks": {"type": "array", "items":) O_TASK J(}}}),
    .read_only = true,
},
{
    .name = TOOL_CANCEL_TASK,
    .core_op = WORKSPACE_OP_CANCEL_TASK,
    .needs_store = true,
    .title = "Cancel task",
    .description =
        "Withdraw a task that is no longer wanted: an open or claimed task becomes cancelled "
        "and the claimer's leases on it are released. Its creator, its claimer or the "
        "workspace owner may cancel it; say why in reason. Returns {success, task, "
        "unlockedFiles}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["taskId"], "properties": {
        "agentId":) S_ACT_AS J(,
        "taskId":) S_TASK_ID J(,
        "reason":) S_REASON J(}}),
    .output_schema = J({"type": "object", "required": ["success"], "properties": {
        "success": {"type": "boolean"}, "task":) O_TASK J(,
        "unlockedFiles":) O_STRS J(, "error":) O_STR J(}}),
    .destructive = true,
},
{
    .name = TOOL_REOPEN_TASK,
    .core_op = WORKSPACE_OP_REOPEN_TASK,
    .needs_store = true,
    .title = "Reopen task",
    .description =
        "Put a failed or cancelled task back on the board as open, so it can be claimed "
        "again. Its creator, its last claimer or the workspace owner may reopen it. Returns "
        "{success, task}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["taskId"], "properties": {
        "agentId":) S_ACT_AS J(,
        "taskId":) S_TASK_ID J(}}),
    .output_schema = J({"type": "object", "required": ["success"], "properties": {
        "success": {"type": "boolean"}, "task":) O_TASK J(, "error":) O_STR J(}}),
},
{
    .name = TOOL_UPDATE_TASK,
    .core_op = WORKSPACE_OP_UPDATE_TASK,
    .needs_store = true,
    .paths = TOOL_PATH_FILES | TOOL_PATH_PATTERNS,
    .title = "Update task",
    .description =
        "Change an open task: title, description, priority, files, patterns or required "
        "capabilities (each given field replaces the old value; dependencies cannot change). "
        "Its creator or the workspace owner may update it. Returns {success, task}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["taskId"], "properties": {
        "agentId":) S_ACT_AS J(,
        "taskId":) S_TASK_ID J(,
        "title": {"type": "string", "minLength": 1, "maxLength": 500},
        "description": {"type": "string", "maxLength": 20000},
        "priority": {"type": "integer", "minimum": -1000000, "maximum": 1000000},
        "files":) S_FILES J(,
        "patterns":) S_PATTERNS J(,
        "capabilities":) S_CAPS J(}}),
    .output_schema = J({"type": "object", "required": ["success"], "properties": {
        "success": {"type": "boolean"}, "task":) O_TASK J(, "error":) O_STR J(}}),
    .idempotent = true,
},
{
    .name = TOOL_REMOVE_AGENT,
    .core_op = WORKSPACE_OP_REMOVE_AGENT,
    .needs_store = true,
    .title = "Remove agent",
    .description =
        "Workspace owner only: remove an agent from the workspace. Its leases are released, "
        "the tasks it claimed go back to open, and a live session of that agent loses it "
        "(its next call registers again). Returns {success, agentId, unlockedFiles, "
        "releasedTasks}.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["agentId"], "properties": {
        "agentId":) S_AGENT_ID J(}}),
    .output_schema = J({"type": "object", "required": ["success"], "properties": {
        "success": {"type": "boolean"}, "agentId": {"type": "string"},
        "unlockedFiles":) O_STRS J(, "releasedTasks":) O_STRS J(, "error":) O_STR J(}}),
    .destructive = true,
},
{
    .name = TOOL_LIST_SERVERS,
    .title = "List MCP servers",
    .description =
        "List the downstream MCP servers this hub supervises with their status, latency, "
        "recent errors, restarts and tools. Returns {servers:[...]}.",
    .input_schema = NO_ARGS,
    .output_schema = J({"type": "object", "required": ["servers"], "properties": {
        "servers": {"type": "array", "items": {"type": "object"}}}}),
    .read_only = true,
},
{
    .name = TOOL_GET_UNIFIED_HEALTH,
    .title = "Get unified health",
    .description =
        "One health verdict for the whole setup: the worst of the hub's own checks, the "
        "store, every supervised server and external reporters. Returns {overall, hub, "
        "store, servers:[...]}.",
    .input_schema = NO_ARGS,
    .output_schema = J({"type": "object", "required": ["overall"], "properties": {
        "overall": {"type": "string"}, "hub": {}, "store": {},
        "servers": {"type": "array", "items": {"type": "object"}}}}),
    .read_only = true,
},
{
    .name = TOOL_GET_COORDINATION_STATUS,
    .core_op = WORKSPACE_OP_GET_COORDINATION_STATUS,
    .needs_store = true,
    .title = "Get coordination status",
    .description =
        "A snapshot of the workspace: active agents, leased files, active tasks and system "
        "health, plus full records under details (the same object as GET /status). A good "
        "first call to get oriented.",
    .input_schema = NO_ARGS,
    .output_schema = J({"type": "object",
        "required": ["activeAgents", "lockedFiles", "activeTasks"], "properties": {
        "enabled": {"type": "boolean"}, "activeAgents":) O_STRS J(,
        "lockedFiles":) O_STRS J(, "activeTasks":) O_STRS J(, "systemHealth": {},
        "details": {"type": "object"}}}),
    .read_only = true,
},
{
    .name = TOOL_PUBLISH_EVENT,
    .core_op = WORKSPACE_OP_PUBLISH_EVENT,
    .needs_store = true,
    .title = "Publish event",
    .description =
        "Publish a custom event to every subscriber (other agents, dashboards, backends). "
        "type is <namespace>:<name>, such as build:failed; data is any JSON object. "
        "Returns {id} of the stored event.",
    .input_schema = J({"type": "object", "additionalProperties": false,
        "required": ["type", "data"], "properties": {
        "type": {"type": "string", "maxLength": 64,
            "pattern": "^[a-z0-9_.-]{1,63}:[a-z0-9_.-]{1,63}$",
            "description": "<namespace>:<name> in lower case, at most 64 characters"},
        "data": {"type": "object"}}}),
    .output_schema = J({"type": "object", "required": ["id"], "properties": {
        "id": {"type": ["string", "integer"]}}}),
},
{
    .name = TOOL_WAIT_FOR_EVENTS,
    .streams = true,
    .needs_store = true,
    .title = "Wait for events",
    .description =
        "Long-poll the workspace's events: returns the events after the cursor since (an "
        "event id), waiting up to timeoutMs (at most 60000) while there are none yet. "
        "Without since it starts from now. types filters by type, with wildcards such as "
        "file:* or task:completed. Pass the returned lastId as since on the next call so "
        "nothing is missed. Returns {events:[...], lastId}.",
    .input_schema = J({"type": "object", "additionalProperties": false, "properties": {
        "since": {"type": ["integer", "string"], "minimum": 0, "pattern": "^[0-9]{1,20}$",
            "description": "Event id to continue after"},
        "types": {"type": "array", "maxItems": 64, "items": {"type": "string",
            "minLength": 1, "maxLength": 130}},
        "timeoutMs": {"type": "integer", "minimum": 0, "maximum": 60000},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000}}}),
    .output_schema = J({"type": "object", "required": ["events"], "properties": {
        "events": {"type": "array", "items":) O_EVENT J(},
        "lastId": {"type": ["string", "integer", "null"]}}}),
    .read_only = true,
},
};
// clang-format on

#define TOOL_COUNT (sizeof(tool_table) / sizeof(tool_table[0]))

/* ---- parsed-schema cache ------------------------------------------------- */

static once_flag schema_once = ONCE_FLAG_INIT;
static cJSON *input_schemas[TOOL_COUNT];  /* write-once, then read-only */
static cJSON *output_schemas[TOOL_COUNT]; /* write-once, then read-only */

static void schemas_build(void)
{
    for (size_t i = 0; i < TOOL_COUNT; i++) {
        input_schemas[i] = cJSON_Parse(tool_table[i].input_schema);
        output_schemas[i] = cJSON_Parse(tool_table[i].output_schema);
    }
}

/* The parsed schema of a tool: borrowed from the cache for table entries,
 * freshly parsed (*owned set) for definitions built elsewhere. */
static const cJSON *schema_of(const struct tool_def *t, bool output, cJSON **owned)
{
    *owned = NULL;
    if (t >= tool_table && t < tool_table + TOOL_COUNT) {
        call_once(&schema_once, schemas_build);
        size_t i = (size_t)(t - tool_table);
        return output ? output_schemas[i] : input_schemas[i];
    }
    const char *text = output ? t->output_schema : t->input_schema;
    *owned = text ? cJSON_Parse(text) : NULL;
    return *owned;
}

const struct tool_def *tools_all(size_t *n)
{
    *n = TOOL_COUNT;
    return tool_table;
}

const struct tool_def *tools_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < TOOL_COUNT; i++)
        if (strcmp(tool_table[i].name, name) == 0)
            return &tool_table[i];
    return NULL;
}

/* Remove vendor keywords ("x-…") from a schema tree before publishing. */
static void strip_vendor_keywords(cJSON *schema)
{
    cJSON *k = schema ? schema->child : NULL;
    while (k) {
        cJSON *next = k->next;
        if (k->string && strncmp(k->string, "x-", 2) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(schema, k));
        else if (cJSON_IsObject(k) || cJSON_IsArray(k))
            strip_vendor_keywords(k);
        k = next;
    }
}

static cJSON *schema_copy(const struct tool_def *t, bool output)
{
    cJSON *owned;
    const cJSON *s = schema_of(t, output, &owned);
    cJSON *copy = owned ? owned : cJSON_Duplicate(s, 1);
    if (!copy)
        copy = cJSON_Parse(J({"type" : "object"}));
    strip_vendor_keywords(copy);
    return copy;
}

cJSON *tools_to_json(const struct tool_def *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", t->name);
    if (t->title)
        cJSON_AddStringToObject(o, "title", t->title);
    if (t->description)
        cJSON_AddStringToObject(o, "description", t->description);
    cJSON_AddItemToObject(o, "inputSchema", schema_copy(t, false));
    if (t->output_schema)
        cJSON_AddItemToObject(o, "outputSchema", schema_copy(t, true));
    cJSON *ann = cJSON_AddObjectToObject(o, "annotations");
    if (t->title)
        cJSON_AddStringToObject(ann, "title", t->title);
    cJSON_AddBoolToObject(ann, "readOnlyHint", t->read_only);
    cJSON_AddBoolToObject(ann, "destructiveHint", t->destructive);
    cJSON_AddBoolToObject(ann, "idempotentHint", t->idempotent);
    cJSON_AddBoolToObject(ann, "openWorldHint", false);
    return o;
}

bool tools_validate_args(const struct tool_def *t, const cJSON *args, char **msg)
{
    cJSON *owned;
    const cJSON *schema = schema_of(t, false, &owned);
    bool ok;
    if (!schema) {
        *msg = xstrdup("tool has no valid inputSchema");
        ok = false;
    } else {
        ok = schema_check_args(schema, args, msg);
    }
    cJSON_Delete(owned);
    return ok;
}

bool tools_validate_result(const struct tool_def *t, const cJSON *result, char **msg)
{
    cJSON *owned;
    const cJSON *schema = schema_of(t, true, &owned);
    bool ok = schema ? schema_check_value(schema, result, msg) : (*msg = NULL, true);
    cJSON_Delete(owned);
    return ok;
}
