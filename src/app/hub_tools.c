/* hub_tools — executing tool calls and reading resources.
 *
 * Coordination tools are core ops: they run through workspace_exec() with
 * the session's identity, their events join the turn's group commit, and
 * the answer waits for it (hub_reply). Tools that need an agent register
 * one implicitly on first use (docs/tools.md, agents and identity: `<clientInfo.name>-<6 hex>`
 * unless the bridge was given --agent / COORDHUB_AGENT); an admin call
 * (CLI, HTTP) acting for an agentId nobody registered registers that
 * agent in the same command (metadata {ide: the client's name}). The hub-level
 * tools — wait_for_events, list_servers, get_unified_health,
 * get_coordination_status — are answered here from the bus, the store and
 * the hub's own health.
 *
 * wait_for_events long-polls: a call with nothing to return is parked in
 * the waits part (hub_waits.c) with a cursor and a deadline, as a queued
 * lock_file is; every commit re-examines parked calls. */
#define _GNU_SOURCE
#include "app/hub_tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "app/hub_commit.h"
#include "app/hub_keys.h"
#include "app/hub_metrics.h"
#include "app/hub_outage.h"
#include "app/hub_store.h"
#include "app/options.h"
#include "app/roots.h"
#include "auth/keys.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "bus/bus.h"
#include "rpc/mcp.h"
#include "rpc/registry.h"
#include "rpc/tools.h"
#include "store/store.h"

#define HUB_WAIT_DEFAULT_MS 25000
#define HUB_WAIT_MAX_MS 60000
#define HUB_WAIT_DEFAULT_LIMIT 100
#define HUB_RECENT_RESOURCE 100

static cJSON *hub_error_result(const char *msg)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "success", 0);
    cJSON_AddStringToObject(r, "error", msg);
    return r;
}

/* The session's client: its clientInfo.name ("coordhub-cli" for the
 * CLI); for a kind without an MCP session what the kind calls it ("http"
 * for the HTTP face's sessions). */
static const char *hub_client_name(struct hub_session *s)
{
    if (!s->mcp)
        return s->kind->client ? s->kind->client : "agent";
    const cJSON *init = mcp_session_init_params(s->mcp);
    return json_get_str(cJSON_GetObjectItemCaseSensitive(init, "clientInfo"), "name", "agent");
}

/* `<clientInfo.name>-<6 hex>` with the name reduced to agent-id chars. */
static char *hub_agent_name(struct hub_session *s)
{
    const cJSON *init = s->mcp ? mcp_session_init_params(s->mcp) : NULL; /* NULL: HTTP */
    const char *cname =
        json_get_str(cJSON_GetObjectItemCaseSensitive(init, "clientInfo"), "name", "agent");
    char base[100];
    size_t n = 0;
    for (const char *p = cname; *p && n < sizeof(base) - 1; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
        base[n++] = ok ? c : '-';
    }
    if (n == 0)
        memcpy(base, "agent", (n = 5));
    base[n] = '\0';
    unsigned char rnd[3];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        uint64_t x = (uint64_t)clock_mono_ns() ^ s->id;
        memcpy(rnd, &x, sizeof(rnd));
    }
    char *id = xmalloc(n + 8);
    snprintf(id, n + 8, "%s-%02x%02x%02x", base, rnd[0], rnd[1], rnd[2]);
    return id;
}

/* Who call's session is for the core, for a call with args: a session's
 * agent, or for the HTTP session of keys below admin the agentId the call
 * names. */
static void hub_caller(const struct tool_call *call, const cJSON *args, struct workspace_caller *c)
{
    const struct hub_session *s = call->session;
    c->agent_id = s->identity == HUB_AS_AGENT ? s->agent_id : NULL;
    if (s->identity == HUB_AS_NAMED) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(args, "agentId");
        c->agent_id = cJSON_IsString(id) ? id->valuestring : NULL;
    }
    c->session_id = s->identity == HUB_AS_AGENT ? s->sid : NULL;
    c->admin = s->admin;
    c->signature = call->signature;
}

