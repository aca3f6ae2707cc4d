/* hub_commit — the commit part of the hub: the group commit of the
 * turn's events, the answers held until the store has them, and the
 * records to evaluate a batch again when another hub appended first
 * (hub_commit.c says how). Works on the hub as a whole (hub_state.h);
 * runs a recorded call again through h->run_call, not by calling up into
 * the tools. */
#ifndef COORDHUB_APP_HUB_COMMIT_H
#define COORDHUB_APP_HUB_COMMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "app/hub_state.h"

struct workspace_waiter;

/* A tool answer held until the store has recorded the turn's events. */
struct hub_reply {
    uint64_t session;
    uint64_t call_id;
    cJSON *result; /* owned */
    bool is_error;
    /* Evaluated against the batch's state: if another hub appends first,
     * the answer is dropped and derived again (hub_commit.c). Others (a
     * wait_for_events result, a health answer) stand. */
    bool redo;
    bool lock_wait; /* the end of a queued lock_file: counted when sent */
    struct hub_call_clock clock;
    struct hub_reply *next;
};

/* What the batch waiting for its append was made of, kept to evaluate it
 * again if another hub appends first (hub_commit.c): a tool call (name
 * set), an agent resumed on a session (resume set: args holds its
 * agentId), or a queued lock request the batch granted or timed out
 * (waiter set). */
struct hub_redo {
    uint64_t session;
    uint64_t call_id;
    struct hub_call_clock clock;
    char *name;            /* owned: the tool, or NULL */
    bool resume;           /* an agent resumed (hub_agent_resume), not a tool */
    cJSON *args;           /* owned copy */
    const cJSON *args_src; /* borrowed while the call first runs */
    char *signature;       /* owned: the verified signature the call ran with, or NULL */
    char *agent_before;    /* owned: the session's agent when the call ran, or NULL */
    char *agent_named;     /* owned: the agent the call registered for its session, or NULL */
    uint64_t queued;       /* the waiter id its lock_file queued, or 0 */
    struct workspace_waiter *waiter; /* owned: the serviced request, or NULL */
    struct hub_redo *next;
};

/* Answer the running call c now, or after the pending events commit.
 * Takes result. Timed by c's clock; derived again with the batch when c
 * is recorded (c->redo). A call without an id (internal) is not answered:
 * result is freed. */
void hub_reply(struct tool_call *c, cJSON *result, bool is_error);
/* The same for a call answered later (a queued lock, a parked wait),
 * outside its run, timed by the clock it was stamped with when it came;
 * the answer stands if the batch's append loses. */
void hub_reply_timed(struct hub *h, struct hub_session *s, uint64_t call_id, cJSON *result,
                     bool is_error, struct hub_call_clock clock);
/* The end of a queued lock_file (granted, or refused at its deadline):
 * like hub_reply_timed, counted in the lock-wait metrics when sent.
 * waiter (taken, may be NULL): the request as the core kept it, queued
 * again if the batch's append loses; without it the answer stands. */
struct workspace_waiter;
void hub_reply_lock_wait(struct hub *h, struct hub_session *s, uint64_t call_id, cJSON *result,
                         struct hub_call_clock clock, struct workspace_waiter *waiter);
#define HUB_CONFLICT_ROUNDS 8 /* appends lost in a row before a batch is refused */
/* The group commit (commit_ev): append the turn's events, then answer
 * the held calls and fan the events out; on a conflict evaluate the batch
 * again (below); on a failure answer the error and reload. */
void hub_commit_run(struct hub *h);
/* Start recording call c, which may have to run again (a core op, an
 * agent resumed): c->redo is the record while it runs. */
void hub_redo_begin(struct tool_call *c, const char *name, const cJSON *args);
/* The recorded call ran: keep it with the batch when it joined one (its
 * answer waits or it produced events), else free it. */
void hub_redo_end(struct hub *h, struct hub_redo *rec);
/* A queued request the batch granted or timed out (takes w). */
void hub_redo_waiter(struct hub *h, uint64_t session, uint64_t call_id, struct hub_call_clock clock,
                     struct workspace_waiter *w);
/* A call of the batch was cancelled (its request left the queue): it is
 * not run again. */
void hub_redo_cancel(struct hub *h, uint64_t session, uint64_t call_id);
/* The batch is settled (recorded or refused): forget its records. */
void hub_redo_clear(struct hub *h);
/* Another hub appended first: rebuild the state from the store and
 * evaluate the batch again in its order (answers that do not depend on it
 * stand), then re-derive lock grants; h->pending holds the new batch. 0,
 * or the reload's error with *errmsg (caller frees): the taken answers and
 * the batch's queued calls then wait in h->replies for the error. */
int hub_redo_batch(struct hub *h, char **errmsg);

#endif
