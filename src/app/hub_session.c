/* hub_session — the sessions part: connections, the kinds of session and
 * the MCP host (hub_session.h says what the part owns).
 *
 * Every connection to hub.sock is one MCP session. Its first line may be a
 * control line (`{"coordhub":…}`, parsed and built by rpc/control.h;
 * docs/socket-protocol.md) from `coordhub mcp`:
 *   attach  — sent with SCM_RIGHTS carrying the IDE's stdin and stdout: the
 *             session then reads and writes those descriptors directly and
 *             the socket stays open only as the bridge's control channel
 *             (an attach whose descriptors did not arrive is answered
 *             "refused": the bridge relays instead);
 *   resume  — the same without descriptors (relay fallback).
 * Either may carry the original `initialize` params ("init") and agent id,
 * so a bridge whose hub died re-attaches to a new hub without the IDE
 * noticing. A first line {"coordhub":"admin","token":…} opens an admin
 * session (the CLI's: never an agent, acting for the agents its calls
 * name) when the token is the workspace's admin token, and is refused
 * otherwise (hub_control.c). {"coordhub":"key",…} (`coordhub key …`,
 * hub_keys.c) and {"coordhub":"stop",…} (`coordhub stop`, hub_control.c)
 * are not sessions but admin requests: answered, then closed. A control
 * line the hub cannot read is answered with why and closed
 * (hub_control_invalid). Any other first line is an ordinary MCP
 * message.
 *
 * Over the control channel the hub tells the bridge the session's initialize
 * params and agent id as they become known ("session"), and "bye" when the
 * IDE closed stdin, or "stopping" when the owner stopped the hub (`coordhub
 * stop`) — a bridge that loses the channel without either knows the hub
 * died.
 *
 * A session closes once its input ended, its in-flight calls were answered
 * and its output was flushed; lock waits and event waits it left are
 * cancelled, and its agent is detached (offline after the grace period) —
 * through the host's ops (struct hub_sessions_host).
 *
 * Kinds defined here: "socket" (an MCP session on the socket's own
 * descriptor: relayed, resumed, the CLI's admin session) and "attached"
 * (the IDE's descriptors handed over, the socket kept as the bridge's
 * control channel). The other kinds live with their transports: "mcp-http"
 * (hub_mcp_http.c), "rest" (hub_rest.c), "one-shot" (hub_oneshot.c).
 *
 * Limits (docs/operations.md, "Descriptors"): connections are accepted
 * through net/listener (which pauses instead of spinning when descriptors
 * run out). A connection counts from accept: until its first line is read
 * it is pending, with a deadline (first_line_ms); at sock_max_pending the
 * oldest pending one is dropped for the new one, so idle connections
 * cannot keep a client that speaks out. A session needs a slot under
 * sock_max_sessions, of which sock_admin_reserve slots only a first line
 * with the admin token may take (`coordhub status` and `stop` answer when
 * agents took every other slot). Beyond the cap the connection gets one
 * JSON-RPC error line (id null, -32000, naming the cap) and is closed. */
#define _GNU_SOURCE
#include "app/hub_session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "api/metrics.h"
#include "app/hub_control.h"
#include "app/options.h"
#include "app/roots.h"
#include "auth/keys.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/event.h"
#include "core/workspace.h"
#include "net/fdpass.h"
#include "net/lineconn.h"
#include "net/listener.h"
#include "rpc/control.h"
#include "rpc/jsonrpc.h"
#include "rpc/mcp.h"

#ifndef COORDHUB_VERSION
#define COORDHUB_VERSION "0.0.0"
#endif

#define HUB_CTL_MAX CONTROL_REQUEST_MAX /* a first line is read in one read of this */
#define HUB_SOCKET_LOG_MS 10000         /* at most one warning per kind per interval */
#define HUB_SOCKET_PAUSE_MS 100         /* accepting paused after EMFILE & co */
#define HUB_SESSION_KEY_FMT "%llu"      /* idkey: the id in decimal */

/* A connection whose first bytes have not been read yet: in the part's
 * pending list (oldest first) until they are, or its deadline passes. */
struct hub_pending_conn {
    struct hub_sessions *part;
    int fd;
    struct event *ev; /* EV_READ with the first-line deadline */
    struct hub_pending_conn *prev, *next;
};

static const struct mcp_server_info hub_server_info = {
    .name = "coordhub", .version = COORDHUB_VERSION, .instructions = NULL};

/* ---- the table ------------------------------------------------------------ */

struct hub_session *hub_session_find(const struct hub_sessions *p, uint64_t id)
{
    if (id == 0)
        return NULL;
    char key[24];
    snprintf(key, sizeof(key), HUB_SESSION_KEY_FMT, (unsigned long long)id);
    return map_get(&p->by_id, key);
}