/* Register (or resume) the session's agent. 0 or the exec error. */
static int hub_register(struct tool_call *call, cJSON *args, cJSON **result, char **errmsg)
{
    struct hub *h = call->hub;
    struct hub_session *s = call->session;
    if (!cJSON_GetObjectItemCaseSensitive(args, "agentId")) {
        /* A session keeps its agent: register_agent {} again updates it.
         * A call evaluated again after a lost append asks for the name it
         * was given the first time (hub_commit.c). */
        char *id = s->agent_id             ? xstrdup(s->agent_id)
                   : s->agent_hint         ? xstrdup(s->agent_hint)
                   : call->redo_agent_name ? xstrdup(call->redo_agent_name)
                                           : hub_agent_name(s);
        cJSON_AddStringToObject(args, "agentId", id);
        free(id);
    }
    struct workspace_caller c;
    hub_caller(call, args, &c);
    int rc =
        workspace_exec(h->ws, &c, "register_agent", args, hub_now(h), &h->pending, result, errmsg);
    if (rc == 0 && s->identity == HUB_AS_AGENT) {
        const char *id = json_get_str(*result, "agentId", NULL);
        if (id && (!s->agent_id || strcmp(id, s->agent_id) != 0)) {
            free(s->agent_id);
            s->agent_id = xstrdup(id);
            hub_session_announce(s); /* the bridge re-attaches with it */
        }
    }
    return rc;
}

static void hub_exec_core(struct tool_call *call, const struct tool_def *td, const cJSON *args)
{
    struct hub *h = call->hub;
    struct hub_session *s = call->session;
    const char *name = td->name;
    cJSON *a = args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject();
    cJSON *result = NULL;
    char *errmsg = NULL;
    int rc;
    if (td == h->register_def) {
        rc = hub_register(call, a, &result, &errmsg);
        goto done;
    }
    /* Relative paths of a session with roots become workspace keys here,
     * before the core sees them (docs/tools.md "How paths resolve"). */
    if (td->paths && (rc = roots_rewrite_args(s->roots, td->paths, a, &errmsg)) != 0)
        goto done;
    bool acts_for_other = cJSON_GetObjectItemCaseSensitive(a, "agentId") != NULL;
    struct workspace_caller c;
    hub_caller(call, a, &c);
    if (acts_for_other && s->identity == HUB_AS_AGENT) {
        const char *other = json_get_str(a, "agentId", "");
        if (!s->agent_id || strcmp(other, s->agent_id) != 0)
            c.session_id = NULL; /* acting for another agent attaches nothing */
    }
    /* The core checks every argument before it asks for an agent, so bad
     * input is refused here without registering anyone (it changes
     * nothing). Only a call that is valid but lacks an agent registers one
     * implicitly and runs again: the session's own agent, or, for an admin
     * (CLI, HTTP) acting for an agentId the workspace does not know, or an
     * HTTP key acting as one, that agent. Both events join the same group commit, agent:registered
     * first; once registered, the call cannot fail on its arguments.
     * While a batch is in flight a read-only call is answered at once from
     * the committed state (app/hub_commit.h). */
    struct workspace *view = td->read_only && !td->needs_agent ? hub_commit_read_view(h, s) : NULL;
    call->committed_read = view != NULL;
    rc =
        workspace_exec(view ? view : h->ws, &c, name, a, hub_now(h), &h->pending, &result, &errmsg);
    bool own = s->identity == HUB_AS_AGENT && !s->agent_id && !acts_for_other;
    bool named =
        s->identity != HUB_AS_AGENT && (s->admin || s->identity == HUB_AS_NAMED) && acts_for_other;
    if (rc == -ERR_STATE && td->needs_agent && (own || named) && h->store_stale) {
        /* Registering the agent is a write the store cannot record. */
        free(errmsg);
        char what[160];
        snprintf(what, sizeof(what), "%s (it needs an agent, and registering one)", name);
        errmsg = hub_stale_refusal(h, what);
        rc = -ERR_UNAVAILABLE;
    } else if (rc == -ERR_STATE && td->needs_agent && (own || named)) {
        free(errmsg);
        errmsg = NULL;
        cJSON *reg = cJSON_CreateObject();
        if (named) {
            const char *id = json_get_str(a, "agentId", "");
            cJSON_AddStringToObject(reg, "agentId", id);
            /* A known agent (a session-less one gone offline, resumed
             * here) keeps its metadata. */
            if (!workspace_agent_known(h->ws, id)) {
                cJSON *meta = cJSON_AddObjectToObject(reg, "metadata");
                cJSON_AddStringToObject(meta, "ide", hub_client_name(s));
            }
        }
        cJSON *reg_result = NULL;
        rc = hub_register(call, reg, &reg_result, &errmsg);
        cJSON_Delete(reg);
        cJSON_Delete(reg_result);
        if (rc)
            goto done;
        hub_caller(call, a, &c);
        rc = workspace_exec(h->ws, &c, name, a, hub_now(h), &h->pending, &result, &errmsg);
    }
    if (rc == 0 && td == h->status_def) {
        cJSON_DeleteItemFromObjectCaseSensitive(result, "systemHealth");
        cJSON_AddItemToObject(result, "systemHealth", hub_health_json(h));
    }
    if (rc == 0)
        hub_stale_mark(h, result); /* answered from the replica while the store is away */
    if (rc == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "queued"))) {
        uint64_t waiter_id = (uint64_t)json_get_i64(result, "waiterId", 0);
        hub_waiter_add(&h->waits, waiter_id, s->id, call->call_id, call->clock);
        if (call->redo)
            call->redo->queued = waiter_id;
        if (s->mcp) {
            /* A request with a progressToken learns at once that it waits. */
            const char *what = json_get_str(a, "file", NULL);
            char msg[320];
            snprintf(msg, sizeof(msg), "queued: %s %.200s is held; waiting up to %lld ms",
                     what ? "file" : "pattern", what ? what : json_get_str(a, "pattern", ""),
                     (long long)json_get_i64(a, "waitMs", 0));
            mcp_session_progress(s->mcp, call->call_id, 0, 0, msg);
        }
        cJSON_Delete(result);
        cJSON_Delete(a);
        hub_reschedule_timers(h);
        return;
    }
