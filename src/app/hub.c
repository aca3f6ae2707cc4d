/* hub — the hub's life: it composes the parts (docs/architecture.md, "The
 * parts of the hub"), wires each to the others through the host ops it
 * gives them, serves, and tears down.
 *
 * Group commit (hub_commit.c, app/hub_commit.h): a command is evaluated
 * and folded into the workspace at once (so the next command sees it) and
 * its events wait in `pending`, its answer with the commit part.
 * `commit_ev` has a lower priority than every I/O event, so it runs once
 * the turn's reads are done: one store append for all pending events
 * (one batch in flight at a time), then the replies are sent and the
 * events fanned out. Nothing is answered or published before the store
 * has it. If the append loses to
 * another hub's, the batch is evaluated again on the rebuilt state; if it
 * fails, every waiting call is answered with the store error and the
 * workspace is rebuilt from the store, so the in-memory state is never
 * ahead of the log (docs/architecture.md, "Group commit").
 *
 * hub_serve: claim the state dir (hub_daemon.c), fork with --daemon,
 * then start — the tools, the caps, the store and the state
 * (hub_store.c), the admin token and the keys, the loop's timers, the
 * socket (hub_session.c) and the HTTP face — serve until a signal, a
 * stop request or --idle-exit, commit what the last turn left, and tear
 * down in the reverse order. This file is the only one that includes
 * every part's header: nothing includes hub.c's. */
#define _GNU_SOURCE
#include "app/hub.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/event.h>

#include "app/hub_commit.h"
#include "app/hub_control.h"
#include "app/hub_daemon.h"
#include "app/hub_http.h"
#include "app/hub_keys.h"
#include "app/hub_limits.h"
#include "app/hub_metrics.h"
#include "app/hub_oneshot.h"
#include "app/hub_session.h"
#include "app/hub_state.h"
#include "app/hub_store.h"
#include "app/hub_tools.h"
#include "app/hub_waits.h"
#include "app/options.h"
#include "auth/token.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "bus/bus.h"
#include "store/store.h"

#ifndef COORDHUB_VERSION
#define COORDHUB_VERSION "0.0.0"
#endif

#define HUB_LAG_PERIOD_MS 1000

/* ---- the sessions part's host ---------------------------------------------- */

static void hub_host_tool_call(void *arg, struct hub_session *s, uint64_t call_id, const char *name,
                               const cJSON *args)
{
    hub_tool_call(arg, s, call_id, name, args, NULL);
}

static bool hub_host_tool_cancel(void *arg, struct hub_session *s, uint64_t call_id)
{
    return hub_tool_cancel(arg, s, call_id);
}

static cJSON *hub_host_resource_read(void *arg, const char *uri)
{
    return hub_resource_read(arg, uri);
}

static void hub_host_agent_resume(void *arg, struct hub_session *s, const char *agent_id)
{
    hub_agent_resume(arg, s, agent_id);
}

/* What a session whose peer left had parked cannot be answered. */
static void hub_host_session_left(void *arg, struct hub_session *s)
{
    struct hub *h = arg;
    hub_waiters_drop_session(&h->waits, s->id);
    hub_waits_drop_session(&h->waits, s->id);
}

/* A closing session: as left, and its agent detached (offline after the
 * grace period). */
static void hub_host_session_closed(void *arg, struct hub_session *s)
{
    struct hub *h = arg;
    hub_host_session_left(h, s);
    workspace_session_detach(h->ws, s->sid, hub_now(h));
    hub_reschedule_timers(h);
}

/* --idle-exit: a hub that a bridge or a client command started exits
 * once it has had no session for that long (docs/configuration.md), so
 * hubs of workspaces nobody works in do not pile up. Sessions are the MCP
 * sessions of the socket and of /mcp; event streams and REST calls keep
 * no hub alive. */
static void hub_idle_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hub *h = arg;
    (void)fd;
    (void)what;
    if (h->sessions.count > 0)
        return;
    log_info("no session for %lld ms (--idle-exit): shutting down", (long long)h->idle_exit_ms);
    h->stopping = true;
    event_base_loopexit(h->base, NULL);
}

/* The session count changed: with --idle-exit, arm the idle timer when
 * no session is left, disarm it when one opened. */
