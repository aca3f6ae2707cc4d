/* agent — records and table.
 *
 * Invariants: every record in the table has non-NULL capabilities and
 * mcp_servers (arrays of strings) and metadata (an object); the map key is
 * the record's own id string, so a record is freed only after it left the
 * map. */
#include "core/agent.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/xmalloc.h"

static const char *const agent_status_names[] = {"active", "idle", "busy", "offline"};

static cJSON *agent_dup(const cJSON *v)
{
    cJSON *d = cJSON_Duplicate(v, 1);
    if (!d)
        abort(); /* only fails on OOM */
    return d;
}

static void agent_free(struct agent *a)
{
    if (!a)
        return;
    free(a->id);
    free(a->session_id);
    cJSON_Delete(a->capabilities);
    cJSON_Delete(a->mcp_servers);
    cJSON_Delete(a->metadata);
    free(a->live_session);
    free(a);
}

void agent_table_init(struct agent_table *t)
{
    map_init(&t->by_id);
}

void agent_table_deinit(struct agent_table *t)
{
    if (!t)
        return;
    size_t it = 0;
    void *v;
    while (map_next(&t->by_id, &it, NULL, &v))
        agent_free(v);
    map_deinit(&t->by_id);
}

struct agent *agent_table_get(const struct agent_table *t, const char *id)
{
    return map_get(&t->by_id, id);
}

struct agent *agent_table_add(struct agent_table *t, const char *id)
{
    struct agent *a = xcalloc(1, sizeof(*a));
    a->id = xstrdup(id);
    a->capabilities = cJSON_CreateArray();
    a->mcp_servers = cJSON_CreateArray();
    a->metadata = cJSON_CreateObject();
    a->status = AGENT_ACTIVE;
    map_put(&t->by_id, a->id, a);
    return a;
}

void agent_table_remove(struct agent_table *t, struct agent *a)
{
    map_del(&t->by_id, a->id); /* before the free: the key is a->id */
    agent_free(a);
}

static int agent_cmp(const void *x, const void *y)
{
    const struct agent *a = *(struct agent *const *)x, *b = *(struct agent *const *)y;
    return strcmp(a->id, b->id);
}

struct agent **agent_table_sorted(const struct agent_table *t, size_t *n)
{
    size_t len = map_len(&t->by_id), i = 0, it = 0;
    struct agent **arr = xmalloc((len ? len : 1) * sizeof(*arr));
    void *v;
    while (map_next(&t->by_id, &it, NULL, &v))
        arr[i++] = v;
    qsort(arr, len, sizeof(*arr), agent_cmp);
    *n = len;
    return arr;
}

cJSON *agent_to_json(const struct agent *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "agentId", a->id);
    if (a->session_id)
        cJSON_AddStringToObject(o, "sessionId", a->session_id);
    else
        cJSON_AddNullToObject(o, "sessionId");
    cJSON_AddItemToObject(o, "capabilities", agent_dup(a->capabilities));
    cJSON_AddItemToObject(o, "mcpServers", agent_dup(a->mcp_servers));
    cJSON_AddStringToObject(o, "status", agent_status_name(a->status));
    cJSON_AddItemToObject(o, "metadata", agent_dup(a->metadata));
    json_add_time(o, "registeredAt", a->registered_at);
    json_add_time(o, "lastSeen", a->last_seen);
    return o;
}

static int agent_time(const cJSON *rec, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
    if (!cJSON_IsString(v))
        return -ERR_INVALID;
    return clock_parse_iso(v->valuestring, out) ? -ERR_INVALID : 0;
}

int agent_table_add_json(struct agent_table *t, const cJSON *rec)
{
    enum agent_status st;
    int64_t reg, seen;
    const char *id = json_get_str(rec, "agentId", NULL);
    const cJSON *sess = cJSON_GetObjectItemCaseSensitive(rec, "sessionId");
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(rec, "capabilities");
    const cJSON *srv = cJSON_GetObjectItemCaseSensitive(rec, "mcpServers");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(rec, "metadata");
    if (!cJSON_IsObject(rec) || !id || !agent_id_valid(id) || agent_table_get(t, id))
        return -ERR_INVALID;
    if (sess && !cJSON_IsString(sess) && !cJSON_IsNull(sess))
        return -ERR_INVALID;
    if (!cJSON_IsArray(caps) || !cJSON_IsArray(srv) || !cJSON_IsObject(meta))
        return -ERR_INVALID;
    if (agent_status_parse(json_get_str(rec, "status", ""), &st))
        return -ERR_INVALID;
    if (agent_time(rec, "registeredAt", &reg) || agent_time(rec, "lastSeen", &seen))
        return -ERR_INVALID;
    struct agent *a = agent_table_add(t, id);
    a->session_id = cJSON_IsString(sess) ? xstrdup(sess->valuestring) : NULL;
    cJSON_Delete(a->capabilities);
    cJSON_Delete(a->mcp_servers);
    cJSON_Delete(a->metadata);
    a->capabilities = agent_dup(caps);
    a->mcp_servers = agent_dup(srv);
    a->metadata = agent_dup(meta);
    a->status = st;
    a->registered_at = reg;
    a->last_seen = seen;
    return 0;
}

bool agent_id_valid(const char *id)
{
    if (!id)
        return false;
    size_t n = strlen(id);
    if (n == 0 || n > AGENT_ID_MAX)
        return false;
    for (const char *p = id; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

const char *agent_status_name(enum agent_status s)
{
    return (unsigned)s < 4 ? agent_status_names[s] : "offline";
}

int agent_status_parse(const char *s, enum agent_status *out)
{
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, agent_status_names[i]) == 0) {
            *out = (enum agent_status)i;
            return 0;
        }
    }
    return -ERR_INVALID;
}

bool agent_caps_cover(const cJSON *have, const cJSON *need)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, need)
    {
        bool found = false;
        const cJSON *h;
        cJSON_ArrayForEach(h, have)
        {
            if (cJSON_IsString(h) && cJSON_IsString(n) &&
                strcmp(h->valuestring, n->valuestring) == 0) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

bool agent_is_string_array(const cJSON *v, size_t max_items, size_t max_len)
{
    if (!cJSON_IsArray(v))
        return false;
    size_t count = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (++count > max_items || !cJSON_IsString(e))
            return false;
        size_t n = strlen(e->valuestring);
        if (n == 0 || n > max_len)
            return false;
    }
    return true;
}