done:
    cJSON_Delete(a);
    if (rc) {
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s", errmsg ? errmsg : coordhub_strerror(rc));
        cJSON_Delete(result);
        result = hub_error_result(buf);
        /* For hosts that map errors to statuses (HTTP); MCP sends only
         * the message of an error result. */
        cJSON_AddStringToObject(result, "code", err_name(rc));
        free(errmsg);
        hub_reply(call, result, true);
    } else {
        hub_reply(call, result, false);
    }
    if (h->pending.len)
        hub_schedule_commit(h);
}

/* ---- wait_for_events ---------------------------------------------------- */

static bool hub_parse_seq(const cJSON *v, uint64_t *out)
{
    if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
        *out = (uint64_t)v->valuedouble;
        return true;
    }
    if (cJSON_IsString(v)) {
        char *end;
        unsigned long long x = strtoull(v->valuestring, &end, 10);
        if (end != v->valuestring && *end == '\0' && v->valuestring[0] != '-') {
            *out = x;
            return true;
        }
    }
    return false;
}

static void hub_wait_for_events(struct tool_call *call, const cJSON *args)
{
    struct hub *h = call->hub;
    struct hub_session *s = call->session;
    uint64_t cursor = h->committed_seq;
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(args, "since");
    if (since && !cJSON_IsNull(since) && !hub_parse_seq(since, &cursor)) {
        hub_reply(call,
                  hub_error_result("argument 'since': must be an event id (a non-negative "
                                   "integer, or its decimal string)"),
                  true);
        return;
    }
    int64_t timeout = json_get_i64(args, "timeoutMs", HUB_WAIT_DEFAULT_MS);
    if (timeout < 0)
        timeout = 0;
    if (timeout > HUB_WAIT_MAX_MS)
        timeout = HUB_WAIT_MAX_MS;
    int64_t limit = json_get_i64(args, "limit", HUB_WAIT_DEFAULT_LIMIT);
    if (limit < 1)
        limit = 1;
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(args, "types");
    if (!cJSON_IsArray(types) || cJSON_GetArraySize(types) == 0)
        types = NULL;
    if (cursor > h->committed_seq)
        cursor = h->committed_seq;
    cJSON *arr = cJSON_CreateArray();
    const struct events_filter *allow = s->key ? &s->key->subscribe : NULL;
    size_t n = hub_waits_collect(&h->waits, &cursor, types, allow, (size_t)limit, arr);
    if (n > 0 || timeout == 0) {
        hub_reply(call, hub_waits_result(arr, cursor), false);
        return;
    }
    cJSON_Delete(arr);
    const struct hub_wait w = {
        .session = s->id,
        .call_id = call->call_id,
        .cursor = cursor,
        .types = (cJSON *)types, /* copied by the part */
        .allow = allow,
        .limit = (size_t)limit,
        .deadline_ms = clock_mono_ms() + timeout,
        .clock = call->clock,
    };
    hub_waits_park(&h->waits, &w);
    if (s->mcp) {
        char msg[96];
        snprintf(msg, sizeof(msg), "waiting up to %lld ms for events after %llu",
                 (long long)timeout, (unsigned long long)cursor);
        mcp_session_progress(s->mcp, call->call_id, 0, 0, msg);
    }
    hub_reschedule_timers(h);
}

