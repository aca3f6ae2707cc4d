/* hub — lifecycle, the store, loading the state, other hubs' events and
 * timers.
 *
 * Group commit (hub_commit.c): a command is evaluated and folded into the
 * workspace at once (so the next command in the same loop turn sees it)
 * and its events wait in `pending`; replies wait in `replies`.
 * `commit_ev` has a lower priority than every I/O event, so it runs once
 * the turn's reads are done: one store append for all pending events,
 * then the replies are sent and the events fanned out. Nothing is
 * answered or published before the store has it. If the append loses to
 * another hub's, the batch is evaluated again on the rebuilt state; if it
 * fails, every waiting call is answered with the store error and the
 * workspace is rebuilt from the store, so the in-memory state is never
 * ahead of the log (docs/architecture.md, "Group commit").
 *
 * Start-up: flock(hub.lock) makes the hub the only one for its state dir
 * (ten bridges racing to start a hub yield exactly one), then the state is
 * restored from the newest snapshot plus the log tail. */
#define _GNU_SOURCE
#include "app/hub.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "app/casefold.h"
#include "app/hub_internal.h"
#include "app/launch.h"
#include "app/options.h"
#include "auth/token.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "bus/bus.h"
#include "net/listener.h"
#include "rpc/mcp.h"
#include "store/store.h"

#ifndef COORDHUB_VERSION
#define COORDHUB_VERSION "0.0.0"
#endif

int64_t hub_now(struct hub *h)
{
    int64_t ms;
    if (h->store && h->store->ops->now(h->store, &ms) == 0)
        return ms;
    return clock_wall_ms();
}

void hub_schedule_commit(struct hub *h)
{
    event_active(h->commit_ev, EV_TIMEOUT, 0);
}

/* Fan out the events after seq `from` up to committed_seq, read from the
 * log: a reload found them there without this hub having published them
 * (an append reported failed that Redis ran after all, another hub's
 * events met as a conflict), and subscribers must not see a hole. */
static void hub_publish_since(struct hub *h, uint64_t from)
{
    struct event_vec chunk;
    event_vec_init(&chunk);
    uint64_t cursor = from;
    while (cursor < h->committed_seq) {
        event_vec_clear(&chunk);
        if (h->store->ops->read(h->store, cursor, 1024, &chunk) != 0 || chunk.len == 0)
            break;
        for (size_t i = 0; i < chunk.len && chunk.items[i].seq <= h->committed_seq; i++) {
            bus_publish(h->bus, &chunk.items[i]);
            cursor = chunk.items[i].seq;
        }
        if (chunk.items[chunk.len - 1].seq > h->committed_seq)
            break;
    }
    event_vec_deinit(&chunk);
    hub_waits_service(h, false);
}

void hub_sessions_reattach(struct hub *h, struct workspace *ws, int64_t now)
{
    workspace_sessions_reset(ws, now);
    for (struct hub_session *s = h->sessions; s; s = s->next)
        if (s->id != 0 && s->agent_id && !s->oneshot)
            workspace_session_attach(ws, s->agent_id, s->sid, now);
}

/* Read the newest snapshot and fold the log's tail after it into *out.
 * -ERR_CONFLICT when another hub trimmed the log between the reads (the
 * log now begins past the snapshot read, or the tail has a gap): reading
 * again finds that hub's newer snapshot. */
