/* observation — names and the JSON form of observations.
 *
 * The JSON keys follow the tool results the observation is about: the
 * agent in the way is "lockedBy" with its lease's "expiresAt" (as a
 * lock_file refusal says it), or "queuedBy" for an earlier queued request;
 * times are RFC 3339 like every timestamp of the hub. Each kind writes only
 * its own fields. */
#include "core/observation.h"

#include "base/json.h"

const char *observation_kind_name(enum observation_kind kind)
{
    switch (kind) {
    case OBSERVATION_LOCK_REFUSED:
        return "lock:refused";
    case OBSERVATION_QUEUE_JOINED:
        return "queue:joined";
    case OBSERVATION_QUEUE_LEFT:
        return "queue:left";
    case OBSERVATION_CLAIM_REFUSED:
        return "claim:refused";
    case OBSERVATION_TOOL_LATENCY:
        return "tool:latency";
    }
    return "unknown";
}

const char *observation_queue_end_name(enum observation_queue_end end)
{
    switch (end) {
    case OBSERVATION_QUEUE_NONE:
        return "none";
    case OBSERVATION_QUEUE_GRANTED:
        return "granted";
    case OBSERVATION_QUEUE_TIMED_OUT:
        return "timed_out";
    case OBSERVATION_QUEUE_CANCELLED:
        return "cancelled";
    case OBSERVATION_QUEUE_DROPPED:
        return "dropped";
    }
    return "unknown";
}

const char *observation_claim_why_name(enum observation_claim_why why)
{
    switch (why) {
    case OBSERVATION_CLAIM_CLAIMED:
        return "claimed";
    case OBSERVATION_CLAIM_NOT_OPEN:
        return "not_open";
    case OBSERVATION_CLAIM_BLOCKED:
        return "blocked";
    case OBSERVATION_CLAIM_CAPABILITIES:
        return "capabilities";
    case OBSERVATION_CLAIM_FILES_HELD:
        return "files_held";
    }
    return "unknown";
}

static void observation_add_str(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
}

/* The key and the agent in the way (lock, queue and files-held kinds). */
static void observation_add_key(cJSON *j, const struct observation *o)
{
    observation_add_str(j, "file", o->file);
    if (o->pattern)
        cJSON_AddTrueToObject(j, "pattern");
    cJSON_AddStringToObject(j, "mode", o->shared ? "shared" : "exclusive");
    if (o->holder && o->lease_until > 0) {
        cJSON_AddStringToObject(j, "lockedBy", o->holder);
        json_add_time(j, "expiresAt", o->lease_until);
    } else if (o->holder) {
        cJSON_AddStringToObject(j, "queuedBy", o->holder);
    }
}

static void observation_add_queue(cJSON *j, const struct observation *o)
{
    json_add_u64(j, "waiterId", o->waiter_id);
    json_add_time(j, "joinedAt", o->joined_at_ms);
    json_add_time(j, "deadline", o->deadline_ms);
    if (o->kind != OBSERVATION_QUEUE_LEFT)
        return;
    cJSON_AddStringToObject(j, "end", observation_queue_end_name(o->end));
    if (o->waited_ms >= 0)
        cJSON_AddNumberToObject(j, "waitedMs", (double)o->waited_ms);
}

cJSON *observation_to_json(const struct observation *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", observation_kind_name(o->kind));
    if (o->at_ms > 0)
        json_add_time(j, "at", o->at_ms);
    observation_add_str(j, "agentId", o->agent_id);
    observation_add_str(j, "sessionId", o->session_id);
    switch (o->kind) {
    case OBSERVATION_LOCK_REFUSED:
        observation_add_key(j, o);
        break;
    case OBSERVATION_QUEUE_JOINED:
    case OBSERVATION_QUEUE_LEFT:
        observation_add_key(j, o);
        observation_add_queue(j, o);
        break;
    case OBSERVATION_CLAIM_REFUSED:
        observation_add_str(j, "taskId", o->task_id);
        cJSON_AddStringToObject(j, "reason", observation_claim_why_name(o->claim));
        observation_add_str(j, "blockedBy", o->blocked_by);
        if (o->claim == OBSERVATION_CLAIM_FILES_HELD)
            observation_add_key(j, o);
        else if (o->claim == OBSERVATION_CLAIM_CLAIMED)
            observation_add_str(j, "claimedBy", o->holder);
        break;
    case OBSERVATION_TOOL_LATENCY:
        observation_add_str(j, "tool", o->tool);
        cJSON_AddNumberToObject(j, "latencyMs", o->latency_ms);
        cJSON_AddBoolToObject(j, "error", o->error);
        cJSON_AddBoolToObject(j, "refused", o->refused);
        break;
    }
    return j;
}
