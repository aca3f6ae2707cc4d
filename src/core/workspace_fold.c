/* workspace_fold — how each event type changes the durable state.
 *
 * This is the only code that mutates agents, leases and tasks, for live
 * commands and replays alike. Each fold function reads and checks all of
 * its event's data first and mutates only once nothing can fail, so a
 * rejected event leaves the state exactly as it was.
 *
 * The fold trusts the log on policy (it does not re-check conflicts: the
 * command that produced the event did) but not on shape or references: an
 * unlock of a lease that does not exist, or a claim of an unknown task,
 * is refused, so a corrupt or misordered log is noticed at once instead
 * of silently diverging. Types the core does not model only advance seq,
 * and so do events whose source is not the hub's (EVENT_SOURCE_HUB):
 * foreign systems' events are recorded and streamed, never folded. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/xmalloc.h"
#include "core/workspace_internal.h"

static void workspace_fold_touch(struct workspace *ws, const char *agent_id, int64_t ts)
{
    struct agent *a = agent_id ? agent_table_get(&ws->agents, agent_id) : NULL;
    if (a && ts > a->last_seen)
        a->last_seen = ts;
}

/* An optional string member: absent or null gives NULL. */
static int workspace_fold_opt_str(const cJSON *d, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return -ERR_INVALID;
    *out = v->valuestring;
    return 0;
}

static cJSON *workspace_fold_dup(const cJSON *v)
{
    cJSON *d = cJSON_Duplicate(v, 1);
    if (!d)
        abort();
    return d;
}

static int workspace_fold_agent_registered(struct workspace *ws, const struct event *ev)
{
    const cJSON *d = ev->data;
    enum agent_status st;
    const char *id = json_get_str(d, "agentId", NULL), *session;
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(d, "capabilities");
    const cJSON *srv = cJSON_GetObjectItemCaseSensitive(d, "mcpServers");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(d, "metadata");
    if (!agent_id_valid(id) || workspace_fold_opt_str(d, "sessionId", &session))
        return -ERR_INVALID;
    if (!agent_is_string_array(caps, SIZE_MAX, SIZE_MAX) ||
        !agent_is_string_array(srv, SIZE_MAX, SIZE_MAX) || !cJSON_IsObject(meta))
        return -ERR_INVALID;
    if (agent_status_parse(json_get_str(d, "status", NULL), &st) || st == AGENT_OFFLINE)
        return -ERR_INVALID;

    struct agent *a = agent_table_get(&ws->agents, id);
    if (!a) {
        a = agent_table_add(&ws->agents, id);
        a->registered_at = ev->ts_ms;
    }
    char *s = xstrdup(session);
    free(a->session_id);
    a->session_id = s;
    cJSON_Delete(a->capabilities);
    cJSON_Delete(a->mcp_servers);
    cJSON_Delete(a->metadata);
    a->capabilities = workspace_fold_dup(caps);
    a->mcp_servers = workspace_fold_dup(srv);
    a->metadata = workspace_fold_dup(meta);
    a->status = st;
    a->last_seen = ev->ts_ms;
    if (!a->live_session)
        a->detached_at = ev->ts_ms > ws->detach_floor ? ev->ts_ms : ws->detach_floor;
    return 0;
}

static int workspace_fold_agent_status_changed(struct workspace *ws, const struct event *ev)
{
    enum agent_status st;
    struct agent *a = agent_table_get(&ws->agents, json_get_str(ev->data, "agentId", ""));
    if (!a || agent_status_parse(json_get_str(ev->data, "status", NULL), &st) ||
        st == AGENT_OFFLINE)
        return -ERR_INVALID;
    a->status = st;
    workspace_fold_touch(ws, a->id, ev->ts_ms);
    return 0;
}

static int workspace_fold_agent_left(struct workspace *ws, const struct event *ev)
{
    struct agent *a = agent_table_get(&ws->agents, json_get_str(ev->data, "agentId", ""));
    if (!a)
        return -ERR_INVALID;
    a->status = AGENT_OFFLINE;
    /* Last seen when it left: the retention before pruning counts from
     * here (docs/configuration.md). */
    if (ev->ts_ms > a->last_seen)
        a->last_seen = ev->ts_ms;
    return 0;
}

