/* mcp — one MCP session's protocol engine, transport-agnostic.
 *
 * The engine consumes complete JSON-RPC messages (one line of the stdio /
 * Unix-socket framing, or one HTTP body) and emits messages through the
 * host's `send` callback. It does no I/O itself and knows nothing of the
 * workspace: coordination work is delegated to the host through
 * `struct mcp_host_ops`, asynchronously, because the hub answers a tool
 * call only after the store has recorded its events.
 *
 * It implements (for protocol revisions 2025-11-25, 2025-06-18 and
 * 2025-03-26): initialize + version negotiation + notifications/initialized,
 * requests before initialize refused (-32600, except ping), ping,
 * notifications/cancelled, logging/setLevel + notifications/message,
 * tools/list (paginated, from the host's pre-serialised catalog,
 * rpc/catalog.h), notifications/tools/list_changed when the host says the
 * catalog changed, tools/call (arguments validated against the tool's
 * inputSchema before the host sees them; invalid → CallToolResult
 * isError:true naming the argument; unknown tool → -32602), resources/list,
 * resources/templates/list, resources/read, resources/subscribe, resources/unsubscribe,
 * prompts/list, prompts/get (coordination_protocol), roots/list to a client with the `roots`
 * capability (mcp_session_request_roots()), completion is not offered.
 * Unknown methods get
 * -32601; unknown notifications are ignored. A request using an unknown
 * future revision (e.g. `server/discover`) gets an error, never silence. */
#ifndef COORDHUB_RPC_MCP_H
#define COORDHUB_RPC_MCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct mcp_session;
struct tool_catalog;

/* MCP logging levels (RFC 5424 order). */
enum mcp_log_level {
    MCP_LOG_DEBUG = 0,
    MCP_LOG_INFO,
    MCP_LOG_NOTICE,
    MCP_LOG_WARNING,
    MCP_LOG_ERROR,
    MCP_LOG_CRITICAL,
    MCP_LOG_ALERT,
    MCP_LOG_EMERGENCY,
};

struct mcp_host_ops {
    /* Write one complete JSON-RPC message (no trailing newline) to the
     * session's transport. */
    void (*send)(void *host, struct mcp_session *s, const char *msg, size_t len);
    /* Start tools/call `name` with validated args. The host must finish it
     * exactly once with mcp_session_tool_done() (possibly from inside this
     * call) unless the session is freed first. call_id is unique within the
     * session. */
    void (*tool_call)(void *host, struct mcp_session *s, uint64_t call_id, const char *name,
                      const cJSON *args);
    /* The client cancelled call_id (notifications/cancelled). The host
     * should stop the work if it can; no reply is sent for it either way. */
    void (*tool_cancel)(void *host, struct mcp_session *s, uint64_t call_id);
    /* Contents of a coord:// resource as a JSON value (caller owns), or
     * NULL when the uri is unknown. */
    cJSON *(*resource_read)(void *host, struct mcp_session *s, const char *uri);
    /* The handshake completed (notifications/initialized received, or the
     * session was created already initialised by mcp_session_resume()). */
    void (*initialized)(void *host, struct mcp_session *s);
    /* The tools the session serves: the host's catalog (rpc/catalog.h),
     * borrowed. tools/list pages are joined from its texts; a tools/call
     * reaches tool_call only for a tool in it (name borrowed for the
     * call's duration), with its arguments validated against the tool's
     * inputSchema. NULL (or a NULL op): no tools. */
    const struct tool_catalog *(*catalog)(void *host, struct mcp_session *s);
    /* Optional (NULL: roots are never asked for). The client answered
     * roots/list (mcp_session_request_roots()): roots is its array of
     * Root objects ({uri, name?}, borrowed, elements unchecked), or NULL
     * when it answered with an error or without an array. Tool calls held
     * meanwhile reach tool_call right after this returns. */
    void (*roots_listed)(void *host, struct mcp_session *s, const cJSON *roots);
    /* Optional. A roots/list went out: tool calls are held until it is
     * answered or the host calls mcp_session_roots_give_up(). */
    void (*roots_requested)(void *host, struct mcp_session *s);
};

