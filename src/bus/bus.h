/* bus — the hub's in-memory view of the committed event log: a bounded ring
 * of recent events (with their wire text cached) and fan-out to
 * subscribers.
 *
 * Only committed events enter the bus (docs/architecture.md, "Group
 * commit": nothing is published
 * before the store has it). Subscribers are called synchronously in
 * registration order; they must not block and may not publish. Readers
 * that need events older than the ring fall back to the store.
 *
 * Announcements are the one exception: news the hub must tell its live
 * subscribers although it cannot record it (health:degraded while the
 * store is away). An announcement has seq 0 and no id on the wire, is
 * fanned out to the same subscribers but never enters the ring, so
 * readers by seq (wait_for_events, SSE resumption, the recent-events
 * resource) never see it; a subscriber tells it by ev->seq == 0.
 *
 * Observations (core/observation.h) are the other stream the bus carries:
 * what the hub saw but does not log (refused lock requests, queue joins
 * and leaves, claim refusals, tool latencies), for the guidance engine.
 * They have their own subscribers, are delivered synchronously like
 * events and never kept: nothing is logged, stored or replayed, and a
 * subscriber that joins later sees only what comes after. With no
 * observation subscriber, bus_observing() is false and producers build
 * nothing (bus_observation_sink() asks it for them). While the hub
 * evaluates a batch again after a lost append (docs/architecture.md,
 * "Observations"), it mutes them, so nothing is observed twice. */
#ifndef COORDHUB_BUS_BUS_H
#define COORDHUB_BUS_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "core/observation.h"

struct bus;

/* A subscriber: ev is committed; text is its wire JSON (borrowed). */
typedef void (*bus_event_cb)(void *arg, const struct event *ev, const char *text);

/* New bus keeping the last `ring` events; workspace names the envelope. */
struct bus *bus_new(size_t ring, const char *workspace);
void bus_free(struct bus *b);

/* Publish a committed event (copied). Its seq must be above 0 and every seq
 * seen so far (else ignored: returns -ERR_INVALID). Then every subscriber
 * runs. */
int bus_publish(struct bus *b, const struct event *ev);
/* Fan out an announcement (see the top): ev->seq must be 0 (else
 * -ERR_INVALID, nothing sent). Nothing is kept; every subscriber runs with
 * the event and its wire JSON (which has no "id"). */
int bus_announce(struct bus *b, const struct event *ev);
/* Register / remove a subscriber. Returns an id > 0 / 0 or -ERR_NOT_FOUND. */
uint64_t bus_subscribe(struct bus *b, bus_event_cb cb, void *arg);
int bus_unsubscribe(struct bus *b, uint64_t id);

/* An observation subscriber: o and everything it points to are borrowed
 * for the call. It runs inside the evaluation that made o (the
 * workspace's, for lock, queue and claim kinds): it must not block, and
 * must not call into the workspace. */
typedef void (*bus_observation_cb)(void *arg, const struct observation *o);

/* Register / remove an observation subscriber; ids are shared with event
 * subscribers (an event subscriber's id is not found here, and the
 * reverse). Returns an id > 0 / 0 or -ERR_NOT_FOUND. */
uint64_t bus_observe_subscribe(struct bus *b, bus_observation_cb cb, void *arg);
int bus_observe_unsubscribe(struct bus *b, uint64_t id);
/* Is anyone subscribed to observations, and are they not muted? */
bool bus_observing(const struct bus *b);
/* Deliver o to every observation subscriber (none while muted). */
void bus_observe(struct bus *b, const struct observation *o);
/* Mute (true) or unmute (false) observations; mutes nest. */
void bus_observe_mute(struct bus *b, bool mute);
/* A sink that delivers to b through bus_observe, wanted while
 * bus_observing: for struct workspace_config.observe. */
struct observation_sink bus_observation_sink(struct bus *b);

/* Lowest and highest seq held in the ring (0, 0 when empty). */
uint64_t bus_oldest(const struct bus *b);
uint64_t bus_newest(const struct bus *b);
/* The i-th event of the ring counted from the oldest (i < bus_count). */
size_t bus_count(const struct bus *b);
const struct event *bus_at(const struct bus *b, size_t i, const char **text);
/* Position of the first event with seq > since, or bus_count() if none. */
size_t bus_find_after(const struct bus *b, uint64_t since);

#endif
