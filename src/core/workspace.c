/* workspace — lifecycle, the command dispatcher, time-driven transitions,
 * snapshots and the status view.
 *
 * Commands are evaluated by the workspace__op_* handlers (one file per
 * area). A handler validates everything first and only then emits; every
 * emitted event is folded at once through workspace_apply(), the same
 * function a replay uses, so the live state is by construction the fold
 * of the events handed out. That is the replay invariant the property test
 * checks from the outside.
 *
 * Determinism: nothing here reads a clock or a random source, and every
 * place that walks a hash map sorts before emitting or answering, so the
 * same (state, command, now) always gives the same events and result.
 *
 * Ephemeral state (session attachments, detach times, waiters, counters)
 * is kept beside the durable state and never enters snapshots. */
#include "core/workspace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/args.h"
#include "core/workspace_internal.h"

#define WORKSPACE_SNAPSHOT_VERSION 1

struct workspace *workspace_new(const struct workspace_config *cfg)
{
    struct workspace *ws = xcalloc(1, sizeof(*ws));
    ws->name = xstrdup(cfg && cfg->name ? cfg->name : "default");
    ws->root = xstrdup(cfg ? cfg->root : NULL);
    ws->default_ttl_ms =
        cfg && cfg->default_ttl_ms > 0 ? cfg->default_ttl_ms : WORKSPACE_DEFAULT_TTL_MS;
    ws->max_ttl_ms = cfg && cfg->max_ttl_ms > 0 ? cfg->max_ttl_ms : WORKSPACE_DEFAULT_MAX_TTL_MS;
    if (ws->default_ttl_ms > ws->max_ttl_ms)
        ws->default_ttl_ms = ws->max_ttl_ms;
    ws->grace_ms =
        cfg && cfg->offline_grace_ms > 0 ? cfg->offline_grace_ms : WORKSPACE_DEFAULT_GRACE_MS;
    ws->max_wait_ms =
        cfg && cfg->max_wait_ms > 0 ? cfg->max_wait_ms : WORKSPACE_DEFAULT_MAX_WAIT_MS;
    ws->max_waiters =
        cfg && cfg->max_waiters > 0 ? cfg->max_waiters : WORKSPACE_DEFAULT_MAX_WAITERS;
    ws->retention_ms = cfg && cfg->agent_retention_ms > 0 ? cfg->agent_retention_ms
                                                          : WORKSPACE_DEFAULT_RETENTION_MS;
    ws->policy = cfg ? cfg->offline_policy : WORKSPACE_OFFLINE_RELEASE;
    ws->fold_case = cfg && cfg->fold_case;
    if (cfg)
        ws->observe = cfg->observe;
    agent_table_init(&ws->agents);
    lease_table_init(&ws->leases);
    task_table_init(&ws->tasks);
    map_init(&ws->waitqs);
    ws->next_waiter_id = 1;
    return ws;
}

void workspace_free(struct workspace *ws)
{
    if (!ws)
        return;
    workspace__waiters_clear(ws);
    map_deinit(&ws->waitqs);
    agent_table_deinit(&ws->agents);
    lease_table_deinit(&ws->leases);
    task_table_deinit(&ws->tasks);
    free(ws->name);
    free(ws->root);
    free(ws);
}

uint64_t workspace_seq(const struct workspace *ws)
{
    return ws->seq;
}

const char *workspace_name(const struct workspace *ws)
{
    return ws->name;
}

int workspace_apply(struct workspace *ws, const struct event *ev)
{
    if (!ev || ev->seq != ws->seq + 1 || !ev->type || !cJSON_IsObject(ev->data))
        return -ERR_INVALID;
    int rc = workspace__fold(ws, ev);
    if (rc)
        return rc;
    ws->seq = ev->seq;
    return 0;
}

