/* bridge — fd handover with re-attach; relay as the fallback.
 *
 * State kept across hub restarts: the client's initialize params and the
 * session's agent id, learnt from the hub's "session" control messages
 * (handover mode) or by reading the client's initialize request (relay
 * mode). Restarts are rate-limited: more than BRIDGE_MAX_RESTARTS within
 * a minute means the hub cannot stay up, and the bridge gives up. */
#define _GNU_SOURCE
#include "app/bridge.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "app/client.h"
#include "app/options.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/xmalloc.h"
#include "net/fdpass.h"
#include "rpc/control.h"

#define BRIDGE_MAX_RESTARTS 10
#define BRIDGE_CTL_MAX (1024 * 1024)
#define BRIDGE_FIRST_MAX 4096 /* relay: what is kept of the hub's first output */

struct bridge {
    const struct options *opt;
    cJSON *init;    /* owned: the client's initialize params, once known */
    char *agent_id; /* owned */
    int64_t restarts[BRIDGE_MAX_RESTARTS];
    int nrestarts;
};

static void bridge_log(const char *fmt, const char *arg)
{
    fprintf(stderr, "coordhub mcp: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
}

/* The control line for attach/resume (rpc/control.h). */
static char *bridge_ctl_line(struct bridge *b, enum control_kind kind)
{
    struct control_msg m = {.kind = kind};
    m.u.attach.init = b->init;
    m.u.attach.agent_id = b->agent_id;
    m.u.attach.agent = b->opt->agent;
    /* Relative paths of a client without MCP roots resolve against the
     * directory the IDE started the bridge in (docs/architecture.md). */
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) && cwd[0] == '/')
        m.u.attach.cwd = cwd;
    return control_build(&m);
}

static void bridge_learn(struct bridge *b, const struct control_session *msg)
{
    if (msg->init) {
        cJSON_Delete(b->init);
        b->init = cJSON_Duplicate(msg->init, 1);
    }
    if (msg->agent_id) {
        free(b->agent_id);
        b->agent_id = xstrdup(msg->agent_id);
    }
}

/* Say why the hub refused the session, if line says it did: a control
 * answer that is not ok, or a JSON-RPC error (its session cap). */
static bool bridge_refusal(const char *line, size_t len)
{
    if (control_is_line(line, len)) {
        struct control_msg m;
        struct control_error e;
        bool no = control_parse_reply(line, len, &m, &e) == 0 && m.kind == CONTROL_ANSWER &&
                  !m.u.answer.ok;
        if (no)
            bridge_log("the hub refused the session: %s", m.u.answer.error);
        control_msg_free(&m);
        return no;
    }
    int err = 0;
    cJSON *msg = json_parse_bounded(line, len, JSON_MAX_DEPTH, &err);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(msg, "error");
    bool no = (!id || cJSON_IsNull(id)) && cJSON_IsObject(error);
    if (no)
        bridge_log("the hub refused the session: %s",
                   json_get_str(error, "message", "no reason given"));
    cJSON_Delete(msg);
    return no;
}

/* BRIDGE_FULL: the hub answered a JSON-RPC error (its session cap,
 * hub_session.c) or a control refusal instead of taking the session:
 * starting another hub would not help, so the bridge says why and exits.
 * BRIDGE_REFUSED: the hub did not get the descriptors; relay instead. */
enum bridge_outcome { BRIDGE_BYE, BRIDGE_STOPPED, BRIDGE_HUB_LOST, BRIDGE_REFUSED, BRIDGE_FULL };

