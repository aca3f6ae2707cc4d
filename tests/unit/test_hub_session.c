/* test_hub_session — the sessions part of the hub through its header:
 * the table found through its map, kinds delivering through their own
 * ops, listed and unlisted sessions, and what the part asks of its host
 * (hub_session.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "app/hub_session.h"
#include "rpc/control.h"

/* What the host and the kinds saw. */
struct seen {
    int answers;       /* kind A's answer op */
    int other_answers; /* kind B's */
    uint64_t last_call;
    bool last_error;
    int controls; /* kind A's control op */
    enum control_kind last_control;
    int closing; /* kind A's closing op */
    int freed;   /* either kind's free op */
    int left, closed;
    size_t count; /* last count_changed */
    int count_changes;
};

static struct seen seen;

static void kind_answer(struct hub_session *s, uint64_t call_id, cJSON *result, bool is_error)
{
    (void)s;
    seen.answers++;
    seen.last_call = call_id;
    seen.last_error = is_error;
    cJSON_Delete(result);
}

static void other_answer(struct hub_session *s, uint64_t call_id, cJSON *result, bool is_error)
{
    (void)s;
    (void)call_id;
    (void)is_error;
    seen.other_answers++;
    cJSON_Delete(result);
}

static void kind_control(struct hub_session *s, const struct control_msg *m)
{
    (void)s;
    seen.controls++;
    seen.last_control = m->kind;
}

static void kind_closing(struct hub_session *s)
{
    (void)s;
    seen.closing++;
}

static void kind_free(struct hub_session *s)
{
    (void)s;
    seen.freed++;
}

static const struct hub_session_kind kind_a = {.name = "a",
                                               .answer = kind_answer,
                                               .control = kind_control,
                                               .closing = kind_closing,
                                               .free = kind_free,
                                               .socket = true};
static const struct hub_session_kind kind_b = {
    .name = "b", .answer = other_answer, .free = kind_free};

static void host_left(void *arg, struct hub_session *s)
{
    (void)arg;
    (void)s;
    seen.left++;
}

static void host_closed(void *arg, struct hub_session *s)
{
    (void)arg;
    (void)s;
    seen.closed++;
}

static void host_count_changed(void *arg, size_t count)
{
    (void)arg;
    seen.count = count;
    seen.count_changes++;
}

static const struct hub_sessions_host host = {
    .left = host_left, .closed = host_closed, .count_changed = host_count_changed};

static bool stopping, stop_requested;

struct fixture {
    struct event_base *base;
    struct hub_sessions p;
};

static struct fixture *fixture_new(void)
{
    memset(&seen, 0, sizeof(seen));
    struct fixture *f = calloc(1, sizeof(*f));
    f->base = event_base_new();
    hub_sessions_init(&f->p, f->base, NULL, "hub-test", &host, f);
    f->p.stopping = &stopping;
    f->p.stop_requested = &stop_requested;
    return f;
}

static void fixture_free(struct fixture *f)
{
    hub_sessions_fini(&f->p);
    event_base_free(f->base);
    free(f);
}

static void test_hub_session__found_by_id_through_the_map(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    enum { N = 500 };
    struct hub_session *all[N];
    for (size_t i = 0; i < N; i++)
        all[i] = hub_session_new(&f->p, i % 2 ? &kind_a : &kind_b, HUB_AS_AGENT, true, 0);
    assert_int_equal(f->p.count, N);
    assert_int_equal(f->p.nsock, N / 2); /* kind a counts against the socket cap */
    assert_int_equal(seen.count, N);
    for (size_t i = 0; i < N; i++) {
        assert_ptr_equal(hub_session_find(&f->p, all[i]->id), all[i]);
        char want[40];
        snprintf(want, sizeof(want), "hub-test-s%llu", (unsigned long long)all[i]->id);
        assert_string_equal(all[i]->sid, want);
    }
    assert_null(hub_session_find(&f->p, 0));
    assert_null(hub_session_find(&f->p, N + 1));
    /* An unlisted session with an id of its own: found, not counted. */
    struct hub_session *rest = hub_session_new(&f->p, &kind_b, HUB_AS_NAMED, false, UINT64_MAX);
    assert_ptr_equal(hub_session_find(&f->p, UINT64_MAX), rest);
    assert_int_equal(f->p.count, N);
    hub_session_free(rest);
    assert_null(hub_session_find(&f->p, UINT64_MAX));
    assert_int_equal(f->p.count, N);
    fixture_free(f);
    assert_int_equal(seen.freed, N + 1);
    assert_int_equal(seen.closed, N); /* teardown closes every listed one */
}

