/* workspace_agents — register_agent, set_agent_status, list_agents,
 * publish_event and get_coordination_status.
 *
 * Identity rule (docs/architecture.md, "Identity"): an agent id belongs
 * to at most one live session. Registering an id that another live
 * session holds yields the first free `<id>-N` (N = 2, 3, …) — free
 * meaning unknown, or known but not live elsewhere, in which case that
 * agent is resumed. Registering an
 * id whose agent is offline or detached resumes it with its leases and
 * tasks. The session attachment itself is ephemeral and made after the
 * event is folded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/args.h"
#include "core/workspace_internal.h"

static bool workspace_agents_live_elsewhere(const struct agent *a, const char *session)
{
    return a && a->live_session && (!session || strcmp(a->live_session, session) != 0);
}

/* The first `<base>-N` that no other live session holds (caller frees). */
static char *workspace_agents_unique_id(const struct workspace *ws, const char *base,
                                        const char *session)
{
    for (unsigned n = 2;; n++) {
        char suffix[16];
        int sl = snprintf(suffix, sizeof(suffix), "-%u", n);
        size_t bl = strlen(base);
        if (bl + (size_t)sl > AGENT_ID_MAX)
            bl = AGENT_ID_MAX - (size_t)sl;
        char *cand = str_printf("%.*s%s", (int)bl, base, suffix);
        if (!workspace_agents_live_elsewhere(agent_table_get(&ws->agents, cand), session))
            return cand;
        free(cand);
    }
}

static cJSON *workspace_agents_dup(const cJSON *v)
{
    cJSON *d = cJSON_Duplicate(v, 1);
    if (!d)
        abort();
    return d;
}

/* {file, pattern?:true}, the way lock_file answers name a key. */
static cJSON *workspace_agents_key_json(const char *key, bool pattern)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", key);
    if (pattern)
        cJSON_AddTrueToObject(o, "pattern");
    return o;
}

/* A resumed agent takes back the leases of the tasks it still claims
 * that nobody else holds now (docs/tools.md, register_agent: resuming
 * brings back leases and tasks). Leases still held are left as they are; each key that is free
 * is granted anew — a new token, a normal file:locked — and each key
 * another agent took meanwhile is reported with its holders. The keys are
 * the claim's, in claim_task's order: the task's files, the extra files
 * the claim gave, the task's patterns. *regranted and *taken are set
 * (new arrays) when the agent claims at least one task. */
static void workspace_agents_regrant_task_leases(struct workspace *ws, const char *agent,
                                                 int64_t now_ms, struct event_vec *out,
                                                 cJSON **regranted, cJSON **taken)
{
    if (!workspace__agent_has_task(ws, agent))
        return;
    size_t n;
    struct task **all = task_table_sorted(&ws->tasks, &n);
    for (size_t i = 0; i < n; i++) {
        const struct task *t = all[i];
        if (t->status != TASK_CLAIMED || strcmp(t->claimed_by, agent) != 0)
            continue;
        if (!*regranted) {
            *regranted = cJSON_CreateArray();
            *taken = cJSON_CreateArray();
        }
        char *reason = str_printf("task %s", t->id);
        const cJSON *lists[3] = {t->files, t->claim_files, t->patterns};
        for (int p = 0; p < 3; p++) {
            const cJSON *e;
            bool pat = p == 2;
            cJSON_ArrayForEach(e, lists[p])
            {
                struct workspace_lock_eval ev;
                workspace__lock_eval(ws, agent, e->valuestring, pat, LEASE_EXCLUSIVE, now_ms, &ev);
                if (ev.own) {
                    /* still held: nothing to take back */
                } else if (ev.conflicts.len) {
                    cJSON *c = workspace_agents_key_json(e->valuestring, pat);
                    cJSON_AddStringToObject(c, "taskId", t->id);
                    const struct lease *h = ev.conflicts.items[0];
                    cJSON_AddStringToObject(c, "lockedBy", h->agent_id);
                    cJSON *holders = cJSON_AddArrayToObject(c, "conflicts");
                    for (size_t k = 0; k < ev.conflicts.len; k++)
                        cJSON_AddItemToArray(
                            holders,
                            workspace__conflict_json(ev.conflicts.items[k], e->valuestring, pat));
                    cJSON_AddItemToArray(*taken, c);
                } else {
                    uint64_t tok = 0;
                    cJSON *g = workspace__lock_grant(ws, agent, e->valuestring, pat,
                                                     LEASE_EXCLUSIVE, reason, ws->default_ttl_ms,
                                                     t->id, now_ms, &ev, out, &tok);
                    cJSON *item = workspace_agents_key_json(e->valuestring, pat);
                    cJSON_AddStringToObject(item, "taskId", t->id);
                    json_add_u64(item, "token", tok);
                    cJSON_AddStringToObject(item, "expiresAt", json_get_str(g, "expiresAt", ""));
                    cJSON_AddItemToArray(*regranted, item);
                    cJSON_Delete(g);
                }
                workspace__lock_eval_deinit(&ev);
            }
        }
        free(reason);
    }
    free(all);
}

