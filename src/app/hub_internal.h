/* hub_internal — the hub's private structures, shared by hub.c (lifecycle,
 * store, timers), hub_commit.c (the answers of hub_reply; the commit
 * itself has its own header, app/hub_commit.h), hub_session.c (connections, the MCP host)
 * and hub_tools.c (tool execution). Nothing outside src/app includes it. */
#ifndef COORDHUB_APP_HUB_INTERNAL_H
#define COORDHUB_APP_HUB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "api/metrics.h"
#include "auth/token.h"
#include "base/map.h"
#include "core/event.h"
#include "core/workspace.h"
#include "rpc/control.h"

struct api_caller;
struct hub_control_reply;
struct event_base;
struct event;
struct listener;
struct hub_pending_conn;
struct bus;
struct store;
struct lineconn;
struct mcp_session;
struct options;
struct api;
struct api_config;
struct mcp_http_session;
struct keys;
struct keys_key;
struct events_filter;

#define HUB_MAX_LINE (1024 * 1024)     /* docs/security.md, "Input limits" */
#define HUB_MAX_OUT (16 * 1024 * 1024) /* per-session output backlog */
#define HUB_MAX_SESSIONS 4096          /* docs/configuration.md, limits */
/* The Unix socket and the descriptor budget (docs/operations.md,
 * "Descriptors"): its session cap (fitted to the descriptor limit at
 * start, hub_fit_caps), of which a few slots only the admin token may
 * take, connections waiting for their first line and how long they may
 * wait, and the descriptors kept back from every cap. */
#define HUB_SOCKET_ADMIN_RESERVE 4 /* at most; a quarter of a small cap */
#define HUB_SOCKET_MAX_PENDING 256
#define HUB_SOCKET_SESSION_FDS 3 /* an attached session: socket, IDE stdin, stdout */
#define HUB_FIRST_LINE_MS 10000
#define HUB_FD_RESERVE 64       /* the hub itself: store, log, Redis, pipes, listening sockets */
#define HUB_FD_OVERFLOW 64      /* connections accepted past a cap only to be refused */
#define HUB_RECENT_EVENTS 4096  /* bus ring */
#define HUB_SNAPSHOT_EVERY 1000 /* events between snapshots */
#define HUB_OWN_TOOLS 8         /* the hub provider's tools (hub_tools.c) */

struct roots;
struct hub_commit;
struct hub_redo;
struct tool_registry;
struct tool_def;

struct hub_session {
    uint64_t id;
    char sid[40]; /* session id string given to the core */
    struct hub *hub;
    struct mcp_session *mcp;
    struct lineconn *conn;
    struct lineconn *ctl; /* bridge control socket (attached sessions), or NULL */
    char *agent_id;       /* owned: registered agent, NULL before */
    char *agent_hint;     /* owned: --agent from the bridge */
    bool oneshot;         /* CLI: acts as admin, never becomes an agent */
    bool admin;           /* local peer of the same uid */
    bool sock;            /* counted in hub.nsock_sessions (a Unix-socket session) */
    /* The HTTP face's session of keys below `admin` (hub_rest.c): a
     * oneshot, non-admin caller whose agent is the agentId each call
     * names, so the core's ownership rules apply to it. */
    bool acts_as_named;
    /* Where this session's relative paths resolve (roots.h): its client's
     * MCP roots, else the bridge's working directory; NULL: none, paths
     * are workspace-relative. Owned. */
    struct roots *roots;
    char *cwd;                 /* owned: the bridge's working directory, or NULL */
    struct event *roots_timer; /* owned: gives up on an unanswered roots/list */
    bool input_closed;         /* EOF seen; close once replies are flushed */
    int inflight;              /* tool calls not yet answered */
    /* An HTTP MCP session's transport (hub_mcp_http.c), or NULL. */
    struct mcp_http_session *http;
    /* The API key that opened this HTTP session (its rights limit the
     * session's calls, hub_keys.c), or NULL: the admin token / a socket. */
    const struct keys_key *key;
    /* Non-NULL for the HTTP face's session (hub_rest.c): answers go to
     * reply_fn instead of an MCP session; it takes result. */
    void (*reply_fn)(void *arg, uint64_t call_id, cJSON *result, bool is_error);
    void *reply_arg;
    struct hub_session *next;
};

