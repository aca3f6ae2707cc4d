/* workspace_tasks — create_task, find_available_tasks, claim_task,
 * complete_task, release_task, list_tasks.
 *
 * claim_task is one atomic step (docs/tools.md): every check (open, deps
 * completed, the claimer has every required capability, no other agent's
 * live lease on any of the task's files, patterns or extra files) is made
 * before the first event, and then the
 * task:claimed event and one file:locked per key are emitted together.
 * Because the tokens are the seqs of those file:locked events, they are
 * known before emission and task:claimed can carry them.
 *
 * Task leases are ordinary leases tagged with the task id; completing or
 * releasing the task releases exactly the claimer's leases with that tag.
 * The call's extra files (those not already the task's) travel in
 * task:claimed as extraFiles and stay on the task while it is claimed,
 * so a claimer resumed after going offline gets them back with the
 * task's own (workspace_agents.c). */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/args.h"
#include "core/path.h"
#include "core/workspace_internal.h"

static bool workspace_tasks_arr_has(const cJSON *arr, const char *s)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (strcmp(e->valuestring, s) == 0)
            return true;
    }
    return false;
}

/* Normalise an optional array argument of files or patterns into a new
 * de-duplicated array (order kept). */
int workspace__norm_list(const struct workspace *ws, const cJSON *in, const char *argname,
                         bool pattern, cJSON **out, char **errmsg)
{
    *out = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach(e, in)
    {
        char *key = NULL;
        int rc = workspace__norm_key(ws, argname, e->valuestring, pattern, &key, errmsg);
        if (rc) {
            cJSON_Delete(*out);
            *out = NULL;
            return rc;
        }
        if (!workspace_tasks_arr_has(*out, key))
            cJSON_AddItemToArray(*out, cJSON_CreateString(key));
        free(key);
    }
    return 0;
}

static char *workspace_tasks_generated_id(const struct workspace *ws)
{
    char *id = str_printf("task-%llu", (unsigned long long)(ws->seq + 1));
    for (unsigned n = 2; task_table_get(&ws->tasks, id); n++) {
        free(id);
        id = str_printf("task-%llu-%u", (unsigned long long)(ws->seq + 1), n);
    }
    return id;
}

int workspace__task_fields_read(const struct workspace *ws, const cJSON *args, bool title_required,
                                struct workspace__task_fields *f, char **errmsg)
{
    memset(f, 0, sizeof(*f));
    const cJSON *files, *patterns;
    int rc = args_str(args, "title", title_required, WORKSPACE_TITLE_MAX, &f->title, errmsg);
    if (!rc)
        rc = args_str(args, "description", false, WORKSPACE_TEXT_MAX, &f->description, errmsg);
    if (!rc)
        rc = args_str_array(args, "files", WORKSPACE_LIST_MAX, PATH_MAX_LEN, &files, errmsg);
    if (!rc)
        rc = args_str_array(args, "patterns", WORKSPACE_PATTERNS_MAX, PATH_PATTERN_MAX, &patterns,
                            errmsg);
    if (!rc)
        rc = args_str_array(args, "capabilities", WORKSPACE_CAPS_MAX, WORKSPACE_CAP_LEN,
                            &f->capabilities, errmsg);
    if (!rc)
        rc = args_int(args, "priority", -WORKSPACE_PRIORITY_MAX, WORKSPACE_PRIORITY_MAX, 0,
                      &f->priority, errmsg);
    f->has_priority = args_any(args, "priority") != NULL;
    if (!rc && files)
        rc = workspace__norm_list(ws, files, "files", false, &f->files, errmsg);
    if (!rc && patterns)
        rc = workspace__norm_list(ws, patterns, "patterns", true, &f->patterns, errmsg);
    if (rc)
        workspace__task_fields_deinit(f);
    return rc;
}

void workspace__task_fields_deinit(struct workspace__task_fields *f)
{
    cJSON_Delete(f->files);
    cJSON_Delete(f->patterns);
    f->files = f->patterns = NULL;
}

