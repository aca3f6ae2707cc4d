/* hub_keys — the hub's API keys: the store's life, the admin requests
 * that change it, and what a key's rights allow its /mcp sessions.
 *
 * Admin requests. `coordhub key create|list|revoke` reach the hub as a
 * control request (rpc/control.h parses it and builds the answer): the
 * first line of a fresh socket connection is
 * {"coordhub":"key","op":…} and the hub answers one line
 * {"coordhub":"key","ok":true,"result":…} or {…,"ok":false,"code",
 * "error"} and closes the connection (hub_control.c sends it). A control
 * request is not an MCP session: no MCP message, no tool and no HTTP route
 * reaches this code, so an agent session (socket or HTTP) cannot create or
 * revoke keys; a request must carry the workspace's admin token ("token",
 * the text of <state-dir>/token, which `coordhub key` sends), else it is
 * answered {"ok":false,"code":"unauthorized"} and changes nothing.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "app/hub_keys.h"
#include "app/options.h"
#include "auth/keys.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "rpc/tools.h"

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

void hub_keys_close(struct hub *h)
{
    keys_free(h->keys);
    h->keys = NULL;
}

/* ---- control requests ---------------------------------------------------- */

/* The answer line of a key request (rpc/control.h builds it). */
static void hub_keys_fail(struct hub *h, int fd, const char *code, const char *msg)
{
    struct control_msg m = control_answer_fail(CONTROL_KEY, code, msg);
    hub_control_send_msg(&h->control, fd, &m);
}

/* Answer result (taken). A create's result holds the new key: the line
 * is wiped once sent, and so is the key here. */
static void hub_keys_ok(struct hub *h, int fd, cJSON *result)
{
    struct control_msg m = control_answer_ok(CONTROL_KEY, result);
    hub_control_send_msg(&h->control, fd, &m);
    cJSON *secret = cJSON_GetObjectItemCaseSensitive(result, "key");
    if (cJSON_IsString(secret))
        token_cleanse(secret->valuestring, strlen(secret->valuestring));
    cJSON_Delete(result);
}

/* The members' types were checked by the parse (control_parse_request);
 * their values are judged here. */
static void hub_keys_create(struct hub *h, int fd, const struct control_key *req)
{
    struct keys_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.name = req->name;
    spec.publish = req->publish;
    spec.subscribe = req->subscribe;
    if (req->state && keys_access_parse(req->state, &spec.access) != 0) {
        hub_keys_fail(h, fd, "invalid_argument", "state: must be none, read, write or admin");
        return;
    }
    spec.require_signature = req->require_signature;
    if (req->has_rate && (req->rate < KEYS_RATE_MIN || req->rate > KEYS_RATE_MAX)) {
        hub_keys_fail(h, fd, "invalid_argument",
                      "rate: must be a number from 0.01 to 100000 (requests per second)");
        return;
    }
    if (req->has_burst && (req->burst < 1 || req->burst > KEYS_BURST_MAX)) {
        hub_keys_fail(h, fd, "invalid_argument", "burst: must be an integer 1..100000");
        return;
    }
    spec.rate = req->has_rate ? req->rate : 0;
    spec.burst = req->has_burst ? (uint32_t)req->burst : 0;
    char *text = NULL, *errmsg = NULL;
    const struct keys_key *k = NULL;
    int rc = keys_create(h->keys, &spec, clock_wall_ms(), &text, &k, &errmsg);
    if (rc) {
        hub_keys_fail(h, fd, err_name(rc), errmsg ? errmsg : coordhub_strerror(rc));
        free(errmsg);
        return;
    }
    log_info("API key %s created (name '%s', state %s)", k->id, k->name,
             keys_access_name(k->access));
    cJSON *r = keys_key_json(k);
    cJSON_AddStringToObject(r, "key", text);
    token_cleanse(text, strlen(text));
    free(text);
    hub_keys_ok(h, fd, r);
}

static void hub_keys_list(struct hub *h, int fd)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(r, "keys");
    for (size_t i = 0; i < keys_count(h->keys); i++)
        cJSON_AddItemToArray(arr, keys_key_json(keys_at(h->keys, i)));
    hub_keys_ok(h, fd, r);
}

static void hub_keys_revoke(struct hub *h, int fd, const struct control_key *req)
{
    const struct keys_key *k = NULL;
    char *errmsg = NULL;
    int rc = keys_revoke(h->keys, req->id, clock_wall_ms(), &k, &errmsg);
    if (rc) {
        hub_keys_fail(h, fd, err_name(rc), errmsg ? errmsg : coordhub_strerror(rc));
        free(errmsg);
        return;
    }
    log_info("API key %s revoked", k->id);
    api_key_revoked(h->api, k);
    hub_keys_ok(h, fd, keys_key_json(k));
}

void hub_keys_control(struct hub *h, int fd, const struct control_msg *req)
{
    const char *refusal = hub_control_refusal(&h->control, req);
    if (refusal) {
        log_warn("key request on the socket refused: %s", refusal);
        hub_keys_fail(h, fd, "unauthorized", refusal);
    } else if (req->u.key.op == CONTROL_KEY_CREATE) {
        hub_keys_create(h, fd, &req->u.key);
    } else if (req->u.key.op == CONTROL_KEY_LIST) {
        hub_keys_list(h, fd);
    } else {
        hub_keys_revoke(h, fd, &req->u.key);
    }
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