/* register_agent's arguments, read and checked. */
struct ws_register_args {
    const char *id, *status_arg; /* id: the argument, else the caller's agent */
    const cJSON *caps, *servers, *meta;
    enum agent_status status;
};

static int workspace_agents_register_args_read(const struct workspace_caller *caller,
                                               const cJSON *args, struct ws_register_args *a,
                                               char **errmsg)
{
    a->status = AGENT_ACTIVE;
    int rc = args_str(args, "agentId", false, AGENT_ID_MAX, &a->id, errmsg);
    if (!rc)
        rc = args_str_array(args, "capabilities", WORKSPACE_CAPS_MAX, WORKSPACE_CAP_LEN, &a->caps,
                            errmsg);
    if (!rc)
        rc = args_str_array(args, "mcpServers", WORKSPACE_CAPS_MAX, WORKSPACE_CAP_LEN, &a->servers,
                            errmsg);
    if (!rc)
        rc = args_str(args, "status", false, WORKSPACE_ENUM_ARG_MAX, &a->status_arg, errmsg);
    if (!rc)
        rc = args_object(args, "metadata", false, &a->meta, errmsg);
    if (rc)
        return rc;
    if (!a->id)
        a->id = caller->agent_id;
    if (!a->id) {
        *errmsg = xstrdup("argument 'agentId': required (the hub names agents that give none)");
        return -ERR_INVALID;
    }
    if (!agent_id_valid(a->id)) {
        *errmsg = xstrdup("argument 'agentId': must be 1-128 characters of [A-Za-z0-9._:@-]");
        return -ERR_INVALID;
    }
    if (a->status_arg &&
        (agent_status_parse(a->status_arg, &a->status) || a->status == AGENT_OFFLINE)) {
        *errmsg = xstrdup("argument 'status': must be one of active, idle, busy");
        return -ERR_INVALID;
    }
    if (a->meta) {
        char *text = json_print(a->meta);
        size_t n = strlen(text);
        free(text);
        if (n > WORKSPACE_TEXT_MAX) {
            *errmsg = str_printf("argument 'metadata': larger than %d bytes", WORKSPACE_TEXT_MAX);
            return -ERR_INVALID;
        }
    }
    return 0;
}

/* agent:registered data for final_id: what the call gives, else what the
 * known record a has. */