/* Handover mode: pass fds 0 and 1, then follow the control channel. */
static enum bridge_outcome bridge_attach(struct bridge *b, int sock)
{
    char *line = bridge_ctl_line(b, CONTROL_ATTACH);
    int fds[2] = {0, 1};
    int rc = fdpass_send(sock, line, strlen(line), fds, 2);
    control_line_free(line);
    if (rc)
        return BRIDGE_HUB_LOST;
    struct buf in;
    buf_init(&in, BRIDGE_CTL_MAX);
    bool attached = false, refused = false;
    enum bridge_outcome out = BRIDGE_HUB_LOST;
    for (;;) {
        char tmp[8192];
        ssize_t n = read(sock, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || buf_append(&in, tmp, (size_t)n) != 0)
            break;
        char *nl;
        while ((nl = memchr(in.data, '\n', in.len))) {
            size_t len = (size_t)(nl - in.data);
            struct control_msg msg;
            struct control_error e;
            int prc = control_parse_reply(in.data, len, &msg, &e);
            if (!attached && (prc != 0 || msg.kind == CONTROL_ANSWER) &&
                bridge_refusal(in.data, len))
                out = BRIDGE_FULL;
            else if (msg.kind == CONTROL_ATTACHED)
                attached = true;
            else if (msg.kind == CONTROL_REFUSED)
                refused = true;
            else if (msg.kind == CONTROL_SESSION)
                bridge_learn(b, &msg.u.session);
            else if (msg.kind == CONTROL_BYE)
                out = BRIDGE_BYE;
            else if (msg.kind == CONTROL_STOPPING)
                out = BRIDGE_STOPPED;
            control_msg_free(&msg);
            buf_consume(&in, len + 1);
            if (out == BRIDGE_BYE || out == BRIDGE_STOPPED || out == BRIDGE_FULL)
                goto done;
        }
    }
done:
    buf_deinit(&in);
    (void)attached;
    return refused ? BRIDGE_REFUSED : out;
}

static int bridge_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Relay mode helper: remember the client's initialize params. */
static void bridge_sniff(struct bridge *b, const char *line, size_t len)
{
    if (b->init || len > BRIDGE_CTL_MAX || !memmem(line, len, "\"initialize\"", 12))
        return;
    int err = 0;
    cJSON *msg = json_parse_bounded(line, len, JSON_MAX_DEPTH, &err);
    if (msg && strcmp(json_get_str(msg, "method", ""), "initialize") == 0) {
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
        if (cJSON_IsObject(params))
            b->init = cJSON_Duplicate(params, 1);
    }
    cJSON_Delete(msg);
}

/* Relay mode: was all the hub sent one JSON-RPC error line with id null
 * (its session cap refusing the connection)? Then say so (the line was
 * relayed to the client too). first: the start of what the hub sent. */
static bool bridge_relay_refused(const struct buf *first, size_t total)
{
    const char *nl = first->data ? memchr(first->data, '\n', first->len) : NULL;
    if (!nl || total != (size_t)(nl - first->data) + 1)
        return false;
    return bridge_refusal(first->data, (size_t)(nl - first->data));
}