void workspace__emit(struct workspace *ws, struct event_vec *out, const char *type, int64_t now_ms,
                     cJSON *data)
{
    struct event ev;
    event_init(&ev, type, now_ms, data);
    ev.seq = ws->seq + 1;
    if (workspace_apply(ws, &ev) != 0) {
        /* The handlers build only events their own fold accepts; reaching
         * this is a bug, and carrying on would split state from log. */
        char *text = event_to_text(&ev, NULL);
        fprintf(stderr, "coordhub: core emitted an event it cannot fold: %s\n", text);
        free(text);
        abort();
    }
    event_vec_push(out, &ev);
}

/* ---- commands ---- */

/* The handler of each op (enum workspace_op): dispatched by the op the
 * tool's definition carries, never by name. */
static workspace__op_fn *const workspace_ops[WORKSPACE_OP_COUNT_] = {
    [WORKSPACE_OP_REGISTER_AGENT] = workspace__op_register_agent,
    [WORKSPACE_OP_SET_AGENT_STATUS] = workspace__op_set_agent_status,
    [WORKSPACE_OP_LIST_AGENTS] = workspace__op_list_agents,
    [WORKSPACE_OP_LOCK_FILE] = workspace__op_lock_file,
    [WORKSPACE_OP_UNLOCK_FILE] = workspace__op_unlock_file,
    [WORKSPACE_OP_RENEW_LOCKS] = workspace__op_renew_locks,
    [WORKSPACE_OP_CHECK_LOCK] = workspace__op_check_lock,
    [WORKSPACE_OP_LIST_LOCKED_FILES] = workspace__op_list_locked_files,
    [WORKSPACE_OP_DETECT_CONFLICTS] = workspace__op_detect_conflicts,
    [WORKSPACE_OP_CREATE_TASK] = workspace__op_create_task,
    [WORKSPACE_OP_FIND_AVAILABLE_TASKS] = workspace__op_find_available_tasks,
    [WORKSPACE_OP_CLAIM_TASK] = workspace__op_claim_task,
    [WORKSPACE_OP_COMPLETE_TASK] = workspace__op_complete_task,
    [WORKSPACE_OP_RELEASE_TASK] = workspace__op_release_task,
    [WORKSPACE_OP_LIST_TASKS] = workspace__op_list_tasks,
    [WORKSPACE_OP_CANCEL_TASK] = workspace__op_cancel_task,
    [WORKSPACE_OP_REOPEN_TASK] = workspace__op_reopen_task,
    [WORKSPACE_OP_UPDATE_TASK] = workspace__op_update_task,
    [WORKSPACE_OP_REMOVE_AGENT] = workspace__op_remove_agent,
    [WORKSPACE_OP_PUBLISH_EVENT] = workspace__op_publish_event,
    [WORKSPACE_OP_GET_COORDINATION_STATUS] = workspace__op_status,
};

int workspace_exec(struct workspace *ws, const struct workspace_caller *caller,
                   enum workspace_op op, const cJSON *args, int64_t now_ms, struct event_vec *out,
                   cJSON **result, char **errmsg)
{
    static const struct workspace_caller nobody = {NULL, NULL, false, NULL};
    cJSON *empty = NULL;
    *result = NULL;
    *errmsg = NULL;
    if (!caller)
        caller = &nobody;
    if (args && !cJSON_IsObject(args)) {
        *errmsg = xstrdup("arguments must be an object");
        return -ERR_INVALID;
    }
    if (!args)
        args = empty = cJSON_CreateObject();
    if ((unsigned)op >= WORKSPACE_OP_COUNT_ || !workspace_ops[op]) {
        *errmsg = str_printf("unknown operation %d", (int)op);
        cJSON_Delete(empty);
        return -ERR_INVALID;
    }
    size_t before = out->len;
    int rc = workspace_ops[op](ws, caller, args, now_ms, out, result, errmsg);
    /* Contract: an error leaves no trace. Handlers validate before they
     * emit, so this only checks that they keep to it. */
    if (rc && out->len != before)
        abort();
    if (rc) {
        cJSON_Delete(*result);
        *result = NULL;
        if (!*errmsg)
            *errmsg = xstrdup(coordhub_strerror(rc));
    }
    cJSON_Delete(empty);
    return rc;
}