static int workspace_fold_agent_removed(struct workspace *ws, const struct event *ev)
{
    struct agent *a = agent_table_get(&ws->agents, json_get_str(ev->data, "agentId", ""));
    /* The command released everything first: a lease or a claimed task
     * still naming the agent means the log is not the core's. */
    if (!a || lease_table_agent_leases(&ws->leases, a->id) || workspace__agent_has_task(ws, a->id))
        return -ERR_INVALID;
    agent_table_remove(&ws->agents, a);
    return 0;
}

/* The lease key of file:* data: "pattern" (a string, or true) marks a
 * pattern lease whose key is "file". */
static int workspace_fold_key(const cJSON *d, const char **key, bool *pattern)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "pattern");
    *key = json_get_str(d, "file", NULL);
    *pattern = false;
    if (p && !cJSON_IsNull(p) && !cJSON_IsFalse(p)) {
        if (cJSON_IsString(p) && (!*key || strcmp(*key, p->valuestring) == 0))
            *key = p->valuestring;
        else if (!cJSON_IsTrue(p))
            return -ERR_INVALID;
        *pattern = true;
    }
    return *key && **key ? 0 : -ERR_INVALID;
}

static int workspace_fold_file_locked(struct workspace *ws, const struct event *ev)
{
    const cJSON *d = ev->data;
    const char *key, *reason, *task_id;
    bool pattern;
    enum lease_mode mode;
    int64_t expires_at;
    const char *agent = json_get_str(d, "agentId", NULL);
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(d, "token");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(d, "ttl");
    bool renewed = json_get_bool(d, "renewed", false);
    if (workspace_fold_key(d, &key, &pattern) || !agent || !*agent)
        return -ERR_INVALID;
    if (workspace_fold_opt_str(d, "reason", &reason) ||
        workspace_fold_opt_str(d, "taskId", &task_id))
        return -ERR_INVALID;
    if (lease_mode_parse(json_get_str(d, "mode", NULL), &mode))
        return -ERR_INVALID;
    if (!json_is_int_in(token, 1, JSON_EXACT_INT_MAX) ||
        clock_parse_iso(json_get_str(d, "expiresAt", ""), &expires_at))
        return -ERR_INVALID;
    if (!cJSON_IsNumber(ttl) || !isfinite(ttl->valuedouble) || ttl->valuedouble < 0)
        return -ERR_INVALID;
    uint64_t tok = (uint64_t)token->valuedouble;
    int64_t ttl_ms = (int64_t)llround(ttl->valuedouble * 1000.0);
    struct lease *held = lease_table_holder(&ws->leases, key, pattern, agent);
    if (renewed) {
        if (!held || held->token != tok || held->mode != mode)
            return -ERR_INVALID;
        lease_table_set_expiry(&ws->leases, held, expires_at, ttl_ms);
        lease_table_set_reason(held, reason);
        lease_table_set_task(held, task_id);
    } else {
        if (tok != ev->seq)
            return -ERR_INVALID; /* a grant's token is its own seq */
        if (held)
            lease_table_remove(&ws->leases, held); /* mode change replaces the share */
        lease_table_insert(&ws->leases, key, pattern, agent, mode, tok, reason, task_id, ev->ts_ms,
                           expires_at, ttl_ms);
    }
    workspace_fold_touch(ws, agent, ev->ts_ms);
    return 0;
}

static int workspace_fold_file_unlocked(struct workspace *ws, const struct event *ev)
{
    const cJSON *d = ev->data;
    const char *key;
    bool pattern;
    const char *agent = json_get_str(d, "agentId", NULL);
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(d, "token");
    if (workspace_fold_key(d, &key, &pattern) || !agent ||
        !json_is_int_in(token, 1, JSON_EXACT_INT_MAX))
        return -ERR_INVALID;
    struct lease *held = lease_table_holder(&ws->leases, key, pattern, agent);
    if (!held || held->token != (uint64_t)token->valuedouble)
        return -ERR_INVALID;
    lease_table_remove(&ws->leases, held);
    if (strcmp(json_get_str(d, "reason", ""), "released") == 0)
        workspace_fold_touch(ws, agent, ev->ts_ms);
    return 0;
}

