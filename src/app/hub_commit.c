/* hub_commit — the group commit: answers held until the store has the
 * events they saw, one append in flight, and evaluating the uncommitted
 * calls again after a lost compare-and-append (app/hub_commit.h).
 *
 * The commit is two halves. hub_commit_run (commit_ev, after the turn's
 * I/O) takes the next batch as the batch in flight and sends it; the
 * store's callback (hub_commit_done, from the loop for a network store,
 * inside append() for a local one) settles it: recorded, lost to another
 * hub, or failed. While it is in flight the loop goes on: calls are
 * evaluated on the workspace (which holds the in-flight events), their
 * events and answers queue as the next batch, sent when the flight
 * lands.
 *
 * On a shared store another hub may append between this hub's last
 * catch-up and its group commit: the store answers -ERR_CONFLICT and
 * records nothing (docs/architecture.md, "Group commit"). The batch was evaluated against a state
 * the log no longer leads to, so it is evaluated again rather than
 * refused: while a batch waits for its append, the hub keeps what it was
 * made of (struct hub_redo) — every tool call whose answer waits or that
 * produced events (the session, call id, tool, a copy of the arguments,
 * the metrics clock, the signature it carried and the session's agent
 * before it), and every queued lock request the batch granted or timed
 * out. On a conflict the state is rebuilt from the store (the pending
 * events were folded into the workspace, which has no undo), the serviced
 * requests go back to their places in their queues, and the calls run
 * again in their order against the new state: each gets the answer the
 * core gives now (a lock the other hub took first is busy with its
 * holder). Internal work is not replayed but derived again: lock grants
 * by servicing the queues, lease expiry and agents going offline by the
 * tick the timers schedule. Answers that never depended on the batch (a
 * wait_for_events result, a health answer) stand. hub_commit_cb retries
 * up to HUB_CONFLICT_ROUNDS appends before it refuses the batch naming
 * the contention.
 *
 * A call whose session ended meanwhile is not run again: nobody waits for
 * its answer, and nothing of it was recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "app/hub_commit.h"
#include "app/hub_metrics.h"
#include "app/hub_outage.h"
#include "app/hub_store.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "bus/bus.h"
#include "core/workspace.h"
#include "rpc/mcp.h"
#include "store/store.h"

/* ---- answers held for the batch ------------------------------------------ */

static void hub_send_reply(struct hub *h, struct hub_reply *r)
{
    if (r->lock_wait)
        hub_metrics_lock_wait_done(
            h, r->clock, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->result, "success")));
    struct hub_session *s = hub_session_find(&h->sessions, r->session);
    if (!s) {
        cJSON_Delete(r->result);
        return;
    }
    s->inflight--;
    hub_metrics_answered(h, r->clock, r->result, r->is_error);
    hub_session_answer(s, r->call_id, r->result, r->is_error); /* through the session's kind */
}

static bool hub_batch_open(const struct hub *h);
static void hub_redo_restore_agents(struct hub *h, const struct hub_redo *batch);
static void hub_redo_free_list(struct hub_redo *rec);

static void hub_reply_push(struct hub *h, struct hub_session *s, uint64_t call_id, cJSON *result,
                           bool is_error, struct hub_call_clock clock, bool lock_wait, bool again)
{
    struct hub_reply *r = xcalloc(1, sizeof(*r));
    r->session = s->id;
    r->call_id = call_id;
    r->result = result;
    r->is_error = is_error;
    r->clock = clock;
    /* A recorded call's answer, or a queued request's end, depends on
     * the batch (again): derived again if its append loses. */
    r->redo = again;
    r->lock_wait = lock_wait;
    struct hub_commit *cm = h->commit;
    if (!hub_batch_open(h)) {
        hub_send_reply(h, r);
        free(r);
        return;
    }
    *cm->replies_tail = r;
    cm->replies_tail = &r->next;
    hub_schedule_commit(h);
}

