/* foreign_msg — parsing messages other systems PUBLISH on mcp:events.
 *
 * Every item is checked in full before any event is built, so a message is
 * all or nothing. The parser keeps what the publisher said about itself
 * (source, sourceId, signature, timestamp) and assigns nothing else: the
 * seq comes from the store when the events are appended. The id a
 * publisher may put in an item is dropped (ids are the log's). */
#include "store/foreign_msg.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/xmalloc.h"

enum foreign_msg_item {
    FOREIGN_ITEM_OK,
    FOREIGN_ITEM_OWN,       /* source is the hub's */
    FOREIGN_ITEM_WORKSPACE, /* another workspace's */
    FOREIGN_ITEM_RESERVED,  /* a type of the hub's own namespaces */
    FOREIGN_ITEM_INVALID,
};

/* An optional string member: absent or a string of at most max chars. */
static bool foreign_msg_opt_str(const cJSON *item, const char *key, size_t max, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, key);
    *out = NULL;
    if (!v)
        return true;
    if (!cJSON_IsString(v) || strlen(v->valuestring) > max)
        return false;
    *out = v->valuestring;
    return true;
}

/* Check one item; on FOREIGN_ITEM_INVALID why names the field. */
static enum foreign_msg_item foreign_msg_check(const cJSON *item, const char *ws, char *why,
                                               size_t whylen)
{
    if (!cJSON_IsObject(item)) {
        snprintf(why, whylen, "an event must be a JSON object");
        return FOREIGN_ITEM_INVALID;
    }
    const char *source, *workspace, *sid, *sig;
    if (!foreign_msg_opt_str(item, "source", FOREIGN_MSG_MAX_ID, &source) || !source ||
        !source[0]) {
        snprintf(why, whylen, "source: required, a string of 1 to %d characters",
                 FOREIGN_MSG_MAX_ID);
        return FOREIGN_ITEM_INVALID;
    }
    if (strcmp(source, EVENT_SOURCE_HUB) == 0)
        return FOREIGN_ITEM_OWN;
    if (!foreign_msg_opt_str(item, "workspace", FOREIGN_MSG_MAX_ID, &workspace)) {
        snprintf(why, whylen, "workspace: a string of at most %d characters", FOREIGN_MSG_MAX_ID);
        return FOREIGN_ITEM_INVALID;
    }
    if (workspace && strcmp(workspace, ws) != 0)
        return FOREIGN_ITEM_WORKSPACE;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
    if (!cJSON_IsString(type) || !event_type_valid(type->valuestring)) {
        snprintf(why, whylen,
                 "type: required, <ns>:<name> with [a-z0-9_.-], at most 64 characters");
        return FOREIGN_ITEM_INVALID;
    }
    if (event_type_reserved(type->valuestring)) {
        snprintf(why, whylen, "type: '%s' is reserved for the hub", type->valuestring);
        return FOREIGN_ITEM_RESERVED;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(item, "data");
    if (!cJSON_IsObject(data)) {
        snprintf(why, whylen, "data: required, an object");
        return FOREIGN_ITEM_INVALID;
    }
    char *text = json_print(data);
    size_t n = strlen(text);
    free(text);
    if (n > FOREIGN_MSG_MAX_DATA) {
        snprintf(why, whylen, "data: larger than %d bytes", FOREIGN_MSG_MAX_DATA);
        return FOREIGN_ITEM_INVALID;
    }
    if (!foreign_msg_opt_str(item, "sourceId", FOREIGN_MSG_MAX_ID, &sid)) {
        snprintf(why, whylen, "sourceId: a string of at most %d characters", FOREIGN_MSG_MAX_ID);
        return FOREIGN_ITEM_INVALID;
    }
    if (!foreign_msg_opt_str(item, "signature", FOREIGN_MSG_MAX_SIGNATURE, &sig)) {
        snprintf(why, whylen, "signature: a string of at most %d characters",
                 FOREIGN_MSG_MAX_SIGNATURE);
        return FOREIGN_ITEM_INVALID;
    }
    return FOREIGN_ITEM_OK;
}

/* The publisher's timestamp if it says one we can trust to be a time,
 * else now_ms. */
static int64_t foreign_msg_time(const cJSON *item, int64_t now_ms)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, "timestamp");
    int64_t ms = 0;
    if (cJSON_IsString(t) && clock_parse_iso(t->valuestring, &ms) == 0 && ms > 0)
        return ms;
    if (cJSON_IsNumber(t) && isfinite(t->valuedouble) && t->valuedouble > 0 &&
        t->valuedouble < 9007199254740992.0)
        return (int64_t)t->valuedouble;
    return now_ms;
}