/* Out of the map: late answers and deferred closes no longer find it. */
static void hub_session_unmap(struct hub_session *s)
{
    if (s->id != 0)
        map_del(&s->part->by_id, s->idkey);
    s->id = 0;
}

struct hub_deferred {
    struct hub_sessions *part;
    uint64_t id;
};

static void hub_session_deferred_close(evutil_socket_t fd, short what, void *arg)
{
    struct hub_deferred *d = arg;
    (void)fd;
    (void)what;
    struct hub_session *s = hub_session_find(d->part, d->id);
    if (s)
        hub_session_close(s);
    free(d);
}

void hub_session_close_later(struct hub_session *s)
{
    struct hub_deferred *d = xmalloc(sizeof(*d));
    d->part = s->part;
    d->id = s->id;
    event_base_once(s->part->base, -1, EV_TIMEOUT, hub_session_deferred_close, d, NULL);
}

/* ---- the MCP host ---------------------------------------------------------- */

static void hub_mcp_send(void *host, struct mcp_session *m, const char *msg, size_t len)
{
    struct hub_session *s = mcp_session_userdata(m);
    (void)host;
    if (s->kind->send)
        s->kind->send(s, msg, len);
}

static void hub_mcp_tool_call(void *host, struct mcp_session *m, uint64_t call_id, const char *name,
                              const cJSON *args)
{
    struct hub_sessions *p = host;
    struct hub_session *s = mcp_session_userdata(m);
    s->inflight++;
    p->host->tool_call(p->host_arg, s, call_id, name, args);
}

static void hub_mcp_tool_cancel(void *host, struct mcp_session *m, uint64_t call_id)
{
    struct hub_sessions *p = host;
    (void)p->host->tool_cancel(p->host_arg, mcp_session_userdata(m), call_id);
}

static cJSON *hub_mcp_resource_read(void *host, struct mcp_session *m, const char *uri)
{
    struct hub_sessions *p = host;
    const struct hub_session *s = mcp_session_userdata(m);
    cJSON *r = p->host->resource_read(p->host_arg, uri);
    if (s->key && strcmp(uri, "coord://events/recent") == 0) {
        /* A key sees only the events its canSubscribe patterns allow. */
        cJSON *events = cJSON_GetObjectItemCaseSensitive(r, "events");
        for (int i = cJSON_GetArraySize(events) - 1; i >= 0; i--) {
            const cJSON *ev = cJSON_GetArrayItem(events, i);
            if (!keys_key_may_subscribe(s->key, json_get_str(ev, "type", "")))
                cJSON_DeleteItemFromArray(events, i);
        }
    }
    return r;
}

void hub_session_announce(struct hub_session *s)
{
    if (!s->kind->control || !s->mcp)
        return;
    struct control_msg m = {.kind = CONTROL_SESSION};
    m.u.session.init = mcp_session_init_params(s->mcp);
    m.u.session.agent_id = s->agent_id;
    hub_session_send_ctl(s, &m);
}

static void hub_mcp_initialized(void *host, struct mcp_session *m)
{
    struct hub_session *s = mcp_session_userdata(m);
    (void)host;
    /* What the client calls itself grants nothing: a session is the
     * admin only when it opened with the admin token (hub_control.c). */
    /* Socket sessions only: an HTTP client's file:// roots name
     * directories of its own machine (docs/tools.md "How paths resolve").
     * The CLI's session (no agent of its own) sends workspace-relative
     * keys itself. */
    if (s->kind->asks_roots && s->identity == HUB_AS_AGENT)
        mcp_session_request_roots(m);
    hub_session_announce(s);
}

/* Paths of a session without MCP roots resolve against the directory
 * its bridge was started in (the attach line's "cwd"). */
static void hub_session_use_cwd(struct hub_session *s)
{
    if (!s->roots)
        s->roots = roots_new(s->part->opt->root);
    roots_clear(s->roots);
    if (!s->cwd)
        return;
    char *why = NULL;
    if (roots_add_dir(s->roots, s->cwd, &why) == 0) {
        log_info("session %llu: relative paths resolve against %s", (unsigned long long)s->id,
                 roots_dir(s->roots, 0));
    } else {
        log_warn("session %llu: the bridge's directory is ignored: %s; paths are "
                 "workspace-relative",
                 (unsigned long long)s->id, why);
        free(why);
    }
}