/* Where a tool call stands for the metrics: which tool (an index in
 * hub.tools, -1: none) and when the hub received it. */
struct hub_call_clock {
    int tool;
    int64_t start_ns; /* clock_mono_ns */
};

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

struct hub {
    const struct options *opt;
    struct event_base *base;
    struct store *store;
    struct workspace *ws;
    struct workspace_config wscfg;
    struct bus *bus;
    char hub_id[16];           /* "hub-xxxx" */
    int lock_fd;               /* flock on hub.lock */
    char *sock_path;           /* owned */
    struct listener *listener; /* hub.sock */
    /* Socket connections accepted whose first line has not been read,
     * oldest first (hub_session.c); each counts until it is read, dropped
     * at its deadline, or dropped as the oldest when npending reaches
     * sock_max_pending. */
    struct hub_pending_conn *pending_head, *pending_tail;
    size_t npending;
    size_t nsock_sessions;    /* socket sessions (h->sessions also holds /mcp ones) */
    size_t sock_max_sessions; /* fitted cap; admin_reserve of it for the admin token */
    size_t sock_admin_reserve;
    size_t sock_max_pending;
    int64_t first_line_ms;
    /* Caps of the HTTP face fitted to the descriptor limit (hub_fit_caps). */
    size_t http_max_connections;
    size_t sse_max_clients;
    /* Rate-limited warnings of the socket: refusals at the cap, pending
     * connections dropped (one line per HUB_SOCKET_LOG_MS with a count). */
    int64_t sock_refused_logged_ns, sock_dropped_logged_ns;
    uint64_t sock_refused_unlogged, sock_dropped_unlogged;
    struct event *commit_ev; /* low priority: runs after the turn's I/O */
    struct event *tick_ev;   /* workspace deadlines */
    struct event *reload_ev; /* retries the reload while the store is away */
    struct event *wait_ev;   /* parked wait_for_events deadlines */
    struct event *lag_ev;    /* loop-lag probe */
    struct event *idle_ev;   /* --idle-exit: armed while no session is open */
    int64_t idle_exit_ms;    /* 0: never exit for want of sessions */
    struct event *sig_term, *sig_int;
    struct hub_session *sessions;
    size_t nsessions;
    uint64_t next_session_id;
    /* The next batch's events: evaluated, folded, not yet sent (behind
     * the batch in flight, app/hub_commit.h). */
    struct event_vec pending;
    /* The group commit: held answers, records, the batch in flight. */
    struct hub_commit *commit;
    struct hub_waiter *waiters;
    struct hub_wait *waits;
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
    /* The outage not yet in the log: since when (store clock, ms since
     * epoch; 0: none) and why (owned); outage_seq is the seq of its
     * queued health:recovered (0: not queued). */
    int64_t down_since_ms;
    char *down_reason;
    uint64_t outage_seq;
    bool stopping;
    /* The owner asked the hub to stop (`coordhub stop`, hub_control.c):
     * bridges are told so and do not start it again. */
    bool stop_requested;
    struct api *api;        /* the HTTP face, NULL when off (hub_http.c) */
    char *http_token;       /* owned: admin token while the face is up */
    bool http_addr_written; /* <state-dir>/http.addr is ours to remove */
    /* The HTTP face's sessions (hub_rest.c), not in `sessions`: the
     * admin's, and the one of keys below `admin` (acts_as_named). */
    struct hub_session *rest;
    struct hub_session *rest_agent;
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
    /* Answers to control requests still going out (hub_control.c). */
    struct hub_control_reply *control_replies;
    /* SHA-256 of <state-dir>/token: what an admin control line must
     * present (hub_control.c); admin_token_set false when it could not
     * be read (every admin request is then refused). */
    struct token_digest admin_token;
    bool admin_token_set;
};

/* hub.c */
int64_t hub_now(struct hub *h);
void hub_schedule_commit(struct hub *h);
/* hub_commit.c (the rest of it: app/hub_commit.h) */
/* Answer the running call c now, or after the pending events commit.
 * Takes result. Timed by c's clock; derived again with the batch when c
 * is recorded (c->redo). A call without an id (internal) is not answered:
 * result is freed. */
void hub_reply(struct tool_call *c, cJSON *result, bool is_error);
/* The same for a call answered later outside its run (a parked wait),
 * timed by the clock it was stamped with when it came, with an answer
 * that depends on no batch (committed events, a refusal): sent at once,
 * even while a batch is in flight. */
