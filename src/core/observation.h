/* observation — what the hub sees but never logs: refused lock requests,
 * lock queue joins and leaves, claim refusals and tool latencies. They are
 * the guidance engine's inputs beside the logged events
 * (docs/architecture.md, "Observations"; docs/events.md says how they
 * differ from events).
 *
 * An observation is a flat record of borrowed fields, valid only while the
 * sink that receives it runs: a sink that keeps anything copies it (or
 * keeps observation_to_json()). Fields a kind does not use are zero/NULL.
 *
 * Producers: the workspace reports lock, queue and claim observations to
 * the sink of its config (struct workspace_config.observe), only from the
 * live evaluation of a command, the queue service or a cancel — never
 * from workspace_apply() (a replay, a fold) or workspace_restore(); the
 * hub adds tool latencies. A sink may say it wants nothing right now
 * (`wanted`), and producers ask before they build: with nobody listening
 * an observation costs one test. */
#ifndef COORDHUB_CORE_OBSERVATION_H
#define COORDHUB_CORE_OBSERVATION_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

enum observation_kind {
    OBSERVATION_LOCK_REFUSED = 1, /* lock_file refused at once (busy, or queue full) */
    OBSERVATION_QUEUE_JOINED,     /* lock_file queued (waitMs) */
    OBSERVATION_QUEUE_LEFT,       /* a queued request left its queue: see end */
    OBSERVATION_CLAIM_REFUSED,    /* claim_task refused: see claim */
    OBSERVATION_TOOL_LATENCY,     /* a tool call was answered */
};

/* How a queued lock request left its queue. */
enum observation_queue_end {
    OBSERVATION_QUEUE_NONE = 0, /* still queued (queue joined) */
    OBSERVATION_QUEUE_GRANTED,
    OBSERVATION_QUEUE_TIMED_OUT, /* its waitMs passed with the key still busy */
    OBSERVATION_QUEUE_CANCELLED, /* the call was cancelled or its session ended */
    OBSERVATION_QUEUE_DROPPED,   /* its agent was removed while it waited */
};

/* Why claim_task refused. */
enum observation_claim_why {
    OBSERVATION_CLAIM_CLAIMED = 1,  /* claimed by another agent (holder) */
    OBSERVATION_CLAIM_NOT_OPEN,     /* completed, failed or cancelled */
    OBSERVATION_CLAIM_BLOCKED,      /* an unfinished dependency (blocked_by) */
    OBSERVATION_CLAIM_CAPABILITIES, /* the agent lacks a required capability */
    OBSERVATION_CLAIM_FILES_HELD,   /* a file is locked by another (file, holder) */
};

struct observation {
    enum observation_kind kind;
    /* When, in ms since epoch: the clock the workspace was given for the
     * evaluation (the store's clock), the hub's for tool latencies; 0 for
     * a cancel, which the workspace learns without a clock. */
    int64_t at_ms;
    const char *agent_id;   /* who asked; NULL for a tool latency */
    const char *session_id; /* the asking session, may be NULL */

    /* lock and queue kinds; claim refused for files held */
    const char *file; /* the normalised key */
    bool pattern;
    bool shared; /* the request's mode was shared */
    /* The agent in the way: the live holder (lease_until its expiry), or,
     * with lease_until 0, an earlier queued request that may not be
     * overtaken. NULL when the request was granted. */
    const char *holder;
    int64_t lease_until;
    uint64_t waiter_id;             /* queue kinds */
    int64_t joined_at_ms;           /* queue kinds: when the request was queued */
    int64_t deadline_ms;            /* queue kinds: when its waitMs runs out */
    int64_t waited_ms;              /* queue left: time queued; -1 when unknown (cancel) */
    enum observation_queue_end end; /* queue left */

    /* claim refused */
    const char *task_id;
    enum observation_claim_why claim;
    const char *blocked_by; /* the first unfinished dependency */

    /* tool latency */
    const char *tool;
    double latency_ms;
    bool error;   /* answered with a tool error (isError) */
    bool refused; /* answered success:false (a domain refusal) */
};

/* Where observations go. fn NULL: nowhere. wanted, when given, says
 * whether anyone listens right now; producers skip building when not. */
struct observation_sink {
    void (*fn)(void *arg, const struct observation *o);
    bool (*wanted)(void *arg);
    void *arg;
};

/* Does sink want observations now? */
static inline bool observation_wanted(const struct observation_sink *sink)
{
    return sink->fn && (!sink->wanted || sink->wanted(sink->arg));
}

/* The kind's wire name: "lock:refused", "queue:joined", "queue:left",
 * "claim:refused", "tool:latency". */
const char *observation_kind_name(enum observation_kind kind);
/* "granted", "timed_out", "cancelled", "dropped". */
const char *observation_queue_end_name(enum observation_queue_end end);
/* "claimed", "not_open", "blocked", "capabilities", "files_held". */
const char *observation_claim_why_name(enum observation_claim_why why);

/* The observation as a JSON object (caller owns): {"kind", "at", and the
 * kind's fields in camelCase} — the form docs/architecture.md documents
 * for subscribers that keep or forward observations. */
cJSON *observation_to_json(const struct observation *o);

#endif
