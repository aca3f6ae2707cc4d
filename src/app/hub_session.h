/* hub_session — the sessions part of the hub (docs/architecture.md, "The
 * parts of the hub"): the session table, the kinds of session (one per
 * transport, each with its delivery ops), the Unix socket's pending
 * first-line connections and its caps.
 *
 * A session is found by id through a map (replies, parked calls and
 * deferred closes look it up on every answer). Sessions with an MCP engine
 * and the one-shot calls are also on `list` (events fan out over it,
 * teardown closes it) and counted in `count` (--idle-exit, /metrics);
 * the REST face's internal sessions are in the map only.
 *
 * The part reaches the rest of the hub only through the host ops it was
 * given (struct hub_sessions_host): tool calls, cancels, resource reads,
 * the agent a bridge resumes, what a leaving session left parked, and
 * the first lines that open no session. It includes no header of the
 * hub's other files but hub_control.h (the answers to refused lines). */
#ifndef COORDHUB_APP_HUB_SESSION_H
#define COORDHUB_APP_HUB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/map.h"
#include "rpc/control.h"

struct event;
struct event_base;
struct hub_control;
struct hub_pending_conn;
struct keys_key;
struct lineconn;
struct listener;
struct mcp_http_session;
struct mcp_session;
struct metrics_hub;
struct options;
struct roots;
struct workspace;

#define HUB_MAX_LINE (1024 * 1024)     /* docs/security.md, "Input limits" */
#define HUB_MAX_OUT (16 * 1024 * 1024) /* per-session output backlog */
#define HUB_MAX_SESSIONS 4096          /* docs/configuration.md, limits */
/* The Unix socket and the descriptor budget (docs/operations.md,
 * "Descriptors"): its session cap (fitted to the descriptor limit at
 * start, hub_fit_caps), of which a few slots only the admin token may
 * take, connections waiting for their first line and how long they may
 * wait. */
#define HUB_SOCKET_ADMIN_RESERVE 4 /* at most; a quarter of a small cap */
#define HUB_SOCKET_MAX_PENDING 256
#define HUB_SOCKET_SESSION_FDS 3 /* an attached session: socket, IDE stdin, stdout */
#define HUB_FIRST_LINE_MS 10000

struct hub_session;

/* How a session's calls name their agent — a property of who is on the
 * other end, not of the transport. */
enum hub_identity {
    HUB_AS_AGENT, /* its own agent, registered on first use or resumed */
    HUB_AS_NONE,  /* never an agent itself (the CLI, one-shot calls, REST) */
    /* Never an agent itself, and each call's agent is the agentId it
     * names (REST keys below `admin`), so the core's ownership rules
     * apply to it. */
    HUB_AS_NAMED,
};

/* A kind of session: one per transport, with its delivery ops. */
struct hub_session_kind {
    const char *name; /* for the log */
    /* Write an MCP message (a JSON-RPC line, no newline) to the client.
     * NULL for kinds without an MCP engine. */
    void (*send)(struct hub_session *s, const char *msg, size_t len);
    /* Deliver the answer of call_id (takes result). NULL: through the
     * session's MCP engine (hub_session_answer_mcp). */
    void (*answer)(struct hub_session *s, uint64_t call_id, cJSON *result, bool is_error);
    /* Tell the bridge m on the session's control channel; NULL: the
     * kind has none. */
    void (*control)(struct hub_session *s, const struct control_msg *m);
    /* The session is closing (before it is freed): the kind lets go of
     * its transport (a bridge told "bye"). NULL: nothing to do. */
    void (*closing)(struct hub_session *s);
    /* Free the kind's transport state (with the session). */
    void (*free)(struct hub_session *s);
    /* The MCP client is asked for its roots once initialized (socket
     * kinds: an HTTP client's roots name directories of its machine). */
    bool asks_roots;
    /* Counted against the Unix socket's session cap. */
    bool socket;
    /* What a session of a kind without an MCP engine calls its client
     * (the "ide" of an agent it registers); NULL: "agent". Sessions with
     * one use their clientInfo.name. */
    const char *client;
};

struct hub_session {
    uint64_t id;    /* 0: closing, unreachable by hub_session_find */
    char idkey[24]; /* the map's key: id in decimal */
    char sid[40];   /* session id string given to the core */
    const struct hub_session_kind *kind;
    struct hub_sessions *part;
    struct mcp_session *mcp; /* NULL for kinds without an MCP engine */
    /* The kind's transport: lineconn kinds (socket, attached, one-shot)
     * use conn, attached sessions ctl too (the bridge's control channel),
     * an HTTP MCP session http; owner is the kind's own state (the REST
     * face's calls). Only the kind's ops touch them. */
    struct lineconn *conn;
    struct lineconn *ctl;
    struct mcp_http_session *http;
    void *owner;
    /* Properties of the caller. */
    enum hub_identity identity;
    bool admin;       /* the workspace owner (the admin token) */
    char *agent_id;   /* owned: registered agent, NULL before */
    char *agent_hint; /* owned: --agent from the bridge */
    /* The API key that opened this HTTP session (its rights limit the
     * session's calls, hub_keys.c), or NULL: the admin token / a socket. */
    const struct keys_key *key;
    /* Where this session's relative paths resolve (roots.h): its client's
     * MCP roots, else the bridge's working directory; NULL: none, paths
     * are workspace-relative. Owned. */
    struct roots *roots;
    char *cwd;                 /* owned: the bridge's working directory, or NULL */
    struct event *roots_timer; /* owned: gives up on an unanswered roots/list */
    bool input_closed;         /* EOF seen; close once replies are flushed */
    bool listed;               /* on part->list (counted) */
    int inflight;              /* tool calls not yet answered */
    struct hub_session *next;  /* on part->list */
};