void hub_reply_timed(struct hub *h, struct hub_session *s, uint64_t call_id, cJSON *result,
                     bool is_error, struct hub_call_clock clock);
/* The end of a queued lock_file (granted, or refused at its deadline):
 * like hub_reply_timed, counted in the lock-wait metrics when sent.
 * waiter (taken, may be NULL): the request as the core kept it, queued
 * again if the batch's append loses; without it the answer stands. */
struct workspace_waiter;
void hub_reply_lock_wait(struct hub *h, struct hub_session *s, uint64_t call_id, cJSON *result,
                         struct hub_call_clock clock, struct workspace_waiter *waiter);
void hub_reschedule_timers(struct hub *h);
/* The session count changed: with --idle-exit, arm the idle timer when
 * no session is left, disarm it when one opened. */
void hub_idle_update(struct hub *h);
/* A workspace rebuilt from the store (a load, the outage replica): every
 * agent counts as detached since now, then the hub's live sessions take
 * theirs back, so the others get the grace period to return. */
void hub_sessions_reattach(struct hub *h, struct workspace *ws, int64_t now);
cJSON *hub_health_json(struct hub *h);
/* Replace the workspace with the store's view (newest snapshot + tail),
 * carrying the queued lock requests over; fan out what the log has beyond
 * what the hub published. 0, or an error with *errmsg (caller frees). */
int hub_load_state(struct hub *h, char **errmsg);

/* Save a snapshot when HUB_SNAPSHOT_EVERY events went by since the last
 * (and keep the replica, hub_outage.c). */
void hub_maybe_snapshot(struct hub *h);
/* Read and fold what other writers appended that the store told of while
 * the state was ahead of the log (hub_commit.c, after a commit). */
void hub_store_catch_up(struct hub *h);
/* The store failed and cannot be read back: serve stale reads, refuse
 * writes, retry the reload with backoff. */
void hub_store_went_stale(struct hub *h, const char *why);

/* hub_limits.c */
/* Raise the descriptor limit and fit the socket's and the HTTP face's
 * caps inside it (logged); COORDHUB_SOCKET_MAX_SESSIONS and
 * COORDHUB_FIRST_LINE_MS override the socket's, COORDHUB_HTTP_MAX_CONNECTIONS
 * the HTTP cap wanted, for tests. */
void hub_fit_caps(struct hub *h);

/* hub_session.c */
void hub_sessions_init(struct hub *h);
int hub_listen(struct hub *h);
struct hub_session *hub_session_find(struct hub *h, uint64_t id);
/* A new agent session (not admin) in h->sessions, with its MCP engine and
 * no transport yet. */
struct hub_session *hub_session_new(struct hub *h);
void hub_session_close(struct hub_session *s);
/* Close s in the next loop turn (from inside its own handlers). */
void hub_session_close_later(struct hub_session *s);
void hub_session_maybe_finish(struct hub_session *s);
void hub_sessions_close_all(struct hub *h);
/* Send m on the session's bridge control channel, if it has one. */
void hub_session_send_ctl(struct hub_session *s, const struct control_msg *m);
/* Tell the bridge the session's initialize params and agent ("session"). */
void hub_session_announce(struct hub_session *s);
void hub_session_event(struct hub *h, const struct event *ev, const char *text);
/* A committed agent:removed: sessions whose agent it was lose it (told
 * by a warning log message) and register again on their next call. */
void hub_sessions_agent_removed(struct hub *h, const struct event *ev);

/* hub_http.c */
/* Start the HTTP face. 0 (also when it is off or the default address was
 * unavailable: warned), or an error when a chosen address cannot be
 * served (message on stderr). */
int hub_http_start(struct hub *h);
/* Print the face's URL (with the admin token) on out, if it is up. */
void hub_http_announce(struct hub *h, FILE *out);
/* Stop the face and remove http.addr. Safe when it never started. */
void hub_http_stop(struct hub *h);

/* hub_rest.c */
/* Create the HTTP face's sessions (h->rest, h->rest_agent). */
void hub_rest_start(struct hub *h);
/* Drop calls in flight without answering them and free both sessions. Safe
 * when it never started. */