int workspace__actor(const struct workspace *ws, const struct workspace_caller *caller,
                     const cJSON *args, bool need, const char **agent, char **errmsg)
{
    const char *arg = NULL;
    *agent = NULL;
    int rc = args_str(args, "agentId", false, AGENT_ID_MAX, &arg, errmsg);
    if (rc)
        return rc;
    if (arg) {
        if (!agent_id_valid(arg)) {
            *errmsg = xstrdup("argument 'agentId': must be 1-128 characters of [A-Za-z0-9._:@-]");
            return -ERR_INVALID;
        }
        bool own = caller->agent_id && strcmp(caller->agent_id, arg) == 0;
        if (!own && !caller->admin) {
            *errmsg = str_printf("argument 'agentId': you may act only as your own agent ('%s')",
                                 caller->agent_id ? caller->agent_id : "none registered");
            return -ERR_DENIED;
        }
    } else {
        arg = caller->agent_id;
    }
    if (!arg) {
        if (!need)
            return 0;
        *errmsg = xstrdup("no agent: register_agent first");
        return -ERR_STATE;
    }
    const struct agent *a = agent_table_get(&ws->agents, arg);
    if (!a) {
        *errmsg = str_printf("agent '%s' is not registered: register_agent first", arg);
        return -ERR_STATE;
    }
    if (need && a->status == AGENT_OFFLINE && !a->session_id && !a->live_session) {
        /* A session-less agent that went offline acts again only once
         * registered again (the hub does that in the same command), so
         * it is never offline while it holds a lease. */
        *errmsg = str_printf("agent '%s' is offline: register_agent to resume it", arg);
        return -ERR_STATE;
    }
    *agent = arg;
    return 0;
}

/* ---- shared lease helpers ---- */

void workspace__add_key(cJSON *o, const char *key, bool pattern)
{
    cJSON_AddStringToObject(o, "file", key);
    if (pattern)
        cJSON_AddStringToObject(o, "pattern", key);
}

cJSON *workspace__unlock_data(const struct lease *l, const char *reason)
{
    cJSON *d = cJSON_CreateObject();
    workspace__add_key(d, l->key->key, l->key->pattern);
    cJSON_AddStringToObject(d, "agentId", l->agent_id);
    cJSON_AddStringToObject(d, "reason", reason);
    json_add_u64(d, "token", l->token);
    if (l->task_id)
        cJSON_AddStringToObject(d, "taskId", l->task_id);
    return d;
}

void workspace__release_agent(struct workspace *ws, const char *agent_id, const char *task_id,
                              const char *reason, int64_t now_ms, struct event_vec *out,
                              cJSON *keys)
{
    struct lease_vec v = {0};
    for (struct lease *l = lease_table_agent_leases(&ws->leases, agent_id); l; l = l->agent_next) {
        if (!task_id || (l->task_id && strcmp(l->task_id, task_id) == 0))
            lease_vec_push(&v, l);
    }
    lease_vec_sort(&v);
    for (size_t i = 0; i < v.len; i++) {
        if (keys)
            cJSON_AddItemToArray(keys, cJSON_CreateString(v.items[i]->key->key));
        /* the data is built before the fold frees the holder */
        workspace__emit(ws, out, EVENT_FILE_UNLOCKED, now_ms,
                        workspace__unlock_data(v.items[i], reason));
    }
    lease_vec_deinit(&v);
}

/* ---- sessions ---- */

bool workspace__agent_live(const struct agent *a)
{
    return a->live_session != NULL;
}

void workspace__agent_detach(struct agent *a, int64_t now_ms)
{
    if (!a->live_session)
        return;
    free(a->live_session);
    a->live_session = NULL;
    a->detached_at = now_ms;
}

