/* hub_outage — the hub while its store is away (docs/operations.md,
 * "Redis going away": the hub reports health:degraded, refuses what needs
 * the store with a clear error and never grants a lease it cannot record;
 * it keeps serving reads from its replica, marked stale, and recovers by
 * itself).
 *
 * The replica. When an append fails the workspace holds the turn's events
 * folded although the log lacks them, so it cannot answer reads as is. A
 * hub on a store that can go away (one with listen(): Redis) therefore
 * keeps the text of a snapshot of its committed state: the one it writes
 * to the store every HUB_SNAPSHOT_EVERY events anyway (kept instead of
 * freed, so the hot path pays nothing), one taken after every load, and
 * one taken when other hubs' events alone moved the state on by
 * HUB_REPLICA_LAG. At the outage the state at committed_seq is rebuilt
 * from that text plus the committed events after it, which the bus ring
 * still holds (HUB_RECENT_EVENTS > HUB_REPLICA_LAG). If the ring no longer
 * reaches back (or there is no text), the hub refuses every call of a
 * tool that needs the store (struct tool_def.needs_store) until the store
 * is back; get_unified_health and list_servers are answered.
 *
 * While stale nothing may produce an event: writes are refused before
 * they run, read-only tools never register an agent implicitly, queued
 * lock requests are answered with the refusal at once (nothing recorded)
 * and the timers of the workspace are off (hub.c).
 *
 * The outage on the bus. health:degraded cannot be recorded while the
 * store is away: it is announced (bus_announce, no seq) to the live
 * subscribers at once — SSE /events without id:, MCP sessions as a
 * warning. Once the hub has reloaded from the store it appends
 * health:degraded (the original since and reason) and health:recovered
 * (since, downMs) to the log, so the durable record shows the outage; the
 * outage counts as recorded only when that append commits, and is queued
 * again after any reload until it does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/hub_outage.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "bus/bus.h"
#include "rpc/tools.h"
#include "store/store.h"

/* Other hubs' events after which a fresh replica snapshot is taken. */
#define HUB_REPLICA_LAG (HUB_RECENT_EVENTS / 2)

static bool hub_replica_wanted(const struct hub *h)
{
    return h->store && h->store->ops->caps.may_go_away;
}

bool hub_replica_offer(struct hub *h, char *text)
{
    if (!hub_replica_wanted(h))
        return false;
    free(h->replica_text);
    h->replica_text = text;
    h->replica_seq = h->committed_seq;
    return true;
}

void hub_replica_keep(struct hub *h, bool force)
{
    if (!hub_replica_wanted(h))
        return; /* not a store that goes away */
    if (!force && h->replica_text && h->committed_seq - h->replica_seq < HUB_REPLICA_LAG)
        return;
    /* The committed state: the workspace, or while events wait for their
     * append the committed view (app/hub_commit.h). */
    const struct workspace *committed = hub_committed_state(h);
    if (!committed)
        return;
    cJSON *snap = workspace_snapshot(committed);
    char *text = json_print(snap);
    cJSON_Delete(snap);
    if (!hub_replica_offer(h, text))
        free(text);
}

struct workspace *hub_replica_build(struct hub *h)
{
    if (!h->replica_text || !h->bus || h->replica_seq > h->committed_seq)
        return NULL;
    uint64_t oldest = bus_oldest(h->bus);
    if (h->replica_seq < h->committed_seq && (!oldest || oldest > h->replica_seq + 1))
        return NULL; /* the ring no longer holds the events after the text */
    int64_t now = hub_now(h);
    int err = 0;
    cJSON *snap =
        json_parse_bounded(h->replica_text, strlen(h->replica_text), JSON_MAX_DEPTH, &err);
    struct workspace *ws = workspace_new(&h->wscfg);
    int rc = snap && workspace_restore(ws, snap, now) == 0 ? 0 : -ERR_STATE;
    cJSON_Delete(snap);
    size_t n = bus_count(h->bus);
    for (size_t i = bus_find_after(h->bus, h->replica_seq); rc == 0 && i < n; i++) {
        const struct event *ev = bus_at(h->bus, i, NULL);
        if (ev->seq > h->committed_seq)
            break;
        if (workspace_apply(ws, ev) != 0)
            rc = -ERR_STATE;
    }
    if (rc == 0 && workspace_seq(ws) != h->committed_seq)
        rc = -ERR_STATE;
    if (rc) {
        workspace_free(ws);
        return NULL;
    }
    hub_sessions_reattach(&h->sessions, ws, now);
    return ws;
}

