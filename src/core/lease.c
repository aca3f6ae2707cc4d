/* lease — holders indexed by key, by agent and by expiry.
 *
 * Invariants:
 *  - every holder is on exactly one key's holder list, on its agent's
 *    list, and in the heap at heap_idx;
 *  - a key record exists iff it has at least one holder; an agent record
 *    iff the agent has at least one holder;
 *  - at most one holder per (key, agent);
 *  - heap[i]->expires_at >= heap[(i-1)/2]->expires_at.
 * Map keys borrow the key and agent strings owned by those records, so a
 * record leaves its map before it is freed. Holders do not copy their
 * agent id: they point at their agent record's, which outlives them.
 * Memory matters here (100k leases within the RSS budget), hence the
 * interned ids and the key stored inline in its record. */
#include "core/lease.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/xmalloc.h"
#include "core/wildmatch.h"

/* ---- heap ---- */

static void lease_heap_swap(struct lease_table *t, uint32_t i, uint32_t j)
{
    struct lease *a = t->heap[i];
    t->heap[i] = t->heap[j];
    t->heap[j] = a;
    t->heap[i]->heap_idx = i;
    t->heap[j]->heap_idx = j;
}

static void lease_heap_up(struct lease_table *t, uint32_t i)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (t->heap[p]->expires_at <= t->heap[i]->expires_at)
            break;
        lease_heap_swap(t, i, p);
        i = p;
    }
}

static void lease_heap_down(struct lease_table *t, uint32_t i)
{
    for (;;) {
        uint64_t l = 2 * (uint64_t)i + 1, r = l + 1;
        uint32_t m = i;
        if (l < t->len && t->heap[l]->expires_at < t->heap[m]->expires_at)
            m = (uint32_t)l;
        if (r < t->len && t->heap[r]->expires_at < t->heap[m]->expires_at)
            m = (uint32_t)r;
        if (m == i)
            return;
        lease_heap_swap(t, i, m);
        i = m;
    }
}

static void lease_heap_push(struct lease_table *t, struct lease *l)
{
    if (t->len == t->cap) {
        if (t->cap > UINT32_MAX / 2)
            abort(); /* two billion leases: far beyond any budget */
        t->cap = t->cap ? t->cap * 2 : 64;
        t->heap = xrealloc(t->heap, (size_t)t->cap * sizeof(*t->heap));
    }
    l->heap_idx = t->len;
    t->heap[t->len++] = l;
    lease_heap_up(t, l->heap_idx);
}

static void lease_heap_remove(struct lease_table *t, struct lease *l)
{
    uint32_t i = l->heap_idx;
    t->len--;
    if (i != t->len) {
        t->heap[i] = t->heap[t->len];
        t->heap[i]->heap_idx = i;
        lease_heap_up(t, i);
        lease_heap_down(t, t->heap[i]->heap_idx);
    }
}

/* ---- table ---- */

void lease_table_init(struct lease_table *t)
{
    map_init(&t->files);
    map_init(&t->patterns);
    map_init(&t->agents);
    t->heap = NULL;
    t->len = t->cap = 0;
}

static void lease_free(struct lease *l)
{
    free(l->reason);
    free(l->task_id);
    free(l);
}

static void lease_keys_free(struct map *m)
{
    size_t it = 0;
    void *v;
    while (map_next(m, &it, NULL, &v)) {
        struct lease_key *k = v;
        struct lease *l = k->holders;
        while (l) {
            struct lease *next = l->next_in_key;
            lease_free(l);
            l = next;
        }
        free(k);
    }
    map_deinit(m);
}

void lease_table_deinit(struct lease_table *t)
{
    if (!t)
        return;
    lease_keys_free(&t->files);
    lease_keys_free(&t->patterns);
    size_t it = 0;
    void *v;
    while (map_next(&t->agents, &it, NULL, &v)) {
        struct lease_agent *a = v;
        free(a->agent_id);
        free(a);
    }
    map_deinit(&t->agents);
    free(t->heap);
    lease_table_init(t);
}

struct lease_key *lease_table_key(const struct lease_table *t, const char *key, bool pattern)
{
    return map_get(pattern ? &t->patterns : &t->files, key);
}

struct lease *lease_table_holder(const struct lease_table *t, const char *key, bool pattern,
                                 const char *agent_id)
{
    struct lease_key *k = lease_table_key(t, key, pattern);
    for (struct lease *l = k ? k->holders : NULL; l; l = l->next_in_key) {
        if (strcmp(l->agent_id, agent_id) == 0)
            return l;
    }
    return NULL;
}

