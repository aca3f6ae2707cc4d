/* hub_control — control requests on the hub's socket, and who may make
 * them (docs/architecture.md "Sessions and the bridge", docs/security.md).
 *
 * The first line of a connection to hub.sock may be a control line
 * {"coordhub":KIND,…} (rpc/control.h parses and builds them all;
 * docs/socket-protocol.md). Some kinds open an MCP session (attach,
 * resume, admin: hub_session.c); the others are one request and one
 * answer line, after which the connection closes (key: hub_keys.c; stop:
 * below). A control line the hub cannot read is answered with why
 * (hub_control_invalid) and changes nothing.
 *
 * Trust. Every peer of the 0600 socket runs as the workspace owner, but
 * agent sessions act as their agent only: an agent that could release the
 * others' leases, act for them or stop the hub would defeat the leases. A
 * control line proves the owner's intent by carrying the workspace's admin
 * token ("token": the text of <state-dir>/token, which the CLI reads): an
 * `admin` session, `key` and `stop` requests need it; what a client calls
 * itself (clientInfo.name) grants nothing. The hub keeps only the token's
 * SHA-256 and compares digests in constant time (auth/token.h).
 *
 * Answers go out through a lineconn, never blocking the loop: the
 * connection closes once the peer has taken the answer, when the peer
 * goes away, or after HUB_CONTROL_REPLY_MS (a peer that does not read
 * loses its answer). */
#define _GNU_SOURCE
#include "app/hub_control.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/options.h"
#include "auth/token.h"
#include "base/err.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "net/lineconn.h"
#include "rpc/control.h"

#define HUB_CONTROL_REPLY_MS 2000 /* a control peer must take its answer by then */
#define HUB_CONTROL_LINE_MAX 4096 /* input after the request is read and dropped */

/* An answer on its way to a control peer (c->replies). */
struct hub_control_reply {
    struct hub_control *part;
    struct lineconn *conn; /* owns the socket */
    struct event *timer;   /* HUB_CONTROL_REPLY_MS after the answer was queued */
    struct hub_control_reply *prev, *next;
};

static void hub_control_reply_free(struct hub_control_reply *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        r->part->replies = r->next;
    if (r->next)
        r->next->prev = r->prev;
    lineconn_free(r->conn); /* deferred when called from its callback */
    event_free(r->timer);
    free(r);
}

void hub_control_fini(struct hub_control *c)
{
    /* A stop request's answer is among these: let it out before the hub
     * exits, as far as the peers take it now. */
    while (c->replies) {
        lineconn_flush_now(c->replies->conn);
        hub_control_reply_free(c->replies);
    }
}

static void hub_control_reply_line(void *arg, const char *line, size_t len)
{
    (void)arg; /* one request per connection: more input is ignored */
    (void)line;
    (void)len;
}

static void hub_control_reply_oversize(void *arg)
{
    (void)arg;
}

/* The peer went away (or shut its side: then wait for the answer to
 * drain, as the drained callback frees). */
static void hub_control_reply_closed(void *arg, int err)
{
    struct hub_control_reply *r = arg;
    if (err || lineconn_backlog(r->conn) == 0)
        hub_control_reply_free(r);
}

static void hub_control_reply_drained(void *arg)
{
    hub_control_reply_free(arg);
}

static void hub_control_reply_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    log_warn("control request: the peer did not take the answer within %d ms",
             HUB_CONTROL_REPLY_MS);
    hub_control_reply_free(arg);
}

static const struct lineconn_cbs hub_control_reply_cbs = {
    .line = hub_control_reply_line,
    .oversize = hub_control_reply_oversize,
    .closed = hub_control_reply_closed,
};