static int hub_read_state(struct hub *h, int64_t now, struct workspace **out, uint64_t *snap_out,
                          uint64_t *first_out, char **errmsg)
{
    struct workspace *ws = workspace_new(&h->wscfg);
    uint64_t snap_seq = 0;
    char *text = NULL;
    int rc = h->store->ops->snapshot_load(h->store, &snap_seq, &text);
    if (rc != 0) {
        *errmsg = xstrdup("cannot read the snapshot");
        workspace_free(ws);
        return rc;
    }
    if (text) {
        int err = 0;
        cJSON *snap = json_parse_bounded(text, strlen(text), 1024, &err);
        if (!snap || workspace_restore(ws, snap, now) != 0) {
            log_warn("snapshot at seq %llu unreadable; replaying the whole log",
                     (unsigned long long)snap_seq);
            workspace_free(ws);
            ws = workspace_new(&h->wscfg);
            snap_seq = 0;
        }
        cJSON_Delete(snap);
    }
    free(text);
    uint64_t first = 1;
    rc = h->store->ops->first_seq(h->store, &first);
    if (rc != 0) {
        *errmsg = xstrdup("cannot read where the log begins");
        workspace_free(ws);
        return rc;
    }
    if (first > workspace_seq(ws) + 1) {
        *errmsg = xstrdup("the log was trimmed past the newest usable snapshot");
        workspace_free(ws);
        return -ERR_CONFLICT;
    }
    struct event_vec tail;
    event_vec_init(&tail);
    for (;;) {
        event_vec_clear(&tail);
        rc = h->store->ops->read(h->store, workspace_seq(ws), 4096, &tail);
        if (rc != 0 || tail.len == 0)
            break;
        for (size_t i = 0; i < tail.len; i++) {
            if (tail.items[i].seq != workspace_seq(ws) + 1) {
                rc = -ERR_CONFLICT; /* trimmed while we read */
                break;
            }
            if (workspace_apply(ws, &tail.items[i]) != 0) {
                log_error("cannot fold event %llu (%s)", (unsigned long long)tail.items[i].seq,
                          tail.items[i].type);
                rc = -ERR_STORE;
                break;
            }
        }
        if (rc)
            break;
    }
    event_vec_deinit(&tail);
    if (rc) {
        *errmsg = xstrdup(rc == -ERR_CONFLICT ? "the log was trimmed while it was read"
                                              : "cannot read the event log");
        workspace_free(ws);
        return rc;
    }
    *out = ws;
    *snap_out = snap_seq;
    *first_out = first;
    return 0;
}

#define HUB_LOAD_ATTEMPTS 8

/* Replace the workspace with the store's view: newest snapshot + tail.
 * Events the log has beyond what this hub published are fanned out. The
 * ephemeral state goes over (workspace_carry_ephemeral): queued lock
 * requests keep their places and deadlines. */
int hub_load_state(struct hub *h, char **errmsg)
{
    uint64_t published = h->committed_seq;
    int64_t now = hub_now(h);
    struct workspace *ws = NULL;
    uint64_t snap_seq = 0, first = 1;
    int rc = -ERR_CONFLICT;
    for (int attempt = 0; attempt < HUB_LOAD_ATTEMPTS && rc == -ERR_CONFLICT; attempt++) {
        if (attempt) {
            log_info("reading the state again: %s", *errmsg);
            free(*errmsg);
        }
        *errmsg = NULL;
        rc = hub_read_state(h, now, &ws, &snap_seq, &first, errmsg);
    }
    if (rc == -ERR_CONFLICT)
        rc = -ERR_STORE; /* trimmed under us every time: give up as before */
    if (rc)
        return rc;
    hub_sessions_reattach(h, ws, now);
    struct workspace_waiter_done_vec dropped = {0};
    if (h->ws)
        workspace_carry_ephemeral(ws, h->ws, &dropped);
    workspace_free(h->ws);
    h->ws = ws;
    h->committed_seq = workspace_seq(ws);
    h->snapshot_seq = snap_seq;
    h->first_seq = first;
    if (h->bus && h->committed_seq > published)
        hub_publish_since(h, published);
    hub_replica_keep(h, true);
    hub_outage_record(h); /* an outage not yet in the log, once the store is back */
    hub_lock_waiters_done(h, &dropped);
    workspace_waiter_done_vec_deinit(&dropped);
    return 0;
}

