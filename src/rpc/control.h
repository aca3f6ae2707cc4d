/* control — the control lines of the hub's Unix socket, parsed and built
 * in this one place (docs/socket-protocol.md). Pure: no I/O, no clock.
 *
 * A control line is one line of JSON whose first member is "coordhub",
 * naming its kind. A client's first line on hub.sock may be one (a
 * request): attach, resume, admin, key, stop or call; the hub sends the bridge
 * attached, session, bye, stopping or refused on the control channel, and
 * answers key and stop requests, and every request it refuses, with an
 * answer line {"coordhub":KIND,"ok":…}.
 *
 * Invariants:
 *   - every line is parsed with the project's strict JSON parse (UTF-8,
 *     no U+0000, no duplicate key, depth JSON_MAX_DEPTH) and bounded:
 *     requests by CONTROL_REQUEST_MAX, everything else by
 *     CONTROL_REPLY_MAX;
 *   - a parsed message's strings point into the parsed text it owns
 *     (control_msg_free releases both); a message to build points at the
 *     caller's data, which control_build copies;
 *   - members a kind does not define are ignored (a newer bridge may talk
 *     to an older hub); a defined member of the wrong type is refused;
 *   - the admin token is never judged here, only carried: whether it is
 *     right is the hub's question, and a missing or ill-typed token is
 *     an authorization refusal, not a syntax one. Built lines and parsed
 *     messages holding a token are wiped before they are freed. */
#ifndef COORDHUB_RPC_CONTROL_H
#define COORDHUB_RPC_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Bytes of a request line, newline included: the hub reads a first line
 * in one read of this size. */
#define CONTROL_REQUEST_MAX 65536
/* Bytes of any other control line (a session line carries the client's
 * initialize params, a key list every key). */
#define CONTROL_REPLY_MAX (4u << 20)

enum control_kind {
    CONTROL_NONE = 0,
    /* Requests: a client's first line. */
    CONTROL_ATTACH, /* the bridge, with its stdin and stdout as SCM_RIGHTS */
    CONTROL_RESUME, /* the bridge relaying bytes; MCP follows on the socket */
    CONTROL_ADMIN,  /* the CLI: an admin MCP session follows */
    CONTROL_KEY,    /* `coordhub key`: one request, one answer */
    CONTROL_STOP,   /* `coordhub stop`: one request, one answer */
    CONTROL_CALL,   /* a one-shot tool call: one request, one answer */
    /* The hub to an attached bridge. */
    CONTROL_ATTACHED, /* the descriptors were taken */
    CONTROL_SESSION,  /* what the bridge needs to re-attach */
    CONTROL_BYE,      /* the client closed stdin: the session ended */
    CONTROL_STOPPING, /* the owner stopped the hub: do not start it again */
    CONTROL_REFUSED,  /* the descriptors did not arrive: relay instead */
    /* The hub's answer to a request (answer.of says which). */
    CONTROL_ANSWER,
};

/* attach, resume: what the bridge knows of its session. */
struct control_attach {
    const char *cwd;      /* absolute directory the bridge runs in, or NULL */
    const char *agent;    /* the bridge's --agent, or NULL */
    const char *agent_id; /* the agent a previous hub gave the session, or NULL */
    const cJSON *init;    /* the client's initialize params (an object), or NULL */
};

enum control_key_op {
    CONTROL_KEY_NONE = 0,
    CONTROL_KEY_CREATE,
    CONTROL_KEY_LIST,
    CONTROL_KEY_REVOKE
};

/* key: one API-key request. Strings are NULL when absent (or null). */
struct control_key {
    enum control_key_op op;
    const char *name, *publish, *subscribe, *state; /* create */
    bool has_rate, has_burst, require_signature;    /* create */
    double rate;                                    /* create, with has_rate */
    int64_t burst;                                  /* create, with has_burst */
    const char *id;                                 /* revoke: required */
};

/* call: one tool call without an MCP session. */
struct control_call {
    const char *tool;       /* required */
    const cJSON *arguments; /* an object, or NULL for {} */
};

/* session: the session's initialize params and agent, once known. */
struct control_session {
    const cJSON *init;    /* or NULL */
    const char *agent_id; /* or NULL */
};

/* refused: why the hub would not take the descriptors. */
struct control_refused {
    const char *error; /* or NULL */
};

/* An answer to a request. ok: result (key) or pid (stop); not ok: code
 * ("unauthorized", or an err_name() such as "invalid_argument") and
 * error, the reason in words. */
struct control_answer {
    enum control_kind of; /* the kind answered; CONTROL_NONE: a line of no known kind */
    bool ok;
    const cJSON *result; /* or NULL */
    int64_t pid;         /* 0 when absent */
    const char *code;    /* not ok */
    const char *error;   /* not ok */
};

struct control_msg {
    enum control_kind kind;
    /* admin, key, stop, call: the admin token (optional for call).
     * token_given: the member is there (token is NULL when it is not a
     * string). */
    const char *token;
    bool token_given;
    union {
        struct control_attach attach;   /* ATTACH, RESUME */
        struct control_key key;         /* KEY */
        struct control_call call;       /* CALL */
        struct control_session session; /* SESSION */
        struct control_refused refused; /* REFUSED */
        struct control_answer answer;   /* ANSWER */
    } u;
    cJSON *root; /* a parsed message's text (owned); NULL when built */
};

/* Why a line was refused: err is -ERR_PARSE (not JSON, bad UTF-8),
 * -ERR_TOO_LARGE (over the bound, too deep) or -ERR_INVALID (U+0000, a
 * duplicate key, no or an unknown kind, a missing or ill-typed member);
 * message says what and where, e.g. "cwd: must be an absolute path". */
struct control_error {
    int err;
    char message[192];
};

/* Does the line (n bytes, without its newline) start as a control line:
 * '{', then "coordhub" as its first member (JSON whitespace allowed)?
 * Anything else on a connection's first line is an MCP message. */
bool control_is_line(const char *p, size_t n);

/* Parse a request line (without its newline) into *out. 0, or a negative
 * error with *e filled and *out cleared except, once the kind is known,
 * kind and, for admin, key, stop and call, token and token_given (so an
 * unauthenticated request can be refused as such before its members are
 * judged). Either way the caller ends with control_msg_free(out). */
int control_parse_request(const char *p, size_t n, struct control_msg *out,
                          struct control_error *e);

/* Parse a line the hub sends (without its newline) into *out: attached,
 * session, bye, stopping, refused, or an answer (a line with "ok"). 0 or
 * a negative error with *e filled and *out cleared; the caller ends with
 * control_msg_free(out) either way. */
int control_parse_reply(const char *p, size_t n, struct control_msg *out, struct control_error *e);

/* Release a parsed message (wiping its token); a built one is left. */
void control_msg_free(struct control_msg *m);

/* One line, newline included, for m (caller frees; wipe it first when m
 * has a token: control_line_free). NULL for a kind that has no line. */
char *control_build(const struct control_msg *m);

/* Wipe and free a line control_build made. */
void control_line_free(char *line);

/* The kind's name on the wire ("attach"), or NULL for CONTROL_NONE and
 * CONTROL_ANSWER. */
const char *control_kind_name(enum control_kind k);

/* Helpers for the hub's answers (the message points at the arguments). */
struct control_msg control_answer_ok(enum control_kind of, const cJSON *result);
struct control_msg control_answer_fail(enum control_kind of, const char *code, const char *error);

#endif
