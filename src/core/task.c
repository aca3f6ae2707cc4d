/* task — records and table.
 *
 * Invariants: every record has non-NULL title and the four arrays;
 * claimed_by is set whenever status is claimed; claim_files is NULL
 * unless claimed, and never an empty array; the map key is the record's
 * own id string. claims holds, for each agent claiming at least one task,
 * the number of records with status claimed and that claimed_by (no
 * entry at zero): every change of status or claimer goes through
 * task_table_claim / task_table_set_status / task_table_add_json. */
#include "core/task.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/xmalloc.h"
#include "core/agent.h"

static const char *const task_status_names[] = {"open", "claimed", "completed", "failed",
                                                "cancelled"};

static cJSON *task_dup(const cJSON *v)
{
    cJSON *d = cJSON_Duplicate(v, 1);
    if (!d)
        abort(); /* only fails on OOM */
    return d;
}

/* The count behind task_table_claimed_by: one per agent. */
struct task_claims {
    char *agent_id; /* owned; the claims map key */
    size_t n;       /* > 0 */
};

static void task_claims_add(struct task_table *tt, const char *agent_id)
{
    struct task_claims *c = map_get(&tt->claims, agent_id);
    if (!c) {
        c = xcalloc(1, sizeof(*c));
        c->agent_id = xstrdup(agent_id);
        map_put(&tt->claims, c->agent_id, c);
    }
    c->n++;
}

/* Uncount t's claim when t is claimed. */
static void task_claims_drop(struct task_table *tt, const struct task *t)
{
    if (t->status != TASK_CLAIMED)
        return;
    struct task_claims *c = map_get(&tt->claims, t->claimed_by);
    if (!c)
        abort(); /* the count is the table's invariant */
    if (--c->n == 0) {
        map_del(&tt->claims, c->agent_id);
        free(c->agent_id);
        free(c);
    }
}

static void task_free(struct task *t)
{
    if (!t)
        return;
    free(t->id);
    free(t->title);
    free(t->description);
    cJSON_Delete(t->files);
    cJSON_Delete(t->patterns);
    cJSON_Delete(t->capabilities);
    cJSON_Delete(t->depends_on);
    free(t->claimed_by);
    cJSON_Delete(t->claim_files);
    free(t->created_by);
    free(t->failure_reason);
    cJSON_Delete(t->result);
    free(t);
}

void task_table_init(struct task_table *t)
{
    map_init(&t->by_id);
    map_init(&t->claims);
}

void task_table_deinit(struct task_table *t)
{
    if (!t)
        return;
    size_t it = 0;
    void *v;
    while (map_next(&t->by_id, &it, NULL, &v))
        task_free(v);
    map_deinit(&t->by_id);
    it = 0;
    while (map_next(&t->claims, &it, NULL, &v)) {
        struct task_claims *c = v;
        free(c->agent_id);
        free(c);
    }
    map_deinit(&t->claims);
}

struct task *task_table_get(const struct task_table *t, const char *id)
{
    return map_get(&t->by_id, id);
}

size_t task_table_claimed_by(const struct task_table *t, const char *agent_id)
{
    const struct task_claims *c = map_get(&t->claims, agent_id);
    return c ? c->n : 0;
}

static int task_cmp_seq(const void *x, const void *y)
{
    const struct task *a = *(struct task *const *)x, *b = *(struct task *const *)y;
    if (a->created_seq != b->created_seq)
        return a->created_seq < b->created_seq ? -1 : 1;
    return strcmp(a->id, b->id);
}

struct task **task_table_sorted(const struct task_table *t, size_t *n)
{
    size_t len = map_len(&t->by_id), i = 0, it = 0;
    struct task **arr = xmalloc((len ? len : 1) * sizeof(*arr));
    void *v;
    while (map_next(&t->by_id, &it, NULL, &v))
        arr[i++] = v;
    qsort(arr, len, sizeof(*arr), task_cmp_seq);
    *n = len;
    return arr;
}

