/* workspace_locks — lock_file, unlock_file, renew_locks, check_lock,
 * list_locked_files, detect_conflicts, and the lock wait queues.
 *
 * Check-and-set is atomic because evaluation and emission happen in one
 * call with nothing in between: workspace__lock_eval() looks, and
 * workspace__lock_grant() emits the events that take the lease, folded at
 * once. A holder whose expiry has passed but which the tick has not yet
 * removed never blocks anyone: it is treated as gone by every query and,
 * when it stands in the way of a grant, expired (file:unlocked
 * "expired") immediately before the grant, so the state never holds two
 * conflicting live leases.
 *
 * Wait queues are FIFO per key: a request conflicting with an earlier
 * queued request on the same key waits behind it (or is refused when it
 * does not wait), so a stream of fresh requests cannot starve a waiter.
 * Waiters are ephemeral: they are never logged and a session's waiters die
 * with it. */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/args.h"
#include "core/path.h"
#include "core/workspace_internal.h"

/* ---- evaluation and grant ---- */

void workspace__lock_eval(const struct workspace *ws, const char *agent, const char *key,
                          bool pattern, enum lease_mode mode, int64_t now_ms,
                          struct workspace_lock_eval *e)
{
    struct lease_vec all = {0};
    memset(e, 0, sizeof(*e));
    lease_table_conflicts(&ws->leases, key, pattern, agent, mode, false, now_ms, true, &all);
    for (size_t i = 0; i < all.len; i++)
        lease_vec_push(all.items[i]->expires_at <= now_ms ? &e->stale : &e->conflicts,
                       all.items[i]);
    lease_vec_deinit(&all);
    e->own = lease_table_holder(&ws->leases, key, pattern, agent);
    if (e->own && e->own->expires_at <= now_ms) {
        lease_vec_push(&e->stale, e->own);
        e->own = NULL;
    }
    lease_vec_sort(&e->conflicts);
    lease_vec_sort(&e->stale);
}

void workspace__lock_eval_deinit(struct workspace_lock_eval *e)
{
    lease_vec_deinit(&e->conflicts);
    lease_vec_deinit(&e->stale);
}

cJSON *workspace__lock_grant(struct workspace *ws, const char *agent, const char *key, bool pattern,
                             enum lease_mode mode, const char *reason, int64_t ttl_ms,
                             const char *task_id, int64_t now_ms,
                             const struct workspace_lock_eval *e, struct event_vec *out,
                             uint64_t *token)
{
    cJSON *gone = cJSON_CreateArray(); /* expired holders other than agent */
    for (size_t i = 0; i < e->stale.len; i++) {
        if (strcmp(e->stale.items[i]->agent_id, agent) != 0)
            cJSON_AddItemToArray(gone, cJSON_CreateString(e->stale.items[i]->agent_id));
        workspace__emit(ws, out, EVENT_FILE_UNLOCKED, now_ms,
                        workspace__unlock_data(e->stale.items[i], "expired"));
        ws->lock_expired++;
    }
    const cJSON *g;
    cJSON_ArrayForEach(g, gone)
    {
        workspace__settle_sessionless(ws, g->valuestring, now_ms, out);
    }
    cJSON_Delete(gone);
    struct lease *own = e->own;
    bool renew = own && own->mode == mode;
    uint64_t tok = renew ? own->token : ws->seq + 1;
    int64_t expires_at = now_ms + ttl_ms;
    if (renew) {
        if (!reason)
            reason = own->reason;
        if (!task_id)
            task_id = own->task_id;
    }
    cJSON *d = cJSON_CreateObject();
    workspace__add_key(d, key, pattern);
    cJSON_AddStringToObject(d, "agentId", agent);
    if (reason)
        cJSON_AddStringToObject(d, "reason", reason);
    else
        cJSON_AddNullToObject(d, "reason");
    cJSON_AddStringToObject(d, "mode", lease_mode_name(mode));
    json_add_u64(d, "token", tok);
    json_add_time(d, "expiresAt", expires_at);
    cJSON_AddNumberToObject(d, "ttl", (double)ttl_ms / 1000.0);
    if (task_id)
        cJSON_AddStringToObject(d, "taskId", task_id);
    if (renew)
        cJSON_AddTrueToObject(d, "renewed");
    else if (own)
        json_add_u64(d, "previousToken", own->token); /* mode change */
    cJSON *r = cJSON_CreateObject();
    cJSON_AddTrueToObject(r, "success");
    cJSON_AddTrueToObject(r, "locked");
    cJSON_AddStringToObject(r, "file", key);
    if (pattern)
        cJSON_AddTrueToObject(r, "pattern");
    json_add_u64(r, "token", tok);
    json_add_time(r, "expiresAt", expires_at);
    cJSON_AddStringToObject(r, "mode", lease_mode_name(mode));
    if (renew)
        cJSON_AddTrueToObject(r, "renewed");
    workspace__emit(ws, out, EVENT_FILE_LOCKED, now_ms, d);
    if (!renew)
        ws->lock_granted++;
    if (token)
        *token = tok;
    return r;
}