void hub_control_send(struct hub_control *c, int fd, const char *text)
{
    size_t len = strlen(text);
    struct hub_control_reply *r = xcalloc(1, sizeof(*r));
    r->part = c;
    r->conn =
        lineconn_new(c->base, fd, fd, HUB_CONTROL_LINE_MAX, len + 1, &hub_control_reply_cbs, r);
    r->timer = evtimer_new(c->base, hub_control_reply_timeout, r);
    r->next = c->replies;
    if (r->next)
        r->next->prev = r;
    c->replies = r;
    if (lineconn_send(r->conn, text, len) != 0) {
        log_warn("control request: cannot queue the answer");
        hub_control_reply_free(r);
        return;
    }
    struct timeval tv = {HUB_CONTROL_REPLY_MS / 1000, (HUB_CONTROL_REPLY_MS % 1000) * 1000};
    evtimer_add(r->timer, &tv);
    lineconn_on_drained(r->conn, hub_control_reply_drained);
}

void hub_control_send_msg(struct hub_control *c, int fd, const struct control_msg *m)
{
    char *line = control_build(m);
    size_t len = strlen(line);
    line[len - 1] = '\0'; /* the lineconn ends the line */
    hub_control_send(c, fd, line);
    control_line_free(line); /* a key's create answer holds the key */
}

int hub_control_load_token(struct hub_control *c, const struct options *opt)
{
    char *path = options_state_path(opt, "token");
    char *token = NULL;
    int rc = token_file_read(path, &token);
    c->admin_token_set = false;
    if (rc == 0 && token_digest_init(&c->admin_token, token, strlen(token)))
        c->admin_token_set = true;
    else
        log_error("cannot read the admin token %s: %s; admin requests on the socket are refused",
                  path, rc ? strerror(-rc) : "SHA-256 unavailable");
    if (token) {
        token_cleanse(token, strlen(token));
        free(token);
    }
    free(path);
    return c->admin_token_set ? 0 : -ERR_STATE;
}

const char *hub_control_refusal(const struct hub_control *c, const struct control_msg *ctl)
{
    if (!ctl->token_given)
        return "this request needs the workspace's admin token (\"token\": the text of "
               "<state-dir>/token, which the coordhub CLI sends)";
    if (!ctl->token || !c->admin_token_set ||
        !token_digest_matches(&c->admin_token, ctl->token, strlen(ctl->token)))
        return "the admin token is wrong (it must be the text of <state-dir>/token)";
    return NULL;
}

void hub_control_refuse(struct hub_control *c, int fd, enum control_kind kind, const char *why)
{
    const char *name = control_kind_name(kind);
    log_warn("%s request on the socket refused: %s", name ? name : "control", why);
    struct control_msg m = control_answer_fail(kind, "unauthorized", why);
    hub_control_send_msg(c, fd, &m);
}

void hub_control_invalid(struct hub_control *c, int fd, const struct control_msg *ctl,
                         const struct control_error *e)
{
    bool owner = ctl->kind == CONTROL_ADMIN || ctl->kind == CONTROL_KEY ||
                 ctl->kind == CONTROL_STOP || (ctl->kind == CONTROL_CALL && ctl->token_given);
    const char *refusal = owner ? hub_control_refusal(c, ctl) : NULL;
    if (refusal) {
        hub_control_refuse(c, fd, ctl->kind, refusal);
        return;
    }
    const char *name = control_kind_name(ctl->kind);
    log_warn("a control line on the socket refused (%s): %s", name ? name : "no known kind",
             e->message);
    struct control_msg m = control_answer_fail(ctl->kind, err_name(e->err), e->message);
    hub_control_send_msg(c, fd, &m);
}

bool hub_control_stop(struct hub_control *c, int fd, const struct control_msg *ctl)
{
    const char *refusal = hub_control_refusal(c, ctl);
    if (refusal) {
        hub_control_refuse(c, fd, CONTROL_STOP, refusal);
        return false;
    }
    log_info("stop requested on the socket (coordhub stop): shutting down");
    struct control_msg m = control_answer_ok(CONTROL_STOP, NULL);
    m.u.answer.pid = (int64_t)getpid();
    hub_control_send_msg(c, fd, &m);
    return true;
}
