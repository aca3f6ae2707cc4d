/* workspace_lifecycle — the end of things: cancel_task, reopen_task,
 * update_task, remove_agent, and the agents that leave on their own
 * (session-less agents going offline when their last lease ends, offline
 * agents pruned after the retention).
 *
 * Who may change a task (docs/tools.md §5): its creator, its claimer (for
 * reopen_task, the agent that claimed it last) or an admin. Anyone else
 * gets a domain refusal naming who may; a task in the wrong state gets a
 * refusal naming its state. Only an admin removes an agent (-ERR_DENIED
 * otherwise). As everywhere in the core, every argument is judged before
 * the first event, so a refused call changes nothing.
 *
 * Removing an agent ends its leases (file:unlocked "agent_removed"), gives
 * its claimed tasks back (task:released, reason "agent removed"), then
 * removes its record (agent:removed). Pruning is the same event with
 * reason "pruned", decided by workspace_tick from the durable lastSeen and
 * the store's clock, so every hub of a workspace decides alike. */
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/args.h"
#include "core/path.h"
#include "core/workspace_internal.h"

/* ---- helpers ---- */

bool workspace__agent_has_task(const struct workspace *ws, const char *agent_id)
{
    return task_table_claimed_by(&ws->tasks, agent_id) > 0;
}

void workspace__settle_sessionless(struct workspace *ws, const char *agent_id, int64_t now_ms,
                                   struct event_vec *out)
{
    const struct agent *a = agent_table_get(&ws->agents, agent_id);
    if (!a || a->status == AGENT_OFFLINE || a->session_id || a->live_session)
        return;
    if (lease_table_agent_leases(&ws->leases, a->id) || workspace__agent_has_task(ws, a->id))
        return;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "agentId", a->id);
    cJSON_AddStringToObject(d, "reason", "idle");
    workspace__emit(ws, out, EVENT_AGENT_LEFT, now_ms, d);
}

void workspace__remove_agent(struct workspace *ws, const char *agent_id, const char *reason,
                             const char *by, int64_t now_ms, struct event_vec *out, cJSON *keys,
                             cJSON *tasks)
{
    char *id = xstrdup(agent_id); /* the record goes with the last event */
    workspace__release_agent(ws, id, NULL, "agent_removed", now_ms, out, keys);
    size_t n = 0;
    struct task **all =
        workspace__agent_has_task(ws, id) ? task_table_sorted(&ws->tasks, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        const struct task *t = all[i];
        if (t->status != TASK_CLAIMED || strcmp(t->claimed_by, id) != 0)
            continue;
        if (tasks)
            cJSON_AddItemToArray(tasks, cJSON_CreateString(t->id));
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "taskId", t->id);
        cJSON_AddStringToObject(d, "agentId", id);
        cJSON_AddStringToObject(d, "reason", "agent removed");
        cJSON_AddStringToObject(d, "releasedBy", by ? by : "admin");
        workspace__emit(ws, out, EVENT_TASK_RELEASED, now_ms, d);
    }
    free(all);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "agentId", id);
    cJSON_AddStringToObject(d, "reason", reason);
    if (by)
        cJSON_AddStringToObject(d, "removedBy", by);
    workspace__emit(ws, out, EVENT_AGENT_REMOVED, now_ms, d);
    free(id);
}

/* May the caller (acting as actor, may be NULL) change t? Creator,
 * claimer (for reopen: last claimer), admin. */
static bool workspace_lifecycle_task_may_change(const struct task *t,
                                                const struct workspace_caller *caller,
                                                const char *actor)
{
    if (caller->admin)
        return true;
    if (!actor)
        return false;
    return (t->created_by && strcmp(t->created_by, actor) == 0) ||
           (t->claimed_by && strcmp(t->claimed_by, actor) == 0);
}

/* The refusal for a caller that may not change t ("cancel", "update", …). */
static cJSON *workspace_lifecycle_task_not_yours(const struct task *t, const char *verb)
{
    char *who = str_printf(
        "task '%s' was created by %s%s%s", t->id, t->created_by ? t->created_by : "an admin",
        t->claimed_by ? " and claimed by " : "", t->claimed_by ? t->claimed_by : "");
    cJSON *r = workspace__task_refusal(t, "%s: only its creator, its claimer or an admin may %s it",
                                       who, verb);
    free(who);
    return r;
}

/* The actor and task of a task change: the task exists, the agentId
 * argument (if any) is the caller's own or the caller is admin. */