int workspace__op_create_task(struct workspace *ws, const struct workspace_caller *caller,
                              const cJSON *args, int64_t now_ms, struct event_vec *out,
                              cJSON **result, char **errmsg)
{
    const char *id_arg;
    const cJSON *deps_arg;
    struct workspace__task_fields f = {0};
    cJSON *deps = NULL;
    char *id = NULL;
    int rc = args_str(args, "taskId", false, AGENT_ID_MAX, &id_arg, errmsg);
    if (!rc)
        rc = args_str_array(args, "dependsOn", WORKSPACE_PATTERNS_MAX, AGENT_ID_MAX, &deps_arg,
                            errmsg);
    if (!rc)
        rc = workspace__task_fields_read(ws, args, true, &f, errmsg);
    if (rc)
        return rc;
    if (id_arg && !agent_id_valid(id_arg)) {
        *errmsg = xstrdup("argument 'taskId': must be 1-128 characters of [A-Za-z0-9._:@-]");
        rc = -ERR_INVALID;
        goto done;
    }
    if (id_arg && task_table_get(&ws->tasks, id_arg)) {
        *errmsg = str_printf("argument 'taskId': task '%s' already exists", id_arg);
        rc = -ERR_INVALID;
        goto done;
    }
    if (!f.files)
        f.files = cJSON_CreateArray();
    if (!f.patterns)
        f.patterns = cJSON_CreateArray();
    deps = cJSON_CreateArray();
    const cJSON *d;
    cJSON_ArrayForEach(d, deps_arg)
    {
        if (!task_table_get(&ws->tasks, d->valuestring)) {
            *errmsg = str_printf("argument 'dependsOn': unknown task '%s'", d->valuestring);
            rc = -ERR_INVALID;
            goto done;
        }
        if (!workspace_tasks_arr_has(deps, d->valuestring))
            cJSON_AddItemToArray(deps, cJSON_CreateString(d->valuestring));
    }
    id = id_arg ? xstrdup(id_arg) : workspace_tasks_generated_id(ws);

    /* The record is rendered from a transient struct so its shape is the
     * one task_to_json gives everywhere else. */
    cJSON *empty_caps = f.capabilities ? NULL : cJSON_CreateArray();
    struct task t = {
        .id = id,
        .title = (char *)f.title,
        .description = (char *)f.description,
        .files = f.files,
        .patterns = f.patterns,
        .capabilities = f.capabilities ? (cJSON *)f.capabilities : empty_caps,
        .depends_on = deps,
        .priority = f.priority,
        .status = TASK_OPEN,
        .created_by = (char *)caller->agent_id,
        .created_at = now_ms,
    };
    cJSON *data = cJSON_CreateObject();
    cJSON_AddItemToObject(data, "task", task_to_json(&t, false));
    cJSON_Delete(empty_caps);
    workspace__emit(ws, out, EVENT_TASK_CREATED, now_ms, data);
    *result = cJSON_CreateObject();
    cJSON_AddItemToObject(*result, "task", task_to_json(task_table_get(&ws->tasks, id), false));
done:
    workspace__task_fields_deinit(&f);
    cJSON_Delete(deps);
    free(id);
    return rc;
}

/* Does another agent than self hold a live lease on any of t's keys? */
static bool workspace_tasks_blocked(const struct workspace *ws, const struct task *t,
                                    const char *self, int64_t now_ms)
{
    const cJSON *lists[2] = {t->files, t->patterns};
    for (int p = 0; p < 2; p++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, lists[p])
        {
            struct lease_vec v = {0};
            lease_table_conflicts(&ws->leases, e->valuestring, p == 1, self, LEASE_EXCLUSIVE, true,
                                  now_ms, false, &v);
            size_t n = v.len;
            lease_vec_deinit(&v);
            if (n)
                return true;
        }
    }
    return false;
}

static int workspace_tasks_avail_cmp(const void *x, const void *y)
{
    const struct task *a = *(struct task *const *)x, *b = *(struct task *const *)y;
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    if (a->created_at != b->created_at)
        return a->created_at < b->created_at ? -1 : 1;
    return strcmp(a->id, b->id);
}

