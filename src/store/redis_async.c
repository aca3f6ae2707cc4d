/* redis_async — see redis_async.h. */
#include "store/redis_async.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "store/redis_entry.h"
#include "store/redis_redirect.h"
#include "store/redis_route.h"

/* ---- appends ------------------------------------------------------------ */

/* One append from the call until its callback. It waits for the
 * connection's set-up (WAITING), is sent (SENT), and is answered
 * (ANSWERED: by Redis, by a lost connection, by its deadline, or by a
 * failure to send). Follow-ups (NOSCRIPT, MOVED) and the callback run
 * from settle_ev, never inside hiredis's callbacks: following a MOVED
 * drops the connection, and the caller's callback may do anything. */
enum redis_async_req_state {
    REDIS_ASYNC_REQ_STARTING, /* getting the connection: settle_ev leaves it */
    REDIS_ASYNC_REQ_WAITING,
    REDIS_ASYNC_REQ_SENT,
    REDIS_ASYNC_REQ_ANSWERED,
};

struct redis_async_req {
    struct redis_async *owner;
    struct redis_args a; /* the append script's command */
    uint64_t expected;
    store_append_cb cb;
    void *arg;
    enum redis_async_req_state state;
    int status;               /* 0, -ERR_CONFLICT, -ERR_STORE, -ERR_UNAVAILABLE, -ERR_TIMEOUT */
    uint64_t seq;             /* current seq reported by the script */
    bool noscript;            /* the server did not know the script */
    bool reloaded, moved;     /* each follow-up is made once */
    struct redis_redirect rd; /* cluster: a redirection met (nothing ran), followed after */
    char said[160];           /* with rd: the error reply, for the log */
    char error[256];          /* the server's error ("OOM …"), or "" */
    struct event *deadline;   /* REDIS_CONN_TIMEOUT_MS after the call */
    bool *done;               /* set when the callback ran (append on a private base) */
    struct redis_async_req *next;
};

static void redis_async_reads_settle(struct redis_async *r);

static void redis_async_kick(void *arg)
{
    struct redis_async *r = arg;
    event_active(r->settle_ev, EV_TIMEOUT, 0);
}

static void redis_async_answer(struct redis_async_req *q, int status)
{
    q->state = REDIS_ASYNC_REQ_ANSWERED;
    q->status = status;
    redis_async_kick(q->owner);
}

static void redis_async_append_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis_async_req *q = privdata;
    const redisReply *rep = reply;
    const struct redis_conn *c = ac->data;
    q->state = REDIS_ASYNC_REQ_ANSWERED;
    redis_async_kick(q->owner);
    if (!rep) {
        q->status = -ERR_TIMEOUT; /* disconnected before the answer: it may have run */
        return;
    }
    if (rep->type != REDIS_REPLY_ERROR) {
        q->status = redis_scripts_append_answer(rep, &q->seq);
        return;
    }
    if (strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        q->noscript = true;
        q->status = -ERR_STORE;
    } else if (c->cluster && redis_redirect_parse(rep->str, &q->rd) != REDIS_REDIRECT_NONE) {
        snprintf(q->said, sizeof(q->said), "%s", rep->str);
        q->status = -ERR_UNAVAILABLE; /* nothing ran; followed from settle_ev */
    } else {
        log_error("store: append script failed: %s", rep->str);
        snprintf(q->error, sizeof(q->error), "%s", rep->str);
        q->status = -ERR_STORE;
    }
}

static void redis_async_send(struct redis_async_req *q)
{
    struct redis_async *r = q->owner;
    redis_scripts_set_sha(&q->a, r->scripts, REDIS_SCRIPT_APPEND);
    if (redis_conn_async_send(r->conn, redis_async_append_cb, q, q->a.argc, q->a.argv, q->a.lens) !=
        0) {
        redis_async_answer(q, -ERR_UNAVAILABLE);
        return;
    }
    q->state = REDIS_ASYNC_REQ_SENT;
}

/* Send q now, or once the connection's set-up is answered; a connection
 * that cannot be had answers it -ERR_UNAVAILABLE (nothing ran). */
static void redis_async_start(struct redis_async_req *q)
{
    struct redis_async *r = q->owner;
    /* Getting the connection may process the private base, settle_ev
     * included, which must not take q meanwhile. */
    q->state = REDIS_ASYNC_REQ_STARTING;
    int rc = redis_route_async_ready(r->conn);
    q->state = REDIS_ASYNC_REQ_WAITING;
    if (rc != 0)
        redis_async_answer(q, -ERR_UNAVAILABLE);
    else if (r->conn->ready)
        redis_async_send(q);
}

