/* Unit tests for hub_outage: the replica a hub on a store that can go away
 * answers reads from while the store is away, the health:degraded
 * announcement, the refusal text and the outage record; and for
 * hub_load_state racing another hub's trim. The hub is built
 * by hand (struct hub is the app's private root) over a memory store
 * dressed as one that can go away (its caps say so; it gets a listen op), with a real
 * workspace, bus and event base; commits are done the way hub.c does them
 * (append, then publish on the bus). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "app/hub_commit.h"
#include "app/hub_metrics.h"
#include "app/hub_outage.h"
#include "app/hub_session.h"
#include "app/hub_state.h"
#include "app/hub_store.h"
#include "app/hub_waits.h"
#include "base/json.h"
#include "bus/bus.h"
#include "rpc/registry.h"
#include "rpc/tools.h"
#include "store/store.h"

struct fixture {
    struct hub h;
    struct store_ops ops; /* the memory store's, declared shared and able to go away */
    int announced;        /* bus events with seq 0 */
    char announce[512];   /* wire JSON of the last one */
    int answered;         /* answers through the test session kind */
    bool answer_error;
    char answer[1024];
};

static void fake_listen(struct store *s, store_listen_cb cb, void *arg)
{
    (void)s;
    (void)cb;
    (void)arg;
}

static void nothing(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static void on_bus(void *arg, const struct event *ev, const char *text)
{
    struct fixture *f = arg;
    if (ev->seq == 0) {
        f->announced++;
        snprintf(f->announce, sizeof(f->announce), "%s", text);
    }
}

/* The test session kind's answer op (owner: the fixture). */
static void on_reply(struct hub_session *s, uint64_t call_id, cJSON *result, bool is_error)
{
    struct fixture *f = s->owner;
    (void)call_id;
    f->answered++;
    f->answer_error = is_error;
    char *text = json_print(result);
    snprintf(f->answer, sizeof(f->answer), "%s", text);
    free(text);
    cJSON_Delete(result);
}

static const struct hub_session_kind test_kind = {.name = "test", .answer = on_reply};

/* A session of the test kind with one call in flight, as the REST face's
 * (not listed, an id of its own). */
static struct hub_session *test_session(struct fixture *f)
{
    struct hub_session *s = hub_session_new(&f->h.sessions, &test_kind, HUB_AS_NONE, false, 7);
    s->owner = f;
    s->inflight = 1;
    return s;
}

/* The parts' hosts, wired as hub.c wires them. */
static void host_count_changed(void *arg, size_t count)
{
    (void)arg;
    (void)count;
}

static const struct hub_sessions_host test_sessions_host = {.count_changed = host_count_changed};

static void host_answer(void *arg, struct hub_session *s, uint64_t call_id, cJSON *result,
                        bool is_error, struct hub_call_clock clock)
{
    hub_reply_timed(arg, s, call_id, result, is_error, clock);
}

static void host_lock_answer(void *arg, struct hub_session *s, uint64_t call_id, cJSON *result,
                             struct hub_call_clock clock, struct workspace_waiter *waiter)
{
    hub_reply_lock_wait(arg, s, call_id, result, clock, waiter);
}

static void host_lock_ended(void *arg, struct hub_call_clock clock, bool granted)
{
    hub_metrics_lock_wait_done(arg, clock, granted);
}

static void host_schedule_commit(void *arg)
{
    hub_schedule_commit(arg);
}

static int64_t host_now(void *arg)
{
    return hub_now(arg);
}

static const struct hub_waits_host test_waits_host = {
    .answer = host_answer,
    .lock_answer = host_lock_answer,
    .lock_ended = host_lock_ended,
    .schedule_commit = host_schedule_commit,
    .now = host_now,
};

/* A hub on a store that goes away (network = true) or a local one. */
static struct fixture *fixture_new(size_t ring, bool network)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct hub *h = &f->h;
    char *err = NULL;
    struct store_open_opts so = {.workspace = "ws"};
    assert_int_equal(store_open("memory:", &so, &h->store, &err), 0);
    if (network) {
        f->ops = *h->store->ops;
        f->ops.listen = fake_listen;
        f->ops.caps.shared = true;
        f->ops.caps.may_go_away = true;
        h->store->ops = &f->ops;
    }
    h->wscfg.name = "ws";
    h->wscfg.root = "/ws";
    h->ws = workspace_new(&h->wscfg);
    h->bus = bus_new(ring, "ws");
    bus_subscribe(h->bus, on_bus, f);
    h->base = event_base_new();
    h->commit_ev = event_new(h->base, -1, 0, nothing, NULL);
    h->tick_ev = evtimer_new(h->base, nothing, NULL);
    h->reload_ev = evtimer_new(h->base, nothing, NULL);
    h->commit = hub_commit_new();
    event_vec_init(&h->pending);
    snprintf(h->hub_id, sizeof(h->hub_id), "hub-test");
    hub_metrics_init(h);
    hub_sessions_init(&h->sessions, h->base, NULL, h->hub_id, &test_sessions_host, h);
    const struct hub_waits_state st = {.ws = &h->ws,
                                       .pending = &h->pending,
                                       .bus = &h->bus,
                                       .store = &h->store,
                                       .committed_seq = &h->committed_seq,
                                       .workspace = "ws",
                                       .metrics = &h->metrics,
                                       .sessions = &h->sessions};
    hub_waits_init(&h->waits, h->base, &st, &test_waits_host, h);
    return f;
}