struct mcp_server_info {
    const char *name;         /* "coordhub" */
    const char *version;      /* PROJECT_VERSION */
    const char *instructions; /* NULL = the built-in protocol text */
};

/* New session bound to host. Never NULL. */
struct mcp_session *mcp_session_new(const struct mcp_host_ops *ops, void *host,
                                    const struct mcp_server_info *info);
/* Free; in-flight tool calls are forgotten (host must not complete them
 * afterwards). NULL ok. */
void mcp_session_free(struct mcp_session *s);

/* Handle one message of len bytes (need not be NUL-terminated). Replies go
 * out through ops->send, possibly before this returns. */
void mcp_session_handle(struct mcp_session *s, const char *msg, size_t len);

/* Complete a tool call. result is the structuredContent object (taken);
 * is_error marks a tool error (isError:true). The text content is the
 * compact JSON of result. Unknown/cancelled call_id: result is freed,
 * nothing is sent. */
void mcp_session_tool_done(struct mcp_session *s, uint64_t call_id, cJSON *result, bool is_error);
/* Complete a tool call with a JSON-RPC error instead of a result. */
void mcp_session_tool_fail(struct mcp_session *s, uint64_t call_id, int code, const char *message);

/* Send notifications/resources/updated for uri if the client subscribed. */
void mcp_session_resource_updated(struct mcp_session *s, const char *uri);
/* Send notifications/tools/list_changed if the session is initialised:
 * the host's catalog changed. */
void mcp_session_tools_changed(struct mcp_session *s);
/* Send notifications/message if level >= the level set by the client
 * (default threshold before any logging/setLevel: info). */
void mcp_session_log(struct mcp_session *s, enum mcp_log_level level, const char *logger,
                     const cJSON *data);

/* True when mcp_session_log() at level would send anything: lets a host
 * skip building the data for sessions that would drop it. */
bool mcp_session_log_wanted(const struct mcp_session *s, enum mcp_log_level level);

/* Send notifications/progress for call_id if its request carried
 * _meta.progressToken (otherwise nothing). message may be NULL. */
void mcp_session_progress(struct mcp_session *s, uint64_t call_id, double progress, double total,
                          const char *message);

/* MCP roots (client capability `roots`): ask the client for its roots
 * with roots/list, and again whenever it sends
 * notifications/roots/list_changed; answers go to ops->roots_listed.
 * Nothing happens before initialize, without that op, or when the client
 * did not declare the capability. */
void mcp_session_request_roots(struct mcp_session *s);
/* Stop holding tool calls for an unanswered roots/list (its answer, if it
 * comes, is still passed on). */
void mcp_session_roots_give_up(struct mcp_session *s);
/* True when the client's initialize declared the `roots` capability. */
bool mcp_session_client_has_roots(const struct mcp_session *s);

/* Introspection for the host. */
bool mcp_session_is_initialized(const struct mcp_session *s);
const char *mcp_session_protocol_version(const struct mcp_session *s);
/* The client's initialize params ({protocolVersion, capabilities,
 * clientInfo}); NULL before initialize. Borrowed. */
const cJSON *mcp_session_init_params(const struct mcp_session *s);
/* The host's per-session slot (agent id etc.). */
void mcp_session_set_userdata(struct mcp_session *s, void *ud);
void *mcp_session_userdata(const struct mcp_session *s);

/* Page size of tools/list, resources/list and prompts/list (0: the
 * default, 50). For hosts that want smaller pages, and for tests. */
void mcp_session_set_page_size(struct mcp_session *s, size_t n);
/* The level for a name ("debug" … "emergency"), or -1 when unknown. */
int mcp_log_level_parse(const char *name);
/* The name of a level ("info" for out-of-range values). */
const char *mcp_log_level_name(enum mcp_log_level level);

/* Re-create an initialised session after a hub restart: init_params are
 * the original client's initialize params (copied); no initialize response
 * is sent and the host's initialized() is called. 0 or -ERR_INVALID. */
int mcp_session_resume(struct mcp_session *s, const cJSON *init_params);

#endif