void hub_reply(struct tool_call *c, cJSON *result, bool is_error)
{
    if (!c->call_id) {
        cJSON_Delete(result); /* internal: nobody to answer */
        return;
    }
    if (c->committed_read) {
        /* It saw only what the store holds: nothing to wait for. */
        struct hub_reply r = {.session = c->session->id,
                              .call_id = c->call_id,
                              .result = result,
                              .is_error = is_error,
                              .clock = c->clock};
        hub_send_reply(c->hub, &r);
        if (c->redo)
            c->redo->answered = true;
        return;
    }
    hub_reply_push(c->hub, c->session, c->call_id, result, is_error, c->clock, false,
                   c->redo != NULL);
}

void hub_reply_timed(struct hub *h, struct hub_session *s, uint64_t call_id, cJSON *result,
                     bool is_error, struct hub_call_clock clock)
{
    /* It depends on no batch (a parked wait's committed events, its
     * refusal): nothing to wait for, even while one is in flight. */
    struct hub_reply r = {.session = s->id,
                          .call_id = call_id,
                          .result = result,
                          .is_error = is_error,
                          .clock = clock};
    hub_send_reply(h, &r);
}

void hub_reply_lock_wait(struct hub *h, struct hub_session *s, uint64_t call_id, cJSON *result,
                         struct hub_call_clock clock, struct workspace_waiter *waiter)
{
    /* Derived again if the batch's append loses only when the request
     * itself is kept to be queued again; a final refusal stands. */
    hub_reply_push(h, s, call_id, result, false, clock, true, waiter && hub_batch_open(h));
    if (waiter)
        hub_redo_waiter(h, s->id, call_id, clock, waiter);
}

/* Send the answers of list r: as they are, or (store_err) each replaced
 * by the store failure — "nothing was recorded", or, when the store never
 * answered (unknown), that the outcome is unknown — with err (the
 * failure's ERR_*) as its `code`, which the faces map: REST and POST
 * /events to the status of docs/http-api.md, MCP as hub_send_reply says. */
static void hub_flush_list(struct hub *h, struct hub_reply *r, const char *store_err, bool unknown,
                           int err)
{
    while (r) {
        struct hub_reply *next = r->next;
        if (store_err) {
            cJSON_Delete(r->result);
            r->result = cJSON_CreateObject();
            cJSON_AddBoolToObject(r->result, "success", 0);
            char msg[512];
            snprintf(msg, sizeof(msg), "store failure%s: %s",
                     unknown ? "" : ", nothing was recorded", store_err);
            cJSON_AddStringToObject(r->result, "error", msg);
            cJSON_AddStringToObject(r->result, "code", err_name(err));
            r->is_error = true;
        }
        hub_send_reply(h, r);
        free(r);
        r = next;
    }
}

static void hub_flush_replies(struct hub *h, const char *store_err, int err)
{
    struct hub_commit *cm = h->commit;
    struct hub_reply *r = cm->replies;
    cm->replies = NULL;
    cm->replies_tail = &cm->replies;
    hub_flush_list(h, r, store_err, false, err);
}

/* The log holds, right after seq base, the events of batch sent (same
 * type, time, source and data): an append that went unanswered ran. */
static bool hub_log_holds(struct hub *h, uint64_t base, const struct event_vec *sent)
{
    struct event_vec got;
    event_vec_init(&got);
    bool same = h->store->ops->read(h->store, base, sent->len, &got) == 0 && got.len == sent->len;
    for (size_t i = 0; same && i < sent->len; i++) {
        const struct event *a = &sent->items[i], *b = &got.items[i];
        same = b->seq == base + 1 + i && strcmp(a->type, b->type) == 0 && a->ts_ms == b->ts_ms &&
               (a->source_id && b->source_id ? strcmp(a->source_id, b->source_id) == 0
                                             : a->source_id == b->source_id) &&
               cJSON_Compare(a->data, b->data, true);
    }
    event_vec_deinit(&got);
    return same;
}

