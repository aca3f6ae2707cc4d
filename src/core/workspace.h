/* workspace — the coordination state machine: commands in, events out.
 *
 * A workspace holds agents, leases and tasks (and, later, the server
 * registry). It does no I/O and has no clock: every call that needs time
 * takes `now_ms` (the store's clock, docs/architecture.md, "The store
 * layer").
 *
 * Two kinds of state:
 *   durable   — the fold of the event log: agents, leases, tasks, seq.
 *               workspace_apply() is the only function that changes it, and
 *               replaying a log into a fresh workspace gives the same state
 *               (workspace_snapshot() of both compare equal).
 *   ephemeral — which agent ids are attached to live sessions, when a
 *               session detached, and lock wait queues. It is never logged;
 *               after a restart every agent counts as detached since the
 *               restart.
 *
 * workspace_exec() evaluates a command against the current state and, when
 * it succeeds, returns its events with consecutive seqs after
 * workspace_seq() *and folds them at once*, so the next command in the same
 * loop turn sees them (docs/architecture.md, "Group commit"). If the
 * store then fails to record them, the caller must discard this workspace
 * and rebuild it from the store (workspace_restore() + workspace_apply()
 * of the tail).
 *
 * Ops (`op` argument, enum workspace_op) are the coordination tools of
 * docs/tools.md the core evaluates, with the same argument objects; their
 * names are written once, in the tools' definitions (rpc/tools.h), which
 * carry the op (struct tool_def.core_op): register_agent, set_agent_status, list_agents,
 * lock_file, unlock_file, renew_locks, check_lock, list_locked_files,
 * detect_conflicts, create_task, find_available_tasks, claim_task,
 * complete_task, release_task, list_tasks, cancel_task, reopen_task,
 * update_task, remove_agent, publish_event, get_coordination_status. Results are the
 * structuredContent objects docs/tools.md describes.
 *
 * Errors: a domain refusal (file locked by another agent, task already
 * claimed) is a successful call whose result has success:false. Malformed
 * or semantically invalid arguments (path escaping the workspace, unknown
 * dependency, bad agent id, wrong type) return -ERR_INVALID with *errmsg
 * naming the argument and the reason; nothing is changed and no events are
 * produced. -ERR_NOT_FOUND for an unknown task id; -ERR_STATE when the call
 * needs a registered agent and the caller has none; -ERR_DENIED when a
 * non-admin acts for another agent or forces an unlock. */
#ifndef COORDHUB_CORE_WORKSPACE_H
#define COORDHUB_CORE_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "core/event.h"
#include "core/observation.h"

struct workspace;

enum workspace_offline_policy {
    WORKSPACE_OFFLINE_RELEASE = 0, /* default: leases released at offline */
    WORKSPACE_OFFLINE_KEEP,        /* leases kept until their TTL */
};

struct workspace_config {
    const char *name;         /* workspace name (copied) */
    const char *root;         /* absolute root directory (copied) */
    int64_t default_ttl_ms;   /* lease TTL when none given; 0 → 3600 s */
    int64_t max_ttl_ms;       /* cap on requested TTL; 0 → 24 h */
    int64_t offline_grace_ms; /* detached → offline after; 0 → 30 s */
    int64_t max_wait_ms;      /* cap on lock waitMs; 0 → 60 s */
    size_t max_waiters;       /* cap on queued lock waiters; 0 → 10000 */
    /* offline agents with no lease and no task are pruned (agent:removed,
     * reason "pruned") this long after they were last seen; 0 → 24 h */
    int64_t agent_retention_ms;
    enum workspace_offline_policy offline_policy;
    /* Lease keys fold ASCII case (a workspace on a case-insensitive file
     * system: path_fold_case(), docs/configuration.md "Case folding").
     * Decided once per workspace and kept in the store by the hub. */
    bool fold_case;
    /* Where the live evaluation reports its observations (refused lock
     * requests, queue joins and leaves, claim refusals: core/observation.h);
     * zero: nowhere. A workspace built from this config for a replay or a
     * rebuild reports nothing while it only folds and restores. */
    struct observation_sink observe;
};

/* Who is calling: the session's agent (NULL before it registers), the
 * session id, and whether it is an admin principal (local socket peer of
 * the same uid, admin token). */
struct workspace_caller {
    const char *agent_id;   /* may be NULL */
    const char *session_id; /* may be NULL for one-shot CLI calls */
    bool admin;
    /* The verified signature of an event published from outside (HTTP
     * POST /events), recorded as its `signature`; NULL otherwise. */
    const char *signature;
};

/* A queued lock_file request (opaque). */
struct workspace_waiter;