/* Relay mode: copy stdin → socket and socket → stdout. */
static enum bridge_outcome bridge_relay(struct bridge *b, int sock, bool *stdin_done)
{
    {
        /* Always: besides a re-attach's init params it carries --agent and
         * the working directory paths resolve against. */
        char *line = bridge_ctl_line(b, CONTROL_RESUME);
        int rc = bridge_write_all(sock, line, strlen(line));
        control_line_free(line);
        if (rc)
            return BRIDGE_HUB_LOST;
    }
    struct buf pend; /* partial stdin line, for sniffing */
    buf_init(&pend, 0);
    struct buf first; /* the start of the hub's output, for bridge_relay_refused */
    buf_init(&first, BRIDGE_FIRST_MAX);
    size_t from_hub = 0;
    enum bridge_outcome out = BRIDGE_HUB_LOST;
    for (;;) {
        struct pollfd p[2] = {{.fd = *stdin_done ? -1 : 0, .events = POLLIN},
                              {.fd = sock, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        char tmp[65536];
        if (p[1].revents) {
            ssize_t n = read(sock, tmp, sizeof(tmp));
            if (n <= 0) {
                out = *stdin_done ? BRIDGE_BYE : BRIDGE_HUB_LOST;
                if (bridge_relay_refused(&first, from_hub))
                    out = BRIDGE_FULL;
                break;
            }
            if (from_hub < BRIDGE_FIRST_MAX && buf_append(&first, tmp, (size_t)n) != 0)
                buf_reset(&first);
            from_hub += (size_t)n;
            if (bridge_write_all(1, tmp, (size_t)n) != 0) {
                out = BRIDGE_BYE;
                break;
            }
        }
        if (p[0].revents) {
            ssize_t n = read(0, tmp, sizeof(tmp));
            if (n <= 0) {
                *stdin_done = true;
                shutdown(sock, SHUT_WR);
                continue;
            }
            if (!b->init) {
                if (buf_append(&pend, tmp, (size_t)n) != 0)
                    buf_reset(&pend);
                char *nl;
                while (pend.data && (nl = memchr(pend.data, '\n', pend.len))) {
                    bridge_sniff(b, pend.data, (size_t)(nl - pend.data));
                    buf_consume(&pend, (size_t)(nl - pend.data) + 1);
                }
            }
            if (bridge_write_all(sock, tmp, (size_t)n) != 0)
                break;
        }
    }
    buf_deinit(&pend);
    buf_deinit(&first);
    return out;
}

/* Has the IDE gone? It closed its end of our stdin and nothing it wrote
 * is left to read (POLLHUP without POLLIN), or it no longer reads our
 * stdout (POLLERR). While the descriptors are handed over the hub reads
 * them, so this looks without reading; a client that wrote its requests
 * and closed stdin (`… | coordhub mcp`) is still served while they wait
 * to be read. stdin_done: relay mode read stdin to its end. */
static bool bridge_client_gone(bool stdin_done)
{
    if (stdin_done)
        return true;
    struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = 1, .events = POLLOUT}};
    int n;
    do {
        n = poll(p, 2, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return false;
    bool in_gone =
        (p[0].revents & POLLNVAL) || ((p[0].revents & POLLHUP) && !(p[0].revents & POLLIN));
    return in_gone || (p[1].revents & (POLLERR | POLLNVAL));
}

static bool bridge_may_restart(struct bridge *b)
{
    int64_t now = clock_mono_ms();
    int recent = 0;
    for (int i = 0; i < b->nrestarts; i++)
        if (now - b->restarts[i] < 60000)
            recent++;
    if (recent >= BRIDGE_MAX_RESTARTS)
        return false;
    b->restarts[b->nrestarts++ % BRIDGE_MAX_RESTARTS] = now;
    if (b->nrestarts > BRIDGE_MAX_RESTARTS)
        b->nrestarts = BRIDGE_MAX_RESTARTS;
    return true;
}

/* The hub can only take descriptors its loop can poll: pipes, sockets and
 * terminals, not regular files or /dev/null. Ask epoll itself. */
static bool bridge_can_hand_over(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return false;
    struct epoll_event in = {.events = EPOLLIN}, out = {.events = EPOLLOUT};
    bool ok =
        epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in) == 0 && epoll_ctl(ep, EPOLL_CTL_ADD, 1, &out) == 0;
    close(ep);
    return ok;
}

int bridge_main(const struct options *o)
{
    struct bridge b = {.opt = o};
    signal(SIGPIPE, SIG_IGN);
    bool relay = !bridge_can_hand_over();
    bool stdin_done = false;
    int code = 0;
    for (;;) {
        /* A bridge whose client has gone never starts a hub: nobody would
         * use it (docs/architecture.md). */
        if (bridge_client_gone(stdin_done)) {
            bridge_log("%s", "the client has gone; not starting the hub");
            break;
        }
        char *err = NULL;
        int sock = client_connect_socket(o, true, &err);
        if (sock < 0) {
            bridge_log("%s", err ? err : "cannot reach the hub");
            free(err);
            code = 1;
            break;
        }
        enum bridge_outcome out;
        if (!relay) {
            out = bridge_attach(&b, sock);
            if (out == BRIDGE_REFUSED) {
                /* The hub would not take the descriptors: relay instead. */
                relay = true;
                close(sock);
                continue;
            }
        } else {
            out = bridge_relay(&b, sock, &stdin_done);
        }
        close(sock);
        if (out == BRIDGE_BYE)
            break;
        if (out == BRIDGE_FULL) {
            code = 1;
            break;
        }
        if (out == BRIDGE_STOPPED) {
            bridge_log("%s", "the hub was stopped (coordhub stop); exiting");
            break;
        }
        if (!bridge_may_restart(&b)) {
            bridge_log("%s", "the hub keeps stopping; giving up");
            code = 1;
            break;
        }
    }
    cJSON_Delete(b.init);
    free(b.agent_id);
    return code;
}
