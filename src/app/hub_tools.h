/* hub_tools — executing tool calls and reading resources: the core's
 * and the hub's own tool providers in the hub's registry (hub_tools.c
 * says how). */
#ifndef COORDHUB_APP_HUB_TOOLS_H
#define COORDHUB_APP_HUB_TOOLS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "app/hub_state.h"

/* Plug the core's and the hub's tool providers into h->registry; free
 * them. */
void hub_tools_init(struct hub *h);
void hub_tools_fini(struct hub *h);
/* Take agent_id back on session s (its bridge re-attached after a hub
 * restart and said so on its control line): registered like a tool call
 * of nobody's, recorded to be made again with the batch. */
void hub_agent_resume(struct hub *h, struct hub_session *s, const char *agent_id);
/* A tool call of session s came (call_id 0: internal, not answered):
 * build its call context — timed from now, recorded when it may run
 * again, with the HTTP caller's verified signature (or NULL) — and run
 * it. */
void hub_tool_call(struct hub *h, struct hub_session *s, uint64_t call_id, const char *name,
                   const cJSON *args, const char *signature);
/* Run call c (hub_tool_call builds it; hub_redo_batch runs a recorded
 * call again through it with the context it first ran with). */
void hub_tool_run(struct tool_call *c, const char *name, const cJSON *args);
/* The client cancelled call_id (or left): a queued lock request leaves
 * the queue, a parked wait_for_events ends, neither is answered. True
 * when such a call was found and dropped; false when the call is not
 * parked (its answer is due, or it was answered). */
bool hub_tool_cancel(struct hub *h, struct hub_session *s, uint64_t call_id);
cJSON *hub_resource_read(struct hub *h, const char *uri);
#endif
