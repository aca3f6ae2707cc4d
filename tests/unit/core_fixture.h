/* core_fixture — shared helpers for the core unit tests (header-only; not
 * a test itself). A fixture owns a workspace, a fake clock and the log of
 * every event the workspace emitted, so each test can end by checking the
 * replay invariant: a fresh workspace fed the log has the same snapshot.
 * Tests name ops by their tools' names: fx_op() finds the op the tool's
 * definition carries (rpc/tools.h), as the hub does. */
#ifndef COORDHUB_TESTS_CORE_FIXTURE_H
#define COORDHUB_TESTS_CORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "core/workspace.h"
#include "rpc/tools.h"

#define FX_T0 1795986871000LL /* 2026-11-29T21:14:31Z */

struct fx {
    struct workspace *ws;
    struct workspace_config cfg;
    struct event_vec log; /* every event emitted, in order */
    int64_t now;
};

static inline void fx_init_cfg(struct fx *f, const struct workspace_config *cfg)
{
    memset(f, 0, sizeof(*f));
    if (cfg)
        f->cfg = *cfg;
    if (!f->cfg.name)
        f->cfg.name = "shop";
    if (!f->cfg.root)
        f->cfg.root = "/home/u/shop";
    f->ws = workspace_new(&f->cfg);
    event_vec_init(&f->log);
    f->now = FX_T0;
}

static inline void fx_init(struct fx *f)
{
    fx_init_cfg(f, NULL);
}

/* Replay the log into a fresh workspace and compare snapshots. */
static inline void fx_check_replay(struct fx *f)
{
    struct workspace *r = workspace_new(&f->cfg);
    for (size_t i = 0; i < f->log.len; i++) {
        if (workspace_apply(r, &f->log.items[i]) != 0) {
            char *t = event_to_text(&f->log.items[i], NULL);
            fail_msg("replay rejected event %zu: %s", i, t);
        }
    }
    cJSON *a = workspace_snapshot(f->ws), *b = workspace_snapshot(r);
    char *sa = json_print(a), *sb = json_print(b);
    if (strcmp(sa, sb) != 0)
        fail_msg("replay differs from live state\nlive:   %s\nreplay: %s", sa, sb);
    free(sa);
    free(sb);
    cJSON_Delete(a);
    cJSON_Delete(b);
    workspace_free(r);
}

static inline void fx_deinit(struct fx *f)
{
    fx_check_replay(f);
    workspace_free(f->ws);
    event_vec_deinit(&f->log);
}

static inline struct workspace_caller fx_as(const char *agent, const char *session)
{
    struct workspace_caller c = {agent, session, false, NULL};
    return c;
}

static inline struct workspace_caller fx_admin(const char *agent)
{
    struct workspace_caller c = {agent, NULL, true, NULL};
    return c;
}

static inline cJSON *fx_parse(const char *json)
{
    if (!json)
        return NULL;
    cJSON *v = cJSON_Parse(json);
    if (!v)
        fail_msg("bad test JSON: %s", json);
    return v;
}

/* The core's op of the tool called name; WORKSPACE_OP_NONE (which the
 * core refuses) for a name that is not a tool of the core. */
static inline enum workspace_op fx_op(const char *name)
{
    const struct tool_def *t = tools_find(name);
    return t ? t->core_op : WORKSPACE_OP_NONE;
}

/* Run op; it must succeed. Returns the result (caller frees). */
static inline cJSON *fx_call(struct fx *f, const struct workspace_caller *c, const char *op,
                             const char *json)
{
    cJSON *args = fx_parse(json), *result = NULL;
    char *msg = NULL;
    int rc = workspace_exec(f->ws, c, fx_op(op), args, f->now, &f->log, &result, &msg);
    if (rc != 0)
        fail_msg("%s %s failed: %d %s", op, json ? json : "", rc, msg ? msg : "");
    assert_non_null(result);
    assert_null(msg);
    cJSON_Delete(args);
    return result;
}

/* Run op; it must fail with rc and emit nothing. Returns the message
 * (caller frees). */
static inline char *fx_fail_get(struct fx *f, const struct workspace_caller *c, const char *op,
                                const char *json, int rc)
{
    cJSON *args = fx_parse(json), *result = NULL;
    char *msg = NULL;
    size_t before = f->log.len;
    uint64_t seq = workspace_seq(f->ws);
    int got = workspace_exec(f->ws, c, fx_op(op), args, f->now, &f->log, &result, &msg);
    if (got != rc)
        fail_msg("%s %s: expected %d, got %d (%s)", op, json ? json : "", rc, got, msg ? msg : "");
    assert_null(result);
    assert_non_null(msg);
    assert_int_equal(f->log.len, before);
    assert_true(workspace_seq(f->ws) == seq);
    cJSON_Delete(args);
    return msg;
}

/* Run op; it must fail with rc and emit nothing. */
static inline void fx_fail(struct fx *f, const struct workspace_caller *c, const char *op,
                           const char *json, int rc)
{
    free(fx_fail_get(f, c, op, json, rc));
}

/* Like fx_fail, and the message must contain needle. */
static inline void fx_fail_msg(struct fx *f, const struct workspace_caller *c, const char *op,
                               const char *json, int rc, const char *needle)
{
    char *msg = fx_fail_get(f, c, op, json, rc);
    if (!strstr(msg, needle))
        fail_msg("%s: message '%s' lacks '%s'", op, msg, needle);
    free(msg);
}

/* Register agent id on session (a live session) and return nothing. */
static inline void fx_register(struct fx *f, const char *id, const char *session)
{
    struct workspace_caller c = fx_as(NULL, session);
    char json[256];
    snprintf(json, sizeof(json), "{\"agentId\":\"%s\"}", id);
    cJSON *r = fx_call(f, &c, "register_agent", json);
    assert_string_equal(json_get_str(r, "agentId", ""), id);
    cJSON_Delete(r);
}

static inline void fx_tick(struct fx *f)
{
    workspace_tick(f->ws, f->now, &f->log);
}

static inline const struct event *fx_last(const struct fx *f)
{
    assert_true(f->log.len > 0);
    return &f->log.items[f->log.len - 1];
}

static inline const struct event *fx_ev(const struct fx *f, size_t from_end)
{
    assert_true(f->log.len > from_end);
    return &f->log.items[f->log.len - 1 - from_end];
}

/* Does r have a boolean member key equal to v? */
static inline bool fx_bool(const cJSON *r, const char *key, bool v)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, key);
    return cJSON_IsBool(m) && (cJSON_IsTrue(m) == v);
}

static inline void fx_assert_str(const cJSON *o, const char *key, const char *want)
{
    const char *got = json_get_str(o, key, NULL);
    if (!got || strcmp(got, want) != 0)
        fail_msg("member '%s': got '%s', want '%s'", key, got ? got : "(absent)", want);
}

#endif