int workspace__op_find_available_tasks(struct workspace *ws, const struct workspace_caller *caller,
                                       const cJSON *args, int64_t now_ms, struct event_vec *out,
                                       cJSON **result, char **errmsg)
{
    (void)out;
    const cJSON *caps;
    const char *self;
    int64_t limit;
    int rc =
        args_str_array(args, "capabilities", WORKSPACE_CAPS_MAX, WORKSPACE_CAP_LEN, &caps, errmsg);
    if (!rc)
        rc = args_int(args, "limit", 1, WORKSPACE_FIND_LIMIT_MAX, WORKSPACE_FIND_LIMIT_DEFAULT,
                      &limit, errmsg);
    if (!rc)
        rc = args_str(args, "agentId", false, AGENT_ID_MAX, &self, errmsg);
    if (rc)
        return rc;
    if (!self)
        self = caller->agent_id;
    const struct agent *a = self ? agent_table_get(&ws->agents, self) : NULL;
    cJSON *none = cJSON_CreateArray();
    const cJSON *have = caps ? caps : (a ? a->capabilities : none);

    size_t n, k = 0;
    struct task **all = task_table_sorted(&ws->tasks, &n);
    for (size_t i = 0; i < n; i++) {
        struct task *t = all[i];
        if (t->status == TASK_OPEN && task_deps_done(&ws->tasks, t, NULL) &&
            agent_caps_cover(have, t->capabilities) &&
            !workspace_tasks_blocked(ws, t, self, now_ms))
            all[k++] = t;
    }
    qsort(all, k, sizeof(*all), workspace_tasks_avail_cmp);
    cJSON *r = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(r, "tasks");
    for (size_t i = 0; i < k && i < (size_t)limit; i++)
        cJSON_AddItemToArray(arr, task_to_json(all[i], false));
    free(all);
    cJSON_Delete(none);
    *result = r;
    return 0;
}

/* A domain refusal about task t: {success:false, error, task}. */
cJSON *workspace__task_refusal(const struct task *t, const char *fmt_err, const char *a,
                               const char *b)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddFalseToObject(r, "success");
    char *err = str_printf(fmt_err, a, b);
    cJSON_AddStringToObject(r, "error", err);
    free(err);
    cJSON_AddItemToObject(r, "task", task_to_json(t, false));
    return r;
}

/* The refusal of a task someone else has claimed: it names the claimer
 * and since when, in the text and as claimedBy/claimedAt (docs/tools.md). */
static cJSON *workspace_tasks_claimed_refusal(const struct task *t)
{
    char since[CLOCK_ISO_LEN];
    clock_format_iso(t->claimed_at, since, sizeof(since));
    cJSON *r = cJSON_CreateObject();
    cJSON_AddFalseToObject(r, "success");
    char *err = str_printf("task '%s' is claimed by %s since %s", t->id, t->claimed_by, since);
    cJSON_AddStringToObject(r, "error", err);
    free(err);
    cJSON_AddItemToObject(r, "task", task_to_json(t, false));
    cJSON_AddStringToObject(r, "claimedBy", t->claimed_by);
    cJSON_AddStringToObject(r, "claimedAt", since);
    return r;
}

/* The strings of need that have lacks (a new array). */
cJSON *workspace__missing_caps(const cJSON *have, const cJSON *need)
{
    cJSON *missing = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach(e, need)
    {
        if (!workspace_tasks_arr_has(have, e->valuestring))
            cJSON_AddItemToArray(missing, cJSON_CreateString(e->valuestring));
    }
    return missing;
}

/* "a, b, c" of an array of strings (caller frees). */
char *workspace__join(const cJSON *arr)
{
    struct buf b;
    buf_init(&b, 0);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if ((b.len && buf_append_str(&b, ", ")) || buf_append_str(&b, e->valuestring))
            abort(); /* uncapped buffer: cannot fail */
    }
    char *s = xstrdup(b.len ? b.data : "");
    buf_deinit(&b);
    return s;
}

/* The task named by the required "taskId" argument. */
int workspace__task_arg(const struct workspace *ws, const cJSON *args, struct task **t,
                        char **errmsg)
{
    const char *id;
    int rc = args_str(args, "taskId", true, AGENT_ID_MAX, &id, errmsg);
    if (rc)
        return rc;
    *t = task_table_get(&ws->tasks, id);
    if (!*t) {
        *errmsg = str_printf("argument 'taskId': no task '%s'", id);
        return -ERR_NOT_FOUND;
    }
    return 0;
}

struct claim_key {
    const char *key; /* borrowed from a cJSON array */
    bool pattern;
    bool extra; /* one of the call's files, not the task's */
    struct workspace_lock_eval e;
};

/* The keys a claim of t takes: the task's files, the call's extra files,
 * the task's patterns, each once, in that order, each evaluated for an
 * exclusive lease by agent. *n gets the count; the array has room for
 * one more (never empty, for xcalloc). */
