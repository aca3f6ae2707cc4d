/* hub_commit — the hub's group commit: the answers held until the store
 * has the events they depend on, the batch in flight, and evaluating the
 * uncommitted calls again after a lost compare-and-append
 * (docs/architecture.md, "Group commit").
 *
 * Two batches at most exist at once:
 *   - the batch in flight (struct hub_commit_flight): its events were sent
 *     to the store after seq `base`; its answers and records wait for the
 *     store's callback;
 *   - the next batch: what the calls evaluated meanwhile produced — their
 *     events in h->pending (folded into the workspace behind the in-flight
 *     ones), their answers in `replies`, their records in `redo`.
 * The store is asked for one append at a time: hub_commit_run sends the
 * next batch only when nothing is in flight, and the completion
 * (hub_commit.c) sends it when it finished. Invariants: no answer goes out
 * before the store holds every event its state was built on (an answer
 * evaluated while a batch is in flight waits with the next batch, which
 * comes after it); the workspace's seq is committed_seq + the in-flight
 * events + h->pending.
 *
 * A store that completes before append() returns (the local ones) gives
 * the same order with nothing ever left in flight between two loop
 * turns. Works on the hub as a whole (hub_state.h); runs a recorded call
 * again through h->run_call, not by calling up into the tools. */
#ifndef COORDHUB_APP_HUB_COMMIT_H
#define COORDHUB_APP_HUB_COMMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "app/hub_state.h"
#include "core/event.h"

struct workspace_waiter;

#define HUB_CONFLICT_ROUNDS 8 /* appends lost in a row before a batch is refused */
#define HUB_DRAIN_MS 15000    /* at shutdown: longest wait for the batch in flight */

/* A tool answer held until the store has recorded the events it saw. */
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

/* What an uncommitted batch was made of, kept to evaluate it again if
 * another hub appends first (hub_commit.c): a tool call (name set), an
 * agent resumed on a session (resume set: args holds its agentId), or a
 * queued lock request the batch granted or timed out (waiter set). */
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
    bool answered;         /* answered from the committed view: never run again */
    struct workspace_waiter *waiter; /* owned: the serviced request, or NULL */
    struct hub_redo *next;
};

/* The batch the store is appending (while h->commit_busy). */
struct hub_commit_flight {
    struct event_vec events;   /* sent, seqs base+1 … */
    uint64_t base;             /* committed_seq when sent */
    struct hub_reply *replies; /* its held answers, in order */
    struct hub_redo *redo;     /* its records, in order */
    int64_t sent_ns;           /* clock_mono_ns at the send, for the latency histogram */
};

struct hub_commit {
    /* The next batch's answers and records (its events: h->pending). */
    struct hub_reply *replies, **replies_tail;
    struct hub_redo *redo, **redo_tail;
    struct hub_commit_flight flight;
    /* Appends of the uncommitted calls lost to other hubs in a row. */
    int conflicts;
};

/* Answer the running call c now, or once the store has what it saw.
 * Takes result. Timed by c's clock; derived again with the batch when c
 * is recorded (c->redo); answered at once when it ran on the committed
 * view (c->committed_read). A call without an id (internal) is not
 * answered: result is freed. */
void hub_reply(struct tool_call *c, cJSON *result, bool is_error);
/* The same for a call answered later outside its run (a parked wait),
 * timed by the clock it was stamped with when it came, with an answer
 * that depends on no batch (committed events, a refusal): sent at once,
 * even while a batch is in flight. */
void hub_reply_timed(struct hub *h, struct hub_session *s, uint64_t call_id, cJSON *result,
                     bool is_error, struct hub_call_clock clock);
/* The end of a queued lock_file (granted, or refused at its deadline):
 * held like hub_reply's, counted in the lock-wait metrics when sent.
 * waiter (taken, may be NULL): the request as the core kept it, queued
 * again if the batch's append loses; without it the answer stands. */
void hub_reply_lock_wait(struct hub *h, struct hub_session *s, uint64_t call_id, cJSON *result,
                         struct hub_call_clock clock, struct workspace_waiter *waiter);

struct hub_commit *hub_commit_new(void);
/* Free what is held (nothing is answered). NULL ok. */
void hub_commit_free(struct hub_commit *c);

/* The group commit (commit_ev): when nothing is in flight, send the next
 * batch (or, without events, answer what it holds). Its completion
 * answers the held calls and fans the events out, then sends what was
 * queued meanwhile; on a conflict every uncommitted call is evaluated
 * again (hub_redo_batch); on a failure they are answered with the error
 * and the state is reloaded. */
void hub_commit_run(struct hub *h);
/* A batch is in flight: the workspace is ahead of the log. */
bool hub_commit_busy(const struct hub *h);
/* At shutdown: commit what is in flight and queued, running the loop
 * until the store answered (at most HUB_DRAIN_MS). */
void hub_commit_drain(struct hub *h);

/* Where a read-only call of session s is answered at once while a batch
 * is in flight: the committed view, which shows nothing the store has not
 * taken. NULL — run it on h->ws, its answer held with the next batch —
 * when nothing is in flight, when s is a session with answers held (its
 * answers keep their order, and it reads its own writes; the HTTP face's
 * sessions answer independent requests and keep none), or when the view
 * cannot be had. */
struct workspace *hub_commit_read_view(struct hub *h, const struct hub_session *s);

/* Start recording call c, which may have to run again (a core op, an
 * agent resumed): c->redo is the record while it runs. */
void hub_redo_begin(struct tool_call *c, const char *name, const cJSON *args);
/* The recorded call ran: keep it with the batch when it joined one (its
 * answer waits or it produced events), else free it. */
void hub_redo_end(struct hub *h, struct hub_redo *rec);
/* A queued request the batch granted or timed out (takes w). */
void hub_redo_waiter(struct hub *h, uint64_t session, uint64_t call_id, struct hub_call_clock clock,
                     struct workspace_waiter *w);
/* A call was cancelled (its request left the queue): it is not run
 * again, whichever batch holds it. */
void hub_redo_cancel(struct hub *h, uint64_t session, uint64_t call_id);
/* The next batch is settled (recorded or refused): forget its records. */
void hub_redo_clear(struct hub *h);
/* Another hub appended first: rebuild the state from the store and
 * evaluate every uncommitted call again in its order (answers that do not
 * depend on the batch stand), then re-derive lock grants; h->pending
 * holds the new batch. 0, or the reload's error with *errmsg (caller
 * frees): the taken answers and the batch's queued calls then wait in the
 * next batch's replies for the error. Nothing may be in flight. */
int hub_redo_batch(struct hub *h, char **errmsg);

#endif