static void redis_async_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct redis_async_req *q = arg;
    (void)fd;
    (void)what;
    if (q->state == REDIS_ASYNC_REQ_ANSWERED || q->state == REDIS_ASYNC_REQ_STARTING)
        return;
    char where[160];
    redis_conn_where(q->owner->conn, where, sizeof(where));
    log_warn("store: %s: no answer within %d ms; reconnecting", where, REDIS_CONN_TIMEOUT_MS);
    bool sent = q->state == REDIS_ASYNC_REQ_SENT;
    /* Every command sent on it is answered with no reply (-ERR_TIMEOUT:
     * it may have run); one still waiting for the set-up never went. */
    redis_conn_async_drop(q->owner->conn);
    if (!sent)
        redis_async_answer(q, -ERR_UNAVAILABLE);
}

static void redis_async_req_free(struct redis_async_req *q)
{
    event_free(q->deadline);
    redis_args_free(&q->a);
    free(q);
}

/* An answered q whose follow-up sends it again (a NOSCRIPT: the scripts
 * are loaded again; a MOVED: the connections go to the new node). Each
 * once: nothing ran either time. */
static bool redis_async_follow_up(struct redis_async_req *q)
{
    struct redis_async *r = q->owner;
    if (q->noscript) {
        q->noscript = false;
        if (q->reloaded || redis_route_redo_setup(r->conn) != 0) {
            q->status = -ERR_UNAVAILABLE;
            return false;
        }
        q->reloaded = true;
        return true;
    }
    if (q->rd.kind == REDIS_REDIRECT_NONE)
        return false;
    struct redis_redirect rd = q->rd;
    q->rd.kind = REDIS_REDIRECT_NONE;
    if (redis_route_follow(r->conn, &rd, q->said, "EVALSHA") != REDIS_ROUTE_MOVED || q->moved)
        return false;
    q->moved = true;
    return true;
}

/* Take q out of the list and run its callback. */
static void redis_async_complete(struct redis_async_req *q)
{
    struct redis_async *r = q->owner;
    for (struct redis_async_req **pp = &r->reqs; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    }
    memcpy(r->error, q->error, sizeof(r->error));
    if (q->done)
        *q->done = true;
    q->cb(q->arg, q->status, q->status == 0 || q->status == -ERR_CONFLICT ? q->seq : q->expected);
    redis_async_req_free(q);
}

/* settle_ev: send what waited for the connection, fail what lost it
 * before it was sent, make the follow-ups and complete the answered. */
static void redis_async_settle_cb(evutil_socket_t fd, short what, void *arg)
{
    struct redis_async *r = arg;
    (void)fd;
    (void)what;
    redis_async_reads_settle(r);
    bool again = true;
    while (again) {
        again = false;
        for (struct redis_async_req *q = r->reqs; q; q = q->next) {
            if (q->state == REDIS_ASYNC_REQ_WAITING && r->conn->ac && r->conn->ready) {
                redis_async_send(q);
            } else if (q->state == REDIS_ASYNC_REQ_WAITING && !r->conn->ac) {
                redis_async_answer(q, -ERR_UNAVAILABLE); /* the set-up failed */
            }
            if (q->state != REDIS_ASYNC_REQ_ANSWERED)
                continue;
            if (redis_async_follow_up(q)) {
                redis_async_start(q);
            } else {
                redis_async_complete(q); /* may append (at the tail) */
                again = true;            /* the list changed: from the head again */
                break;
            }
        }
    }
}

/* ---- asynchronous reads ------------------------------------------------- */

/* One XRANGE on the asynchronous connection, from the call until its
 * callback (run from settle_ev, like an append's). */
struct store_read {
    struct redis_async *owner;
    store_read_cb cb;
    void *arg;
    bool answered;  /* the reply (or its loss) came */
    bool cancelled; /* read_cancel: completed without its callback */
    int status;
    struct event_vec evs;
    struct event *deadline;
    struct store_read *next;
};

static void redis_async_read_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct store_read *q = privdata;
    const redisReply *rep = reply;
    (void)ac;
    q->answered = true;
    redis_async_kick(q->owner);
    if (!rep) {
        q->status = -ERR_UNAVAILABLE; /* the connection went: read again later */
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY) {
        log_error("store: XRANGE %s failed: %s", q->owner->k_log,
                  rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected answer");
        q->status = -ERR_STORE;
        return;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        struct event ev;
        if (redis_entry_event(rep->element[i], &ev) != 0) {
            log_error("store: an entry of %s is damaged", q->owner->k_log);
            q->status = -ERR_STORE;
            event_vec_clear(&q->evs);
            return;
        }
        event_vec_push(&q->evs, &ev);
    }
}