/* ---- the group commit ----------------------------------------------------- */

struct hub_commit *hub_commit_new(void)
{
    struct hub_commit *cm = xcalloc(1, sizeof(*cm));
    cm->replies_tail = &cm->replies;
    cm->redo_tail = &cm->redo;
    event_vec_init(&cm->flight.events);
    return cm;
}

static void hub_reply_free_list(struct hub_reply *r)
{
    while (r) {
        struct hub_reply *n = r->next;
        cJSON_Delete(r->result);
        free(r);
        r = n;
    }
}

void hub_commit_free(struct hub_commit *cm)
{
    if (!cm)
        return;
    hub_reply_free_list(cm->replies);
    hub_reply_free_list(cm->flight.replies);
    hub_redo_free_list(cm->redo);
    hub_redo_free_list(cm->flight.redo);
    event_vec_deinit(&cm->flight.events);
    free(cm);
}

bool hub_commit_busy(const struct hub *h)
{
    return h->commit_busy;
}

/* The session has answers held, in flight or behind it. */
static bool hub_commit_holds_for(const struct hub_commit *cm, uint64_t session)
{
    for (const struct hub_reply *r = cm->flight.replies; r; r = r->next)
        if (r->session == session)
            return true;
    for (const struct hub_reply *r = cm->replies; r; r = r->next)
        if (r->session == session)
            return true;
    return false;
}

struct workspace *hub_commit_read_view(struct hub *h, const struct hub_session *s)
{
    /* Sessions without an MCP engine (REST, one-shot) answer independent
     * requests: their answers have no order to keep. */
    if (!hub_commit_busy(h) || (s->mcp && hub_commit_holds_for(h->commit, s->id)))
        return NULL;
    return hub_committed_state(h);
}

/* The state could not be reloaded: wait for the store, or stop. */
static void hub_reload_failed(struct hub *h, int rc, const char *err)
{
    if (rc == -ERR_UNAVAILABLE) {
        hub_store_went_stale(h, err);
    } else {
        log_error("cannot reload state after store failure: %s; stopping", err);
        event_base_loopbreak(h->base);
    }
}

static void hub_commit_done(void *arg, int status, uint64_t current);

/* Take the next batch (h->pending, its answers and records) as the batch
 * in flight and ask the store to append it after committed_seq. */
static void hub_commit_send(struct hub *h)
{
    struct hub_commit *cm = h->commit;
    struct hub_commit_flight *f = &cm->flight;
    h->commit_busy = true;
    f->events = h->pending;
    event_vec_init(&h->pending);
    f->replies = cm->replies;
    cm->replies = NULL;
    cm->replies_tail = &cm->replies;
    f->redo = cm->redo;
    cm->redo = NULL;
    cm->redo_tail = &cm->redo;
    f->base = h->committed_seq;
    for (size_t i = 0; i < f->events.len; i++) {
        struct event *ev = &f->events.items[i];
        if (!ev->source_id)
            ev->source_id = xstrdup(h->hub_id);
    }
    f->sent_ns = clock_mono_ns();
    /* A local store calls hub_commit_done before append returns. */
    int rc = h->store->ops->append(h->store, f->base, f->events.items, f->events.len,
                                   hub_commit_done, h);
    if (rc != 0)
        hub_commit_done(h, rc, f->base);
}

/* The batch sitting in the store's queue while it is away: nothing
 * evaluated then produces events (hub_outage.c); should some appear, the
 * state is ahead of the log: stop answering reads from it. The reload
 * replaces it. */
static void hub_commit_drop_stale(struct hub *h)
{
    if (h->stale_reads) {
        log_error("%zu events evaluated while the store is away; refusing reads until "
                  "the state is reloaded",
                  h->pending.len);
        h->stale_reads = false;
    }
    event_vec_clear(&h->pending);
    hub_outage_committed(h, false);
    hub_redo_clear(h);
    hub_flush_replies(h, h->store_error ? h->store_error : "store unavailable", ERR_UNAVAILABLE);
}

