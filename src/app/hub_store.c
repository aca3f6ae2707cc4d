/* hub_store — the hub's state and its store.
 *
 * Start-up restores the state from the newest snapshot plus the log tail
 * (hub_load_state), warms the bus ring with the tail and, on a store
 * shared between hubs, listens to the others' appends. A snapshot is saved
 * every HUB_SNAPSHOT_EVERY events (then the log is trimmed to
 * --retain-events). When the store fails and cannot be read back the hub
 * goes stale (hub_outage.c serves what it can) and retries the reload
 * with capped backoff. Other hubs' events are folded in as they come, and
 * a gap or an unreadable event makes the hub rebuild from the store
 * (docs/architecture.md, "Group commit"). The workspace's deadlines (lease
 * expiry, agents going offline) run on tick_ev. */
#define _GNU_SOURCE
#include "app/hub_store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "app/casefold.h"
#include "app/hub_outage.h"
#include "app/options.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "bus/bus.h"
#include "store/store.h"

#ifndef COORDHUB_VERSION
#define COORDHUB_VERSION "0.0.0"
#endif

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
    hub_waits_service(&h->waits, false);
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
    hub_sessions_reattach(&h->sessions, ws, now);
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
    hub_lock_waiters_done(&h->waits, &dropped);
    workspace_waiter_done_vec_deinit(&dropped);
    return 0;
}

void hub_maybe_snapshot(struct hub *h)
{
    if (h->committed_seq - h->snapshot_seq < HUB_SNAPSHOT_EVERY) {
        hub_replica_keep(h, false);
        return;
    }
    /* The committed state (events may wait behind the ones just recorded). */
    const struct workspace *committed = hub_committed_state(h);
    if (!committed)
        return; /* tried again at the next commit */
    cJSON *snap = workspace_snapshot(committed);
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
    hub_lock_waiters_service(&h->waits);
    if (h->pending.len)
        hub_schedule_commit(h);
    hub_reschedule_timers(h);
}

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
 * turn's own events wait for their append, or a batch is in flight, the state is ahead of the
 * log: nothing is folded then; the append will see the other hub's events as a conflict and
 * reload, or, when they came after it, they are read once it is recorded (hub_store_catch_up).
 * n == 0: the store's tail lost its connection; a read tells whether the store is away, so an idle
 * hub goes degraded at once rather than at its next write. */
static void hub_store_heard(void *arg, const struct event *evs, size_t n)
{
    struct hub *h = arg;
    if (h->store_stale)
        return;
    if (h->pending.len || h->commit_busy) {
        h->commit_missed_heard = true; /* read after the next commit */
        return;
    }
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
    hub_waits_service(&h->waits, false);
    hub_lock_waiters_service(&h->waits);
    hub_reschedule_timers(h);
}

void hub_store_catch_up(struct hub *h)
{
    hub_store_heard(h, NULL, 0);
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
    hub_waits_reschedule(&h->waits);
}

static void hub_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hub *h = arg;
    (void)fd;
    (void)what;
    if (h->store_stale)
        return; /* hub_reload_cb reschedules once the state is reloaded */
    workspace_tick(h->ws, hub_now(h), &h->pending);
    hub_lock_waiters_service(&h->waits);
    if (h->pending.len)
        hub_schedule_commit(h);
    hub_reschedule_timers(h);
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
    cJSON_AddNumberToObject(hub, "sessions", (double)h->sessions.count);
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

/* Whether keys fold case is the workspace's, decided once (casefold.h). */
static void hub_store_fold_case(struct hub *h)
{
    const struct options *o = h->opt;
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

/* Open --store with its retention: what the backend declares by default —
 * everything on disk (sqlite), a bounded tail in a network store's memory
 * (cli_serve validated --retain-events). */
static int hub_store_open(struct hub *h)
{
    const struct options *o = h->opt;
    const struct store_ops *sops = store_ops_for_url(o->store_url);
    h->retain = sops ? sops->caps.default_retain : 0;
    if (o->retain && options_retain_events(o->retain, &h->retain) != 0) {
        fprintf(stderr, "coordhub: bad --retain-events '%s'\n", o->retain);
        return -ERR_INVALID;
    }
    char *errmsg = NULL;
    struct store_open_opts sopts = {
        .workspace = o->workspace, .loop = h->base, .durable = 1, .async = true};
    int rc = store_open(o->store_url, &sopts, &h->store, &errmsg);
    if (rc) {
        char *shown = store_url_redact(o->store_url);
        fprintf(stderr, "coordhub: cannot open store %s: %s\n", shown,
                errmsg ? errmsg : coordhub_strerror(rc));
        free(shown);
    }
    free(errmsg);
    return rc;
}

/* The bus ring, warmed with the log tail so wait_for_events and
 * coord://events/recent see history after a restart. */
static void hub_store_warm_bus(struct hub *h)
{
    struct event_vec tail;
    event_vec_init(&tail);
    uint64_t from = h->committed_seq > 256 ? h->committed_seq - 256 : 0;
    if (h->store->ops->read(h->store, from, 256, &tail) == 0)
        for (size_t i = 0; i < tail.len; i++)
            bus_publish(h->bus, &tail.items[i]);
    event_vec_deinit(&tail);
}

int hub_store_start(struct hub *h, bus_event_cb on_event)
{
    int rc = hub_store_open(h);
    if (rc)
        return rc;
    hub_store_fold_case(h);
    /* The bus before the state: every workspace the hub builds reports
     * its observations to the bus (docs/architecture.md, "Observations"). */
    h->bus = bus_new(HUB_RECENT_EVENTS, h->opt->workspace);
    h->wscfg.observe = bus_observation_sink(h->bus);
    char *errmsg = NULL;
    rc = hub_load_state(h, &errmsg);
    if (rc) {
        fprintf(stderr, "coordhub: cannot load state: %s\n", errmsg);
        free(errmsg);
        return rc;
    }
    hub_store_warm_bus(h);
    bus_subscribe(h->bus, on_event, h);
    if (h->store->ops->caps.shared) {
        /* Other hubs on the same store: hear their events, and read what
         * they appended between the load above and the listen. */
        h->store->ops->listen(h->store, hub_store_heard, h);
        if (hub_catch_up(h) != 0)
            log_warn("cannot read the log's newest events; they come with the next ones");
    }
    return 0;
}

void hub_store_timers(struct hub *h)
{
    h->tick_ev = evtimer_new(h->base, hub_tick_cb, h);
    h->reload_ev = evtimer_new(h->base, hub_reload_cb, h);
}