void workspace_session_attach(struct workspace *ws, const char *agent_id, const char *session_id,
                              int64_t now_ms)
{
    struct agent *a = agent_table_get(&ws->agents, agent_id);
    if (!a || !session_id)
        return;
    /* one agent per session: whoever held the session before is detached */
    size_t n;
    struct agent **all = agent_table_sorted(&ws->agents, &n);
    for (size_t i = 0; i < n; i++) {
        if (all[i] != a && all[i]->live_session && strcmp(all[i]->live_session, session_id) == 0)
            workspace__agent_detach(all[i], now_ms);
    }
    free(all);
    char *s = xstrdup(session_id);
    free(a->live_session);
    a->live_session = s;
}

void workspace_session_detach(struct workspace *ws, const char *session_id, int64_t now_ms)
{
    if (!session_id)
        return;
    size_t it = 0;
    void *v;
    while (map_next(&ws->agents.by_id, &it, NULL, &v)) {
        struct agent *a = v;
        if (a->live_session && strcmp(a->live_session, session_id) == 0)
            workspace__agent_detach(a, now_ms);
    }
    workspace__waiters_drop_session(ws, session_id, now_ms);
}

bool workspace_agent_known(const struct workspace *ws, const char *agent_id)
{
    return agent_id && agent_table_get(&ws->agents, agent_id) != NULL;
}

bool workspace_agent_live_elsewhere(const struct workspace *ws, const char *agent_id,
                                    const char *session_id)
{
    const struct agent *a = agent_table_get(&ws->agents, agent_id);
    if (!a || !a->live_session)
        return false;
    return !session_id || strcmp(a->live_session, session_id) != 0;
}

void workspace_sessions_reset(struct workspace *ws, int64_t now_ms)
{
    size_t it = 0;
    void *v;
    while (map_next(&ws->agents.by_id, &it, NULL, &v)) {
        struct agent *a = v;
        free(a->live_session);
        a->live_session = NULL;
        a->detached_at = now_ms;
    }
    ws->detach_floor = now_ms;
}

void workspace_carry_ephemeral(struct workspace *to, struct workspace *from,
                               struct workspace_waiter_done_vec *dropped)
{
    /* An agent detached in both keeps the time it lost its session, so a
     * rebuild does not restart its grace period. */
    size_t it = 0;
    void *v;
    while (map_next(&to->agents.by_id, &it, NULL, &v)) {
        struct agent *a = v;
        const struct agent *old = agent_table_get(&from->agents, a->id);
        if (!a->live_session && old && !old->live_session && old->detached_at < a->detached_at)
            a->detached_at = old->detached_at;
    }
    if (from->detach_floor < to->detach_floor)
        to->detach_floor = from->detach_floor;
    workspace__waiters_carry(to, from, dropped);
    to->lock_contended += from->lock_contended;
    to->lock_expired += from->lock_expired;
    to->lock_granted += from->lock_granted;
    to->publish_reserved += from->publish_reserved;
}

/* ---- time ---- */

void workspace_tick(struct workspace *ws, int64_t now_ms, struct event_vec *out)
{
    struct lease_vec v = {0};
    lease_table_expired(&ws->leases, now_ms, &v);
    lease_vec_sort(&v);
    cJSON *holders = cJSON_CreateArray(); /* ids outlive the leases' folds */
    for (size_t i = 0; i < v.len; i++) {
        cJSON_AddItemToArray(holders, cJSON_CreateString(v.items[i]->agent_id));
        workspace__emit(ws, out, EVENT_FILE_UNLOCKED, now_ms,
                        workspace__unlock_data(v.items[i], "expired"));
        ws->lock_expired++;
    }
    lease_vec_deinit(&v);
    const cJSON *hid;
    cJSON_ArrayForEach(hid, holders)
    {
        workspace__settle_sessionless(ws, hid->valuestring, now_ms, out);
    }
    cJSON_Delete(holders);

    size_t n;
    struct agent **all = agent_table_sorted(&ws->agents, &n);
    for (size_t i = 0; i < n; i++) {
        struct agent *a = all[i];
        /* An agent registered without a session (by the CLI, acting for a
         * person) has no session to lose: only its leases' TTLs apply. */
        if (a->status == AGENT_OFFLINE || a->live_session || !a->session_id ||
            a->detached_at + ws->grace_ms > now_ms)
            continue;
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "agentId", a->id);
        cJSON_AddStringToObject(d, "reason", "disconnected");
        workspace__emit(ws, out, EVENT_AGENT_LEFT, now_ms, d);
        if (ws->policy == WORKSPACE_OFFLINE_RELEASE)
            workspace__release_agent(ws, a->id, NULL, "offline", now_ms, out, NULL);
    }
    free(all);
    workspace__prune_tick(ws, now_ms, out);
}