static struct claim_key *workspace_tasks_claim_keys_eval(const struct workspace *ws,
                                                         const struct task *t, const cJSON *extra,
                                                         const char *agent, int64_t now_ms,
                                                         size_t *n)
{
    size_t cap = (size_t)cJSON_GetArraySize(t->files) + (size_t)cJSON_GetArraySize(extra) +
                 (size_t)cJSON_GetArraySize(t->patterns);
    struct claim_key *keys = xcalloc(cap + 1, sizeof(*keys));
    size_t nkeys = 0;
    const cJSON *lists[3] = {t->files, extra, t->patterns};
    for (int p = 0; p < 3; p++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, lists[p])
        {
            bool dup = false;
            for (size_t i = 0; i < nkeys; i++)
                dup |= keys[i].pattern == (p == 2) && strcmp(keys[i].key, e->valuestring) == 0;
            if (dup)
                continue;
            keys[nkeys].key = e->valuestring;
            keys[nkeys].pattern = p == 2;
            keys[nkeys].extra = p == 1;
            workspace__lock_eval(ws, agent, e->valuestring, p == 2, LEASE_EXCLUSIVE, now_ms,
                                 &keys[nkeys].e);
            nkeys++;
        }
    }
    *n = nkeys;
    return keys;
}

static void workspace_tasks_claim_keys_free(struct claim_key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        workspace__lock_eval_deinit(&keys[i].e);
    free(keys);
}

/* The refusal of a claim of t by agent that no lease decides: t is
 * claimed, not open, waits for a dependency, or asks for a capability
 * the agent lacks. NULL when none applies; otherwise *o gets why. */
static cJSON *workspace_tasks_claim_refusal_state(const struct workspace *ws, const struct task *t,
                                                  const char *agent, struct observation *o)
{
    cJSON *r;
    const char *blocking = NULL;
    if (t->status == TASK_CLAIMED && t->claimed_by) {
        r = workspace_tasks_claimed_refusal(t);
        o->claim = OBSERVATION_CLAIM_CLAIMED;
        o->holder = t->claimed_by;
    } else if (t->status != TASK_OPEN) {
        r = workspace__task_refusal(t, "task '%s' is %s", t->id, task_status_name(t->status));
        if (t->claimed_by)
            cJSON_AddStringToObject(r, "claimedBy", t->claimed_by);
        o->claim = OBSERVATION_CLAIM_NOT_OPEN;
    } else if (!task_deps_done(&ws->tasks, t, &blocking)) {
        r = workspace__task_refusal(t, "task '%s' depends on unfinished task '%s'", t->id,
                                    blocking);
        cJSON *b = cJSON_CreateArray();
        const cJSON *d;
        cJSON_ArrayForEach(d, t->depends_on)
        {
            const struct task *dep = task_table_get(&ws->tasks, d->valuestring);
            if (!dep || dep->status != TASK_COMPLETED)
                cJSON_AddItemToArray(b, cJSON_CreateString(d->valuestring));
        }
        cJSON_AddArrayToObject(r, "conflicts");
        cJSON_AddItemToObject(r, "blockedBy", b);
        o->claim = OBSERVATION_CLAIM_BLOCKED;
        o->blocked_by = blocking;
        return r;
    } else {
        /* The claimer's own capabilities, as find_available_tasks judges
         * them: a task is never claimed by an agent it did not offer
         * itself to (an admin acting for the agent included). */
        const struct agent *claimer = agent_table_get(&ws->agents, agent);
        if (agent_caps_cover(claimer->capabilities, t->capabilities))
            return NULL;
        cJSON *missing = workspace__missing_caps(claimer->capabilities, t->capabilities);
        char *names = workspace__join(missing);
        r = workspace__task_refusal(t, "agent '%s' lacks capabilities required by the task: %s",
                                    agent, names);
        free(names);
        cJSON_AddItemToObject(r, "missingCapabilities", missing);
        o->claim = OBSERVATION_CLAIM_CAPABILITIES;
    }
    cJSON_AddArrayToObject(r, "conflicts");
    return r;
}

/* The refusal of a claim whose keys meet another agent's live lease
 * (every such holder in conflicts[]), or NULL when none does; *o gets
 * the first key and holder. */