void hub_maybe_snapshot(struct hub *h)
{
    if (h->committed_seq - h->snapshot_seq < HUB_SNAPSHOT_EVERY) {
        hub_replica_keep(h, false);
        return;
    }
    cJSON *snap = workspace_snapshot(h->ws);
    char *text = json_print(snap);
    int rc = h->store->ops->snapshot_save(h->store, h->committed_seq, text, strlen(text));
    if (rc != 0)
        log_warn("cannot save the snapshot at seq %llu: %s", (unsigned long long)h->committed_seq,
                 coordhub_strerror(rc));
    /* On failure too: the next try comes HUB_SNAPSHOT_EVERY events later,
     * not at every commit (another hub may hold a newer snapshot). */
    h->snapshot_seq = h->committed_seq;
    if (!hub_replica_offer(h, text)) /* the replica of a store that can go away */
        free(text);
    cJSON_Delete(snap);
    if (rc == 0 && h->retain && h->store->ops->caps.trims && h->snapshot_seq > h->retain) {
        uint64_t upto = h->snapshot_seq - h->retain;
        rc = h->store->ops->trim(h->store, upto);
        if (rc == 0 && upto + 1 > h->first_seq) {
            h->metrics.store_trimmed_total += upto + 1 - h->first_seq;
            h->first_seq = upto + 1;
        }
        if (rc != 0)
            log_warn("cannot trim the log up to seq %llu: %s", (unsigned long long)upto,
                     coordhub_strerror(rc));
    }
}

#define HUB_RELOAD_MIN_MS 100
#define HUB_RELOAD_MAX_MS 5000

/* The store failed an append and cannot be read back: serve reads from the
 * committed state marked stale, refuse writes (hub_outage.c, hub_tools.c)
 * and retry the reload with capped exponential backoff, instead of
 * stopping, so the hub comes back by itself with its store. */
void hub_store_went_stale(struct hub *h, const char *why)
{
    if (!h->store_stale) {
        log_error("store unreachable (%s): refusing writes until the state is reloaded", why);
        hub_outage_begin(h, why);
    }
    h->store_stale = true;
    event_del(h->tick_ev);
    if (!h->reload_delay_ms)
        h->reload_delay_ms = HUB_RELOAD_MIN_MS;
    struct timeval tv =
        clock_timeval_ms(clock_backoff_next(&h->reload_delay_ms, HUB_RELOAD_MAX_MS));
    event_add(h->reload_ev, &tv);
}

static void hub_reload_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hub *h = arg;
    (void)fd;
    (void)what;
    char *err = NULL;
    int rc = hub_load_state(h, &err);
    if (rc == -ERR_UNAVAILABLE) {
        free(err);
        hub_store_went_stale(h, coordhub_strerror(rc));
        return;
    }
    if (rc != 0) {
        log_error("cannot reload state from the store: %s; stopping", err);
        free(err);
        event_base_loopbreak(h->base);
        return;
    }
    log_info("store reachable again: state reloaded at seq %llu",
             (unsigned long long)h->committed_seq);
    h->store_stale = false;
    h->stale_reads = false;
    h->reload_delay_ms = 0;
    free(h->store_error);
    h->store_error = NULL;
    hub_outage_record(h);
    hub_lock_waiters_service(h);
    if (h->pending.len)
        hub_schedule_commit(h);
    hub_reschedule_timers(h);
}

static void hub_commit_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hub_commit_run(arg);
}

/* Fold one event that is already in the log and fan it out. */
static int hub_apply_committed(struct hub *h, const struct event *ev)
{
    if (workspace_apply(h->ws, ev) != 0) {
        log_error("cannot fold event %llu (%s) from the log", (unsigned long long)ev->seq,
                  ev->type);
        return -ERR_STORE;
    }
    h->committed_seq = ev->seq;
    bus_publish(h->bus, ev);
    return 0;
}

/* Read and fold whatever the log holds after committed_seq. */
static int hub_catch_up(struct hub *h)
{
    struct event_vec tail;
    event_vec_init(&tail);
    int rc = 0;
    for (;;) {
        event_vec_clear(&tail);
        rc = h->store->ops->read(h->store, h->committed_seq, 1024, &tail);
        if (rc || tail.len == 0)
            break;
        for (size_t i = 0; i < tail.len && rc == 0; i++)
            rc = tail.items[i].seq == h->committed_seq + 1
                     ? hub_apply_committed(h, &tail.items[i])
                     : -ERR_STORE; /* the log has a hole: start over from it */
        if (rc)
            break;
    }
    event_vec_deinit(&tail);
    return rc;
}

