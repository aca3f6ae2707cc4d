/* hub_waits — queued lock requests and parked wait_for_events calls
 * (hub_waits.h says what the part owns and how it answers).
 *
 * wait_for_events long-polls: a call with nothing to return is parked with
 * a cursor and a deadline; every commit re-examines parked calls. The
 * cursor (`lastId`) always advances past every event examined, matching or
 * not, so a filtered poll never rescans. Events come from the bus ring
 * when it still holds them, else from the store (counted in the wait
 * cache metrics).
 *
 * A queued lock request is the core's (struct workspace_waiter); the part
 * keeps which call to answer when the core grants it or its wait ends,
 * and drops the request from the core's queue when its client left. */
#define _GNU_SOURCE
#include "app/hub_waits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "api/metrics.h"
#include "app/hub_session.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "bus/bus.h"
#include "core/event.h"
#include "core/events_filter.h"
#include "core/workspace.h"
#include "store/store.h"

static void hub_waits_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hub_waits_service(arg, true);
}

void hub_waits_init(struct hub_waits *w, struct event_base *base, const struct hub_waits_state *st,
                    const struct hub_waits_host *host, void *host_arg)
{
    w->host = host;
    w->host_arg = host_arg;
    w->st = *st;
    w->waiters = NULL;
    w->waits = NULL;
    w->ev = evtimer_new(base, hub_waits_timer_cb, w);
}

static void hub_wait_free(struct hub_wait *x)
{
    cJSON_Delete(x->types);
    free(x);
}

void hub_waits_fini(struct hub_waits *w)
{
    while (w->waits) {
        struct hub_wait *x = w->waits;
        w->waits = x->next;
        hub_wait_free(x);
    }
    while (w->waiters) {
        struct hub_waiter *x = w->waiters;
        w->waiters = x->next;
        free(x);
    }
    if (w->ev)
        event_free(w->ev);
    w->ev = NULL;
}

/* ---- wait_for_events ---------------------------------------------------- */

static bool hub_types_match(const cJSON *types, const char *type)
{
    if (!types)
        return true;
    const cJSON *t;
    cJSON_ArrayForEach(t, types)
    {
        if (cJSON_IsString(t) && event_type_matches(t->valuestring, type))
            return true;
    }
    return false;
}

void hub_waits_add_event(cJSON *arr, const struct event *ev, const char *text,
                         const char *workspace)
{
    if (text) {
        int err = 0;
        cJSON *v = json_parse_bounded(text, strlen(text), JSON_MAX_DEPTH, &err);
        if (v) {
            cJSON_AddItemToArray(arr, v);
            return;
        }
    }
    cJSON_AddItemToArray(arr, event_to_json(ev, workspace));
}

size_t hub_waits_collect(struct hub_waits *w, uint64_t *cursor, const cJSON *types,
                         const struct events_filter *allow, size_t limit, cJSON *arr)
{
    const struct hub_waits_state *st = &w->st;
    struct bus *bus = *st->bus;
    struct store *store = *st->store;
    size_t found = 0;
    while (found < limit && *cursor < *st->committed_seq) {
        uint64_t oldest = bus_oldest(bus);
        if (oldest && *cursor + 1 >= oldest) {
            st->metrics->wait_cache.hits++;
            size_t i = bus_find_after(bus, *cursor);
            size_t n = bus_count(bus);
            for (; i < n && found < limit; i++) {
                const char *text;
                const struct event *ev = bus_at(bus, i, &text);
                *cursor = ev->seq;
                if (hub_types_match(types, ev->type) &&
                    (!allow || events_filter_match(allow, ev->type))) {
                    hub_waits_add_event(arr, ev, text, st->workspace);
                    found++;
                }
            }
            break;
        }
        st->metrics->wait_cache.misses++;
        struct event_vec chunk;
        event_vec_init(&chunk);
        int rc = store->ops->read(store, *cursor, 512, &chunk);
        if (rc != 0) {
            /* The store is away: nothing older than the ring now; the
             * cursor stays, so no event is skipped. */
            event_vec_deinit(&chunk);
            break;
        }
        if (chunk.len == 0) {
            uint64_t first = 0;
            /* Trimmed history: skip to where the log begins. */
            if (store->ops->first_seq(store, &first) == 0 && first > *cursor + 1)
                *cursor = first - 1;
            else
                *cursor = *st->committed_seq;
            event_vec_deinit(&chunk);
            continue;
        }
        for (size_t i = 0; i < chunk.len && found < limit; i++) {
            *cursor = chunk.items[i].seq;
            if (hub_types_match(types, chunk.items[i].type) &&
                (!allow || events_filter_match(allow, chunk.items[i].type))) {
                hub_waits_add_event(arr, &chunk.items[i], NULL, st->workspace);
                found++;
            }
        }
        event_vec_deinit(&chunk);
    }
    return found;
}

