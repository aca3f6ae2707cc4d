/* client — a blocking MCP client of the hub's Unix socket, for the CLI and
 * the bridge: find the hub of a state dir, start it when none runs (ten
 * callers at once still yield one hub: the hub's flock decides), and make
 * tool calls. */
#ifndef COORDHUB_APP_CLIENT_H
#define COORDHUB_APP_CLIENT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

struct options;
struct client;
struct control_msg;

/* Every answer the client waits for is bounded (docs/cli.md, "Timeouts"):
 * a call's own wait (waitMs, timeoutMs) plus this margin, unless
 * COORDHUB_CLIENT_TIMEOUT_MS (options.reply_timeout_ms) sets another. A
 * hub that does not answer in time ends the call with an error. */
#define CLIENT_REPLY_TIMEOUT_MS 30000

/* Connect to the hub socket of o's state dir; with autostart, start
 * `coordhub serve --daemon` when nobody listens — as the state dir's
 * record says its hub was started (launch.h), exiting after --idle-exit
 * (default 30 min) without sessions — and wait for it (≤ 15 s). Returns
 * the connected fd or -errno with *errmsg (caller frees); -EPERM when the
 * record forbids the start (its message says why and what to do). */
int client_connect_socket(const struct options *o, bool autostart, char **errmsg);

/* Connect, open an admin session with the workspace's admin token
 * (<state-dir>/token: the session acts as the owner and never becomes an
 * agent) and complete the MCP handshake (clientInfo "coordhub-cli", which
 * grants nothing by itself). NULL on failure with *errmsg set (a token the
 * hub refuses included). */
struct client *client_open(const struct options *o, bool autostart, char **errmsg);
void client_close(struct client *c);

/* Call a tool. args is taken (NULL = {}). On 0, *result is the
 * structuredContent (caller owns) and *is_error the isError flag. A
 * JSON-RPC error (including one with id null: the hub could not read the
 * request), a broken connection or no answer within the bound returns -1
 * with *errmsg. */
int client_call(struct client *c, const char *tool, cJSON *args, cJSON **result, bool *is_error,
                char **errmsg);

/* Send one control request (rpc/control.h: key or stop; the admin token
 * is added to it) on a fresh connection (starting the hub when needed,
 * with autostart) and read its one-line answer into *reply (kind
 * CONTROL_ANSWER; free with control_msg_free). -1 with *errmsg when there
 * is none, or it cannot be read. */
int client_control(const struct options *o, bool autostart, const struct control_msg *req,
                   struct control_msg *reply, char **errmsg);

/* Wait (≤ timeout_ms) until no hub holds o's hub.lock: the hub has
 * exited. 0 when none holds it, -ETIMEDOUT, or another -errno. */
int client_wait_hub_exit(const struct options *o, int timeout_ms);

#endif
