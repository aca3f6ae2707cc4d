/* test_hub_waits — the waits part of the hub through its header: parked
 * wait_for_events answered when a matching event commits or at their
 * deadline, cancelled and dropped with their session; queued lock
 * requests answered when the core grants them, refused, cancelled; every
 * answer through the host ops (hub_waits.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "api/metrics.h"
#include "app/hub_session.h"
#include "app/hub_waits.h"
#include "base/clock.h"
#include "base/json.h"
#include "bus/bus.h"
#include "core/event.h"
#include "core/workspace.h"
#include "store/store.h"

struct fixture {
    struct event_base *base;
    struct workspace_config cfg;
    struct workspace *ws;
    struct event_vec pending;
    struct bus *bus;
    struct store *store;
    uint64_t committed_seq;
    struct metrics_hub metrics;
    struct hub_sessions sessions;
    struct hub_waits w;
    struct hub_session *s;
    /* What the host saw. */
    int answers, lock_answers, lock_ended, commits;
    uint64_t last_call;
    bool last_error, last_granted;
    char last[1024];
};

static void host_answer(void *arg, struct hub_session *s, uint64_t call_id, cJSON *result,
                        bool is_error, struct hub_call_clock clock)
{
    struct fixture *f = arg;
    (void)clock;
    assert_ptr_equal(s, f->s);
    f->answers++;
    f->last_call = call_id;
    f->last_error = is_error;
    char *text = json_print(result);
    snprintf(f->last, sizeof(f->last), "%s", text);
    free(text);
    cJSON_Delete(result);
}

static void host_lock_answer(void *arg, struct hub_session *s, uint64_t call_id, cJSON *result,
                             struct hub_call_clock clock, struct workspace_waiter *waiter)
{
    struct fixture *f = arg;
    (void)clock;
    assert_ptr_equal(s, f->s);
    f->lock_answers++;
    f->last_call = call_id;
    f->last_granted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "success"));
    cJSON_Delete(result);
    workspace_waiter_free(waiter);
}

static void host_lock_ended(void *arg, struct hub_call_clock clock, bool granted)
{
    struct fixture *f = arg;
    (void)clock;
    (void)granted;
    f->lock_ended++;
}

static void host_schedule_commit(void *arg)
{
    struct fixture *f = arg;
    f->commits++;
}

static int64_t host_now(void *arg)
{
    (void)arg;
    return clock_wall_ms();
}

static const struct hub_waits_host waits_host = {
    .answer = host_answer,
    .lock_answer = host_lock_answer,
    .lock_ended = host_lock_ended,
    .schedule_commit = host_schedule_commit,
    .now = host_now,
};

static void sessions_count_changed(void *arg, size_t count)
{
    (void)arg;
    (void)count;
}

static void sessions_closed(void *arg, struct hub_session *s)
{
    (void)arg;
    (void)s;
}

static const struct hub_sessions_host sessions_host = {.count_changed = sessions_count_changed,
                                                       .closed = sessions_closed};

static const struct hub_session_kind test_kind = {.name = "test"};

static struct fixture *fixture_new(void)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->base = event_base_new();
    f->cfg.name = "ws";
    f->cfg.root = "/ws";
    f->ws = workspace_new(&f->cfg);
    event_vec_init(&f->pending);
    f->bus = bus_new(64, "ws");
    char *err = NULL;
    struct store_open_opts so = {.workspace = "ws"};
    assert_int_equal(store_open("memory:", &so, &f->store, &err), 0);
    hub_sessions_init(&f->sessions, f->base, NULL, "hub-test", &sessions_host, f);
    f->s = hub_session_new(&f->sessions, &test_kind, HUB_AS_AGENT, true, 0);
    const struct hub_waits_state st = {.ws = &f->ws,
                                       .pending = &f->pending,
                                       .bus = &f->bus,
                                       .store = &f->store,
                                       .committed_seq = &f->committed_seq,
                                       .workspace = "ws",
                                       .metrics = &f->metrics,
                                       .sessions = &f->sessions};
    hub_waits_init(&f->w, f->base, &st, &waits_host, f);
    return f;
}

static void fixture_free(struct fixture *f)
{
    hub_waits_fini(&f->w);
    hub_sessions_fini(&f->sessions);
    store_close(f->store);
    bus_free(f->bus);
    event_vec_deinit(&f->pending);
    workspace_free(f->ws);
    event_base_free(f->base);
    free(f);
}

/* Commit what is pending: into the log and the bus, as the commit does. */
static void commit(struct fixture *f)
{
    for (size_t i = 0; i < f->pending.len; i++)
        assert_int_equal(bus_publish(f->bus, &f->pending.items[i]), 0);
    f->committed_seq = workspace_seq(f->ws);
    event_vec_clear(&f->pending);
}

