/* hub_keys — API keys (<state-dir>/keys.json) and their control requests. */
#ifndef COORDHUB_APP_HUB_KEYS_H
#define COORDHUB_APP_HUB_KEYS_H

#include <cjson/cJSON.h>

#include "app/hub_state.h"

struct control_msg;

/* Load <state-dir>/keys.json into h->keys. 0, or an error (printed on
 * stderr): a key file the hub cannot read is a start-up error. */
int hub_keys_open(struct hub *h);
/* Free h->keys (after the HTTP face and the sessions). */
void hub_keys_close(struct hub *h);
/* Answer a key control request (first line {"coordhub":"key",…} on the
 * socket: `coordhub key …`) on fd, which is taken. */
void hub_keys_control(struct hub *h, int fd, const struct control_msg *req);
/* Why the session's key may not make this tool call (caller frees), or
 * NULL when it may (always for sessions without a key). */
char *hub_keys_tool_refusal(const struct hub_session *s, const char *name, const cJSON *args);

#endif