/* Fold the committed view forward to committed_seq from the ring; drop
 * it when the ring no longer reaches it (or it is ahead: it never should
 * be). */
static void hub_committed_view_follow(struct hub *h)
{
    uint64_t seq = workspace_seq(h->committed_view);
    if (seq == h->committed_seq)
        return;
    uint64_t oldest = bus_oldest(h->bus);
    bool ok = seq < h->committed_seq && oldest && oldest <= seq + 1;
    size_t n = ok ? bus_count(h->bus) : 0;
    for (size_t i = ok ? bus_find_after(h->bus, seq) : 0; ok && i < n; i++) {
        const struct event *ev = bus_at(h->bus, i, NULL);
        if (ev->seq > h->committed_seq)
            break;
        ok = workspace_apply(h->committed_view, ev) == 0;
    }
    if (ok && workspace_seq(h->committed_view) == h->committed_seq) {
        hub_sessions_reattach(&h->sessions, h->committed_view, hub_now(h));
        return;
    }
    workspace_free(h->committed_view);
    h->committed_view = NULL;
}

struct workspace *hub_committed_state(struct hub *h)
{
    if (workspace_seq(h->ws) == h->committed_seq)
        return h->ws;
    if (h->committed_view)
        hub_committed_view_follow(h);
    if (!h->committed_view)
        h->committed_view = hub_replica_build(h);
    return h->committed_view;
}

/* Rebuild the workspace at committed_seq from the replica text and the
 * bus ring, without the store. 0, or -ERR_STATE when it cannot be done
 * (the workspace is then left as it was). */
static int hub_replica_rebuild(struct hub *h)
{
    struct workspace *ws = hub_replica_build(h);
    if (!ws)
        return -ERR_STATE;
    workspace_free(h->ws);
    h->ws = ws;
    return 0;
}

static void hub_add_time(cJSON *o, const char *name, int64_t ms)
{
    char ts[40];
    clock_format_iso(ms, ts, sizeof(ts));
    cJSON_AddStringToObject(o, name, ts);
}

void hub_outage_begin(struct hub *h, const char *why)
{
    if (workspace_seq(h->ws) == h->committed_seq) {
        h->stale_reads = true; /* nothing folded beyond the log */
    } else {
        h->stale_reads = hub_replica_rebuild(h) == 0;
        if (!h->stale_reads)
            log_warn("cannot rebuild the committed state without the store: every call that "
                     "needs the store is refused until it is back");
    }
    bool fresh = h->down_since_ms == 0; /* else: the outage before was never recorded */
    if (fresh) {
        h->down_since_ms = hub_now(h);
        free(h->down_reason);
        why = why ? why : "unreachable";
        if (h->store_error && strcmp(h->store_error, why) != 0) {
            /* An append failed, then the reload: say both. */
            char buf[512];
            snprintf(buf, sizeof(buf), "append failed: %s; reload failed: %s", h->store_error, why);
            h->down_reason = xstrdup(buf);
        } else {
            h->down_reason = xstrdup(why);
        }
    }
    char *msg = hub_stale_refusal(h, "this queued lock request");
    hub_lock_waiters_refuse(&h->waits, msg);
    free(msg);
    if (!fresh)
        return;
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "component", "store");
    cJSON_AddStringToObject(data, "status", "degraded");
    cJSON_AddStringToObject(data, "reason", h->down_reason);
    hub_add_time(data, "since", h->down_since_ms);
    cJSON_AddStringToObject(data, "backend", h->store->ops->name);
    cJSON_AddBoolToObject(data, "staleReads", h->stale_reads);
    struct event ev;
    event_init(&ev, EVENT_HEALTH_DEGRADED, h->down_since_ms, data);
    ev.source_id = xstrdup(h->hub_id);
    if (h->bus)
        (void)bus_announce(h->bus, &ev); /* seq 0: cannot fail */
    event_deinit(&ev);
}