static void fixture_free(struct fixture *f)
{
    struct hub *h = &f->h;
    hub_commit_free(h->commit);
    workspace_free(h->committed_view);
    event_vec_deinit(&h->pending);
    free(h->replica_text);
    free(h->down_reason);
    free(h->store_error);
    hub_metrics_fini(h);
    workspace_free(h->ws);
    bus_free(h->bus);
    store_close(h->store);
    event_free(h->commit_ev);
    hub_waits_fini(&h->waits);
    hub_sessions_fini(&h->sessions);
    event_free(h->tick_ev);
    event_free(h->reload_ev);
    event_base_free(h->base);
    free(f);
}

static void append_done(void *arg, int status, uint64_t current)
{
    (void)current;
    *(int *)arg = status;
}

/* Commit the pending events as hub.c does: append, then the bus. */
static void commit(struct fixture *f)
{
    struct hub *h = &f->h;
    int st = -1;
    assert_int_equal(h->store->ops->append(h->store, h->committed_seq, h->pending.items,
                                           h->pending.len, append_done, &st),
                     0);
    assert_int_equal(st, 0);
    for (size_t i = 0; i < h->pending.len; i++)
        assert_int_equal(bus_publish(h->bus, &h->pending.items[i]), 0);
    h->committed_seq = workspace_seq(h->ws);
    event_vec_clear(&h->pending);
    hub_outage_committed(h, true);
}

/* Replace the workspace with the log's fold, as a reload does. */
static void reload(struct fixture *f)
{
    struct hub *h = &f->h;
    struct workspace *ws = workspace_new(&h->wscfg);
    struct event_vec all;
    event_vec_init(&all);
    assert_int_equal(h->store->ops->read(h->store, 0, 1000, &all), 0);
    for (size_t i = 0; i < all.len; i++)
        assert_int_equal(workspace_apply(ws, &all.items[i]), 0);
    event_vec_deinit(&all);
    workspace_free(h->ws);
    h->ws = ws;
    h->committed_seq = workspace_seq(ws);
}

/* Run op with args (JSON) as agent (admin, session "s1"); the result. */
static cJSON *run(struct fixture *f, const char *agent, const char *op, const char *args)
{
    struct workspace_caller c = {.agent_id = agent, .session_id = "s1", .admin = true};
    cJSON *a = cJSON_Parse(args);
    cJSON *result = NULL;
    char *errmsg = NULL;
    int rc = workspace_exec(f->h.ws, &c, op, a, hub_now(&f->h), &f->h.pending, &result, &errmsg);
    if (rc)
        fail_msg("%s: %s", op, errmsg ? errmsg : "?");
    cJSON_Delete(a);
    return result;
}

