/* hub_rest — tool calls for the HTTP face (REST and POST /events).
 *
 * Two internal sessions of the "rest" kind, never an agent themselves
 * and sharing one table of calls in flight (h->rest):
 *   admin   the admin token and `admin` keys: the workspace owner,
 *                  with the CLI's identity rules — admin, acting for the
 *                  agentId a call names;
 *   agent   keys below `admin`: not admin, and each call's agent is
 *                  the agentId it names (HUB_AS_NAMED), so the core holds
 *                  it to that agent's rights (another agent's task or lease
 *                  is refused); an agentId the workspace does not know is
 *                  registered in the same command, as for the admin.
 * Calls
 * run through hub_tool_call exactly like an MCP tools/call, so their
 * events join the turn's group commit and the answer waits for it
 * (hub_reply); the kind's answer op hands each answer to the callback the
 * face registered for the call id.
 *
 * A client that hangs up while its call is queued (lock_file with
 * waitMs) has it cancelled (hub_rest_cancel) like an MCP client's
 * notifications/cancelled: it leaves the queue and is never granted.
 *
 * The sessions are in the sessions part's map (hub_session_find finds
 * them) but not on its list, so they receive no MCP notifications and do
 * not count as connections.
 * Calls in flight when the face stops are dropped unanswered: the face is
 * freed first (hub_http_stop), so nobody is left to answer. */
#include "app/hub_rest.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app/hub_tools.h"
#include "app/hub_waits.h"
#include "base/log.h"
#include "base/xmalloc.h"

/* Session ids of the two sessions: outside the range hub_session.c hands
 * out. */
#define HUB_REST_SESSION_ID UINT64_MAX
#define HUB_REST_AGENT_SESSION_ID (UINT64_MAX - 1)

struct hub_rest_call {
    uint64_t call_id;
    struct hub_session *session; /* r->admin or r->agent */
    void (*done)(void *done_arg, cJSON *result, bool is_error);
    void *done_arg;
    struct hub_rest_call *next;
};

struct hub_rest {
    struct hub_rest_call *calls; /* owned: in flight */
    uint64_t next_call_id;
    struct hub_session *admin, *agent;
};

/* The "rest" kind's answer op: to the callback of the call. */
static void hub_rest_reply(struct hub_session *s, uint64_t call_id, cJSON *result, bool is_error)
{
    struct hub_rest *r = s->owner;
    struct hub_rest_call **pp = &r->calls;
    while (*pp && (*pp)->call_id != call_id)
        pp = &(*pp)->next;
    if (!*pp) {
        log_debug("rest: answer for unknown call %llu dropped", (unsigned long long)call_id);
        cJSON_Delete(result);
        return;
    }
    struct hub_rest_call *c = *pp;
    *pp = c->next;
    c->done(c->done_arg, result, is_error);
    free(c);
}

static const struct hub_session_kind hub_rest_kind = {
    .name = "rest",
    .answer = hub_rest_reply,
    .client = "http",
};

static struct hub_session *hub_rest_session(struct hub *h, struct hub_rest *r, uint64_t id,
                                            bool admin)
{
    struct hub_session *s = hub_session_new(&h->sessions, &hub_rest_kind,
                                            admin ? HUB_AS_NONE : HUB_AS_NAMED, false, id);
    memcpy(s->sid, "http", 5);
    s->admin = admin;
    s->owner = r;
    return s;
}

void hub_rest_start(struct hub *h)
{
    if (h->rest)
        return;
    struct hub_rest *r = xcalloc(1, sizeof(*r));
    r->next_call_id = 1;
    r->admin = hub_rest_session(h, r, HUB_REST_SESSION_ID, true);
    r->agent = hub_rest_session(h, r, HUB_REST_AGENT_SESSION_ID, false);
    h->rest = r;
}

void hub_rest_stop(struct hub *h)
{
    struct hub_rest *r = h->rest;
    if (!r)
        return;
    /* Parked calls (lock waits, long polls) must not answer a freed
     * session: cancel them as a closing connection would. */
    hub_waiters_drop_session(&h->waits, r->admin->id);
    hub_waits_drop_session(&h->waits, r->admin->id);
    hub_waiters_drop_session(&h->waits, r->agent->id);
    hub_waits_drop_session(&h->waits, r->agent->id);
    while (r->calls) {
        struct hub_rest_call *c = r->calls;
        r->calls = c->next;
        free(c);
    }
    hub_session_free(r->admin);
    hub_session_free(r->agent);
    free(r);
    h->rest = NULL;
}

void hub_rest_call(void *arg, const struct api_caller *who, const char *name, cJSON *args,
                   void (*done)(void *done_arg, cJSON *result, bool is_error), void *done_arg)
{
    struct hub *h = arg;
    struct hub_rest *r = h->rest;
    struct hub_session *s = who->admin ? r->admin : r->agent;
    struct hub_rest_call *c = xcalloc(1, sizeof(*c));
    c->call_id = r->next_call_id++;
    c->session = s;
    c->done = done;
    c->done_arg = done_arg;
    c->next = r->calls;
    r->calls = c;
    s->inflight++;
    /* The call's context carries it: read by publish_event within this
     * call only (never parked). */
    hub_tool_call(h, s, c->call_id, name, args, who->signature);
    cJSON_Delete(args);
}

bool hub_rest_cancel(void *arg, void *done_arg)
{
    struct hub *h = arg;
    struct hub_rest *r = h->rest;
    if (!r)
        return false;
    bool left = false;
    struct hub_rest_call **pp = &r->calls;
    while (*pp) {
        struct hub_rest_call *c = *pp;
        if (c->done_arg != done_arg) {
            pp = &c->next;
            continue;
        }
        /* The same cancel as an MCP client's: a queued lock request
         * leaves the core's queue (and the batch's redo record). */
        if (hub_tool_cancel(h, c->session, c->call_id)) {
            *pp = c->next;
            free(c);
            continue;
        }
        left = true;
        pp = &c->next;
    }
    return !left;
}