/* ---- providers and dispatch ----------------------------------------------- */

/* The core's tools (struct tool_def.core_op): evaluated by the workspace. */
static const struct tool_def *const *hub_core_list(void *self, size_t *n)
{
    struct hub *h = self;
    *n = h->ncore_defs;
    return h->core_defs;
}

static void hub_core_call(void *self, struct tool_call *call, const struct tool_def *def,
                          const cJSON *args)
{
    (void)self;
    hub_exec_core(call, def, args);
}

/* A queued lock_file leaves the core's queue (and the batch's record). */
static bool hub_core_cancel(void *self, uint64_t session, uint64_t call_id)
{
    struct hub *h = self;
    if (!hub_waiter_cancel(&h->waits, session, call_id))
        return false;
    hub_redo_cancel(h, session, call_id);
    return true;
}

static const struct tool_provider_ops hub_core_provider = {
    .name = "core",
    .list = hub_core_list,
    .call = hub_core_call,
    .cancel = hub_core_cancel,
};

/* The hub's own tools: answered from the bus, the store and its health. */
static void hub_list_servers(struct tool_call *c, const cJSON *args)
{
    (void)args;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddArrayToObject(r, "servers");
    hub_reply(c, r, false);
}

static void hub_unified_health(struct tool_call *c, const cJSON *args)
{
    (void)args;
    hub_reply(c, hub_health_json(c->hub), false);
}

static const struct tool_def *const *hub_own_list(void *self, size_t *n)
{
    struct hub *h = self;
    *n = h->nhub_defs;
    return h->hub_defs;
}

static void hub_own_call(void *self, struct tool_call *call, const struct tool_def *def,
                         const cJSON *args)
{
    struct hub *h = self;
    for (size_t i = 0; i < h->nhub_defs; i++) {
        if (h->hub_defs[i] == def) {
            h->hub_run[i](call, args);
            return;
        }
    }
}

/* A parked wait_for_events ends, unanswered. */
static bool hub_own_cancel(void *self, uint64_t session, uint64_t call_id)
{
    struct hub *h = self;
    return hub_waits_cancel(&h->waits, session, call_id);
}

static const struct tool_provider_ops hub_own_provider = {
    .name = "hub",
    .list = hub_own_list,
    .call = hub_own_call,
    .cancel = hub_own_cancel,
};