static void run_and_commit(struct fixture *f, const char *agent, const char *op, const char *args)
{
    cJSON_Delete(run(f, agent, op, args));
    commit(f);
}

/* The files of list_locked_files, joined by ','. */
static void locked_files(struct fixture *f, char *out, size_t len)
{
    cJSON *r = run(f, NULL, "list_locked_files", "{}");
    assert_int_equal(f->h.pending.len, 0); /* a read emits nothing */
    out[0] = '\0';
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(r, "locks"))
    {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s", n ? "," : "", json_get_str(l, "file", "?"));
    }
    cJSON_Delete(r);
}

static void test_hub_outage__rebuilds_the_committed_state_from_replica_and_ring(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(64, true);
    struct hub *h = &f->h;
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"alice\"}");
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"a.c\"}");
    hub_replica_keep(h, true); /* as after a load */
    assert_non_null(h->replica_text);
    assert_int_equal(h->replica_seq, 2);
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"a2.c\"}");
    hub_replica_keep(h, false); /* two events behind: no new text */
    assert_int_equal(h->replica_seq, 2);
    /* A turn whose append fails: b.c is folded, the log lacks it. */
    cJSON_Delete(run(f, "alice", "lock_file", "{\"file\":\"b.c\"}"));
    assert_int_equal(workspace_seq(h->ws), 4);
    event_vec_clear(&h->pending);
    hub_outage_begin(h, "connection refused");
    h->store_stale = true;
    assert_true(h->stale_reads);
    assert_int_equal(workspace_seq(h->ws), 3);
    char files[256];
    locked_files(f, files, sizeof(files));
    assert_string_equal(files, "a.c,a2.c");
    /* The announcement: once, without id, with the contract's fields. */
    assert_int_equal(f->announced, 1);
    cJSON *ann = cJSON_Parse(f->announce);
    assert_null(cJSON_GetObjectItem(ann, "id"));
    assert_string_equal(json_get_str(ann, "type", ""), "health:degraded");
    assert_string_equal(json_get_str(ann, "sourceId", ""), "hub-test");
    const cJSON *d = cJSON_GetObjectItem(ann, "data");
    assert_string_equal(json_get_str(d, "component", ""), "store");
    assert_string_equal(json_get_str(d, "status", ""), "degraded");
    assert_string_equal(json_get_str(d, "reason", ""), "connection refused");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "staleReads")));
    char since[40];
    snprintf(since, sizeof(since), "%s", json_get_str(d, "since", ""));
    assert_int_equal(strlen(since), 24); /* 2026-11-25T02:46:08.907Z */
    cJSON_Delete(ann);
    /* Answers from the replica are marked; writes are refused by name. */
    cJSON *r = run(f, NULL, "list_tasks", "{}");
    hub_stale_mark(h, r);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "stale")));
    assert_string_equal(json_get_str(r, "staleSince", ""), since);
    cJSON_Delete(r);
    assert_true(hub_stale_may_answer(h, tools_find("check_lock")));
    assert_true(hub_stale_may_answer(h, tools_find("get_unified_health")));
    assert_false(hub_stale_may_answer(h, tools_find("lock_file")));
    assert_false(hub_stale_may_answer(h, tools_find("publish_event")));
    char *msg = hub_stale_refusal(h, "lock_file");
    char want[200];
    snprintf(want, sizeof(want),
             "the memory store is unreachable since %s (connection refused); "
             "lock_file was refused and nothing was recorded",
             since);
    if (!strstr(msg, want))
        fail_msg("refusal: %s", msg);
    free(msg);
    /* Still away: no second announcement, the same since. */
    hub_outage_begin(h, "again");
    assert_int_equal(f->announced, 1);
    fixture_free(f);
}