static int workspace_fold_task_created(struct workspace *ws, const struct event *ev)
{
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(ev->data, "task");
    if (!cJSON_IsObject(rec) || task_table_add_json(&ws->tasks, rec, ev->seq))
        return -ERR_INVALID;
    workspace_fold_touch(ws, json_get_str(rec, "createdBy", NULL), ev->ts_ms);
    return 0;
}

/* The task and acting agent of a task:* event other than created. */
static int workspace_fold_task_ref(struct workspace *ws, const struct event *ev, struct task **t,
                                   const char **agent)
{
    *t = task_table_get(&ws->tasks, json_get_str(ev->data, "taskId", ""));
    *agent = json_get_str(ev->data, "agentId", NULL);
    return *t && *agent && **agent ? 0 : -ERR_INVALID;
}

static int workspace_fold_task_claimed(struct workspace *ws, const struct event *ev)
{
    struct task *t;
    const char *agent;
    /* extraFiles: the claim's files beyond the task's own; absent in
     * logs written before they were kept (the claim then has none). */
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(ev->data, "extraFiles");
    if (workspace_fold_task_ref(ws, ev, &t, &agent))
        return -ERR_INVALID;
    if (extra && !agent_is_string_array(extra, SIZE_MAX, SIZE_MAX))
        return -ERR_INVALID;
    task_table_claim(&ws->tasks, t, agent, extra ? workspace_fold_dup(extra) : NULL);
    t->claimed_at = ev->ts_ms;
    t->completed_at = 0;
    task_set_failure(t, NULL);
    task_set_result(t, NULL);
    workspace_fold_touch(ws, agent, ev->ts_ms);
    return 0;
}

static int workspace_fold_task_completed(struct workspace *ws, const struct event *ev)
{
    struct task *t;
    const char *agent;
    if (workspace_fold_task_ref(ws, ev, &t, &agent))
        return -ERR_INVALID;
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(ev->data, "result");
    task_table_set_status(&ws->tasks, t, TASK_COMPLETED, false);
    t->completed_at = ev->ts_ms;
    task_set_result(t, result && !cJSON_IsNull(result) ? workspace_fold_dup(result) : NULL);
    workspace_fold_touch(ws, json_get_str(ev->data, "completedBy", agent), ev->ts_ms);
    return 0;
}

static int workspace_fold_task_released(struct workspace *ws, const struct event *ev)
{
    struct task *t;
    const char *agent, *reason;
    if (workspace_fold_task_ref(ws, ev, &t, &agent) ||
        workspace_fold_opt_str(ev->data, "reason", &reason))
        return -ERR_INVALID;
    task_table_set_status(&ws->tasks, t, TASK_OPEN, true);
    t->claimed_at = 0;
    workspace_fold_touch(ws, json_get_str(ev->data, "releasedBy", agent), ev->ts_ms);
    return 0;
}

static int workspace_fold_task_failed(struct workspace *ws, const struct event *ev)
{
    struct task *t;
    const char *agent, *reason;
    if (workspace_fold_task_ref(ws, ev, &t, &agent) ||
        workspace_fold_opt_str(ev->data, "reason", &reason))
        return -ERR_INVALID;
    task_table_set_status(&ws->tasks, t, TASK_FAILED, false);
    t->completed_at = ev->ts_ms;
    task_set_failure(t, reason);
    workspace_fold_touch(ws, json_get_str(ev->data, "releasedBy", agent), ev->ts_ms);
    return 0;
}

static int workspace_fold_task_cancelled(struct workspace *ws, const struct event *ev)
{
    struct task *t = task_table_get(&ws->tasks, json_get_str(ev->data, "taskId", ""));
    const char *reason, *agent;
    if (!t || (t->status != TASK_OPEN && t->status != TASK_CLAIMED) ||
        workspace_fold_opt_str(ev->data, "reason", &reason) ||
        workspace_fold_opt_str(ev->data, "agentId", &agent))
        return -ERR_INVALID;
    task_table_set_status(&ws->tasks, t, TASK_CANCELLED, false);
    t->completed_at = ev->ts_ms;
    task_set_failure(t, reason);
    workspace_fold_touch(ws, json_get_str(ev->data, "cancelledBy", NULL), ev->ts_ms);
    return 0;
}