/* A lock waiter's outcome, produced by workspace_waiters_service(). */
struct workspace_waiter_done {
    uint64_t waiter_id;
    cJSON *result; /* owned: the lock_file result (granted, or busy/timeout) */
    /* Owned: the request itself, off the queue, or NULL. A hub whose
     * store did not record the grant (it lost an append race) queues it
     * again in the rebuilt workspace with workspace_waiter_requeue(),
     * taking it (set this NULL); deinit frees what is left. */
    struct workspace_waiter *waiter;
};

struct workspace_waiter_done_vec {
    struct workspace_waiter_done *items;
    size_t len;
    size_t cap;
};

/* Create an empty workspace (seq 0). Never NULL. */
struct workspace *workspace_new(const struct workspace_config *cfg);
void workspace_free(struct workspace *ws);

/* Last folded seq. */
uint64_t workspace_seq(const struct workspace *ws);
const char *workspace_name(const struct workspace *ws);

/* Fold one event into the durable state. ev->seq must be workspace_seq()+1;
 * events of types the core does not model are accepted and only advance
 * seq. -ERR_INVALID if seq is out of order or the data is malformed (state
 * unchanged). */
COORDHUB_MUST_CHECK int workspace_apply(struct workspace *ws, const struct event *ev);

/* Check publish_event's arguments {type, data} without emitting: the
 * type is `<ns>:<name>` outside the hub's reserved namespaces
 * (event_type_reserved), data an object within the size cap. 0, or
 * -ERR_INVALID with *errmsg (caller frees) naming the argument. The
 * publish_event op runs this check; callers that publish a batch run it
 * on every item first so the batch is all or nothing. */
COORDHUB_MUST_CHECK int workspace_publish_check(const cJSON *args, char **errmsg);

/* The core's operations, one per coordination tool it evaluates (the
 * tools' names live in their definitions, rpc/tools.h). */
enum workspace_op {
    WORKSPACE_OP_NONE = 0, /* not an op of the core */
    WORKSPACE_OP_REGISTER_AGENT,
    WORKSPACE_OP_SET_AGENT_STATUS,
    WORKSPACE_OP_LIST_AGENTS,
    WORKSPACE_OP_LOCK_FILE,
    WORKSPACE_OP_UNLOCK_FILE,
    WORKSPACE_OP_RENEW_LOCKS,
    WORKSPACE_OP_CHECK_LOCK,
    WORKSPACE_OP_LIST_LOCKED_FILES,
    WORKSPACE_OP_DETECT_CONFLICTS,
    WORKSPACE_OP_CREATE_TASK,
    WORKSPACE_OP_FIND_AVAILABLE_TASKS,
    WORKSPACE_OP_CLAIM_TASK,
    WORKSPACE_OP_COMPLETE_TASK,
    WORKSPACE_OP_RELEASE_TASK,
    WORKSPACE_OP_LIST_TASKS,
    WORKSPACE_OP_CANCEL_TASK,
    WORKSPACE_OP_REOPEN_TASK,
    WORKSPACE_OP_UPDATE_TASK,
    WORKSPACE_OP_REMOVE_AGENT,
    WORKSPACE_OP_PUBLISH_EVENT,
    WORKSPACE_OP_GET_COORDINATION_STATUS,
    WORKSPACE_OP_COUNT_
};

/* Evaluate a command (see the header comment). On 0, *result is the
 * result object (caller owns) and the events (possibly none) were appended
 * to out and folded. When op is lock_file with waitMs > 0 and the lease is
 * busy, returns 0 with *result = {"queued":true,"waiterId":N}: the caller
 * keeps the request open until workspace_waiters_service() reports N.
 * On error *errmsg (caller frees) says what was wrong. */
COORDHUB_MUST_CHECK int workspace_exec(struct workspace *ws, const struct workspace_caller *caller,
                                       enum workspace_op op, const cJSON *args, int64_t now_ms,
                                       struct event_vec *out, cJSON **result, char **errmsg);

/* Grant queued lock requests whose keys are now free (FIFO per key) and
 * time out those past their deadline. Grants produce events (appended to
 * out and folded, like exec); each finished waiter is added to done. */
void workspace_waiters_service(struct workspace *ws, int64_t now_ms, struct event_vec *out,
                               struct workspace_waiter_done_vec *done);