void hub_commit_run(struct hub *h)
{
    if (hub_commit_busy(h))
        return; /* its completion sends the next batch */
    if (h->pending.len == 0) {
        hub_redo_clear(h);
        hub_flush_replies(h, NULL, 0);
        return;
    }
    if (h->store_stale) {
        hub_commit_drop_stale(h);
        return;
    }
    h->commit->conflicts = 0;
    hub_commit_send(h);
}

/* Put the batch in flight back in front of the next batch, as one
 * uncommitted batch (its events are not kept: evaluating again or
 * reloading replaces them). */
static void hub_commit_unsend(struct hub *h)
{
    struct hub_commit *cm = h->commit;
    struct hub_commit_flight *f = &cm->flight;
    h->commit_busy = false;
    event_vec_clear(&f->events);
    if (f->replies) {
        struct hub_reply **t = &f->replies;
        while (*t)
            t = &(*t)->next;
        *t = cm->replies;
        if (!cm->replies)
            cm->replies_tail = t;
        cm->replies = f->replies;
        f->replies = NULL;
    }
    if (f->redo) {
        struct hub_redo **t = &f->redo;
        while (*t)
            t = &(*t)->next;
        *t = cm->redo;
        if (!cm->redo)
            cm->redo_tail = t;
        cm->redo = f->redo;
        f->redo = NULL;
    }
}

/* The store recorded the batch in flight: its answers go out, then its
 * events fan out (a caller learns its result no later than observers
 * learn the event), then the next batch goes. */
static void hub_commit_recorded(struct hub *h, uint64_t current)
{
    struct hub_commit *cm = h->commit;
    struct hub_commit_flight *f = &cm->flight;
    metrics_histogram_observe(&h->metrics.store_append_seconds, METRICS_SCALE_LATENCY,
                              (double)(clock_mono_ns() - f->sent_ns) / 1e9);
    metrics_histogram_observe(&h->metrics.commit_batch_events, METRICS_SCALE_BATCH,
                              (double)f->events.len);
    free(h->store_error);
    h->store_error = NULL;
    h->committed_seq = current;
    hub_outage_committed(h, true);
    struct event_vec done = f->events;
    event_vec_init(&f->events);
    struct hub_reply *answers = f->replies;
    f->replies = NULL;
    hub_redo_free_list(f->redo);
    f->redo = NULL;
    h->commit_busy = false;
    hub_flush_list(h, answers, NULL, false, 0);
    for (size_t i = 0; i < done.len; i++)
        bus_publish(h->bus, &done.items[i]);
    event_vec_deinit(&done);
    hub_waits_service(&h->waits, false);
    hub_maybe_snapshot(h);
    /* Freed keys may grant queued lock requests: that is a new round. */
    hub_lock_waiters_service(&h->waits);
    hub_reschedule_timers(h);
    if (h->pending.len) {
        hub_schedule_commit(h);
        return;
    }
    hub_commit_run(h); /* answers held behind the flight, without events */
    if (h->commit_missed_heard) {
        /* Other hubs' events came while the state was ahead of the log
         * and were not folded: read them now. */
        h->commit_missed_heard = false;
        hub_store_catch_up(h);
    }
}

/* Another hub appended first: catch up, evaluate every uncommitted call
 * again and send what that gives now, up to HUB_CONFLICT_ROUNDS. False
 * when the rounds are spent (the caller refuses the batch). */
