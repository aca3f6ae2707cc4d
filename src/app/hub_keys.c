/* hub_keys — the hub's API keys: the store's life, the admin requests
 * that change it, and what a key's rights allow its /mcp sessions.
 *
 * Admin requests. `coordhub key create|list|revoke` reach the hub as a
 * control request: the first line of a fresh socket connection is
 * {"coordhub":"key","op":…} and the hub answers one line
 * {"coordhub":"key","ok":true,"result":…} or {…,"ok":false,"code",
 * "error"} and closes the connection. A control request is not an MCP
 * session: no MCP message, no tool and no HTTP route reaches this code,
 * so an agent session (socket or HTTP) cannot create or revoke keys; only
 * a peer of the 0600 socket in the 0700 state dir can — the workspace
 * owner, who is trusted with the socket already (DESIGN §5). The answer
 * goes out through a lineconn, never blocking the loop: the connection
 * closes once the peer has taken it, when the peer goes away, or after
 * HUB_KEYS_REPLY_MS (a peer that does not read loses its answer).
 *
 * A revocation takes effect at once: the store refuses the key from then
 * on (401), and the HTTP face closes the event streams and /mcp sessions
 * the key opened (api_key_revoked).
 *
 * /mcp sessions opened with a key (hub_session.key) call tools within the
 * key's rights: `read` only tools annotated readOnlyHint; publish_event
 * only types in canPublish; wait_for_events (and the event notifications
 * and coord://events/recent) only events in canSubscribe. `write` and
 * `admin` call every tool as the session's own agent, like any HTTP MCP
 * session (never admin: no forced unlock, no acting for another agent). */
#define _GNU_SOURCE
#include <event2/event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "app/hub_internal.h"
#include "app/options.h"
#include "auth/keys.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "net/lineconn.h"
#include "rpc/tools.h"

#define HUB_KEYS_REPLY_MS 2000 /* a control peer must take its answer by then */
#define HUB_KEYS_LINE_MAX 4096 /* input after the request is read and dropped */

int hub_keys_open(struct hub *h)
{
    char *path = options_state_path(h->opt, "keys.json");
    h->keys = keys_new(path);
    free(path);
    char *errmsg = NULL;
    int rc = keys_load(h->keys, &errmsg);
    if (rc) {
        fprintf(stderr, "coordhub: API keys: %s (fix or remove the file)\n", errmsg);
        log_error("API keys: %s", errmsg);
        free(errmsg);
        return rc;
    }
    if (keys_count(h->keys) > 0)
        log_info("API keys: %zu loaded", keys_count(h->keys));
    return 0;
}

/* An answer on its way to a control peer (h->key_replies). */
struct hub_key_reply {
    struct hub *hub;
    struct lineconn *conn; /* owns the socket */
    struct event *timer;   /* HUB_KEYS_REPLY_MS after the answer was queued */
    struct hub_key_reply *prev, *next;
};

static void hub_key_reply_free(struct hub_key_reply *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        r->hub->key_replies = r->next;
    if (r->next)
        r->next->prev = r->prev;
    lineconn_free(r->conn); /* deferred when called from its callback */
    event_free(r->timer);
    free(r);
}

void hub_keys_close(struct hub *h)
{
    while (h->key_replies)
        hub_key_reply_free(h->key_replies);
    keys_free(h->keys);
    h->keys = NULL;
}

/* ---- control requests ---------------------------------------------------- */

static void hub_key_reply_line(void *arg, const char *line, size_t len)
{
    (void)arg; /* one request per connection: more input is ignored */
    (void)line;
    (void)len;
}

static void hub_key_reply_oversize(void *arg)
{
    (void)arg;
}

/* The peer went away (or shut its side: then wait for the answer to
 * drain, as the drained callback frees). */
static void hub_key_reply_closed(void *arg, int err)
{
    struct hub_key_reply *r = arg;
    if (err || lineconn_backlog(r->conn) == 0)
        hub_key_reply_free(r);
}

static void hub_key_reply_drained(void *arg)
{
    hub_key_reply_free(arg);
}

static void hub_key_reply_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    log_warn("key request: the peer did not take the answer within %d ms", HUB_KEYS_REPLY_MS);
    hub_key_reply_free(arg);
}

static const struct lineconn_cbs hub_key_reply_cbs = {
    .line = hub_key_reply_line,
    .oversize = hub_key_reply_oversize,
    .closed = hub_key_reply_closed,
};

/* Send text and a newline to the control peer on fd (taken) without
 * blocking; the connection closes once it is taken or HUB_KEYS_REPLY_MS
 * passed. */
static void hub_keys_send(struct hub *h, int fd, const char *text)
{
    size_t len = strlen(text);
    struct hub_key_reply *r = xcalloc(1, sizeof(*r));
    r->hub = h;
    r->conn = lineconn_new(h->base, fd, fd, HUB_KEYS_LINE_MAX, len + 1, &hub_key_reply_cbs, r);
    r->timer = evtimer_new(h->base, hub_key_reply_timeout, r);
    r->next = h->key_replies;
    if (r->next)
        r->next->prev = r;
    h->key_replies = r;
    if (lineconn_send(r->conn, text, len) != 0) {
        log_warn("key request: cannot queue the answer");
        hub_key_reply_free(r);
        return;
    }
    struct timeval tv = {HUB_KEYS_REPLY_MS / 1000, (HUB_KEYS_REPLY_MS % 1000) * 1000};
    evtimer_add(r->timer, &tv);
    lineconn_on_drained(r->conn, hub_key_reply_drained);
}