static void redis_async_read_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct store_read *q = arg;
    (void)fd;
    (void)what;
    if (q->answered)
        return;
    char where[160];
    redis_conn_where(q->owner->conn, where, sizeof(where));
    log_warn("store: %s: no answer to a read within %d ms; reconnecting", where,
             REDIS_CONN_TIMEOUT_MS);
    redis_conn_async_drop(q->owner->conn); /* answers it, with no reply */
}

int redis_async_read(struct redis_async *r, uint64_t since, size_t limit, store_read_cb cb,
                     void *arg, struct store_read **handle)
{
    if (!cb || !handle || limit == 0)
        return -ERR_INVALID;
    /* Only once the connection's set-up was answered: a read queued behind
     * a SELECT that fails would read another database. */
    if (!r->later || redis_route_async_ready(r->conn) != 0 || !r->conn->ready)
        return -ERR_STATE;
    char start[32], count[24];
    snprintf(start, sizeof(start), "%" PRIu64 "-0", since + 1);
    snprintf(count, sizeof(count), "%zu",
             limit < REDIS_ASYNC_READ_MAX ? limit : REDIS_ASYNC_READ_MAX);
    const char *argv[6] = {"XRANGE", r->k_log, start, "+", "COUNT", count};
    struct store_read *q = xcalloc(1, sizeof(*q));
    q->owner = r;
    q->cb = cb;
    q->arg = arg;
    event_vec_init(&q->evs);
    if (redis_conn_async_send(r->conn, redis_async_read_cb, q, 6, argv, NULL) != 0) {
        free(q);
        return -ERR_STATE;
    }
    q->deadline = evtimer_new(r->conn->loop, redis_async_read_deadline_cb, q);
    struct timeval tv = clock_timeval_ms(REDIS_CONN_TIMEOUT_MS);
    evtimer_add(q->deadline, &tv);
    q->next = r->reads;
    r->reads = q;
    *handle = q;
    return 0;
}

void redis_async_read_cancel(struct store_read *q)
{
    q->cancelled = true; /* freed once answered (hiredis holds it until then) */
}

/* Complete the answered reads (settle_ev; close, with all answered). */
static void redis_async_reads_settle(struct redis_async *r)
{
    struct store_read **pp = &r->reads;
    while (*pp) {
        struct store_read *q = *pp;
        if (!q->answered) {
            pp = &q->next;
            continue;
        }
        *pp = q->next;
        if (!q->cancelled)
            q->cb(q->arg, q->status, &q->evs); /* may read again: at the head */
        event_vec_deinit(&q->evs);
        event_free(q->deadline);
        free(q);
        pp = &r->reads; /* the list may have changed */
    }
}

void redis_async_deinit(struct redis_async *r)
{
    if (!r->settle_ev)
        return;
    redis_conn_async_drop(r->conn); /* answers what was sent, with no reply */
    r->conn->changed = NULL;
    redis_async_reads_settle(r);
    while (r->reqs) {
        struct redis_async_req *q = r->reqs;
        q->status = -ERR_UNAVAILABLE;
        q->noscript = false;
        q->rd.kind = REDIS_REDIRECT_NONE;
        redis_async_complete(q);
    }
    event_free(r->settle_ev);
    r->settle_ev = NULL;
}

int redis_async_init(struct redis_async *r, struct redis_conn *conn, struct redis_scripts *scripts,
                     const char *k_log, bool later)
{
    memset(r, 0, sizeof(*r));
    r->conn = conn;
    r->scripts = scripts;
    r->k_log = k_log;
    r->later = later;
    r->settle_ev = event_new(conn->loop, -1, 0, redis_async_settle_cb, r);
    if (!r->settle_ev)
        return -ERR_INTERNAL;
    conn->changed = redis_async_kick;
    conn->changed_arg = r;
    return 0;
}

void redis_async_append(struct redis_async *r, struct redis_args *args, uint64_t expected,
                        store_append_cb cb, void *arg)
{
    struct redis_async_req *q = xcalloc(1, sizeof(*q));
    q->owner = r;
    q->expected = expected;
    q->cb = cb;
    q->arg = arg;
    q->a = *args; /* taken */
    q->deadline = evtimer_new(r->conn->loop, redis_async_deadline_cb, q);
    struct timeval tv = clock_timeval_ms(REDIS_CONN_TIMEOUT_MS);
    evtimer_add(q->deadline, &tv);
    struct redis_async_req **tail = &r->reqs;
    while (*tail)
        tail = &(*tail)->next;
    *tail = q;
    bool done = false;
    if (!r->later)
        q->done = &done;
    redis_async_start(q);
    /* Without the caller's loop the answer is awaited here, on the
     * private base (the deadline bounds it). */
    while (!r->later && !done)
        redis_conn_run_once(r->conn);
}

const char *redis_async_error(const struct redis_async *r)
{
    return r->error[0] ? r->error : NULL;
}