cJSON *hub_waits_result(cJSON *events, uint64_t cursor)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "events", events);
    char id[24];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)cursor);
    cJSON_AddStringToObject(r, "lastId", id);
    return r;
}

void hub_waits_park(struct hub_waits *w, const struct hub_wait *what)
{
    struct hub_wait *x = xmalloc(sizeof(*x));
    *x = *what;
    x->types = what->types ? cJSON_Duplicate(what->types, 1) : NULL;
    x->next = w->waits;
    w->waits = x;
    hub_waits_reschedule(w);
}

void hub_waits_service(struct hub_waits *w, bool expire_due)
{
    int64_t now = clock_mono_ms();
    struct hub_wait **pp = &w->waits;
    while (*pp) {
        struct hub_wait *x = *pp;
        cJSON *arr = cJSON_CreateArray();
        size_t n = hub_waits_collect(w, &x->cursor, x->types, x->allow, x->limit, arr);
        bool due = expire_due && x->deadline_ms <= now;
        struct hub_session *s = hub_session_find(w->st.sessions, x->session);
        if (!s || n > 0 || due) {
            *pp = x->next;
            if (s)
                w->host->answer(w->host_arg, s, x->call_id, hub_waits_result(arr, x->cursor), false,
                                x->clock);
            else
                cJSON_Delete(arr);
            hub_wait_free(x);
            continue;
        }
        cJSON_Delete(arr);
        pp = &x->next;
    }
    hub_waits_reschedule(w);
}

void hub_waits_reschedule(struct hub_waits *w)
{
    int64_t next = INT64_MAX;
    for (struct hub_wait *x = w->waits; x; x = x->next)
        if (x->deadline_ms < next)
            next = x->deadline_ms;
    if (next == INT64_MAX) {
        event_del(w->ev);
        return;
    }
    int64_t delay = next - clock_mono_ms();
    if (delay < 0)
        delay = 0;
    struct timeval tv = {.tv_sec = delay / 1000, .tv_usec = (delay % 1000) * 1000};
    event_add(w->ev, &tv);
}

bool hub_waits_cancel(struct hub_waits *w, uint64_t session, uint64_t call_id)
{
    for (struct hub_wait **pp = &w->waits; *pp; pp = &(*pp)->next) {
        struct hub_wait *x = *pp;
        if (x->session == session && x->call_id == call_id) {
            *pp = x->next;
            hub_wait_free(x);
            return true;
        }
    }
    return false;
}

void hub_waits_drop_session(struct hub_waits *w, uint64_t session)
{
    struct hub_wait **pp = &w->waits;
    while (*pp) {
        struct hub_wait *x = *pp;
        if (x->session == session) {
            struct hub_session *s = hub_session_find(w->st.sessions, session);
            if (s)
                s->inflight--;
            *pp = x->next;
            hub_wait_free(x);
            continue;
        }
        pp = &x->next;
    }
}

/* ---- lock waiters ------------------------------------------------------- */

static cJSON *hub_waits_unavailable(const char *msg)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "success", 0);
    cJSON_AddStringToObject(r, "error", msg);
    cJSON_AddStringToObject(r, "code", err_name(ERR_UNAVAILABLE));
    return r;
}