static void task_add_str(cJSON *o, const char *key, const char *s)
{
    if (s)
        cJSON_AddStringToObject(o, key, s);
    else
        cJSON_AddNullToObject(o, key);
}

static void task_add_time(cJSON *o, const char *key, int64_t ms)
{
    if (ms)
        json_add_time(o, key, ms);
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *task_to_json(const struct task *t, bool with_seq)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "taskId", t->id);
    cJSON_AddStringToObject(o, "title", t->title);
    task_add_str(o, "description", t->description);
    cJSON_AddItemToObject(o, "files", task_dup(t->files));
    cJSON_AddItemToObject(o, "patterns", task_dup(t->patterns));
    cJSON_AddItemToObject(o, "capabilities", task_dup(t->capabilities));
    cJSON_AddItemToObject(o, "dependsOn", task_dup(t->depends_on));
    cJSON_AddNumberToObject(o, "priority", (double)t->priority);
    cJSON_AddStringToObject(o, "status", task_status_name(t->status));
    task_add_str(o, "claimedBy", t->claimed_by);
    task_add_str(o, "createdBy", t->created_by);
    json_add_time(o, "createdAt", t->created_at);
    task_add_time(o, "claimedAt", t->claimed_at);
    task_add_time(o, "completedAt", t->completed_at);
    if (t->result)
        cJSON_AddItemToObject(o, "result", task_dup(t->result));
    else
        cJSON_AddNullToObject(o, "result");
    task_add_str(o, "failureReason", t->failure_reason);
    if (with_seq) {
        json_add_u64(o, "createdSeq", t->created_seq);
        if (t->claim_files)
            cJSON_AddItemToObject(o, "claimFiles", task_dup(t->claim_files));
    }
    return o;
}

/* Optional string member: absent or null → NULL; 0 or -ERR_INVALID. */
static int task_opt_str(const cJSON *rec, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return -ERR_INVALID;
    *out = v->valuestring;
    return 0;
}

/* Optional time member: absent or null → 0. */
static int task_opt_time(const cJSON *rec, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
    *out = 0;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || clock_parse_iso(v->valuestring, out))
        return -ERR_INVALID;
    return 0;
}

int task_table_add_json(struct task_table *t, const cJSON *rec, uint64_t created_seq)
{
    const char *id = json_get_str(rec, "taskId", NULL);
    const char *title = json_get_str(rec, "title", NULL);
    const char *desc, *claimed_by, *created_by, *failure;
    enum task_status st;
    int64_t created_at, claimed_at, completed_at;
    const cJSON *arrs[4];
    static const char *const arr_names[4] = {"files", "patterns", "capabilities", "dependsOn"};
    const cJSON *prio = cJSON_GetObjectItemCaseSensitive(rec, "priority");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(rec, "result");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(rec, "createdSeq");
    const cJSON *claim_files = cJSON_GetObjectItemCaseSensitive(rec, "claimFiles");

    if (!cJSON_IsObject(rec) || !agent_id_valid(id) || task_table_get(t, id) || !title)
        return -ERR_INVALID;
    for (int i = 0; i < 4; i++) {
        arrs[i] = cJSON_GetObjectItemCaseSensitive(rec, arr_names[i]);
        if (!agent_is_string_array(arrs[i], SIZE_MAX, SIZE_MAX))
            return -ERR_INVALID;
    }
    if (!json_is_int_in(prio, -JSON_EXACT_INT_MAX, JSON_EXACT_INT_MAX))
        return -ERR_INVALID;
    if (task_status_parse(json_get_str(rec, "status", NULL), &st))
        return -ERR_INVALID;
    if (task_opt_str(rec, "description", &desc) || task_opt_str(rec, "claimedBy", &claimed_by) ||
        task_opt_str(rec, "createdBy", &created_by) || task_opt_str(rec, "failureReason", &failure))
        return -ERR_INVALID;
    if (st == TASK_CLAIMED && !claimed_by)
        return -ERR_INVALID;
    /* Extra claim files only on a claimed task (snapshots; absent in
     * task:created and in snapshots written before they were kept). */
    if (claim_files &&
        (st != TASK_CLAIMED || !agent_is_string_array(claim_files, SIZE_MAX, SIZE_MAX)))
        return -ERR_INVALID;
    if (clock_parse_iso(json_get_str(rec, "createdAt", ""), &created_at) ||
        task_opt_time(rec, "claimedAt", &claimed_at) ||
        task_opt_time(rec, "completedAt", &completed_at))
        return -ERR_INVALID;
    if (!created_seq) {
        if (!json_is_int_in(seq, 1, JSON_EXACT_INT_MAX))
            return -ERR_INVALID;
        created_seq = (uint64_t)seq->valuedouble;
    }

    struct task *k = xcalloc(1, sizeof(*k));
    k->id = xstrdup(id);
    k->title = xstrdup(title);
    k->description = xstrdup(desc);
    k->files = task_dup(arrs[0]);
    k->patterns = task_dup(arrs[1]);
    k->capabilities = task_dup(arrs[2]);
    k->depends_on = task_dup(arrs[3]);
    k->priority = (int64_t)prio->valuedouble;
    k->status = st;
    k->claimed_by = xstrdup(claimed_by);
    if (claim_files && cJSON_GetArraySize(claim_files) > 0)
        k->claim_files = task_dup(claim_files);
    k->created_by = xstrdup(created_by);
    k->failure_reason = xstrdup(failure);
    k->result = (result && !cJSON_IsNull(result)) ? task_dup(result) : NULL;
    k->created_at = created_at;
    k->claimed_at = claimed_at;
    k->completed_at = completed_at;
    k->created_seq = created_seq;
    map_put(&t->by_id, k->id, k);
    if (st == TASK_CLAIMED)
        task_claims_add(t, k->claimed_by);
    return 0;
}