struct lease *lease_table_insert(struct lease_table *t, const char *key, bool pattern,
                                 const char *agent_id, enum lease_mode mode, uint64_t token,
                                 const char *reason, const char *task_id, int64_t locked_at,
                                 int64_t expires_at, int64_t ttl_ms)
{
    struct map *m = pattern ? &t->patterns : &t->files;
    struct lease_key *k = map_get(m, key);
    if (!k) {
        size_t n = strlen(key);
        k = xmalloc(sizeof(*k) + n + 1);
        memcpy(k->key, key, n + 1);
        k->holders = NULL;
        k->pattern = pattern;
        k->prefix_len = pattern ? wildmatch_prefix_len(key) : strlen(key);
        map_put(m, k->key, k);
    }
    struct lease_agent *a = map_get(&t->agents, agent_id);
    if (!a) {
        a = xcalloc(1, sizeof(*a));
        a->agent_id = xstrdup(agent_id);
        map_put(&t->agents, a->agent_id, a);
    }
    struct lease *l = xcalloc(1, sizeof(*l));
    l->key = k;
    l->agent_id = a->agent_id;
    l->mode = mode;
    l->token = token;
    l->reason = xstrdup(reason);
    l->task_id = xstrdup(task_id);
    l->locked_at = locked_at;
    l->expires_at = expires_at;
    l->ttl_ms = ttl_ms;
    /* append: holders keep grant order */
    struct lease **pp = &k->holders;
    while (*pp)
        pp = &(*pp)->next_in_key;
    *pp = l;

    l->agent_next = a->head;
    if (a->head)
        a->head->agent_prev = l;
    a->head = l;
    a->count++;
    lease_heap_push(t, l);
    return l;
}

void lease_table_remove(struct lease_table *t, struct lease *l)
{
    struct lease_key *k = l->key;
    struct lease **pp = &k->holders;
    while (*pp != l)
        pp = &(*pp)->next_in_key;
    *pp = l->next_in_key;
    if (!k->holders) {
        map_del(k->pattern ? &t->patterns : &t->files, k->key);
        free(k);
    }

    struct lease_agent *a = map_get(&t->agents, l->agent_id);
    if (l->agent_prev)
        l->agent_prev->agent_next = l->agent_next;
    else
        a->head = l->agent_next;
    if (l->agent_next)
        l->agent_next->agent_prev = l->agent_prev;
    if (--a->count == 0) {
        map_del(&t->agents, a->agent_id);
        free(a->agent_id);
        free(a);
    }
    lease_heap_remove(t, l);
    lease_free(l);
}

void lease_table_set_expiry(struct lease_table *t, struct lease *l, int64_t expires_at,
                            int64_t ttl_ms)
{
    l->expires_at = expires_at;
    l->ttl_ms = ttl_ms;
    lease_heap_up(t, l->heap_idx);
    lease_heap_down(t, l->heap_idx);
}

void lease_table_set_reason(struct lease *l, const char *reason)
{
    char *r = xstrdup(reason);
    free(l->reason);
    l->reason = r;
}

void lease_table_set_task(struct lease *l, const char *task_id)
{
    char *s = xstrdup(task_id);
    free(l->task_id);
    l->task_id = s;
}

/* ---- queries ---- */

static void lease_collect(const struct lease_key *k, const char *self, enum lease_mode mode,
                          bool any_mode, int64_t now_ms, bool include_expired,
                          struct lease_vec *out)
{
    for (struct lease *l = k->holders; l; l = l->next_in_key) {
        if (self && strcmp(l->agent_id, self) == 0)
            continue;
        if (!include_expired && l->expires_at <= now_ms)
            continue;
        if (!any_mode && mode == LEASE_SHARED && l->mode == LEASE_SHARED)
            continue;
        lease_vec_push(out, l);
    }
}

void lease_table_conflicts(const struct lease_table *t, const char *key, bool pattern,
                           const char *self, enum lease_mode mode, bool any_mode, int64_t now_ms,
                           bool include_expired, struct lease_vec *out)
{
    size_t it = 0;
    void *v;
    if (!pattern) {
        struct lease_key *k = map_get(&t->files, key);
        if (k)
            lease_collect(k, self, mode, any_mode, now_ms, include_expired, out);
        while (map_next(&t->patterns, &it, NULL, &v)) {
            struct lease_key *pk = v;
            if (wildmatch_match(pk->key, key))
                lease_collect(pk, self, mode, any_mode, now_ms, include_expired, out);
        }
        return;
    }
    while (map_next(&t->patterns, &it, NULL, &v)) {
        struct lease_key *pk = v;
        if (strcmp(pk->key, key) == 0 || wildmatch_overlap(pk->key, key))
            lease_collect(pk, self, mode, any_mode, now_ms, include_expired, out);
    }
    size_t plen = wildmatch_prefix_len(key);
    it = 0;
    while (map_next(&t->files, &it, NULL, &v)) {
        struct lease_key *fk = v;
        if (strncmp(fk->key, key, plen) == 0 && wildmatch_match(key, fk->key))
            lease_collect(fk, self, mode, any_mode, now_ms, include_expired, out);
    }
}

struct lease *lease_table_agent_leases(const struct lease_table *t, const char *agent_id)
{
    struct lease_agent *a = map_get(&t->agents, agent_id);
    return a ? a->head : NULL;
}

size_t lease_table_agent_count(const struct lease_table *t, const char *agent_id)
{
    struct lease_agent *a = map_get(&t->agents, agent_id);
    return a ? a->count : 0;
}