int64_t workspace_next_deadline(const struct workspace *ws)
{
    int64_t next = lease_table_next_expiry(&ws->leases);
    size_t it = 0;
    void *v;
    while (map_next(&ws->agents.by_id, &it, NULL, &v)) {
        const struct agent *a = v;
        if (a->status != AGENT_OFFLINE && !a->live_session && a->session_id &&
            a->detached_at + ws->grace_ms < next)
            next = a->detached_at + ws->grace_ms;
    }
    int64_t p = workspace__prune_next_deadline(ws);
    if (p < next)
        next = p;
    int64_t w = workspace__waiters_next_deadline(ws);
    return w < next ? w : next;
}

/* ---- snapshots ---- */

cJSON *workspace_snapshot(const struct workspace *ws)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", WORKSPACE_SNAPSHOT_VERSION);
    json_add_u64(o, "seq", ws->seq);

    size_t n;
    cJSON *arr = cJSON_AddArrayToObject(o, "agents");
    struct agent **agents = agent_table_sorted(&ws->agents, &n);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, agent_to_json(agents[i]));
    free(agents);

    arr = cJSON_AddArrayToObject(o, "leases");
    struct lease_vec v = {0};
    lease_table_all(&ws->leases, &v);
    lease_vec_sort(&v);
    for (size_t i = 0; i < v.len; i++)
        cJSON_AddItemToArray(arr, lease_to_json(v.items[i]));
    lease_vec_deinit(&v);

    arr = cJSON_AddArrayToObject(o, "tasks");
    struct task **tasks = task_table_sorted(&ws->tasks, &n);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, task_to_json(tasks[i], true));
    free(tasks);
    return o;
}

int workspace_restore(struct workspace *ws, const cJSON *snap, int64_t now_ms)
{
    struct agent_table agents;
    struct lease_table leases;
    struct task_table tasks;
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(snap, "seq");
    const cJSON *ag = cJSON_GetObjectItemCaseSensitive(snap, "agents");
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(snap, "leases");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(snap, "tasks");
    const cJSON *e;
    if (!cJSON_IsObject(snap) || json_get_i64(snap, "version", 0) != WORKSPACE_SNAPSHOT_VERSION)
        return -ERR_INVALID;
    if (!json_is_int_in(seq, 0, JSON_EXACT_INT_MAX) || !cJSON_IsArray(ag) || !cJSON_IsArray(ls) ||
        !cJSON_IsArray(ts))
        return -ERR_INVALID;
    agent_table_init(&agents);
    lease_table_init(&leases);
    task_table_init(&tasks);
    cJSON_ArrayForEach(e, ag)
    {
        if (agent_table_add_json(&agents, e))
            goto fail;
    }
    cJSON_ArrayForEach(e, ls)
    {
        if (lease_table_insert_json(&leases, e))
            goto fail;
    }
    cJSON_ArrayForEach(e, ts)
    {
        if (task_table_add_json(&tasks, e, 0))
            goto fail;
    }
    agent_table_deinit(&ws->agents);
    lease_table_deinit(&ws->leases);
    task_table_deinit(&ws->tasks);
    ws->agents = agents;
    ws->leases = leases;
    ws->tasks = tasks;
    ws->seq = (uint64_t)seq->valuedouble;
    workspace_sessions_reset(ws, now_ms);
    return 0;
fail:
    agent_table_deinit(&agents);
    lease_table_deinit(&leases);
    task_table_deinit(&tasks);
    return -ERR_INVALID;
}