static void hub_mcp_roots_listed(void *host, struct mcp_session *m, const cJSON *list)
{
    struct hub_session *s = mcp_session_userdata(m);
    (void)host;
    if (s->roots_timer)
        evtimer_del(s->roots_timer);
    if (!s->roots)
        s->roots = roots_new(s->part->opt->root);
    roots_clear(s->roots);
    const cJSON *root;
    cJSON_ArrayForEach(root, list)
    {
        const char *uri = json_get_str(root, "uri", NULL);
        char *why = NULL;
        if (!uri) {
            log_warn("session %llu: an MCP root without a uri is ignored",
                     (unsigned long long)s->id);
        } else if (roots_add_uri(s->roots, uri, &why) != 0) {
            log_warn("session %llu: MCP root ignored: %s", (unsigned long long)s->id, why);
            free(why);
        }
    }
    size_t n = roots_count(s->roots);
    if (n == 0) {
        log_info("session %llu: no usable MCP roots", (unsigned long long)s->id);
        hub_session_use_cwd(s);
        return;
    }
    for (size_t i = 0; i < n; i++)
        log_info("session %llu: relative paths resolve against MCP root %zu: %s",
                 (unsigned long long)s->id, i + 1, roots_dir(s->roots, i));
}

/* How long tool calls wait for the client's answer to roots/list. */
#define HUB_ROOTS_WAIT_MS 2000

static void hub_roots_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct hub_session *s = arg;
    (void)fd;
    (void)what;
    log_warn("session %llu: no answer to roots/list within %d ms; going on without it",
             (unsigned long long)s->id, HUB_ROOTS_WAIT_MS);
    mcp_session_roots_give_up(s->mcp);
}

static void hub_mcp_roots_requested(void *host, struct mcp_session *m)
{
    struct hub_session *s = mcp_session_userdata(m);
    (void)host;
    if (!s->roots_timer)
        s->roots_timer = evtimer_new(s->part->base, hub_roots_timeout, s);
    struct timeval tv = {.tv_sec = HUB_ROOTS_WAIT_MS / 1000,
                         .tv_usec = (HUB_ROOTS_WAIT_MS % 1000) * 1000};
    evtimer_add(s->roots_timer, &tv);
}

static const struct mcp_host_ops hub_mcp_ops = {
    .roots_listed = hub_mcp_roots_listed,
    .roots_requested = hub_mcp_roots_requested,
    .send = hub_mcp_send,
    .tool_call = hub_mcp_tool_call,
    .tool_cancel = hub_mcp_tool_cancel,
    .resource_read = hub_mcp_resource_read,
    .initialized = hub_mcp_initialized,
};

/* ---- delivery ---------------------------------------------------------------- */

/* The answer through the session's MCP engine. A store failure is no
 * answer of the tool's: an MCP client gets the JSON-RPC error of
 * ERR_STORE (base/err.c) with the message, as any JSON-RPC client can
 * tell it from a tool's own error and retry. */
static void hub_session_answer_mcp(struct hub_session *s, uint64_t call_id, cJSON *result,
                                   bool is_error)
{
    if (!s->mcp) {
        cJSON_Delete(result);
        return;
    }
    const char *code = is_error ? json_get_str(result, "code", NULL) : NULL;
    if (code && strcmp(code, err_name(ERR_STORE)) == 0) {
        mcp_session_tool_fail(s->mcp, call_id, err_to_jsonrpc(ERR_STORE),
                              json_get_str(result, "error", coordhub_strerror(ERR_STORE)));
        cJSON_Delete(result);
    } else {
        mcp_session_tool_done(s->mcp, call_id, result, is_error);
    }
    hub_session_maybe_finish(s);
}

void hub_session_answer(struct hub_session *s, uint64_t call_id, cJSON *result, bool is_error)
{
    if (s->kind->answer)
        s->kind->answer(s, call_id, result, is_error);
    else
        hub_session_answer_mcp(s, call_id, result, is_error);
}

void hub_session_send_ctl(struct hub_session *s, const struct control_msg *m)
{
    if (s->kind->control)
        s->kind->control(s, m);
}

/* ---- the socket's kinds -------------------------------------------------------- */

static void hub_line_send(struct hub_session *s, const char *msg, size_t len)
{
    if (!s->conn)
        return;
    if (lineconn_send(s->conn, msg, len) != 0 && !s->input_closed) {
        log_warn("session %llu: output backlog over %d bytes; closing", (unsigned long long)s->id,
                 HUB_MAX_OUT);
        /* We may be inside this session's own handler: close next turn. */
        s->input_closed = true;
        s->inflight = 0;
        hub_session_close_later(s);
    }
}

static void hub_line_free(struct hub_session *s)
{
    lineconn_free(s->conn);
    lineconn_free(s->ctl);
    s->conn = NULL;
    s->ctl = NULL;
}

static void hub_attached_control(struct hub_session *s, const struct control_msg *m)
{
    if (!s->ctl)
        return;
    char *line = control_build(m);
    /* The lineconn ends the line itself. */
    if (lineconn_send(s->ctl, line, strlen(line) - 1) != 0)
        log_warn("session %llu: control channel backlog full", (unsigned long long)s->id);
    control_line_free(line);
}

/* "bye": the IDE closed stdin; "stopping": the owner stopped the hub.
 * Without either the bridge takes the hub for dead. */