static void hub_host_count_changed(void *arg, size_t count)
{
    struct hub *h = arg;
    if (!h->idle_ev || h->stopping)
        return;
    if (count > 0) {
        event_del(h->idle_ev);
    } else {
        struct timeval tv = clock_timeval_ms(h->idle_exit_ms);
        event_add(h->idle_ev, &tv);
    }
}

/* Leave the loop; bridges are told "stopping" as their sessions close
 * (hub_session.c), so they exit instead of starting the hub again. */
static void hub_stop_requested(struct hub *h)
{
    h->stop_requested = true;
    h->stopping = true;
    event_base_loopexit(h->base, NULL);
}

/* A first line that opens no session: a key or stop request, a one-shot
 * call. */
static void hub_host_request(void *arg, int fd, const struct control_msg *ctl, bool admin)
{
    struct hub *h = arg;
    if (ctl->kind == CONTROL_KEY)
        hub_keys_control(h, fd, ctl);
    else if (ctl->kind == CONTROL_STOP) {
        if (hub_control_stop(&h->control, fd, ctl))
            hub_stop_requested(h);
    } else
        hub_oneshot_start(h, fd, ctl, admin);
}

static const struct hub_sessions_host hub_sessions_host = {
    .tool_call = hub_host_tool_call,
    .tool_cancel = hub_host_tool_cancel,
    .resource_read = hub_host_resource_read,
    .agent_resume = hub_host_agent_resume,
    .left = hub_host_session_left,
    .closed = hub_host_session_closed,
    .count_changed = hub_host_count_changed,
    .request = hub_host_request,
};

/* ---- the waits part's host: answers go through the commit part ------------ */

static void hub_host_answer(void *arg, struct hub_session *s, uint64_t call_id, cJSON *result,
                            bool is_error, struct hub_call_clock clock)
{
    hub_reply_timed(arg, s, call_id, result, is_error, clock);
}

static void hub_host_lock_answer(void *arg, struct hub_session *s, uint64_t call_id, cJSON *result,
                                 struct hub_call_clock clock, struct workspace_waiter *waiter)
{
    hub_reply_lock_wait(arg, s, call_id, result, clock, waiter);
}

static void hub_host_lock_ended(void *arg, struct hub_call_clock clock, bool granted)
{
    hub_metrics_lock_wait_done(arg, clock, granted);
}

static void hub_host_schedule_commit(void *arg)
{
    hub_schedule_commit(arg);
}

static int64_t hub_host_now(void *arg)
{
    return hub_now(arg);
}

static const struct hub_waits_host hub_waits_host = {
    .answer = hub_host_answer,
    .lock_answer = hub_host_lock_answer,
    .lock_ended = hub_host_lock_ended,
    .schedule_commit = hub_host_schedule_commit,
    .now = hub_host_now,
};

/* ---- the loop's own events ---------------------------------------------------- */

static void hub_commit_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hub_commit_run(arg);
}

static void hub_lag_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hub *h = arg;
    (void)fd;
    (void)what;
    int64_t now = clock_mono_ns();
    if (h->lag_expected_ns) {
        double lag = (double)(now - h->lag_expected_ns) / 1e6;
        h->loop_lag_ms = lag < 0 ? 0 : lag;
    }
    h->lag_expected_ns = now + (int64_t)HUB_LAG_PERIOD_MS * 1000000;
}

static void hub_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct hub *h = arg;
    (void)what;
    log_info("signal %d: shutting down", (int)sig);
    h->stopping = true;
    event_base_loopexit(h->base, NULL);
}

static void hub_bus_event(void *arg, const struct event *ev, const char *text)
{
    struct hub *h = arg;
    hub_metrics_event(h, ev);
    hub_sessions_agent_removed(&h->sessions, ev);
    hub_sessions_event(&h->sessions, ev, text);
}

/* The commit, lag, signal and --idle-exit events of the loop. 0, or
 * -ERR_INVALID for a bad --idle-exit (said on stderr). */