/* ---- views ---- */

cJSON *workspace__agent_view(const struct agent *a)
{
    cJSON *o = agent_to_json(a);
    cJSON_AddBoolToObject(o, "connected", a->live_session != NULL);
    return o;
}

cJSON *workspace_status_json(const struct workspace *ws, int64_t now_ms)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "enabled");
    cJSON *active = cJSON_AddArrayToObject(o, "activeAgents");
    cJSON *locked = cJSON_AddArrayToObject(o, "lockedFiles");
    cJSON *tasks_active = cJSON_AddArrayToObject(o, "activeTasks");
    cJSON_AddNullToObject(o, "systemHealth");
    cJSON *details = cJSON_AddObjectToObject(o, "details");
    cJSON *d_agents = cJSON_AddArrayToObject(details, "agents");
    cJSON *d_locks = cJSON_AddArrayToObject(details, "locks");
    cJSON *d_tasks = cJSON_AddArrayToObject(details, "tasks");

    size_t n;
    struct agent **agents = agent_table_sorted(&ws->agents, &n);
    for (size_t i = 0; i < n; i++) {
        if (agents[i]->status != AGENT_OFFLINE)
            cJSON_AddItemToArray(active, cJSON_CreateString(agents[i]->id));
        cJSON_AddItemToArray(d_agents, workspace__agent_view(agents[i]));
    }
    free(agents);

    struct lease_vec v = {0};
    lease_table_all(&ws->leases, &v);
    lease_vec_sort(&v);
    const char *prev = NULL;
    for (size_t i = 0; i < v.len; i++) {
        const struct lease *l = v.items[i];
        if (l->expires_at <= now_ms)
            continue; /* due for expiry at the next tick */
        if (!prev || strcmp(prev, l->key->key) != 0)
            cJSON_AddItemToArray(locked, cJSON_CreateString(l->key->key));
        prev = l->key->key;
        cJSON_AddItemToArray(d_locks, lease_to_json(l));
    }
    lease_vec_deinit(&v);

    struct task **tasks = task_table_sorted(&ws->tasks, &n);
    for (size_t i = 0; i < n; i++) {
        if (tasks[i]->status == TASK_CLAIMED)
            cJSON_AddItemToArray(tasks_active, cJSON_CreateString(tasks[i]->id));
        cJSON_AddItemToArray(d_tasks, task_to_json(tasks[i], false));
    }
    free(tasks);
    return o;
}

int workspace_task_claimed_at(const struct workspace *ws, const char *task_id, int64_t *out)
{
    const struct task *t = task_table_get(&ws->tasks, task_id);
    if (!t || t->claimed_at == 0)
        return -ERR_NOT_FOUND;
    *out = t->claimed_at;
    return 0;
}

void workspace_stats_get(const struct workspace *ws, struct workspace_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->agents = agent_table_len(&ws->agents);
    size_t it = 0;
    void *v;
    while (map_next(&ws->agents.by_id, &it, NULL, &v)) {
        if (((const struct agent *)v)->status != AGENT_OFFLINE)
            out->agents_active++;
    }
    out->leases = lease_table_len(&ws->leases);
    it = 0;
    while (map_next(&ws->tasks.by_id, &it, NULL, &v)) {
        const struct task *t = v;
        out->tasks_open += t->status == TASK_OPEN;
        out->tasks_claimed += t->status == TASK_CLAIMED;
    }
    out->waiters = ws->nwaiters;
    out->lock_contended = ws->lock_contended;
    out->lock_expired = ws->lock_expired;
    out->lock_granted = ws->lock_granted;
    out->publish_reserved = ws->publish_reserved;
}

void workspace_waiter_done_vec_deinit(struct workspace_waiter_done_vec *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->len; i++) {
        cJSON_Delete(v->items[i].result);
        workspace_waiter_free(v->items[i].waiter);
    }
    free(v->items);
    v->items = NULL;
    v->len = v->cap = 0;
}