cJSON *workspace__conflict_json(const struct lease *h, const char *key, bool pattern)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "file", key);
    if (pattern)
        cJSON_AddTrueToObject(c, "pattern");
    cJSON_AddStringToObject(c, "lockedBy", h->agent_id);
    if (h->reason)
        cJSON_AddStringToObject(c, "reason", h->reason);
    else
        cJSON_AddNullToObject(c, "reason");
    cJSON_AddStringToObject(c, "mode", lease_mode_name(h->mode));
    json_add_u64(c, "token", h->token);
    json_add_time(c, "expiresAt", h->expires_at);
    if (h->task_id)
        cJSON_AddStringToObject(c, "taskId", h->task_id);
    if (strcmp(h->key->key, key) != 0 || h->key->pattern != pattern) {
        cJSON_AddStringToObject(c, "lockedKey", h->key->key);
        if (h->key->pattern)
            cJSON_AddTrueToObject(c, "lockedKeyIsPattern");
    }
    return c;
}

int workspace__norm_key(const struct workspace *ws, const char *argname, const char *value,
                        bool pattern, char **key, char **errmsg)
{
    char *why = NULL;
    int rc = pattern ? path_pattern_normalize(ws->root, value, strlen(value), key, &why)
                     : path_normalize(ws->root, value, strlen(value), key, &why);
    if (rc) {
        *errmsg = str_printf("argument '%s': %s", argname, why);
        free(why);
    } else if (ws->fold_case) {
        path_fold_case(*key);
    }
    return rc;
}

/* Exactly one of "file" and "pattern", normalised. */
static int workspace_locks_key_arg(const struct workspace *ws, const cJSON *args, char **key,
                                   bool *pattern, char **errmsg)
{
    const char *file, *pat;
    int rc = args_str(args, "file", false, PATH_MAX_LEN + 1, &file, errmsg);
    if (!rc)
        rc = args_str(args, "pattern", false, PATH_PATTERN_MAX + 1, &pat, errmsg);
    if (rc)
        return rc;
    if (!file == !pat) {
        *errmsg = xstrdup(file ? "arguments 'file' and 'pattern': give one, not both"
                               : "argument 'file': required (or give 'pattern')");
        return -ERR_INVALID;
    }
    *pattern = pat != NULL;
    return workspace__norm_key(ws, file ? "file" : "pattern", file ? file : pat, *pattern, key,
                               errmsg);
}

/* The refusal result for a lock blocked by holder h. */
static cJSON *workspace_locks_refusal(const char *key, bool pattern, const struct lease *h)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddFalseToObject(r, "success");
    cJSON_AddTrueToObject(r, "locked");
    cJSON_AddStringToObject(r, "file", key);
    if (pattern)
        cJSON_AddTrueToObject(r, "pattern");
    cJSON_AddStringToObject(r, "lockedBy", h->agent_id);
    if (h->reason)
        cJSON_AddStringToObject(r, "reason", h->reason);
    else
        cJSON_AddNullToObject(r, "reason");
    json_add_u64(r, "token", h->token);
    json_add_time(r, "expiresAt", h->expires_at);
    cJSON_AddStringToObject(r, "mode", lease_mode_name(h->mode));
    bool other_key = strcmp(h->key->key, key) != 0 || h->key->pattern != pattern;
    if (other_key)
        cJSON_AddStringToObject(r, "lockedKey", h->key->key);
    if (h->task_id)
        cJSON_AddStringToObject(r, "taskId", h->task_id);
    char *err = str_printf("locked by %s%s%s%s%s%s", h->agent_id, other_key ? " via '" : "",
                           other_key ? h->key->key : "", other_key ? "'" : "",
                           h->reason ? ": " : "", h->reason ? h->reason : "");
    cJSON_AddStringToObject(r, "error", err);
    free(err);
    return r;
}

/* ---- wait queues ---- */

static char *workspace_locks_waitq_key(const char *key, bool pattern)
{
    return str_printf("%c:%s", pattern ? 'p' : 'f', key);
}

static bool workspace_locks_waiter_conflicts(const struct workspace_waiter *w, const char *agent,
                                             enum lease_mode mode)
{
    return strcmp(w->agent_id, agent) != 0 &&
           (mode == LEASE_EXCLUSIVE || w->mode == LEASE_EXCLUSIVE);
}

/* The first queued request on key that a request (agent, mode) must not
 * overtake, stopping at `until` (exclusive); NULL when none. */
static const struct workspace_waiter *
workspace_locks_waitq_blocker(const struct workspace *ws, const char *key, bool pattern,
                              const char *agent, enum lease_mode mode,
                              const struct workspace_waiter *until)
{
    char *qk = workspace_locks_waitq_key(key, pattern);
    const struct workspace_waitq *q = map_get(&ws->waitqs, qk);
    free(qk);
    for (const struct workspace_waiter *w = q ? q->head : NULL; w && w != until; w = w->q_next) {
        if (workspace_locks_waiter_conflicts(w, agent, mode))
            return w;
    }
    return NULL;
}

static cJSON *workspace_locks_queue_refusal(const char *key, bool pattern,
                                            const struct workspace_waiter *b)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddFalseToObject(r, "success");
    cJSON_AddFalseToObject(r, "locked");
    cJSON_AddStringToObject(r, "file", key);
    if (pattern)
        cJSON_AddTrueToObject(r, "pattern");
    cJSON_AddStringToObject(r, "queuedBy", b->agent_id);
    char *err = str_printf("an earlier request by %s is queued for this key", b->agent_id);
    cJSON_AddStringToObject(r, "error", err);
    free(err);
    return r;
}

