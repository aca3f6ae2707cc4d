/* workspace_internal — the workspace's own structure and the helpers its
 * files share (workspace.c, workspace_fold.c, workspace_agents.c,
 * workspace_locks.c, workspace_tasks.c, workspace_lifecycle.c). Not for use outside src/core:
 * names carry the `workspace__` internal prefix. */
#ifndef COORDHUB_CORE_WORKSPACE_INTERNAL_H
#define COORDHUB_CORE_WORKSPACE_INTERNAL_H

#include "core/workspace.h"

#include "base/map.h"
#include "core/agent.h"
#include "core/lease.h"
#include "core/task.h"

#define WORKSPACE_REASON_MAX 1024
#define WORKSPACE_TITLE_MAX 1024
#define WORKSPACE_TEXT_MAX 65536
#define WORKSPACE_LIST_MAX 1000 /* files, ids in one argument */
#define WORKSPACE_PATTERNS_MAX 100
#define WORKSPACE_CAPS_MAX 64
#define WORKSPACE_CAP_LEN 128
#define WORKSPACE_ENUM_ARG_MAX 16         /* a word argument: mode, status */
#define WORKSPACE_PRIORITY_MAX 1000000000 /* |priority| of a task */
#define WORKSPACE_FIND_LIMIT_MAX 1000     /* find_available_tasks' limit */
#define WORKSPACE_FIND_LIMIT_DEFAULT 50

/* struct workspace_config's defaults (a field left 0) */
#define WORKSPACE_DEFAULT_TTL_MS (3600LL * 1000)
#define WORKSPACE_DEFAULT_MAX_TTL_MS (24LL * 3600 * 1000)
#define WORKSPACE_DEFAULT_GRACE_MS (30LL * 1000)
#define WORKSPACE_DEFAULT_MAX_WAIT_MS (60LL * 1000)
#define WORKSPACE_DEFAULT_MAX_WAITERS 10000
#define WORKSPACE_DEFAULT_RETENTION_MS (24LL * 3600 * 1000)

/* A queued lock_file request (ephemeral). */
struct workspace_waiter {
    uint64_t id;
    char *agent_id;   /* owned */
    char *session_id; /* owned, may be NULL */
    char *key;        /* owned: normalised file or pattern */
    bool pattern;
    enum lease_mode mode;
    char *reason; /* owned, may be NULL */
    int64_t ttl_ms;
    int64_t enqueued_at, deadline;        /* ms */
    struct workspace_waiter *prev, *next; /* arrival order, all keys */
    struct workspace_waiter *q_next;      /* same key, arrival order */
    struct workspace_waitq *q;
};

/* The FIFO of waiters on one key. */
struct workspace_waitq {
    char *qkey; /* owned: "f:<key>" or "p:<key>"; the map key */
    struct workspace_waiter *head, *tail;
    size_t n;
};

struct workspace {
    char *name; /* owned */
    char *root; /* owned, may be NULL */
    int64_t default_ttl_ms, max_ttl_ms, grace_ms, max_wait_ms;
    int64_t retention_ms; /* offline agents without lease or task are pruned after */
    size_t max_waiters;
    enum workspace_offline_policy policy;
    bool fold_case;                  /* keys fold ASCII case (struct workspace_config) */
    struct observation_sink observe; /* struct workspace_config.observe */

    /* durable: the fold of the log */
    uint64_t seq;
    struct agent_table agents;
    struct lease_table leases;
    struct task_table tasks;

    /* ephemeral */
    int64_t detach_floor; /* agents seen only through the log count as detached since then */
    struct workspace_waiter *wait_head, *wait_tail;
    size_t nwaiters;
    uint64_t next_waiter_id;
    struct map waitqs; /* qkey -> struct workspace_waitq */
    uint64_t lock_contended, lock_expired, lock_granted;
    uint64_t publish_reserved; /* publish_event refused: a type of the hub's own namespaces */
};

