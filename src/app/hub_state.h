/* hub_state — the hub as a whole: struct hub composed of its parts
 * (docs/architecture.md, "The parts of the hub") and the few fields that
 * are the hub's own (the loop, the store, the workspace, the bus, the
 * faces, the outage and the commit state), and the call context of a tool
 * call. Included by the files that work on the hub as a whole (hub.c,
 * hub_store.c, hub_commit.c, hub_tools.c, hub_outage.c, the faces); the
 * parts (hub_session, hub_waits, hub_control, hub_daemon) never include
 * it: they are given what they need and call up through ops tables.
 * Nothing outside src/app includes it.
 *
 * It declares no function of its own: what a file defines is declared
 * in that file's header (scripts/check_layers.py checks both). The two
 * inline helpers below are one line each over the hub's own fields. */
#ifndef COORDHUB_APP_HUB_STATE_H
#define COORDHUB_APP_HUB_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "api/metrics.h"
#include "app/hub_control.h"
#include "app/hub_daemon.h"
#include "app/hub_session.h"
#include "app/hub_waits.h"
#include "base/clock.h"
#include "base/map.h"
#include "core/event.h"
#include "core/workspace.h"
#include "store/store.h"

struct api;
struct bus;
struct hub_commit;
struct hub_redo;
struct hub_rest;
struct keys;
struct options;
struct tool_def;
struct tool_registry;

#define HUB_FD_RESERVE 64       /* the hub itself: store, log, Redis, pipes, listening sockets */
#define HUB_FD_OVERFLOW 64      /* connections accepted past a cap only to be refused */
#define HUB_RECENT_EVENTS 4096  /* bus ring */
#define HUB_SNAPSHOT_EVERY 1000 /* events between snapshots */
#define HUB_OWN_TOOLS 8         /* the hub provider's tools (hub_tools.c) */

/* One tool call while it runs — the call context the tool registry hands
 * to a provider (rpc/registry.h leaves it to the host to define): built
 * once when the call comes
 * (hub_tool_call) or when a recorded call runs again (hub_commit.c), and
 * passed explicitly to everything that works on it and answers it. Nothing
 * of it is parked on struct hub, so a call started while another runs (an
 * answer whose delivery starts a call) has its own. Lives on the stack of
 * whoever built it: a call that outlives its run (a queued lock request, a
 * parked wait) keeps a copy of what it needs (session id, call id, clock). */
struct tool_call {
    struct hub *hub;
    struct hub_session *session;
    uint64_t call_id; /* 0: internal, nobody to answer, not timed */
    struct hub_call_clock clock;
    /* Borrowed: the verified signature an HTTP caller presented, which
     * its publish_event records (struct workspace_caller.signature), or
     * NULL. */
    const char *signature;
    /* The batch's record of this call while it runs (hub_commit.c), or
     * NULL for calls that never run again. */
    struct hub_redo *redo;
    /* Borrowed, when the call runs again after a lost append: the agent
     * name it registered the first time, asked for again; else NULL. */
    const char *redo_agent_name;
    /* Run on the committed view (hub_commit_read_view): answered at once,
     * never held nor run again. */
    bool committed_read;
};