void hub_rest_stop(struct hub *h);
/* struct api_host.call: run a tool for the HTTP face. */
void hub_rest_call(void *arg, const struct api_caller *who, const char *name, cJSON *args,
                   void (*done)(void *done_arg, cJSON *result, bool is_error), void *done_arg);
/* struct api_host.cancel: the client of the calls made with done_arg
 * left; cancel the queued ones. True when none of them is left. */
bool hub_rest_cancel(void *arg, void *done_arg);

/* hub_mcp_http.c */
/* Point cfg's /mcp host at the hub: HTTP MCP sessions are agent sessions
 * of h (COORDHUB_MCP_IDLE_MS overrides their idle lifetime, for tests). */
void hub_mcp_http_config(struct hub *h, struct api_config *cfg);

/* hub_metrics.c */
/* Zero the figures; label slots ("other", then each tool) come with
 * the first calls. */
void hub_metrics_init(struct hub *h);
void hub_metrics_fini(struct hub *h);
/* The slot of tool `name`, made on its first call ("other" for a name
 * the registry does not serve). */
int hub_metrics_tool(struct hub *h, const char *name);
/* An answer was sent: count its outcome and latency. */
void hub_metrics_answered(struct hub *h, struct hub_call_clock clock, const cJSON *result,
                          bool is_error);
/* A committed event: task totals and cycle time. */
void hub_metrics_event(struct hub *h, const struct event *ev);
/* A queued lock request ended: granted or timed out, after waiting
 * since clock.start_ns. */
void hub_metrics_lock_wait_done(struct hub *h, struct hub_call_clock clock, bool granted);

/* hub_control.c */
/* Read <state-dir>/token into h->admin_token. 0, or an error (logged):
 * admin requests are then refused. */
int hub_control_load_token(struct hub *h);
/* Why the control line ctl may not act as the workspace owner (a static
 * string), or NULL when its "token" is the admin token. */
const char *hub_control_refusal(const struct hub *h, const struct control_msg *ctl);
/* Answer a control request on fd (taken) with the line text, then close
 * the connection once the peer took it (or HUB_CONTROL_REPLY_MS passed). */
void hub_control_send(struct hub *h, int fd, const char *text);
/* The same with the line of m (rpc/control.h); the text is wiped after. */
void hub_control_send_msg(struct hub *h, int fd, const struct control_msg *m);
/* Answer {"coordhub":kind,"ok":false,"code":"unauthorized","error":why}
 * on fd (taken). */
void hub_control_refuse(struct hub *h, int fd, enum control_kind kind, const char *why);
/* Answer a control line that did not parse (ctl and e from
 * control_parse_request) on fd (taken): unauthorized when it is the
 * owner's kind without the admin token, else e's code and message. */
void hub_control_invalid(struct hub *h, int fd, const struct control_msg *ctl,
                         const struct control_error *e);
/* A stop request (`coordhub stop`) on fd (taken): with the admin token,
 * answer {"coordhub":"stop","ok":true,"pid":…} and leave the loop (the
 * hub then stops as on SIGTERM, telling bridges "stopping"); refused
 * otherwise. */
void hub_control_stop(struct hub *h, int fd, const struct control_msg *ctl);
/* Send what the peers take now of the answers still going out, then drop
 * them (teardown). */
void hub_control_close(struct hub *h);

/* hub_oneshot.c */
/* Run the one-shot call ctl ({"coordhub":"call",…}) on fd (taken) and
 * answer it in one line; admin: it carried the admin token (checked). */
void hub_oneshot_start(struct hub *h, int fd, const struct control_msg *ctl, bool admin);

/* hub_keys.c */
/* Load <state-dir>/keys.json into h->keys. 0, or an error (printed on
 * stderr): a key file the hub cannot read is a start-up error. */
int hub_keys_open(struct hub *h);
/* Free h->keys (after the HTTP face and the sessions). */
void hub_keys_close(struct hub *h);
/* Answer a key control request (first line {"coordhub":"key",…} on the
 * socket: `coordhub key …`) on fd, which is taken. */
void hub_keys_control(struct hub *h, int fd, const struct control_msg *req);
/* Why the session's key may not make this tool call (caller frees), or
 * NULL when it may (always for sessions without a key). */
char *hub_keys_tool_refusal(const struct hub_session *s, const char *name, const cJSON *args);

