/* mcpline — the MCP JSON-RPC lines the benches send and how they read the
 * answers, without a JSON library: requests are formatted with snprintf,
 * responses are recognised by their top-level "id" and checked by a few
 * substrings. That keeps the client's share of every measured round trip
 * as small as the raw ping-pong's. */
#ifndef COORDHUB_BENCH_MCPLINE_H
#define COORDHUB_BENCH_MCPLINE_H

#include <stdbool.h>
#include <stddef.h>

struct peer;

enum mcpline_call { MCPLINE_LOCK, MCPLINE_UNLOCK, MCPLINE_ECHO };

/* Format one tools/call request line, '\n' included, into out: lock_file
 * or unlock_file {file, agentId} (arg = file), or echo {message} (arg =
 * message). Returns the length, or 0 if it does not fit in cap. */
size_t mcpline_format_call(char *out, size_t cap, enum mcpline_call call, unsigned long long id,
                           const char *arg, const char *agent);

/* True if line is the response (result or error) to request id. */
bool mcpline_is_response(const char *line, size_t len, unsigned long long id);

/* True if a response to call reports success: for lock/unlock a result
 * with "success":true and no "isError":true; for echo the echoed text. */
bool mcpline_call_ok(enum mcpline_call call, const char *line, size_t len);

/* Read lines, skipping notifications and other traffic, until the
 * response to id. Returns it (valid until the next read) or NULL at EOF. */
const char *mcpline_wait(struct peer *p, unsigned long long id, size_t *len);

/* initialize (request id 1) and notifications/initialized; then, if agent
 * is not NULL, register_agent {agentId: agent} (request id 2) and copy the
 * id the hub granted into agent_out. 0, or -1 with the reason on stderr. */
int mcpline_handshake(struct peer *p, const char *agent, char *agent_out, size_t agent_cap);

#endif