static bool hub_commit_conflict(struct hub *h, uint64_t current)
{
    struct hub_commit *cm = h->commit;
    h->metrics.store_conflicts_total++;
    if (++cm->conflicts >= HUB_CONFLICT_ROUNDS)
        return false;
    log_debug("append of %zu events after seq %llu lost to another hub (log at %llu): "
              "evaluating the batch again",
              cm->flight.events.len, (unsigned long long)cm->flight.base,
              (unsigned long long)current);
    hub_commit_unsend(h);
    char *err = NULL;
    int lrc = hub_redo_batch(h, &err);
    if (lrc != 0) {
        const char *why = coordhub_strerror(lrc);
        log_error("cannot catch up after a conflict: %s", err ? err : why);
        free(h->store_error);
        h->store_error = xstrdup(why);
        h->metrics.store_append_errors_total++;
        hub_reload_failed(h, lrc, err ? err : why);
        free(err);
        hub_flush_replies(h, why, lrc);
        return true;
    }
    if (h->pending.len == 0) {
        /* Evaluated again, the batch writes nothing (every call is
         * refused now): its answers go out. */
        hub_redo_clear(h);
        hub_flush_replies(h, NULL, 0);
        hub_reschedule_timers(h);
        return true;
    }
    hub_commit_send(h);
    return true;
}

/* Why the batch failed, for the log and the answers (caller frees). */
static char *hub_commit_why(struct hub *h, int rc)
{
    if (rc == -ERR_CONFLICT) {
        char contention[160];
        snprintf(contention, sizeof(contention),
                 "other hubs appended first %d times in a row (contention on the workspace's "
                 "log); retry",
                 HUB_CONFLICT_ROUNDS);
        return xstrdup(contention);
    }
    /* The backend's own words for the cause ("database or disk is full"),
     * copied: reloading the state calls the store. */
    const char *cause =
        rc == -ERR_STORE && h->store->ops->last_error ? h->store->ops->last_error(h->store) : NULL;
    return xstrdup(cause ? cause : coordhub_strerror(rc));
}

/* The batch in flight failed (rc: a store error, or the conflict rounds
 * spent). Its calls get the failure — or, when the store never answered
 * (-ERR_TIMEOUT) and the log read back holds the batch, their answers —
 * and the calls queued behind it, evaluated on its state, the failure
 * with nothing recorded. The state is rebuilt from the store. */
static void hub_commit_failed(struct hub *h, int rc)
{
    struct hub_commit *cm = h->commit;
    struct hub_commit_flight *f = &cm->flight;
    char *why = hub_commit_why(h, rc);
    log_error("store append of %zu events failed: %s", f->events.len, why);
    free(h->store_error);
    h->store_error = rc == -ERR_CONFLICT ? NULL : xstrdup(why);
    h->store_errors++;
    h->metrics.store_append_errors_total++;
    struct event_vec sent = f->events;
    event_vec_init(&f->events);
    uint64_t base = f->base;
    struct hub_reply *held = f->replies, *queued = cm->replies;
    struct hub_redo *batch = f->redo, *next = cm->redo;
    f->replies = NULL;
    f->redo = NULL;
    h->commit_busy = false;
    cm->replies = NULL;
    cm->replies_tail = &cm->replies;
    cm->redo = NULL;
    cm->redo_tail = &cm->redo;
    event_vec_clear(&h->pending);
    hub_outage_committed(h, false);
    char *err = NULL;
    int lrc = hub_load_state(h, &err);
    bool recorded = rc == -ERR_TIMEOUT && lrc == 0 && hub_log_holds(h, base, &sent);
    /* Each session's agent as before its first unrecorded call. */
    hub_redo_restore_agents(h, next);
    if (recorded)
        log_info("the unanswered append of %zu events after seq %llu is in the log: "
                 "answered as recorded",
                 sent.len, (unsigned long long)base);
    else
        hub_redo_restore_agents(h, batch);
    hub_redo_free_list(batch);
    hub_redo_free_list(next);
    char unknown[512];
    snprintf(unknown, sizeof(unknown),
             "the store did not answer (%s), so whether this was recorded is unknown; "
             "read the state back (check_lock, list_locked_files, list_tasks) before retrying",
             why);
    bool unsure = rc == -ERR_TIMEOUT && !recorded;
    hub_flush_list(h, held, recorded ? NULL : unsure ? unknown : why, unsure, rc);
    hub_flush_list(h, queued, why, false, rc);
    free(why);
    event_vec_deinit(&sent);
    if (lrc != 0) {
        hub_reload_failed(h, lrc, err);
    } else {
        hub_lock_waiters_service(&h->waits);
        if (h->pending.len)
            hub_schedule_commit(h);
        hub_reschedule_timers(h);
    }
    free(err);
}

