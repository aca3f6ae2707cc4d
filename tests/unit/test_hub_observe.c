/* Unit tests for the hub's part of the observations feed: a tool answer
 * counted by hub_metrics_answered reaches the bus's observation
 * subscribers as a tool latency (tool label, latency, error / refused),
 * only while one listens and the bus is not muted; the workspace the hub
 * builds from its config reports to the bus; and a batch evaluated again
 * after a lost append (hub_redo_batch) observes nothing a second time.
 * The hub is built by hand (struct hub is the app's private root) with a
 * bus, a memory store, timers on an event base and the metrics part. */
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
#include "app/hub_session.h"
#include "app/hub_state.h"
#include "app/hub_waits.h"
#include "base/clock.h"
#include "base/json.h"
#include "bus/bus.h"
#include "core/observation.h"
#include "rpc/tools.h"
#include "store/store.h"

struct seen {
    int n;
    struct observation last; /* its strings copied below */
    char tool[64], agent[64];
};

static void seen_cb(void *arg, const struct observation *o)
{
    struct seen *s = arg;
    s->n++;
    s->last = *o;
    snprintf(s->tool, sizeof(s->tool), "%s", o->tool ? o->tool : "");
    snprintf(s->agent, sizeof(s->agent), "%s", o->agent_id ? o->agent_id : "");
}

struct fixture {
    struct hub h;
    struct seen seen;
    uint64_t sub;
};

static void nothing(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
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

static struct fixture *fixture_new(void)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct hub *h = &f->h;
    h->base = event_base_new();
    h->commit_ev = event_new(h->base, -1, 0, nothing, NULL);
    h->tick_ev = evtimer_new(h->base, nothing, NULL);
    h->reload_ev = evtimer_new(h->base, nothing, NULL);
    h->commit = hub_commit_new();
    event_vec_init(&h->pending);
    snprintf(h->hub_id, sizeof(h->hub_id), "hub-test");
    char *err = NULL;
    struct store_open_opts so = {.workspace = "ws"};
    assert_int_equal(store_open("memory:", &so, &h->store, &err), 0);
    h->bus = bus_new(16, "ws");
    h->wscfg.name = "ws";
    h->wscfg.root = "/ws";
    h->wscfg.observe = bus_observation_sink(h->bus); /* as hub_store_start wires it */
    h->ws = workspace_new(&h->wscfg);
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
    f->sub = bus_observe_subscribe(h->bus, seen_cb, &f->seen);
    return f;
}

