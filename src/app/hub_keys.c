/* hub_keys — the hub's API keys: the store's life, the admin requests
 * that change it, and what a key's rights allow its /mcp sessions.
 *
 * Admin requests. `coordhub key create|list|revoke` reach the hub as a
 * control request: the first line of a fresh socket connection is
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
    const char *refusal = hub_control_refusal(h, req);
    cJSON *reply;
    if (refusal)
        reply = hub_keys_fail("unauthorized", refusal);
    else if (strcmp(op, "create") == 0)
        reply = hub_keys_create(h, req);
    else if (strcmp(op, "list") == 0)
        reply = hub_keys_list(h);
    else if (strcmp(op, "revoke") == 0)
        reply = hub_keys_revoke(h, req);
    else
        reply = hub_keys_fail("invalid_argument", "op: must be create, list or revoke");
    if (refusal)
        log_warn("key request on the socket refused: %s", refusal);
    hub_control_send_json(h, fd, reply);
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
