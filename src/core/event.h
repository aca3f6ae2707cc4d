/* event — the one event record shared by the log, SSE, Redis and MCP.
 *
 * An event is {id, type, source, sourceId, workspace, timestamp, data}
 * (docs/events.md, "Envelope"). `seq` is the workspace's sequence
 * number: strictly increasing, never reused, and the source of fencing
 * tokens. Types are
 * strings so external publishers can use their own `<ns>:<name>`; the ones
 * the core produces are the EVENT_* constants below. */
#ifndef COORDHUB_CORE_EVENT_H
#define COORDHUB_CORE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"

#define EVENT_AGENT_REGISTERED "agent:registered"
#define EVENT_AGENT_STATUS_CHANGED "agent:status_changed"
#define EVENT_AGENT_LEFT "agent:left"
#define EVENT_FILE_LOCKED "file:locked"
#define EVENT_FILE_UNLOCKED "file:unlocked"
#define EVENT_TASK_CREATED "task:created"
#define EVENT_TASK_CLAIMED "task:claimed"
#define EVENT_TASK_COMPLETED "task:completed"
#define EVENT_TASK_RELEASED "task:released"
#define EVENT_TASK_FAILED "task:failed"
#define EVENT_TASK_CANCELLED "task:cancelled"
#define EVENT_TASK_REOPENED "task:reopened"
#define EVENT_TASK_UPDATED "task:updated"
#define EVENT_AGENT_REMOVED "agent:removed"
#define EVENT_HEALTH_STATUS "health:status"
#define EVENT_HEALTH_DEGRADED "health:degraded"
#define EVENT_HEALTH_RECOVERED "health:recovered"
#define EVENT_SERVER_REGISTERED "server:registered"
#define EVENT_SERVER_REMOVED "server:removed"
#define EVENT_TOOLS_CHANGED "tools:changed"
#define EVENT_CACHE_INVALIDATE "cache:invalidate"
#define EVENT_GUIDANCE_MESSAGE "guidance:message"

#define EVENT_SOURCE_HUB "agent-coordination"

/* Longest event type, "<ns>:<name>", in bytes. */
#define EVENT_TYPE_MAX 64

struct event {
    uint64_t seq;    /* assigned by the workspace; 0 = not yet */
    char *type;      /* owned, e.g. "file:locked" */
    char *source;    /* owned; EVENT_SOURCE_HUB for the hub's own events */
    char *source_id; /* owned, may be NULL: id of the emitting hub/publisher */
    int64_t ts_ms;   /* ms since epoch, from the caller-supplied clock */
    cJSON *data;     /* owned JSON object */
    char *signature; /* owned, may be NULL: X-Coordhub-Signature of foreign events */
};

/* A growable array of events; owns its elements. */
struct event_vec {
    struct event *items;
    size_t len;
    size_t cap;
};

/* Initialise ev as a new event of the given type at ts_ms, taking
 * ownership of data (an object; NULL becomes {}). seq stays 0. */
void event_init(struct event *ev, const char *type, int64_t ts_ms, cJSON *data);
/* Release everything ev owns; ev may be reused. NULL ok. */
void event_deinit(struct event *ev);
/* Deep copy src into dst. */
void event_copy(struct event *dst, const struct event *src);

/* The wire object (docs/events.md, "Envelope"):
 * {"id":"<seq>","type",…,"data"}. workspace may be NULL (omitted). An
 * event with seq 0 is not in the log (an announcement, bus_announce): it
 * has no "id". Caller owns the result. */
cJSON *event_to_json(const struct event *ev, const char *workspace);
/* Serialise to compact JSON text (caller frees). */
char *event_to_text(const struct event *ev, const char *workspace);
/* Parse the wire object back. "id" is optional (seq 0 if absent), "type"
 * is required, "timestamp" optional (0 if absent). 0 or -ERR_INVALID. */
int event_from_json(const cJSON *obj, struct event *out);

void event_vec_init(struct event_vec *v);
void event_vec_deinit(struct event_vec *v);
/* Clear the contents, keeping the storage. */
void event_vec_clear(struct event_vec *v);
/* Append ev, taking ownership of its fields (ev is zeroed). */
void event_vec_push(struct event_vec *v, struct event *ev);

/* True when ev is the hub's own: its source is EVENT_SOURCE_HUB, or unset
 * (read as the hub's, as event_to_json does). False for events foreign
 * systems published (POST /events and publish_event are the hub's: their
 * source is the hub's, sourceId the agent). */
bool event_is_hub(const struct event *ev);

/* True when type is well formed: `<ns>:<name>`, [a-z0-9_.-], ≤ 64 chars. */
bool event_type_valid(const char *type);
/* True when type is in one of the hub's own namespaces (agent:, file:,
 * task:, server:, tools:, cache:, guidance:, insight:), which nobody
 * outside the hub may write: publish_event, POST /events and the Redis
 * channel mcp:events all refuse them (docs/events.md). health: stays open
 * (components report health:status). False for NULL. */
bool event_type_reserved(const char *type);
/* True when pattern (e.g. "file:*", "task:completed", "*") matches type. */
bool event_type_matches(const char *pattern, const char *type);

#endif
