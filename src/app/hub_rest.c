/* hub_rest — tool calls for the HTTP face (REST and POST /events).
 *
 * The face holds the admin token, so it acts as the workspace owner: one
 * internal session (h->rest) with the CLI's identity rules — admin, never
 * an agent itself (`oneshot`), acting for the agentId a call names. Calls
 * run through hub_tool_call exactly like an MCP tools/call, so their
 * events join the turn's group commit and the answer waits for it
 * (hub_reply); the session's reply_fn hands each answer to the callback
 * the face registered for the call id.
 *
 * The session is not in h->sessions (hub_session_find knows it), so it
 * receives no MCP notifications and does not count as a connection.
 * Calls in flight when the face stops are dropped unanswered: the face is
 * freed first (hub_http_stop), so nobody is left to answer. */
#include <stdlib.h>
#include <string.h>

#include "app/hub_internal.h"
#include "base/log.h"
#include "base/xmalloc.h"

/* Session id of h->rest: outside the range hub_session.c hands out. */
#define HUB_REST_SESSION_ID UINT64_MAX

struct hub_rest_call {
    uint64_t call_id;
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

void hub_rest_start(struct hub *h)
{
    if (h->rest)
        return;
    struct hub_session *s = xcalloc(1, sizeof(*s));
    struct hub_rest *r = xcalloc(1, sizeof(*r));
    r->next_call_id = 1;
    s->id = HUB_REST_SESSION_ID;
    memcpy(s->sid, "http", 5);
    s->hub = h;
    s->oneshot = true;
    s->admin = true;
    s->reply_fn = hub_rest_reply;
    s->reply_arg = r;
    h->rest = s;
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
    while (r->calls) {
        struct hub_rest_call *c = r->calls;
        r->calls = c->next;
        free(c);
    }
    free(r);
    free(s);
    h->rest = NULL;
}

void hub_rest_call(void *arg, const char *name, cJSON *args,
                   void (*done)(void *done_arg, cJSON *result, bool is_error), void *done_arg)
{
    struct hub *h = arg;
    struct hub_session *s = h->rest;
    struct hub_rest *r = s->reply_arg;
    struct hub_rest_call *c = xcalloc(1, sizeof(*c));
    c->call_id = r->next_call_id++;
    c->done = done;
    c->done_arg = done_arg;
    c->next = r->calls;
    r->calls = c;
    s->inflight++;
    hub_tool_call(h, s, c->call_id, name, args);
    cJSON_Delete(args);
}