void hub_tools_init(struct hub *h)
{
    /* The hub's own tools, each defined once in the catalog (rpc/tools.c)
     * and run by its handler here. */
    static const struct {
        const char *name;
        void (*run)(struct tool_call *c, const cJSON *args);
    } own[] = {
        {"list_servers", hub_list_servers},
        {"get_unified_health", hub_unified_health},
        {"wait_for_events", hub_wait_for_events},
    };
    size_t n = 0;
    const struct tool_def *all = tools_all(&n);
    h->core_defs = xcalloc(n ? n : 1, sizeof(*h->core_defs));
    h->ncore_defs = 0;
    for (size_t i = 0; i < n; i++)
        if (all[i].core_op)
            h->core_defs[h->ncore_defs++] = &all[i];
    h->nhub_defs = 0;
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        const struct tool_def *d = tools_find(own[i].name);
        if (d && !d->core_op && h->nhub_defs < HUB_OWN_TOOLS) {
            h->hub_defs[h->nhub_defs] = d;
            h->hub_run[h->nhub_defs++] = own[i].run;
        }
    }
    h->run_call = hub_tool_run; /* the commit part runs recorded calls again through it */
    h->register_def = tools_find("register_agent");
    h->status_def = tools_find("get_coordination_status");
    h->registry = tool_registry_new(NULL, NULL);
    if (tool_registry_add(h->registry, &hub_core_provider, h) != 0 ||
        tool_registry_add(h->registry, &hub_own_provider, h) != 0)
        log_error("tool providers: a tool name is served twice");
}

void hub_tools_fini(struct hub *h)
{
    tool_registry_free(h->registry);
    h->registry = NULL;
    free(h->core_defs);
    h->core_defs = NULL;
    h->ncore_defs = 0;
}

/* An agent resumed on session s (a bridge re-attached after a hub
 * restart, told on its control line): not a tool call, but recorded like
 * one, since registering is a write the batch may have to make again. */
static void hub_resume_run(struct tool_call *c, const char *agent_id)
{
    struct hub *h = c->hub;
    struct hub_session *s = c->session;
    if (h->store_stale) {
        /* Registering is a write: the session asks for this agent
         * when it first registers, once the store is back. */
        if (!s->agent_hint && !s->agent_id)
            s->agent_hint = xstrdup(agent_id);
        return;
    }
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "agentId", agent_id);
    cJSON *result = NULL;
    char *errmsg = NULL;
    if (hub_register(c, a, &result, &errmsg) != 0) {
        log_warn("cannot resume agent: %s", errmsg ? errmsg : "?");
        free(errmsg);
    }
    cJSON_Delete(result);
    cJSON_Delete(a);
    if (h->pending.len)
        hub_schedule_commit(h);
}

void hub_tool_run(struct tool_call *c, const char *name, const cJSON *args)
{
    struct hub *h = c->hub;
    struct hub_session *s = c->session;
    if (c->redo && c->redo->resume) {
        hub_resume_run(c, json_get_str(args, "agentId", ""));
        return;
    }
    const struct tool_def *def = tool_registry_find(h->registry, name);
    if (h->store_stale && !hub_stale_may_answer(h, def)) {
        /* A write cannot be recorded; without a replica of the committed
         * state (hub_outage.c) no read can be answered either. */
        char *msg = hub_stale_refusal(h, name);
        cJSON *r = hub_error_result(msg);
        cJSON_AddStringToObject(r, "code", err_name(ERR_UNAVAILABLE));
        free(msg);
        hub_reply(c, r, true);
        return;
    }
    char *refusal = hub_keys_tool_refusal(s, name, args);
    if (refusal) {
        cJSON *r = hub_error_result(refusal);
        cJSON_AddStringToObject(r, "code", "forbidden");
        free(refusal);
        hub_reply(c, r, true);
        return;
    }
    if (tool_registry_call(h->registry, c, name, args) != 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "tool '%s' is not available in this hub", name);
        hub_reply(c, hub_error_result(msg), true);
    }
}

void hub_tool_call(struct hub *h, struct hub_session *s, uint64_t call_id, const char *name,
                   const cJSON *args, const char *signature)
{
    /* Every answer given while the call runs (hub_reply) or later for it
     * (queued locks, parked waits keep a copy) is timed from now. Internal
     * calls (call_id 0) are not tool calls of a client: not timed. */
    struct tool_call c = {
        .hub = h,
        .session = s,
        .call_id = call_id,
        .clock = {.tool = call_id ? hub_metrics_tool(h, name) : -1, .start_ns = clock_mono_ns()},
        .signature = signature,
    };
    /* Calls the core evaluates are recorded while their batch waits for
     * its append, to run again if another hub appends first. */
    const struct tool_def *def = tool_registry_find(h->registry, name);
    if (def && def->core_op)
        hub_redo_begin(&c, name, args);
    struct hub_redo *rec = c.redo;
    hub_tool_run(&c, name, args);
    hub_redo_end(h, rec);
}