/* The state no longer follows the log: rebuild it from the store. */
static void hub_resync(struct hub *h)
{
    char *err = NULL;
    int rc = hub_load_state(h, &err);
    if (rc == -ERR_UNAVAILABLE) {
        hub_store_went_stale(h, err);
    } else if (rc != 0) {
        log_error("cannot reload state from the store: %s; stopping", err);
        event_base_loopbreak(h->base);
    }
    free(err);
}

/* Events another hub appended to the shared log (store listen, docs/architecture.md, "The store
 * layer"), in seq order. They are folded and fanned out like our own committed events. While this
 * turn's own events wait for their append, the state is ahead of the log: nothing is folded then,
 * the append will see the other hub's events as a conflict and reload. n == 0: the store's tail
 * lost its connection; a read tells whether the store is away, so an idle hub goes degraded at once
 * rather than at its next write. */
static void hub_store_heard(void *arg, const struct event *evs, size_t n)
{
    struct hub *h = arg;
    if (h->store_stale || h->pending.len)
        return;
    uint64_t before = h->committed_seq;
    int rc = n == 0 ? hub_catch_up(h) : 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (evs[i].seq <= h->committed_seq)
            continue; /* already folded (our own, or read by a reload) */
        rc = evs[i].seq == h->committed_seq + 1 ? hub_apply_committed(h, &evs[i]) : hub_catch_up(h);
    }
    if (rc == -ERR_UNAVAILABLE) {
        hub_store_went_stale(h, n == 0 ? "the connection to the store was lost and it does not "
                                         "answer"
                                       : coordhub_strerror(rc));
        return;
    }
    if (rc)
        hub_resync(h);
    if (h->committed_seq == before)
        return;
    hub_replica_keep(h, false);
    hub_waits_service(h, false);
    hub_lock_waiters_service(h);
    hub_reschedule_timers(h);
}

void hub_reschedule_timers(struct hub *h)
{
    int64_t next = workspace_next_deadline(h->ws);
    if (next == INT64_MAX) {
        event_del(h->tick_ev);
    } else {
        int64_t delay = next - hub_now(h);
        if (delay < 0)
            delay = 0;
        struct timeval tv = {.tv_sec = delay / 1000, .tv_usec = (delay % 1000) * 1000 + 1000};
        event_add(h->tick_ev, &tv);
    }
    int64_t wnext = hub_waits_next_deadline(h);
    if (wnext == INT64_MAX) {
        event_del(h->wait_ev);
    } else {
        int64_t delay = wnext - clock_mono_ms();
        if (delay < 0)
            delay = 0;
        struct timeval tv = {.tv_sec = delay / 1000, .tv_usec = (delay % 1000) * 1000};
        event_add(h->wait_ev, &tv);
    }
}

static void hub_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hub *h = arg;
    (void)fd;
    (void)what;
    if (h->store_stale)
        return; /* hub_reload_cb reschedules once the state is reloaded */
    workspace_tick(h->ws, hub_now(h), &h->pending);
    hub_lock_waiters_service(h);
    if (h->pending.len)
        hub_schedule_commit(h);
    hub_reschedule_timers(h);
}

static void hub_wait_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hub *h = arg;
    (void)fd;
    (void)what;
    hub_waits_service(h, true);
    hub_reschedule_timers(h);
}

#define HUB_LAG_PERIOD_MS 1000

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
    if (h->nsessions > 0)
        return;
    log_info("no session for %lld ms (--idle-exit): shutting down", (long long)h->idle_exit_ms);
    h->stopping = true;
    event_base_loopexit(h->base, NULL);
}

void hub_idle_update(struct hub *h)
{
    if (!h->idle_ev || h->stopping)
        return;
    if (h->nsessions > 0) {
        event_del(h->idle_ev);
    } else {
        struct timeval tv = clock_timeval_ms(h->idle_exit_ms);
        event_add(h->idle_ev, &tv);
    }
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
    hub_metrics_event(arg, ev);
    hub_sessions_agent_removed(arg, ev);
    hub_session_event(arg, ev, text);
}