static void fixture_free(struct fixture *f)
{
    struct hub *h = &f->h;
    hub_metrics_fini(h);
    hub_commit_free(h->commit);
    workspace_free(h->committed_view);
    event_vec_deinit(&h->pending);
    free(h->replica_text);
    free(h->down_reason);
    free(h->store_error);
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

static void answer(struct fixture *f, const char *tool, const char *result_json, bool is_error)
{
    struct hub_call_clock clock = {
        .tool = hub_metrics_tool(&f->h, tool),
        .start_ns = clock_mono_ns() - 2 * 1000 * 1000, /* started 2 ms ago */
    };
    cJSON *result = cJSON_Parse(result_json);
    hub_metrics_answered(&f->h, clock, result, is_error);
    cJSON_Delete(result);
}

static void test_hub_observe__answers_are_tool_latencies(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    int64_t before = clock_wall_ms();
    answer(f, "made_up_tool", "{\"success\":false,\"error\":\"locked by a\"}", false);
    assert_int_equal(f->seen.n, 1);
    assert_int_equal(f->seen.last.kind, OBSERVATION_TOOL_LATENCY);
    /* a name the registry does not serve is counted, and observed, as "other" */
    assert_string_equal(f->seen.tool, "other");
    assert_true(f->seen.last.refused);
    assert_false(f->seen.last.error);
    assert_true(f->seen.last.latency_ms >= 2.0);
    assert_true(f->seen.last.at_ms >= before);
    assert_null(f->seen.last.agent_id);

    answer(f, "made_up_tool", "{\"error\":\"bad\"}", true);
    assert_int_equal(f->seen.n, 2);
    assert_true(f->seen.last.error);
    assert_false(f->seen.last.refused);

    /* an internal call (no tool slot) is not an answer */
    struct hub_call_clock internal = {.tool = -1};
    hub_metrics_answered(&f->h, internal, NULL, false);
    assert_int_equal(f->seen.n, 2);

    /* muted (a batch evaluated again), then nobody listening: nothing */
    bus_observe_mute(f->h.bus, true);
    answer(f, "made_up_tool", "{\"success\":true}", false);
    bus_observe_mute(f->h.bus, false);
    assert_int_equal(f->seen.n, 2);
    assert_int_equal(bus_observe_unsubscribe(f->h.bus, f->sub), 0);
    answer(f, "made_up_tool", "{\"success\":true}", false);
    assert_int_equal(f->seen.n, 2);
    /* the metrics counted every answer all the same */
    const struct metrics_tool *t = &f->h.tools[hub_metrics_tool(&f->h, "made_up_tool")];
    assert_true(t->ok == 2 && t->refused == 1 && t->error == 1);
    fixture_free(f);
}

/* The core's op of the tool called name (the definitions name them). */
static enum workspace_op op_of(const char *name)
{
    const struct tool_def *t = tools_find(name);
    return t ? t->core_op : WORKSPACE_OP_NONE;
}

/* The workspace built from the hub's config reports to the bus. */
static void test_hub_observe__workspace_reports_to_the_bus(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    struct event_vec out;
    event_vec_init(&out);
    struct workspace_caller a = {NULL, "s1", false, NULL}, b = {NULL, "s2", false, NULL};
    cJSON *args = cJSON_Parse("{\"agentId\":\"a\"}"), *r = NULL;
    char *err = NULL;
    assert_int_equal(
        workspace_exec(f->h.ws, &a, op_of("register_agent"), args, 1000, &out, &r, &err), 0);
    cJSON_Delete(args);
    cJSON_Delete(r);
    args = cJSON_Parse("{\"agentId\":\"b\"}");
    assert_int_equal(
        workspace_exec(f->h.ws, &b, op_of("register_agent"), args, 1000, &out, &r, &err), 0);
    cJSON_Delete(args);
    cJSON_Delete(r);
    a.agent_id = "a";
    b.agent_id = "b";
    args = cJSON_Parse("{\"file\":\"x.c\"}");
    assert_int_equal(workspace_exec(f->h.ws, &a, op_of("lock_file"), args, 1000, &out, &r, &err),
                     0);
    cJSON_Delete(r);
    assert_int_equal(f->seen.n, 0);
    assert_int_equal(workspace_exec(f->h.ws, &b, op_of("lock_file"), args, 1001, &out, &r, &err),
                     0);
    cJSON_Delete(r);
    cJSON_Delete(args);
    assert_int_equal(f->seen.n, 1);
    assert_int_equal(f->seen.last.kind, OBSERVATION_LOCK_REFUSED);
    assert_string_equal(f->seen.agent, "b");
    event_vec_deinit(&out);
    fixture_free(f);
}

/* Run op as agent on session "s1"; the result. */
static cJSON *run(struct fixture *f, const char *agent, const char *op, const char *args)
{
    struct workspace_caller c = {.agent_id = agent, .session_id = "s1", .admin = true};
    cJSON *a = cJSON_Parse(args), *result = NULL;
    char *errmsg = NULL;
    if (workspace_exec(f->h.ws, &c, op_of(op), a, hub_now(&f->h), &f->h.pending, &result, &errmsg))
        fail_msg("%s: %s", op, errmsg ? errmsg : "?");
    cJSON_Delete(a);
    return result;
}

static void append_done(void *arg, int status, uint64_t current)
{
    (void)current;
    *(int *)arg = status;
}

/* Record the pending events, as a commit does. */
static void commit(struct fixture *f)
{
    struct hub *h = &f->h;
    int st = -1;
    assert_int_equal(h->store->ops->append(h->store, h->committed_seq, h->pending.items,
                                           h->pending.len, append_done, &st),
                     0);
    assert_int_equal(st, 0);
    h->committed_seq = workspace_seq(h->ws);
    event_vec_clear(&h->pending);
}

/* The batch's lock_file queued a request; another hub appended first and
 * the batch is evaluated again: the request is taken out of the queue
 * and the state rebuilt, and none of that is observed (it would be a
 * queue:left "cancelled" otherwise). The rebuilt workspace observes
 * again afterwards. */
static void test_hub_observe__batch_evaluated_again_is_muted(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    struct hub *h = &f->h;
    cJSON_Delete(run(f, NULL, "register_agent", "{\"agentId\":\"a\"}"));
    cJSON_Delete(run(f, NULL, "register_agent", "{\"agentId\":\"b\"}"));
    cJSON_Delete(run(f, "a", "lock_file", "{\"file\":\"x.c\"}"));
    commit(f);
    cJSON *r = run(f, "b", "lock_file", "{\"file\":\"x.c\",\"waitMs\":5000}");
    uint64_t waiter = (uint64_t)json_get_i64(r, "waiterId", 0);
    cJSON_Delete(r);
    assert_true(waiter > 0);
    assert_int_equal(f->seen.n, 1);
    assert_int_equal(f->seen.last.kind, OBSERVATION_QUEUE_JOINED);

    struct hub_redo *rec = calloc(1, sizeof(*rec));
    rec->session = 999; /* its session is gone: the call is not run again */
    rec->name = strdup("lock_file");
    rec->queued = waiter;
    *h->commit->redo_tail = rec;
    h->commit->redo_tail = &rec->next;
    char *err = NULL;
    assert_int_equal(hub_redo_batch(h, &err), 0);
    assert_null(err);
    assert_int_equal(f->seen.n, 1); /* the cancel and the rebuild were muted */
    assert_true(bus_observing(h->bus));

    cJSON_Delete(run(f, "b", "lock_file", "{\"file\":\"x.c\"}"));
    assert_int_equal(f->seen.n, 2);
    assert_int_equal(f->seen.last.kind, OBSERVATION_LOCK_REFUSED);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_observe__answers_are_tool_latencies),
        cmocka_unit_test(test_hub_observe__workspace_reports_to_the_bus),
        cmocka_unit_test(test_hub_observe__batch_evaluated_again_is_muted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