static void workspace_locks_done_push(struct workspace_waiter_done_vec *done, uint64_t id,
                                      cJSON *result, struct workspace_waiter *w)
{
    if (done->len == done->cap) {
        done->cap = done->cap ? done->cap * 2 : 8;
        done->items = xrealloc(done->items, done->cap * sizeof(*done->items));
    }
    done->items[done->len].waiter_id = id;
    done->items[done->len].result = result;
    done->items[done->len].waiter = w;
    done->len++;
}

/* ---- observations (core/observation.h) ---- */

/* A queue observation of w; the agent in the way is holder h or, with
 * h NULL, the queued request b (both may be NULL). */
static void workspace_locks_observe_queue(const struct workspace *ws,
                                          const struct workspace_waiter *w,
                                          enum observation_kind kind,
                                          enum observation_queue_end end, int64_t now_ms,
                                          const struct lease *h, const struct workspace_waiter *b)
{
    struct observation o = {
        .kind = kind,
        .at_ms = now_ms,
        .agent_id = w->agent_id,
        .session_id = w->session_id,
        .file = w->key,
        .pattern = w->pattern,
        .shared = w->mode == LEASE_SHARED,
        .holder = h   ? h->agent_id
                  : b ? b->agent_id
                      : NULL,
        .lease_until = h ? h->expires_at : 0,
        .waiter_id = w->id,
        .joined_at_ms = w->enqueued_at,
        .deadline_ms = w->deadline,
        .waited_ms = now_ms > 0 ? now_ms - w->enqueued_at : -1,
        .end = end,
    };
    workspace__observe(ws, &o);
}

/* lock_file refused at once: holder h is in the way, or (h NULL) the
 * queued request b. */
static void workspace_locks_observe_refused(const struct workspace *ws,
                                            const struct workspace_caller *caller,
                                            const char *agent, const char *key, bool pattern,
                                            enum lease_mode mode, int64_t now_ms,
                                            const struct lease *h, const struct workspace_waiter *b)
{
    struct observation o = {
        .kind = OBSERVATION_LOCK_REFUSED,
        .at_ms = now_ms,
        .agent_id = agent,
        .session_id = caller->session_id,
        .file = key,
        .pattern = pattern,
        .shared = mode == LEASE_SHARED,
        .holder = h   ? h->agent_id
                  : b ? b->agent_id
                      : NULL,
        .lease_until = h ? h->expires_at : 0,
    };
    workspace__observe(ws, &o);
}

/* Put w in ws's arrival list and its key's FIFO at the place its id
 * gives (ids grow with arrival, so a request queued again after a rebuild
 * takes back its place), creating the key's queue if needed. */
static void workspace_locks_waiter_link(struct workspace *ws, struct workspace_waiter *w)
{
    struct workspace_waiter *before = ws->wait_tail; /* the last with a smaller id */
    while (before && before->id > w->id)
        before = before->prev;
    w->prev = before;
    w->next = before ? before->next : ws->wait_head;
    if (w->next)
        w->next->prev = w;
    else
        ws->wait_tail = w;
    if (before)
        before->next = w;
    else
        ws->wait_head = w;
    ws->nwaiters++;
    if (ws->next_waiter_id <= w->id)
        ws->next_waiter_id = w->id + 1;

    char *qk = workspace_locks_waitq_key(w->key, w->pattern);
    struct workspace_waitq *q = map_get(&ws->waitqs, qk);
    if (!q) {
        q = xcalloc(1, sizeof(*q));
        q->qkey = qk;
        map_put(&ws->waitqs, q->qkey, q);
    } else {
        free(qk);
    }
    struct workspace_waiter *qprev = NULL;
    for (struct workspace_waiter *x = q->head; x && x->id < w->id; x = x->q_next)
        qprev = x;
    w->q_next = qprev ? qprev->q_next : q->head;
    if (qprev)
        qprev->q_next = w;
    else
        q->head = w;
    if (!w->q_next)
        q->tail = w;
    q->n++;
    w->q = q;
}

/* Take w off ws's lists (the key's queue goes when it empties); w itself
 * is kept. */
static void workspace_locks_waiter_unlink(struct workspace *ws, struct workspace_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        ws->wait_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        ws->wait_tail = w->prev;
    w->prev = w->next = NULL;
    ws->nwaiters--;

    struct workspace_waitq *q = w->q;
    struct workspace_waiter *prev = NULL;
    for (struct workspace_waiter *x = q->head; x != w; x = x->q_next)
        prev = x;
    if (prev)
        prev->q_next = w->q_next;
    else
        q->head = w->q_next;
    if (q->tail == w)
        q->tail = prev;
    w->q_next = NULL;
    w->q = NULL;
    if (--q->n == 0) {
        map_del(&ws->waitqs, q->qkey);
        free(q->qkey);
        free(q);
    }
}

void workspace_waiter_free(struct workspace_waiter *w)
{
    if (!w)
        return;
    free(w->agent_id);
    free(w->session_id);
    free(w->key);
    free(w->reason);
    free(w);
}