static int hub_loop_events(struct hub *h)
{
    const struct options *o = h->opt;
    h->commit_ev = event_new(h->base, -1, 0, hub_commit_cb, h);
    event_priority_set(h->commit_ev, 1);
    hub_store_timers(h);
    h->lag_ev = event_new(h->base, -1, EV_PERSIST, hub_lag_cb, h);
    struct timeval lag_tv = {.tv_sec = HUB_LAG_PERIOD_MS / 1000, .tv_usec = 0};
    event_add(h->lag_ev, &lag_tv);
    h->sig_term = evsignal_new(h->base, SIGTERM, hub_signal_cb, h);
    h->sig_int = evsignal_new(h->base, SIGINT, hub_signal_cb, h);
    event_add(h->sig_term, NULL);
    event_add(h->sig_int, NULL);
    if (o->idle_exit &&
        options_duration_ms(o->idle_exit, OPTIONS_IDLE_EXIT_MAX_MS, &h->idle_exit_ms) != 0) {
        fprintf(stderr, "coordhub: bad --idle-exit '%s'\n", o->idle_exit);
        return -ERR_INVALID;
    }
    if (h->idle_exit_ms > 0)
        h->idle_ev = evtimer_new(h->base, hub_idle_cb, h);
    return 0;
}

/* ---- start and stop -------------------------------------------------------------- */

/* The hub before anything is opened: its parts empty, wired to it. */
static void hub_init(struct hub *h, const struct options *o)
{
    memset(h, 0, sizeof(*h));
    h->opt = o;
    h->daemon.lock_fd = -1;
    h->daemon.ready_fd = -1;
    event_vec_init(&h->pending);
    hub_metrics_init(h);
}

/* The identity and the clock of this run, and the workspace's config. 0,
 * or -ERR_INVALID for a bad --agent-retention (said on stderr). */
static int hub_identity(struct hub *h)
{
    const struct options *o = h->opt;
    h->started_ms = clock_wall_ms();
    unsigned short rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        rnd = (unsigned short)getpid();
    snprintf(h->hub_id, sizeof(h->hub_id), "hub-%04x", rnd);
    h->wscfg.name = o->workspace;
    h->wscfg.root = o->root;
    if (o->agent_retention && (options_duration_ms(o->agent_retention, OPTIONS_RETENTION_MAX_MS,
                                                   &h->wscfg.agent_retention_ms) != 0 ||
                               h->wscfg.agent_retention_ms < 1000)) {
        fprintf(stderr, "coordhub: bad --agent-retention '%s'\n", o->agent_retention);
        return -ERR_INVALID;
    }
    return 0;
}

/* The loop, with its parts: sessions, waits and control wired to the
 * hub. 0, or -ERR_NOMEM when there is no loop. */
static int hub_loop_open(struct hub *h)
{
    h->base = event_base_new();
    if (!h->base)
        return -ENOMEM;
    event_base_priority_init(h->base, 2);
    h->control.base = h->base;
    hub_sessions_init(&h->sessions, h->base, h->opt, h->hub_id, &hub_sessions_host, h);
    h->sessions.control = &h->control;
    h->sessions.metrics = &h->metrics;
    h->sessions.stopping = &h->stopping;
    h->sessions.stop_requested = &h->stop_requested;
    const struct hub_waits_state st = {
        .ws = &h->ws,
        .pending = &h->pending,
        .bus = &h->bus,
        .store = &h->store,
        .committed_seq = &h->committed_seq,
        .workspace = h->opt->workspace,
        .metrics = &h->metrics,
        .sessions = &h->sessions,
    };
    hub_waits_init(&h->waits, h->base, &st, &hub_waits_host, h);
    return 0;
}

/* The start-up lines: pid, socket, HTTP URL (with the admin token) when
 * the face is up, workspace and store (caller frees). */
static char *hub_announce_text(struct hub *h)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return xstrdup("");
    fprintf(f, "coordhub: hub pid %d\n", (int)getpid());
    fprintf(f, "coordhub: listening on unix:%s\n", h->sessions.sock_path);
    hub_http_announce(h, f);
    char *shown = store_url_redact(h->opt->store_url);
    fprintf(f, "coordhub: workspace '%s' at %s, store %s\n", h->opt->workspace, h->opt->root,
            shown);
    free(shown);
    fclose(f);
    return text;
}

/* Serving: say so in the log and to the starter (one line per face,
 * docs/cli.md "serve": on stdout in the foreground; a daemon hands them
 * to its parent, which prints them before it returns). */
