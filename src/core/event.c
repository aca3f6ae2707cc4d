/* event — construction, copying and the wire form of events.
 *
 * The wire object is the same everywhere (docs/events.md, "Envelope"):
 *   {"id":"<seq>","type","source","sourceId","workspace","timestamp","data"}
 * plus "signature" for signed foreign events. "id" is the seq as a decimal
 * string (SSE ids and JavaScript clients cannot hold a u64 as a number);
 * "timestamp" is RFC 3339 UTC with milliseconds.
 *
 * Invariants: an initialised event always has a non-NULL type, source and
 * data (an object); source_id and signature may be NULL. event_to_json()
 * followed by event_from_json() gives back an equal event (workspace aside,
 * which belongs to the envelope, not to the event). */
#include "core/event.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/str.h"
#include "base/xmalloc.h"

void event_init(struct event *ev, const char *type, int64_t ts_ms, cJSON *data)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = xstrdup(type ? type : "");
    ev->source = xstrdup(EVENT_SOURCE_HUB);
    ev->ts_ms = ts_ms;
    if (data && !cJSON_IsObject(data)) {
        /* The contract says "an object": wrap anything else rather than
         * carry a value no consumer expects. */
        cJSON *wrap = cJSON_CreateObject();
        cJSON_AddItemToObject(wrap, "value", data);
        data = wrap;
    }
    ev->data = data ? data : cJSON_CreateObject();
}

void event_deinit(struct event *ev)
{
    if (!ev)
        return;
    free(ev->type);
    free(ev->source);
    free(ev->source_id);
    free(ev->signature);
    cJSON_Delete(ev->data);
    memset(ev, 0, sizeof(*ev));
}

void event_copy(struct event *dst, const struct event *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->seq = src->seq;
    dst->type = xstrdup(src->type);
    dst->source = xstrdup(src->source);
    dst->source_id = xstrdup(src->source_id);
    dst->ts_ms = src->ts_ms;
    dst->data = src->data ? cJSON_Duplicate(src->data, 1) : cJSON_CreateObject();
    if (!dst->data)
        abort(); /* cJSON_Duplicate only fails on OOM */
    dst->signature = xstrdup(src->signature);
}

/* The envelope with data attached either as a deep copy (by_ref false:
 * the caller owns an independent tree) or as a reference to ev->data (for
 * printing: no copy, and cJSON_Delete leaves the referenced data alone). */
static cJSON *event_envelope(const struct event *ev, const char *workspace, bool by_ref)
{
    char id[STR_INT_LEN], ts[CLOCK_ISO_LEN];
    cJSON *o = cJSON_CreateObject();
    snprintf(id, sizeof(id), "%" PRIu64, ev->seq);
    clock_format_iso(ev->ts_ms, ts, sizeof(ts));
    if (ev->seq)
        cJSON_AddStringToObject(o, "id", id); /* seq 0: not in the log (an announcement) */
    cJSON_AddStringToObject(o, "type", ev->type ? ev->type : "");
    cJSON_AddStringToObject(o, "source", ev->source ? ev->source : EVENT_SOURCE_HUB);
    if (ev->source_id)
        cJSON_AddStringToObject(o, "sourceId", ev->source_id);
    if (workspace)
        cJSON_AddStringToObject(o, "workspace", workspace);
    cJSON_AddStringToObject(o, "timestamp", ts);
    cJSON *data;
    if (!ev->data)
        data = cJSON_CreateObject();
    else if (by_ref)
        data = cJSON_CreateObjectReference(ev->data->child);
    else
        data = cJSON_Duplicate(ev->data, 1);
    if (!data)
        abort(); /* only fails on OOM */
    cJSON_AddItemToObject(o, "data", data);
    if (ev->signature)
        cJSON_AddStringToObject(o, "signature", ev->signature);
    return o;
}

cJSON *event_to_json(const struct event *ev, const char *workspace)
{
    return event_envelope(ev, workspace, false);
}

char *event_to_text(const struct event *ev, const char *workspace)
{
    cJSON *o = event_envelope(ev, workspace, true);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        abort(); /* only fails on OOM */
    return s;
}