static struct workspace_waiter *workspace_locks_waiter_add(struct workspace *ws, const char *agent,
                                                           const char *session, const char *key,
                                                           bool pattern, enum lease_mode mode,
                                                           const char *reason, int64_t ttl_ms,
                                                           int64_t now_ms, int64_t deadline)
{
    struct workspace_waiter *w = xcalloc(1, sizeof(*w));
    w->id = ws->next_waiter_id++;
    w->agent_id = xstrdup(agent);
    w->session_id = xstrdup(session);
    w->key = xstrdup(key);
    w->pattern = pattern;
    w->mode = mode;
    w->reason = xstrdup(reason);
    w->ttl_ms = ttl_ms;
    w->enqueued_at = now_ms;
    w->deadline = deadline;
    workspace_locks_waiter_link(ws, w);
    return w;
}

static void workspace_locks_waiter_remove(struct workspace *ws, struct workspace_waiter *w)
{
    workspace_locks_waiter_unlink(ws, w);
    workspace_waiter_free(w);
}

int workspace_waiter_requeue(struct workspace *ws, struct workspace_waiter *w)
{
    if (!agent_table_get(&ws->agents, w->agent_id))
        return -ERR_NOT_FOUND;
    for (const struct workspace_waiter *x = ws->wait_head; x; x = x->next)
        if (x->id == w->id)
            return -ERR_STATE;
    workspace_locks_waiter_link(ws, w);
    return 0;
}

uint64_t workspace_waiter_id(const struct workspace_waiter *w)
{
    return w->id;
}

/* The answer to a queued request that cannot be carried into a rebuilt
 * workspace: its agent's registration is not in the log. */
static cJSON *workspace_locks_carry_refusal(const struct workspace_waiter *w)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddFalseToObject(r, "success");
    cJSON_AddFalseToObject(r, "locked");
    cJSON_AddStringToObject(r, "file", w->key);
    if (w->pattern)
        cJSON_AddTrueToObject(r, "pattern");
    char *err = str_printf("agent %s is not registered in the workspace's log (its registration "
                           "was not recorded): the queued request was dropped; register again",
                           w->agent_id);
    cJSON_AddStringToObject(r, "error", err);
    free(err);
    return r;
}

void workspace__waiters_carry(struct workspace *to, struct workspace *from,
                              struct workspace_waiter_done_vec *dropped)
{
    while (from->wait_head) {
        struct workspace_waiter *w = from->wait_head;
        workspace_locks_waiter_unlink(from, w);
        if (workspace_waiter_requeue(to, w) != 0) {
            workspace_locks_done_push(dropped, w->id, workspace_locks_carry_refusal(w), NULL);
            workspace_waiter_free(w);
        }
    }
    if (to->next_waiter_id < from->next_waiter_id)
        to->next_waiter_id = from->next_waiter_id;
}

void workspace__waiters_clear(struct workspace *ws)
{
    while (ws->wait_head)
        workspace_locks_waiter_remove(ws, ws->wait_head);
}

int64_t workspace__waiters_next_deadline(const struct workspace *ws)
{
    int64_t next = INT64_MAX;
    for (const struct workspace_waiter *w = ws->wait_head; w; w = w->next) {
        if (w->deadline < next)
            next = w->deadline;
    }
    return next;
}

void workspace__waiters_drop_session(struct workspace *ws, const char *session_id, int64_t now_ms)
{
    struct workspace_waiter *w = ws->wait_head;
    while (w) {
        struct workspace_waiter *next = w->next;
        if (w->session_id && strcmp(w->session_id, session_id) == 0) {
            if (workspace__observing(ws))
                workspace_locks_observe_queue(ws, w, OBSERVATION_QUEUE_LEFT,
                                              OBSERVATION_QUEUE_CANCELLED, now_ms, NULL, NULL);
            workspace_locks_waiter_remove(ws, w);
        }
        w = next;
    }
}

int workspace_waiter_cancel(struct workspace *ws, uint64_t waiter_id)
{
    for (struct workspace_waiter *w = ws->wait_head; w; w = w->next) {
        if (w->id == waiter_id) {
            /* no clock here: the observation says when it was queued */
            if (workspace__observing(ws))
                workspace_locks_observe_queue(ws, w, OBSERVATION_QUEUE_LEFT,
                                              OBSERVATION_QUEUE_CANCELLED, 0, NULL, NULL);
            workspace_locks_waiter_remove(ws, w);
            return 0;
        }
    }
    return -ERR_NOT_FOUND;
}