/* hub_outage.c — the hub while its store is away */
/* Keep text (taken on true) as the replica snapshot when the store is one
 * that can go away; text must be a snapshot of the committed state. */
bool hub_replica_offer(struct hub *h, char *text);
/* Take a replica snapshot of the committed state when forced (after a
 * load) or when the replica lags it too far for the bus ring; no-op for
 * local stores, and while events wait for their append and the committed
 * view cannot be had. */
void hub_replica_keep(struct hub *h, bool force);
/* A workspace at committed_seq built from the replica text and the bus
 * ring (its sessions attached as the hub's are), or NULL when they do not
 * reach it. */
struct workspace *hub_replica_build(struct hub *h);
/* The store just became unreachable (store_stale is being set): answer
 * queued lock requests with the refusal, make the workspace the committed
 * state (stale_reads says whether that worked) and, at the start of an
 * outage, announce health:degraded. why names the failure. */
void hub_outage_begin(struct hub *h, const char *why);
/* The state was reloaded from the store (store_stale false): queue
 * health:degraded + health:recovered of an outage not yet in the log. */
void hub_outage_record(struct hub *h);
/* A commit ended (ok: appended) or its batch was dropped. */
void hub_outage_committed(struct hub *h, bool ok);
/* While store_stale: add stale:true and staleSince to a result object. */
void hub_stale_mark(struct hub *h, cJSON *result);
/* May tool t (NULL: unknown) be answered while the store is away? One
 * that does not need the store always; one that does only when it is
 * read-only and the replica answers reads. */
bool hub_stale_may_answer(const struct hub *h, const struct tool_def *t);
/* The refusal of a call while the store is away; what names the refused
 * thing ("lock_file"). Caller frees. */
char *hub_stale_refusal(const struct hub *h, const char *what);

/* hub_tools.c */
/* Plug the core's and the hub's tool providers into h->registry; free
 * them. */
void hub_tools_init(struct hub *h);
void hub_tools_fini(struct hub *h);
/* Take agent_id back on session s (its bridge re-attached after a hub
 * restart and said so on its control line): registered like a tool call
 * of nobody's, recorded to be made again with the batch. */
void hub_agent_resume(struct hub *h, struct hub_session *s, const char *agent_id);
/* A tool call of session s came (call_id 0: internal, not answered):
 * build its call context — timed from now, recorded when it may run
 * again, with the HTTP caller's verified signature (or NULL) — and run
 * it. */
void hub_tool_call(struct hub *h, struct hub_session *s, uint64_t call_id, const char *name,
                   const cJSON *args, const char *signature);
/* Run call c (hub_tool_call builds it; hub_redo_batch runs a recorded
 * call again through it with the context it first ran with). */
void hub_tool_run(struct tool_call *c, const char *name, const cJSON *args);
/* The client cancelled call_id (or left): a queued lock request leaves
 * the queue, a parked wait_for_events ends, neither is answered. True
 * when such a call was found and dropped; false when the call is not
 * parked (its answer is due, or it was answered). */
bool hub_tool_cancel(struct hub *h, struct hub_session *s, uint64_t call_id);
cJSON *hub_resource_read(struct hub *h, const char *uri);
void hub_waits_service(struct hub *h, bool expire_all_due);
void hub_waits_drop_session(struct hub *h, uint64_t session);
int64_t hub_waits_next_deadline(struct hub *h);
void hub_lock_waiters_service(struct hub *h);
/* Answer every queued lock request with msg as a tool error (code
 * unavailable) and drop it from the workspace's queue. */
void hub_lock_waiters_refuse(struct hub *h, const char *msg);
/* Answer the queued calls of finished requests (the core's service, or
 * requests a rebuild could not carry); takes the items' results. */
void hub_lock_waiters_done(struct hub *h, struct workspace_waiter_done_vec *done);
/* Forget the hub's record of waiter id (its request is queued again by
 * its call running again): no answer, nothing counted. */
void hub_waiter_forget(struct hub *h, uint64_t waiter_id);
/* Keep waiter id's call open: it is queued again in the workspace. */
void hub_waiter_add(struct hub *h, uint64_t waiter_id, uint64_t session, uint64_t call_id,
                    struct hub_call_clock clock);
void hub_waiters_drop_session(struct hub *h, uint64_t session);

#endif
