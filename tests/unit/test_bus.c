/* Unit tests for bus: ring bounds, ordering, lookup and fan-out, and the
 * observation stream (subscribe, unsubscribe, mute, the workspace sink). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus/bus.h"

static void make_event(struct event *ev, uint64_t seq, const char *type)
{
    event_init(ev, type, 1000 + (int64_t)seq, NULL);
    ev->seq = seq;
}

struct recorder {
    uint64_t seqs[64];
    char texts[4][256]; /* the first texts seen */
    size_t n;
    struct bus *bus;
    uint64_t self_id;
    bool unsubscribe_self;
};

static void record(void *arg, const struct event *ev, const char *text)
{
    struct recorder *r = arg;
    assert_non_null(strstr(text, ev->type));
    if (r->n < 4)
        snprintf(r->texts[r->n], sizeof(r->texts[0]), "%s", text);
    r->seqs[r->n++] = ev->seq;
    if (r->unsubscribe_self)
        assert_int_equal(bus_unsubscribe(r->bus, r->self_id), 0);
}

static void test_bus__ring_keeps_the_newest(void **state)
{
    (void)state;
    struct bus *b = bus_new(4, "ws");
    assert_int_equal(bus_count(b), 0);
    assert_int_equal(bus_oldest(b), 0);
    for (uint64_t s = 1; s <= 10; s++) {
        struct event ev;
        make_event(&ev, s, "file:locked");
        assert_int_equal(bus_publish(b, &ev), 0);
        event_deinit(&ev);
    }
    assert_int_equal(bus_count(b), 4);
    assert_int_equal(bus_oldest(b), 7);
    assert_int_equal(bus_newest(b), 10);
    const char *text = NULL;
    const struct event *first = bus_at(b, 0, &text);
    assert_int_equal(first->seq, 7);
    assert_non_null(strstr(text, "\"id\":\"7\""));
    assert_non_null(strstr(text, "\"workspace\":\"ws\""));
    bus_free(b);
}

static void test_bus__rejects_out_of_order(void **state)
{
    (void)state;
    struct bus *b = bus_new(8, "ws");
    struct event ev;
    make_event(&ev, 5, "task:created");
    assert_int_equal(bus_publish(b, &ev), 0);
    assert_int_equal(bus_publish(b, &ev), -ERR_INVALID);
    event_deinit(&ev);
    make_event(&ev, 3, "task:created");
    assert_int_equal(bus_publish(b, &ev), -ERR_INVALID);
    event_deinit(&ev);
    assert_int_equal(bus_count(b), 1);
    bus_free(b);
}

static void test_bus__find_after(void **state)
{
    (void)state;
    struct bus *b = bus_new(16, "ws");
    for (uint64_t s = 10; s <= 20; s += 2) {
        struct event ev;
        make_event(&ev, s, "file:locked");
        assert_int_equal(bus_publish(b, &ev), 0);
        event_deinit(&ev);
    }
    assert_int_equal(bus_find_after(b, 0), 0);
    assert_int_equal(bus_find_after(b, 10), 1);
    assert_int_equal(bus_find_after(b, 11), 1);
    assert_int_equal(bus_find_after(b, 19), 5);
    assert_int_equal(bus_find_after(b, 20), 6);
    assert_int_equal(bus_find_after(b, 99), bus_count(b));
    bus_free(b);
}

static void test_bus__fan_out_and_unsubscribe_inside_callback(void **state)
{
    (void)state;
    struct bus *b = bus_new(8, "ws");
    struct recorder a = {.bus = b}, c = {.bus = b, .unsubscribe_self = true};
    a.self_id = bus_subscribe(b, record, &a);
    c.self_id = bus_subscribe(b, record, &c);
    assert_true(a.self_id > 0 && c.self_id > a.self_id);
    for (uint64_t s = 1; s <= 3; s++) {
        struct event ev;
        make_event(&ev, s, "agent:registered");
        assert_int_equal(bus_publish(b, &ev), 0);
        event_deinit(&ev);
    }
    assert_int_equal(a.n, 3);
    assert_int_equal(a.seqs[2], 3);
    assert_int_equal(c.n, 1); /* removed itself after the first event */
    assert_int_equal(bus_unsubscribe(b, c.self_id), -ERR_NOT_FOUND);
    assert_int_equal(bus_unsubscribe(b, a.self_id), 0);
    bus_free(b);
}