static cJSON *workspace_tasks_claim_refusal_held(struct workspace *ws, const struct task *t,
                                                 const struct claim_key *keys, size_t nkeys,
                                                 struct observation *o)
{
    cJSON *conflicts = cJSON_CreateArray();
    for (size_t i = 0; i < nkeys; i++) {
        for (size_t j = 0; j < keys[i].e.conflicts.len; j++) {
            const struct lease *h = keys[i].e.conflicts.items[j];
            cJSON_AddItemToArray(conflicts,
                                 workspace__conflict_json(h, keys[i].key, keys[i].pattern));
            if (!o->holder) {
                o->claim = OBSERVATION_CLAIM_FILES_HELD;
                o->file = keys[i].key;
                o->pattern = keys[i].pattern;
                o->holder = h->agent_id;
                o->lease_until = h->expires_at;
            }
        }
    }
    if (cJSON_GetArraySize(conflicts) == 0) {
        cJSON_Delete(conflicts);
        return NULL;
    }
    const cJSON *first = cJSON_GetArrayItem(conflicts, 0);
    cJSON *r = workspace__task_refusal(t, "'%s' is locked by %s", json_get_str(first, "file", ""),
                                       json_get_str(first, "lockedBy", ""));
    cJSON_AddItemToObject(r, "conflicts", conflicts);
    ws->lock_contended++;
    return r;
}

/* Expired holders in the way of the claim go first, each once (keys may
 * share one); their session-less agents settle after. */
static void workspace_tasks_claim_expire_stale(struct workspace *ws, const char *agent,
                                               const struct claim_key *keys, size_t nkeys,
                                               int64_t now_ms, struct event_vec *out)
{
    struct lease_vec stale = {0};
    for (size_t i = 0; i < nkeys; i++) {
        for (size_t j = 0; j < keys[i].e.stale.len; j++) {
            bool dup = false;
            for (size_t k = 0; k < stale.len; k++)
                dup |= stale.items[k] == keys[i].e.stale.items[j];
            if (!dup)
                lease_vec_push(&stale, keys[i].e.stale.items[j]);
        }
    }
    lease_vec_sort(&stale);
    cJSON *gone = cJSON_CreateArray(); /* expired holders other than the claimer */
    for (size_t i = 0; i < stale.len; i++) {
        if (strcmp(stale.items[i]->agent_id, agent) != 0)
            cJSON_AddItemToArray(gone, cJSON_CreateString(stale.items[i]->agent_id));
        workspace__emit(ws, out, EVENT_FILE_UNLOCKED, now_ms,
                        workspace__unlock_data(stale.items[i], "expired"));
        ws->lock_expired++;
    }
    lease_vec_deinit(&stale);
    const cJSON *gid;
    cJSON_ArrayForEach(gid, gone)
    {
        workspace__settle_sessionless(ws, gid->valuestring, now_ms, out);
    }
    cJSON_Delete(gone);
}

/* Emit task:claimed and one file:locked per key; returns the result's
 * locks[]. Tokens: a held exclusive lease is renewed (token kept);
 * anything else is a grant whose token is its file:locked seq, so
 * task:claimed can carry them before they are emitted. */
static cJSON *workspace_tasks_claim_emit(struct workspace *ws, const struct task *t,
                                         const char *agent, const struct claim_key *keys,
                                         size_t nkeys, int64_t now_ms, struct event_vec *out)
{
    uint64_t base = ws->seq + 1; /* task:claimed */
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "taskId", t->id);
    cJSON_AddStringToObject(d, "agentId", agent);
    cJSON *df = cJSON_AddArrayToObject(d, "files");
    cJSON *dp = cJSON_AddArrayToObject(d, "patterns");
    cJSON *dt = cJSON_AddArrayToObject(d, "tokens");
    cJSON *dx = cJSON_AddArrayToObject(d, "extraFiles"); /* kept on the task for a resume */
    cJSON *locks = cJSON_CreateArray();
    for (size_t i = 0; i < nkeys; i++) {
        if (keys[i].extra)
            cJSON_AddItemToArray(dx, cJSON_CreateString(keys[i].key));
        struct lease *own = keys[i].e.own;
        uint64_t tok = own && own->mode == LEASE_EXCLUSIVE ? own->token : base + 1 + i;
        cJSON_AddItemToArray(keys[i].pattern ? dp : df, cJSON_CreateString(keys[i].key));
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "file", keys[i].key);
        if (keys[i].pattern)
            cJSON_AddTrueToObject(item, "pattern");
        json_add_u64(item, "token", tok);
        cJSON_AddItemToArray(dt, cJSON_Duplicate(item, 1));
        cJSON_AddItemToArray(locks, item);
    }
    workspace__emit(ws, out, EVENT_TASK_CLAIMED, now_ms, d);
    char *reason = str_printf("task %s", t->id);
    for (size_t i = 0; i < nkeys; i++) {
        struct workspace_lock_eval e = {.own = keys[i].e.own};
        uint64_t tok = 0;
        cJSON *g = workspace__lock_grant(ws, agent, keys[i].key, keys[i].pattern, LEASE_EXCLUSIVE,
                                         reason, ws->default_ttl_ms, t->id, now_ms, &e, out, &tok);
        cJSON_Delete(g);
        if (tok != (uint64_t)json_get_i64(cJSON_GetArrayItem(locks, (int)i), "token", 0))
            abort(); /* the prediction above is the contract of task:claimed */
    }
    free(reason);
    return locks;
}