/* Evaluate publish_event {type, data (taken)} as the hub itself. */
static int hub_outage_emit(struct hub *h, const char *type, cJSON *data, int64_t now)
{
    struct workspace_caller c = {.agent_id = NULL, .session_id = NULL, .admin = true};
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "type", type);
    cJSON_AddItemToObject(args, "data", data);
    cJSON *result = NULL;
    char *errmsg = NULL;
    int rc = workspace_exec(h->ws, &c, "publish_event", args, now, &h->pending, &result, &errmsg);
    if (rc)
        log_error("cannot record %s: %s", type, errmsg ? errmsg : coordhub_strerror(rc));
    cJSON_Delete(result);
    cJSON_Delete(args);
    free(errmsg);
    return rc;
}

void hub_outage_record(struct hub *h)
{
    if (!h->down_since_ms || h->outage_seq || h->store_stale)
        return;
    int64_t now = hub_now(h);
    int64_t down = now > h->down_since_ms ? now - h->down_since_ms : 0;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "component", "store");
    cJSON_AddStringToObject(d, "status", "degraded");
    cJSON_AddStringToObject(d, "reason", h->down_reason ? h->down_reason : "unreachable");
    hub_add_time(d, "since", h->down_since_ms);
    cJSON_AddStringToObject(d, "backend", h->store->ops->name);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "component", "store");
    hub_add_time(r, "since", h->down_since_ms);
    cJSON_AddNumberToObject(r, "downMs", (double)down);
    cJSON_AddStringToObject(r, "backend", h->store->ops->name);
    if (hub_outage_emit(h, EVENT_HEALTH_DEGRADED, d, now) != 0 ||
        hub_outage_emit(h, EVENT_HEALTH_RECOVERED, r, now) != 0) {
        /* Cannot happen (the hub's own valid arguments); drop the record
         * rather than retry it forever. */
        h->down_since_ms = 0;
        return;
    }
    h->outage_seq = workspace_seq(h->ws);
    log_info("store back after %lld ms: recording the outage", (long long)down);
    hub_schedule_commit(h);
}

void hub_outage_committed(struct hub *h, bool ok)
{
    if (!h->outage_seq)
        return;
    if (ok && h->committed_seq >= h->outage_seq) {
        log_info("the store outage since seq %llu is in the log",
                 (unsigned long long)(h->outage_seq - 1));
        h->down_since_ms = 0;
        free(h->down_reason);
        h->down_reason = NULL;
    }
    /* Recorded, or dropped with the batch: then queued again at the reload. */
    h->outage_seq = 0;
}

void hub_stale_mark(struct hub *h, cJSON *result)
{
    if (!h->store_stale || !cJSON_IsObject(result))
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(result, "stale");
    cJSON_DeleteItemFromObjectCaseSensitive(result, "staleSince");
    cJSON_AddBoolToObject(result, "stale", 1);
    hub_add_time(result, "staleSince", h->down_since_ms);
}

bool hub_stale_may_answer(const struct hub *h, const struct tool_def *t)
{
    if (!t)
        return false;
    if (!t->needs_store)
        return true;
    return h->stale_reads && t->read_only;
}

char *hub_stale_refusal(const struct hub *h, const char *what)
{
    char since[40] = "";
    if (h->down_since_ms)
        clock_format_iso(h->down_since_ms, since, sizeof(since));
    const char *reason = h->down_reason   ? h->down_reason
                         : h->store_error ? h->store_error
                                          : "unreachable";
    const char *serving =
        h->stale_reads
            ? "read-only calls are answered from this hub's replica, marked stale"
            : "every call that needs the store is refused until the hub has reloaded its state "
              "(get_unified_health answers meanwhile)";
    char buf[768];
    snprintf(buf, sizeof(buf),
             "store unavailable: the %s store is unreachable%s%s (%s); %.100s was refused and "
             "nothing was recorded. Meanwhile %s; the hub recovers by itself when the store is "
             "back (get_unified_health shows the store)",
             h->store->ops->name, since[0] ? " since " : "", since, reason, what, serving);
    return xstrdup(buf);
}
