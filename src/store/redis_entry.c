/* redis_entry — see redis_entry.h. */
#include "store/redis_entry.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/xmalloc.h"

void redis_entry_push_fields(struct redis_args *a, const char *writer, const struct event *ev)
{
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, ev->ts_ms);
    const char *fields[REDIS_ENTRY_MAX_FIELDS];
    int nf = 0;
    if (writer) {
        fields[nf++] = "w";
        fields[nf++] = writer;
    }
    fields[nf++] = "type";
    fields[nf++] = ev->type;
    fields[nf++] = "ts";
    fields[nf++] = redis_args_keep(a, xstrdup(ts));
    fields[nf++] = "data";
    fields[nf++] = redis_args_keep(a, ev->data ? json_print(ev->data) : xstrdup("{}"));
    if (ev->source) {
        fields[nf++] = "source";
        fields[nf++] = ev->source;
    }
    if (ev->source_id) {
        fields[nf++] = "sid";
        fields[nf++] = ev->source_id;
    }
    if (ev->signature) {
        fields[nf++] = "sig";
        fields[nf++] = ev->signature;
    }
    redis_args_pushs(a, redis_args_u64(a, (uint64_t)nf));
    for (int f = 0; f < nf; f++)
        redis_args_pushs(a, fields[f]);
}

const redisReply *redis_entry_field(const redisReply *fields, const char *name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i];
        if (k->type == REDIS_REPLY_STRING && strcmp(k->str, name) == 0)
            return fields->element[i + 1]->type == REDIS_REPLY_STRING ? fields->element[i + 1]
                                                                      : NULL;
    }
    return NULL;
}

static char *redis_entry_field_dup(const redisReply *fields, const char *name)
{
    const redisReply *v = redis_entry_field(fields, name);
    return v ? xstrndup(v->str, v->len) : NULL;
}

int redis_entry_event(const redisReply *entry, struct event *ev)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
        entry->element[0]->type != REDIS_REPLY_STRING ||
        entry->element[1]->type != REDIS_REPLY_ARRAY)
        return -ERR_STORE;
    const redisReply *fields = entry->element[1];
    char *end = NULL;
    uint64_t seq = strtoull(entry->element[0]->str, &end, 10);
    const redisReply *type = redis_entry_field(fields, "type");
    const redisReply *ts = redis_entry_field(fields, "ts");
    const redisReply *data = redis_entry_field(fields, "data");
    if (strcmp(end, "-0") != 0 || !type || !ts || !data)
        return -ERR_STORE;
    cJSON *obj = cJSON_ParseWithLength(data->str, data->len);
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return -ERR_STORE;
    }
    event_init(ev, type->str, strtoll(ts->str, NULL, 10), obj);
    ev->seq = seq;
    free(ev->source);
    ev->source = redis_entry_field_dup(fields, "source");
    ev->source_id = redis_entry_field_dup(fields, "sid");
    ev->signature = redis_entry_field_dup(fields, "sig");
    return 0;
}