static void hub_attached_closing(struct hub_session *s)
{
    const struct hub_sessions *p = s->part;
    if (!s->ctl || (*p->stopping && !*p->stop_requested))
        return;
    struct control_msg bye = {.kind = *p->stop_requested ? CONTROL_STOPPING : CONTROL_BYE};
    hub_attached_control(s, &bye);
    lineconn_flush_now(s->ctl);
}

static const struct hub_session_kind hub_socket_kind = {
    .name = "socket",
    .send = hub_line_send,
    .free = hub_line_free,
    .asks_roots = true,
    .socket = true,
};

static const struct hub_session_kind hub_attached_kind = {
    .name = "attached",
    .send = hub_line_send,
    .control = hub_attached_control,
    .closing = hub_attached_closing,
    .free = hub_line_free,
    .asks_roots = true,
    .socket = true,
};

/* ---- life of a session ------------------------------------------------------------ */

static void hub_session_unlist(struct hub_session *s)
{
    struct hub_sessions *p = s->part;
    if (!s->listed)
        return;
    struct hub_session **pp = &p->list;
    while (*pp && *pp != s)
        pp = &(*pp)->next;
    if (*pp)
        *pp = s->next;
    s->listed = false;
    p->count--;
    if (s->kind->socket)
        p->nsock--;
    p->host->count_changed(p->host_arg, p->count);
}

void hub_session_free(struct hub_session *s)
{
    hub_session_unmap(s);
    hub_session_unlist(s);
    mcp_session_free(s->mcp);
    if (s->kind->free)
        s->kind->free(s);
    free(s->agent_id);
    free(s->agent_hint);
    roots_free(s->roots);
    free(s->cwd);
    if (s->roots_timer)
        event_free(s->roots_timer);
    free(s);
}

static void hub_session_after_drain(void *arg)
{
    hub_session_free(arg);
}

/* Close now: cancel what the session left behind, tell the bridge, then
 * free once the output is flushed. */
void hub_session_close(struct hub_session *s)
{
    struct hub_sessions *p = s->part;
    if (s->id == 0)
        return; /* already closing */
    p->host->closed(p->host_arg, s);
    if (s->kind->closing)
        s->kind->closing(s);
    if (s->roots_timer)
        evtimer_del(s->roots_timer); /* held calls of a closing session stay held */
    hub_session_unmap(s);            /* unreachable by find: late replies are dropped */
    if (s->conn && lineconn_backlog(s->conn) > 0 && !*p->stopping)
        lineconn_on_drained(s->conn, hub_session_after_drain);
    else
        hub_session_free(s);
}

void hub_session_maybe_finish(struct hub_session *s)
{
    if (s->input_closed && s->inflight <= 0 && s->id != 0)
        hub_session_close(s);
}

void hub_session_peer_left(struct hub_session *s)
{
    s->input_closed = true;
    /* Waits cannot be answered to a peer that left: cancel them so the
     * session can finish; calls awaiting commit are answered first. */
    s->part->host->left(s->part->host_arg, s);
    hub_session_maybe_finish(s);
}

static void hub_conn_line(void *arg, const char *line, size_t len)
{
    struct hub_session *s = arg;
    mcp_session_handle(s->mcp, line, len);
}

static void hub_conn_oversize(void *arg)
{
    struct hub_session *s = arg;
    char *msg = jsonrpc_build_error(NULL, -32600, "message exceeds the 1 MiB limit", NULL);
    hub_line_send(s, msg, strlen(msg));
    free(msg);
}

static void hub_conn_closed(void *arg, int err)
{
    struct hub_session *s = arg;
    if (err)
        log_debug("session %llu: connection error: %s", (unsigned long long)s->id, strerror(-err));
    hub_session_peer_left(s);
}

static void hub_ctl_line(void *arg, const char *line, size_t len)
{
    (void)arg;
    (void)line;
    (void)len; /* the bridge sends nothing after attach */
}

static void hub_ctl_oversize(void *arg)
{
    (void)arg;
}

static void hub_ctl_closed(void *arg, int err)
{
    struct hub_session *s = arg;
    (void)err;
    /* The bridge went away; the IDE's descriptors are still ours until the
     * IDE closes stdin, so the session goes on. */
    lineconn_free(s->ctl);
    s->ctl = NULL;
}

static const struct lineconn_cbs hub_conn_cbs = {
    .line = hub_conn_line, .oversize = hub_conn_oversize, .closed = hub_conn_closed};
static const struct lineconn_cbs hub_ctl_cbs = {
    .line = hub_ctl_line, .oversize = hub_ctl_oversize, .closed = hub_ctl_closed};