static void test_hub_outage__records_the_outage_once_the_store_is_back(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(64, true);
    struct hub *h = &f->h;
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"alice\"}");
    hub_replica_keep(h, true);
    hub_outage_begin(h, "connection refused");
    h->store_stale = true;
    int64_t since = h->down_since_ms;
    assert_true(since > 0);
    hub_outage_record(h); /* still away: nothing */
    assert_int_equal(h->pending.len, 0);
    /* Back: both events queued, degraded first, the original since. */
    h->store_stale = false;
    hub_outage_record(h);
    assert_int_equal(h->pending.len, 2);
    struct event *dg = &h->pending.items[0], *rc = &h->pending.items[1];
    assert_string_equal(dg->type, "health:degraded");
    assert_string_equal(rc->type, "health:recovered");
    assert_int_equal(rc->seq, dg->seq + 1);
    assert_string_equal(json_get_str(dg->data, "reason", ""), "connection refused");
    assert_string_equal(json_get_str(dg->data, "since", ""), json_get_str(rc->data, "since", "-"));
    assert_true(json_get_i64(rc->data, "downMs", -1) >= 0);
    hub_outage_record(h); /* queued already: not twice */
    assert_int_equal(h->pending.len, 2);
    /* The batch is dropped (the append failed): queued again next time. */
    event_vec_clear(&h->pending);
    hub_outage_committed(h, false);
    reload(f);
    assert_int_equal(h->committed_seq, 1);
    assert_int_equal(h->down_since_ms, since);
    hub_outage_record(h);
    assert_int_equal(h->pending.len, 2);
    commit(f); /* recorded: the outage is over */
    assert_int_equal(h->down_since_ms, 0);
    assert_null(h->down_reason);
    assert_int_equal(h->committed_seq, 3);
    hub_outage_record(h);
    assert_int_equal(h->pending.len, 0);
    fixture_free(f);
}

static void test_hub_outage__refuses_every_read_when_the_ring_is_too_short(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(2, true); /* the ring holds 2 events */
    struct hub *h = &f->h;
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"alice\"}");
    hub_replica_keep(h, true); /* at seq 1 */
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"a.c\"}");
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"b.c\"}");
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"c.c\"}"); /* the ring: 3, 4 */
    cJSON_Delete(run(f, "alice", "lock_file", "{\"file\":\"d.c\"}"));
    event_vec_clear(&h->pending);
    hub_outage_begin(h, "connection refused");
    h->store_stale = true;
    assert_false(h->stale_reads);
    assert_int_equal(workspace_seq(h->ws), 5); /* left as it was: not served */
    assert_false(hub_stale_may_answer(h, tools_find("list_locked_files")));
    assert_true(hub_stale_may_answer(h, tools_find("get_unified_health")));
    char *msg = hub_stale_refusal(h, "list_locked_files");
    assert_non_null(strstr(msg, "every call that needs the store is refused"));
    /* A tool that does not need the store is answered all the same. */
    assert_true(hub_stale_may_answer(h, tools_find("list_servers")));
    free(msg);
    assert_int_equal(f->announced, 1);
    fixture_free(f);
}

static void test_hub_outage__answers_queued_lock_requests_at_once(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(64, true);
    struct hub *h = &f->h;
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"alice\"}");
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"bob\"}");
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"a.c\"}");
    hub_replica_keep(h, true);
    cJSON *q = run(f, "bob", "lock_file", "{\"file\":\"a.c\",\"waitMs\":30000}");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(q, "queued")));
    struct hub_session *s = test_session(f);
    hub_waiter_add(&h->waits, (uint64_t)json_get_i64(q, "waiterId", 0), 7, 1,
                   (struct hub_call_clock){.tool = -1});
    cJSON_Delete(q);
    hub_outage_begin(h, "connection refused");
    h->store_stale = true;
    assert_null(h->waits.waiters);
    assert_int_equal(f->answered, 1);
    assert_true(f->answer_error);
    if (!strstr(f->answer, "\"code\":\"unavailable\"") ||
        !strstr(f->answer, "this queued lock request was refused and nothing was recorded"))
        fail_msg("answer: %s", f->answer);
    /* Nothing was granted: alice still holds a.c alone. */
    char files[256];
    locked_files(f, files, sizeof(files));
    assert_string_equal(files, "a.c");
    hub_session_free(s);
    fixture_free(f);
}

static void test_hub_outage__a_local_store_keeps_no_replica(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(64, false);
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"alice\"}");
    hub_replica_keep(&f->h, true);
    assert_null(f->h.replica_text);
    char *text = strdup("{}");
    assert_false(hub_replica_offer(&f->h, text));
    free(text);
    fixture_free(f);
}