static void hub_announce(struct hub *h)
{
    const struct options *o = h->opt;
    char idle[48] = "never";
    if (h->idle_exit_ms > 0)
        snprintf(idle, sizeof(idle), "%lld ms", (long long)h->idle_exit_ms);
    log_info("coordhub %s serving workspace '%s' (root %s, store %s, seq %llu, idle-exit %s)",
             COORDHUB_VERSION, o->workspace, o->root, h->store->ops->name,
             (unsigned long long)h->committed_seq, idle);
    char *faces = hub_announce_text(h);
    hub_daemon_ready(&h->daemon, faces);
    token_cleanse(faces, strlen(faces)); /* the URL holds the admin token */
    free(faces);
}

/* Everything between the claim of the state dir and serving. 0, or an
 * error (said on stderr, or in errno). */
static int hub_start(struct hub *h)
{
    const struct options *o = h->opt;
    hub_tools_init(h);            /* here: the daemon's parent returns without a teardown */
    h->commit = hub_commit_new(); /* likewise */
    hub_fit_caps(h);              /* before the store and the faces take descriptors */
    signal(SIGPIPE, SIG_IGN);
    hub_daemon_write_pid(&h->daemon);
    int rc = hub_identity(h);
    if (rc == 0)
        rc = hub_loop_open(h);
    if (rc == 0)
        rc = hub_store_start(h, hub_bus_event);
    if (rc)
        return rc;
    hub_daemon_ensure_token(o);
    (void)hub_control_load_token(&h->control, o); /* logged: admin requests are refused then */
    rc = hub_keys_open(h);
    if (rc == 0)
        rc = hub_loop_events(h);
    if (rc == 0)
        rc = hub_sessions_listen(&h->sessions);
    if (rc)
        return rc;
    rc = hub_http_start(h);
    if (rc) {
        errno = 0; /* hub_http_start said why; errno is stale */
        return rc;
    }
    /* Agents restored from the log count as detached since now: ticks will
     * take them offline after the grace period unless they come back. */
    hub_reschedule_timers(h);
    hub_host_count_changed(h, 0); /* no session yet: the idle time runs from the start */
    hub_daemon_write_record(o);
    return 0;
}

static void hub_teardown(struct hub *h)
{
    hub_http_stop(h);
    hub_sessions_fini(&h->sessions);
    hub_control_fini(&h->control);
    hub_waits_fini(&h->waits);
    hub_keys_close(h); /* after the face and the sessions that point at keys */
    hub_tools_fini(h); /* after the sessions whose calls it dispatched */
    hub_metrics_fini(h);
    struct event *evs[] = {h->commit_ev, h->tick_ev, h->reload_ev, h->lag_ev,
                           h->sig_term,  h->sig_int, h->idle_ev};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i])
            event_free(evs[i]);
    hub_commit_free(h->commit);
    workspace_free(h->committed_view);
    event_vec_deinit(&h->pending);
    bus_free(h->bus);
    workspace_free(h->ws);
    if (h->store)
        h->store->ops->close(h->store);
    if (h->base)
        event_base_free(h->base);
    free(h->store_error);
    free(h->replica_text);
    free(h->down_reason);
    hub_daemon_fini(&h->daemon);
}

int hub_serve(const struct options *o)
{
    struct hub hub;
    struct hub *h = &hub;
    hub_init(h, o);
    int exit_code = hub_daemon_claim(&h->daemon, o);
    if (exit_code != 0 || hub_daemon_detach(&h->daemon, o, &exit_code)) {
        hub_metrics_fini(h);
        return exit_code;
    }
    int lvl = o->log_level ? log_level_parse(o->log_level) : LOG_LEVEL_INFO;
    log_setup(2, lvl < 0 ? LOG_LEVEL_INFO : (enum log_level)lvl);
    exit_code = 1;
    errno = 0;
    if (hub_start(h) == 0) {
        hub_announce(h);
        event_base_dispatch(h->base);
        /* Commit what is in flight and what was evaluated in the last
         * turn before leaving. */
        hub_commit_drain(h);
        log_info("coordhub stopped");
        exit_code = 0;
    } else if (errno) {
        log_error("start-up failed: %s", strerror(errno));
    }
    hub_teardown(h);
    return exit_code;
}