static void test_bus__announce_reaches_subscribers_but_not_the_ring(void **state)
{
    (void)state;
    struct bus *b = bus_new(8, "ws");
    struct recorder a = {.bus = b};
    a.self_id = bus_subscribe(b, record, &a);
    struct event ev;
    make_event(&ev, 1, "file:locked");
    assert_int_equal(bus_publish(b, &ev), 0);
    event_deinit(&ev);
    make_event(&ev, 0, "health:degraded");
    assert_int_equal(bus_announce(b, &ev), 0);
    event_deinit(&ev);
    /* Subscribers heard it, with seq 0 and no id on the wire. */
    assert_int_equal(a.n, 2);
    assert_int_equal(a.seqs[1], 0);
    assert_null(strstr(a.texts[1], "\"id\""));
    assert_non_null(strstr(a.texts[1], "\"type\":\"health:degraded\""));
    assert_non_null(strstr(a.texts[1], "\"workspace\":\"ws\""));
    /* Readers by seq never see it: the ring holds the logged event only. */
    assert_int_equal(bus_count(b), 1);
    assert_int_equal(bus_newest(b), 1);
    assert_string_equal(bus_at(b, 0, NULL)->type, "file:locked");
    /* A logged event goes on from the ring's newest, not from the announcement. */
    make_event(&ev, 2, "file:unlocked");
    assert_int_equal(bus_publish(b, &ev), 0);
    event_deinit(&ev);
    assert_int_equal(bus_count(b), 2);
    assert_int_equal(a.seqs[2], 2);
    bus_free(b);
}

static void test_bus__announce_and_publish_refuse_the_other_kind(void **state)
{
    (void)state;
    struct bus *b = bus_new(8, "ws");
    struct recorder a = {.bus = b};
    a.self_id = bus_subscribe(b, record, &a);
    struct event ev;
    make_event(&ev, 3, "health:degraded");
    assert_int_equal(bus_announce(b, &ev), -ERR_INVALID); /* has a seq: publish it */
    ev.seq = 0;
    assert_int_equal(bus_publish(b, &ev), -ERR_INVALID); /* no seq: announce it */
    event_deinit(&ev);
    assert_int_equal(a.n, 0);
    assert_int_equal(bus_count(b), 0);
    bus_free(b);
}

/* ---- observations ---- */

struct obs_recorder {
    char tools[8][32];
    size_t n;
    struct bus *bus;
    uint64_t self_id;
    bool unsubscribe_self;
};

static void obs_record(void *arg, const struct observation *o)
{
    struct obs_recorder *r = arg;
    assert_int_equal(o->kind, OBSERVATION_TOOL_LATENCY);
    if (r->n < 8)
        snprintf(r->tools[r->n], sizeof(r->tools[0]), "%s", o->tool);
    r->n++;
    if (r->unsubscribe_self)
        assert_int_equal(bus_observe_unsubscribe(r->bus, r->self_id), 0);
}

static void obs_send(struct bus *b, const char *tool)
{
    struct observation o = {.kind = OBSERVATION_TOOL_LATENCY, .tool = tool, .latency_ms = 1.5};
    bus_observe(b, &o);
}

