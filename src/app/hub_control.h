/* hub_control — the control part of the hub (docs/architecture.md, "The
 * parts of the hub"): who may make the socket's control requests (the
 * admin token's digest) and the one-line answers still going out to
 * control peers. Below the sessions part, which answers the lines it
 * refuses at the door through it; it calls nothing of the hub's. */
#ifndef COORDHUB_APP_HUB_CONTROL_H
#define COORDHUB_APP_HUB_CONTROL_H

#include <stdbool.h>

#include "auth/token.h"
#include "rpc/control.h"

struct event_base;
struct hub_control_reply;
struct options;

struct hub_control {
    struct event_base *base;
    struct hub_control_reply *replies; /* answers still going out */
    /* SHA-256 of <state-dir>/token: what an admin control line must
     * present; admin_token_set false when it could not be read (every
     * admin request is then refused). */
    struct token_digest admin_token;
    bool admin_token_set;
};

/* Read <state-dir>/token into c->admin_token. 0, or an error (logged):
 * admin requests are then refused. */
int hub_control_load_token(struct hub_control *c, const struct options *opt);
/* Why the control line ctl may not act as the workspace owner (a static
 * string), or NULL when its "token" is the admin token. */
const char *hub_control_refusal(const struct hub_control *c, const struct control_msg *ctl);
/* Answer a control request on fd (taken) with the line text, then close
 * the connection once the peer took it (or HUB_CONTROL_REPLY_MS passed). */
void hub_control_send(struct hub_control *c, int fd, const char *text);
/* The same with the line of m (rpc/control.h); the text is wiped after. */
void hub_control_send_msg(struct hub_control *c, int fd, const struct control_msg *m);
/* Answer {"coordhub":kind,"ok":false,"code":"unauthorized","error":why}
 * on fd (taken). */
void hub_control_refuse(struct hub_control *c, int fd, enum control_kind kind, const char *why);
/* Answer a control line that did not parse (ctl and e from
 * control_parse_request) on fd (taken): unauthorized when it is the
 * owner's kind without the admin token, else e's code and message. */
void hub_control_invalid(struct hub_control *c, int fd, const struct control_msg *ctl,
                         const struct control_error *e);
/* A stop request (`coordhub stop`) on fd (taken): with the admin token,
 * answer {"coordhub":"stop","ok":true,"pid":…} and return true (the
 * caller then leaves the loop and stops as on SIGTERM, telling bridges
 * "stopping"); refused otherwise (false). */
bool hub_control_stop(struct hub_control *c, int fd, const struct control_msg *ctl);
/* Send what the peers take now of the answers still going out, then drop
 * them (teardown). */
void hub_control_fini(struct hub_control *c);

#endif