static void test_hub_session__answers_go_through_the_sessions_kind(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    struct hub_session *a = hub_session_new(&f->p, &kind_a, HUB_AS_AGENT, true, 0);
    struct hub_session *b = hub_session_new(&f->p, &kind_b, HUB_AS_NONE, true, 0);
    hub_session_answer(a, 42, cJSON_CreateObject(), true);
    assert_int_equal(seen.answers, 1);
    assert_int_equal(seen.last_call, 42);
    assert_true(seen.last_error);
    assert_int_equal(seen.other_answers, 0);
    hub_session_answer(b, 43, cJSON_CreateObject(), false);
    assert_int_equal(seen.other_answers, 1);
    assert_int_equal(seen.answers, 1);
    /* The control channel is the kind's: kind b has none. */
    struct control_msg m = {.kind = CONTROL_SESSION};
    hub_session_send_ctl(b, &m);
    assert_int_equal(seen.controls, 0);
    hub_session_send_ctl(a, &m);
    assert_int_equal(seen.controls, 1);
    assert_int_equal(seen.last_control, CONTROL_SESSION);
    fixture_free(f);
}

static void test_hub_session__a_closed_session_is_no_longer_found(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    struct hub_session *s = hub_session_new(&f->p, &kind_a, HUB_AS_AGENT, true, 0);
    uint64_t id = s->id;
    assert_int_equal(seen.count, 1);
    hub_session_close(s); /* no output waiting: freed at once */
    assert_int_equal(seen.closed, 1);
    assert_int_equal(seen.closing, 1);
    assert_int_equal(seen.freed, 1);
    assert_null(hub_session_find(&f->p, id));
    assert_int_equal(f->p.count, 0);
    assert_int_equal(f->p.nsock, 0);
    assert_int_equal(seen.count, 0);
    fixture_free(f);
}

static void test_hub_session__a_peer_that_left_closes_once_its_calls_are_answered(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    struct hub_session *s = hub_session_new(&f->p, &kind_a, HUB_AS_AGENT, true, 0);
    uint64_t id = s->id;
    s->inflight = 1;
    hub_session_peer_left(s);
    assert_int_equal(seen.left, 1);
    assert_int_equal(seen.closed, 0); /* a call is still to be answered */
    assert_ptr_equal(hub_session_find(&f->p, id), s);
    s->inflight--;
    hub_session_maybe_finish(s);
    assert_int_equal(seen.closed, 1);
    assert_null(hub_session_find(&f->p, id));
    fixture_free(f);
}

static void test_hub_session__close_later_closes_in_the_next_turn(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    struct hub_session *s = hub_session_new(&f->p, &kind_a, HUB_AS_AGENT, true, 0);
    uint64_t id = s->id;
    hub_session_close_later(s);
    assert_ptr_equal(hub_session_find(&f->p, id), s);
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_null(hub_session_find(&f->p, id));
    assert_int_equal(seen.closed, 1);
    /* A session closed before its deferred close is not closed twice. */
    struct hub_session *t = hub_session_new(&f->p, &kind_a, HUB_AS_AGENT, true, 0);
    hub_session_close_later(t);
    hub_session_close(t);
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_int_equal(seen.closed, 2);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_session__found_by_id_through_the_map),
        cmocka_unit_test(test_hub_session__answers_go_through_the_sessions_kind),
        cmocka_unit_test(test_hub_session__a_closed_session_is_no_longer_found),
        cmocka_unit_test(test_hub_session__a_peer_that_left_closes_once_its_calls_are_answered),
        cmocka_unit_test(test_hub_session__close_later_closes_in_the_next_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