int workspace__op_claim_task(struct workspace *ws, const struct workspace_caller *caller,
                             const cJSON *args, int64_t now_ms, struct event_vec *out,
                             cJSON **result, char **errmsg)
{
    struct task *t;
    const char *agent;
    const cJSON *extra_arg;
    cJSON *extra = NULL;
    int rc = workspace__task_arg(ws, args, &t, errmsg);
    if (!rc)
        rc = args_str_array(args, "files", WORKSPACE_LIST_MAX, PATH_MAX_LEN, &extra_arg, errmsg);
    if (!rc)
        rc = workspace__norm_list(ws, extra_arg, "files", false, &extra, errmsg);
    if (!rc)
        rc = workspace__actor(ws, caller, args, true, &agent, errmsg);
    if (rc) {
        cJSON_Delete(extra);
        return rc;
    }
    struct observation o = {.kind = OBSERVATION_CLAIM_REFUSED};
    size_t nkeys = 0;
    struct claim_key *keys = NULL;
    *result = workspace_tasks_claim_refusal_state(ws, t, agent, &o);
    if (!*result) {
        keys = workspace_tasks_claim_keys_eval(ws, t, extra, agent, now_ms, &nkeys);
        *result = workspace_tasks_claim_refusal_held(ws, t, keys, nkeys, &o);
    }
    if (*result) {
        if (workspace__observing(ws)) {
            o.at_ms = now_ms;
            o.agent_id = agent;
            o.session_id = caller->session_id;
            o.task_id = t->id;
            workspace__observe(ws, &o);
        }
    } else {
        workspace_tasks_claim_expire_stale(ws, agent, keys, nkeys, now_ms, out);
        cJSON *locks = workspace_tasks_claim_emit(ws, t, agent, keys, nkeys, now_ms, out);
        *result = cJSON_CreateObject();
        cJSON_AddTrueToObject(*result, "success");
        cJSON_AddItemToObject(*result, "task", task_to_json(t, false));
        cJSON_AddItemToObject(*result, "locks", locks);
    }
    if (keys)
        workspace_tasks_claim_keys_free(keys, nkeys);
    cJSON_Delete(extra);
    return rc;
}

/* Shared checks of complete_task / release_task: the actor is the
 * claimer, or the caller is admin. *refusal is set for domain refusals. */
static int workspace_tasks_finish_check(struct workspace *ws, const struct workspace_caller *caller,
                                        const cJSON *args, struct task **t, const char **actor,
                                        cJSON **refusal, char **errmsg)
{
    *refusal = NULL;
    int rc = workspace__task_arg(ws, args, t, errmsg);
    if (!rc)
        rc = workspace__actor(ws, caller, args, !caller->admin, actor, errmsg);
    if (rc)
        return rc;
    if ((*t)->status != TASK_CLAIMED) {
        *refusal = workspace__task_refusal(*t, "task '%s' is %s", (*t)->id,
                                           task_status_name((*t)->status));
        return 0;
    }
    bool claimer = *actor && strcmp(*actor, (*t)->claimed_by) == 0;
    if (!claimer && !caller->admin)
        *refusal = workspace_tasks_claimed_refusal(*t);
    return 0;
}