/* "Another hub" that saves a newer snapshot and trims the log behind it
 * right after this hub has read the older snapshot (once). */
static struct fixture *trimming_fixture;
static int snapshot_load_then_trim(struct store *s, uint64_t *seq, char **text)
{
    int rc = store_memory_ops.snapshot_load(s, seq, text);
    struct fixture *f = trimming_fixture;
    if (rc == 0 && f) {
        trimming_fixture = NULL;
        cJSON *snap = workspace_snapshot(f->h.ws);
        char *newer = json_print(snap);
        cJSON_Delete(snap);
        assert_int_equal(
            store_memory_ops.snapshot_save(s, f->h.committed_seq, newer, strlen(newer)), 0);
        free(newer);
        assert_int_equal(store_memory_ops.trim(s, f->h.committed_seq), 0);
    }
    return rc;
}

static void test_hub_load__reads_again_when_another_hub_trims_between_its_reads(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(64, true);
    struct hub *h = &f->h;
    f->ops.snapshot_load = snapshot_load_then_trim;
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"alice\"}");
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"a.c\"}");
    cJSON *snap = workspace_snapshot(h->ws);
    char *text = json_print(snap);
    cJSON_Delete(snap);
    assert_int_equal(h->store->ops->snapshot_save(h->store, 2, text, strlen(text)), 0);
    free(text);
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"b.c\"}");
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"c.c\"}");
    /* The load reads the snapshot at 2; before it reads where the log
     * begins, the log is trimmed up to 4 behind a snapshot at 4. */
    trimming_fixture = f;
    char *err = NULL;
    int rc = hub_load_state(h, &err);
    if (rc != 0)
        fail_msg("load: %s", err ? err : "?");
    assert_null(trimming_fixture); /* the trim did happen */
    assert_int_equal(h->committed_seq, 4);
    assert_int_equal(h->snapshot_seq, 4);
    assert_int_equal(h->first_seq, 5);
    char files[256];
    locked_files(f, files, sizeof(files));
    assert_string_equal(files, "a.c,b.c,c.c");
    fixture_free(f);
}

/* A store whose append answer is lost: the append ran (recorded) or
 * never reached the store, and either way the hub hears -ERR_TIMEOUT. */
static int append_ran_answer_lost(struct store *s, uint64_t expected, const struct event *evs,
                                  size_t n, store_append_cb cb, void *arg)
{
    int st = -1;
    int rc = store_memory_ops.append(s, expected, evs, n, append_done, &st);
    assert_int_equal(rc, 0);
    assert_int_equal(st, 0);
    cb(arg, -ERR_TIMEOUT, 0);
    return 0;
}

static int append_never_arrived(struct store *s, uint64_t expected, const struct event *evs,
                                size_t n, store_append_cb cb, void *arg)
{
    (void)s;
    (void)expected;
    (void)evs;
    (void)n;
    cb(arg, -ERR_TIMEOUT, 0);
    return 0;
}

/* alice's lock_file evaluated and its answer held, as a call's is; then
 * the group commit runs over the given append. */
static void commit_a_lock_over(struct fixture *f, struct hub_session *s,
                               int (*append)(struct store *, uint64_t, const struct event *, size_t,
                                             store_append_cb, void *))
{
    struct hub *h = &f->h;
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"alice\"}");
    cJSON *result = run(f, "alice", "lock_file", "{\"file\":\"a.c\"}");
    assert_int_equal(h->pending.len, 1);
    struct tool_call call = {.hub = h, .session = s, .call_id = 1, .clock = {.tool = -1}};
    hub_reply(&call, result, false); /* held: events are pending */
    assert_int_equal(f->answered, 0);
    f->ops.append = append;
    hub_commit_run(h);
    assert_int_equal(f->answered, 1);
}