static cJSON *hub_keys_fail(const char *code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "coordhub", "key");
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddStringToObject(o, "code", code);
    cJSON_AddStringToObject(o, "error", msg);
    return o;
}

static cJSON *hub_keys_ok(cJSON *result)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "coordhub", "key");
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddItemToObject(o, "result", result);
    return o;
}

/* A field that must be a string when present; *out NULL when absent. */
static bool hub_keys_str(const cJSON *req, const char *name, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v))
        return false;
    *out = v->valuestring;
    return true;
}

static cJSON *hub_keys_create(struct hub *h, const cJSON *req)
{
    struct keys_spec spec;
    memset(&spec, 0, sizeof(spec));
    const char *state = NULL;
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(req, "rate");
    const cJSON *burst = cJSON_GetObjectItemCaseSensitive(req, "burst");
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(req, "requireSignature");
    if (!hub_keys_str(req, "name", &spec.name))
        return hub_keys_fail("invalid_argument", "name: must be a string");
    if (!hub_keys_str(req, "publish", &spec.publish))
        return hub_keys_fail("invalid_argument", "publish: must be a string of patterns");
    if (!hub_keys_str(req, "subscribe", &spec.subscribe))
        return hub_keys_fail("invalid_argument", "subscribe: must be a string of patterns");
    if (!hub_keys_str(req, "state", &state))
        return hub_keys_fail("invalid_argument", "state: must be a string");
    if (state && keys_access_parse(state, &spec.access) != 0)
        return hub_keys_fail("invalid_argument", "state: must be none, read, write or admin");
    if (sig && !cJSON_IsBool(sig))
        return hub_keys_fail("invalid_argument", "requireSignature: must be true or false");
    spec.require_signature = cJSON_IsTrue(sig);
    if (rate && (!cJSON_IsNumber(rate) || !isfinite(rate->valuedouble) ||
                 rate->valuedouble < KEYS_RATE_MIN || rate->valuedouble > KEYS_RATE_MAX))
        return hub_keys_fail("invalid_argument",
                             "rate: must be a number from 0.01 to 100000 (requests per second)");
    if (burst && !json_is_int_in(burst, 1, KEYS_BURST_MAX))
        return hub_keys_fail("invalid_argument", "burst: must be an integer 1..100000");
    spec.rate = rate ? rate->valuedouble : 0;
    spec.burst = burst ? (uint32_t)burst->valuedouble : 0;
    char *text = NULL, *errmsg = NULL;
    const struct keys_key *k = NULL;
    int rc = keys_create(h->keys, &spec, clock_wall_ms(), &text, &k, &errmsg);
    if (rc) {
        cJSON *f = hub_keys_fail(err_name(rc), errmsg ? errmsg : coordhub_strerror(rc));
        free(errmsg);
        return f;
    }
    log_info("API key %s created (name '%s', state %s)", k->id, k->name,
             keys_access_name(k->access));
    cJSON *r = keys_key_json(k);
    cJSON_AddStringToObject(r, "key", text);
    token_cleanse(text, strlen(text));
    free(text);
    return hub_keys_ok(r);
}

static cJSON *hub_keys_list(struct hub *h)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(r, "keys");
    for (size_t i = 0; i < keys_count(h->keys); i++)
        cJSON_AddItemToArray(arr, keys_key_json(keys_at(h->keys, i)));
    return hub_keys_ok(r);
}

static cJSON *hub_keys_revoke(struct hub *h, const cJSON *req)
{
    const char *id = NULL;
    if (!hub_keys_str(req, "id", &id) || !id)
        return hub_keys_fail("invalid_argument",
                             "id: required (a key id, see `coordhub key list`)");
    const struct keys_key *k = NULL;
    char *errmsg = NULL;
    int rc = keys_revoke(h->keys, id, clock_wall_ms(), &k, &errmsg);
    if (rc) {
        cJSON *f = hub_keys_fail(err_name(rc), errmsg ? errmsg : coordhub_strerror(rc));
        free(errmsg);
        return f;
    }
    log_info("API key %s revoked", k->id);
    api_key_revoked(h->api, k);
    return hub_keys_ok(keys_key_json(k));
}

void hub_keys_control(struct hub *h, int fd, const cJSON *req)
{
    const char *op = json_get_str(req, "op", "");
    cJSON *reply;
    if (strcmp(op, "create") == 0)
        reply = hub_keys_create(h, req);
    else if (strcmp(op, "list") == 0)
        reply = hub_keys_list(h);
    else if (strcmp(op, "revoke") == 0)
        reply = hub_keys_revoke(h, req);
    else
        reply = hub_keys_fail("invalid_argument", "op: must be create, list or revoke");
    char *text = json_print(reply);
    cJSON_Delete(reply);
    hub_keys_send(h, fd, text);
    token_cleanse(text, strlen(text)); /* a create answer holds the key */
    free(text);
}

/* ---- rights of keyed /mcp sessions --------------------------------------- */

char *hub_keys_tool_refusal(const struct hub_session *s, const char *name, const cJSON *args)
{
    const struct keys_key *k = s->key;
    if (!k)
        return NULL;
    const struct tool_def *t = tools_find(name);
    return keys_key_tool_refusal(k, name, t && t->read_only, json_get_str(args, "type", ""));
}