typedef int workspace__op_fn(struct workspace *ws, const struct workspace_caller *caller,
                             const cJSON *args, int64_t now_ms, struct event_vec *out,
                             cJSON **result, char **errmsg);

/* Does anyone want observations now? Producers ask before they build. */
static inline bool workspace__observing(const struct workspace *ws)
{
    return observation_wanted(&ws->observe);
}
/* Hand o to the config's sink (workspace__observing() was true). */
static inline void workspace__observe(const struct workspace *ws, const struct observation *o)
{
    ws->observe.fn(ws->observe.arg, o);
}

/* Give ev the next seq, fold it (a failure is a bug: abort) and append
 * it to out. Takes ownership of data. */
void workspace__emit(struct workspace *ws, struct event_vec *out, const char *type, int64_t now_ms,
                     cJSON *data);
/* Fold one event into the durable state (seq already checked). */
int workspace__fold(struct workspace *ws, const struct event *ev);

/* Resolve the agent a call acts for: the "agentId" argument (own id, or
 * any id for an admin) or the caller's agent. With need, the agent must be
 * registered (-ERR_STATE otherwise); without, *agent may be NULL. */
int workspace__actor(const struct workspace *ws, const struct workspace_caller *caller,
                     const cJSON *args, bool need, const char **agent, char **errmsg);

/* Add "file": key, plus "pattern": key for pattern leases (event data). */
void workspace__add_key(cJSON *o, const char *key, bool pattern);
/* file:unlocked data for holder l. */
cJSON *workspace__unlock_data(const struct lease *l, const char *reason);
/* Emit file:unlocked for every lease of agent_id (all, or only those of
 * task_id), in key order; the keys released are added to keys when not
 * NULL. */
void workspace__release_agent(struct workspace *ws, const char *agent_id, const char *task_id,
                              const char *reason, int64_t now_ms, struct event_vec *out,
                              cJSON *keys);
/* Is the agent attached to a live session? */
bool workspace__agent_live(const struct agent *a);
/* Detach agent a (ephemeral) at now_ms. */
void workspace__agent_detach(struct agent *a, int64_t now_ms);
/* Agent record plus the ephemeral "connected" flag (list and status views). */
cJSON *workspace__agent_view(const struct agent *a);
/* What granting (agent, key, mode) at now_ms would meet: live conflicting
 * holders of other agents (sorted), expired holders in the way (to expire
 * first, sorted), and the agent's own live holder on the key. */
struct workspace_lock_eval {
    struct lease_vec conflicts;
    struct lease_vec stale;
    struct lease *own;
};
void workspace__lock_eval(const struct workspace *ws, const char *agent, const char *key,
                          bool pattern, enum lease_mode mode, int64_t now_ms,
                          struct workspace_lock_eval *e);
void workspace__lock_eval_deinit(struct workspace_lock_eval *e);
/* Grant after an eval with no conflicts: expire the stale holders, then
 * renew the own holder (same mode: token kept) or grant anew (token = the
 * event's seq). reason / task_id NULL keep the renewed holder's. Returns
 * the lock_file success result; *token gets the token. */
cJSON *workspace__lock_grant(struct workspace *ws, const char *agent, const char *key, bool pattern,
                             enum lease_mode mode, const char *reason, int64_t ttl_ms,
                             const char *task_id, int64_t now_ms,
                             const struct workspace_lock_eval *e, struct event_vec *out,
                             uint64_t *token);
/* A conflicts[] entry for holder h met while checking key. */
cJSON *workspace__conflict_json(const struct lease *h, const char *key, bool pattern);
/* Normalise a file (pattern false) or pattern argument value; on error
 * *errmsg names the argument. */
int workspace__norm_key(const struct workspace *ws, const char *argname, const char *value,
                        bool pattern, char **key, char **errmsg);
