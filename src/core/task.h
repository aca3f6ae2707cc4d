/* task — task records and the table that holds them.
 *
 * A task names the work (title, description), the files and patterns it
 * will touch, the capabilities it requires, the tasks it depends on, and
 * its lifecycle: open → claimed → completed | failed (or back to open on
 * release; cancelled is reserved). Dependencies name tasks that already
 * existed when the task was created, so the graph is acyclic by
 * construction. The table owns its records.
 *
 * A claim may lease extra files beside the task's own (claim_task's
 * `files`): they are kept on the task while it is claimed (claim_files)
 * so a resumed claimer gets them back. The table also counts, per agent,
 * the tasks it claims, so "does this agent claim a task" is one lookup;
 * status and claimer change only through task_table_claim and
 * task_table_set_status, which keep that count. */
#ifndef COORDHUB_CORE_TASK_H
#define COORDHUB_CORE_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/map.h"

enum task_status {
    TASK_OPEN = 0,
    TASK_CLAIMED,
    TASK_COMPLETED,
    TASK_FAILED,
    TASK_CANCELLED,
};

struct task {
    char *id;            /* owned; the table's key */
    char *title;         /* owned */
    char *description;   /* owned, may be NULL */
    cJSON *files;        /* owned array of normalised file keys */
    cJSON *patterns;     /* owned array of normalised patterns */
    cJSON *capabilities; /* owned array of strings (required) */
    cJSON *depends_on;   /* owned array of task ids */
    int64_t priority;    /* higher first */
    enum task_status status;
    char *claimed_by;     /* owned, NULL unless claimed (kept when completed/failed) */
    cJSON *claim_files;   /* owned array of extra file keys of the claim; NULL unless claimed */
    char *created_by;     /* owned, may be NULL */
    char *failure_reason; /* owned, may be NULL */
    cJSON *result;        /* owned, may be NULL: complete_task's result */
    int64_t created_at;   /* ms since epoch */
    int64_t claimed_at;   /* ms; 0 = never */
    int64_t completed_at; /* ms; 0 = not finished */
    uint64_t created_seq; /* seq of task:created: the creation order */
};

struct task_table {
    struct map by_id;  /* id -> struct task (owned) */
    struct map claims; /* agent id -> struct task_claims (owned): agents claiming >= 1 task */
};

void task_table_init(struct task_table *t);
void task_table_deinit(struct task_table *t);
struct task *task_table_get(const struct task_table *t, const char *id);
static inline size_t task_table_len(const struct task_table *t)
{
    return map_len(&t->by_id);
}
/* How many tasks agent_id claims (status claimed, claimed_by agent_id). */
size_t task_table_claimed_by(const struct task_table *t, const char *agent_id);
/* All records in creation order (array owned by caller, records not). */
struct task **task_table_sorted(const struct task_table *t, size_t *n);

/* The record {taskId, title, description, files, patterns, capabilities,
 * dependsOn, priority, status, claimedBy, createdBy, createdAt, claimedAt,
 * completedAt, result, failureReason}; absent values are null. With
 * with_seq, "createdSeq" and (when the claim has any) "claimFiles" are
 * added (snapshots). Caller owns. */
cJSON *task_to_json(const struct task *t, bool with_seq);
/* Parse a record and add it. created_seq overrides the record's
 * "createdSeq" when non-zero. -ERR_INVALID (table unchanged) when
 * malformed or the id exists. */
COORDHUB_MUST_CHECK int task_table_add_json(struct task_table *t, const cJSON *rec,
                                            uint64_t created_seq);

const char *task_status_name(enum task_status s);
int task_status_parse(const char *s, enum task_status *out);
/* True when every dependency of t is completed. When not, and blocking is
 * not NULL, *blocking is the first unfinished dependency id. */
bool task_deps_done(const struct task_table *tt, const struct task *t, const char **blocking);
/* t becomes claimed by agent_id (copied) with the claim's extra files
 * (ownership taken; NULL: none), whatever its status was. */
void task_table_claim(struct task_table *tt, struct task *t, const char *agent_id,
                      cJSON *claim_files);
/* t gets status st (not TASK_CLAIMED: see task_table_claim); the claim's
 * extra files go; with clear_claimer the claimer is forgotten too (a
 * task given back), else it is kept (completed, failed, cancelled). */
void task_table_set_status(struct task_table *tt, struct task *t, enum task_status st,
                           bool clear_claimer);
/* Set the failure reason (copied; NULL clears). */
void task_set_failure(struct task *t, const char *reason);
/* Take ownership of result (NULL clears). */
void task_set_result(struct task *t, cJSON *result);

#endif