/* Build the event of a checked item. */
static void foreign_msg_event(const cJSON *item, int64_t now_ms, struct event *ev)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(item, "data");
    cJSON *copy = cJSON_Duplicate(data, 1);
    if (!copy)
        abort(); /* only fails on OOM */
    event_init(ev, cJSON_GetObjectItemCaseSensitive(item, "type")->valuestring,
               foreign_msg_time(item, now_ms), copy);
    free(ev->source);
    ev->source = xstrdup(json_get_str(item, "source", NULL));
    const char *sid = json_get_str(item, "sourceId", NULL);
    const char *sig = json_get_str(item, "signature", NULL);
    ev->source_id = sid ? xstrdup(sid) : NULL;
    ev->signature = sig ? xstrdup(sig) : NULL;
}

/* True when msg begins as event_to_text prints a hub's event:
 * {"id":"<digits>","type":"<type>","source":"agent-coordination",
 * Every hub receives every hub's publications, one per event, so these
 * are most of the channel's traffic: recognising them by this prefix
 * spares a JSON parse each (a message that goes on as invalid JSON is
 * then counted as ignored rather than invalid; either way nothing is
 * recorded). */
static bool foreign_msg_is_hub_wire(const char *msg, size_t len)
{
    static const char id[] = "{\"id\":\"", type[] = "\",\"type\":\"",
                      source[] = "\",\"source\":\"" EVENT_SOURCE_HUB "\",";
    size_t i = sizeof(id) - 1;
    if (len < i || memcmp(msg, id, i) != 0)
        return false;
    size_t start = i;
    while (i < len && msg[i] >= '0' && msg[i] <= '9')
        i++;
    if (i == start || len - i < sizeof(type) - 1 || memcmp(msg + i, type, sizeof(type) - 1) != 0)
        return false;
    i += sizeof(type) - 1;
    start = i;
    while (i < len && msg[i] != '"' && msg[i] != '\\')
        i++;
    return i > start && i - start <= 64 && len - i >= sizeof(source) - 1 &&
           memcmp(msg + i, source, sizeof(source) - 1) == 0;
}

enum foreign_msg_verdict foreign_msg_parse(const char *msg, size_t len, const char *ws,
                                           int64_t now_ms, struct event_vec *out, size_t *ignored,
                                           char *why, size_t whylen)
{
    *ignored = 0;
    if (whylen)
        why[0] = '\0';
    if (len > FOREIGN_MSG_MAX_BYTES) {
        snprintf(why, whylen, "message larger than %d bytes", FOREIGN_MSG_MAX_BYTES);
        return FOREIGN_MSG_INVALID;
    }
    if (foreign_msg_is_hub_wire(msg, len)) {
        *ignored = 1;
        snprintf(why, whylen, "own");
        return FOREIGN_MSG_IGNORED;
    }
    struct json_error je;
    cJSON *root = json_parse_checked(msg, len, FOREIGN_MSG_MAX_DEPTH, &je);
    if (!root) {
        snprintf(why, whylen, "%s",
                 je.err == -ERR_INVALID     ? je.message
                 : je.err == -ERR_TOO_LARGE ? "JSON nested too deep"
                                            : "not UTF-8 JSON");
        return FOREIGN_MSG_INVALID;
    }
    enum foreign_msg_verdict verdict = FOREIGN_MSG_INVALID;
    const cJSON *single[1] = {root};
    const cJSON **items = single;
    size_t n = 1;
    if (cJSON_IsArray(root)) {
        n = (size_t)cJSON_GetArraySize(root);
        if (n < 1 || n > FOREIGN_MSG_MAX_BATCH) {
            snprintf(why, whylen, "an array must hold 1 to %d events (it holds %zu)",
                     FOREIGN_MSG_MAX_BATCH, n);
            goto out;
        }
        items = xcalloc(n, sizeof(*items));
        size_t k = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, root) items[k++] = it;
    }
    enum foreign_msg_item kinds[FOREIGN_MSG_MAX_BATCH];
    const char *last_ignored = "own";
    for (size_t i = 0; i < n; i++) {
        char item_why[160];
        kinds[i] = foreign_msg_check(items[i], ws, item_why, sizeof(item_why));
        if (kinds[i] == FOREIGN_ITEM_INVALID || kinds[i] == FOREIGN_ITEM_RESERVED) {
            if (cJSON_IsArray(root))
                snprintf(why, whylen, "event [%zu]: %s", i, item_why);
            else
                snprintf(why, whylen, "%s", item_why);
            verdict =
                kinds[i] == FOREIGN_ITEM_RESERVED ? FOREIGN_MSG_RESERVED : FOREIGN_MSG_INVALID;
            goto out;
        }
        if (kinds[i] != FOREIGN_ITEM_OK) {
            (*ignored)++;
            last_ignored = kinds[i] == FOREIGN_ITEM_OWN ? "own" : "workspace";
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (kinds[i] != FOREIGN_ITEM_OK)
            continue;
        struct event ev;
        foreign_msg_event(items[i], now_ms, &ev);
        event_vec_push(out, &ev);
    }
    if (out->len) {
        verdict = FOREIGN_MSG_INGEST;
    } else {
        verdict = FOREIGN_MSG_IGNORED;
        snprintf(why, whylen, "%s", last_ignored);
    }
out:
    if (items != single)
        free(items);
    cJSON_Delete(root);
    return verdict;
}