/* Walk the heap from i, pruning subtrees whose root is not yet due. */
static void lease_heap_due(const struct lease_table *t, uint64_t i, int64_t now_ms,
                           struct lease_vec *out)
{
    if (i >= t->len || t->heap[i]->expires_at > now_ms)
        return;
    lease_vec_push(out, t->heap[i]);
    lease_heap_due(t, 2 * i + 1, now_ms, out);
    lease_heap_due(t, 2 * i + 2, now_ms, out);
}

void lease_table_expired(const struct lease_table *t, int64_t now_ms, struct lease_vec *out)
{
    lease_heap_due(t, 0, now_ms, out);
}

int64_t lease_table_next_expiry(const struct lease_table *t)
{
    return t->len ? t->heap[0]->expires_at : INT64_MAX;
}

void lease_table_all(const struct lease_table *t, struct lease_vec *out)
{
    for (uint32_t i = 0; i < t->len; i++)
        lease_vec_push(out, t->heap[i]);
}

/* ---- vectors ---- */

static int lease_cmp(const void *x, const void *y)
{
    const struct lease *a = *(struct lease *const *)x, *b = *(struct lease *const *)y;
    int c = strcmp(a->key->key, b->key->key);
    if (c)
        return c;
    if (a->key->pattern != b->key->pattern)
        return a->key->pattern ? 1 : -1;
    return strcmp(a->agent_id, b->agent_id);
}

void lease_vec_sort(struct lease_vec *v)
{
    if (v->len > 1)
        qsort(v->items, v->len, sizeof(*v->items), lease_cmp);
}

void lease_vec_push(struct lease_vec *v, struct lease *l)
{
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->items = xrealloc(v->items, v->cap * sizeof(*v->items));
    }
    v->items[v->len++] = l;
}

void lease_vec_deinit(struct lease_vec *v)
{
    if (!v)
        return;
    free(v->items);
    v->items = NULL;
    v->len = v->cap = 0;
}

/* ---- names and JSON ---- */

const char *lease_mode_name(enum lease_mode m)
{
    return m == LEASE_SHARED ? "shared" : "exclusive";
}

int lease_mode_parse(const char *s, enum lease_mode *out)
{
    if (s && strcmp(s, "exclusive") == 0) {
        *out = LEASE_EXCLUSIVE;
        return 0;
    }
    if (s && strcmp(s, "shared") == 0) {
        *out = LEASE_SHARED;
        return 0;
    }
    return -ERR_INVALID;
}

cJSON *lease_to_json(const struct lease *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", l->key->key);
    if (l->key->pattern)
        cJSON_AddTrueToObject(o, "pattern");
    cJSON_AddStringToObject(o, "agentId", l->agent_id);
    if (l->reason)
        cJSON_AddStringToObject(o, "reason", l->reason);
    else
        cJSON_AddNullToObject(o, "reason");
    cJSON_AddStringToObject(o, "mode", lease_mode_name(l->mode));
    json_add_u64(o, "token", l->token);
    json_add_time(o, "lockedAt", l->locked_at);
    json_add_time(o, "expiresAt", l->expires_at);
    cJSON_AddNumberToObject(o, "ttl", (double)l->ttl_ms / 1000.0);
    if (l->task_id)
        cJSON_AddStringToObject(o, "taskId", l->task_id);
    return o;
}

int lease_table_insert_json(struct lease_table *t, const cJSON *rec)
{
    enum lease_mode mode;
    int64_t locked_at, expires_at;
    const char *key = json_get_str(rec, "file", NULL);
    const char *agent = json_get_str(rec, "agentId", NULL);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(rec, "pattern");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(rec, "reason");
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(rec, "taskId");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(rec, "token");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(rec, "ttl");
    if (!cJSON_IsObject(rec) || !key || !*key || !agent || !*agent)
        return -ERR_INVALID;
    if (pat && !cJSON_IsBool(pat))
        return -ERR_INVALID;
    if ((reason && !cJSON_IsString(reason) && !cJSON_IsNull(reason)) ||
        (task && !cJSON_IsString(task) && !cJSON_IsNull(task)))
        return -ERR_INVALID;
    if (lease_mode_parse(json_get_str(rec, "mode", NULL), &mode))
        return -ERR_INVALID;
    if (!json_is_int_in(token, 1, JSON_EXACT_INT_MAX))
        return -ERR_INVALID;
    if (!cJSON_IsNumber(ttl) || !isfinite(ttl->valuedouble) || ttl->valuedouble < 0)
        return -ERR_INVALID;
    if (clock_parse_iso(json_get_str(rec, "lockedAt", ""), &locked_at) ||
        clock_parse_iso(json_get_str(rec, "expiresAt", ""), &expires_at))
        return -ERR_INVALID;
    bool is_pat = cJSON_IsTrue(pat);
    if (lease_table_holder(t, key, is_pat, agent))
        return -ERR_INVALID;
    lease_table_insert(t, key, is_pat, agent, mode, (uint64_t)token->valuedouble,
                       cJSON_IsString(reason) ? reason->valuestring : NULL,
                       cJSON_IsString(task) ? task->valuestring : NULL, locked_at, expires_at,
                       (int64_t)llround(ttl->valuedouble * 1000.0));
    return 0;
}
