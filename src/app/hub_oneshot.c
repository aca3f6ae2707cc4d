/* hub_oneshot — one-shot tool calls on the socket (docs/socket-protocol.md,
 * "One-shot calls").
 *
 * A connection whose first line is {"coordhub":"call","tool":…,
 * "arguments":{…}} makes one tool call with no MCP handshake and gets one
 * answer line, {"coordhub":"call","ok":true,"result":…} (the tool's
 * structuredContent) or {…,"ok":false,"code","error"} (a tool error, a
 * refusal); then the hub closes the connection. Hooks and scripts use it:
 * nothing to initialise, no session to keep.
 *
 * Who calls. With the admin token ("token") the call is the owner's, under
 * the CLI's rules: admin, never an agent, acting for the agentId it names.
 * Without it the call is an agent session's that has registered no agent:
 * what needs no agent (check_lock, list_locked_files, get_coordination_status, …)
 * is answered, and acting for an agent is refused as for any session that
 * is not that agent's — a process on the socket cannot release another
 * agent's leases this way either. A wrong token is refused
 * (unauthorized), never taken for none.
 *
 * The call runs on a hub session of its own, of the "one-shot" kind (on
 * the sessions part's list and counted against the socket's session cap
 * like any other; without an MCP engine, so it gets no notifications)
 * through hub_tool_call, exactly like an MCP tools/call: checked against
 * the tool's inputSchema first, evaluated, group-committed, answered after
 * the commit (the kind's answer op writes the answer line).
 * Input after the request line is read and dropped. A peer that hangs up
 * before its answer — closing its writing side counts — has its waits
 * cancelled (a lock_file queued with waitMs leaves the queue), as an MCP
 * client's would be. */
#define _GNU_SOURCE
#include "app/hub_oneshot.h"

#include <stdlib.h>
#include <string.h>

#include "app/hub_control.h"
#include "app/hub_session.h"
#include "app/hub_tools.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "net/lineconn.h"
#include "rpc/control.h"
#include "rpc/registry.h"
#include "rpc/tools.h"

#define HUB_ONESHOT_INPUT_MAX 4096 /* input after the request line is dropped */
#define HUB_ONESHOT_CALL_ID 1      /* the session's only call */

static void hub_oneshot_line(void *arg, const char *line, size_t len)
{
    (void)arg; /* one request per connection: more input is ignored */
    (void)line;
    (void)len;
}

static void hub_oneshot_oversize(void *arg)
{
    (void)arg;
}

static void hub_oneshot_closed(void *arg, int err)
{
    struct hub_session *s = arg;
    if (s->id == 0)
        return; /* answered and closing */
    (void)err;
    /* The peer hung up before its answer: cancel what waits, as for an
     * MCP client that went away; a call awaiting commit finishes first. */
    hub_session_peer_left(s);
}

static const struct lineconn_cbs hub_oneshot_cbs = {
    .line = hub_oneshot_line, .oversize = hub_oneshot_oversize, .closed = hub_oneshot_closed};

/* The call's answer (result taken): one line, then the session closes
 * once it is flushed. */
/* The "one-shot" kind's answer op: the answer line, then close. */
static void hub_oneshot_reply(struct hub_session *s, uint64_t call_id, cJSON *result, bool is_error)
{
    (void)call_id;
    struct control_msg m =
        is_error ? control_answer_fail(CONTROL_CALL,
                                       json_get_str(result, "code", err_name(-ERR_INVALID)),
                                       json_get_str(result, "error", "the call failed"))
                 : control_answer_ok(CONTROL_CALL, result);
    char *line = control_build(&m);
    if (s->conn && lineconn_send(s->conn, line, strlen(line) - 1) != 0)
        log_warn("session %llu: the one-shot answer cannot be queued", (unsigned long long)s->id);
    control_line_free(line);
    cJSON_Delete(result);
    /* Possibly inside the call itself (an answer needing no commit):
     * close in the next loop turn. */
    s->input_closed = true;
    hub_session_close_later(s);
}

/* Refuse the call on fd (taken) with code and why. */
static void hub_oneshot_free(struct hub_session *s)
{
    lineconn_free(s->conn);
    s->conn = NULL;
}

static const struct hub_session_kind hub_oneshot_kind = {
    .name = "one-shot",
    .answer = hub_oneshot_reply,
    .free = hub_oneshot_free,
    .socket = true, /* counted against the socket's session cap */
};

static void hub_oneshot_refuse(struct hub *h, int fd, const char *code, const char *why)
{
    struct control_msg m = control_answer_fail(CONTROL_CALL, code, why);
    hub_control_send_msg(&h->control, fd, &m);
}

void hub_oneshot_start(struct hub *h, int fd, const struct control_msg *ctl, bool admin)
{
    const struct tool_def *t = tool_registry_find(h->registry, ctl->u.call.tool);
    if (!t) {
        hub_oneshot_refuse(h, fd, err_name(-ERR_NOT_FOUND),
                           "tool: no such tool (tools/list names them; docs/tools.md)");
        return;
    }
    char *msg = NULL;
    if (!tools_validate_args(t, ctl->u.call.arguments, &msg)) {
        hub_oneshot_refuse(h, fd, err_name(-ERR_INVALID), msg ? msg : "invalid arguments");
        free(msg);
        return;
    }
    /* Never an agent itself. */
    struct hub_session *s = hub_session_new(&h->sessions, &hub_oneshot_kind, HUB_AS_NONE, true, 0);
    s->admin = admin;
    s->conn =
        lineconn_new(h->base, fd, fd, HUB_ONESHOT_INPUT_MAX, HUB_MAX_OUT, &hub_oneshot_cbs, s);
    cJSON *none = ctl->u.call.arguments ? NULL : cJSON_CreateObject();
    s->inflight++;
    hub_tool_call(h, s, HUB_ONESHOT_CALL_ID, t->name, none ? none : ctl->u.call.arguments, NULL);
    cJSON_Delete(none);
}