struct hub_session *hub_session_new(struct hub_sessions *p, const struct hub_session_kind *kind,
                                    enum hub_identity identity, bool listed, uint64_t id)
{
    struct hub_session *s = xcalloc(1, sizeof(*s));
    s->part = p;
    s->kind = kind;
    s->identity = identity;
    s->id = id ? id : ++p->next_id;
    snprintf(s->idkey, sizeof(s->idkey), HUB_SESSION_KEY_FMT, (unsigned long long)s->id);
    snprintf(s->sid, sizeof(s->sid), "%s-s%llu", p->hub_id, (unsigned long long)s->id);
    map_put(&p->by_id, s->idkey, s);
    /* Every peer of the 0600 socket runs as the workspace owner, but an
     * agent session acts as its agent: only a session that presents the
     * admin token (the CLI's, hub_control.c) gets admin rights (forced
     * unlocks, acting for other agents). */
    s->admin = false;
    if (kind->send) {
        s->mcp = mcp_session_new(&hub_mcp_ops, p, &hub_server_info);
        mcp_session_set_userdata(s->mcp, s);
    }
    if (listed) {
        s->listed = true;
        s->next = p->list;
        p->list = s;
        p->count++;
        if (kind->socket)
            p->nsock++;
        p->host->count_changed(p->host_arg, p->count);
    }
    return s;
}

/* Apply an attach or resume line's data (directory, agent, init params). */
static void hub_session_resume(struct hub_session *s, const struct control_attach *a)
{
    if (a->cwd) {
        s->cwd = xstrdup(a->cwd);
        hub_session_use_cwd(s);
    }
    if (a->agent)
        s->agent_hint = xstrdup(a->agent);
    if (a->agent_id && !s->agent_hint)
        s->agent_hint = xstrdup(a->agent_id);
    if (a->init && mcp_session_resume(s->mcp, a->init) == 0) {
        log_info("session %llu resumed (agent %s)", (unsigned long long)s->id,
                 s->agent_hint ? s->agent_hint : "-");
        if (a->agent_id)
            s->part->host->agent_resume(s->part->host_arg, s, a->agent_id);
    }
}

/* ---- the socket's door: pending connections and caps -------------------------------- */

/* Unlink pc from the pending list and free it; its descriptor stays open. */
static void hub_pending_free(struct hub_pending_conn *pc)
{
    struct hub_sessions *p = pc->part;
    if (pc->prev)
        pc->prev->next = pc->next;
    else
        p->pending_head = pc->next;
    if (pc->next)
        pc->next->prev = pc->prev;
    else
        p->pending_tail = pc->prev;
    p->npending--;
    event_free(pc->ev);
    free(pc);
}

/* One warning per HUB_SOCKET_LOG_MS for a kind of trouble, with the count
 * of those not logged since: a flood costs the log a line per interval. */
static void hub_socket_warn(int64_t *logged_ns, uint64_t *unlogged, const char *what)
{
    int64_t now = clock_mono_ns();
    (*unlogged)++;
    if (*logged_ns != 0 && now - *logged_ns < (int64_t)HUB_SOCKET_LOG_MS * 1000000)
        return;
    log_warn("socket: %s (%llu time%s since the last such line; at most one a %d s)", what,
             (unsigned long long)*unlogged, *unlogged == 1 ? "" : "s", HUB_SOCKET_LOG_MS / 1000);
    *logged_ns = now;
    *unlogged = 0;
}

/* Close a pending connection that never spoke (deadline, or dropped for
 * a newer one at the pending cap). */
static void hub_pending_drop(struct hub_pending_conn *pc, const char *why)
{
    struct hub_sessions *p = pc->part;
    p->metrics->socket_dropped_total++;
    hub_socket_warn(&p->dropped_logged_ns, &p->dropped_unlogged, why);
    close(pc->fd);
    hub_pending_free(pc);
}

/* May a new session not open? Ordinary sessions leave the admin reserve
 * free; a stopping hub takes none. */
static bool hub_socket_full(const struct hub_sessions *p, bool admin)
{
    size_t cap = p->sock_max_sessions;
    if (!admin)
        cap = cap > p->sock_admin_reserve ? cap - p->sock_admin_reserve : 0;
    return *p->stopping || p->nsock >= cap;
}

/* Answer one line naming the cap on fd (taken), then close: a JSON-RPC
 * error, or for a one-shot call (kind) its control answer. */
static void hub_socket_refuse(struct hub_sessions *p, int fd, bool admin, enum control_kind kind)
{
    p->metrics->socket_refused_total++;
    char msg[160];
    if (*p->stopping)
        snprintf(msg, sizeof(msg), "coordhub: the hub is stopping");
    else
        snprintf(msg, sizeof(msg),
                 "coordhub: session limit reached (%zu open; the socket takes %zu, %zu of them "
                 "kept for the admin token)",
                 p->nsock, p->sock_max_sessions, p->sock_admin_reserve);
    hub_socket_warn(&p->refused_logged_ns, &p->refused_unlogged,
                    admin ? "an admin session refused at the session cap"
                          : "a session refused at the session cap");
    if (kind == CONTROL_CALL) {
        struct control_msg m = control_answer_fail(kind, err_name(-ERR_UNAVAILABLE), msg);
        hub_control_send_msg(p->control, fd, &m);
        return;
    }
    char *line = jsonrpc_build_error(NULL, -32000, msg, NULL);
    hub_control_send(p->control, fd, line);
    free(line);
}