cJSON *hub_health_json(struct hub *h)
{
    const char *hub_status = h->loop_lag_ms > 1000 ? "degraded" : "healthy";
    bool store_bad = h->store_error || h->store_stale;
    const char *store_status = store_bad ? "unhealthy" : "healthy";
    const char *overall = store_bad ? "unhealthy" : hub_status;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "overall", overall);
    cJSON *hub = cJSON_AddObjectToObject(o, "hub");
    cJSON_AddStringToObject(hub, "status", hub_status);
    cJSON_AddStringToObject(hub, "id", h->hub_id);
    cJSON_AddStringToObject(hub, "version", COORDHUB_VERSION);
    cJSON_AddNumberToObject(hub, "pid", (double)getpid());
    cJSON_AddNumberToObject(hub, "uptimeMs", (double)(clock_wall_ms() - h->started_ms));
    cJSON_AddNumberToObject(hub, "loopLagMs", h->loop_lag_ms);
    cJSON_AddNumberToObject(hub, "sessions", (double)h->nsessions);
    cJSON_AddStringToObject(hub, "workspace", h->opt->workspace);
    cJSON *st = cJSON_AddObjectToObject(o, "store");
    cJSON_AddStringToObject(st, "status", store_status);
    cJSON_AddStringToObject(st, "backend", h->store->ops->name);
    json_add_u64(st, "lastSeq", h->committed_seq);
    if (h->store_error)
        cJSON_AddStringToObject(st, "lastError", h->store_error);
    if (h->store_stale) {
        /* Away since when and why; reads answered from the replica or not. */
        cJSON_AddStringToObject(st, "reason", h->down_reason ? h->down_reason : "unreachable");
        char since[40];
        clock_format_iso(h->down_since_ms, since, sizeof(since));
        cJSON_AddStringToObject(st, "since", since);
        cJSON_AddBoolToObject(st, "staleReads", h->stale_reads);
    }
    cJSON_AddArrayToObject(o, "servers");
    return o;
}

static int hub_mkdir_p(const char *path, mode_t mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Create the admin token file (0600) at first start; later issues use it
 * for HTTP access. */
static void hub_ensure_token(struct hub *h)
{
    char *path = options_state_path(h->opt, "token");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        unsigned char raw[24];
        char hex[sizeof(raw) * 2 + 2];
        if (getrandom(raw, sizeof(raw), 0) == (ssize_t)sizeof(raw)) {
            for (size_t i = 0; i < sizeof(raw); i++)
                snprintf(hex + i * 2, 3, "%02x", raw[i]);
            hex[sizeof(raw) * 2] = '\n';
            ssize_t w = write(fd, hex, sizeof(raw) * 2 + 1);
            (void)w;
        }
        close(fd);
    }
    free(path);
}

/* Keep the state directory out of git (docs/configuration.md): it holds
 * the admin token and the database. A `.gitignore` of `*` (which ignores
 * itself too) is written at every start when it is missing — so a state
 * directory made by an older hub gets one as well — unless the directory
 * is a working tree's top (it has a `.git`: a --state-dir naming the
 * repository itself), where `*` would hide the user's files. An existing
 * .gitignore is never changed. */
static void hub_ensure_gitignore(const struct options *o)
{
    char *git = options_state_path(o, ".git");
    bool top = access(git, F_OK) == 0;
    free(git);
    if (top)
        return;
    char *path = options_state_path(o, ".gitignore");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
        static const char text[] = "# coordhub state (admin token, database): never commit it\n*\n";
        if (write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1))
            fprintf(stderr, "coordhub: cannot write %s: %s\n", path, strerror(errno));
        close(fd);
    } else if (errno != EEXIST) {
        fprintf(stderr, "coordhub: cannot create %s: %s\n", path, strerror(errno));
    }
    free(path);
}