void workspace_waiters_service(struct workspace *ws, int64_t now_ms, struct event_vec *out,
                               struct workspace_waiter_done_vec *done)
{
    /* One pass in arrival order suffices: a grant only makes keys busier,
     * and a waiter that leaves can only unblock later arrivals. */
    struct workspace_waiter *w = ws->wait_head;
    while (w) {
        struct workspace_waiter *next = w->next;
        if (!agent_table_get(&ws->agents, w->agent_id)) {
            /* its agent was removed while it waited */
            cJSON *r = workspace_locks_carry_refusal(w);
            char *err =
                str_printf("agent %s was removed: the queued request was dropped", w->agent_id);
            cJSON_ReplaceItemInObjectCaseSensitive(r, "error", cJSON_CreateString(err));
            free(err);
            json_add_u64(r, "waitedMs", (uint64_t)(now_ms - w->enqueued_at));
            if (workspace__observing(ws))
                workspace_locks_observe_queue(ws, w, OBSERVATION_QUEUE_LEFT,
                                              OBSERVATION_QUEUE_DROPPED, now_ms, NULL, NULL);
            workspace_locks_waiter_unlink(ws, w);
            workspace_locks_done_push(done, w->id, r, NULL);
            workspace_waiter_free(w);
            w = next;
            continue;
        }
        struct workspace_lock_eval e;
        workspace__lock_eval(ws, w->agent_id, w->key, w->pattern, w->mode, now_ms, &e);
        const struct workspace_waiter *blocker =
            workspace_locks_waitq_blocker(ws, w->key, w->pattern, w->agent_id, w->mode, w);
        cJSON *r = NULL;
        const struct lease *h = e.conflicts.len ? e.conflicts.items[0] : NULL;
        enum observation_queue_end end = OBSERVATION_QUEUE_GRANTED;
        if (e.conflicts.len == 0 && !blocker) {
            r = workspace__lock_grant(ws, w->agent_id, w->key, w->pattern, w->mode, w->reason,
                                      w->ttl_ms, NULL, now_ms, &e, out, NULL);
        } else if (w->deadline <= now_ms) {
            r = h ? workspace_locks_refusal(w->key, w->pattern, h)
                  : workspace_locks_queue_refusal(w->key, w->pattern, blocker);
            end = OBSERVATION_QUEUE_TIMED_OUT;
        }
        if (r && workspace__observing(ws))
            workspace_locks_observe_queue(ws, w, OBSERVATION_QUEUE_LEFT, end, now_ms, h, blocker);
        workspace__lock_eval_deinit(&e);
        if (r) {
            json_add_u64(r, "waitedMs", (uint64_t)(now_ms - w->enqueued_at));
            workspace_locks_waiter_unlink(ws, w);
            workspace_locks_done_push(done, w->id, r, w);
        }
        w = next;
    }
}

/* ---- commands ---- */

int workspace__op_lock_file(struct workspace *ws, const struct workspace_caller *caller,
                            const cJSON *args, int64_t now_ms, struct event_vec *out,
                            cJSON **result, char **errmsg)
{
    char *key = NULL;
    bool pattern;
    const char *reason, *mode_arg, *agent;
    int64_t ttl_s, wait_ms;
    enum lease_mode mode = LEASE_EXCLUSIVE;
    int rc = workspace_locks_key_arg(ws, args, &key, &pattern, errmsg);
    if (!rc)
        rc = args_str(args, "reason", false, WORKSPACE_REASON_MAX, &reason, errmsg);
    if (!rc)
        rc = args_int(args, "ttl", 1, ws->max_ttl_ms / 1000 > 0 ? ws->max_ttl_ms / 1000 : 1, 0,
                      &ttl_s, errmsg);
    if (!rc)
        rc = args_str(args, "mode", false, WORKSPACE_ENUM_ARG_MAX, &mode_arg, errmsg);
    if (!rc && mode_arg && lease_mode_parse(mode_arg, &mode)) {
        *errmsg = xstrdup("argument 'mode': must be exclusive or shared");
        rc = -ERR_INVALID;
    }
    if (!rc)
        rc = args_int(args, "waitMs", 0, ws->max_wait_ms, 0, &wait_ms, errmsg);
    if (!rc)
        rc = workspace__actor(ws, caller, args, true, &agent, errmsg);
    if (rc)
        goto done;
    int64_t ttl_ms = ttl_s ? ttl_s * 1000 : ws->default_ttl_ms;

    struct workspace_lock_eval e;
    workspace__lock_eval(ws, agent, key, pattern, mode, now_ms, &e);
    bool renewal = e.own && e.own->mode == mode;
    const struct workspace_waiter *blocker =
        (e.conflicts.len || renewal)
            ? NULL
            : workspace_locks_waitq_blocker(ws, key, pattern, agent, mode, NULL);
    if (!e.conflicts.len && !blocker) {
        *result = workspace__lock_grant(ws, agent, key, pattern, mode, reason, ttl_ms, NULL, now_ms,
                                        &e, out, NULL);
    } else {
        ws->lock_contended++;
        if (wait_ms > 0 && ws->nwaiters < ws->max_waiters) {
            const struct workspace_waiter *w =
                workspace_locks_waiter_add(ws, agent, caller->session_id, key, pattern, mode,
                                           reason, ttl_ms, now_ms, now_ms + wait_ms);
            if (workspace__observing(ws))
                workspace_locks_observe_queue(
                    ws, w, OBSERVATION_QUEUE_JOINED, OBSERVATION_QUEUE_NONE, now_ms,
                    e.conflicts.len ? e.conflicts.items[0] : NULL, blocker);
            *result = cJSON_CreateObject();
            cJSON_AddTrueToObject(*result, "queued");
            json_add_u64(*result, "waiterId", w->id);
        } else {
            if (workspace__observing(ws))
                workspace_locks_observe_refused(ws, caller, agent, key, pattern, mode, now_ms,
                                                e.conflicts.len ? e.conflicts.items[0] : NULL,
                                                blocker);
            *result = e.conflicts.len ? workspace_locks_refusal(key, pattern, e.conflicts.items[0])
                                      : workspace_locks_queue_refusal(key, pattern, blocker);
            if (wait_ms > 0) {
                char *err =
                    str_printf("too many queued lock requests (limit %zu); %s", ws->max_waiters,
                               json_get_str(*result, "error", "key is busy"));
                cJSON_ReplaceItemInObjectCaseSensitive(*result, "error", cJSON_CreateString(err));
                free(err);
            }
        }
    }
    workspace__lock_eval_deinit(&e);
done:
    free(key);
    return rc;
}