void hub_lock_waiters_done(struct hub_waits *w, struct workspace_waiter_done_vec *done)
{
    for (size_t i = 0; i < done->len; i++) {
        struct hub_waiter **pp = &w->waiters;
        while (*pp && (*pp)->waiter_id != done->items[i].waiter_id)
            pp = &(*pp)->next;
        if (!*pp)
            continue;
        struct hub_waiter *x = *pp;
        *pp = x->next;
        struct hub_session *s = hub_session_find(w->st.sessions, x->session);
        if (s) {
            /* Granted or refused against the batch's state: queued again
             * if the batch's append loses (hub_commit.c), when the core
             * kept the request to queue again. */
            w->host->lock_answer(w->host_arg, s, x->call_id, done->items[i].result, x->clock,
                                 done->items[i].waiter);
            done->items[i].result = NULL;
            done->items[i].waiter = NULL;
        } else {
            w->host->lock_ended(
                w->host_arg, x->clock,
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(done->items[i].result, "success")));
        }
        free(x);
    }
}

void hub_lock_waiters_service(struct hub_waits *w)
{
    if (!w->waiters)
        return;
    struct workspace_waiter_done_vec done = {0};
    workspace_waiters_service(*w->st.ws, w->host->now(w->host_arg), w->st.pending, &done);
    hub_lock_waiters_done(w, &done);
    workspace_waiter_done_vec_deinit(&done);
    if (w->st.pending->len)
        w->host->schedule_commit(w->host_arg);
}

void hub_lock_waiters_refuse(struct hub_waits *w, const char *msg)
{
    while (w->waiters) {
        struct hub_waiter *x = w->waiters;
        w->waiters = x->next;
        (void)workspace_waiter_cancel(*w->st.ws, x->waiter_id); /* gone already: fine */
        w->host->lock_ended(w->host_arg, x->clock, false);
        struct hub_session *s = hub_session_find(w->st.sessions, x->session);
        if (s)
            w->host->answer(w->host_arg, s, x->call_id, hub_waits_unavailable(msg), true, x->clock);
        free(x);
    }
}

void hub_waiter_forget(struct hub_waits *w, uint64_t waiter_id)
{
    for (struct hub_waiter **pp = &w->waiters; *pp; pp = &(*pp)->next) {
        if ((*pp)->waiter_id == waiter_id) {
            struct hub_waiter *x = *pp;
            *pp = x->next;
            free(x);
            return;
        }
    }
}

void hub_waiter_add(struct hub_waits *w, uint64_t waiter_id, uint64_t session, uint64_t call_id,
                    struct hub_call_clock clock)
{
    struct hub_waiter *x = xcalloc(1, sizeof(*x));
    x->waiter_id = waiter_id;
    x->session = session;
    x->call_id = call_id;
    x->clock = clock;
    x->next = w->waiters;
    w->waiters = x;
}

bool hub_waiter_cancel(struct hub_waits *w, uint64_t session, uint64_t call_id)
{
    for (struct hub_waiter **pp = &w->waiters; *pp; pp = &(*pp)->next) {
        struct hub_waiter *x = *pp;
        if (x->session == session && x->call_id == call_id) {
            workspace_waiter_cancel(*w->st.ws, x->waiter_id);
            w->st.metrics->lock_wait_cancelled_total++;
            *pp = x->next;
            free(x);
            return true;
        }
    }
    return false;
}

void hub_waiters_drop_session(struct hub_waits *w, uint64_t session)
{
    struct hub_waiter **pp = &w->waiters;
    while (*pp) {
        struct hub_waiter *x = *pp;
        if (x->session == session) {
            if (workspace_waiter_cancel(*w->st.ws, x->waiter_id) != 0)
                log_debug("waiter %llu already gone", (unsigned long long)x->waiter_id);
            w->st.metrics->lock_wait_cancelled_total++;
            struct hub_session *s = hub_session_find(w->st.sessions, session);
            if (s)
                s->inflight--;
            *pp = x->next;
            free(x);
            continue;
        }
        pp = &x->next;
    }
}
