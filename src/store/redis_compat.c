/* redis_compat — see redis_compat.h. */
#include "store/redis_compat.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/xmalloc.h"

/* {agentId, reason, lockedAt} of an exclusive lock, and its expiry. */
static void redis_compat_lock_set(const struct event *ev, const char *agent, double ttl_s,
                                  struct redis_args *keep, struct redis_compat_lock *out)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "agentId", agent);
    const char *reason = json_get_str(ev->data, "reason", NULL);
    if (reason)
        cJSON_AddStringToObject(v, "reason", reason);
    else
        cJSON_AddNullToObject(v, "reason");
    json_add_time(v, "lockedAt", ev->ts_ms);
    out->value = redis_args_keep(keep, json_print(v));
    cJSON_Delete(v);
    out->pxat = redis_args_u64(keep, (uint64_t)(ev->ts_ms + (int64_t)(ttl_s * 1000)));
    out->op = json_get_bool(ev->data, "renewed", false) ? "renew" : "set";
}

void redis_compat_lock(const struct event *ev, bool on, struct redis_args *keep,
                       struct redis_compat_lock *out)
{
    *out = (struct redis_compat_lock){.op = "-", .key = "", .value = "", .pxat = "0"};
    const char *file = json_get_str(ev->data, "file", NULL);
    const char *agent = json_get_str(ev->data, "agentId", NULL);
    bool hub = ev->source && strcmp(ev->source, EVENT_SOURCE_HUB) == 0;
    if (!on || !hub || !file || !agent || cJSON_GetObjectItemCaseSensitive(ev->data, "pattern"))
        return;
    bool locked = strcmp(ev->type, EVENT_FILE_LOCKED) == 0;
    const char *mode = json_get_str(ev->data, "mode", "exclusive");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(ev->data, "ttl");
    if (locked && strcmp(mode, "exclusive") == 0 && cJSON_IsNumber(ttl) && ttl->valuedouble > 0 &&
        ttl->valuedouble < 1e12) {
        redis_compat_lock_set(ev, agent, ttl->valuedouble, keep, out);
    } else if (locked || strcmp(ev->type, EVENT_FILE_UNLOCKED) == 0) {
        out->op = "del";
        out->value = agent;
    } else {
        return;
    }
    size_t n = strlen(REDIS_COMPAT_LOCK_PREFIX) + strlen(file) + 1;
    char *key = xmalloc(n);
    snprintf(key, n, "%s%s", REDIS_COMPAT_LOCK_PREFIX, file);
    out->key = redis_args_keep(keep, key);
}

void redis_compat_registry(const struct event *ev, bool on, struct redis_args *keep,
                           struct redis_compat_reg *out)
{
    *out = (struct redis_compat_reg){.op = "-", .id = "", .member = ""};
    const char *id = json_get_str(ev->data, "serverId", NULL);
    if (!on || !event_is_hub(ev) || !id || !id[0])
        return;
    if (strcmp(ev->type, EVENT_SERVER_REGISTERED) == 0) {
        out->op = "reg";
        out->id = id;
        out->member = redis_args_keep(keep, json_print(ev->data));
    } else if (strcmp(ev->type, EVENT_SERVER_REMOVED) == 0) {
        out->op = "rm";
        out->id = id;
    }
}