/* Parse a decimal u64 with no sign, no blanks and no overflow. */
static int event_parse_seq(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -ERR_INVALID;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -ERR_INVALID;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERR_INVALID;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int event_from_json(const cJSON *obj, struct event *out)
{
    uint64_t seq = 0;
    int64_t ts = 0;
    if (!cJSON_IsObject(obj))
        return -ERR_INVALID;

    const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
    if (cJSON_IsString(id)) {
        if (event_parse_seq(id->valuestring, &seq))
            return -ERR_INVALID;
    } else if (cJSON_IsNumber(id)) {
        /* Tolerated for foreign publishers; exact below 2^53. */
        if (id->valuedouble < 0 || id->valuedouble > (double)JSON_EXACT_INT_MAX ||
            (double)(uint64_t)id->valuedouble != id->valuedouble)
            return -ERR_INVALID;
        seq = (uint64_t)id->valuedouble;
    } else if (id && !cJSON_IsNull(id)) {
        return -ERR_INVALID;
    }

    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    if (!cJSON_IsString(type) || !type->valuestring[0])
        return -ERR_INVALID;

    const cJSON *tsv = cJSON_GetObjectItemCaseSensitive(obj, "timestamp");
    if (cJSON_IsString(tsv)) {
        if (clock_parse_iso(tsv->valuestring, &ts))
            return -ERR_INVALID;
    } else if (cJSON_IsNumber(tsv)) {
        ts = (int64_t)tsv->valuedouble; /* ms since epoch, as some publishers send */
    } else if (tsv && !cJSON_IsNull(tsv)) {
        return -ERR_INVALID;
    }

    const cJSON *data = cJSON_GetObjectItemCaseSensitive(obj, "data");
    if (data && !cJSON_IsObject(data) && !cJSON_IsNull(data))
        return -ERR_INVALID;

    const cJSON *source = cJSON_GetObjectItemCaseSensitive(obj, "source");
    const cJSON *source_id = cJSON_GetObjectItemCaseSensitive(obj, "sourceId");
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(obj, "signature");
    if ((source && !cJSON_IsString(source)) || (source_id && !cJSON_IsString(source_id)) ||
        (sig && !cJSON_IsString(sig)))
        return -ERR_INVALID;

    cJSON *dcopy = cJSON_IsObject(data) ? cJSON_Duplicate(data, 1) : cJSON_CreateObject();
    if (!dcopy)
        abort();
    event_init(out, type->valuestring, ts, dcopy);
    out->seq = seq;
    if (source) {
        free(out->source);
        out->source = xstrdup(source->valuestring);
    }
    if (source_id)
        out->source_id = xstrdup(source_id->valuestring);
    if (sig)
        out->signature = xstrdup(sig->valuestring);
    return 0;
}

bool event_is_hub(const struct event *ev)
{
    return !ev->source || strcmp(ev->source, EVENT_SOURCE_HUB) == 0;
}

void event_vec_init(struct event_vec *v)
{
    v->items = NULL;
    v->len = 0;
    v->cap = 0;
}

void event_vec_deinit(struct event_vec *v)
{
    if (!v)
        return;
    event_vec_clear(v);
    free(v->items);
    v->items = NULL;
    v->cap = 0;
}

void event_vec_clear(struct event_vec *v)
{
    for (size_t i = 0; i < v->len; i++)
        event_deinit(&v->items[i]);
    v->len = 0;
}

void event_vec_push(struct event_vec *v, struct event *ev)
{
    if (v->len == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 8;
        v->items = xrealloc(v->items, ncap * sizeof(*v->items));
        v->cap = ncap;
    }
    v->items[v->len++] = *ev;
    memset(ev, 0, sizeof(*ev));
}

static bool event_type_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

bool event_type_valid(const char *type)
{
    if (!type)
        return false;
    size_t n = strlen(type);
    if (n == 0 || n > EVENT_TYPE_MAX)
        return false;
    const char *colon = strchr(type, ':');
    if (!colon || colon == type || colon[1] == '\0' || strchr(colon + 1, ':'))
        return false;
    for (const char *p = type; *p; p++) {
        if (p != colon && !event_type_char_ok(*p))
            return false;
    }
    return true;
}

/* The one list of namespaces only the hub writes (docs/events.md,
 * "Reserved namespaces"). health: is not in it: components report
 * health:status, and the hub records its own store outage through
 * publish_event. */
static const char *const event_reserved_namespaces[] = {
    "agent", "file", "task", "server", "tools", "cache", "guidance", "insight",
};

bool event_type_reserved(const char *type)
{
    const char *colon = type ? strchr(type, ':') : NULL;
    if (!colon)
        return false;
    size_t n = (size_t)(colon - type);
    for (size_t i = 0; i < sizeof(event_reserved_namespaces) / sizeof(event_reserved_namespaces[0]);
         i++) {
        const char *ns = event_reserved_namespaces[i];
        if (strlen(ns) == n && memcmp(ns, type, n) == 0)
            return true;
    }
    return false;
}

/* Glob where '*' matches any run of characters (including ':'), so
 * "file:*", "*:completed" and "*" all work. Iterative with one backtrack
 * point: linear in practice, no recursion on peer input. */
bool event_type_matches(const char *pattern, const char *type)
{
    if (!pattern || !type)
        return false;
    const char *p = pattern, *t = type, *star = NULL, *resume = NULL;
    while (*t) {
        if (*p == '*') {
            star = p++;
            resume = t;
        } else if (*p == *t) {
            p++;
            t++;
        } else if (star) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}