const char *task_status_name(enum task_status s)
{
    return (unsigned)s < 5 ? task_status_names[s] : "open";
}

int task_status_parse(const char *s, enum task_status *out)
{
    for (int i = 0; i < 5; i++) {
        if (s && strcmp(s, task_status_names[i]) == 0) {
            *out = (enum task_status)i;
            return 0;
        }
    }
    return -ERR_INVALID;
}

bool task_deps_done(const struct task_table *tt, const struct task *t, const char **blocking)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, t->depends_on)
    {
        const struct task *dep = task_table_get(tt, d->valuestring);
        if (!dep || dep->status != TASK_COMPLETED) {
            if (blocking)
                *blocking = d->valuestring;
            return false;
        }
    }
    return true;
}

static void task_set_claimed_by(struct task *t, const char *agent_id)
{
    char *s = xstrdup(agent_id);
    free(t->claimed_by);
    t->claimed_by = s;
}

static void task_set_claim_files(struct task *t, cJSON *files)
{
    if (files && cJSON_GetArraySize(files) == 0) {
        cJSON_Delete(files);
        files = NULL;
    }
    cJSON_Delete(t->claim_files);
    t->claim_files = files;
}

void task_table_claim(struct task_table *tt, struct task *t, const char *agent_id,
                      cJSON *claim_files)
{
    task_claims_drop(tt, t);
    t->status = TASK_CLAIMED;
    task_set_claimed_by(t, agent_id);
    task_set_claim_files(t, claim_files);
    task_claims_add(tt, t->claimed_by);
}

void task_table_set_status(struct task_table *tt, struct task *t, enum task_status st,
                           bool clear_claimer)
{
    if (st == TASK_CLAIMED)
        abort(); /* a claim names its claimer: task_table_claim */
    task_claims_drop(tt, t);
    t->status = st;
    task_set_claim_files(t, NULL);
    if (clear_claimer)
        task_set_claimed_by(t, NULL);
}

void task_set_failure(struct task *t, const char *reason)
{
    char *s = xstrdup(reason);
    free(t->failure_reason);
    t->failure_reason = s;
}

void task_set_result(struct task *t, cJSON *result)
{
    cJSON_Delete(t->result);
    t->result = result;
}