static void hub_close_fds(int *fds, int nfds)
{
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
}

/* Read a connection's first line as a control line (rpc/control.h) when
 * it is one. 0 with *ctl (kind CONTROL_NONE: an MCP message), or an
 * error with *e, the line refused. */
static int hub_first_line(const char *buf, size_t n, const char *nl, struct control_msg *ctl,
                          struct control_error *e)
{
    memset(ctl, 0, sizeof(*ctl));
    if (!control_is_line(buf, nl ? (size_t)(nl - buf) : n))
        return 0;
    if (nl)
        return control_parse_request(buf, (size_t)(nl - buf), ctl, e);
    /* The hub reads a first line in one read of HUB_CTL_MAX bytes. */
    e->err = n >= HUB_CTL_MAX ? -ERR_TOO_LARGE : -ERR_PARSE;
    if (n >= HUB_CTL_MAX)
        snprintf(e->message, sizeof(e->message), "a control line takes at most %d bytes",
                 (int)HUB_CTL_MAX);
    else
        snprintf(e->message, sizeof(e->message), "%s",
                 "a control line must reach the hub whole, newline included, in one write");
    return e->err;
}

/* Open the session a first line asks for (attach, resume, admin, or an
 * MCP message with kind CONTROL_NONE); fds are taken. */
static void hub_session_open(struct hub_sessions *p, int fd, const struct control_msg *ctl,
                             const char *buf, size_t n, const char *nl, int *fds, int nfds)
{
    bool admin = ctl->kind == CONTROL_ADMIN;
    bool attach = ctl->kind == CONTROL_ATTACH;
    /* The workspace owner's tool (the CLI): admin, never an agent itself;
     * it acts for the agents its calls name. */
    struct hub_session *s = hub_session_new(p, attach ? &hub_attached_kind : &hub_socket_kind,
                                            admin ? HUB_AS_NONE : HUB_AS_AGENT, true, 0);
    s->admin = admin;
    if (attach) {
        s->conn =
            lineconn_new(p->base, fds[0], fds[1], HUB_MAX_LINE, HUB_MAX_OUT, &hub_conn_cbs, s);
        s->ctl = lineconn_new(p->base, fd, fd, HUB_CTL_MAX, HUB_CTL_MAX * 4, &hub_ctl_cbs, s);
        const struct control_msg ok = {.kind = CONTROL_ATTACHED};
        hub_session_send_ctl(s, &ok);
        hub_session_resume(s, &ctl->u.attach);
        log_debug("session %llu attached (fd handover)", (unsigned long long)s->id);
        return;
    }
    hub_close_fds(fds, nfds);
    s->conn = lineconn_new(p->base, fd, fd, HUB_MAX_LINE, HUB_MAX_OUT, &hub_conn_cbs, s);
    size_t skip = 0;
    if (ctl->kind == CONTROL_RESUME)
        hub_session_resume(s, &ctl->u.attach);
    if (ctl->kind != CONTROL_NONE)
        skip = (size_t)(nl - buf) + 1; /* the MCP messages follow the control line */
    lineconn_feed(s->conn, buf + skip, n - skip);
}

/* What a parsed first line leads to, the connection fd taken. */
static void hub_first_line_dispatch(struct hub_sessions *p, int fd, int rc,
                                    const struct control_msg *ctl, const struct control_error *e,
                                    const char *buf, size_t n, const char *nl, int *fds, int nfds)
{
    /* A one-shot call with a token is the owner's; without one, an agent's. */
    bool admin = ctl->kind == CONTROL_ADMIN || (ctl->kind == CONTROL_CALL && ctl->token_given);
    const char *refusal = admin && rc == 0 ? hub_control_refusal(p->control, ctl) : NULL;
    if (rc != 0 || refusal || ctl->kind == CONTROL_KEY || ctl->kind == CONTROL_STOP) {
        /* One answer line, then the connection closes. */
        hub_close_fds(fds, nfds);
        if (rc != 0)
            hub_control_invalid(p->control, fd, ctl, e);
        else if (refusal)
            hub_control_refuse(p->control, fd, ctl->kind, refusal);
        else
            p->host->request(p->host_arg, fd, ctl, admin);
    } else if (ctl->kind == CONTROL_ATTACH && nfds != 2) {
        /* The descriptors did not come (the hub out of them): the bridge
         * relays instead. */
        hub_close_fds(fds, nfds);
        log_warn("socket: an attach line came without its two descriptors; told to relay");
        struct control_msg no = {.kind = CONTROL_REFUSED};
        no.u.refused.error = "the descriptors did not arrive with the attach line; relay instead";
        hub_control_send_msg(p->control, fd, &no);
    } else if (hub_socket_full(p, admin)) {
        hub_close_fds(fds, nfds);
        hub_socket_refuse(p, fd, admin, ctl->kind);
    } else if (ctl->kind == CONTROL_CALL) {
        hub_close_fds(fds, nfds);
        p->host->request(p->host_arg, fd, ctl, admin);
    } else {
        hub_session_open(p, fd, ctl, buf, n, nl, fds, nfds);
    }
}