static int workspace_lifecycle_task_change_args(struct workspace *ws,
                                                const struct workspace_caller *caller,
                                                const cJSON *args, struct task **t,
                                                const char **actor, char **errmsg)
{
    int rc = workspace__task_arg(ws, args, t, errmsg);
    if (!rc)
        rc = workspace__actor(ws, caller, args, false, actor, errmsg);
    return rc;
}

static cJSON *workspace_lifecycle_task_success(const struct task *t)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddTrueToObject(r, "success");
    cJSON_AddItemToObject(r, "task", task_to_json(t, false));
    return r;
}

/* ---- cancel_task, reopen_task ---- */

int workspace__op_cancel_task(struct workspace *ws, const struct workspace_caller *caller,
                              const cJSON *args, int64_t now_ms, struct event_vec *out,
                              cJSON **result, char **errmsg)
{
    struct task *t;
    const char *actor, *reason;
    int rc = args_str(args, "reason", false, WORKSPACE_REASON_MAX, &reason, errmsg);
    if (!rc)
        rc = workspace_lifecycle_task_change_args(ws, caller, args, &t, &actor, errmsg);
    if (rc)
        return rc;
    if (t->status != TASK_OPEN && t->status != TASK_CLAIMED) {
        *result = workspace__task_refusal(t,
                                          "task '%s' is %s: only open or claimed tasks can be "
                                          "cancelled",
                                          t->id, task_status_name(t->status));
        return 0;
    }
    if (!workspace_lifecycle_task_may_change(t, caller, actor)) {
        *result = workspace_lifecycle_task_not_yours(t, "cancel");
        return 0;
    }
    char *claimer = t->status == TASK_CLAIMED ? xstrdup(t->claimed_by) : NULL;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "taskId", t->id);
    if (claimer)
        cJSON_AddStringToObject(d, "agentId", claimer);
    else
        cJSON_AddNullToObject(d, "agentId");
    if (reason)
        cJSON_AddStringToObject(d, "reason", reason);
    else
        cJSON_AddNullToObject(d, "reason");
    cJSON_AddStringToObject(d, "cancelledBy", actor ? actor : "admin");
    workspace__emit(ws, out, EVENT_TASK_CANCELLED, now_ms, d);
    cJSON *keys = cJSON_CreateArray();
    if (claimer) {
        workspace__release_agent(ws, claimer, t->id, "task_cancelled", now_ms, out, keys);
        workspace__settle_sessionless(ws, claimer, now_ms, out);
    }
    free(claimer);
    *result = workspace_lifecycle_task_success(t);
    cJSON_AddItemToObject(*result, "unlockedFiles", keys);
    return 0;
}

int workspace__op_reopen_task(struct workspace *ws, const struct workspace_caller *caller,
                              const cJSON *args, int64_t now_ms, struct event_vec *out,
                              cJSON **result, char **errmsg)
{
    struct task *t;
    const char *actor;
    int rc = workspace_lifecycle_task_change_args(ws, caller, args, &t, &actor, errmsg);
    if (rc)
        return rc;
    if (t->status != TASK_FAILED && t->status != TASK_CANCELLED) {
        *result = workspace__task_refusal(t,
                                          "task '%s' is %s: only failed or cancelled tasks can "
                                          "be reopened",
                                          t->id, task_status_name(t->status));
        return 0;
    }
    if (!workspace_lifecycle_task_may_change(t, caller, actor)) {
        *result = workspace_lifecycle_task_not_yours(t, "reopen");
        return 0;
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "taskId", t->id);
    cJSON_AddStringToObject(d, "previous", task_status_name(t->status));
    cJSON_AddStringToObject(d, "reopenedBy", actor ? actor : "admin");
    workspace__emit(ws, out, EVENT_TASK_REOPENED, now_ms, d);
    *result = workspace_lifecycle_task_success(t);
    return 0;
}

/* ---- update_task ---- */