int workspace__op_complete_task(struct workspace *ws, const struct workspace_caller *caller,
                                const cJSON *args, int64_t now_ms, struct event_vec *out,
                                cJSON **result, char **errmsg)
{
    struct task *t;
    const char *actor;
    const cJSON *res = args_any(args, "result");
    if (res) {
        char *text = json_print(res);
        size_t n = strlen(text);
        free(text);
        if (n > WORKSPACE_TEXT_MAX) {
            *errmsg = str_printf("argument 'result': larger than %d bytes", WORKSPACE_TEXT_MAX);
            return -ERR_INVALID;
        }
    }
    int rc = workspace_tasks_finish_check(ws, caller, args, &t, &actor, result, errmsg);
    if (rc || *result)
        return rc;
    char *claimer = xstrdup(t->claimed_by);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "taskId", t->id);
    cJSON_AddStringToObject(d, "agentId", claimer);
    cJSON_AddItemToObject(d, "result", res ? cJSON_Duplicate(res, 1) : cJSON_CreateNull());
    cJSON_AddStringToObject(d, "completedBy", actor ? actor : "admin");
    workspace__emit(ws, out, EVENT_TASK_COMPLETED, now_ms, d);
    cJSON *keys = cJSON_CreateArray();
    workspace__release_agent(ws, claimer, t->id, "task_completed", now_ms, out, keys);
    workspace__settle_sessionless(ws, claimer, now_ms, out);
    free(claimer);
    *result = cJSON_CreateObject();
    cJSON_AddTrueToObject(*result, "success");
    cJSON_AddItemToObject(*result, "task", task_to_json(t, false));
    cJSON_AddItemToObject(*result, "unlockedFiles", keys);
    return 0;
}

int workspace__op_release_task(struct workspace *ws, const struct workspace_caller *caller,
                               const cJSON *args, int64_t now_ms, struct event_vec *out,
                               cJSON **result, char **errmsg)
{
    struct task *t;
    const char *actor, *reason;
    bool failed;
    int rc = args_str(args, "reason", false, WORKSPACE_REASON_MAX, &reason, errmsg);
    if (!rc)
        rc = args_bool(args, "failed", false, &failed, errmsg);
    if (!rc)
        rc = workspace_tasks_finish_check(ws, caller, args, &t, &actor, result, errmsg);
    if (rc || *result)
        return rc;
    char *claimer = xstrdup(t->claimed_by);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "taskId", t->id);
    cJSON_AddStringToObject(d, "agentId", claimer);
    if (reason)
        cJSON_AddStringToObject(d, "reason", reason);
    else
        cJSON_AddNullToObject(d, "reason");
    cJSON_AddStringToObject(d, "releasedBy", actor ? actor : "admin");
    workspace__emit(ws, out, failed ? EVENT_TASK_FAILED : EVENT_TASK_RELEASED, now_ms, d);
    cJSON *keys = cJSON_CreateArray();
    workspace__release_agent(ws, claimer, t->id, failed ? "task_failed" : "task_released", now_ms,
                             out, keys);
    workspace__settle_sessionless(ws, claimer, now_ms, out);
    free(claimer);
    *result = cJSON_CreateObject();
    cJSON_AddTrueToObject(*result, "success");
    cJSON_AddItemToObject(*result, "task", task_to_json(t, false));
    cJSON_AddItemToObject(*result, "unlockedFiles", keys);
    return 0;
}

int workspace__op_list_tasks(struct workspace *ws, const struct workspace_caller *caller,
                             const cJSON *args, int64_t now_ms, struct event_vec *out,
                             cJSON **result, char **errmsg)
{
    (void)caller;
    (void)now_ms;
    (void)out;
    const char *status_arg, *agent;
    enum task_status filter = TASK_OPEN;
    int rc = args_str(args, "status", false, WORKSPACE_ENUM_ARG_MAX, &status_arg, errmsg);
    if (!rc)
        rc = args_str(args, "agentId", false, AGENT_ID_MAX, &agent, errmsg);
    if (rc)
        return rc;
    if (status_arg && task_status_parse(status_arg, &filter)) {
        *errmsg = xstrdup(
            "argument 'status': must be one of open, claimed, completed, failed, cancelled");
        return -ERR_INVALID;
    }
    size_t n;
    struct task **all = task_table_sorted(&ws->tasks, &n);
    cJSON *r = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(r, "tasks");
    for (size_t i = 0; i < n; i++) {
        const struct task *t = all[i];
        if (status_arg && t->status != filter)
            continue;
        if (agent && (!t->claimed_by || strcmp(t->claimed_by, agent) != 0))
            continue;
        cJSON_AddItemToArray(arr, task_to_json(t, false));
    }
    free(all);
    *result = r;
    return 0;
}