int workspace__op_unlock_file(struct workspace *ws, const struct workspace_caller *caller,
                              const cJSON *args, int64_t now_ms, struct event_vec *out,
                              cJSON **result, char **errmsg)
{
    char *key = NULL;
    bool pattern, force;
    const char *agent;
    int rc = workspace_locks_key_arg(ws, args, &key, &pattern, errmsg);
    if (!rc)
        rc = args_bool(args, "force", false, &force, errmsg);
    /* Every argument is judged before the agent is looked up, so a refused
     * call never makes a hub register one implicitly. */
    if (!rc && force && !caller->admin) {
        *errmsg = xstrdup("argument 'force': only an admin may force an unlock");
        rc = -ERR_DENIED;
    }
    if (!rc)
        rc = workspace__actor(ws, caller, args, !(force && caller->admin), &agent, errmsg);
    if (rc)
        goto done;

    cJSON *r = cJSON_CreateObject();
    *result = r;
    struct lease_key *k = lease_table_key(&ws->leases, key, pattern);
    struct lease *own = agent ? lease_table_holder(&ws->leases, key, pattern, agent) : NULL;
    struct lease_vec others = {0};
    for (struct lease *h = k ? k->holders : NULL; h; h = h->next_in_key) {
        if (h != own && h->expires_at > now_ms)
            lease_vec_push(&others, h);
    }
    lease_vec_sort(&others);
    if (own) {
        json_add_u64(r, "token", own->token);
        workspace__emit(ws, out, EVENT_FILE_UNLOCKED, now_ms,
                        workspace__unlock_data(own, "released"));
        workspace__settle_sessionless(ws, agent, now_ms, out);
        cJSON_AddTrueToObject(r, "success");
        cJSON_AddTrueToObject(r, "unlocked");
    } else if (!others.len) {
        cJSON_AddFalseToObject(r, "success");
        cJSON_AddFalseToObject(r, "unlocked");
        cJSON_AddStringToObject(r, "error", "not locked");
    } else if (force) {
        if (!caller->admin) {
            *errmsg = xstrdup("argument 'force': only an admin may force an unlock");
            rc = -ERR_DENIED;
            lease_vec_deinit(&others);
            goto done;
        }
        cJSON *prev = cJSON_CreateArray();
        for (size_t i = 0; i < others.len; i++) {
            const struct lease *h = others.items[i];
            cJSON_AddItemToArray(prev, cJSON_CreateString(h->agent_id));
            cJSON *d = workspace__unlock_data(h, "forced");
            cJSON_AddStringToObject(d, "forcedBy", agent ? agent : "admin");
            workspace__emit(ws, out, EVENT_FILE_UNLOCKED, now_ms, d);
        }
        const cJSON *ph;
        cJSON_ArrayForEach(ph, prev)
        {
            workspace__settle_sessionless(ws, ph->valuestring, now_ms, out);
        }
        cJSON_AddTrueToObject(r, "success");
        cJSON_AddTrueToObject(r, "unlocked");
        cJSON_AddTrueToObject(r, "forced");
        cJSON_AddItemToObject(r, "previousHolders", prev);
    } else {
        struct buf names;
        buf_init(&names, 0);
        for (size_t i = 0; i < others.len; i++) {
            if ((i && buf_append_str(&names, ", ")) ||
                buf_append_str(&names, others.items[i]->agent_id))
                abort(); /* uncapped buffer: cannot fail */
        }
        char *err = str_printf("held by %s", names.data);
        buf_deinit(&names);
        cJSON_AddFalseToObject(r, "success");
        cJSON_AddFalseToObject(r, "unlocked");
        cJSON_AddStringToObject(r, "lockedBy", others.items[0]->agent_id);
        cJSON_AddStringToObject(r, "error", err);
        free(err);
    }
    cJSON_AddStringToObject(r, "file", key);
    if (pattern)
        cJSON_AddTrueToObject(r, "pattern");
    lease_vec_deinit(&others);
done:
    free(key);
    return rc;
}

/* renew_locks' "files" entries name a file or a pattern: normalise v
 * both ways; an error only when neither is valid (*errmsg: the file's). */
static int workspace_locks_renew_keys(const struct workspace *ws, const char *v, char **fk,
                                      char **pk, char **errmsg)
{
    char *why = NULL, *why2 = NULL;
    *fk = *pk = NULL;
    int frc = workspace__norm_key(ws, "files", v, false, fk, &why);
    int prc = workspace__norm_key(ws, "files", v, true, pk, &why2);
    free(why2);
    if (frc && prc) {
        *errmsg = why;
        return frc;
    }
    free(why);
    return 0;
}

/* Judge every path before the agent is looked up (see unlock_file). */
static int workspace_locks_renew_check(const struct workspace *ws, const cJSON *files,
                                       char **errmsg)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        char *fk, *pk;
        int rc = workspace_locks_renew_keys(ws, f->valuestring, &fk, &pk, errmsg);
        free(fk);
        free(pk);
        if (rc)
            return rc;
    }
    return 0;
}

/* The agent's live leases that the checked "files" entries name (exact
 * and pattern, each once) into targets; entries naming none into
 * not_held. */
