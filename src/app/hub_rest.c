/* hub_rest — tool calls for the HTTP face (REST and POST /events).
 *
 * Two internal sessions, both `oneshot` (never an agent themselves) and
 * sharing one table of calls in flight:
 *   h->rest        the admin token and `admin` keys: the workspace owner,
 *                  with the CLI's identity rules — admin, acting for the
 *                  agentId a call names;
 *   h->rest_agent  keys below `admin`: not admin, and each call's agent is
 *                  the agentId it names (acts_as_named), so the core holds
 *                  it to that agent's rights (another agent's task or lease
 *                  is refused); an agentId the workspace does not know is
 *                  registered in the same command, as for the admin.
 * Calls
 * run through hub_tool_call exactly like an MCP tools/call, so their
 * events join the turn's group commit and the answer waits for it
 * (hub_reply); the session's reply_fn hands each answer to the callback
 * the face registered for the call id.
 *
 * A client that hangs up while its call is queued (lock_file with
 * waitMs) has it cancelled (hub_rest_cancel) like an MCP client's
 * notifications/cancelled: it leaves the queue and is never granted.
 *
 * The session is not in h->sessions (hub_session_find knows it), so it
 * receives no MCP notifications and does not count as a connection.
 * Calls in flight when the face stops are dropped unanswered: the face is
 * freed first (hub_http_stop), so nobody is left to answer. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app/hub_internal.h"
#include "base/log.h"
#include "base/xmalloc.h"

/* Session ids of h->rest and h->rest_agent: outside the range
 * hub_session.c hands out. */
#define HUB_REST_SESSION_ID UINT64_MAX
#define HUB_REST_AGENT_SESSION_ID (UINT64_MAX - 1)

struct hub_rest_call {
    uint64_t call_id;
    struct hub_session *session; /* h->rest or h->rest_agent */
    void (*done)(void *done_arg, cJSON *result, bool is_error);
    void *done_arg;
    struct hub_rest_call *next;
};

struct hub_rest {
    struct hub_rest_call *calls; /* owned: in flight */
    uint64_t next_call_id;
};

static void hub_rest_reply(void *arg, uint64_t call_id, cJSON *result, bool is_error)
{
    struct hub_rest *r = arg;
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

static struct hub_session *hub_rest_session(struct hub *h, struct hub_rest *r, uint64_t id,
                                            bool admin)
{
    struct hub_session *s = xcalloc(1, sizeof(*s));
    s->id = id;
    memcpy(s->sid, "http", 5);
    s->hub = h;
    s->oneshot = true;
    s->admin = admin;
    s->acts_as_named = !admin;
    s->reply_fn = hub_rest_reply;
    s->reply_arg = r;
    return s;
}

void hub_rest_start(struct hub *h)
{
    if (h->rest)
        return;
    struct hub_rest *r = xcalloc(1, sizeof(*r));
    r->next_call_id = 1;
    h->rest = hub_rest_session(h, r, HUB_REST_SESSION_ID, true);
    h->rest_agent = hub_rest_session(h, r, HUB_REST_AGENT_SESSION_ID, false);
}

void hub_rest_stop(struct hub *h)
{
    struct hub_session *s = h->rest;
    if (!s)
        return;
    struct hub_rest *r = s->reply_arg;
    /* Parked calls (lock waits, long polls) must not answer a freed
     * session: cancel them as a closing connection would. */
    hub_waiters_drop_session(h, s->id);
    hub_waits_drop_session(h, s->id);
    hub_waiters_drop_session(h, h->rest_agent->id);
    hub_waits_drop_session(h, h->rest_agent->id);
    while (r->calls) {
        struct hub_rest_call *c = r->calls;
        r->calls = c->next;
        free(c);
    }
    free(r);
    free(s);
    free(h->rest_agent);
    h->rest = NULL;
    h->rest_agent = NULL;
}

void hub_rest_call(void *arg, const struct api_caller *who, const char *name, cJSON *args,
                   void (*done)(void *done_arg, cJSON *result, bool is_error), void *done_arg)
{
    struct hub *h = arg;
    struct hub_session *s = who->admin ? h->rest : h->rest_agent;
    struct hub_rest *r = s->reply_arg;
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
    if (!h->rest)
        return false;
    struct hub_rest *r = h->rest->reply_arg;
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