static cJSON *workspace_agents_register_data(const struct ws_register_args *in,
                                             const struct agent *a, const char *final_id,
                                             const char *session, bool resumed, const char *renamed)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "agentId", final_id);
    if (session)
        cJSON_AddStringToObject(d, "sessionId", session);
    else
        cJSON_AddNullToObject(d, "sessionId");
    cJSON_AddItemToObject(d, "capabilities",
                          in->caps
                              ? workspace_agents_dup(in->caps)
                              : (a ? workspace_agents_dup(a->capabilities) : cJSON_CreateArray()));
    cJSON_AddItemToObject(d, "mcpServers",
                          in->servers
                              ? workspace_agents_dup(in->servers)
                              : (a ? workspace_agents_dup(a->mcp_servers) : cJSON_CreateArray()));
    cJSON_AddStringToObject(d, "status", agent_status_name(in->status));
    cJSON_AddItemToObject(d, "metadata",
                          in->meta
                              ? workspace_agents_dup(in->meta)
                              : (a ? workspace_agents_dup(a->metadata) : cJSON_CreateObject()));
    cJSON_AddBoolToObject(d, "resumed", resumed);
    if (renamed)
        cJSON_AddStringToObject(d, "renamedFrom", renamed);
    return d;
}

int workspace__op_register_agent(struct workspace *ws, const struct workspace_caller *caller,
                                 const cJSON *args, int64_t now_ms, struct event_vec *out,
                                 cJSON **result, char **errmsg)
{
    struct ws_register_args in = {0};
    int rc = workspace_agents_register_args_read(caller, args, &in, errmsg);
    if (rc)
        return rc;

    const char *session = caller->session_id;
    char *renamed = NULL, *final_id = NULL;
    struct agent *a = agent_table_get(&ws->agents, in.id);
    if (workspace_agents_live_elsewhere(a, session)) {
        final_id = workspace_agents_unique_id(ws, in.id, session);
        renamed = xstrdup(in.id);
        a = agent_table_get(&ws->agents, final_id);
    } else {
        final_id = xstrdup(in.id);
    }
    bool resumed = a && !(a->live_session && session && strcmp(a->live_session, session) == 0);
    if (!in.status_arg && a && a->status != AGENT_OFFLINE)
        in.status = a->status;
    workspace__emit(ws, out, EVENT_AGENT_REGISTERED, now_ms,
                    workspace_agents_register_data(&in, a, final_id, session, resumed, renamed));

    if (session)
        workspace_session_attach(ws, final_id, session, now_ms);

    cJSON *regranted = NULL, *taken = NULL;
    if (resumed)
        workspace_agents_regrant_task_leases(ws, final_id, now_ms, out, &regranted, &taken);

    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "agentId", final_id);
    if (session)
        cJSON_AddStringToObject(r, "sessionId", session);
    else
        cJSON_AddNullToObject(r, "sessionId");
    cJSON_AddStringToObject(r, "status", agent_status_name(in.status));
    cJSON_AddBoolToObject(r, "resumed", resumed);
    if (renamed)
        cJSON_AddStringToObject(r, "renamedFrom", renamed);
    if (regranted) {
        cJSON_AddItemToObject(r, "regranted", regranted);
        cJSON_AddItemToObject(r, "taken", taken);
    }
    *result = r;
    free(renamed);
    free(final_id);
    return 0;
}

int workspace__op_set_agent_status(struct workspace *ws, const struct workspace_caller *caller,
                                   const cJSON *args, int64_t now_ms, struct event_vec *out,
                                   cJSON **result, char **errmsg)
{
    const char *agent_id, *status_arg, *note;
    enum agent_status status;
    int rc = args_str(args, "status", true, WORKSPACE_ENUM_ARG_MAX, &status_arg, errmsg);
    if (!rc)
        rc = args_str(args, "note", false, WORKSPACE_REASON_MAX, &note, errmsg);
    if (!rc && (agent_status_parse(status_arg, &status) || status == AGENT_OFFLINE)) {
        *errmsg = xstrdup("argument 'status': must be one of active, idle, busy");
        rc = -ERR_INVALID;
    }
    if (!rc)
        rc = workspace__actor(ws, caller, args, true, &agent_id, errmsg);
    if (rc)
        return rc;
    struct agent *a = agent_table_get(&ws->agents, agent_id);
    const char *previous = agent_status_name(a->status);

    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "agentId", agent_id);
    cJSON_AddStringToObject(d, "status", agent_status_name(status));
    cJSON_AddStringToObject(d, "previous", previous);
    if (note)
        cJSON_AddStringToObject(d, "note", note);
    else
        cJSON_AddNullToObject(d, "note");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "agentId", agent_id);
    cJSON_AddStringToObject(r, "status", agent_status_name(status));
    cJSON_AddStringToObject(r, "previous", previous);
    workspace__emit(ws, out, EVENT_AGENT_STATUS_CHANGED, now_ms, d);
    *result = r;
    return 0;
}

