/* agent — agent records and the table that holds them.
 *
 * A record has a durable part (the fold of agent:* events: id, session,
 * capabilities, MCP servers, status, metadata, timestamps) and an
 * ephemeral part (which live session it is attached to, and since when it
 * has been detached) that is never logged nor snapshotted. The table owns
 * its records; ids are unique. */
#ifndef COORDHUB_CORE_AGENT_H
#define COORDHUB_CORE_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/map.h"

#define AGENT_ID_MAX 128

enum agent_status {
    AGENT_ACTIVE = 0,
    AGENT_IDLE,
    AGENT_BUSY,
    AGENT_OFFLINE,
};

struct agent {
    char *id;            /* owned; the table's key */
    char *session_id;    /* owned, may be NULL: session of the last registration */
    cJSON *capabilities; /* owned array of strings */
    cJSON *mcp_servers;  /* owned array of strings */
    cJSON *metadata;     /* owned object */
    enum agent_status status;
    int64_t registered_at; /* ms since epoch, first registration */
    int64_t last_seen;     /* ms since epoch, last event caused by the agent */
    /* ephemeral */
    char *live_session;  /* owned, NULL when not attached to a live session */
    int64_t detached_at; /* ms; when it lost its session (valid if !live_session) */
};

struct agent_table {
    struct map by_id; /* id -> struct agent (owned) */
};

void agent_table_init(struct agent_table *t);
/* Free every record. NULL ok. */
void agent_table_deinit(struct agent_table *t);
struct agent *agent_table_get(const struct agent_table *t, const char *id);
/* Insert a new record for id (which must be absent): empty capabilities
 * and servers, {} metadata, status active, zero times. */
struct agent *agent_table_add(struct agent_table *t, const char *id);
/* Take a (a record of t) out of t and free it. */
void agent_table_remove(struct agent_table *t, struct agent *a);
static inline size_t agent_table_len(const struct agent_table *t)
{
    return map_len(&t->by_id);
}
/* All records sorted by id (array owned by the caller, records not). */
struct agent **agent_table_sorted(const struct agent_table *t, size_t *n);

/* The durable record as JSON: {agentId, sessionId, capabilities,
 * mcpServers, status, metadata, registeredAt, lastSeen}. Caller owns. */
cJSON *agent_to_json(const struct agent *a);
/* Parse such a record and add it to t. -ERR_INVALID (t unchanged) on a
 * malformed record or a duplicate id. */
COORDHUB_MUST_CHECK int agent_table_add_json(struct agent_table *t, const cJSON *rec);

/* 1..AGENT_ID_MAX chars of [A-Za-z0-9._:@-]. Task ids follow the same rule. */
bool agent_id_valid(const char *id);
const char *agent_status_name(enum agent_status s);
/* 0 or -ERR_INVALID for anything but active|idle|busy|offline. */
int agent_status_parse(const char *s, enum agent_status *out);
/* True when every string in need (an array, NULL = none) is in have. */
bool agent_caps_cover(const cJSON *have, const cJSON *need);
/* True when v is an array of at most max_items strings each of
 * 1..max_len bytes. */
bool agent_is_string_array(const cJSON *v, size_t max_items, size_t max_len);

#endif