static void workspace_locks_renew_named(const struct workspace *ws, const char *agent,
                                        const cJSON *files, int64_t now_ms,
                                        struct lease_vec *targets, cJSON *not_held)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        char *fk, *pk, *err = NULL;
        if (workspace_locks_renew_keys(ws, f->valuestring, &fk, &pk, &err))
            abort(); /* lock_renew_check passed on the same entries */
        struct lease *cands[2] = {fk ? lease_table_holder(&ws->leases, fk, false, agent) : NULL,
                                  pk ? lease_table_holder(&ws->leases, pk, true, agent) : NULL};
        bool any = false;
        for (int i = 0; i < 2; i++) {
            struct lease *c = cands[i];
            if (!c || c->expires_at <= now_ms)
                continue;
            bool dup = false;
            for (size_t j = 0; j < targets->len; j++)
                dup |= targets->items[j] == c;
            if (!dup)
                lease_vec_push(targets, c);
            any = true;
        }
        if (!any)
            cJSON_AddItemToArray(not_held, cJSON_CreateString(f->valuestring));
        free(fk);
        free(pk);
    }
}

/* Renew each target (its own TTL unless ttl_s); the result's renewed[]. */
static cJSON *workspace_locks_renew_emit(struct workspace *ws, const char *agent,
                                         const struct lease_vec *targets, int64_t ttl_s,
                                         int64_t now_ms, struct event_vec *out)
{
    cJSON *renewed = cJSON_CreateArray();
    for (size_t i = 0; i < targets->len; i++) {
        struct workspace_lock_eval e = {.own = targets->items[i]};
        struct lease *l = targets->items[i];
        int64_t ttl_ms = ttl_s ? ttl_s * 1000 : l->ttl_ms;
        bool pattern = l->key->pattern;
        char *key = xstrdup(l->key->key); /* the grant's fold replaces l */
        cJSON *g = workspace__lock_grant(ws, agent, key, pattern, l->mode, NULL, ttl_ms, NULL,
                                         now_ms, &e, out, NULL);
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "file", key);
        if (pattern)
            cJSON_AddTrueToObject(item, "pattern");
        cJSON_AddStringToObject(item, "expiresAt", json_get_str(g, "expiresAt", ""));
        json_add_u64(item, "token", (uint64_t)json_get_i64(g, "token", 0));
        cJSON_AddItemToArray(renewed, item);
        cJSON_Delete(g);
        free(key);
    }
    return renewed;
}

int workspace__op_renew_locks(struct workspace *ws, const struct workspace_caller *caller,
                              const cJSON *args, int64_t now_ms, struct event_vec *out,
                              cJSON **result, char **errmsg)
{
    const cJSON *files;
    const char *agent;
    int64_t ttl_s;
    int rc = args_str_array(args, "files", WORKSPACE_LIST_MAX, PATH_MAX_LEN, &files, errmsg);
    if (!rc)
        rc = args_int(args, "ttl", 1, ws->max_ttl_ms / 1000 > 0 ? ws->max_ttl_ms / 1000 : 1, 0,
                      &ttl_s, errmsg);
    if (!rc)
        rc = workspace_locks_renew_check(ws, files, errmsg);
    if (!rc)
        rc = workspace__actor(ws, caller, args, true, &agent, errmsg);
    if (rc)
        return rc;

    struct lease_vec targets = {0};
    cJSON *not_held = NULL;
    if (files) {
        not_held = cJSON_CreateArray();
        workspace_locks_renew_named(ws, agent, files, now_ms, &targets, not_held);
    } else {
        for (struct lease *l = lease_table_agent_leases(&ws->leases, agent); l; l = l->agent_next) {
            if (l->expires_at > now_ms)
                lease_vec_push(&targets, l);
        }
    }
    lease_vec_sort(&targets);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "renewed",
                          workspace_locks_renew_emit(ws, agent, &targets, ttl_s, now_ms, out));
    if (not_held)
        cJSON_AddItemToObject(r, "notHeld", not_held);
    lease_vec_deinit(&targets);
    *result = r;
    return 0;
}

/* Exact-key holders first, then pattern holders; each group sorted. */
static int workspace_locks_check_cmp(const void *x, const void *y)
{
    const struct lease *a = *(struct lease *const *)x, *b = *(struct lease *const *)y;
    if (a->key->pattern != b->key->pattern)
        return a->key->pattern ? 1 : -1;
    int c = strcmp(a->key->key, b->key->key);
    return c ? c : strcmp(a->agent_id, b->agent_id);
}

static cJSON *workspace_locks_holder_json(const struct lease *h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "agentId", h->agent_id);
    json_add_u64(o, "token", h->token);
    cJSON_AddStringToObject(o, "mode", lease_mode_name(h->mode));
    json_add_time(o, "expiresAt", h->expires_at);
    cJSON_AddStringToObject(o, "lockedKey", h->key->key);
    if (h->key->pattern)
        cJSON_AddTrueToObject(o, "pattern");
    return o;
}