static void hub_write_pid(struct hub *h)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
    if (ftruncate(h->lock_fd, 0) == 0 && pwrite(h->lock_fd, line, (size_t)n, 0) == n)
        fsync(h->lock_fd);
}

/* Record how this hub was started (<state-dir>/hub.json, launch.h), for
 * the hubs started automatically after it. */
static void hub_write_record(struct hub *h)
{
    struct launch_record rec;
    launch_record_from_options(h->opt, &rec);
    char *path = options_state_path(h->opt, "hub.json");
    int rc = launch_record_save(path, &rec);
    if (rc)
        log_warn("cannot write %s: %s", path, strerror(-rc));
    free(path);
    launch_record_deinit(&rec);
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
    fprintf(f, "coordhub: listening on unix:%s\n", h->sock_path);
    hub_http_announce(h, f);
    char *shown = store_url_redact(h->opt->store_url);
    fprintf(f, "coordhub: workspace '%s' at %s, store %s\n", h->opt->workspace, h->opt->root,
            shown);
    free(shown);
    fclose(f);
    return text;
}

/* The parent of a daemon: wait on the ready pipe (taken) for "R" and the
 * start-up lines, print them, and give the exit code (1 when the child
 * failed before it was ready: it said why in hub.log or on stderr). */
static int hub_daemon_wait(int fd)
{
    char buf[4096];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(buf) - 1)
            break;
    }
    close(fd);
    buf[len] = '\0';
    if (len == 0 || buf[0] != 'R')
        return 1;
    fputs(buf + 1, stdout);
    fflush(stdout);
    token_cleanse(buf, len);
    return 0;
}

/* Read the pid of the hub holding the lock, or 0. */
static int hub_lock_owner(int fd)
{
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    return (int)strtol(buf, NULL, 10);
}

static void hub_teardown(struct hub *h)
{
    hub_http_stop(h);
    hub_sessions_close_all(h);
    hub_control_close(h);
    hub_keys_close(h); /* after the face and the sessions that point at keys */
    hub_tools_fini(h); /* after the sessions whose calls it dispatched */
    hub_metrics_fini(h);
    listener_free(h->listener);
    if (h->sock_path)
        unlink(h->sock_path);
    struct event *evs[] = {h->commit_ev, h->tick_ev,  h->wait_ev, h->reload_ev,
                           h->lag_ev,    h->sig_term, h->sig_int, h->idle_ev};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i])
            event_free(evs[i]);
    struct hub_reply *r = h->replies;
    while (r) {
        struct hub_reply *n = r->next;
        cJSON_Delete(r->result);
        free(r);
        r = n;
    }
    event_vec_deinit(&h->pending);
    hub_redo_clear(h);
    bus_free(h->bus);
    workspace_free(h->ws);
    if (h->store)
        h->store->ops->close(h->store);
    if (h->base)
        event_base_free(h->base);
    free(h->sock_path);
    free(h->store_error);
    free(h->replica_text);
    free(h->down_reason);
    if (h->lock_fd >= 0)
        close(h->lock_fd);
}