struct hub {
    const struct options *opt;
    struct event_base *base;
    struct store *store;
    struct workspace *ws;
    struct workspace_config wscfg;
    struct bus *bus;
    char hub_id[16]; /* "hub-xxxx" */
    /* The parts (docs/architecture.md, "The parts of the hub"). */
    struct hub_daemon daemon;
    struct hub_sessions sessions;
    struct hub_waits waits;
    struct hub_control control;
    /* Caps of the HTTP face fitted to the descriptor limit (hub_fit_caps). */
    size_t http_max_connections;
    size_t sse_max_clients;
    struct event *commit_ev; /* low priority: runs after the turn's I/O */
    struct event *tick_ev;   /* workspace deadlines */
    struct event *reload_ev; /* retries the reload while the store is away */
    struct event *lag_ev;    /* loop-lag probe */
    struct event *idle_ev;   /* --idle-exit: armed while no session is open */
    int64_t idle_exit_ms;    /* 0: never exit for want of sessions */
    struct event *sig_term, *sig_int;
    /* The next batch's events: evaluated, folded, not yet sent (behind
     * the batch in flight, app/hub_commit.h). */
    struct event_vec pending;
    /* The group commit: held answers, records, the batch in flight. */
    struct hub_commit *commit;
    /* A batch is in flight: the workspace is ahead of the log (set by
     * hub_commit.c, read by the store's listener in hub_store.c). */
    bool commit_busy;
    /* The store told of other writers' events while the state was ahead
     * of the log (not folded then, hub_store.c): hub_commit.c catches up
     * after the next commit. */
    bool commit_missed_heard;
    /* Run a recorded call again (hub_commit.c): the tool runner the
     * tools gave the hub (hub_tools_init), so the commit part does not
     * call up into them. */
    void (*run_call)(struct tool_call *c, const char *name, const cJSON *args);
    uint64_t committed_seq;
    uint64_t snapshot_seq;
    /* Events kept in the log behind the newest snapshot (--retain-events);
     * 0 keeps everything. Older ones are trimmed after each snapshot. */
    uint64_t retain;
    uint64_t first_seq; /* where the log begins, as read at load or set by our trims */
    int64_t started_ms;
    int64_t lag_expected_ns;
    double loop_lag_ms;
    int store_errors;
    char *store_error; /* owned: last store error, NULL if healthy */
    /* The store failed and could not be read back (a network store
     * away): writes are refused until reload_ev rebuilds the state from
     * the store (hub_outage.c). */
    bool store_stale;
    /* While store_stale: the workspace is the committed state (rebuilt
     * without the store, hub_outage.c) and read-only calls are answered
     * from it, marked stale. false: every call of a tool that needs the
     * store is refused (get_unified_health, list_servers are answered). */
    bool stale_reads;
    int reload_delay_ms; /* next retry of the reload, doubling to a cap */
    /* A store that can go away (hub_outage.c): the text of a snapshot of
     * the committed state at replica_seq, or NULL. */
    char *replica_text; /* owned */
    uint64_t replica_seq;
    /* The committed view (hub_outage.c, hub_committed_state): a second
     * workspace at committed_seq, built from the replica when first
     * needed while the workspace is ahead of the log and kept in step from
     * the bus ring, or NULL (owned). */
    struct workspace *committed_view;
    /* The outage not yet in the log: since when (store clock, ms since
     * epoch; 0: none) and why (owned); outage_seq is the seq of its
     * queued health:recovered (0: not queued). */
    int64_t down_since_ms;
    char *down_reason;
    uint64_t outage_seq;
    bool stopping;
    /* The owner asked the hub to stop (`coordhub stop`): bridges are told
     * so and do not start it again. */
    bool stop_requested;
    struct api *api;        /* the HTTP face, NULL when off (hub_http.c) */
    char *http_token;       /* owned: admin token while the face is up */
    bool http_addr_written; /* <state-dir>/http.addr is ours to remove */
    /* The HTTP face's calls and its two sessions (hub_rest.c), or NULL. */
    struct hub_rest *rest;
    /* Figures the hub measures for /metrics (hub_metrics.c); gauges are
     * filled at scrape time. metrics.tools points at `tools`: one slot
     * per tool called (tool_slot_of: name -> its index, owned), tool_other the
     * slot of names outside the registry. */
    struct metrics_hub metrics;
    struct metrics_tool *tools; /* owned, ntool_slots of tool_slots_cap */
    size_t ntool_slots, tool_slots_cap;
    struct map tool_slot_of; /* keys: the slots' own names */
    size_t tool_other;
    struct keys *keys; /* API keys (<state-dir>/keys.json), hub_keys.c */
    /* The tools this hub serves (rpc/registry.h), from its two providers
     * (hub_tools.c): the core's (core_defs) and the hub's own (hub_defs,
     * each run by hub_run[i]). register_def, status_def: the core tools
     * the hub adds to (a session's agent, systemHealth). */
    struct tool_registry *registry;
    const struct tool_def **core_defs; /* owned array */
    size_t ncore_defs;
    const struct tool_def *hub_defs[HUB_OWN_TOOLS];
    void (*hub_run[HUB_OWN_TOOLS])(struct tool_call *c, const cJSON *args);
    size_t nhub_defs;
    const struct tool_def *register_def, *status_def;
};

/* The store's clock (ms since epoch), the wall clock without one. */
static inline int64_t hub_now(struct hub *h)
{
    int64_t ms;
    if (h->store && h->store->ops->now(h->store, &ms) == 0)
        return ms;
    return clock_wall_ms();
}

/* Commit the turn's events once its I/O is done (commit_ev is of the
 * lower priority). */
static inline void hub_schedule_commit(struct hub *h)
{
    event_active(h->commit_ev, EV_TIMEOUT, 0);
}

#endif