int workspace__op_list_agents(struct workspace *ws, const struct workspace_caller *caller,
                              const cJSON *args, int64_t now_ms, struct event_vec *out,
                              cJSON **result, char **errmsg)
{
    (void)caller;
    (void)now_ms;
    (void)out;
    const char *status_arg;
    enum agent_status filter = AGENT_ACTIVE;
    int rc = args_str(args, "status", false, WORKSPACE_ENUM_ARG_MAX, &status_arg, errmsg);
    if (rc)
        return rc;
    if (status_arg && agent_status_parse(status_arg, &filter)) {
        *errmsg = xstrdup("argument 'status': must be one of active, idle, busy, offline");
        return -ERR_INVALID;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(r, "agents");
    size_t n;
    struct agent **all = agent_table_sorted(&ws->agents, &n);
    for (size_t i = 0; i < n; i++) {
        if (!status_arg || all[i]->status == filter)
            cJSON_AddItemToArray(arr, workspace__agent_view(all[i]));
    }
    free(all);
    *result = r;
    return 0;
}

int workspace_publish_check(const cJSON *args, char **errmsg)
{
    const char *type;
    const cJSON *data;
    int rc = args_str(args, "type", true, EVENT_TYPE_MAX, &type, errmsg);
    if (!rc)
        rc = args_object(args, "data", true, &data, errmsg);
    if (rc)
        return rc;
    if (!event_type_valid(type)) {
        *errmsg = str_printf("argument 'type': '%s' is not of the form <ns>:<name> "
                             "with [a-z0-9_.-], at most 64 characters",
                             type);
        return -ERR_INVALID;
    }
    if (event_type_reserved(type)) {
        *errmsg = str_printf("argument 'type': type '%s' is reserved for the hub", type);
        return -ERR_INVALID;
    }
    char *text = json_print(data);
    size_t n = strlen(text);
    free(text);
    if (n > WORKSPACE_TEXT_MAX) {
        *errmsg = str_printf("argument 'data': larger than %d bytes", WORKSPACE_TEXT_MAX);
        return -ERR_INVALID;
    }
    return 0;
}

int workspace__op_publish_event(struct workspace *ws, const struct workspace_caller *caller,
                                const cJSON *args, int64_t now_ms, struct event_vec *out,
                                cJSON **result, char **errmsg)
{
    int rc = workspace_publish_check(args, errmsg);
    if (rc) {
        /* Counted for /metrics: an outsider writing into the hub's own
         * namespaces (docs/events.md, "Reserved namespaces"). */
        const char *type = json_get_str(args, "type", NULL);
        if (type && event_type_reserved(type))
            ws->publish_reserved++;
        return rc;
    }
    const char *type = cJSON_GetObjectItemCaseSensitive(args, "type")->valuestring;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(args, "data");
    workspace__emit(ws, out, type, now_ms, workspace_agents_dup(data));
    struct event *ev = &out->items[out->len - 1];
    if (caller->agent_id)
        ev->source_id = xstrdup(caller->agent_id);
    if (caller->signature)
        ev->signature = xstrdup(caller->signature);
    char id[STR_INT_LEN];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)ws->seq);
    *result = cJSON_CreateObject();
    cJSON_AddStringToObject(*result, "id", id);
    return 0;
}

int workspace__op_status(struct workspace *ws, const struct workspace_caller *caller,
                         const cJSON *args, int64_t now_ms, struct event_vec *out, cJSON **result,
                         char **errmsg)
{
    (void)caller;
    (void)args;
    (void)out;
    (void)errmsg;
    *result = workspace_status_json(ws, now_ms);
    return 0;
}