static int workspace_fold_task_reopened(struct workspace *ws, const struct event *ev)
{
    struct task *t = task_table_get(&ws->tasks, json_get_str(ev->data, "taskId", ""));
    if (!t || (t->status != TASK_FAILED && t->status != TASK_CANCELLED))
        return -ERR_INVALID;
    task_table_set_status(&ws->tasks, t, TASK_OPEN, true);
    t->claimed_at = 0;
    t->completed_at = 0;
    task_set_failure(t, NULL);
    task_set_result(t, NULL);
    workspace_fold_touch(ws, json_get_str(ev->data, "reopenedBy", NULL), ev->ts_ms);
    return 0;
}

static int workspace_fold_task_updated(struct workspace *ws, const struct event *ev)
{
    struct task *t = task_table_get(&ws->tasks, json_get_str(ev->data, "taskId", ""));
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(ev->data, "changes");
    if (!t || t->status != TASK_OPEN || !cJSON_IsObject(ch))
        return -ERR_INVALID;
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(ch, "title");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(ch, "description");
    const cJSON *prio = cJSON_GetObjectItemCaseSensitive(ch, "priority");
    static const char *const arr_names[3] = {"files", "patterns", "capabilities"};
    const cJSON *arrs[3];
    if ((title && !cJSON_IsString(title)) || (desc && !cJSON_IsString(desc)) ||
        (prio && !json_is_int_in(prio, -JSON_EXACT_INT_MAX, JSON_EXACT_INT_MAX)))
        return -ERR_INVALID;
    for (int i = 0; i < 3; i++) {
        arrs[i] = cJSON_GetObjectItemCaseSensitive(ch, arr_names[i]);
        if (arrs[i] && !agent_is_string_array(arrs[i], SIZE_MAX, SIZE_MAX))
            return -ERR_INVALID;
    }
    if (title) {
        char *s = xstrdup(title->valuestring);
        free(t->title);
        t->title = s;
    }
    if (desc) {
        char *s = xstrdup(desc->valuestring);
        free(t->description);
        t->description = s;
    }
    if (prio)
        t->priority = (int64_t)prio->valuedouble;
    cJSON **fields[3] = {&t->files, &t->patterns, &t->capabilities};
    for (int i = 0; i < 3; i++) {
        if (arrs[i]) {
            cJSON_Delete(*fields[i]);
            *fields[i] = workspace_fold_dup(arrs[i]);
        }
    }
    workspace_fold_touch(ws, json_get_str(ev->data, "updatedBy", NULL), ev->ts_ms);
    return 0;
}

struct fold_entry {
    const char *type;
    int (*fn)(struct workspace *ws, const struct event *ev);
};

static const struct fold_entry fold_table[] = {
    {EVENT_AGENT_REGISTERED, workspace_fold_agent_registered},
    {EVENT_AGENT_STATUS_CHANGED, workspace_fold_agent_status_changed},
    {EVENT_AGENT_LEFT, workspace_fold_agent_left},
    {EVENT_FILE_LOCKED, workspace_fold_file_locked},
    {EVENT_FILE_UNLOCKED, workspace_fold_file_unlocked},
    {EVENT_TASK_CREATED, workspace_fold_task_created},
    {EVENT_TASK_CLAIMED, workspace_fold_task_claimed},
    {EVENT_TASK_COMPLETED, workspace_fold_task_completed},
    {EVENT_TASK_RELEASED, workspace_fold_task_released},
    {EVENT_TASK_FAILED, workspace_fold_task_failed},
    {EVENT_TASK_CANCELLED, workspace_fold_task_cancelled},
    {EVENT_TASK_REOPENED, workspace_fold_task_reopened},
    {EVENT_TASK_UPDATED, workspace_fold_task_updated},
    {EVENT_AGENT_REMOVED, workspace_fold_agent_removed},
};

int workspace__fold(struct workspace *ws, const struct event *ev)
{
    /* Only the hub's own events change the state: a foreign system's
     * task:completed (ingested from Redis) says nothing the core can
     * trust about its tasks, and must not stop a replay either. */
    if (!event_is_hub(ev))
        return 0;
    for (size_t i = 0; i < sizeof(fold_table) / sizeof(fold_table[0]); i++) {
        if (strcmp(ev->type, fold_table[i].type) == 0)
            return fold_table[i].fn(ws, ev);
    }
    return 0;
}