/* What the sessions part asks of the hub (given at hub_sessions_init). */
struct hub_sessions_host {
    /* A tool call of s came (call_id 0: internal, not answered). */
    void (*tool_call)(void *arg, struct hub_session *s, uint64_t call_id, const char *name,
                      const cJSON *args);
    /* The client cancelled call_id: true when a parked call was dropped. */
    bool (*tool_cancel)(void *arg, struct hub_session *s, uint64_t call_id);
    /* resources/read (caller frees). */
    cJSON *(*resource_read)(void *arg, const char *uri);
    /* A bridge re-attached with the agent its session had. */
    void (*agent_resume)(void *arg, struct hub_session *s, const char *agent_id);
    /* s's peer left: what it left parked (queued lock requests, waits)
     * cannot be answered and is dropped. */
    void (*left)(void *arg, struct hub_session *s);
    /* s closes: as left, and its agent is detached. */
    void (*closed)(void *arg, struct hub_session *s);
    /* The number of sessions changed (--idle-exit). */
    void (*count_changed)(void *arg, size_t count);
    /* A first line that opens no session (a key or stop request, a
     * one-shot call; admin: it carried the admin token, checked): fd is
     * taken. */
    void (*request)(void *arg, int fd, const struct control_msg *ctl, bool admin);
};

struct hub_sessions {
    struct event_base *base;
    const struct options *opt;
    const char *hub_id; /* the prefix of every sid */
    const struct hub_sessions_host *host;
    void *host_arg;
    struct hub_control *control; /* answers to the lines refused at the door */
    struct metrics_hub *metrics; /* the socket's refused and dropped counts */
    const bool *stopping;        /* the hub is stopping: no new session */
    const bool *stop_requested;  /* ... because its owner asked */
    struct map by_id;            /* idkey -> session, every session */
    struct hub_session *list;    /* MCP and one-shot sessions */
    size_t count;                /* on list */
    uint64_t next_id;
    char *sock_path;           /* owned */
    struct listener *listener; /* hub.sock */
    /* Socket connections accepted whose first line has not been read,
     * oldest first; each counts until it is read, dropped at its
     * deadline, or dropped as the oldest when npending reaches
     * sock_max_pending. */
    struct hub_pending_conn *pending_head, *pending_tail;
    size_t npending;
    size_t nsock;             /* sessions counted against the socket's cap */
    size_t sock_max_sessions; /* fitted cap; admin_reserve of it for the admin token */
    size_t sock_admin_reserve;
    size_t sock_max_pending;
    int64_t first_line_ms;
    /* Rate-limited warnings of the socket: refusals at the cap, pending
     * connections dropped (one line per interval with a count). */
    int64_t refused_logged_ns, dropped_logged_ns;
    uint64_t refused_unlogged, dropped_unlogged;
};

/* Set up an empty table (the caps at their defaults; hub_fit_caps fits
 * them). Borrowed: everything given, for the part's life. */
void hub_sessions_init(struct hub_sessions *p, struct event_base *base, const struct options *opt,
                       const char *hub_id, const struct hub_sessions_host *host, void *host_arg);
/* Listen on <state-dir>/hub.sock. 0, or -errno (said on stderr). */
int hub_sessions_listen(struct hub_sessions *p);
/* Close every session and pending connection, stop listening, remove
 * the socket, free the table. */
void hub_sessions_fini(struct hub_sessions *p);

struct hub_session *hub_session_find(const struct hub_sessions *p, uint64_t id);
/* A new session of kind in the table, with an MCP engine when the kind
 * sends MCP messages; on the list (counted) when listed (not the REST
 * face's); id 0: the next one (an id of its own must be outside their
 * range). No transport yet. */
struct hub_session *hub_session_new(struct hub_sessions *p, const struct hub_session_kind *kind,
                                    enum hub_identity identity, bool listed, uint64_t id);
/* Unlisted sessions are freed by their owner: out of the map, then freed. */
void hub_session_free(struct hub_session *s);
void hub_session_close(struct hub_session *s);
/* Close s in the next loop turn (from inside its own handlers). */
void hub_session_close_later(struct hub_session *s);
/* Close s once its input ended and its calls were answered. */
void hub_session_maybe_finish(struct hub_session *s);
/* The peer of s went away: drop what it left parked, close when done. */
void hub_session_peer_left(struct hub_session *s);
/* Deliver the answer of call_id through s's kind (takes result). */
void hub_session_answer(struct hub_session *s, uint64_t call_id, cJSON *result, bool is_error);
/* Send m on the session's bridge control channel, if it has one. */
void hub_session_send_ctl(struct hub_session *s, const struct control_msg *m);
/* Tell the bridge the session's initialize params and agent ("session"). */
void hub_session_announce(struct hub_session *s);
/* Fan a committed event out to the sessions that hear it. */
void hub_sessions_event(struct hub_sessions *p, const struct event *ev, const char *text);
/* A committed agent:removed: sessions whose agent it was lose it (told
 * by a warning log message) and register again on their next call. */
void hub_sessions_agent_removed(struct hub_sessions *p, const struct event *ev);
/* A workspace rebuilt from the store (a load, the outage replica): every
 * agent counts as detached since now, then the live sessions take theirs
 * back, so the others get the grace period to return. */
void hub_sessions_reattach(const struct hub_sessions *p, struct workspace *ws, int64_t now);

#endif