int workspace__op_check_lock(struct workspace *ws, const struct workspace_caller *caller,
                             const cJSON *args, int64_t now_ms, struct event_vec *out,
                             cJSON **result, char **errmsg)
{
    (void)caller;
    (void)out;
    const char *file;
    char *key = NULL;
    int64_t token;
    int rc = args_str(args, "file", true, PATH_MAX_LEN + 1, &file, errmsg);
    if (!rc)
        rc = args_int(args, "token", 0, JSON_EXACT_INT_MAX, -1, &token, errmsg);
    if (!rc)
        rc = workspace__norm_key(ws, "file", file, false, &key, errmsg);
    if (rc)
        return rc;
    struct lease_vec v = {0};
    lease_table_conflicts(&ws->leases, key, false, NULL, LEASE_EXCLUSIVE, true, now_ms, false, &v);
    if (v.len > 1)
        qsort(v.items, v.len, sizeof(*v.items), workspace_locks_check_cmp);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "locked", v.len > 0);
    cJSON_AddStringToObject(r, "file", key);
    if (v.len) {
        const struct lease *h = v.items[0];
        cJSON_AddStringToObject(r, "lockedBy", h->agent_id);
        json_add_u64(r, "token", h->token);
        cJSON_AddStringToObject(r, "mode", lease_mode_name(h->mode));
        json_add_time(r, "expiresAt", h->expires_at);
        if (h->reason)
            cJSON_AddStringToObject(r, "reason", h->reason);
        if (h->task_id)
            cJSON_AddStringToObject(r, "taskId", h->task_id);
        if (h->key->pattern)
            cJSON_AddStringToObject(r, "lockedKey", h->key->key);
        if (v.len > 1) {
            cJSON *hs = cJSON_AddArrayToObject(r, "holders");
            for (size_t i = 0; i < v.len; i++)
                cJSON_AddItemToArray(hs, workspace_locks_holder_json(v.items[i]));
        }
    }
    if (token >= 0) {
        bool valid = false;
        for (size_t i = 0; i < v.len; i++)
            valid |= v.items[i]->token == (uint64_t)token;
        cJSON_AddBoolToObject(r, "valid", valid);
    }
    lease_vec_deinit(&v);
    free(key);
    *result = r;
    return 0;
}

int workspace__op_list_locked_files(struct workspace *ws, const struct workspace_caller *caller,
                                    const cJSON *args, int64_t now_ms, struct event_vec *out,
                                    cJSON **result, char **errmsg)
{
    (void)caller;
    (void)out;
    const char *agent;
    int rc = args_str(args, "agentId", false, AGENT_ID_MAX, &agent, errmsg);
    if (rc)
        return rc;
    struct lease_vec v = {0};
    if (agent) {
        for (struct lease *l = lease_table_agent_leases(&ws->leases, agent); l; l = l->agent_next)
            lease_vec_push(&v, l);
    } else {
        lease_table_all(&ws->leases, &v);
    }
    lease_vec_sort(&v);
    cJSON *r = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(r, "locks");
    for (size_t i = 0; i < v.len; i++) {
        if (v.items[i]->expires_at > now_ms)
            cJSON_AddItemToArray(arr, lease_to_json(v.items[i]));
    }
    lease_vec_deinit(&v);
    *result = r;
    return 0;
}

/* Append conflicts with other agents' live leases on one key. */
static void workspace_locks_detect_one(const struct workspace *ws, const char *key, bool pattern,
                                       const char *self, int64_t now_ms, cJSON *arr)
{
    struct lease_vec v = {0};
    lease_table_conflicts(&ws->leases, key, pattern, self, LEASE_EXCLUSIVE, true, now_ms, false,
                          &v);
    lease_vec_sort(&v);
    for (size_t i = 0; i < v.len; i++)
        cJSON_AddItemToArray(arr, workspace__conflict_json(v.items[i], key, pattern));
    lease_vec_deinit(&v);
}

int workspace__op_detect_conflicts(struct workspace *ws, const struct workspace_caller *caller,
                                   const cJSON *args, int64_t now_ms, struct event_vec *out,
                                   cJSON **result, char **errmsg)
{
    (void)out;
    const cJSON *files, *patterns;
    const char *self;
    int rc = args_str_array(args, "files", WORKSPACE_LIST_MAX, PATH_MAX_LEN, &files, errmsg);
    if (!rc)
        rc = args_str_array(args, "patterns", WORKSPACE_PATTERNS_MAX, PATH_PATTERN_MAX, &patterns,
                            errmsg);
    if (!rc)
        rc = args_str(args, "agentId", false, AGENT_ID_MAX, &self, errmsg);
    if (rc)
        return rc;
    if (!self)
        self = caller->agent_id;

    /* normalise everything before answering anything */
    size_t nf = (size_t)cJSON_GetArraySize(files), np = (size_t)cJSON_GetArraySize(patterns);
    char **keys = xcalloc(nf + np + 1, sizeof(*keys));
    size_t i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        rc = workspace__norm_key(ws, "files", f->valuestring, false, &keys[i], errmsg);
        if (rc)
            goto done;
        i++;
    }
    cJSON_ArrayForEach(f, patterns)
    {
        rc = workspace__norm_key(ws, "patterns", f->valuestring, true, &keys[i], errmsg);
        if (rc)
            goto done;
        i++;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; k < nf + np; k++)
        workspace_locks_detect_one(ws, keys[k], k >= nf, self, now_ms, arr);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "hasConflicts", cJSON_GetArraySize(arr) > 0);
    cJSON_AddItemToObject(r, "conflicts", arr);
    *result = r;
done:
    for (size_t k = 0; k < nf + np; k++)
        free(keys[k]);
    free(keys);
    return rc;
}