static void test_bus__observations_reach_their_subscribers_only(void **state)
{
    (void)state;
    struct bus *b = bus_new(4, "ws");
    struct recorder ev = {.bus = b};
    ev.self_id = bus_subscribe(b, record, &ev);
    assert_false(bus_observing(b)); /* event subscribers do not count */
    struct obs_recorder a = {.bus = b}, c = {.bus = b, .unsubscribe_self = true};
    a.self_id = bus_observe_subscribe(b, obs_record, &a);
    c.self_id = bus_observe_subscribe(b, obs_record, &c);
    assert_true(a.self_id > ev.self_id && c.self_id > a.self_id);
    assert_true(bus_observing(b));
    obs_send(b, "lock_file");
    obs_send(b, "claim_task");
    assert_int_equal(a.n, 2);
    assert_string_equal(a.tools[0], "lock_file");
    assert_string_equal(a.tools[1], "claim_task");
    assert_int_equal(c.n, 1); /* removed itself inside its first call */
    /* never kept, never an event: the ring and the event subscriber saw nothing */
    assert_int_equal(bus_count(b), 0);
    assert_int_equal(ev.n, 0);
    /* ids are shared but the lists are not */
    assert_int_equal(bus_observe_unsubscribe(b, ev.self_id), -ERR_NOT_FOUND);
    assert_int_equal(bus_unsubscribe(b, a.self_id), -ERR_NOT_FOUND);
    assert_int_equal(bus_observe_unsubscribe(b, a.self_id), 0);
    assert_int_equal(bus_observe_unsubscribe(b, a.self_id), -ERR_NOT_FOUND);
    assert_false(bus_observing(b));
    obs_send(b, "list_tasks");
    assert_int_equal(a.n, 2);
    /* an event still reaches its subscriber */
    struct event e;
    make_event(&e, 1, "file:locked");
    assert_int_equal(bus_publish(b, &e), 0);
    event_deinit(&e);
    assert_int_equal(ev.n, 1);
    bus_free(b);
}

static void test_bus__observations_muted_nest(void **state)
{
    (void)state;
    struct bus *b = bus_new(4, "ws");
    struct obs_recorder a = {.bus = b};
    a.self_id = bus_observe_subscribe(b, obs_record, &a);
    bus_observe_mute(b, true);
    bus_observe_mute(b, true);
    assert_false(bus_observing(b));
    obs_send(b, "lock_file");
    bus_observe_mute(b, false);
    assert_false(bus_observing(b));
    obs_send(b, "lock_file");
    bus_observe_mute(b, false);
    assert_true(bus_observing(b));
    bus_observe_mute(b, false); /* unbalanced: stays unmuted */
    obs_send(b, "unlock_file");
    assert_int_equal(a.n, 1);
    assert_string_equal(a.tools[0], "unlock_file");
    bus_free(b);
}

/* The sink handed to a workspace: wanted only while someone listens
 * unmuted, and it delivers through the bus. */
static void test_bus__observation_sink(void **state)
{
    (void)state;
    struct bus *b = bus_new(4, "ws");
    struct observation_sink sink = bus_observation_sink(b);
    assert_false(observation_wanted(&sink));
    struct obs_recorder a = {.bus = b};
    a.self_id = bus_observe_subscribe(b, obs_record, &a);
    assert_true(observation_wanted(&sink));
    struct observation o = {.kind = OBSERVATION_TOOL_LATENCY, .tool = "ping"};
    sink.fn(sink.arg, &o);
    assert_int_equal(a.n, 1);
    assert_string_equal(a.tools[0], "ping");
    bus_observe_mute(b, true);
    assert_false(observation_wanted(&sink));
    bus_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bus__ring_keeps_the_newest),
        cmocka_unit_test(test_bus__rejects_out_of_order),
        cmocka_unit_test(test_bus__find_after),
        cmocka_unit_test(test_bus__fan_out_and_unsubscribe_inside_callback),
        cmocka_unit_test(test_bus__announce_reaches_subscribers_but_not_the_ring),
        cmocka_unit_test(test_bus__announce_and_publish_refuse_the_other_kind),
        cmocka_unit_test(test_bus__observations_reach_their_subscribers_only),
        cmocka_unit_test(test_bus__observations_muted_nest),
        cmocka_unit_test(test_bus__observation_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