/* The store's callback for the batch in flight. */
static void hub_commit_done(void *arg, int status, uint64_t current)
{
    struct hub *h = arg;
    if (status == 0)
        hub_commit_recorded(h, current);
    else if (status != -ERR_CONFLICT || !hub_commit_conflict(h, current))
        hub_commit_failed(h, status);
}

void hub_commit_drain(struct hub *h)
{
    int64_t deadline = clock_mono_ms() + HUB_DRAIN_MS;
    for (;;) {
        if (!hub_commit_busy(h) && (h->pending.len || h->commit->replies))
            hub_commit_run(h);
        if (!hub_commit_busy(h) || clock_mono_ms() >= deadline)
            break;
        event_base_loop(h->base, EVLOOP_ONCE);
    }
}

/* ---- evaluating a batch again --------------------------------------------- */

/* A call (a tool call, or an agent resumed), not a serviced request. */
static bool hub_redo_is_call(const struct hub_redo *rec)
{
    return rec->name || rec->resume;
}

static void hub_redo_free(struct hub_redo *rec)
{
    free(rec->name);
    cJSON_Delete(rec->args);
    free(rec->signature);
    free(rec->agent_before);
    free(rec->agent_named);
    workspace_waiter_free(rec->waiter);
    free(rec);
}

static void hub_redo_push(struct hub *h, struct hub_redo *rec)
{
    rec->next = NULL;
    *h->commit->redo_tail = rec;
    h->commit->redo_tail = &rec->next;
}

/* The batch holds something: events wait for their append, or answers
 * wait for them, or a batch is in flight (what a call sees now may
 * depend on it). */
static bool hub_batch_open(const struct hub *h)
{
    return h->pending.len > 0 || h->commit->replies != NULL || hub_commit_busy(h);
}

void hub_redo_begin(struct tool_call *c, const char *name, const cJSON *args)
{
    struct hub_redo *rec = xcalloc(1, sizeof(*rec));
    rec->session = c->session->id;
    rec->call_id = c->call_id;
    rec->clock = c->clock;
    rec->name = xstrdup(name);
    rec->args_src = args; /* copied if the call joins the batch */
    rec->signature = xstrdup(c->signature);
    rec->agent_before = xstrdup(c->session->agent_id);
    c->redo = rec;
}

void hub_redo_end(struct hub *h, struct hub_redo *rec)
{
    if (!rec)
        return;
    if (!hub_batch_open(h) || rec->answered) {
        hub_redo_free(rec);
        return;
    }
    if (!rec->args && rec->args_src)
        rec->args = cJSON_Duplicate(rec->args_src, 1);
    rec->args_src = NULL;
    struct hub_session *s = hub_session_find(&h->sessions, rec->session);
    if (s && s->agent_id && (!rec->agent_before || strcmp(s->agent_id, rec->agent_before) != 0)) {
        free(rec->agent_named);
        rec->agent_named = xstrdup(s->agent_id);
    }
    hub_redo_push(h, rec);
}

void hub_redo_waiter(struct hub *h, uint64_t session, uint64_t call_id, struct hub_call_clock clock,
                     struct workspace_waiter *w)
{
    if (!hub_batch_open(h)) {
        workspace_waiter_free(w);
        return;
    }
    struct hub_redo *rec = xcalloc(1, sizeof(*rec));
    rec->session = session;
    rec->call_id = call_id;
    rec->clock = clock;
    rec->waiter = w;
    hub_redo_push(h, rec);
}

/* Drop the records of call (session, call_id) from list *pp; the new end
 * of the list is returned. */
