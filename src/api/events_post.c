/* events_post — POST /events: publish one event or an array of them
 * (docs/http-api.md, "POST /events").
 *
 * Body: `{type, data}` or `[{type, data}, …]` (at most
 * EVENTS_POST_MAX_BATCH). Every item is checked first with the core's
 * own rule (workspace_publish_check: `<ns>:<name>`, not in a reserved
 * namespace, data an object within its cap), so a batch is all or
 * nothing: one bad item refuses the whole body with 400 naming the item
 * and the argument, and nothing is published. Then each item is one
 * publish_event call through the hub, the same path as the MCP tool; the
 * calls of one request run in one loop turn, so they join one group
 * commit (one store append: they are recorded together or not at all).
 * An API key may publish only the types its canPublish patterns match:
 * after the checks above, one type outside them refuses the whole body
 * with 403. (The signature, when there is one, was checked by api.c on
 * the raw bytes before this runs.)
 * The answer, 201 {ids:[…]} in the order of the body, is sent when the
 * last call is answered, i.e. after the commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "api/rest.h"
#include "auth/keys.h"
#include "base/json.h"
#include "base/str.h"
#include "core/event.h"
#include "core/workspace.h"
#include "net/http.h"
#include "rpc/tools.h"

#define EVENTS_POST_MAX_BATCH 100

static void events_post_done(void *arg, cJSON *result, bool is_error)
{
    struct rest_req *rr = arg;
    struct rest_batch *b = rest_req_batch(rr);
    b->got++;
    if (is_error && !b->error) {
        b->error = result;
        b->error_is_tool = true;
    } else if (!is_error && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(result, "id"))) {
        cJSON_AddItemToArray(b->ids, cJSON_CreateString(json_get_str(result, "id", "")));
        cJSON_Delete(result);
    } else {
        cJSON_Delete(result);
    }
    if (b->got < b->want)
        return;
    if (b->error) {
        const char *code;
        int status = rest_error_status(b->error, &code);
        char *msg = str_printf("%s", json_get_str(b->error, "error", "publishing failed"));
        rest_req_fail(rr, status, code, msg);
        free(msg);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "ids", b->ids);
    b->ids = NULL;
    rest_req_finish(rr, 201, o);
}

/* An item's problem as a message naming where it is; NULL if it is fine.
 * *reserved is set when the problem is a type of the hub's own. */
static char *events_post_check(const cJSON *item, int index, bool *reserved)
{
    char where[32] = "";
    if (index >= 0)
        snprintf(where, sizeof(where), "event [%d]: ", index);
    if (!cJSON_IsObject(item))
        return str_printf("%san event must be an object {type, data}", where);
    const cJSON *f;
    cJSON_ArrayForEach(f, item)
    {
        if (strcmp(f->string, "type") != 0 && strcmp(f->string, "data") != 0)
            return str_printf("%sfield '%s': not accepted (an event is {type, data})", where,
                              f->string);
    }
    char *msg = NULL;
    if (workspace_publish_check(item, &msg) != 0) {
        const char *type = json_get_str(item, "type", NULL);
        *reserved = type && event_type_reserved(type);
        char *m = str_printf("%s%s", where, msg ? msg : "invalid event");
        free(msg);
        return m;
    }
    return NULL;
}

/* The first event key may not publish, as a message; NULL if all may go. */
static char *events_post_forbidden(const cJSON *body, bool batch, int n, const struct keys_key *key)
{
    for (int i = 0; key && i < n; i++) {
        const char *type = json_get_str(batch ? cJSON_GetArrayItem(body, i) : body, "type", "");
        if (!keys_key_may_publish(key, type)) {
            char where[32] = "";
            if (batch)
                snprintf(where, sizeof(where), "event [%d]: ", i);
            return str_printf("%stype '%s' is outside this API key's canPublish patterns; "
                              "nothing was published",
                              where, type);
        }
    }
    return NULL;
}

void rest_handle_events_post(struct rest *r, struct http_request *req, const struct keys_key *key,
                             const char *signature)
{
    cJSON *body;
    if (rest_read_body(req, &body) != 0)
        return;
    if (!body) {
        http_reply_error(req, 400, "invalid_argument",
                         "the body must be an event {type, data} or an array of them");
        return;
    }
    bool batch = cJSON_IsArray(body);
    int n = batch ? cJSON_GetArraySize(body) : 1;
    char *msg = NULL;
    bool reserved = false;
    if (batch && (n < 1 || n > EVENTS_POST_MAX_BATCH)) {
        msg = str_printf("the array must hold 1 to %d events (it holds %d)", EVENTS_POST_MAX_BATCH,
                         n);
    } else if (batch) {
        for (int i = 0; i < n && !msg; i++)
            msg = events_post_check(cJSON_GetArrayItem(body, i), i, &reserved);
    } else {
        msg = events_post_check(body, -1, &reserved);
    }
    if (reserved)
        rest_events_reserved_note(r);
    if (msg) {
        http_reply_error(req, 400, "invalid_argument", msg);
        free(msg);
        cJSON_Delete(body);
        return;
    }
    if ((msg = events_post_forbidden(body, batch, n, key)) != NULL) {
        http_reply_error(req, 403, "forbidden", msg);
        free(msg);
        cJSON_Delete(body);
        return;
    }
    struct rest_req *rr = rest_req_new(r, req, key, signature);
    struct rest_batch *b = rest_req_batch(rr);
    b->want = (size_t)n;
    b->ids = cJSON_CreateArray();
    /* The last answer may come synchronously and free rr: take every item
     * out of body before the first call. */
    cJSON *items[EVENTS_POST_MAX_BATCH];
    for (int i = 0; i < n; i++)
        items[i] = batch ? cJSON_DetachItemFromArray(body, 0) : body;
    for (int i = 0; i < n; i++)
        rest_req_call(rr, TOOL_PUBLISH_EVENT, items[i], events_post_done);
    if (batch)
        cJSON_Delete(body);
}