static void hub_first_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hub_pending_conn *pc = arg;
    struct hub_sessions *p = pc->part;
    if (what & EV_TIMEOUT) {
        hub_pending_drop(pc, "a connection sent no first line in time; closed");
        return;
    }
    char buf[HUB_CTL_MAX];
    int fds[2] = {-1, -1};
    int nfds = 0;
    ssize_t n = fdpass_recv((int)fd, buf, sizeof(buf), fds, 2, &nfds);
    if (n <= 0) {
        hub_close_fds(fds, nfds);
        close((int)fd);
        hub_pending_free(pc);
        return;
    }
    hub_pending_free(pc);
    const char *nl = memchr(buf, '\n', (size_t)n);
    struct control_msg ctl;
    struct control_error e;
    int rc = hub_first_line(buf, (size_t)n, nl, &ctl, &e);
    hub_first_line_dispatch(p, (int)fd, rc, &ctl, &e, buf, (size_t)n, nl, fds, nfds);
    control_msg_free(&ctl);
}

static void hub_accept_cb(void *arg, int fd, const struct sockaddr *sa, socklen_t len)
{
    struct hub_sessions *p = arg;
    (void)sa;
    (void)len;
    if (p->npending >= p->sock_max_pending && p->pending_head)
        hub_pending_drop(p->pending_head, "pending connections at their cap; the oldest closed");
    struct hub_pending_conn *pc = xcalloc(1, sizeof(*pc));
    pc->part = p;
    pc->fd = fd;
    pc->ev = event_new(p->base, fd, EV_READ, hub_first_read_cb, pc);
    pc->prev = p->pending_tail;
    if (p->pending_tail)
        p->pending_tail->next = pc;
    else
        p->pending_head = pc;
    p->pending_tail = pc;
    p->npending++;
    struct timeval tv = clock_timeval_ms(p->first_line_ms);
    event_add(pc->ev, &tv);
}

static const bool hub_sessions_never = false; /* stopping until the hub says where its flag is */

void hub_sessions_init(struct hub_sessions *p, struct event_base *base, const struct options *opt,
                       const char *hub_id, const struct hub_sessions_host *host, void *host_arg)
{
    p->stopping = &hub_sessions_never;
    p->stop_requested = &hub_sessions_never;
    p->base = base;
    p->opt = opt;
    p->hub_id = hub_id;
    p->host = host;
    p->host_arg = host_arg;
    map_init(&p->by_id);
    p->list = NULL;
    p->count = 0;
}

/* A bound, listening Unix socket at path (mode 0600), or -errno. */
static int hub_bind_unix(const char *path)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sun, (socklen_t)sizeof(sun));
    umask(old);
    if (rc == 0)
        rc = listen(fd, SOMAXCONN);
    if (rc != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    chmod(path, 0600);
    return fd;
}