static struct hub_redo **hub_redo_drop(struct hub_redo **pp, uint64_t session, uint64_t call_id)
{
    while (*pp) {
        struct hub_redo *rec = *pp;
        if (hub_redo_is_call(rec) && rec->session == session && rec->call_id == call_id) {
            *pp = rec->next;
            hub_redo_free(rec);
            continue;
        }
        pp = &rec->next;
    }
    return pp;
}

void hub_redo_cancel(struct hub *h, uint64_t session, uint64_t call_id)
{
    struct hub_commit *cm = h->commit;
    (void)hub_redo_drop(&cm->flight.redo, session, call_id);
    cm->redo_tail = hub_redo_drop(&cm->redo, session, call_id);
}

static void hub_redo_free_list(struct hub_redo *rec)
{
    while (rec) {
        struct hub_redo *next = rec->next;
        hub_redo_free(rec);
        rec = next;
    }
}

void hub_redo_clear(struct hub *h)
{
    hub_redo_free_list(h->commit->redo);
    h->commit->redo = NULL;
    h->commit->redo_tail = &h->commit->redo;
}

/* Run a recorded call again as it ran the first time: its clock, its
 * signature, the agent name it registered; it is recorded anew. */
static void hub_redo_call(struct hub *h, struct hub_session *s, struct hub_redo *rec)
{
    rec->queued = 0;
    free(rec->agent_before);
    rec->agent_before = xstrdup(s->agent_id);
    struct tool_call c = {
        .hub = h,
        .session = s,
        .call_id = rec->call_id,
        .clock = rec->clock,
        .signature = rec->signature,
        .redo = rec,
        .redo_agent_name = rec->agent_named,
    };
    h->metrics.commands_reevaluated_total++;
    h->run_call(&c, rec->name, rec->args);
    hub_redo_end(h, rec);
}

/* Give a serviced request its place in its queue again; its call stays
 * open. A request whose agent the log does not know is answered. */
static void hub_redo_requeue(struct hub *h, struct hub_session *s, struct hub_redo *rec)
{
    uint64_t id = workspace_waiter_id(rec->waiter);
    if (workspace_waiter_requeue(h->ws, rec->waiter) == 0) {
        rec->waiter = NULL;
        hub_waiter_add(&h->waits, id, rec->session, rec->call_id, rec->clock);
        return;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "success", 0);
    cJSON_AddBoolToObject(r, "locked", 0);
    cJSON_AddStringToObject(r, "error",
                            "the queued request was dropped: its agent is not "
                            "registered in the workspace's log; register again");
    hub_reply_lock_wait(h, s, rec->call_id, r, rec->clock, NULL);
}

static bool hub_redo_queued_by_batch(const struct hub_redo *batch, uint64_t waiter_id)
{
    for (const struct hub_redo *r = batch; r; r = r->next)
        if (hub_redo_is_call(r) && r->queued == waiter_id)
            return true;
    return false;
}

/* Each session's agent as it was before its first call of the batch
 * (an agent the batch registered is not in the log). */
static void hub_redo_restore_agents(struct hub *h, const struct hub_redo *batch)
{
    size_t n = 0;
    for (const struct hub_redo *r = batch; r; r = r->next)
        n++;
    const struct hub_redo **order = xcalloc(n ? n : 1, sizeof(*order));
    n = 0;
    for (const struct hub_redo *r = batch; r; r = r->next)
        order[n++] = r;
    for (size_t i = n; i-- > 0;) {
        struct hub_session *s =
            hub_redo_is_call(order[i]) ? hub_session_find(&h->sessions, order[i]->session) : NULL;
        if (s && s->identity == HUB_AS_AGENT) {
            free(s->agent_id);
            s->agent_id = xstrdup(order[i]->agent_before);
        }
    }
    free(order);
}

static void hub_reply_append(struct hub_commit *cm, struct hub_reply *r)
{
    r->next = NULL;
    *cm->replies_tail = r;
    cm->replies_tail = &r->next;
}

