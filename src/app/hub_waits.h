/* hub_waits — the waits part of the hub (docs/architecture.md, "The parts
 * of the hub"): the calls that outlive their run. Queued lock requests
 * (a lock_file the core put in its wait queue: struct hub_waiter) and
 * parked wait_for_events calls (struct hub_wait), their deadlines (the
 * part's own timer) and their servicing after every commit.
 *
 * A waiting call keeps only a copy of what answering it needs (session
 * id, call id, clock); its session is looked up in the sessions part when
 * it ends. Answers go out through the host ops the part was given (the
 * commit part holds or sends them), never by including the hub's other
 * headers. The part reads the hub's state through the pointers it was
 * given at init (the current workspace, the batch, the bus, the store). */
#ifndef COORDHUB_APP_HUB_WAITS_H
#define COORDHUB_APP_HUB_WAITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct bus;
struct event;
struct event_base;
struct event_vec;
struct events_filter;
struct hub_session;
struct hub_sessions;
struct metrics_hub;
struct store;
struct workspace;
struct workspace_waiter;
struct workspace_waiter_done_vec;

/* Where a tool call stands for the metrics: which tool (a slot of the
 * hub's metrics, -1: none) and when the hub received it. */
struct hub_call_clock {
    int tool;
    int64_t start_ns; /* clock_mono_ns */
};

/* A lock_file call queued in the core's wait queue. */
struct hub_waiter {
    uint64_t waiter_id;
    uint64_t session;
    uint64_t call_id;
    struct hub_call_clock clock; /* start_ns: when the call came, i.e. queued */
    struct hub_waiter *next;
};

/* A parked wait_for_events call. */
struct hub_wait {
    uint64_t session;
    uint64_t call_id;
    uint64_t cursor; /* events with seq > cursor not yet examined */
    cJSON *types;    /* owned array of patterns, or NULL = all */
    /* borrowed: the session key's canSubscribe, or NULL = all */
    const struct events_filter *allow;
    size_t limit;
    int64_t deadline_ms; /* monotonic ms */
    struct hub_call_clock clock;
    struct hub_wait *next;
};

/* What the waits part asks of the hub. */
struct hub_waits_host {
    /* Answer call_id of s (takes result), timed by clock; the answer
     * stands if the batch's append loses. */
    void (*answer)(void *arg, struct hub_session *s, uint64_t call_id, cJSON *result, bool is_error,
                   struct hub_call_clock clock);
    /* The end of a queued lock request (granted or refused): like
     * answer, counted in the lock-wait metrics when sent; waiter (taken,
     * may be NULL) is queued again if the batch's append loses. */
    void (*lock_answer)(void *arg, struct hub_session *s, uint64_t call_id, cJSON *result,
                        struct hub_call_clock clock, struct workspace_waiter *waiter);
    /* A queued lock request ended with nobody to answer: counted. */
    void (*lock_ended)(void *arg, struct hub_call_clock clock, bool granted);
    /* Events joined the batch (*pending): commit them. */
    void (*schedule_commit)(void *arg);
    /* The store's clock (ms since epoch). */
    int64_t (*now)(void *arg);
};

/* The hub's state the part reads, borrowed (pointers to the hub's own
 * fields: a reload replaces the workspace). */
struct hub_waits_state {
    struct workspace *const *ws;
    struct event_vec *pending; /* the batch lock grants join */
    struct bus *const *bus;
    struct store *const *store;
    const uint64_t *committed_seq;
    const char *workspace; /* its name, in event JSON */
    struct metrics_hub *metrics;
    struct hub_sessions *sessions;
};

struct hub_waits {
    const struct hub_waits_host *host;
    void *host_arg;
    struct hub_waits_state st;
    struct hub_waiter *waiters;
    struct hub_wait *waits;
    struct event *ev; /* the parked waits' next deadline */
};

void hub_waits_init(struct hub_waits *w, struct event_base *base, const struct hub_waits_state *st,
                    const struct hub_waits_host *host, void *host_arg);
/* Free what is left, unanswered. */
void hub_waits_fini(struct hub_waits *w);

/* ---- wait_for_events ---- */
/* Gather up to limit committed events after *cursor matching types (NULL:
 * all) and allow (NULL: all) into arr; *cursor advances past everything
 * examined, matching or not. Returns how many. */
size_t hub_waits_collect(struct hub_waits *w, uint64_t *cursor, const cJSON *types,
                         const struct events_filter *allow, size_t limit, cJSON *arr);
/* The answer of a wait: {"events":events (taken),"lastId":"cursor"}. */
cJSON *hub_waits_result(cJSON *events, uint64_t cursor);
/* Append ev (its bus text when given) to arr as event JSON. */
void hub_waits_add_event(cJSON *arr, const struct event *ev, const char *text,
                         const char *workspace);
/* Park a wait (types copied) until an event matches or deadline_ms. */
void hub_waits_park(struct hub_waits *w, const struct hub_wait *what);
/* Answer the parked waits that have events now, and (expire_due) those
 * whose deadline passed; then re-arm the deadline timer. */
void hub_waits_service(struct hub_waits *w, bool expire_due);
/* Re-arm the deadline timer for the nearest parked wait. */
void hub_waits_reschedule(struct hub_waits *w);
/* The parked wait of (session, call_id) ends unanswered. True if found. */
bool hub_waits_cancel(struct hub_waits *w, uint64_t session, uint64_t call_id);
void hub_waits_drop_session(struct hub_waits *w, uint64_t session);

/* ---- queued lock requests ---- */
/* Keep waiter id's call open: it is queued in the workspace. */
void hub_waiter_add(struct hub_waits *w, uint64_t waiter_id, uint64_t session, uint64_t call_id,
                    struct hub_call_clock clock);
/* Forget the record of waiter id (its request is queued again by its
 * call running again): no answer, nothing counted. */
void hub_waiter_forget(struct hub_waits *w, uint64_t waiter_id);
/* The queued request of (session, call_id) leaves the core's queue,
 * unanswered (counted as cancelled). True if found. */
bool hub_waiter_cancel(struct hub_waits *w, uint64_t session, uint64_t call_id);
void hub_waiters_drop_session(struct hub_waits *w, uint64_t session);
/* Let the core grant or time out what it can, and answer those. */
void hub_lock_waiters_service(struct hub_waits *w);
/* Answer every queued lock request with msg as a tool error (code
 * unavailable) and drop it from the workspace's queue. */
void hub_lock_waiters_refuse(struct hub_waits *w, const char *msg);
/* Answer the queued calls of finished requests (the core's service, or
 * requests a rebuild could not carry); takes the items' results. */
void hub_lock_waiters_done(struct hub_waits *w, struct workspace_waiter_done_vec *done);

#endif