void hub_agent_resume(struct hub *h, struct hub_session *s, const char *agent_id)
{
    /* Internal: nobody to answer (call_id 0), not timed. */
    struct tool_call c = {.hub = h, .session = s, .clock = {.tool = -1}};
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "agentId", agent_id);
    hub_redo_begin(&c, NULL, args);
    c.redo->resume = true;
    struct hub_redo *rec = c.redo;
    hub_resume_run(&c, agent_id);
    hub_redo_end(h, rec); /* copies args if kept */
    cJSON_Delete(args);
}

bool hub_tool_cancel(struct hub *h, struct hub_session *s, uint64_t call_id)
{
    if (!tool_registry_cancel(h->registry, s->id, call_id))
        return false;
    s->inflight--;
    return true;
}

/* ---- resources ---------------------------------------------------------- */

static cJSON *hub_read_op(struct hub *h, const char *op)
{
    struct workspace_caller c = {.agent_id = NULL, .session_id = NULL, .admin = true};
    cJSON *args = cJSON_CreateObject();
    cJSON *result = NULL;
    char *errmsg = NULL;
    struct event_vec none;
    event_vec_init(&none);
    int rc = workspace_exec(h->ws, &c, op, args, hub_now(h), &none, &result, &errmsg);
    event_vec_deinit(&none); /* read ops produce no events */
    cJSON_Delete(args);
    if (rc) {
        cJSON_Delete(result);
        result = hub_error_result(errmsg ? errmsg : coordhub_strerror(rc));
    }
    free(errmsg);
    return result;
}

/* The state resources, answered from the replica (marked stale) while the
 * store is away. */
static cJSON *hub_state_resource(struct hub *h, const char *uri)
{
    static const char *const state[] = {"coord://status", "coord://agents", "coord://locks",
                                        "coord://tasks"};
    bool known = false;
    for (size_t i = 0; i < sizeof(state) / sizeof(state[0]); i++)
        known = known || strcmp(uri, state[i]) == 0;
    if (!known)
        return NULL;
    if (h->store_stale && !h->stale_reads) {
        char *msg = hub_stale_refusal(h, "reading the state");
        cJSON *r = hub_error_result(msg);
        free(msg);
        return r;
    }
    cJSON *r;
    if (strcmp(uri, "coord://status") == 0) {
        r = workspace_status_json(h->ws, hub_now(h));
        cJSON_DeleteItemFromObjectCaseSensitive(r, "systemHealth");
        cJSON_AddItemToObject(r, "systemHealth", hub_health_json(h));
    } else if (strcmp(uri, "coord://agents") == 0) {
        r = hub_read_op(h, "list_agents");
    } else if (strcmp(uri, "coord://locks") == 0) {
        r = hub_read_op(h, "list_locked_files");
    } else {
        r = hub_read_op(h, "list_tasks");
    }
    hub_stale_mark(h, r);
    return r;
}

cJSON *hub_resource_read(struct hub *h, const char *uri)
{
    cJSON *state = hub_state_resource(h, uri);
    if (state)
        return state;
    if (strcmp(uri, "coord://health") == 0)
        return hub_health_json(h);
    if (strcmp(uri, "coord://events/recent") == 0) {
        cJSON *arr = cJSON_CreateArray();
        size_t n = bus_count(h->bus);
        size_t from = n > HUB_RECENT_RESOURCE ? n - HUB_RECENT_RESOURCE : 0;
        for (size_t i = from; i < n; i++) {
            const char *text;
            const struct event *ev = bus_at(h->bus, i, &text);
            hub_waits_add_event(arr, ev, text, h->opt->workspace);
        }
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToObject(r, "events", arr);
        return r;
    }
    return NULL;
}