/* Drop a queued waiter (request cancelled / session gone). 0 or -ERR_NOT_FOUND. */
int workspace_waiter_cancel(struct workspace *ws, uint64_t waiter_id);
/* (Addition.) Carry the ephemeral state of `from` into `to`, a workspace
 * just rebuilt from the store that replaces it: every queued lock request
 * moves with its id, its place in its key's FIFO, its deadline (so its
 * remaining wait) and its parameters; the lock counters add up. A request
 * whose agent `to` does not know (its registration was never recorded) is
 * dropped and reported in `dropped` with a refusal result, waiter NULL.
 * Session attachments are not carried (the caller attaches its live
 * sessions again first), but an agent detached in both keeps the time it
 * was detached in `from`, so its grace period does not restart. `from` is
 * left without waiters. */
void workspace_carry_ephemeral(struct workspace *to, struct workspace *from,
                               struct workspace_waiter_done_vec *dropped);
/* (Addition.) Queue again a request workspace_waiters_service() took off
 * (done item's waiter), at the place its id gives in its key's FIFO, its
 * deadline unchanged; takes w on 0. -ERR_NOT_FOUND when its agent is
 * unknown to ws, -ERR_STATE when a request with its id is queued (w is
 * not taken: free it). */
COORDHUB_MUST_CHECK int workspace_waiter_requeue(struct workspace *ws, struct workspace_waiter *w);
uint64_t workspace_waiter_id(const struct workspace_waiter *w);
void workspace_waiter_free(struct workspace_waiter *w);

/* Ephemeral session bookkeeping. attach: agent_id is now live on
 * session_id (register_agent does this itself; a hub calls it when a
 * session resumes an agent after a restart). detach: the session ended;
 * its agent goes offline after the grace period, its waiters are dropped. */
void workspace_session_detach(struct workspace *ws, const char *session_id, int64_t now_ms);
/* (Addition.) True when the workspace knows agent_id (any status). */
bool workspace_agent_known(const struct workspace *ws, const char *agent_id);
/* True when agent_id is attached to a live session other than session_id. */
bool workspace_agent_live_elsewhere(const struct workspace *ws, const char *agent_id,
                                    const char *session_id);
/* (Addition.) Attach agent_id to session_id without an event: for a hub
 * whose session resumes an agent after a restart or restore. Whatever
 * agent that session had before is detached at now_ms. No-op when the
 * agent is unknown or session_id is NULL. An offline agent stays offline
 * (only register_agent resumes it, with an event). */
void workspace_session_attach(struct workspace *ws, const char *agent_id, const char *session_id,
                              int64_t now_ms);
/* (Addition.) Detach every agent: each counts as detached since now_ms.
 * For a hub that rebuilt its workspace by workspace_apply() alone (no
 * restore, which does this itself); also makes agents that later appear
 * only through applied events count as detached no earlier than now_ms. */
void workspace_sessions_reset(struct workspace *ws, int64_t now_ms);

/* Time-driven transitions at now_ms: expired leases (file:unlocked,
 * reason "expired"), detached agents past grace (agent:left, plus lease
 * release under the release policy), session-less agents left without a
 * lease by an expiry (agent:left, reason "idle"), and offline agents with
 * no lease and no claimed task last seen a retention ago (agent:removed,
 * reason "pruned"). Events appended to out and folded. */
void workspace_tick(struct workspace *ws, int64_t now_ms, struct event_vec *out);
/* Earliest ms at which workspace_tick or waiter timeout has work; INT64_MAX
 * when none. */
int64_t workspace_next_deadline(const struct workspace *ws);

/* Deterministic JSON of the durable state (sorted keys and records), for
 * store snapshots and the replay invariant. Caller owns. */
cJSON *workspace_snapshot(const struct workspace *ws);
/* Replace the durable state with a snapshot (seq included). Ephemeral state
 * is reset: every non-offline agent counts as detached since now_ms.
 * -ERR_INVALID on a malformed snapshot (state unchanged). */
COORDHUB_MUST_CHECK int workspace_restore(struct workspace *ws, const cJSON *snap, int64_t now_ms);

/* The GET /status object (seed shape + details). Caller owns. */
cJSON *workspace_status_json(const struct workspace *ws, int64_t now_ms);

/* (Addition.) When task_id was last claimed, in ms since epoch (kept once
 * it is completed or failed): 0 with *out set, or -ERR_NOT_FOUND for an
 * unknown task or one never claimed. For the cycle-time metric. */
int workspace_task_claimed_at(const struct workspace *ws, const char *task_id, int64_t *out);

/* Counters for health and metrics. */
struct workspace_stats {
    size_t agents, agents_active, leases, tasks_open, tasks_claimed, waiters;
    uint64_t lock_contended, lock_expired, lock_granted;
    uint64_t publish_reserved; /* publish_event calls refused for a reserved type */
};
void workspace_stats_get(const struct workspace *ws, struct workspace_stats *out);

void workspace_waiter_done_vec_deinit(struct workspace_waiter_done_vec *v);

#endif