int hub_serve(const struct options *o)
{
    struct hub hub;
    struct hub *h = &hub;
    memset(h, 0, sizeof(*h));
    h->opt = o;
    h->lock_fd = -1;
    h->replies_tail = &h->replies;
    h->redo_tail = &h->redo;
    event_vec_init(&h->pending);
    hub_metrics_init(h);
    int ready_pipe[2] = {-1, -1};
    int exit_code = 1;
    char *errmsg = NULL;

    int rc = hub_mkdir_p(o->state_dir, 0700);
    if (rc) {
        fprintf(stderr, "coordhub: cannot create state dir %s: %s\n", o->state_dir, strerror(-rc));
        return 1;
    }
    hub_ensure_gitignore(o);
    char *lock_path = options_state_path(o, "hub.lock");
    h->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(lock_path);
    if (h->lock_fd < 0) {
        fprintf(stderr, "coordhub: cannot open hub.lock: %s\n", strerror(errno));
        return 1;
    }
    if (flock(h->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int owner = hub_lock_owner(h->lock_fd);
        fprintf(stderr, "coordhub: a hub is already running for %s (pid %d)\n", o->state_dir,
                owner);
        close(h->lock_fd);
        return 3;
    }
    /* The state dir records how its hub was started (launch.h): a hub on
     * another store than the record's must be asked for with --store. */
    char *record_path = options_state_path(o, "hub.json");
    struct launch_record rec;
    rc = launch_record_load(record_path, &rec, &errmsg);
    if (rc == 0)
        rc = launch_serve_check(&rec, o, record_path, &errmsg);
    else if (rc == -ENOENT)
        rc = 0;
    launch_record_deinit(&rec);
    free(record_path);
    if (rc) {
        fprintf(stderr, "coordhub serve: %s\n", errmsg);
        free(errmsg);
        close(h->lock_fd);
        return 2;
    }

    if (o->daemon) {
        if (pipe2(ready_pipe, O_CLOEXEC) != 0)
            goto fail;
        pid_t pid = fork();
        if (pid < 0)
            goto fail;
        if (pid > 0) {
            /* Parent: wait until the child listens (or fails), print the
             * lines it sent (pid, socket, URL), then return. */
            close(ready_pipe[1]);
            close(h->lock_fd);
            return hub_daemon_wait(ready_pipe[0]);
        }
        close(ready_pipe[0]);
        ready_pipe[0] = -1;
        setsid();
        char *log_path = options_state_path(o, "hub.log");
        int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        free(log_path);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            if (devnull > 2)
                close(devnull);
        }
        if (logfd >= 0) {
            dup2(logfd, 2);
            close(logfd);
        }
    }
    int lvl = o->log_level ? log_level_parse(o->log_level) : LOG_LEVEL_INFO;
    log_setup(2, lvl < 0 ? LOG_LEVEL_INFO : (enum log_level)lvl);
    hub_tools_init(h); /* here: the daemon's parent returns without a teardown */
    hub_fit_caps(h);   /* before the store and the faces take descriptors */
    signal(SIGPIPE, SIG_IGN);
    hub_write_pid(h);
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
        goto fail;
    }
    h->base = event_base_new();
    if (!h->base)
        goto fail;
    event_base_priority_init(h->base, 2);
    /* Default retention: what the backend declares — everything on disk
     * (sqlite), a bounded tail in a network store's memory (cli_serve
     * validated --retain-events). */
    const struct store_ops *sops = store_ops_for_url(o->store_url);
    h->retain = sops ? sops->caps.default_retain : 0;
    if (o->retain && options_retain_events(o->retain, &h->retain) != 0) {
        fprintf(stderr, "coordhub: bad --retain-events '%s'\n", o->retain);
        goto fail;
    }
    struct store_open_opts sopts = {.workspace = o->workspace, .loop = h->base, .durable = 1};
    rc = store_open(o->store_url, &sopts, &h->store, &errmsg);
    if (rc) {
        char *shown = store_url_redact(o->store_url);
        fprintf(stderr, "coordhub: cannot open store %s: %s\n", shown,
                errmsg ? errmsg : coordhub_strerror(rc));
        free(shown);
        goto fail;
    }
    {
        /* Whether keys fold case is the workspace's, decided once. */
        bool probed = false;
        int prc = casefold_probe(o->state_dir, &probed);
        if (prc)
            log_warn("case probe in %s failed (%s): assuming a case-sensitive file system",
                     o->state_dir, strerror(-prc));
        char *note = NULL;
        int crc = casefold_decide(h->store, probed, &h->wscfg.fold_case, &note);
        if (crc)
            log_warn("store: cannot read or record whether keys fold case (%s): using this "
                     "file system's answer (%s)",
                     coordhub_strerror(crc), probed ? "fold" : "keep case");
        if (note)
            log_warn("%s", note);
        free(note);
        log_info("lease keys %s", h->wscfg.fold_case ? "fold ASCII case" : "are case-sensitive");
    }
    h->bus = bus_new(HUB_RECENT_EVENTS, o->workspace);
    /* The workspace's observations go to the bus's observation subscribers
     * (docs/architecture.md, "Observations"). */
    h->wscfg.observe = bus_observation_sink(h->bus);
    rc = hub_load_state(h, &errmsg);
    if (rc) {
        fprintf(stderr, "coordhub: cannot load state: %s\n", errmsg);
        goto fail;
    }
    /* Warm the ring with the log tail so wait_for_events and
     * coord://events/recent see history after a restart. */
    {
        struct event_vec tail;
        event_vec_init(&tail);
        uint64_t from = h->committed_seq > 256 ? h->committed_seq - 256 : 0;
        if (h->store->ops->read(h->store, from, 256, &tail) == 0)
            for (size_t i = 0; i < tail.len; i++)
                bus_publish(h->bus, &tail.items[i]);
        event_vec_deinit(&tail);
    }
    bus_subscribe(h->bus, hub_bus_event, h);
    if (h->store->ops->caps.shared) {
        /* Other hubs on the same store: hear their events, and read what
         * they appended between the load above and the listen. */
        h->store->ops->listen(h->store, hub_store_heard, h);
        if (hub_catch_up(h) != 0)
            log_warn("cannot read the log's newest events; they come with the next ones");
    }
    hub_ensure_token(h);
    (void)hub_control_load_token(h); /* logged: admin requests are refused then */
    rc = hub_keys_open(h);
    if (rc)
        goto fail;

    h->commit_ev = event_new(h->base, -1, 0, hub_commit_cb, h);
    event_priority_set(h->commit_ev, 1);
    h->tick_ev = evtimer_new(h->base, hub_tick_cb, h);
    h->reload_ev = evtimer_new(h->base, hub_reload_cb, h);
    h->wait_ev = evtimer_new(h->base, hub_wait_cb, h);
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
        goto fail;
    }
    if (h->idle_exit_ms > 0)
        h->idle_ev = evtimer_new(h->base, hub_idle_cb, h);

    hub_sessions_init(h);
    rc = hub_listen(h);
    if (rc)
        goto fail;
    rc = hub_http_start(h);
    if (rc) {
        errno = 0; /* hub_http_start said why; errno is stale */
        goto fail;
    }
    hub_reschedule_timers(h);
    hub_idle_update(h); /* no session yet: the idle time runs from the start */
    hub_write_record(h);
    /* Agents restored from the log count as detached since now: ticks will
     * take them offline after the grace period unless they come back. */
    char idle[48] = "never";
    if (h->idle_exit_ms > 0)
        snprintf(idle, sizeof(idle), "%lld ms", (long long)h->idle_exit_ms);
    log_info("coordhub %s serving workspace '%s' (root %s, store %s, seq %llu, idle-exit %s)",
             COORDHUB_VERSION, o->workspace, o->root, h->store->ops->name,
             (unsigned long long)h->committed_seq, idle);
    /* One line per face (docs/cli.md, "serve"): on stdout in the foreground;
     * a daemon hands them to the parent, which prints them before it
     * returns, so `serve --daemon` says what it started. */
    char *faces = hub_announce_text(h);
    if (ready_pipe[1] >= 0) {
        size_t len = strlen(faces);
        if (write(ready_pipe[1], "R", 1) != 1 || write(ready_pipe[1], faces, len) != (ssize_t)len)
            log_warn("cannot hand the start-up lines to the starter: %s", strerror(errno));
        close(ready_pipe[1]);
        ready_pipe[1] = -1;
    } else {
        fputs(faces, stdout);
        fflush(stdout);
    }
    token_cleanse(faces, strlen(faces)); /* the URL holds the admin token */
    free(faces);
    event_base_dispatch(h->base);
    /* Commit anything evaluated in the last turn before leaving. */
    if (h->pending.len || h->replies)
        hub_commit_run(h);
    log_info("coordhub stopped");
    exit_code = 0;
fail:
    if (exit_code != 0 && !errmsg && errno)
        log_error("start-up failed: %s", strerror(errno));
    free(errmsg);
    if (ready_pipe[1] >= 0)
        close(ready_pipe[1]);
    hub_teardown(h);
    return exit_code;
}