int hub_sessions_listen(struct hub_sessions *p)
{
    p->sock_path = options_state_path(p->opt, "hub.sock");
    if (strlen(p->sock_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
        fprintf(stderr, "coordhub: socket path too long (%zu > %zu bytes): %s\n",
                strlen(p->sock_path), sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1,
                p->sock_path);
        free(p->sock_path);
        p->sock_path = NULL;
        return -ENAMETOOLONG;
    }
    /* We hold the flock, so any existing socket file is stale. */
    unlink(p->sock_path);
    int fd = hub_bind_unix(p->sock_path);
    if (fd < 0) {
        fprintf(stderr, "coordhub: cannot listen on %s: %s\n", p->sock_path, strerror(-fd));
        return fd;
    }
    const struct listener_config lc = {
        .what = "socket", .pause_ms = HUB_SOCKET_PAUSE_MS, .log_interval_ms = HUB_SOCKET_LOG_MS};
    return listener_new(p->base, fd, &lc, hub_accept_cb, p, &p->listener);
}

void hub_sessions_fini(struct hub_sessions *p)
{
    while (p->pending_head) {
        struct hub_pending_conn *pc = p->pending_head;
        close(pc->fd);
        hub_pending_free(pc);
    }
    while (p->list) {
        struct hub_session *s = p->list;
        if (s->id != 0)
            hub_session_close(s);
        else
            hub_session_free(s);
    }
    listener_free(p->listener);
    p->listener = NULL;
    if (p->sock_path)
        unlink(p->sock_path);
    free(p->sock_path);
    p->sock_path = NULL;
    map_deinit(&p->by_id);
}

/* ---- committed events ------------------------------------------------------------------ */

/* Which coord:// resources an event changes. */
static void hub_session_notify_resources(struct hub_session *s, const char *type)
{
    mcp_session_resource_updated(s->mcp, "coord://events/recent");
    if (strncmp(type, "file:", 5) == 0) {
        mcp_session_resource_updated(s->mcp, "coord://locks");
        mcp_session_resource_updated(s->mcp, "coord://status");
    } else if (strncmp(type, "agent:", 6) == 0) {
        mcp_session_resource_updated(s->mcp, "coord://agents");
        mcp_session_resource_updated(s->mcp, "coord://status");
    } else if (strncmp(type, "task:", 5) == 0) {
        mcp_session_resource_updated(s->mcp, "coord://tasks");
        mcp_session_resource_updated(s->mcp, "coord://status");
    } else if (strncmp(type, "health:", 7) == 0 || strncmp(type, "server:", 7) == 0) {
        mcp_session_resource_updated(s->mcp, "coord://health");
        mcp_session_resource_updated(s->mcp, "coord://status");
    }
}

/* How loudly to tell a session about an event: an announcement (seq 0:
 * health:degraded while the store is away, writes refused) and something
 * done to its own agent by someone else (a forced release, an expiry) are
 * warnings; the store's recovery is a notice; every other event is
 * debug-level chatter. */
static enum mcp_log_level hub_event_level(const struct hub_session *s, const struct event *ev)
{
    if (ev->seq == 0)
        return MCP_LOG_WARNING;
    if (strcmp(ev->type, "health:recovered") == 0 &&
        strcmp(json_get_str(ev->data, "component", ""), "store") == 0)
        return MCP_LOG_NOTICE;
    if (!s->agent_id)
        return MCP_LOG_DEBUG;
    const char *agent = json_get_str(ev->data, "agentId", NULL);
    if (strcmp(ev->type, "file:unlocked") == 0 && agent && strcmp(agent, s->agent_id) == 0) {
        const char *reason = json_get_str(ev->data, "reason", "");
        if (strcmp(reason, "forced") == 0 || strcmp(reason, "expired") == 0)
            return MCP_LOG_WARNING;
    }
    return MCP_LOG_DEBUG;
}

void hub_sessions_event(struct hub_sessions *p, const struct event *ev, const char *text)
{
    cJSON *data = NULL; /* the event as JSON, built only if a session wants it */
    for (struct hub_session *s = p->list; s; s = s->next) {
        if (s->id == 0 || !s->mcp || !mcp_session_is_initialized(s->mcp))
            continue;
        hub_session_notify_resources(s, ev->type);
        if (s->key && !keys_key_may_subscribe(s->key, ev->type))
            continue; /* not for this session's key */
        enum mcp_log_level level = hub_event_level(s, ev);
        if (!mcp_session_log_wanted(s->mcp, level))
            continue;
        if (!data) {
            int err = 0;
            data = json_parse_bounded(text, strlen(text), JSON_MAX_DEPTH, &err);
        }
        if (data)
            mcp_session_log(s->mcp, level, "coordhub.events", data);
    }
    cJSON_Delete(data);
}

void hub_sessions_agent_removed(struct hub_sessions *p, const struct event *ev)
{
    if (strcmp(ev->type, EVENT_AGENT_REMOVED) != 0 || !event_is_hub(ev))
        return;
    const char *id = json_get_str(ev->data, "agentId", NULL);
    if (!id)
        return;
    for (struct hub_session *s = p->list; s; s = s->next) {
        if (!s->agent_id || strcmp(s->agent_id, id) != 0)
            continue;
        /* The session's agent is gone: its next coordination call
         * registers one again (implicitly, or by register_agent). */
        free(s->agent_id);
        s->agent_id = NULL;
        if (s->mcp && mcp_session_is_initialized(s->mcp)) {
            cJSON *d = cJSON_CreateObject();
            char *msg = str_printf("agent '%s' was removed from the workspace (%s); its leases "
                                   "and tasks were released. Call register_agent to go on.",
                                   id, json_get_str(ev->data, "reason", "removed"));
            cJSON_AddStringToObject(d, "message", msg);
            cJSON_AddStringToObject(d, "agentId", id);
            free(msg);
            mcp_session_log(s->mcp, MCP_LOG_WARNING, "coordhub", d);
            cJSON_Delete(d);
        }
    }
}

void hub_sessions_reattach(const struct hub_sessions *p, struct workspace *ws, int64_t now)
{
    workspace_sessions_reset(ws, now);
    for (const struct hub_session *s = p->list; s; s = s->next)
        if (s->id != 0 && s->agent_id && s->identity == HUB_AS_AGENT)
            workspace_session_attach(ws, s->agent_id, s->sid, now);
}