/* Answers that did not depend on the batch stand (back to the held
 * answers); the others are dropped to be derived again — unless the state
 * could not be reloaded (reloaded false): then all wait for the error. */
static void hub_redo_sort_answers(struct hub *h, struct hub_reply *taken, bool reloaded)
{
    while (taken) {
        struct hub_reply *next = taken->next;
        if (reloaded && taken->redo) {
            cJSON_Delete(taken->result);
            free(taken);
        } else {
            hub_reply_append(h->commit, taken);
        }
        taken = next;
    }
}

/* The reload failed: the calls whose requests were taken out of the queue
 * get the error too (their answer was not among the taken ones). */
static void hub_redo_fail_queued(struct hub *h, const struct hub_redo *batch)
{
    for (const struct hub_redo *q = batch; q; q = q->next) {
        if (!hub_redo_is_call(q) || !q->queued || !hub_session_find(&h->sessions, q->session))
            continue;
        struct hub_reply *e = xcalloc(1, sizeof(*e));
        e->session = q->session;
        e->call_id = q->call_id;
        e->result = cJSON_CreateObject(); /* replaced by the error */
        e->is_error = true;
        e->clock = q->clock;
        hub_reply_append(h->commit, e);
    }
}

/* On the reloaded state: the serviced requests back in their queues, then
 * every call again in its order. */
static void hub_redo_rerun(struct hub *h, struct hub_redo *batch)
{
    for (struct hub_redo *q = batch; q; q = q->next) {
        if (hub_redo_is_call(q))
            continue;
        struct hub_session *s = hub_session_find(&h->sessions, q->session);
        if (s && !hub_redo_queued_by_batch(batch, workspace_waiter_id(q->waiter)))
            hub_redo_requeue(h, s, q);
    }
    for (struct hub_redo *q = batch; q;) {
        struct hub_redo *next = q->next;
        struct hub_session *s =
            hub_redo_is_call(q) ? hub_session_find(&h->sessions, q->session) : NULL;
        if (s)
            hub_redo_call(h, s, q); /* keeps or frees q */
        else
            hub_redo_free(q);
        q = next;
    }
}

/* The batch evaluated again (hub_redo_batch): its observations were made
 * the first time, so this round is muted (docs/architecture.md,
 * "Observations"). */
static int hub_redo_batch_again(struct hub *h, char **errmsg);

int hub_redo_batch(struct hub *h, char **errmsg)
{
    bus_observe_mute(h->bus, true);
    int rc = hub_redo_batch_again(h, errmsg);
    bus_observe_mute(h->bus, false);
    return rc;
}

static int hub_redo_batch_again(struct hub *h, char **errmsg)
{
    struct hub_commit *cm = h->commit;
    struct hub_redo *batch = cm->redo;
    cm->redo = NULL;
    cm->redo_tail = &cm->redo;
    struct hub_reply *taken = cm->replies;
    cm->replies = NULL;
    cm->replies_tail = &cm->replies;
    event_vec_clear(&h->pending);
    hub_outage_committed(h, false); /* an outage record goes again with the reload */

    hub_redo_restore_agents(h, batch);
    /* Requests the batch's calls queued are queued again by the calls. */
    for (struct hub_redo *r = batch; r; r = r->next) {
        if (hub_redo_is_call(r) && r->queued) {
            hub_waiter_forget(&h->waits, r->queued);
            if (workspace_waiter_cancel(h->ws, r->queued) != 0)
                log_debug("waiter %llu was serviced in the batch", (unsigned long long)r->queued);
        }
    }

    int rc = hub_load_state(h, errmsg);
    hub_redo_sort_answers(h, taken, rc == 0);
    if (rc != 0) {
        hub_redo_fail_queued(h, batch);
        hub_redo_free_list(batch);
        return rc;
    }
    hub_redo_rerun(h, batch);
    hub_lock_waiters_service(&h->waits);
    hub_reschedule_timers(h);
    return 0;
}