static cJSON *run(struct fixture *f, const char *agent, const char *op, const char *args)
{
    struct workspace_caller c = {.agent_id = agent, .session_id = NULL, .admin = true};
    cJSON *a = cJSON_Parse(args);
    cJSON *result = NULL;
    char *errmsg = NULL;
    int rc = workspace_exec(f->ws, &c, op, a, clock_wall_ms(), &f->pending, &result, &errmsg);
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

static void park(struct fixture *f, uint64_t call_id, const char *types, int64_t in_ms)
{
    cJSON *t = types ? cJSON_Parse(types) : NULL;
    const struct hub_wait w = {.session = f->s->id,
                               .call_id = call_id,
                               .cursor = f->committed_seq,
                               .types = t,
                               .limit = 10,
                               .deadline_ms = clock_mono_ms() + in_ms,
                               .clock = {.tool = -1}};
    hub_waits_park(&f->w, &w); /* copies the types */
    cJSON_Delete(t);
}

static void test_hub_waits__a_parked_wait_is_answered_by_a_matching_event(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"alice\"}");
    park(f, 5, "[\"file:*\"]", 60000);
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"bob\"}");
    hub_waits_service(&f->w, false);
    assert_int_equal(f->answers, 0); /* agent:registered does not match */
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"a.c\"}");
    hub_waits_service(&f->w, false);
    assert_int_equal(f->answers, 1);
    assert_int_equal(f->last_call, 5);
    assert_false(f->last_error);
    if (!strstr(f->last, "\"type\":\"file:locked\"") || strstr(f->last, "agent:registered"))
        fail_msg("answer: %s", f->last);
    char want[40];
    snprintf(want, sizeof(want), "\"lastId\":\"%llu\"", (unsigned long long)f->committed_seq);
    if (!strstr(f->last, want))
        fail_msg("answer: %s (wanted %s)", f->last, want);
    assert_null(f->w.waits);
    fixture_free(f);
}

static void test_hub_waits__a_due_wait_ends_empty_and_a_cancelled_one_unanswered(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    park(f, 1, NULL, 0);     /* due now */
    park(f, 2, NULL, 60000); /* cancelled */
    hub_waits_service(&f->w, false);
    assert_int_equal(f->answers, 0); /* no event, deadlines not asked for */
    assert_true(hub_waits_cancel(&f->w, f->s->id, 2));
    assert_false(hub_waits_cancel(&f->w, f->s->id, 2));
    hub_waits_service(&f->w, true);
    assert_int_equal(f->answers, 1);
    assert_int_equal(f->last_call, 1);
    if (!strstr(f->last, "\"events\":[]"))
        fail_msg("answer: %s", f->last);
    assert_null(f->w.waits);
    fixture_free(f);
}

static void test_hub_waits__a_sessions_waits_leave_with_it(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    park(f, 1, NULL, 60000);
    park(f, 2, NULL, 60000);
    f->s->inflight = 2;
    hub_waits_drop_session(&f->w, f->s->id);
    assert_null(f->w.waits);
    assert_int_equal(f->s->inflight, 0);
    assert_int_equal(f->answers, 0);
    fixture_free(f);
}

/* bob's lock_file on a.c, held by alice, queued in the core. */
static uint64_t queue_bob(struct fixture *f)
{
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"alice\"}");
    run_and_commit(f, NULL, "register_agent", "{\"agentId\":\"bob\"}");
    run_and_commit(f, "alice", "lock_file", "{\"file\":\"a.c\"}");
    cJSON *q = run(f, "bob", "lock_file", "{\"file\":\"a.c\",\"waitMs\":30000}");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(q, "queued")));
    uint64_t id = (uint64_t)json_get_i64(q, "waiterId", 0);
    cJSON_Delete(q);
    hub_waiter_add(&f->w, id, f->s->id, 9, (struct hub_call_clock){.tool = -1});
    return id;
}

static void test_hub_waits__a_queued_lock_is_answered_when_the_core_grants_it(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    queue_bob(f);
    hub_lock_waiters_service(&f->w);
    assert_int_equal(f->lock_answers, 0); /* alice still holds it */
    run_and_commit(f, "alice", "unlock_file", "{\"file\":\"a.c\"}");
    hub_lock_waiters_service(&f->w);
    assert_int_equal(f->lock_answers, 1);
    assert_int_equal(f->last_call, 9);
    assert_true(f->last_granted);
    assert_true(f->pending.len > 0); /* bob's grant joins the batch */
    assert_int_equal(f->commits, 1);
    assert_null(f->w.waiters);
    fixture_free(f);
}

static void test_hub_waits__queued_locks_refused_cancelled_or_left(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    queue_bob(f);
    hub_lock_waiters_refuse(&f->w, "the store is away");
    assert_int_equal(f->answers, 1);
    assert_true(f->last_error);
    if (!strstr(f->last, "\"code\":\"unavailable\"") || !strstr(f->last, "the store is away"))
        fail_msg("answer: %s", f->last);
    assert_int_equal(f->lock_ended, 1);
    assert_null(f->w.waiters);

    struct fixture *g = fixture_new();
    queue_bob(g);
    assert_true(hub_waiter_cancel(&g->w, g->s->id, 9));
    assert_false(hub_waiter_cancel(&g->w, g->s->id, 9));
    assert_int_equal(g->metrics.lock_wait_cancelled_total, 1);
    run_and_commit(g, "alice", "unlock_file", "{\"file\":\"a.c\"}");
    hub_lock_waiters_service(&g->w);
    assert_int_equal(g->lock_answers, 0); /* it left the core's queue: never granted */

    struct fixture *k = fixture_new();
    queue_bob(k);
    k->s->inflight = 1;
    hub_waiters_drop_session(&k->w, k->s->id);
    assert_int_equal(k->s->inflight, 0);
    assert_int_equal(k->metrics.lock_wait_cancelled_total, 1);
    assert_null(k->w.waiters);
    fixture_free(f);
    fixture_free(g);
    fixture_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_waits__a_parked_wait_is_answered_by_a_matching_event),
        cmocka_unit_test(test_hub_waits__a_due_wait_ends_empty_and_a_cancelled_one_unanswered),
        cmocka_unit_test(test_hub_waits__a_sessions_waits_leave_with_it),
        cmocka_unit_test(test_hub_waits__a_queued_lock_is_answered_when_the_core_grants_it),
        cmocka_unit_test(test_hub_waits__queued_locks_refused_cancelled_or_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