static void test_hub_commit__an_unanswered_append_found_in_the_log_is_answered_as_done(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(64, true);
    struct hub_session *s = test_session(f);
    commit_a_lock_over(f, s, append_ran_answer_lost);
    if (f->answer_error || !strstr(f->answer, "\"token\":2"))
        fail_msg("answer: %s", f->answer);
    assert_int_equal(f->h.committed_seq, 2);
    char files[256];
    locked_files(f, files, sizeof(files));
    assert_string_equal(files, "a.c");
    hub_session_free(s);
    fixture_free(f);
}

static void
test_hub_commit__an_unanswered_append_not_in_the_log_says_the_outcome_is_unknown(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(64, true);
    struct hub_session *s = test_session(f);
    commit_a_lock_over(f, s, append_never_arrived);
    assert_true(f->answer_error);
    if (!strstr(f->answer, "whether this was recorded is unknown") ||
        strstr(f->answer, "nothing was recorded"))
        fail_msg("answer: %s", f->answer);
    assert_int_equal(f->h.committed_seq, 1);
    char files[256];
    locked_files(f, files, sizeof(files));
    assert_string_equal(files, ""); /* the state was read back: no a.c */
    hub_session_free(s);
    fixture_free(f);
}

/* Tool metrics are keyed by name, with no fixed slot count: every tool
 * the registry serves gets its own label on its first call, even one a
 * provider brought at run time and past any count of tools; a name the
 * registry does not serve counts as "other". */
struct many_tools {
    struct tool_def defs[64];
    char names[64][16];
    const struct tool_def *list[64];
    size_t n;
};

static const struct tool_def *const *many_list(void *self, size_t *n)
{
    struct many_tools *m = self;
    *n = m->n;
    return m->list;
}

static void many_call(void *self, struct tool_call *call, const struct tool_def *def,
                      const cJSON *args)
{
    (void)self;
    (void)call;
    (void)def;
    (void)args;
}

static const struct tool_provider_ops many_ops = {
    .name = "many", .list = many_list, .call = many_call};

static void test_hub_metrics__tool_slots_are_keyed_by_name(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(64, false);
    struct hub *h = &f->h;
    static struct many_tools m;
    m.n = 0;
    h->registry = tool_registry_new(NULL, NULL);
    assert_int_equal(tool_registry_add(h->registry, &many_ops, &m), 0);
    int other = hub_metrics_tool(h, "made_up");
    for (size_t i = 0; i < 64; i++) {
        snprintf(m.names[i], sizeof(m.names[i]), "late_%zu", i);
        m.defs[i] = (struct tool_def){.name = m.names[i]};
        m.list[i] = &m.defs[i];
    }
    m.n = 64;
    tool_registry_changed(h->registry, &m);
    int first = hub_metrics_tool(h, "late_0");
    assert_int_not_equal(first, other);
    for (size_t i = 1; i < 64; i++) {
        int slot = hub_metrics_tool(h, m.names[i]);
        assert_int_not_equal(slot, other);
        assert_int_not_equal(slot, first);
        assert_string_equal(h->metrics.tools[slot].name, m.names[i]);
    }
    assert_int_equal(hub_metrics_tool(h, "late_0"), first); /* the same slot again */
    assert_int_equal(hub_metrics_tool(h, "made_up"), other);
    assert_string_equal(h->metrics.tools[other].name, "other");
    assert_int_equal(h->metrics.ntools, 65);
    tool_registry_free(h->registry);
    h->registry = NULL;
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_outage__rebuilds_the_committed_state_from_replica_and_ring),
        cmocka_unit_test(test_hub_outage__records_the_outage_once_the_store_is_back),
        cmocka_unit_test(test_hub_outage__refuses_every_read_when_the_ring_is_too_short),
        cmocka_unit_test(test_hub_outage__answers_queued_lock_requests_at_once),
        cmocka_unit_test(test_hub_outage__a_local_store_keeps_no_replica),
        cmocka_unit_test(test_hub_load__reads_again_when_another_hub_trims_between_its_reads),
        cmocka_unit_test(
            test_hub_commit__an_unanswered_append_found_in_the_log_is_answered_as_done),
        cmocka_unit_test(
            test_hub_commit__an_unanswered_append_not_in_the_log_says_the_outcome_is_unknown),
        cmocka_unit_test(test_hub_metrics__tool_slots_are_keyed_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