int workspace__op_update_task(struct workspace *ws, const struct workspace_caller *caller,
                              const cJSON *args, int64_t now_ms, struct event_vec *out,
                              cJSON **result, char **errmsg)
{
    struct task *t;
    const char *actor;
    struct workspace__task_fields f;
    int rc = workspace__task_fields_read(ws, args, false, &f, errmsg);
    if (!rc && !f.title && !f.description && !f.files && !f.patterns && !f.capabilities &&
        !f.has_priority) {
        *errmsg = xstrdup("arguments: give at least one of title, description, priority, files, "
                          "patterns, capabilities");
        rc = -ERR_INVALID;
    }
    if (!rc)
        rc = workspace_lifecycle_task_change_args(ws, caller, args, &t, &actor, errmsg);
    if (rc)
        goto done;
    if (t->status != TASK_OPEN) {
        *result = workspace__task_refusal(t, "task '%s' is %s: only open tasks can be updated",
                                          t->id, task_status_name(t->status));
        goto done;
    }
    if (!workspace_lifecycle_task_may_change(t, caller, actor)) {
        *result = workspace_lifecycle_task_not_yours(t, "update");
        goto done;
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "taskId", t->id);
    cJSON_AddStringToObject(d, "updatedBy", actor ? actor : "admin");
    cJSON *ch = cJSON_AddObjectToObject(d, "changes");
    if (f.title)
        cJSON_AddStringToObject(ch, "title", f.title);
    if (f.description)
        cJSON_AddStringToObject(ch, "description", f.description);
    if (f.has_priority)
        cJSON_AddNumberToObject(ch, "priority", (double)f.priority);
    if (f.files) {
        cJSON_AddItemToObject(ch, "files", f.files);
        f.files = NULL;
    }
    if (f.patterns) {
        cJSON_AddItemToObject(ch, "patterns", f.patterns);
        f.patterns = NULL;
    }
    if (f.capabilities)
        cJSON_AddItemToObject(ch, "capabilities", cJSON_Duplicate(f.capabilities, 1));
    workspace__emit(ws, out, EVENT_TASK_UPDATED, now_ms, d);
    *result = workspace_lifecycle_task_success(t);
done:
    workspace__task_fields_deinit(&f);
    return rc;
}

/* ---- remove_agent ---- */

int workspace__op_remove_agent(struct workspace *ws, const struct workspace_caller *caller,
                               const cJSON *args, int64_t now_ms, struct event_vec *out,
                               cJSON **result, char **errmsg)
{
    const char *id;
    int rc = args_str(args, "agentId", true, AGENT_ID_MAX, &id, errmsg);
    if (rc)
        return rc;
    if (!agent_id_valid(id)) {
        *errmsg = xstrdup("argument 'agentId': must be 1-128 characters of [A-Za-z0-9._:@-]");
        return -ERR_INVALID;
    }
    if (!caller->admin) {
        *errmsg = xstrdup("remove_agent: only an admin (the workspace owner) may remove an agent");
        return -ERR_DENIED;
    }
    if (!agent_table_get(&ws->agents, id)) {
        *errmsg = str_printf("argument 'agentId': no agent '%s'", id);
        return -ERR_NOT_FOUND;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddTrueToObject(r, "success");
    cJSON_AddStringToObject(r, "agentId", id);
    cJSON *keys = cJSON_AddArrayToObject(r, "unlockedFiles");
    cJSON *tasks = cJSON_AddArrayToObject(r, "releasedTasks");
    workspace__remove_agent(ws, id, "removed", caller->agent_id ? caller->agent_id : "admin",
                            now_ms, out, keys, tasks);
    *result = r;
    return 0;
}

/* ---- pruning ---- */

/* Is a pruning candidate: offline, not live, neither lease nor claimed
 * task (each one lookup). */
static bool workspace_lifecycle_prune_candidate(const struct workspace *ws, const struct agent *a)
{
    return a->status == AGENT_OFFLINE && !a->live_session &&
           !lease_table_agent_leases(&ws->leases, a->id) && !workspace__agent_has_task(ws, a->id);
}

void workspace__prune_tick(struct workspace *ws, int64_t now_ms, struct event_vec *out)
{
    size_t n;
    struct agent **all = agent_table_sorted(&ws->agents, &n);
    char **ids = xcalloc(n ? n : 1, sizeof(*ids));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (workspace_lifecycle_prune_candidate(ws, all[i]) &&
            all[i]->last_seen + ws->retention_ms <= now_ms)
            ids[m++] = xstrdup(all[i]->id);
    }
    free(all);
    for (size_t i = 0; i < m; i++) {
        workspace__remove_agent(ws, ids[i], "pruned", NULL, now_ms, out, NULL, NULL);
        free(ids[i]);
    }
    free(ids);
}

int64_t workspace__prune_next_deadline(const struct workspace *ws)
{
    int64_t next = INT64_MAX;
    size_t it = 0;
    void *v;
    while (map_next(&ws->agents.by_id, &it, NULL, &v)) {
        const struct agent *a = v;
        if (workspace_lifecycle_prune_candidate(ws, a) && a->last_seen + ws->retention_ms < next)
            next = a->last_seen + ws->retention_ms;
    }
    return next;
}