/* Drop every waiter (no report). Used by free. */
void workspace__waiters_clear(struct workspace *ws);
/* Earliest waiter deadline, INT64_MAX when none. */
int64_t workspace__waiters_next_deadline(const struct workspace *ws);
/* Drop the waiters of session_id (their session ended at now_ms). */
void workspace__waiters_drop_session(struct workspace *ws, const char *session_id, int64_t now_ms);
/* Move every waiter of `from` into `to` (workspace_carry_ephemeral). */
void workspace__waiters_carry(struct workspace *to, struct workspace *from,
                              struct workspace_waiter_done_vec *dropped);

/* Shared by the task handlers (workspace_tasks.c, workspace_lifecycle.c). */
/* Normalise an optional array argument of files or patterns into a new
 * de-duplicated array (order kept); on error *errmsg names argname. */
int workspace__norm_list(const struct workspace *ws, const cJSON *in, const char *argname,
                         bool pattern, cJSON **out, char **errmsg);
/* The fields create_task and update_task share, read from a call's
 * arguments and checked; files and patterns normalised. */
struct workspace__task_fields {
    const char *title, *description; /* borrowed from the arguments; NULL: absent */
    const cJSON *capabilities;       /* borrowed; NULL: absent */
    cJSON *files, *patterns;         /* owned, normalised; NULL: absent */
    int64_t priority;                /* 0 when absent */
    bool has_priority;
};
/* Fill *f from args (title required when title_required). 0, or the
 * argument error with *errmsg naming it (nothing left to free). */
int workspace__task_fields_read(const struct workspace *ws, const cJSON *args, bool title_required,
                                struct workspace__task_fields *f, char **errmsg);
void workspace__task_fields_deinit(struct workspace__task_fields *f);
/* A domain refusal about task t: {success:false, error, task}; fmt_err
 * has two %s, filled with a and b. */
cJSON *workspace__task_refusal(const struct task *t, const char *fmt_err, const char *a,
                               const char *b);
/* The task named by the required "taskId" argument (-ERR_NOT_FOUND). */
int workspace__task_arg(const struct workspace *ws, const cJSON *args, struct task **t,
                        char **errmsg);
/* The strings of need that have lacks (a new array). */
cJSON *workspace__missing_caps(const cJSON *have, const cJSON *need);
/* "a, b, c" of an array of strings (caller frees). */
char *workspace__join(const cJSON *arr);
/* Emit agent:removed for agent_id (reason "removed" or "pruned"; by may
 * be NULL) after ending its leases and giving its claimed tasks back
 * (task:released). The released keys and task ids are added to keys and
 * tasks when not NULL. */
void workspace__remove_agent(struct workspace *ws, const char *agent_id, const char *reason,
                             const char *by, int64_t now_ms, struct event_vec *out, cJSON *keys,
                             cJSON *tasks);
/* A session-less agent (registered by the CLI or REST) with neither lease
 * nor claimed task goes offline: agent:left, reason "idle". No-op for any
 * other agent. Called where a lease or a task of the agent ends. */
void workspace__settle_sessionless(struct workspace *ws, const char *agent_id, int64_t now_ms,
                                   struct event_vec *out);
/* Does agent_id claim a task? */
bool workspace__agent_has_task(const struct workspace *ws, const char *agent_id);
/* Time-driven pruning of offline agents with no lease and no task, and
 * its next deadline (workspace_tick, workspace_next_deadline). */
void workspace__prune_tick(struct workspace *ws, int64_t now_ms, struct event_vec *out);
int64_t workspace__prune_next_deadline(const struct workspace *ws);

workspace__op_fn workspace__op_register_agent, workspace__op_set_agent_status,
    workspace__op_list_agents, workspace__op_publish_event, workspace__op_status,
    workspace__op_lock_file, workspace__op_unlock_file, workspace__op_renew_locks,
    workspace__op_check_lock, workspace__op_list_locked_files, workspace__op_detect_conflicts,
    workspace__op_create_task, workspace__op_find_available_tasks, workspace__op_claim_task,
    workspace__op_complete_task, workspace__op_release_task, workspace__op_list_tasks,
    workspace__op_cancel_task, workspace__op_reopen_task, workspace__op_update_task,
    workspace__op_remove_agent;

#endif
